"""The console's side of two-way messaging (issue 24), in a real browser: the sandbox phone's reply box (the path of
POST /sandbox/inbound), a STOP that refuses the next MKT send, the Inbound page with each push's state, and the
Opt-out page's list, add and remove."""
import re

import requests

from conftest import wait_for
from test_console import SHOTS, browser, sign_in  # noqa: F401  (browser is a fixture)

PHONE = "85291234567"


def test_in_a_browser_a_reply_stop_shows_and_refuses_marketing_until_removed(server, browser):  # noqa: F811
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    SHOTS.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, 20, ignored_exceptions=[StaleElementReferenceException])
    b = browser
    b.get(server.url("/console"))
    b.find_element(By.ID, "key_id").send_keys(server.ak)
    b.find_element(By.ID, "key_secret").send_keys(server.sk)
    b.find_element(By.ID, "sign-in").click()
    wait.until(EC.title_contains("Overview"))

    def send_mkt(text):
        b.get(server.url(f"/console/inbox?to={PHONE}"))
        b.find_element(By.ID, "send-to").clear()
        b.find_element(By.ID, "send-to").send_keys("+" + PHONE)
        Select(b.find_element(By.NAME, "type")).select_by_visible_text("MKT")
        b.find_element(By.ID, "send-text").send_keys(text)
        b.find_element(By.ID, "send").click()

    send_mkt("Spring sale: 20% off this week.")
    errors = b.find_elements(By.ID, "send-error")
    assert not errors, errors[0].text
    wait.until(lambda d: "Spring sale" in d.find_element(By.CSS_SELECTOR, ".phone").text)
    # The phone answers STOP through the reply box; it shows in the conversation, on the phone's side.
    b.find_element(By.ID, "reply-text").send_keys("STOP")
    b.find_element(By.ID, "reply").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".bubble.reply"))
    assert b.find_element(By.CSS_SELECTOR, ".bubble.reply").text.startswith("STOP")
    b.save_screenshot(str(SHOTS / "inbox-reply.png"))
    # Within 2 s the next MKT send to it is refused.
    send_mkt("Last chance!")
    assert "isv.BLACK_KEY_CONTROL_LIMIT" in b.find_element(By.ID, "send-error").text

    b.get(server.url("/console/inbound"))
    row = b.find_element(By.CSS_SELECTOR, "tbody tr").text
    assert "+" + PHONE in row and "STOP" in row and "kept (no inbound URL)" in row
    b.save_screenshot(str(SHOTS / "inbound.png"))

    b.get(server.url("/console/optout"))
    table = b.find_element(By.TAG_NAME, "table").text
    assert "+" + PHONE in table and "STOP" in table
    b.find_element(By.ID, "optout-phones").send_keys("+85291230001\n6591230002")
    b.find_element(By.ID, "optout-add").click()
    wait.until(lambda d: "2 phone(s) added." in d.find_element(By.ID, "optout-notice").text)
    b.find_element(By.ID, "optout-phones").send_keys("12345")
    b.find_element(By.ID, "optout-add").click()
    wait.until(lambda d: "12345 is not a phone number" in d.find_element(By.ID, "optout-error").text)
    assert len(b.find_elements(By.CSS_SELECTOR, "tbody tr")) == 3
    b.save_screenshot(str(SHOTS / "optout.png"))
    b.find_element(By.CSS_SELECTOR, f'button[data-phone="{PHONE}"]').click()
    wait.until(lambda d: f"+{PHONE} removed." in d.find_element(By.ID, "optout-notice").text)
    send_mkt("Welcome back.")
    wait.until(lambda d: "Welcome back." in d.find_element(By.CSS_SELECTOR, ".phone").text)


def test_the_reply_box_and_the_optout_forms_belong_to_the_signed_in_account(server):
    session, csrf = sign_in(server)
    r = session.post(server.url("/console/inbox/reply"), timeout=10,
                     data={"csrf": csrf, "from": PHONE, "to": "not valid!", "text": "hi"})
    assert r.status_code == 200 and "To must be a phone number" in r.text
    r = session.post(server.url("/console/inbox/reply"), timeout=10,
                     data={"csrf": csrf, "from": PHONE, "to": "10000", "text": "unsubscribe"}, allow_redirects=False)
    assert r.status_code == 303
    listed = wait_for(lambda: server.cli("optout", "list").stdout, timeout=5)
    assert '"Account":"default"' in listed and PHONE in listed and "UNSUBSCRIBE" in listed
    # Another site's form is refused.
    assert session.post(server.url("/console/optout/remove"), data={"csrf": csrf, "phone": PHONE},
                        headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
                        timeout=10).status_code == 403
    page = session.post(server.url("/console/optout/remove"), data={"csrf": csrf, "phone": PHONE}, timeout=10)
    assert page.status_code == 200 and re.search(r"\+85291234567 removed", page.text)
    assert server.cli("optout", "list").stdout == ""
    r = requests.get(server.url("/console/inbound"), allow_redirects=False, timeout=10)
    assert r.status_code == 303
