"""The official SDK (V3 and V2 signatures) against petrel serve: every operation and validation rule."""
import json
import subprocess
import sys
import time

import pytest
from alibabacloud_dysmsapi20180501 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException

from conftest import HK, HK_EXPIRE, HK_FAIL, HK_SLOW, PEERS, SG, wait_for


@pytest.mark.parametrize("algo", ["v3", "v2"])
def test_sdk_client_script_passes(server, algo):
    r = subprocess.run(
        [sys.executable, str(PEERS / "sdk_client.py"), server.endpoint, server.ak, server.sk, "--algo", algo,
         "--to", f"{HK},{SG},{HK_FAIL}"],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert '"all_passed": true' in r.stdout


def batch(client, to, messages, **kw):
    return client.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(
        to=json.dumps(to), message=json.dumps(messages), **kw)).body


def query(client, message_id):
    return client.query_message(m.QueryMessageRequest(message_id=message_id)).body


@pytest.mark.parametrize("algo", ["v3", "v2"])
def test_batch_accepts_valid_numbers_in_order(server, algo):
    c = server.client(algo=algo)
    to = [HK, "+" + SG, "85200000001", "8613800138000", "00" + HK_FAIL, "8521234", "85266123456"]
    body = batch(c, to, [f"text {i} Ünïcødé & +/ ~*" for i in range(len(to))], from_="Alicloud321", type="MKT",
                 task_id="task-7", validity_period=600)
    assert body.response_code == "OK"
    assert body.from_ == "Alicloud321"
    assert isinstance(body.success_count, str) and body.success_count == "4"
    assert json.loads(body.failed_list) == ["85200000001", "8613800138000", "8521234"]
    ids = json.loads(body.message_id_list)
    assert len(ids) == 4 and all(isinstance(i, str) and i.isdigit() for i in ids)
    assert ids == sorted(ids, key=int)
    q = [query(c, i) for i in ids]
    assert [x.to for x in q] == [HK, SG, HK_FAIL, "85266123456"]
    assert q[0].message == "text 0 Ünïcødé & +/ ~*"
    assert q[1].message == "text 1 Ünïcødé & +/ ~*"


@pytest.mark.parametrize("algo", ["v3", "v2"])
def test_a_full_batch_of_long_texts_fits_in_the_query_string(server, algo):
    # The SDK puts all parameters in the URL of its POST: 1,000 recipients × 300 characters is ~1 MB of query.
    to = [f"8529{2000000 + i:07d}" for i in range(1000)]
    body = batch(server.client(algo=algo), to, [("Ünïcødé text %d " % i).ljust(300, "x") for i in range(1000)])
    assert body.response_code == "OK", body.to_map()
    assert body.success_count == "1000"


def test_batch_validation_rules(server):
    c = server.client()
    too_many = [HK] * 1001
    body = batch(c, too_many, ["x"] * 1001)
    assert body.response_code == "MOBILE_COUNT_OVER_LIMIT"
    assert batch(c, [HK] * 1000, ["x"] * 1000).success_count == "1000"

    def raw(to, msg, **kw):
        return c.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(to=to, message=msg, **kw)).body

    assert raw(HK, '["x"]').response_code == "INVALID_JSON_PARAM"
    assert raw(f"[{HK}]", '["x"]').response_code == "INVALID_JSON_PARAM"
    assert raw("[]", "[]").response_code == "INVALID_JSON_PARAM"
    assert raw(f'["{HK}"]', "x").response_code == "INVALID_JSON_PARAM"
    assert raw(f'["{HK}"]', '["x","y"]').response_code == "INVALID_PARAMETERS"
    assert raw(f'["{HK}"]', '["x"]', from_="ABCDEFGHIJKL").response_code == "INVALID_SENDERID"
    assert raw(f'["{HK}"]', '["x"]', from_="1234567890123456").response_code == "INVALID_SENDERID"
    assert raw(f'["{HK}"]', '["x"]', from_="123456789012345").response_code == "OK"
    assert raw(f'["{HK}"]', '["x"]', from_="Ali_cloud").response_code == "INVALID_SENDERID"
    assert raw(f'["{HK}"]', '["x"]', type="OTP").response_code == "INVALID_PARAMETERS"
    assert raw(f'["{HK}"]', '["x"]', type="notify").response_code == "OK"
    assert raw(f'["{HK}"]', '["x"]', task_id="t" * 256).response_code == "INVALID_PARAMETERS"
    assert raw(f'["{HK}"]', '["x"]', task_id="t" * 255).response_code == "OK"
    assert raw(f'["{HK}"]', '["x"]', channel_id="nope").response_code == "INVALID_PARAMETERS"
    assert raw(f'["{HK}"]', '["x"]', channel_id="sandbox").response_code == "OK"
    only_bad = raw('["8613800138000"]', '["x"]')
    assert only_bad.response_code == "MOBILE_NUMBER_ILLEGAL" and only_bad.success_count == "0"
    with pytest.raises(ClientException) as e:
        c.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(message='["x"]'))
    assert e.value.code == "MissingTo" and e.value.status_code == 400
    with pytest.raises(ClientException) as e:
        c.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(to=f'["{HK}"]'))
    assert e.value.code == "MissingMessage"


