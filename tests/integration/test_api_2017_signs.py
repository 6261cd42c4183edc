"""dysmsapi 2017-05-25's signs and templates (AddSmsSign … DeleteSmsTemplate) through the unchanged 4.6.0 SDK, on
SQLite and PostgreSQL: the account's own, shared with SendMessageWithTemplate, approved at once or by the operator
(`api.approval: manual`, `petrel signs|templates approve|reject`), and what SendSms makes of their states."""
import json
import re
import time

import pytest
from alibabacloud_dysmsapi20170525 import models as m17
from alibabacloud_dysmsapi20180501 import models as m18
from alibabacloud_tea_openapi.exceptions import ClientException

from conftest import FAST_SANDBOX, HK
from test_api_2017 import (  # noqa: F401 (server, store_env: fixtures)
    MAINLAND, client17, details, dtos, send_sms, server, start, store_env, v1_get)

MANUAL = {**FAST_SANDBOX, "api": {"approval": "manual"}}


def settled(check, seconds=3.0):
    """Whether `check` holds within `seconds`. A change made by `petrel signs|templates` in another process reaches a
    server on PostgreSQL with the change's notification (milliseconds; longer on a loaded machine), on SQLite at once."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def add_sign(c, name, **kw):
    return c.add_sms_sign(m17.AddSmsSignRequest(sign_name=name, sign_source=0, remark="our shop", **kw)).body


def add_template(c, content="Hello ${name}", name="greeting", type_=1):
    return c.add_sms_template(m17.AddSmsTemplateRequest(
        template_name=name, template_content=content, template_type=type_, remark="for tests")).body


def shown(page, name):
    """The digest the approvals page gives the form of `name` (a decision applies only to what it showed)."""
    found = re.search(r'name="name" value="' + re.escape(name) + r'"><input type="hidden" name="shown" value="([0-9a-f]+)"',
                      page)
    assert found, page
    return found.group(1)


def sign_status(c, name):
    return c.query_sms_sign(m17.QuerySmsSignRequest(sign_name=name)).body


def template_status(c, code):
    return c.query_sms_template(m17.QuerySmsTemplateRequest(template_code=code)).body


def test_signs_add_query_list_modify_delete(make_server, store_env):
    s = start(make_server, store_env)
    c = client17(s)
    added = add_sign(c, "阿里云")
    assert (added.code, added.sign_name) == ("OK", "阿里云"), added.to_map()
    created = c.create_sms_sign(m17.CreateSmsSignRequest(sign_name="Petrel", sign_source=2, sign_type=0,
                                                         qualification_id=1, remark="app")).body
    assert (created.code, created.sign_name) == ("OK", "Petrel"), created.to_map()
    # NUL, which PostgreSQL's text cannot hold, is refused as a bad value on both stores.
    for body in (add_sign(c, "a\x00b"), add_template(c, content="x\x00"), sign_status(c, "\x00")):
        assert body.code == "isv.INVALID_PARAMETERS" and "NUL" in body.message, body.to_map()
    again = add_sign(c, "Petrel")
    assert again.code == "isv.INVALID_PARAMETERS" and "already" in again.message, again.to_map()

    # Approved at once (no api.approval: manual), as each operation reports it.
    q = sign_status(c, "阿里云")
    assert (q.sign_status, q.reason) == (1, "No audit remarks"), q.to_map()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", q.create_date), q.to_map()
    g = c.get_sms_sign(m17.GetSmsSignRequest(sign_name="Petrel")).body
    assert (g.code, g.sign_status, g.remark, g.sign_usage) == ("OK", 1, "app", "Verification code"), g.to_map()
    assert g.audit_info.reject_info == "" and g.audit_info.audit_date, g.to_map()
    page = c.query_sms_sign_list(m17.QuerySmsSignListRequest(page_index=1, page_size=1)).body
    assert (page.code, page.total_count, page.current_page, page.page_size) == ("OK", 2, 1, 1), page.to_map()
    assert [(x.sign_name, x.audit_status) for x in page.sms_sign_list] == [("Petrel", "AUDIT_STATE_PASS")]
    page2 = c.query_sms_sign_list(m17.QuerySmsSignListRequest(page_index=2, page_size=1)).body
    assert [x.sign_name for x in page2.sms_sign_list] == ["阿里云"], page2.to_map()
    assert page2.sms_sign_list[0].reason.reject_info == "No audit remarks"

    m = c.modify_sms_sign(m17.ModifySmsSignRequest(sign_name="Petrel", sign_source=1, remark="website")).body
    assert (m.code, m.sign_name) == ("OK", "Petrel"), m.to_map()
    u = c.update_sms_sign(m17.UpdateSmsSignRequest(sign_name="Petrel", sign_source=1, sign_type=1,
                                                   qualification_id=1, remark="site")).body
    assert u.code == "OK", u.to_map()
    assert c.get_sms_sign(m17.GetSmsSignRequest(sign_name="Petrel")).body.remark == "site"
    d = c.delete_sms_sign(m17.DeleteSmsSignRequest(sign_name="Petrel")).body
    assert (d.code, d.sign_name) == ("OK", "Petrel"), d.to_map()
    for body in (sign_status(c, "Petrel"), c.delete_sms_sign(m17.DeleteSmsSignRequest(sign_name="Petrel")).body,
                 c.modify_sms_sign(m17.ModifySmsSignRequest(sign_name="Petrel", sign_source=1, remark="x")).body):
        assert body.code == "isv.SMS_SIGNATURE_ILLEGAL" and "no sign named Petrel" in body.message, body.to_map()


def test_templates_are_the_accounts_templates(make_server, store_env):
    s = start(make_server, store_env)
    c = client17(s)
    added = add_template(c)
    assert added.code == "OK" and re.fullmatch(r"SMS_\d{9}", added.template_code), added.to_map()
    code = added.template_code
    created = c.create_sms_template(m17.CreateSmsTemplateRequest(
        template_name="login", template_content="Code ${code}", template_type=0, remark="r",
        related_sign_name="Petrel")).body
    assert created.code == "OK" and created.template_name == "login", created.to_map()

    # Sent by both API versions at once (approved: no api.approval: manual).
    sent = send_sms(c, MAINLAND, code=code, param='{"name":"Ada"}')
    assert sent.code == "OK", sent.to_map()
    shown = dtos(details(c, MAINLAND, biz_id=sent.biz_id))
    assert [(d.template_code, d.content) for d in shown] == [(code, "Hello Ada")], shown
    r18 = s.client().send_message_with_template(m18.SendMessageWithTemplateRequest(
        to="85291234567", from_="Petrel", template_code=code, template_param='{"name":"Bo"}')).body
    assert r18.response_code == "OK", r18.to_map()

    q = template_status(c, code)
    assert (q.template_status, q.template_type, q.template_name, q.template_content) == (
        1, 1, "greeting", "Hello ${name}"), q.to_map()
    g = c.get_sms_template(m17.GetSmsTemplateRequest(template_code=code)).body
    assert (g.template_status, g.template_type, g.remark, g.template_tag) == ("1", "1", "for tests", 2), g.to_map()
    listed = c.query_sms_template_list(m17.QuerySmsTemplateListRequest(page_index=1, page_size=50)).body
    assert listed.total_count == 3, listed.to_map()
    # The operator's template from `petrel templates add` (SMS_1) is among them, approved.
    by_code = {t.template_code: t for t in listed.sms_template_list}
    assert by_code["SMS_1"].audit_status == "AUDIT_STATE_PASS" and by_code[code].template_type == 0 + 1
    got = c.get_sms_template_list(m17.GetSmsTemplateListRequest(page_index=1, page_size=10, template_type=0)).body
    assert got.code == "OK" and got.data.total == 1, got.to_map()
    assert [(t.template_code, t.audit_status) for t in got.data.list] == [(created.template_code, 1)]
    named = c.get_sms_template_list(m17.GetSmsTemplateListRequest(template_name="greet")).body
    assert [t.template_code for t in named.data.list] == [code], named.to_map()

    m = c.modify_sms_template(m17.ModifySmsTemplateRequest(
        template_code=code, template_name="greeting", template_content="Hi ${name}!", template_type=1, remark="x"))
    assert m.body.code == "OK" and m.body.template_code == code, m.body.to_map()
    u = c.update_sms_template(m17.UpdateSmsTemplateRequest(
        template_code=code, template_name="hi", template_content="Hi ${name}!!", template_type=1, remark="y"))
    assert (u.body.code, u.body.template_name) == ("OK", "hi"), u.body.to_map()
    assert template_status(c, code).template_content == "Hi ${name}!!"
    d = c.delete_sms_template(m17.DeleteSmsTemplateRequest(template_code=code)).body
    assert (d.code, d.template_code) == ("OK", code), d.to_map()
    gone = send_sms(c, MAINLAND, code=code, param='{"name":"Ada"}')
    assert gone.code == "isv.SMS_TEMPLATE_ILLEGAL", gone.to_map()
    assert template_status(c, code).code == "isv.SMS_TEMPLATE_ILLEGAL"


def test_a_registered_sign_is_the_only_one_an_account_sends_under(server):
    c = client17(server)
    # No sign registered: any signature goes, as before signs were kept.
    assert send_sms(c, MAINLAND, sign="Anything").code == "OK"
    assert add_sign(c, "Petrel").code == "OK"
    refused = send_sms(c, MAINLAND, sign="Anything")
    assert refused.code == "isv.SMS_SIGNATURE_ILLEGAL" and "no sign named Anything" in refused.message, refused.to_map()
    assert send_sms(c, MAINLAND, sign="Petrel").code == "OK"
    assert send_sms(c, MAINLAND, sign="Pe\x00trel").code == "isv.SMS_SIGNATURE_ILLEGAL"
    assert send_sms(c, MAINLAND, code="SMS_\x001").code == "isv.SMS_TEMPLATE_ILLEGAL"
    batch = c.send_batch_sms(m17.SendBatchSmsRequest(
        phone_number_json=json.dumps([MAINLAND, HK]), sign_name_json=json.dumps(["Petrel", "Anything"]),
        template_code="SMS_1", template_param_json=json.dumps([{"code": "1"}, {"code": "2"}]))).body
    assert batch.code == "isv.SMS_SIGNATURE_ILLEGAL", batch.to_map()


def test_manual_approval_by_the_operator(make_server, store_env):
    s = start(make_server, store_env, config=MANUAL)
    c = client17(s)
    assert add_sign(c, "Petrel").code == "OK"
    code = add_template(c, content="Code ${code}").template_code
    assert sign_status(c, "Petrel").sign_status == 0
    q = template_status(c, code)
    assert (q.template_status, q.reason) == (0, "No audit remarks"), q.to_map()
    listed = c.query_sms_template_list(m17.QuerySmsTemplateListRequest()).body
    assert {t.template_code: t.audit_status for t in listed.sms_template_list}[code] == "AUDIT_STATE_INIT"
    assert c.query_sms_sign_list(m17.QuerySmsSignListRequest()).body.sms_sign_list[0].audit_status == \
        "AUDIT_STATE_INIT"

    waiting = send_sms(c, MAINLAND, code=code)
    assert waiting.code == "isv.SMS_TEMPLATE_ILLEGAL" and "waiting for approval" in waiting.message, waiting.to_map()
    # The 2018-05-01 way to the same template is refused too.
    r18 = s.client().send_message_with_template(m18.SendMessageWithTemplateRequest(
        to=HK, from_="Petrel", template_code=code, template_param='{"code":"1"}')).body
    assert r18.response_code == "SMS_CONTENT_CODE_ILLEGAL", r18.to_map()

    s.cli("templates", "approve", code)
    assert settled(lambda: template_status(c, code).template_status == 1)
    unsigned = send_sms(c, MAINLAND, code=code)
    assert unsigned.code == "isv.SMS_SIGNATURE_ILLEGAL" and "waiting" in unsigned.message, unsigned.to_map()
    s.cli("signs", "approve", "Petrel")
    assert settled(lambda: send_sms(c, MAINLAND, code=code).code == "OK")

    s.cli("templates", "reject", code, "--reason", "Links are not allowed")
    assert settled(lambda: template_status(c, code).template_status == 2)
    q = template_status(c, code)
    assert (q.template_status, q.reason) == (2, "Links are not allowed"), q.to_map()
    g = c.get_sms_template(m17.GetSmsTemplateRequest(template_code=code)).body
    assert (g.template_status, g.audit_info.reject_info) == ("2", "Links are not allowed"), g.to_map()
    listed = c.query_sms_template_list(m17.QuerySmsTemplateListRequest()).body
    t = {t.template_code: t for t in listed.sms_template_list}[code]
    assert t.audit_status == "AUDIT_STATE_NOT_PASS" and t.reason.reject_sub_info == "Links are not allowed"
    assert send_sms(c, MAINLAND, code=code).code == "isv.SMS_TEMPLATE_ILLEGAL"
    # Modified, it waits for the operator again.
    c.modify_sms_template(m17.ModifySmsTemplateRequest(
        template_code=code, template_name="n", template_content="Code: ${code}", template_type=0, remark="r"))
    assert template_status(c, code).template_status == 0
    s.cli("signs", "reject", "Petrel", "--reason", "not a company name")
    assert sign_status(c, "Petrel").reason == "not a company name"
    listing = s.cli("signs", "list").stdout
    assert "Petrel\tAUDIT_STATE_NOT_PASS\tnot a company name" in listing, listing
    assert s.cli("signs", "approve", "Nobody", check=False).returncode != 0


def test_bounds_pages_and_other_accounts(make_server):
    s = make_server({**FAST_SANDBOX, "api": {"maxSignsPerAccount": 2, "maxTemplatesPerAccount": 1}})
    c = client17(s)
    assert add_sign(c, "x" * 33).code == "isv.PARAM_LENGTH_LIMIT"
    assert add_sign(c, "a", sign_type=7).code == "isv.INVALID_PARAMETERS"
    assert add_sign(c, "a").code == "OK" and add_sign(c, "b").code == "OK"
    full = add_sign(c, "c")
    assert full.code == "isv.INVALID_PARAMETERS" and "api.maxSignsPerAccount" in full.message, full.to_map()
    assert add_template(c, type_=9).code == "isv.INVALID_PARAMETERS"
    assert add_template(c, content="x" * 1601).code == "isv.PARAM_LENGTH_LIMIT"
    assert add_template(c).code == "OK"
    assert "api.maxTemplatesPerAccount" in add_template(c).message
    for size in (0, 51):
        r = c.query_sms_sign_list(m17.QuerySmsSignListRequest(page_index=1, page_size=size)).body
        assert r.code == "isv.INVALID_PARAMETERS", r.to_map()
    far = c.query_sms_sign_list(m17.QuerySmsSignListRequest(page_index=1000000, page_size=50)).body
    assert (far.code, far.total_count, far.sms_sign_list) == ("OK", 2, []), far.to_map()
    with pytest.raises(ClientException) as e:
        c.query_sms_sign(m17.QuerySmsSignRequest())
    assert e.value.code == "MissingSignName"

    rival = json.loads(s.cli("keys", "create", "--name", "rival", "--account", "rival", "--create-account").stdout)
    rc = client17(type("S", (), {"ak": rival["AccessKeyId"], "sk": rival["AccessKeySecret"],
                                  "endpoint": s.endpoint})())
    assert sign_status(rc, "a").code == "isv.SMS_SIGNATURE_ILLEGAL"
    assert rc.query_sms_sign_list(m17.QuerySmsSignListRequest()).body.total_count == 0
    assert rc.delete_sms_sign(m17.DeleteSmsSignRequest(sign_name="a")).body.code == "isv.SMS_SIGNATURE_ILLEGAL"
    assert add_sign(rc, "a").code == "OK"  # its own "a"
    assert sign_status(c, "a").sign_status == 1


def test_policies_name_the_sign_and_template_actions(server, tmp_path):
    policy = tmp_path / "send-only.json"
    policy.write_text('{"Version":"1","Statement":[{"Effect":"Allow","Action":"dysms:SendSms","Resource":"*"}]}')
    k = json.loads(server.cli("keys", "create", "--name", "send-only", "--policy", str(policy)).stdout)
    c = client17(type("S", (), {"ak": k["AccessKeyId"], "sk": k["AccessKeySecret"], "endpoint": server.endpoint})())
    assert send_sms(c, MAINLAND).code == "OK"
    with pytest.raises(ClientException) as e:
        add_sign(c, "Petrel")
    assert e.value.code == "Forbidden.RAM" and e.value.access_denied_detail["AuthAction"] == "dysms:AddSmsSign"
    with pytest.raises(ClientException) as e:
        c.delete_sms_template(m17.DeleteSmsTemplateRequest(template_code="SMS_1"))
    assert e.value.access_denied_detail["AuthAction"] == "dysms:DeleteSmsTemplate"


def test_sign_list_legacy_v1_get(server):
    assert add_sign(client17(server), "Petrel").code == "OK"
    r = v1_get(server, {"Action": "QuerySmsSignList", "PageSize": "5"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["Code"] == "OK" and body["SmsSignList"][0]["SignName"] == "Petrel", body
    r = v1_get(server, {"Action": "QuerySmsTemplate", "TemplateCode": "SMS_1", "Format": "XML"})
    assert "<TemplateStatus>1</TemplateStatus>" in r.text, r.text


def test_the_operator_approves_and_rejects_in_the_console(make_server, tmp_path):
    from test_console import new_key, sign_in

    s = make_server(MANUAL)
    ak, sk = new_key(s, "shop")
    shop = client17(type("S", (), {"ak": ak, "sk": sk, "endpoint": s.endpoint})())
    assert add_sign(shop, "Shop").code == "OK"
    code = add_template(shop).template_code
    assert add_template(shop, name="second").code == "OK"

    # The shop's own key may not decide: approvals need petrel:Operate (a key of its own without it).
    policy = tmp_path / "own.json"
    policy.write_text('{"Version":"1","Statement":[{"Effect":"Allow","Action":["dysms:*","petrel:ManageTemplates"],'
                      '"Resource":"*"}]}')
    limited = json.loads(s.cli("keys", "create", "--name", "l", "--account", "shop", "--policy", str(policy)).stdout)
    ls, lcsrf = sign_in(s, limited["AccessKeyId"], limited["AccessKeySecret"])
    assert ls.get(s.url("/console/approvals"), timeout=10).status_code == 403
    r = ls.post(s.url("/console/approvals/review"), timeout=10,
                data={"csrf": lcsrf, "kind": "sign", "account": "shop", "name": "Shop", "decision": "approve"})
    assert r.status_code == 403 and sign_status(shop, "Shop").sign_status == 0
    # The shop's keys page shows where its templates stand.
    assert "AUDIT_STATE_INIT" in ls.get(s.url("/console/keys"), timeout=10).text

    op, csrf = sign_in(s)
    page = op.get(s.url("/console/approvals"), timeout=10).text
    assert "Shop" in page and code in page and "Hello ${name}" in page, page
    r = op.post(s.url("/console/approvals/review"), timeout=10, data={
        "csrf": csrf, "kind": "sign", "account": "shop", "name": "Shop", "decision": "approve",
        "shown": shown(page, "Shop")})
    assert r.status_code == 200 and "AUDIT_STATE_PASS" in r.text, r.text
    # The shop swaps the text after the page was drawn: approving what the page showed changes nothing.
    swap = shop.modify_sms_template(m17.ModifySmsTemplateRequest(
        template_code=code, template_name="greeting", template_content="Pay at evil.example ${name}",
        template_type=1, remark="x")).body
    assert swap.code == "OK", swap.to_map()
    r = op.post(s.url("/console/approvals/review"), timeout=10, data={
        "csrf": csrf, "kind": "template", "account": "shop", "name": code, "decision": "approve",
        "shown": shown(page, code)})
    assert f"{code} of shop changed since the page was shown" in r.text, r.text
    assert template_status(shop, code).template_status == 0
    page = r.text
    assert "evil.example" in page, page
    r = op.post(s.url("/console/approvals/review"), timeout=10, data={
        "csrf": csrf, "kind": "template", "account": "shop", "name": code, "decision": "reject",
        "reason": "<b>No links</b>", "shown": shown(page, code)})
    assert "AUDIT_STATE_NOT_PASS" in r.text and code not in r.text.split("</h2>", 2)[-1], r.text
    q = template_status(shop, code)
    assert (q.template_status, q.reason) == (2, "<b>No links</b>"), q.to_map()
    assert sign_status(shop, "Shop").sign_status == 1
    assert send_sms(shop, MAINLAND, sign="Shop", code=code).code == "isv.SMS_TEMPLATE_ILLEGAL"
    r = op.post(s.url("/console/approvals/review"), timeout=10,
                data={"csrf": csrf, "kind": "template", "account": "other", "name": code, "decision": "approve"})
    assert f"No {code} in account other." in r.text
