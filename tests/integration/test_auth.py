"""Signature, key, nonce, timestamp, policy and throttling errors as the SDKs see them."""
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from alibabacloud_dysmsapi20180501 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

import signer
from conftest import HK


def send(client):
    return client.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="hi")).body


@pytest.mark.parametrize("algo", ["v3", "v2"])
def test_wrong_secret_and_unknown_key(server, algo):
    with pytest.raises(ClientException) as e:
        send(server.client(sk="wrong-secret", algo=algo))
    assert e.value.code == "SignatureDoesNotMatch" and e.value.status_code == 400
    assert "server string to sign is:" in e.value.message
    with pytest.raises(ClientException) as e:
        send(server.client(ak="LTAInobody", algo=algo))
    assert e.value.code == "InvalidAccessKeyId.NotFound" and e.value.status_code == 404


def test_keys_cli_takes_effect_on_a_running_server(server):
    created = json.loads(server.cli("keys", "create", "--name", "ops").stdout)
    c = server.client(created["AccessKeyId"], created["AccessKeySecret"])
    assert send(c).response_code == "OK"
    listing = server.cli("keys", "list", "--json").stdout
    assert created["AccessKeyId"] in listing and created["AccessKeySecret"] not in listing
    server.cli("keys", "disable", created["AccessKeyId"])
    with pytest.raises(ClientException) as e:
        send(c)
    assert e.value.code == "InvalidAccessKeyId.Inactive"
    server.cli("keys", "enable", created["AccessKeyId"])
    assert send(c).response_code == "OK"
    server.cli("keys", "delete", created["AccessKeyId"])
    with pytest.raises(ClientException) as e:
        send(c)
    assert e.value.code == "InvalidAccessKeyId.NotFound"
    assert server.cli("keys", "delete", "nope", check=False).returncode != 0


def test_replayed_nonce_is_refused_even_after_a_restart(make_server):
    s = make_server()
    prepared = signer.v3_request(s.endpoint, s.ak, s.sk, "SendMessageToGlobe", {"To": HK, "Message": "once"})
    first = signer.send(prepared)
    assert first.status_code == 200 and first.json()["ResponseCode"] == "OK"
    again = signer.send(prepared)
    assert again.status_code == 400 and again.json()["Code"] == "SignatureNonceUsed"
    s.stop()
    s.start()
    prepared["url"] = prepared["url"].replace(prepared["headers"]["host"], s.endpoint)
    prepared["headers"]["host"] = s.endpoint
    # The host is signed, so re-sign with the same nonce and date for the new port.
    resigned = signer.v3_request(s.endpoint, s.ak, s.sk, "SendMessageToGlobe", {"To": HK, "Message": "once"},
                                 date=prepared["headers"]["x-acs-date"], nonce=prepared["headers"]["x-acs-signature-nonce"])
    after = signer.send(resigned)
    assert after.status_code == 400 and after.json()["Code"] == "SignatureNonceUsed"


def test_timestamps(server):
    stale = (datetime.now(timezone.utc) - timedelta(minutes=16)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = signer.send(signer.v3_request(server.endpoint, server.ak, server.sk, "QueryMessage", {"MessageId": "1"}, date=stale))
    assert r.status_code == 400 and r.json()["Code"] == "InvalidTimeStamp.Expired"
    future = (datetime.now(timezone.utc) + timedelta(minutes=16)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = signer.send(signer.v3_request(server.endpoint, server.ak, server.sk, "QueryMessage", {"MessageId": "1"}, date=future))
    assert r.json()["Code"] == "InvalidTimeStamp.Expired"
    r = signer.send(signer.v3_request(server.endpoint, server.ak, server.sk, "QueryMessage", {"MessageId": "1"}, date="yesterday"))
    assert r.status_code == 400 and r.json()["Code"] == "InvalidTimeStamp.Format"
    fresh = (datetime.now(timezone.utc) - timedelta(minutes=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = signer.send(signer.v3_request(server.endpoint, server.ak, server.sk, "QueryMessage", {"MessageId": "1"}, date=fresh))
    assert r.status_code == 200


def test_unknown_action_and_version(server):
    r = signer.send(signer.v3_request(server.endpoint, server.ak, server.sk, "SendSms", {}))
    assert r.status_code == 404 and r.json()["Code"] == "InvalidAction.NotFound"
    # QueryMessage is an action of 2018-05-01 only; 2016-01-01 is no version Petrel speaks.
    r = signer.send(signer.v3_request(server.endpoint, server.ak, server.sk, "QueryMessage", {"MessageId": "1"}, version="2017-05-25"))
    assert r.status_code == 404 and r.json()["Code"] == "InvalidAction.NotFound"
    r = signer.send(signer.v3_request(server.endpoint, server.ak, server.sk, "QueryMessage", {"MessageId": "1"}, version="2016-01-01"))
    assert r.status_code == 400 and r.json()["Code"] == "InvalidVersion"
    body = r.json()
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_policy_denies_with_access_denied_detail(server, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["dysms:*"], "Resource": "*"},
        {"Effect": "Deny", "Action": ["dysms:BatchSend*"], "Resource": "*"}]}))
    created = json.loads(server.cli("keys", "create", "--name", "limited", "--policy", str(policy)).stdout)
    c = server.client(created["AccessKeyId"], created["AccessKeySecret"])
    assert send(c).response_code == "OK"
    with pytest.raises(ClientException) as e:
        c.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(to=f'["{HK}"]', message='["x"]'))
    assert e.value.status_code == 403 and e.value.code == "Forbidden.RAM"
    assert e.value.access_denied_detail["AuthAction"] == "dysms:BatchSendMessageToGlobe"
    assert e.value.access_denied_detail["NoPermissionType"] == "ExplicitDeny"

    narrow = tmp_path / "narrow.json"
    narrow.write_text('{"Version":"1","Statement":[{"Effect":"Allow","Action":"dysms:QueryMessage","Resource":"*"}]}')
    q = json.loads(server.cli("keys", "create", "--name", "query-only", "--policy", str(narrow)).stdout)
    qc = server.client(q["AccessKeyId"], q["AccessKeySecret"])
    with pytest.raises(ClientException) as e:
        send(qc)
    assert e.value.code == "Forbidden.RAM" and e.value.access_denied_detail["NoPermissionType"] == "ImplicitDeny"
    bad = tmp_path / "bad.json"
    bad.write_text('{"Statement": "nope"}')
    assert server.cli("keys", "create", "--name", "x", "--policy", str(bad), check=False).returncode != 0


def test_throttling_raises_the_sdk_throttling_exception(make_server):
    s = make_server({"api": {"throttling": {"QueryMessage": 2}}})
    c = s.client()
    with pytest.raises(ThrottlingException) as e:
        for _ in range(10):
            c.query_message(m.QueryMessageRequest(message_id="1"))
    assert e.value.code == "Throttling.User" and e.value.retry_after > 0
    # Other actions and other keys are not limited.
    assert send(c).response_code == "OK"
    time.sleep(1.1)
    assert c.query_message(m.QueryMessageRequest(message_id="1")).body.response_code == "INVALID_PARAMETERS"
