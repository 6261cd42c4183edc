"""Issue 30: a campaign's delivered / failed / expired / waiting counts and delivery rate, on its page and in the
campaign list, as its receipts come in. A campaign through the sandbox (numbers ending …666 fail, …777 expire, …555
stay in sending for 8 s, the rest are delivered): the page equals what QueryMessage says of the campaign's messages
(between two QueryMessage rounds while they are delivered, exactly once they are final), an open page follows the
slow ones to the end without a reload, and the page has no serious accessibility violation. On SQLite and
PostgreSQL."""
import re

import pytest
import requests
from alibabacloud_dysmsapi20180501 import models as m

from conftest import wait_for
from test_console import browser, sign_in  # noqa: F401  (the Chromium fixture)
from test_console_a11y import browser_sign_in, serious
from test_shared_store import database  # noqa: F401  (a fresh PostgreSQL database)

DELIVER = [f"8529123{i:04d}" for i in range(6)]
FAIL = [f"8529124{i}666" for i in range(3)]
EXPIRE = [f"8529125{i}777" for i in range(2)]
SLOW = [f"8529126{i}555" for i in range(2)]
NUMBERS = DELIVER + FAIL + EXPIRE + SLOW
WAITING = "Waiting (queued or sent)"


def config():
    return {"sandbox": {"deliveryDelayMs": 100, "slowDelayMs": 8000}, "dispatcher": {"pollMs": 50},
            "console": {"campaignChunk": 4}}


def figures(html):
    """The campaign page's figures by name."""
    return {k: v for k, v in re.findall(r'<td data-field="([^"]+)">([^<]*)</td>', html)}


def outcome(client, mid):
    """What QueryMessage says of a message: delivered, failed, expired or waiting."""
    q = client.query_message(m.QueryMessageRequest(message_id=mid)).body
    assert q.response_code == "OK", q
    if q.status == "1":
        return "delivered"
    if q.status == "2":
        return {"UNDELIV": "failed", "EXPIRED": "expired"}[q.error_code]
    return "waiting"


def tally(client, mids):
    found = [outcome(client, mid) for mid in mids]
    return {k: found.count(k) for k in ("delivered", "failed", "expired", "waiting")}


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_campaign_outcomes_follow_receipts_and_equal_query_message(make_server, browser, store, request):
    from selenium.webdriver.common.by import By
    env = None
    if store == "postgres":
        env = {"PETREL_STORE": request.getfixturevalue("database"), "PETREL_MASTER_KEY": "ab" * 32}
    server = make_server(config(), env=env)
    client = server.client()
    s, csrf = sign_in(server)
    csv = "number,name\n" + "".join(f"+{n},n{i}\n" for i, n in enumerate(NUMBERS)) + "12345,bad\n"
    r = s.post(server.url("/console/campaigns"), files={"csv": ("a.csv", csv)},
               data={"text": "Hi ${name}", "csrf": csrf}, allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    campaign = r.headers["Location"].rsplit("/", 1)[1]
    page = server.url(f"/console/campaigns/{campaign}")
    # Nothing sent yet: nothing counted.
    before = figures(s.get(page, timeout=10).text)
    assert (before["Accepted"], before["Delivered"], before[WAITING], before["Delivery rate"]) == ("0", "0", "0", "–")
    r = s.post(server.url(f"/console/campaigns/{campaign}/start"), data={"csrf": csrf}, timeout=10)
    assert r.status_code == 200, r.text
    api = server.url(f"/console/api/campaigns/{campaign}")
    wait_for(lambda: s.get(api, timeout=10).json()["Status"] == "done", timeout=30)
    # The campaign's message ids, from what the sandbox received.
    sandbox = server.url("/sandbox/messages")

    def received():
        got = requests.get(sandbox, params={"limit": 100}, auth=(server.ak, server.sk), timeout=10).json()["Messages"]
        return {e["To"].lstrip("+"): e["MessageId"] for e in got if e["Message"].startswith("Hi n")}

    by_number = wait_for(lambda: len(ids := received()) == len(NUMBERS) and ids, timeout=30)
    assert set(by_number) == set(NUMBERS), by_number
    mids = list(by_number.values())

    # While receipts come in: the page's counts lie between two QueryMessage rounds.
    wait_for(lambda: tally(client, mids)["delivered"] >= len(DELIVER), timeout=30)
    first = tally(client, mids)
    shown = figures(s.get(page, timeout=10).text)
    second = tally(client, mids)
    assert shown["Accepted"] == str(len(NUMBERS)) and shown["Refused"] == "0"
    for k in ("delivered", "failed", "expired"):
        assert first[k] <= int(shown[k.capitalize()]) <= second[k], (first, shown, second)
    assert second["waiting"] <= int(shown[WAITING]) <= first["waiting"], (first, shown, second)

    # An open page follows the slow ones to the end without a reload (its fragment refreshes itself).
    b = browser
    browser_sign_in(server, b)
    b.get(page)

    def cell(name):
        return b.find_element(By.CSS_SELECTOR, f'td[data-field="{name}"]').text

    opened = cell(WAITING)
    still = tally(client, [by_number[n] for n in SLOW])["waiting"]
    assert still == len(SLOW) and opened == str(len(SLOW)), (opened, still)
    assert serious(b) == []

    def done():
        try:
            return cell(WAITING) == "0" and cell("Delivered") == str(len(DELIVER) + len(SLOW))
        except Exception:   # the fragment was replaced while it was read
            return False

    wait_for(done, timeout=30)
    # Final: exactly what QueryMessage says, on the page, in the list and in the console's JSON.
    final = tally(client, mids)
    assert final == {"delivered": 8, "failed": 3, "expired": 2, "waiting": 0}
    shown = figures(s.get(page, timeout=10).text)
    assert (shown["Delivered"], shown["Failed"], shown["Expired"], shown[WAITING], shown["Delivery rate"]) == (
        "8", "3", "2", "0", "61.5%")
    listing = s.get(server.url("/console/campaigns"), timeout=10).text
    header = re.findall(r"<th>([^<]*)</th>", listing.split("</thead>")[0])
    row = next(tr for tr in listing.split("<tr>") if f'href="/console/campaigns/{campaign}"' in tr)
    cells = dict(zip(header, re.findall(r"<td>(.*?)</td>", row)))
    assert (cells["Accepted"], cells["Delivered"], cells["Failed"], cells["Expired"], cells["Waiting"],
            cells["Delivery rate"]) == ("13", "8", "3", "2", "0", "61.5%")
    j = s.get(api, timeout=10).json()
    assert (j["Delivered"], j["Failed"], j["Expired"], j["Waiting"]) == ("8", "3", "2", "0")
    # A hostile id is a 404, never SQL.
    assert s.get(server.url("/console/campaigns/1%27%20OR%201=1"), timeout=10).status_code == 404
