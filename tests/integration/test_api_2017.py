"""dysmsapi 2017-05-25 through its unchanged official SDK (alibabacloud-dysmsapi20170525, V3 signatures) and a
hand-signed legacy V1 GET, on SQLite and on PostgreSQL: SendSms and what it shares with the 2018-05-01 surface."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

import pytest
import requests
from alibabacloud_dysmsapi20170525 import models as m17
from alibabacloud_dysmsapi20170525.client import Client as Client17
from alibabacloud_dysmsapi20180501 import models as m18
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.exceptions import ClientException

from conftest import FAST_SANDBOX, HK, HK_FAIL, SG, wait_for
from receiver import Receiver

PG = os.environ.get("PETREL_TEST_POSTGRES")
MAINLAND = "13800138000"          # no country code: a mainland China number, as Alibaba reads it
TEMPLATE = "Your code is ${code}"


def psql(url, sql, attempts=1):
    for attempt in range(attempts):
        r = subprocess.run(["psql", url, "-tA", "-c", sql], capture_output=True, text=True, timeout=60)
        if r.returncode == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"psql {sql}: {r.stderr}")


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request):
    """Nothing for SQLite; for PostgreSQL, the environment of a node on a fresh database (dropped afterwards)."""
    if request.param == "sqlite":
        yield {}
        return
    if not PG:
        pytest.fail("PETREL_TEST_POSTGRES is not set: run scripts/test.sh, which starts a PostgreSQL server")
    name = "petrel_2017_" + uuid.uuid4().hex[:8]
    psql(PG, f"CREATE DATABASE {name}")
    nodes = []
    yield {"PETREL_STORE": PG.rsplit("/", 1)[0] + "/" + name, "PETREL_MASTER_KEY": "ab" * 32, "_nodes": nodes}
    # The nodes stop before their database goes (dropped under them, they would wait out their shutdown).
    for s in nodes:
        s.stop()
    # A node's last connections may still be closing: the drop is tried again for a few seconds.
    psql(PG, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", attempts=10)


def start(make_server, store_env, config=FAST_SANDBOX):
    """A node on the store of `store_env`, with the template SMS_1 of the default account."""
    env = {k: v for k, v in store_env.items() if not k.startswith("_")}
    s = make_server(config=config, env=env or None)
    store_env.get("_nodes", []).append(s)
    s.cli("templates", "add", "SMS_1", "--text", TEMPLATE)
    return s


@pytest.fixture
def server(make_server, store_env):
    return start(make_server, store_env)


def client17(server, algo="v3"):
    cfg = open_api_models.Config(
        access_key_id=server.ak, access_key_secret=server.sk, endpoint=server.endpoint, protocol="http",
        region_id="cn-hangzhou", read_timeout=10000, connect_timeout=5000)
    if algo == "v2":
        cfg.signature_algorithm = "v2"
    return Client17(cfg)


def send_sms(c, numbers, code="SMS_1", sign="Petrel", param='{"code":"1234"}', **kw):
    return c.send_sms(m17.SendSmsRequest(phone_numbers=numbers, sign_name=sign, template_code=code,
                                         template_param=param, **kw)).body


def v1_get(server, params):
    """A legacy RPC V1 GET signed by hand (HMAC-SHA1), as old clients send it."""
    def pct(s):
        return quote(str(s), safe="~")
    all_params = {
        "Format": "JSON", "Version": "2017-05-25", "AccessKeyId": server.ak, "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex, "RegionId": "cn-hangzhou",
        "Timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), **params}
    canonical = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(all_params.items()))
    sts = "GET&%2F&" + pct(canonical)
    sig = base64.b64encode(hmac.new((server.sk + "&").encode(), sts.encode(), hashlib.sha1).digest()).decode()
    return requests.get(server.url("/?" + urlencode({**all_params, "Signature": sig})), timeout=10)


@pytest.mark.parametrize("algo", ["v3", "v2"])
def test_send_sms_to_one_mainland_number(server, algo):
    body = send_sms(client17(server, algo), MAINLAND, out_id="order-7")
    assert body.code == "OK" and body.message == "OK", body.to_map()
    assert body.request_id and body.biz_id.endswith("^0")
    first = body.biz_id.split("^")[0]
    # Stored to +86 and sent; QueryMessage of 2018-05-01 does not see it (QuerySendDetails does).
    shown = json.loads(server.cli("messages", "show", first, "--json").stdout)
    assert shown["To"] == "8613800138000", shown
    q = server.client().query_message(m18.QueryMessageRequest(message_id=first)).body
    assert q.response_code == "INVALID_PARAMETERS", q.to_map()


def test_send_sms_to_many_numbers_with_and_without_country_codes(server):
    numbers = [MAINLAND, "8613900139000", HK, SG, "+" + HK_FAIL]
    body = send_sms(client17(server), ",".join(numbers))
    assert body.code == "OK", body.to_map()
    # One BizId for the send: every number's message carries it.
    assert body.biz_id.endswith("^0")
    assert [len(dtos(details(client17(server), n, biz_id=body.biz_id))) for n in
            ["8613800138000", "8613900139000", HK, SG, HK_FAIL]] == [1] * 5


def test_send_sms_legacy_v1_get(server):
    r = v1_get(server, {"Action": "SendSms", "PhoneNumbers": HK, "SignName": "Petrel", "TemplateCode": "SMS_1",
                        "TemplateParam": '{"code":"42"}'})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["Code"] == "OK" and body["BizId"] and body["RequestId"]


@pytest.mark.parametrize("numbers,code", [
    ("12345", "isv.MOBILE_NUMBER_ILLEGAL"),
    (HK + ",abc", "isv.MOBILE_NUMBER_ILLEGAL"),
    (HK + ",", "isv.MOBILE_NUMBER_ILLEGAL"),
    (",".join([HK] * 1001), "isv.MOBILE_COUNT_OVER_LIMIT"),
])
def test_send_sms_bad_numbers(server, numbers, code):
    body = send_sms(client17(server), numbers)
    assert body.code == code, body.to_map()
    assert body.message and not body.biz_id


def test_send_sms_template_and_sign_errors(server):
    c = client17(server)
    assert send_sms(c, HK, code="SMS_NONE").code == "isv.SMS_TEMPLATE_ILLEGAL"
    assert send_sms(c, HK, param="{}").code == "isv.TEMPLATE_MISSING_PARAMETERS"
    assert send_sms(c, HK, param="[1,2]").code == "isv.INVALID_JSON_PARAM"
    assert send_sms(c, HK, sign="S" * 33).code == "isv.SMS_SIGNATURE_ILLEGAL"
    long = json.dumps({"code": "x" * 2000})
    assert send_sms(c, HK, param=long).code == "isv.PARAM_LENGTH_LIMIT"
    with pytest.raises(ClientException) as e:
        c.send_sms(m17.SendSmsRequest(phone_numbers=HK, template_code="SMS_1"))
    assert e.value.code == "MissingSignName"


def test_2017_actions_are_not_2018_actions(server):
    # An action is found by its version: SendSms is not an action of 2018-05-01, nor SendMessageToGlobe of 2017.
    r = v1_get(server, {"Action": "SendMessageToGlobe", "To": HK, "Message": "hi"})
    assert r.status_code == 404 and r.json()["Code"] == "InvalidAction.NotFound", r.text
    r = v1_get(server, {"Action": "SendSms", "Version": "2018-05-01", "PhoneNumbers": HK, "SignName": "P",
                        "TemplateCode": "SMS_1"})
    assert r.status_code == 404, r.text
    r = v1_get(server, {"Action": "SendSms", "Version": "2016-01-01", "PhoneNumbers": HK})
    assert r.status_code == 400 and r.json()["Code"] == "InvalidVersion", r.text


def today():
    """SendDate as Alibaba reads it: the calendar day in +0800."""
    return (datetime.now(timezone.utc) + timedelta(hours=8)).strftime("%Y%m%d")


def details(c, number, page=1, size=10, date=None, biz_id=None):
    return c.query_send_details(m17.QuerySendDetailsRequest(
        phone_number=number, send_date=date or today(), page_size=size, current_page=page, biz_id=biz_id)).body


def dtos(body):
    return body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []


def test_query_send_details_statuses_paging_and_biz_id(server):
    c = client17(server)
    fail = "13800138666"                          # the sandbox fails numbers ending in 666
    first = send_sms(c, f"{MAINLAND},{fail},{HK}", out_id="order-1")
    second = send_sms(c, MAINLAND, sign="阿里云", param='{"code":"5678"}')
    third = send_sms(c, "+86" + MAINLAND, param='{"code":"9999"}')
    assert first.code == second.code == third.code == "OK"
    # A 2018-05-01 message to the same number is not one of QuerySendDetails'.
    assert server.client().send_message_to_globe(m18.SendMessageToGlobeRequest(to=HK, message="intl")).body \
        .response_code == "OK"

    def settled():
        d = dtos(details(c, MAINLAND)) + dtos(details(c, fail)) + dtos(details(c, HK))
        return d if len(d) == 5 and all(x.send_status in (2, 3) for x in d) else None
    assert wait_for(settled), [x.to_map() for x in dtos(details(c, MAINLAND))]

    body = details(c, MAINLAND, size=2)
    assert body.code == "OK" and body.total_count == "3", body.to_map()
    page1 = dtos(body)
    page2 = dtos(details(c, MAINLAND, page=2, size=2))
    # A signature that is a sender id travels as the sender; another (阿里云) leads the text.
    assert [d.content for d in page1 + page2] == [
        "Your code is 1234", "【阿里云】Your code is 5678", "Your code is 9999"]
    d = page1[0]
    assert d.phone_num == "8613800138000" and d.send_status == 3 and d.err_code == "DELIVERED"
    assert d.template_code == "SMS_1" and d.out_id == "order-1"
    assert len(d.send_date) == 19 and d.receive_date >= d.send_date     # yyyy-MM-dd HH:mm:ss
    assert dtos(details(c, MAINLAND, page=3, size=2)) == []

    failed = dtos(details(c, fail))
    assert [(x.send_status, x.out_id) for x in failed] == [(2, "order-1")] and failed[0].err_code

    assert [x.content for x in dtos(details(c, HK))] == ["Your code is 1234"]

    # BizId narrows to one send; another send's BizId finds nothing for that number.
    by_biz = details(c, MAINLAND, biz_id=second.biz_id)
    assert by_biz.total_count == "1" and dtos(by_biz)[0].content.endswith("5678")
    assert details(c, fail, biz_id=second.biz_id).total_count == "0"
    # Another day has none.
    assert details(c, MAINLAND, date="20200101").total_count == "0"


def test_query_send_details_never_shows_another_accounts_messages(server):
    """Another account's key, given the number, the day and the BizId of a send, finds nothing; the statistics of
    that account count nothing either."""
    c = client17(server)
    sent = send_sms(c, MAINLAND)
    assert sent.code == "OK"
    assert details(c, MAINLAND, biz_id=sent.biz_id).total_count == "1"
    other = json.loads(server.cli("keys", "create", "--name", "rival", "--account", "rival",
                                  "--create-account").stdout)
    cfg = open_api_models.Config(
        access_key_id=other["AccessKeyId"], access_key_secret=other["AccessKeySecret"], endpoint=server.endpoint,
        protocol="http", region_id="cn-hangzhou", read_timeout=10000, connect_timeout=5000)
    rival = Client17(cfg)
    for biz in (sent.biz_id, None):
        body = details(rival, MAINLAND, biz_id=biz)
        assert body.code == "OK" and body.total_count == "0" and dtos(body) == [], body.to_map()
    stats = rival.query_send_statistics(m17.QuerySendStatisticsRequest(
        is_globe=1, start_date=today(), end_date=today(), page_index=1, page_size=10)).body
    assert stats.code == "OK" and stats.data.total_size == 0, stats.to_map()


def test_query_send_details_dates_no_id_can_hold(server):
    """A SendDate before 2020 (ids begin there) or far ahead answers an empty page; the server trapped on them."""
    c = client17(server)
    assert send_sms(c, MAINLAND).code == "OK"
    for date in ("19700101", "20191231", "22980926", "99991231"):
        body = details(c, MAINLAND, date=date)
        assert body.code == "OK" and body.total_count == "0", (date, body.to_map())
    stats = c.query_send_statistics(m17.QuerySendStatisticsRequest(
        is_globe=1, start_date="22980920", end_date="22981010", page_index=1, page_size=10)).body
    assert stats.code == "OK" and stats.data.total_size == 0, stats.to_map()
    # The server is still up.
    assert details(c, MAINLAND).total_count == "1"


def test_query_send_details_validation(server):
    c = client17(server)
    assert details(c, MAINLAND, size=51).code == "isv.INVALID_PARAMETERS"
    assert details(c, MAINLAND, page=0).code == "isv.INVALID_PARAMETERS"
    assert details(c, MAINLAND, date="20250231").code == "isv.INVALID_PARAMETERS"
    assert details(c, MAINLAND, date="2025-06-01").code == "isv.INVALID_PARAMETERS"
    assert details(c, "12345").code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert details(c, MAINLAND, biz_id="nope").code == "isv.INVALID_PARAMETERS"
    assert details(c, MAINLAND, biz_id="9223372036854775807^9").code == "isv.INVALID_PARAMETERS"
    with pytest.raises(ClientException) as e:
        c.query_send_details(m17.QuerySendDetailsRequest(phone_number=MAINLAND, page_size=1, current_page=1))
    assert e.value.code == "MissingSendDate"


def batch_sms(c, numbers, signs, params=None, code="SMS_1", **kw):
    return c.send_batch_sms(m17.SendBatchSmsRequest(
        phone_number_json=json.dumps(numbers), sign_name_json=json.dumps(signs, ensure_ascii=False),
        template_param_json=json.dumps(params) if params is not None else None, template_code=code, **kw)).body


@pytest.mark.parametrize("algo", ["v3", "v2"])
def test_send_batch_sms_each_number_with_its_sign_and_values(server, algo):
    c = client17(server, algo)
    body = batch_sms(c, [MAINLAND, HK], ["阿里云", "Petrel"], [{"code": "1"}, {"code": 2}], out_id="b-1")
    assert body.code == "OK" and body.biz_id, body.to_map()
    got = wait_for(lambda: dtos(details(c, MAINLAND, biz_id=body.biz_id)) and dtos(details(c, HK, biz_id=body.biz_id)))
    assert got
    assert dtos(details(c, MAINLAND, biz_id=body.biz_id))[0].content == "【阿里云】Your code is 1"
    hk = dtos(details(c, HK, biz_id=body.biz_id))[0]
    assert hk.content == "Your code is 2" and hk.out_id == "b-1"


def test_send_batch_sms_rejections(server):
    c = client17(server)
    assert batch_sms(c, [HK, SG], ["Petrel"]).code == "isv.INVALID_PARAMETERS"
    assert batch_sms(c, [HK], ["Petrel"], [{"code": "1"}, {"code": "2"}]).code == "isv.INVALID_PARAMETERS"
    assert batch_sms(c, [HK], ["Petrel"], [{}]).code == "isv.TEMPLATE_MISSING_PARAMETERS"
    assert batch_sms(c, [HK, "123"], ["Petrel"] * 2, [{"code": "1"}] * 2).code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert batch_sms(c, [HK] * 1001, ["Petrel"] * 1001).code == "isv.MOBILE_COUNT_OVER_LIMIT"
    r = c.send_batch_sms(m17.SendBatchSmsRequest(phone_number_json="not json", sign_name_json="[]", template_code="SMS_1"))
    assert r.body.code == "isv.INVALID_JSON_PARAM"


def statistics(c, globe, start=None, end=None, page=1, size=10):
    return c.query_send_statistics(m17.QuerySendStatisticsRequest(
        is_globe=globe, start_date=start or today(), end_date=end or today(), page_index=page, page_size=size)).body


def test_query_send_statistics_totals_what_was_sent(server):
    c = client17(server)
    fail = "13800138666"
    assert send_sms(c, f"{MAINLAND},{fail},13900139000").code == "OK"
    assert send_sms(c, f"{HK},{HK_FAIL}").code == "OK"
    assert server.client().send_message_to_globe(m18.SendMessageToGlobeRequest(to=SG, message="intl")).body \
        .response_code == "OK"

    def settled(globe, total):
        d = statistics(c, globe).data
        t = d.target_list[0] if d.target_list else None
        return t if t and t.total_count == total and t.no_responded_count == 0 else None
    mainland = wait_for(lambda: settled(1, 3))
    assert mainland and mainland.send_date == today(), statistics(c, 1).to_map()
    assert (mainland.responded_success_count, mainland.responded_fail_count) == (2, 1)
    intl = wait_for(lambda: settled(2, 3))
    assert intl and (intl.responded_success_count, intl.responded_fail_count) == (2, 1), statistics(c, 2).to_map()
    body = statistics(c, 2)
    assert body.code == "OK" and body.data.total_size == 1
    assert statistics(c, 2, page=2).data.target_list == []
    assert statistics(c, 1, start="20200101", end="20200131").data.total_size == 0


def test_query_send_statistics_validation(server):
    c = client17(server)
    assert statistics(c, 3).code == "isv.INVALID_PARAMETERS"
    assert statistics(c, 1, size=51).code == "isv.INVALID_PARAMETERS"
    assert statistics(c, 1, start="20250301", end="20250201").code == "isv.QUERY_DATE_ILLEGAL"
    assert statistics(c, 1, start="20250101", end="20250301").code == "isv.QUERY_DATE_ILLEGAL"
    assert statistics(c, 1, start="2025013").code == "isv.INVALID_PARAMETERS"


@pytest.mark.parametrize("algo", ["v3", "v2"])
def test_other_2017_operations_say_petrel_does_not_provide_them(server, algo):
    c = client17(server, algo)
    with pytest.raises(ClientException) as e:
        c.add_short_url(m17.AddShortUrlRequest(source_url="https://example.com", short_url_name="n", effective_days="30"))
    assert e.value.code == "UnsupportedOperation"
    assert "AddShortUrl is an operation of dysmsapi 2017-05-25 that Petrel does not provide" in e.value.message
    with pytest.raises(ClientException) as e:
        c.query_short_url(m17.QueryShortUrlRequest(short_url="http://x.cn/a"))
    assert e.value.code == "UnsupportedOperation"


def test_receipts_of_2017_messages_are_pushed_as_smsreport(make_server, store_env):
    receiver = Receiver(secret="receipt-secret-2017").start()
    try:
        config = {**FAST_SANDBOX, "receipts": {"maxWaitMs": 100, "pollMs": 50},
                  "accounts": [{"name": "default", "receiptUrl": receiver.url,
                                "webhookSecret": "receipt-secret-2017"}]}
        server = start(make_server, store_env, config)
        fail = "13800138666"
        sent = send_sms(client17(server), f"{MAINLAND},{fail}", out_id="order-9")
        assert sent.code == "OK"
        intl = server.client().send_message_to_globe(m18.SendMessageToGlobeRequest(to=HK, message="intl")).body
        reports = wait_for(lambda: receiver.reports() if len(receiver.reports()) == 3 else None)
        assert reports, receiver.reports()
        receiver.check_signatures()
        by_phone = {r.get("phone_number") or r.get("To"): r for r in reports}
        ok, failed = by_phone["8613800138000"], by_phone["8613800138666"]
        assert set(ok) == {"phone_number", "send_time", "report_time", "success", "err_code", "err_msg", "sms_size",
                           "biz_id", "out_id", "ReportId"}
        assert ok["success"] is True and ok["err_code"] == "DELIVERED" and ok["sms_size"] == "1"
        assert ok["biz_id"] == sent.biz_id and ok["out_id"] == "order-9"
        assert len(ok["send_time"]) == 19 and ok["report_time"] >= ok["send_time"]
        assert failed["success"] is False and failed["err_code"] and failed["biz_id"] == sent.biz_id
        # A 2018-05-01 message of the same account keeps its own format.
        assert by_phone[HK]["MessageId"] == intl.message_id and by_phone[HK]["Status"] == "1"
    finally:
        receiver.stop()