def test_single_send_segments_and_number_detail(server):
    c = server.client()

    def send(text, to=HK, **kw):
        return c.send_message_to_globe(m.SendMessageToGlobeRequest(to=to, message=text, **kw)).body

    assert send("a" * 160).segments == "1"
    assert send("a" * 161).segments == "2"
    assert send("{" * 80).segments == "1"
    assert send("{" * 81).segments == "2"
    assert send("é" * 160).segments == "1"          # é is in GSM 03.38
    assert send("中" * 70).segments == "1"
    assert send("中" * 71).segments == "2"
    body = send("code 1234", type="OTP", from_="Petrel")
    assert body.response_code == "OK"
    assert body.to == HK and body.from_ == "Petrel" and body.message_id.isdigit()
    assert body.number_detail.country == "Hong Kong" and body.number_detail.region == "HK"
    sg = send("hi", to="+" + SG)
    assert sg.to == SG and sg.number_detail.country == "Singapore"
    assert send("x", to="8613800138000").response_code == "MOBILE_NUMBER_ILLEGAL"
    assert send("x", to="85200000001").response_code == "MOBILE_NUMBER_ILLEGAL"
    assert send("x", type="PROMO").response_code == "INVALID_PARAMETERS"
    assert send("x", validity_period=0).response_code == "INVALID_PARAMETERS"


def test_sandbox_outcomes_through_query_message(server):
    c = server.client()
    ids = {}
    for number in (HK, HK_FAIL, HK_EXPIRE, HK_SLOW):
        ids[number] = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=number, message="hello")).body.message_id

    delivered = wait_for(lambda: (q := query(c, ids[HK])).status == "1" and q)
    assert delivered.error_code == "DELIVERED" and delivered.error_description == "success"
    assert delivered.send_date.endswith("+0800") and delivered.receive_date.endswith("+0800")
    assert delivered.number_detail.country == "Hong Kong"
    failed = wait_for(lambda: (q := query(c, ids[HK_FAIL])).status == "2" and q)
    assert failed.error_code == "UNDELIV"
    expired = wait_for(lambda: (q := query(c, ids[HK_EXPIRE])).status == "2" and q)
    assert expired.error_code == "EXPIRED"
    assert query(c, ids[HK_SLOW]).status == "3"    # slowDelayMs is 2.5 s in the test config
    wait_for(lambda: query(c, ids[HK_SLOW]).status == "1", timeout=10)


def test_query_unknown_and_other_accounts_answer_alike(server):
    c = server.client()
    mine = c.send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="mine")).body.message_id
    created = json.loads(server.cli("keys", "create", "--name", "other", "--account", "other", "--create-account").stdout)
    other = server.client(created["AccessKeyId"], created["AccessKeySecret"])
    theirs = query(other, mine)
    unknown = query(other, "123456789")
    assert theirs.response_code == unknown.response_code == "INVALID_PARAMETERS"
    assert theirs.status is None and theirs.to is None and theirs.message is None
    assert query(c, mine).message == "mine"
    with pytest.raises(ClientException) as e:
        c.query_message(m.QueryMessageRequest())
    assert e.value.code == "MissingMessageId"


def test_templates_and_conversions(server):
    server.cli("templates", "add", "SMS_0001", "--text", "Your code is ${code}, valid ${minutes} minutes")
    c = server.client()

    def tpl(**kw):
        return c.send_message_with_template(m.SendMessageWithTemplateRequest(**kw)).body

    ok = tpl(to="8613800138000", from_="Alicloud", template_code="SMS_0001", template_param='{"code": "1234", "minutes": 5}',
             sms_up_extend_code="90999")
    assert ok.response_code == "OK" and ok.to == "8613800138000" and ok.segments == "1"
    assert ok.number_detail.region == "CN"
    assert query(c, ok.message_id).message == "Your code is 1234, valid 5 minutes"
    assert tpl(to=HK, from_="Alicloud", template_code="SMS_9999").response_code == "SMS_CONTENT_CODE_ILLEGAL"
    assert tpl(to=HK, from_="Alicloud", template_code="SMS_0001", template_param='{"code":"1"}').response_code == "CONTENT_MISSING_PARAMETERS"
    assert tpl(to=HK, from_="Alicloud", template_code="SMS_0001", template_param='nope').response_code == "INVALID_JSON_PARAM"
    assert tpl(to="123", from_="Alicloud", template_code="SMS_0001").response_code == "MOBILE_NUMBER_ILLEGAL"
    with pytest.raises(ClientException) as e:
        tpl(to=HK, template_code="SMS_0001")
    assert e.value.code == "MissingFrom"

    conv = c.sms_conversion(m.SmsConversionRequest(message_id=ok.message_id, delivered=True, conversion_time=1349055900000, to="8613800138000"))
    assert conv.body.response_code == "OK"
    assert c.sms_conversion(m.SmsConversionRequest(message_id=ok.message_id, delivered=False)).body.response_code == "OK"
    assert c.sms_conversion(m.SmsConversionRequest(message_id="42", delivered=True)).body.response_code == "INVALID_PARAMETERS"
    with pytest.raises(ClientException) as e:
        c.sms_conversion(m.SmsConversionRequest(message_id=ok.message_id))
    assert e.value.code == "MissingDelivered"
    assert c.conversion_data(m.ConversionDataRequest(conversion_rate="0.53", report_time=1349055900000)).body.response_code == "OK"
    assert c.conversion_data(m.ConversionDataRequest(conversion_rate="1.2")).body.response_code == "INVALID_PARAMETERS"
    assert c.conversion_data(m.ConversionDataRequest(conversion_rate="0.5", report_time=-1)).body.response_code == "INVALID_PARAMETERS"
