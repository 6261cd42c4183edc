"""The legacy aliyun-python-sdk-core (CommonRequest, V1 signature, GET, JSON and XML), durability across
kill -9 and restarts, the sandbox endpoints and the command line."""
import json
import os
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
import requests
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from alibabacloud_dysmsapi20180501 import models as m

from conftest import HK, HK_FAIL, PETREL, SG, Server, wait_for


def legacy_request(server, action, params, method="GET", fmt="json", body=False, sk=None):
    client = AcsClient(server.ak, sk or server.sk, "ap-southeast-1", port=server.port)
    r = CommonRequest()
    r.set_accept_format(fmt)
    r.set_domain("127.0.0.1")
    r.set_method(method)
    r.set_protocol_type("http")
    r.set_version("2018-05-01")
    r.set_action_name(action)
    for k, v in params.items():
        (r.add_body_params if body else r.add_query_param)(k, v)
    return client, r


def legacy(server, action, params, **kw):
    client, r = legacy_request(server, action, params, **kw)
    return client.do_action_with_exception(r)


def legacy_xml(server, action, params, **kw):
    """do_action_with_exception forces JSON; the raw call keeps Format=XML as older clients send it."""
    client, r = legacy_request(server, action, params, fmt="XML", **kw)
    status, headers, body, _ = client._implementation_of_do_action(r)
    return status, headers, body


def test_legacy_common_request_get_json(server):
    out = json.loads(legacy(server, "SendMessageToGlobe", {"To": HK, "Message": "legacy hello + ~*", "From": "Legacy"}))
    assert out["ResponseCode"] == "OK" and out["Segments"] == "1"
    q = json.loads(legacy(server, "QueryMessage", {"MessageId": out["MessageId"]}))
    assert q["Message"] == "legacy hello + ~*"


def test_legacy_post_with_body_params(server):
    out = json.loads(legacy(server, "BatchSendMessageToGlobe", {"To": json.dumps([HK, SG]), "Message": json.dumps(["a b", "c+d"])},
                            method="POST", body=True))
    assert out["ResponseCode"] == "OK" and out["SuccessCount"] == "2"


def test_legacy_xml(server):
    status, _, raw = legacy_xml(server, "SendMessageToGlobe", {"To": HK, "Message": "xml please"})
    root = ET.fromstring(raw)
    assert status == 200 and root.tag == "SendMessageToGlobeResponse"
    assert root.find("ResponseCode").text == "OK"
    assert root.find("NumberDetail/Country").text == "Hong Kong"
    status, headers, raw = legacy_xml(server, "SendMessageToGlobe", {"To": HK, "Message": "x"}, sk="wrong")
    error = ET.fromstring(raw)
    assert status == 400 and error.tag == "Error" and error.find("Code").text == "SignatureDoesNotMatch"
    assert headers["content-type"] == "text/xml;charset=utf-8"
    with pytest.raises(ServerException) as e:
        legacy(server, "SendMessageToGlobe", {"To": HK, "Message": "x"}, sk="wrong")
    assert e.value.get_error_code() in ("SignatureDoesNotMatch", "InvalidAccessKeySecret")
    with pytest.raises(ServerException) as e:
        legacy(server, "SendMessageToGlobe", {"Message": "x"})
    assert e.value.get_error_code() == "MissingTo" and e.value.get_http_status() == 400


def test_accepted_messages_survive_kill_9(make_server, tmp_path):
    s = make_server({"sandbox": {"deliveryDelayMs": 100}, "dispatcher": {"pollMs": 50}})
    c = s.client()
    body = c.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(
        to=json.dumps([HK] * 1000), message=json.dumps([f"m{i}" for i in range(1000)]), from_="Durable")).body
    ids = json.loads(body.message_id_list)
    s.kill9()
    s.start()
    c = s.client()
    for i in ids[:: 97] + [ids[-1]]:
        assert c.query_message(m.QueryMessageRequest(message_id=i)).body.response_code == "OK"
    wait_for(lambda: all(c.query_message(m.QueryMessageRequest(message_id=i)).body.status == "1" for i in ids[::50] + [ids[-1]]), timeout=30)


def test_sandbox_endpoints_and_healthz(server):
    c = server.client()
    c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="to the inbox", from_="Inbox"))
    c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK_FAIL, message="will fail"))
    key = (server.ak, server.sk)        # HTTP Basic: the key's own account
    mine = wait_for(lambda: requests.get(server.url("/sandbox/messages"), params={"to": HK}, auth=key).json()["Messages"])
    assert mine[0]["Message"] == "to the inbox" and mine[0]["From"] == "Inbox" and mine[0]["Outcome"] == "delivered"
    assert all(x["To"] == HK for x in mine)
    every = wait_for(lambda: (e := requests.get(server.url("/sandbox/messages"), auth=key).json()["Messages"]) and len(e) == 2 and e)
    assert {x["To"] for x in every} == {HK, HK_FAIL}
    assert requests.delete(server.url("/sandbox/messages"), auth=key).json()["Deleted"] == 2
    assert requests.get(server.url("/sandbox/messages"), auth=key).json()["Messages"] == []
    assert requests.get(server.url("/healthz")).status_code == 200


