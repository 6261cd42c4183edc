"""The web console: sign-in, CSRF, account isolation over HTTP, campaigns across a crash, and a real browser
(Debian's chromium driven by Selenium) doing what a user does. The browser's screenshots go to docs/screenshots/."""
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import FAST_SANDBOX, PETREL, REPO, wait_for

SHOTS = Path(os.environ.get("PETREL_SCREENSHOTS", REPO / "docs" / "screenshots"))


def sign_in(server, ak=None, sk=None):
    """A requests session signed in through the login form; returns (session, csrf token of its pages)."""
    s = requests.Session()
    page = s.get(server.url("/console/login"), timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = s.post(server.url("/console/login"), data={"csrf": token, "key_id": ak or server.ak, "key_secret": sk or server.sk},
               allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    home = s.get(server.url("/console"), timeout=10)
    assert home.status_code == 200
    return s, re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)


def new_key(server, account):
    import json
    r = server.cli("keys", "create", "--name", f"k-{account}", "--account", account, "--create-account")
    key = json.loads(r.stdout.strip().splitlines()[-1])
    return key["AccessKeyId"], key["AccessKeySecret"]


def campaign_messages(server, task_id):
    db = sqlite3.connect(f"file:{server.data_dir}/petrel.sqlite?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*), COUNT(DISTINCT recipient) FROM messages WHERE task_id = ?", (task_id,)).fetchone()
    finally:
        db.close()


PAGES = ["/console", "/console/messages", "/console/inbox", "/console/campaigns", "/console/channels", "/console/receipts", "/console/limits",
         "/console/keys", "/console/messages/1", "/console/campaigns/1", "/console/inbound", "/console/optout"]


def test_nothing_under_console_works_unsigned(server):
    for path in PAGES:
        r = requests.get(server.url(path), allow_redirects=False, timeout=10)
        assert r.status_code == 303 and r.headers["Location"] == "/console/login", path
    for path in ["/console/fragment/overview", "/console/fragment/inbox", "/console/api/campaigns/1"]:
        assert requests.get(server.url(path), timeout=10).status_code == 401, path
    for path in ["/console/inbox/send", "/console/campaigns", "/console/campaigns/1/start", "/console/receipts/replay",
                 "/console/logout", "/console/api/campaigns", "/console/inbox/reply", "/console/optout/add",
                 "/console/optout/remove"]:
        assert requests.post(server.url(path), data={"to": "85291234567", "text": "x"}, timeout=10).status_code == 401, path
    # A made-up cookie is no session either.
    assert requests.get(server.url("/console"), cookies={"petrel_console": "forged"}, allow_redirects=False,
                        timeout=10).status_code == 303


def test_sign_in_needs_an_enabled_key_and_its_secret_and_sign_out_ends_the_session(server):
    s = requests.Session()
    page = s.get(server.url("/console/login"), timeout=10)
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    bad = s.post(server.url("/console/login"), data={"csrf": token, "key_id": server.ak, "key_secret": "wrong"},
                 allow_redirects=False, timeout=10)
    assert bad.status_code == 401 and "wrong secret" in bad.text and server.sk not in bad.text
    # The login form's own token must match its cookie.
    forged = requests.post(server.url("/console/login"), data={"csrf": "x", "key_id": server.ak, "key_secret": server.sk},
                           allow_redirects=False, timeout=10)
    assert forged.status_code == 401 and "expired" in forged.text

    ak, sk = new_key(server, "acme")
    session, csrf = sign_in(server, ak, sk)
    server.cli("keys", "disable", ak)            # a disabled key's sessions end at once
    assert session.get(server.url("/console"), allow_redirects=False, timeout=10).status_code == 303
    server.cli("keys", "enable", ak, check=False)

    session, csrf = sign_in(server)
    r = session.post(server.url("/console/logout"), data={"csrf": csrf}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and "Max-Age=0" in r.headers["Set-Cookie"]
    assert session.get(server.url("/console"), allow_redirects=False, timeout=10).status_code == 303
    assert all(server.sk not in line and sk not in line for line in server.output)


def test_forms_refuse_a_missing_or_foreign_csrf_token(server):
    mine, my_csrf = sign_in(server)
    ak, sk = new_key(server, "other")
    _, their_csrf = sign_in(server, ak, sk)
    form = {"to": "+85291234567", "text": "csrf check"}
    assert mine.post(server.url("/console/inbox/send"), data=form, timeout=10).status_code == 403
    assert mine.post(server.url("/console/inbox/send"), data={**form, "csrf": their_csrf}, timeout=10).status_code == 403
    assert mine.post(server.url("/console/campaigns"), files={"csv": ("a.csv", "85291234567\n")},
                     data={"text": "x", "csrf": their_csrf}, timeout=10).status_code == 403
    assert requests.get(server.url("/sandbox/messages"), auth=(server.ak, server.sk), timeout=10).json()["Messages"] == []
    ok = mine.post(server.url("/console/inbox/send"), data={**form, "csrf": my_csrf}, allow_redirects=False, timeout=10)
    assert ok.status_code == 303 and ok.headers["Location"] == "/console/inbox?to=85291234567"
    wait_for(lambda: len(requests.get(server.url("/sandbox/messages"), auth=(server.ak, server.sk), timeout=10).json()["Messages"]) == 1)


def test_an_account_sees_and_changes_only_its_own_messages_and_campaigns(server):
    mine, my_csrf = sign_in(server)
    mine.post(server.url("/console/inbox/send"), data={"to": "+85291234567", "text": "for default only", "csrf": my_csrf},
              timeout=10)
    found = mine.get(server.url("/console/messages?to=%2B85291234567"), timeout=10).text
    message_id = re.search(r'href="/console/messages/(\d+)"', found).group(1)
    c = mine.post(server.url("/console/campaigns"), files={"csv": ("a.csv", "number\n85291234568\n")},
                  data={"text": "private campaign", "csrf": my_csrf}, allow_redirects=False, timeout=10)
    campaign = c.headers["Location"].rsplit("/", 1)[1]

    ak, sk = new_key(server, "other")
    theirs, their_csrf = sign_in(server, ak, sk)
    assert theirs.get(server.url(f"/console/messages/{message_id}"), timeout=10).status_code == 404
    assert mine.get(server.url(f"/console/messages/{message_id}"), timeout=10).status_code == 200
    assert "for default only" not in theirs.get(server.url("/console/inbox"), timeout=10).text
    assert "for default only" not in theirs.get(server.url("/console/messages"), timeout=10).text
    assert theirs.get(server.url(f"/console/campaigns/{campaign}"), timeout=10).status_code == 404
    assert theirs.get(server.url(f"/console/campaigns/{campaign}/invalid.csv"), timeout=10).status_code == 404
    r = theirs.post(server.url(f"/console/campaigns/{campaign}/start"), data={"csrf": their_csrf}, timeout=10)
    assert r.status_code == 404
    # The scripts' JSON API answers the same.
    assert theirs.get(server.url(f"/console/api/campaigns/{campaign}"), timeout=10).status_code == 404
    r = theirs.post(server.url(f"/console/api/campaigns/{campaign}/cancel"), headers={"X-CSRF-Token": their_csrf}, timeout=10)
    assert r.status_code == 404 and r.json()["Code"] == "NotFound"
    assert "private campaign" not in theirs.get(server.url("/console/campaigns"), timeout=10).text
    page = mine.get(server.url(f"/console/campaigns/{campaign}"), timeout=10).text
    assert "draft" in page                                   # the other account could not start it

    # Templates and receipts: listed and replayed per account only.
    server.cli("templates", "add", "SECRET_TPL", "--text", "default's template ${code}")
    assert "SECRET_TPL" in mine.get(server.url("/console/keys"), timeout=10).text
    keys = theirs.get(server.url("/console/keys"), timeout=10).text
    assert "SECRET_TPL" not in keys and server.ak not in keys and ak in keys
    server.cli("accounts", "set-receipt-url", "default", "http://127.0.0.1:9/receipts")
    wait_for(lambda: "delivered" in mine.get(server.url(f"/console/messages/{message_id}"), timeout=10).text)
    r = theirs.post(server.url("/console/receipts/replay"), data={"message_id": message_id, "csrf": their_csrf}, timeout=10)
    assert "Nothing to replay" in r.text
    r = theirs.post(server.url("/console/receipts/replay"),
                    data={"message_id": message_id, "confirm": "yes", "csrf": their_csrf}, timeout=10)
    assert "0 receipt(s) queued" in r.text
    r = mine.post(server.url("/console/receipts/replay"), data={"message_id": message_id, "csrf": my_csrf}, timeout=10)
    assert "Replay 1 receipt(s)?" in r.text and "queued" not in r.text
    r = mine.post(server.url("/console/receipts/replay"),
                  data={"message_id": message_id, "confirm": "yes", "csrf": my_csrf}, timeout=10)
    assert "1 receipt(s) queued" in r.text


def test_a_campaign_killed_mid_run_resumes_where_it_was_without_duplicates(make_server, tmp_path):
    config = {**FAST_SANDBOX, "console": {"campaignChunk": 20}}
    server = make_server(config=config)
    rows = 4000
    csv = tmp_path / "audience.csv"
    csv.write_text("number,name\n" + "".join(f"+85291{i:06d},n{i}\n" for i in range(rows)) + "12345,bad\n")
    r = subprocess.run([PETREL, "campaign", "send", "--server", server.url(""), "--csv", str(csv), "--text", "Hi ${name}",
                        "--type", "MKT", "--no-wait"], capture_output=True, text=True, env=server.env(), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{rows} valid rows of {rows + 1}, 1 invalid" in r.stdout and "line 4002: 12345" in r.stdout
    campaign = re.search(r"campaign (\d+):", r.stdout).group(1)
    session, _ = sign_in(server)

    def progress():
        return session.get(server.url(f"/console/api/campaigns/{campaign}"), timeout=10).json()

    wait_for(lambda: int(progress()["Cursor"]) >= 200, timeout=60, interval=0.01)
    server.kill9()
    count, distinct = campaign_messages(server, f"campaign-{campaign}")
    assert 0 < count < rows and count == distinct
    server.start()
    session, _ = sign_in(server)
    final = wait_for(lambda: (p := progress())["Status"] == "done" and p, timeout=120)
    assert final["Cursor"] == str(rows) and final["Accepted"] == str(rows) and final["Refused"] == "0"
    assert campaign_messages(server, f"campaign-{campaign}") == (rows, rows)


@pytest.fixture
def browser():
    from selenium import webdriver
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"]:
        options.add_argument(arg)
    service = webdriver.ChromeService(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def test_in_a_browser_sign_in_send_watch_the_inbox_and_run_a_csv_campaign(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    SHOTS.mkdir(parents=True, exist_ok=True)
    # Live fragments are replaced while a wait reads them: a stale element means "look again".
    wait = WebDriverWait(browser, 20, ignored_exceptions=[StaleElementReferenceException])
    b = browser
    b.get(server.url("/console"))
    assert b.current_url.endswith("/console/login")
    b.find_element(By.ID, "key_id").send_keys(server.ak)
    b.find_element(By.ID, "key_secret").send_keys(server.sk)
    b.save_screenshot(str(SHOTS / "sign-in.png"))
    b.find_element(By.ID, "sign-in").click()
    wait.until(EC.title_contains("Overview"))

    # Send from the sandbox and watch it arrive on the phone screen.
    b.get(server.url("/console/inbox"))
    b.find_element(By.ID, "send-to").send_keys("+85291234567")
    b.find_element(By.ID, "send-from").send_keys("Petrel")
    b.find_element(By.ID, "send-text").send_keys("Your Petrel code is 482913. It expires in 5 minutes.")
    b.find_element(By.ID, "send").click()
    wait.until(lambda d: "482913" in d.find_element(By.CSS_SELECTOR, ".phone").text)
    # The sandbox reports the outcome a moment later; the page refreshes itself (no reload here).
    wait.until(lambda d: "delivered" in d.find_element(By.CSS_SELECTOR, ".phone").text)
    b.find_element(By.ID, "send-text").send_keys("Ihr Paket ist unterwegs: Zustellung morgen zwischen 9 und 12 Uhr. Grüße!")
    b.find_element(By.ID, "send").click()
    wait.until(lambda d: "Paket" in d.find_element(By.CSS_SELECTOR, ".phone").text)
    b.save_screenshot(str(SHOTS / "inbox.png"))

    # A CSV campaign with a bad row: the preview lists it, the rest is sent to completion.
    csv = tmp_path / "spring.csv"
    csv.write_text("number,name,code\n+85291230001,Ann,A1\n+85291230002,Bob,B2\n12345,Nobody,C3\n"
                   "+6591230004,\"Lee, Dee\",D4\n+8613812345678,Wang,E5\n")
    b.get(server.url("/console/campaigns"))
    b.find_element(By.ID, "campaign-name").send_keys("Spring sale")
    b.find_element(By.ID, "campaign-csv").send_keys(str(csv))
    # The live counter counts as the gateway will: GSM 03.38 septets (€ is two), parts of 153, else UCS-2.
    from selenium.webdriver.common.keys import Keys
    text = b.find_element(By.ID, "campaign-text")

    def counted():
        return b.find_element(By.ID, "campaign-count").text

    text.send_keys("€" * 80)
    wait.until(lambda d: counted() == "160 characters · GSM-7 · 1 part")
    text.send_keys("a")
    wait.until(lambda d: counted() == "161 characters · GSM-7 · 2 parts")
    text.send_keys(Keys.CONTROL, "a")
    text.send_keys(Keys.DELETE)
    text.send_keys("你好 😀")
    wait.until(lambda d: counted() == "5 characters · UCS-2 · 1 part")
    text.send_keys(Keys.CONTROL, "a")
    text.send_keys(Keys.DELETE)
    text.send_keys("Hi ${name}, 20% off with code ${code} this week.")
    b.find_element(By.ID, "campaign-preview").click()
    wait.until(EC.presence_of_element_located((By.ID, "invalid-rows")))
    invalid = b.find_element(By.ID, "invalid-rows").text
    assert "line 4: 12345" in invalid and "line 6: +8613812345678" in invalid
    figures = b.find_element(By.ID, "campaign-figures").text
    assert "Valid rows 3" in figures and "Invalid rows 2" in figures and "Parts (segments) to send 3" in figures
    assert "Parts per message 1 part: 3" in figures
    assert b.find_element(By.ID, "campaign-status").text == "draft"
    # The first rows as they will be sent, filled in, with their encoding and parts.
    rendered = b.find_element(By.ID, "rendered-rows").text
    assert "Hi Ann, 20% off with code A1 this week." in rendered and "Hi Lee, Dee, 20% off with code D4" in rendered
    assert "GSM-7" in rendered and "12345" not in rendered
    b.save_screenshot(str(SHOTS / "campaign-preview.png"))
    b.find_element(By.ID, "campaign-start").click()
    wait.until(lambda d: d.find_element(By.ID, "campaign-status").text == "done")
    assert "Accepted 3" in b.find_element(By.ID, "campaign-figures").text
    report = requests.get(server.url(b.find_element(By.ID, "invalid-download").get_attribute("href").split(str(server.port), 1)[1]),
                          cookies={c["name"]: c["value"] for c in b.get_cookies()}, timeout=10).text
    # The invalid rows as a CSV to fix and upload again: the header, the values as uploaded, and why.
    import csv as csvlib
    rows = list(csvlib.reader(report.splitlines()))
    assert rows[0] == ["number", "name", "code", "error"]
    assert rows[1][:3] == ["12345", "Nobody", "C3"] and rows[1][3].startswith("line 4: 12345: ")
    # A value a spreadsheet would run as a formula (+, -, =, @ first) carries an apostrophe, read back on upload.
    assert rows[2][:3] == ["'+8613812345678", "Wang", "E5"] and rows[2][3].startswith("line 6: +8613812345678: ")

    b.get(server.url("/console/inbox?to=6591230004"))
    wait.until(lambda d: "Hi Lee, Dee, 20% off with code D4" in d.find_element(By.CSS_SELECTOR, ".phone").text)

    # Overview, messages and a message's page.
    b.get(server.url("/console"))
    wait.until(lambda d: "delivered" in d.find_element(By.ID, "overview").text)
    b.save_screenshot(str(SHOTS / "overview.png"))
    b.get(server.url("/console/messages?task_id=campaign-1"))
    rows = b.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 3
    b.save_screenshot(str(SHOTS / "messages.png"))
    rows[0].find_element(By.TAG_NAME, "a").click()
    wait.until(EC.title_contains("Message "))
    assert "Timeline" in b.page_source and "Parts as sent" in b.page_source
    b.save_screenshot(str(SHOTS / "message.png"))

    # Receipts, channels, keys: the account's own, no secrets.
    b.get(server.url("/console/receipts"))
    assert b.find_element(By.ID, "outbox-pending").text == "0" and b.find_element(By.ID, "outbox-parked").text == "0"
    b.get(server.url("/console/keys"))
    assert server.ak in b.page_source and server.sk not in b.page_source
    b.get(server.url("/console/channels"))
    assert "sandbox" in b.find_element(By.TAG_NAME, "table").text

    # The inbox on a phone-sized screen.
    b.set_window_size(390, 844)
    b.get(server.url("/console/inbox?to=85291234567"))
    wait.until(lambda d: "482913" in d.find_element(By.CSS_SELECTOR, ".phone").text)
    b.save_screenshot(str(SHOTS / "inbox-phone.png"))


def test_keys_and_templates_managed_in_the_console_work_with_the_sdk(server, tmp_path):
    import html
    import json
    from alibabacloud_dysmsapi20180501 import models as m
    from Tea.exceptions import TeaException

    s, csrf = sign_in(server)
    r = s.post(server.url("/console/keys/create"), data={"name": "from-console", "csrf": csrf}, timeout=10)
    key = json.loads(html.unescape(re.search(r'<pre id="new-key">(.*?)</pre>', r.text).group(1)))
    assert "from-console" in s.get(server.url("/console/keys"), timeout=10).text
    assert key["AccessKeySecret"] not in s.get(server.url("/console/keys"), timeout=10).text     # shown once
    client = server.client(key["AccessKeyId"], key["AccessKeySecret"])
    assert client.send_message_to_globe(m.SendMessageToGlobeRequest(to="85291234567", message="hi")).body.response_code == "OK"

    s.post(server.url("/console/templates/add"), data={"code": "OTP_1", "text": "Your code is ${code}", "csrf": csrf}, timeout=10)
    sent = client.send_message_with_template(m.SendMessageWithTemplateRequest(
        to="85291234567", from_="Petrel", template_code="OTP_1", template_param='{"code":"4321"}')).body
    assert sent.response_code == "OK"
    bad = s.post(server.url("/console/templates/add"), data={"code": "no spaces", "text": "x", "csrf": csrf}, timeout=10)
    assert "TemplateCode is 1 to 64" in bad.text

    # The key signed in cannot switch itself off; another key can be.
    r = s.post(server.url(f"/console/keys/{server.ak}/disable"), data={"csrf": csrf}, timeout=10)
    assert "signed in with this key" in r.text
    s.post(server.url(f"/console/keys/{key['AccessKeyId']}/disable"), data={"csrf": csrf}, timeout=10)
    with pytest.raises(TeaException) as e:
        client.send_message_to_globe(m.SendMessageToGlobeRequest(to="85291234567", message="hi"))
    assert e.value.code == "InvalidAccessKeyId.Inactive"
    s.post(server.url(f"/console/templates/OTP_1/delete"), data={"csrf": csrf}, timeout=10)
    assert "OTP_1" not in s.get(server.url("/console/keys"), timeout=10).text

    # A restricted key (allowed to manage keys) only makes keys as restricted as itself.
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["dysms:*", "petrel:ManageKeys"], "Resource": "*"},
        {"Effect": "Deny", "Action": ["dysms:BatchSend*"], "Resource": "*"}]}))
    limited = json.loads(server.cli("keys", "create", "--name", "limited", "--policy", str(policy)).stdout)
    ls, lcsrf = sign_in(server, limited["AccessKeyId"], limited["AccessKeySecret"])
    r = ls.post(server.url("/console/keys/create"), data={"name": "child", "csrf": lcsrf}, timeout=10)
    child = json.loads(html.unescape(re.search(r'<pre id="new-key">(.*?)</pre>', r.text).group(1)))
    with pytest.raises(TeaException) as e:
        server.client(child["AccessKeyId"], child["AccessKeySecret"]).batch_send_message_to_globe(
            m.BatchSendMessageToGlobeRequest(to='["85291234567"]', message='["x"]'))
    assert e.value.code == "Forbidden.RAM"


