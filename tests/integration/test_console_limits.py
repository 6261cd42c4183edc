"""The console under `limits:`: the Limits page and the cap banner in a real browser as a cap fills through the
official SDK, and a campaign's preview counting the rows the limits would refuse as invalid."""
import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import FAST_SANDBOX, HK, SG
from test_console import SHOTS, browser, sign_in  # noqa: F401  (the fixture is used by name)
from test_send_limits import single

CAPS = [{"account": "default", "day": 3, "warnAt": 0.5}, {"account": "default", "country": "SG", "hour": 10}]
LIMITS = {"perNumber": {"OTP": {"minute": 1, "day": 10}}, "allowNumbers": ["85291234599"],
          "countries": {"allow": ["HK", "SG"]}, "caps": CAPS}
CONFIG = dict(FAST_SANDBOX, accounts=[{"name": "default"}], limits=LIMITS)
PAGES = ["/console", "/console/messages", "/console/inbox", "/console/campaigns", "/console/channels",
         "/console/receipts", "/console/keys", "/console/limits"]


def banner(b):
    found = b.find_elements(By.ID, "cap-banner")
    return found[0].text if found else ""


def test_in_a_browser_the_limits_page_and_a_banner_on_every_page_as_a_cap_fills(make_server, browser):
    s = make_server(CONFIG)
    b = browser
    b.get(s.url("/console/login"))
    b.find_element(By.ID, "key_id").send_keys(s.ak)
    b.find_element(By.ID, "key_secret").send_keys(s.sk)
    b.find_element(By.ID, "sign-in").click()
    WebDriverWait(b, 20).until(EC.title_contains("Overview"))
    assert banner(b) == ""

    b.find_element(By.LINK_TEXT, "Limits").click()
    WebDriverWait(b, 20).until(EC.title_contains("Limits"))
    section = b.find_element(By.CSS_SELECTOR, 'section[data-account="default"]').text
    assert "OTP 1 – 10" in section and "allowNumbers): 85291234599" in section, section
    assert "Only to: HK, SG." in section
    assert "all day 0 / 3" in section and "SG hour 0 / 10" in section, section

    c = s.client()
    for text in ["one", "two"]:
        assert single(c, HK, text, "NOTIFY").response_code == "OK"
    warning = "Cap warning: account default, all countries, this day (UTC): 2 of 3 parts (66%), past warnAt 0.5."
    for path in PAGES:
        b.get(s.url(path))
        assert warning in banner(b), path

    assert single(c, SG, "three", "NOTIFY").response_code == "OK"
    refused = single(c, HK, "four", "NOTIFY")
    assert refused.response_code == "OUT_OF_SERVICE", refused
    for path in PAGES:
        b.get(s.url(path))
        assert "Cap reached: account default, all countries, this day (UTC): 3 of 3 parts. Sends are refused with " \
               "OUT_OF_SERVICE until" in banner(b), path
    section = b.find_element(By.CSS_SELECTOR, 'section[data-account="default"]').text
    assert "all day 3 / 3" in section and "reached" in section and "SG hour 1 / 10" in section, section
    SHOTS.mkdir(parents=True, exist_ok=True)
    b.save_screenshot(str(SHOTS / "limits.png"))


def test_a_campaign_preview_counts_rows_past_a_cap_or_outside_the_countries_as_invalid(make_server):
    s = make_server(CONFIG)
    assert single(s.client(), HK, "before", "NOTIFY").response_code == "OK"
    session, csrf = sign_in(s)
    csv = "number,name\n85291230001,Ann\n6591230002,Bo\n60123456789,Cy\n85291230004,Di\n85291230005,Ed\n"
    r = session.post(s.url("/console/campaigns"), files={"csv": ("a.csv", csv)},
                     data={"text": "Hi ${name}", "type": "NOTIFY", "csrf": csrf}, allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    page = session.get(s.url(r.headers["Location"]), timeout=10).text
    figures = dict(re.findall(r'data-field="([^"]+)">([^<]*)<', page))
    # One part of the day's 3 is used: two rows fit; Malaysia is not allowed; the last two are past the cap.
    assert figures["Valid rows"] == "2" and figures["Invalid rows"] == "3" and figures["Parts (segments) to send"] == "2"
    import csv as csvlib
    rows = list(csvlib.reader(session.get(s.url(r.headers["Location"] + "/invalid.csv"), timeout=10).text.splitlines()))
    report = [row[-1] for row in rows[1:]]
    assert rows[0] == ["number", "name", "error"] and [row[:2] for row in rows[1:]] == [
        ["60123456789", "Cy"], ["85291230004", "Di"], ["85291230005", "Ed"]], rows
    assert report[0] == "line 4: 60123456789: its country (MY) is not allowed by limits.countries", report
    assert report[1].startswith("line 5: 85291230004: OUT_OF_SERVICE: This account reached its cap of 3 parts per "
                                "calendar day (UTC) in limits.caps (3 used, this message has 1)"), report
    assert report[2].startswith("line 6: 85291230005: OUT_OF_SERVICE:"), report