def test_first_start_creates_and_prints_a_key_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETREL_ACCESS_KEY")}
    s = Server(tmp_path / "fresh")
    s.env = lambda: env
    s.start()
    printed = [l for l in s.output if l.startswith('{"AccessKeyId"')]
    assert len(printed) == 1
    key = json.loads(printed[0])
    assert key["AccessKeyId"].startswith("LTAI") and len(key["AccessKeySecret"]) == 30
    assert s.client(key["AccessKeyId"], key["AccessKeySecret"]).send_message_to_globe(
        m.SendMessageToGlobeRequest(to=HK, message="hi")).body.response_code == "OK"
    assert s.stop() == 0    # SIGTERM: a graceful, successful exit
    s.start()
    assert not any(l.startswith('{"AccessKeyId"') for l in s.output)
    assert s.stop() == 0
    # The secret is encrypted at rest: it is not in the database file, and the master key file is private.
    data = b"".join(open(os.path.join(s.data_dir, f), "rb").read() for f in os.listdir(s.data_dir) if f.startswith("petrel.sqlite"))
    assert key["AccessKeySecret"].encode() not in data
    assert oct(os.stat(os.path.join(s.data_dir, "master.key")).st_mode & 0o777) == "0o600"


def test_bad_config_stops_startup_naming_the_key(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("api:\n  throttling:\n    QueryMessage: fast\n")
    r = subprocess.run([PETREL, "serve", "--data-dir", str(tmp_path / "d"), "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "api.throttling.QueryMessage" in r.stderr
    cfg.write_text("sandbox:\n  deliveryDelay: 5\n")
    r = subprocess.run([PETREL, "serve", "--data-dir", str(tmp_path / "d"), "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "sandbox.deliveryDelay" in r.stderr


def test_second_server_on_the_same_data_dir_is_refused(server):
    r = subprocess.run([PETREL, "serve", "--data-dir", server.data_dir, "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "another petrel serve" in r.stderr


def test_secrets_never_reach_the_logs(make_server):
    s = make_server({"logLevel": "trace", "sandbox": {"deliveryDelayMs": 100}})
    c = s.client()
    c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="hi"))
    try:
        s.client(sk="wrong").send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="hi"))
    except Exception:
        pass
    s.stop()
    log = "".join(s.output)
    assert s.sk not in log


def test_config_check_names_the_bad_key(tmp_path):
    import subprocess
    from conftest import PETREL
    good = tmp_path / "good.yaml"
    good.write_text("listen: 127.0.0.1:9000\nreceipts: {batchSize: 50}\n"
                    "channels:\n  - {id: a, type: smpp, host: 127.0.0.1, systemId: p}\nroutes:\n  - {channels: [a]}\n")
    r = subprocess.run([PETREL, "config", "check", str(good)], capture_output=True, text=True)
    assert r.returncode == 0 and "OK" in r.stdout and "1 SMPP channel" in r.stdout, r.stdout + r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels:\n  - {id: a, type: smpp, host: h, systemId: p, windw: 5}\n")
    r = subprocess.run([PETREL, "config", "check", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1 and "channels[0].windw" in r.stdout, r.stdout + r.stderr


def test_json_logs_carry_the_request_id_and_never_a_secret(make_server):
    server = make_server(config={"logFormat": "json", "logLevel": "debug"})
    client = server.client()
    answer = client.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="log me")).body
    bad = server.client(sk="wrong-secret")
    with pytest.raises(Exception):
        bad.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="refused"))

    def logged():
        # Both requests' lines: the output is read on another thread, so the second may still be on its way.
        lines = [json.loads(l) for l in list(server.output) if l.startswith("{")]
        seen = any(l.get("RequestId") == answer.request_id for l in lines)
        refused = any(l.get("code") == "SignatureDoesNotMatch" for l in lines)
        return seen and refused and lines

    lines = wait_for(logged, timeout=10)
    for line in lines:
        assert {"ts", "level", "label", "msg"} <= line.keys() and line["ts"].endswith("Z")
    rpc = [l for l in lines if l.get("RequestId") == answer.request_id][0]
    assert rpc["action"] == "SendMessageToGlobe" and rpc["code"] == "OK" and rpc["status"] == "200"
    assert any(l.get("code") == "SignatureDoesNotMatch" for l in lines)
    text = "".join(server.output)
    assert server.sk not in text and "wrong-secret" not in text
