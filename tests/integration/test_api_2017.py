"""dysmsapi 2017-05-25 through its unchanged official SDK (alibabacloud-dysmsapi20170525, V3 signatures) and a
hand-signed legacy V1 GET, on SQLite and on PostgreSQL: SendSms and what it shares with the 2018-05-01 surface."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
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

PG = os.environ.get("PETREL_TEST_POSTGRES")
MAINLAND = "13800138000"          # no country code: a mainland China number, as Alibaba reads it
TEMPLATE = "Your code is ${code}"


def psql(url, sql):
    subprocess.run(["psql", url, "-tA", "-c", sql], capture_output=True, text=True, timeout=60, check=True)


@pytest.fixture(params=["sqlite", "postgres"])
def server(request, make_server):
    """A node on SQLite, or on a fresh PostgreSQL database, with the template SMS_1 of the default account."""
    env = None
    name = None
    if request.param == "postgres":
        if not PG:
            pytest.fail("PETREL_TEST_POSTGRES is not set: run scripts/test.sh, which starts a PostgreSQL server")
        name = "petrel_2017_" + uuid.uuid4().hex[:8]
        psql(PG, f"CREATE DATABASE {name}")
        env = {"PETREL_STORE": PG.rsplit("/", 1)[0] + "/" + name, "PETREL_MASTER_KEY": "ab" * 32}
    s = make_server(config=FAST_SANDBOX, env=env)
    if name:
        # The node stops before its database goes (dropped under it, it would wait out its shutdown).
        request.addfinalizer(lambda: (s.stop(), psql(PG, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
    s.cli("templates", "add", "SMS_1", "--text", TEMPLATE)
    return s


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
    first, span = body.biz_id.split("^")
    assert int(span) >= len(numbers) - 1


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
