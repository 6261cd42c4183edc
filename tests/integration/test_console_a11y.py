"""The console for everyone: an axe-core scan (axe-selenium-python) of every page, wide, phone-sized and dark, finds
no serious or critical violation; the keyboard shortcuts and the teaching empty states work in a real browser."""
import pytest
from alibabacloud_dysmsapi20180501 import models as m

from conftest import wait_for
from test_console import SHOTS, browser  # noqa: F401  (the Chromium fixture)

PAGES = ["/console", "/console/statistics", "/console/messages", "/console/messages/1", "/console/inbox", "/console/inbox?to=85291234567",
         "/console/inbound", "/console/optout", "/console/campaigns", "/console/channels", "/console/receipts",
         "/console/limits", "/console/keys", "/console/approvals"]


def browser_sign_in(server, b):
    from selenium.webdriver.common.by import By
    b.get(server.url("/console/login"))
    b.find_element(By.ID, "key_id").send_keys(server.ak)
    b.find_element(By.ID, "key_secret").send_keys(server.sk)
    b.find_element(By.ID, "sign-in").click()
    wait_for(lambda: b.title.startswith("Overview"), timeout=20)


def serious(b):
    from axe_selenium_python import Axe
    from selenium.common.exceptions import WebDriverException
    axe = Axe(b)
    for attempt in range(3):
        try:
            axe.inject()
            found = axe.run()["violations"]
            break
        except WebDriverException:
            # A live fragment replaced the nodes axe was reading (every 2 s): scan again.
            if attempt == 2:
                raise
    return [f"{v['id']} ({v['impact']}): {v['help']}: " + "; ".join(n["html"][:120] for n in v["nodes"][:3])
            for v in found if v["impact"] in ("serious", "critical")]


def test_no_serious_accessibility_violation_on_any_page_wide_phone_or_dark(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    b = browser
    b.get(server.url("/console/login"))
    assert serious(b) == []
    # The empty overview teaches how to send a first message before there is one.
    browser_sign_in(server, b)
    assert "curl" in b.page_source and "…555" in b.page_source
    assert serious(b) == []
    client = server.client()
    assert client.send_message_to_globe(m.SendMessageToGlobeRequest(to="85291234567", message="Code 1234")).body.response_code == "OK"
    problems = {}
    for size, dark in [((1280, 900), False), ((390, 844), False), ((1280, 900), True)]:
        b.set_window_size(*size)
        b.execute_cdp_cmd("Emulation.setEmulatedMedia",
                          {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        for path in PAGES:
            b.get(server.url(path))
            assert "Petrel" in b.title, path
            if dark and path == "/console/inbox?to=85291234567":
                b.save_screenshot(str(SHOTS / "dark.png"))       # before axe scrolls the page
            found = serious(b)
            if found:
                problems[f"{path} {size} {'dark' if dark else 'light'}"] = found
            # Nothing wider than a phone's screen but the tables, which scroll in their own box.
            if size[0] == 390:
                wide = b.execute_script(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert wide <= 0, f"{path} scrolls sideways by {wide}px at 390px"
    # A refused send: the error in a sentence, announced, the text kept, and still no violation.
    from selenium.webdriver.common.by import By
    b.set_window_size(1280, 900)
    b.get(server.url("/console/inbox"))
    b.find_element(By.ID, "send-to").send_keys("12345")
    b.find_element(By.ID, "send-text").send_keys("Keep what I typed")
    b.find_element(By.ID, "send").click()
    error = b.find_element(By.ID, "send-error")
    assert error.get_attribute("role") == "alert" and error.text.endswith(").")
    assert b.find_element(By.ID, "send-text").get_attribute("value") == "Keep what I typed"
    found = serious(b)
    if found:
        problems["inbox with an error"] = found
    assert problems == {}


def test_keyboard_shortcuts_search_and_next_previous(server, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    client = server.client()
    for n in range(3):
        client.send_message_to_globe(m.SendMessageToGlobeRequest(to=f"8529123456{n}", message=f"hello {n}"))
    b = browser
    browser_sign_in(server, b)
    b.get(server.url("/console/messages"))
    # Keys go to whatever has the focus, as a person's would.
    press = lambda key: ActionChains(b).send_keys(key).perform()  # noqa: E731
    press("/")
    assert b.switch_to.active_element.get_attribute("type") == "search"
    press(Keys.ESCAPE)
    press("j")
    first = b.switch_to.active_element.get_attribute("href")
    press("j")
    second = b.switch_to.active_element.get_attribute("href")
    assert "/console/messages/" in first and "/console/messages/" in second and first != second
    press("k")
    assert b.switch_to.active_element.get_attribute("href") == first
    # Typing in a field is typing, not a shortcut.
    press("/")
    press("jk")
    assert b.switch_to.active_element.get_attribute("value") == "jk"
    # The favicon is an inline SVG: no request, no third-party file.
    icon = b.find_element(By.CSS_SELECTOR, "link[rel=icon]").get_attribute("href")
    assert icon.startswith("data:image/svg+xml,")


def test_messages_search_pages_and_replay_asks_first_in_a_browser(server, browser):
    from selenium.webdriver.common.by import By
    b = browser
    b.set_window_size(1280, 900)
    browser_sign_in(server, b)
    client = server.client()
    for i in range(55):   # past the page of 50
        r = client.send_message_to_globe(m.SendMessageToGlobeRequest(to=f"8529123{i:04d}", message=f"Note {i}"))
        assert r.body.response_code == "OK"
    b.get(server.url("/console/messages?to=%2B852%209123-0007"))
    assert "Note 7" in b.page_source and "Note 17" not in b.page_source
    b.get(server.url("/console/messages?text=note%2042"))
    assert "Note 42" in b.page_source and "Note 41" not in b.page_source
    b.get(server.url("/console/messages"))
    assert "Note 54" in b.page_source and "Note 0<" not in b.page_source
    b.find_element(By.ID, "older").click()
    wait_for(lambda: "Note 0<" in b.page_source)
    assert serious(b) == []
    b.find_element(By.ID, "newer").click()
    wait_for(lambda: "Note 54" in b.page_source)
    # Replay with an empty form asks first, saying how many and for whom; Cancel does nothing.

    def some_delivered():
        b.get(server.url("/console/messages?status=delivered"))
        return 'id="message-count">0 message' not in b.page_source
    wait_for(some_delivered, timeout=20)
    b.get(server.url("/console/receipts"))
    b.find_element(By.CSS_SELECTOR, "form[action='/console/receipts/replay'] button").click()
    wait_for(lambda: "replay-ask" in b.page_source)
    ask = b.find_element(By.ID, "replay-ask").text
    assert "receipt(s)?" in ask and "account default" in ask, ask
    assert "queued to be pushed" not in b.page_source
    assert serious(b) == []
    b.find_element(By.ID, "replay-confirm").click()
    wait_for(lambda: "queued to be pushed again" in b.page_source)
