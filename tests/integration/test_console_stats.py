"""Issue 30: the console's Statistics page. Through the sandbox, messages end delivered, failed (the sandbox's …666)
and queued (a carrier that never binds), to two countries and two Types, with a kill -9 while they are delivered; the
page and its CSV show exactly those counts, equal to QueryMessage's (right after sending too: the page folds the
counters first); filters narrow them; hostile filters are refused in sentences; a key of another
account sees only its own; the phone viewport works. The screenshot goes to docs/screenshots/statistics.png."""
import csv
import io
import socket

import pytest
from alibabacloud_dysmsapi20180501 import models as m

from conftest import FAST_SANDBOX, HK, HK_FAIL, SG, wait_for
from test_console import SHOTS, browser, sign_in  # noqa: F401  (the Chromium fixture)
from test_console_a11y import browser_sign_in, serious
from test_console_security import key_with
from test_shared_store import database  # noqa: F401  (a fresh PostgreSQL database)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config():
    """Singapore goes to a carrier that never answers (its messages stay queued); the rest to the sandbox."""
    down = {"id": "carrier-down", "type": "smpp", "host": "127.0.0.1", "port": closed_port(), "systemId": "petrel",
            "password": "secret"}
    return {**FAST_SANDBOX, "channels": [down],
            "routes": [{"match": {"prefixes": ["65"]}, "channels": ["carrier-down"]}, {"channels": ["sandbox"]}]}


def send(client, to, type_):
    r = client.send_message_to_globe(m.SendMessageToGlobeRequest(to=to, message=f"{type_} to {to}", type=type_)).body
    assert r.response_code == "OK", r
    return r.message_id


def query(client, mid):
    return client.query_message(m.QueryMessageRequest(message_id=mid)).body


