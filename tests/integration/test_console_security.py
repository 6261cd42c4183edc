"""Issue 20 (F6, F7, F8, F13, F14, F16): the sandbox routes and the console against hostile callers."""
import json
import re
import time

import requests
from alibabacloud_dysmsapi20180501 import models as m

from conftest import FAST_SANDBOX, HK, SG, wait_for
from test_console import sign_in


def key_with(server, tmp_path, account, actions, name="limited"):
    """A key of `account` whose policy allows exactly `actions` (None: no policy, full rights)."""
    args = ["keys", "create", "--name", name, "--account", account, "--create-account"]
    if actions is not None:
        path = tmp_path / f"{name}-{account}.json"
        path.write_text(json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        args += ["--policy", str(path)]
    key = json.loads(server.cli(*args).stdout.strip().splitlines()[-1])
    return key["AccessKeyId"], key["AccessKeySecret"]


def inbox(server, auth=None, **params):
    return requests.get(server.url("/sandbox/messages"), params=params, auth=auth, timeout=10)


def test_sandbox_messages_need_a_key_and_show_only_its_account(server, tmp_path):
    other = key_with(server, tmp_path, "other", None, name="other")
    server.client().send_message_to_globe(m.SendMessageToGlobeRequest(to=HK, message="code 123456"))
    server.client(*other).send_message_to_globe(m.SendMessageToGlobeRequest(to=SG, message="code 654321"))
    mine = (server.ak, server.sk)
    wait_for(lambda: len(inbox(server, mine).json()["Messages"]) == 1 and len(inbox(server, other).json()["Messages"]) == 1)

    anonymous = inbox(server)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Basic")
    assert "123456" not in anonymous.text and "AccessKeyId:AccessKeySecret" in anonymous.json()["Message"]
    assert inbox(server, (server.ak, "wrong")).status_code == 401
    assert requests.delete(server.url("/sandbox/messages"), timeout=10).status_code == 401
    assert [x["Message"] for x in inbox(server, mine).json()["Messages"]] == ["code 123456"]
    assert [x["Message"] for x in inbox(server, other).json()["Messages"]] == ["code 654321"]
    assert inbox(server, other, to=HK).json()["Messages"] == []

    # A console session cookie works too, for the session's account.
    session, _ = sign_in(server, *other)
    cookie = session.cookies.get("petrel_console")
    r = requests.get(server.url("/sandbox/messages"), cookies={"petrel_console": cookie}, timeout=10)
    assert [x["Account"] for x in r.json()["Messages"]] == ["other"]

    # A key whose policy does not allow QueryMessage reads nothing.
    sender = key_with(server, tmp_path, "default", ["dysms:SendMessageToGlobe"], name="sender")
    refused = inbox(server, sender)
    assert refused.status_code == 403 and "dysms:QueryMessage" in refused.json()["Message"]

    # DELETE empties the caller's account only.
    assert requests.delete(server.url("/sandbox/messages"), auth=other, timeout=10).json()["Deleted"] == 1
    assert len(inbox(server, mine).json()["Messages"]) == 1


def test_sandbox_retrospection_open_and_false(make_server):
    opened = make_server({**FAST_SANDBOX, "sandbox": {"retrospection": "open"}})
    assert inbox(opened).status_code == 200 and inbox(opened).json()["Messages"] == []
    closed = make_server({**FAST_SANDBOX, "sandbox": {"retrospection": False}})
    assert inbox(closed, (closed.ak, closed.sk)).status_code == 404


def test_console_pages_follow_the_key_policy(server, tmp_path):
    ak, sk = key_with(server, tmp_path, "default", ["dysms:SendMessageToGlobe"], name="globe")
    s, csrf = sign_in(server, ak, sk)
    home = s.get(server.url("/console"), timeout=10).text
    for hidden in ["/console/messages", "/console/inbox", "/console/campaigns", "/console/channels", "/console/receipts",
                   "/console/keys", "/console/limits"]:
        assert f'href="{hidden}"' not in home, hidden
        r = s.get(server.url(hidden), timeout=10)
        assert r.status_code == 403 and "does not allow" in r.text, hidden
    assert s.get(server.url("/console/fragment/inbox"), timeout=10).status_code == 403
    assert s.get(server.url("/console/api/campaigns/1"), timeout=10).json()["Code"] == "Forbidden.RAM"
    for path, form in [("/console/templates/add", {"code": "OTP", "text": "evil ${code}"}),
                       ("/console/templates/OTP/delete", {}), ("/console/keys/create", {"name": "mine"}),
                       (f"/console/keys/{server.ak}/disable", {}), (f"/console/keys/{server.ak}/delete", {}),
                       ("/console/receipts/retry", {}), ("/console/campaigns", {"text": "x", "csv_text": HK})]:
        assert s.post(server.url(path), data={**form, "csrf": csrf}, allow_redirects=False, timeout=10).status_code == 403, path
    # What the policy allows still works.
    ok = s.post(server.url("/console/inbox/send"), data={"to": HK, "text": "allowed", "csrf": csrf}, allow_redirects=False,
                timeout=10)
    assert ok.status_code == 303
    assert sign_in(server)[0] is not None                     # the full-rights key is untouched


def test_a_key_never_disables_or_deletes_a_stronger_key(server, tmp_path):
    admin = key_with(server, tmp_path, "default", ["petrel:ManageKeys"], name="keyadmin")
    peer = key_with(server, tmp_path, "default", ["petrel:ManageKeys"], name="peer")
    s, csrf = sign_in(server, *admin)
    page = s.get(server.url("/console/keys"), timeout=10).text
    assert "has rights this key lacks" in page and "TemplateCode" not in page    # no template section either
    for action in ["disable", "delete"]:
        r = s.post(server.url(f"/console/keys/{server.ak}/{action}"), data={"csrf": csrf}, allow_redirects=False, timeout=10)
        assert r.status_code == 403 and "rights the key you signed in with lacks" in r.text
    sign_in(server)                                          # the full-rights key still signs in: not disabled
    # A key with the same rights may be disabled.
    r = s.post(server.url(f"/console/keys/{peer[0]}/disable"), data={"csrf": csrf}, allow_redirects=False, timeout=10)
    assert r.status_code == 303


SMPP = {**FAST_SANDBOX, "channels": [{"id": "carrier-a", "type": "smpp", "host": "127.0.0.1", "port": 1,
                                      "systemId": "secretsys"}]}


def test_carrier_details_and_the_whole_queue_for_operators_only(make_server, tmp_path):
    server = make_server(SMPP)
    viewer = key_with(server, tmp_path, "default", ["dysms:*", "petrel:ViewChannels"], name="viewer")
    s, _ = sign_in(server, *viewer)
    for path in ["/console/channels", "/console/fragment/channels", "/console"]:
        text = s.get(server.url(path), timeout=10).text
        assert "carrier-a" in text and "secretsys" not in text and "127.0.0.1:1" not in text, path
    assert "queue depth (all accounts)" not in s.get(server.url("/console"), timeout=10).text
    full, _ = sign_in(server)
    assert "127.0.0.1:1 as secretsys" in full.get(server.url("/console/channels"), timeout=10).text
    assert "queue depth (all accounts)" in full.get(server.url("/console"), timeout=10).text


def test_cross_site_requests_are_refused(server):
    form = {"key_id": server.ak, "key_secret": server.sk}
    for headers in [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "null"}]:
        r = requests.post(server.url("/console/api/session"), data=form, headers=headers, timeout=10)
        assert r.status_code == 403 and "another site" in r.text and "Set-Cookie" not in r.headers, headers
    s = requests.Session()
    page = s.get(server.url("/console/login"), timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = s.post(server.url("/console/login"), data={**form, "csrf": token}, headers={"Sec-Fetch-Site": "cross-site"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 403
    # The console's own pages (same origin) and scripts (no browser headers) still work.
    assert requests.post(server.url("/console/api/session"), data=form, timeout=10).status_code == 200
    same = requests.post(server.url("/console/api/session"), data=form, headers={"Origin": server.url("").rstrip("/"),
                                                                                  "Sec-Fetch-Site": "same-origin"}, timeout=10)
    assert same.status_code == 200
    signed, csrf = sign_in(server)
    r = signed.post(server.url("/console/inbox/send"), data={"to": HK, "text": "x", "csrf": csrf},
                    headers={"Origin": "http://evil.example"}, allow_redirects=False, timeout=10)
    assert r.status_code == 403


def test_failed_sign_ins_are_throttled_and_a_success_resets(server):
    def attempt(secret, **kw):
        return requests.post(server.url("/console/api/session"), data={"key_id": server.ak, "key_secret": secret}, timeout=10,
                             **kw)
    for _ in range(5):
        assert attempt("wrong").status_code == 401
    started = time.time()
    refused = attempt(server.sk)                        # even the right secret waits
    assert refused.status_code == 429 and "try again in" in refused.json()["Message"]
    assert int(refused.headers["Retry-After"]) >= 1 and time.time() - started < 1
    # HTTP Basic on /sandbox/messages counts against the same key.
    assert inbox(server, (server.ak, server.sk)).status_code == 429
    time.sleep(int(refused.headers["Retry-After"]) + 0.2)
    assert attempt(server.sk).status_code == 200
    assert attempt("wrong").status_code == 401 and attempt(server.sk).status_code == 200     # reset by the success


def test_secure_cookies_over_tls_or_when_configured(make_server):
    plain = make_server()
    form = {"key_id": plain.ak, "key_secret": plain.sk}
    assert "Secure" not in requests.post(plain.url("/console/api/session"), data=form, timeout=10).headers["Set-Cookie"]
    proxied = requests.post(plain.url("/console/api/session"), data=form, headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert "; Secure" in proxied.headers["Set-Cookie"]
    configured = make_server({**FAST_SANDBOX, "console": {"secureCookies": True}})
    r = requests.post(configured.url("/console/api/session"), data={"key_id": configured.ak, "key_secret": configured.sk},
                      timeout=10)
    assert "; Secure" in r.headers["Set-Cookie"]
    assert "; Secure" in requests.get(configured.url("/console/login"), timeout=10).headers["Set-Cookie"]


def test_sign_in_bodies_are_small_and_multipart_is_bounded(server):
    big = requests.post(server.url("/console/login"), data={"key_id": "x" * 96 * 1024}, timeout=10)
    assert big.status_code == 413 and "at most 4096 bytes" in big.text
    big = requests.post(server.url("/console/api/session"), data={"key_id": "x" * 96 * 1024}, timeout=10)
    assert big.status_code == 413 and "at most 4096 bytes" in big.json()["Message"]
    s, csrf = sign_in(server)

    def multipart(boundary, parts):
        body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nv\r\n' for i in range(parts))
        body = f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n' + body + f"--{boundary}--\r\n"
        return s.post(server.url("/console/inbox/send"), data=body.encode(), allow_redirects=False, timeout=10,
                      headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    fine = multipart("b" * 70, 2)                     # parsed: the form answers that To is missing
    assert fine.status_code == 200 and 'id="send-error"' in fine.text
    too_long = multipart("b" * 71, 2)
    assert too_long.status_code == 400 and "boundary of 1 to 70" in too_long.text
    assert multipart("b" * 20, 200).status_code == 400
    # A large upload without the token in its first bytes is refused before it is read.
    body = b"--xyz\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"a.csv\"\r\n\r\n" + b"1" * (256 * 1024)
    r = s.post(server.url("/console/campaigns"), data=body, headers={"Content-Type": "multipart/form-data; boundary=xyz"},
               timeout=10)
    assert r.status_code == 403 and "CSRF" in r.text