def test_a_campaign_scheduled_for_later_says_so_until_then(make_server):
    server = make_server(dict(FAST_SANDBOX))
    session, csrf = sign_in(server)
    r = session.post(server.url("/console/campaigns"), files={"csv": ("a.csv", "number\n85291230001\n")},
                     data={"text": "Later", "type": "NOTIFY", "start": "2099-01-01T08:00", "csrf": csrf},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    where = r.headers["Location"]
    assert 'id="campaign-status">draft<' in session.get(server.url(where), timeout=10).text
    started = session.post(server.url(where + "/start"), data={"csrf": csrf}, allow_redirects=False, timeout=10)
    assert started.status_code == 303, started.text
    page = session.get(server.url(where), timeout=10).text
    assert re.search(r'id="campaign-status">scheduled for 2099-01-01 08:00', page), page
    listed = session.get(server.url("/console/campaigns"), timeout=10).text
    assert "scheduled for 2099-01-01 08:00" in listed and ">running<" not in listed


def test_the_invalid_rows_csv_can_be_fixed_and_uploaded_again(make_server):
    server = make_server(dict(FAST_SANDBOX))
    session, csrf = sign_in(server)

    def upload(text):
        r = session.post(server.url("/console/campaigns"), files={"csv": ("a.csv", text)},
                         data={"text": "Hi ${name}", "type": "NOTIFY", "csrf": csrf}, allow_redirects=False, timeout=10)
        assert r.status_code == 303, r.text
        page = session.get(server.url(r.headers["Location"]), timeout=10).text
        return r.headers["Location"], dict(re.findall(r'data-field="([^"]+)">([^<]*)<', page))

    where, figures = upload('number,name\n85291230001,Ann\n123,"Bo, the second"\n85291230001,Cy\n')
    assert figures["Valid rows"] == "1" and figures["Invalid rows"] == "2"
    answer = session.get(server.url(where + "/invalid.csv"), timeout=10)
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert 'filename="campaign-1-invalid-rows.csv"' in answer.headers["Content-Disposition"]
    fixed = answer.text.replace("123,", "85291230002,").replace("85291230001,Cy", "85291230003,Cy")
    _, again = upload(fixed)
    assert again["Valid rows"] == "2" and again["Invalid rows"] == "0", (fixed, again)


def test_receipt_urls_set_from_the_console_a_test_receipt_and_the_push_log(make_server):
    """The Receipts page sets where pushes go (the account's webhook secret made and shown once), pushes a signed
    test receipt at once and says how the receiver answered, and lists the recent pushes (every node's), real ones
    too."""
    from receiver import Receiver
    from html import unescape

    server = make_server(dict(FAST_SANDBOX, receipts={"maxWaitMs": 50}))
    session, csrf = sign_in(server)
    receiver = Receiver().start()
    try:
        page = session.post(server.url("/console/receipts/test"), data={"csrf": csrf}, timeout=10).text
        assert "has no receipt URL yet" in page
        bad = session.post(server.url("/console/receipts/urls"), data={"csrf": csrf, "receipt_url": "ftp://x"},
                           timeout=10).text
        assert "must look like http[s]://host[:port]/path" in bad
        saved = unescape(session.post(server.url("/console/receipts/urls"),
                                      data={"csrf": csrf, "receipt_url": receiver.url, "mo_url": ""}, timeout=10).text)
        secret = re.search(r"webhook secret, shown only now: ([^<\s]+)", saved).group(1)
        assert f'value="{receiver.url}"' in saved
        receiver.secret = secret
        tested = unescape(session.post(server.url("/console/receipts/test"), data={"csrf": csrf}, timeout=10).text)
        assert f"was taken by {receiver.url}" in tested, tested
        headers, reports, accepted, body = receiver.posts[0]
        assert reports[0]["TaskId"] == "petrel-test-receipt" and reports[0]["Status"] == "1" and accepted
        receiver.check_signatures()
        # A receiver that refuses: said in words, and logged.
        receiver.script = ["500"]
        refused = unescape(session.post(server.url("/console/receipts/test"), data={"csrf": csrf}, timeout=10).text)
        assert "The test receipt was not taken: the receiver answered HTTP 500: busy" in refused
        # A real message's receipt is pushed within seconds and listed beside the tests.
        assert server.client().send_message_to_globe(
            __import__("alibabacloud_dysmsapi20180501.models", fromlist=["m"]).SendMessageToGlobeRequest(
                to="85291234567", message="hi")).body.response_code == "OK"
        wait_for(lambda: any(r.get("TaskId") != "petrel-test-receipt" for r in receiver.reports()), timeout=15)
        # The pusher notes the push once the receiver's answer is back, a moment after the receiver has the report.
        log = wait_for(lambda: ">receipt<" in (page := session.get(server.url("/console/receipts"), timeout=10).text)
                       and page, timeout=10)
        assert log.count("test receipt") >= 2 and "not taken: the receiver answered HTTP 500" in log
    finally:
        receiver.stop()