def csv_rows(session, server, **params):
    r = session.get(server.url("/console/statistics"), params={**params, "format": "csv"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="petrel-statistics-by-') and disposition.endswith('.csv"')
    return list(csv.DictReader(io.StringIO(r.text)))


def card(b, name):
    from selenium.webdriver.common.by import By
    return b.find_element(By.ID, f"stat-{name}").text


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_statistics_page_and_csv_equal_query_message_and_filters_narrow(make_server, browser, tmp_path, store, request):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    env = None
    if store == "postgres":      # a fresh database on the server scripts/test.sh starts (PETREL_TEST_POSTGRES)
        env = {"PETREL_STORE": request.getfixturevalue("database"), "PETREL_MASTER_KEY": "ab" * 32}
    server = make_server(config(), env=env)
    client = server.client()
    sent = {}
    for to, type_, n in [(HK, "OTP", 3), (HK, "NOTIFY", 2), (HK_FAIL, "OTP", 2), (SG, "NOTIFY", 2)]:
        sent[(to, type_)] = [send(client, to, type_) for _ in range(n)]
    hk = [mid for (to, _), ids in sent.items() if to != SG for mid in ids]
    # Right after sending (the background fold runs every 2 s): the page folds what is left first, so it says what
    # QueryMessage says at that moment, between two QueryMessage rounds since the sandbox delivers meanwhile.
    s0, _ = sign_in(server)
    every = [mid for ids in sent.values() for mid in ids]
    before = [query(client, mid).status for mid in every]
    day = csv_rows(s0, server, by="day")
    after = [query(client, mid).status for mid in every]
    assert [r["submitted"] for r in day] == ["9"]
    final = int(day[0]["delivered"]) + int(day[0]["failed"])
    assert sum(st != "3" for st in before) <= final <= sum(st != "3" for st in after), (before, day, after)
    assert int(day[0]["delivered"]) <= after.count("1") and int(day[0]["failed"]) <= after.count("2")
    # Killed while the sandbox delivers: the counters and the fold's cursor move in one transaction, and the
    # messages carry where they stand in the commit order, so the counters stay exact across the crash.
    server.kill9()
    server.start()
    client = server.client()
    wait_for(lambda: all(query(client, mid).status in ("1", "2") for mid in hk), timeout=30)
    # What QueryMessage says: 1 delivered, 2 failed, 3 waiting.
    statuses = {mid: query(client, mid).status for ids in sent.values() for mid in ids}
    assert sorted(statuses.values()) == ["1"] * 5 + ["2"] * 2 + ["3"] * 2
    assert {query(client, mid).error_code for mid in sent[(HK_FAIL, "OTP")]} == {"UNDELIV"}

    # The CSV: by country, by Type, by channel, as QueryMessage counts them.
    s, _ = sign_in(server)
    by_country = {r["calling_code"]: r for r in csv_rows(s, server, by="country")}
    assert set(by_country) == {"852", "65"}
    assert (by_country["852"]["submitted"], by_country["852"]["delivered"], by_country["852"]["failed"],
            by_country["852"]["waiting"]) == ("7", "5", "2", "0")
    assert by_country["852"]["country"] == "Hong Kong"
    assert (by_country["65"]["submitted"], by_country["65"]["delivered"], by_country["65"]["waiting"]) == ("2", "0", "2")
    by_type = {r["type"]: r for r in csv_rows(s, server, by="type")}
    assert {t: (r["submitted"], r["delivered"], r["failed"], r["waiting"]) for t, r in by_type.items()} == {
        "OTP": ("5", "3", "2", "0"), "NOTIFY": ("4", "2", "0", "2")}
    assert by_type["OTP"]["delivery_rate"] == "0.6000"
    by_channel = {r["channel"]: r for r in csv_rows(s, server, by="channel")}
    assert (by_channel["sandbox"]["submitted"], by_channel["sandbox"]["delivered"]) == ("7", "5")
    assert (by_channel["(not sent)"]["submitted"], by_channel["(not sent)"]["waiting"]) == ("2", "2")
    days = csv_rows(s, server, by="day")
    assert [r["submitted"] for r in days] == ["9"]
    hours = csv_rows(s, server, by="hour")
    assert sum(int(r["submitted"]) for r in hours) == 9
    # Filters narrow the CSV as they narrow the page.
    assert [r["submitted"] for r in csv_rows(s, server, by="day", country="65")] == ["2"]
    assert [r["failed"] for r in csv_rows(s, server, by="day", type="OTP", country="852")] == ["2"]

    # Hostile filters: refused in sentences, escaped, never SQL.
    r = s.get(server.url("/console/statistics"), params={"country": "1' OR 1=1 --", "type": "<script>x</script>",
                                                          "from": "2026-13-99", "by": "password"}, timeout=10)
    assert r.status_code == 200
    assert "Country must be a calling code" in r.text and "Type must be OTP, NOTIFY or MKT." in r.text
    assert "From must be a date like" in r.text and "<script>x" not in r.text
    r = s.get(server.url("/console/statistics"), params={"channel": "<b>x</b>", "account": "x" * 5000}, timeout=10)
    assert r.status_code == 200 and "<b>x</b>" not in r.text

    # Another account's key sees its own (nothing), not these.
    other = key_with(server, tmp_path, "other", ["dysms:*"], name="other")
    os_, _ = sign_in(server, *other)
    assert csv_rows(os_, server, by="day") == []
    assert csv_rows(os_, server, by="day", account="default") == []
    page = os_.get(server.url("/console/statistics"), timeout=10).text
    assert 'id="stats-account"' not in page and "By account" not in page

    # The page in a browser: the cards equal QueryMessage's counts.
    SHOTS.mkdir(parents=True, exist_ok=True)
    b = browser
    browser_sign_in(server, b)
    b.find_element(By.ID, "overview-statistics").click()
    wait_for(lambda: b.title.startswith("Statistics"), timeout=10)
    assert (card(b, "submitted"), card(b, "delivered"), card(b, "failed"), card(b, "waiting")) == (
        str(len(statuses)), str(list(statuses.values()).count("1")), str(list(statuses.values()).count("2")),
        str(list(statuses.values()).count("3")))
    assert card(b, "rate") == "71.4%" and card(b, "median").startswith("≤")
    assert "UNDELIV" in b.find_element(By.ID, "errors").find_element(By.XPATH, "following-sibling::div").text
    assert b.find_elements(By.CSS_SELECTOR, "svg.chart rect")
    if store == "sqlite":
        b.save_screenshot(str(SHOTS / "statistics.png"))
    # Filters, as a person uses them.
    Select(b.find_element(By.ID, "stats-country")).select_by_value("65")
    b.find_element(By.ID, "stats-apply").click()
    wait_for(lambda: "country=65" in b.current_url, timeout=10)
    assert (card(b, "submitted"), card(b, "waiting"), card(b, "delivered")) == ("2", "2", "0")
    Select(b.find_element(By.ID, "stats-country")).select_by_value("")
    Select(b.find_element(By.ID, "stats-type")).select_by_value("OTP")
    b.find_element(By.ID, "stats-apply").click()
    wait_for(lambda: "type=OTP" in b.current_url, timeout=10)
    assert (card(b, "submitted"), card(b, "delivered"), card(b, "failed")) == ("5", "3", "2")
    # A phone: no sideways scroll, the figures on the first screen, no serious accessibility problem.
    b.set_window_size(390, 844)
    b.get(server.url("/console/statistics"))
    wide = b.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 0, wide
    top = b.execute_script("return document.getElementById('stat-submitted').getBoundingClientRect().top")
    assert top < 844, top
    assert serious(b) == []
    b.set_window_size(1280, 900)
