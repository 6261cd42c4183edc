"""The sandbox inbox in a real browser, as Mailpit's: conversations newest first, search, the newest message in
view, live updates, clearing one number or all after a confirmation, and the reader on a phone's first screen."""
from alibabacloud_dysmsapi20180501 import models as m

from conftest import wait_for
from test_console import browser  # noqa: F401  (the Chromium fixture)
from test_console_a11y import browser_sign_in


def send(client, to, text):
    r = client.send_message_to_globe(m.SendMessageToGlobeRequest(to=to, message=text)).body
    assert r.response_code == "OK", r


def listed(b):
    # Read in one script: the list is replaced every 2 s, so elements found earlier may be gone.
    return b.execute_script("""return Array.from(document.querySelectorAll('#conversations .who'))
        .map(function (e) { return e.textContent.trim().split(/\\s+/)[0]; });""")


def test_inbox_lists_searches_shows_the_newest_and_clears_after_asking(server, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    client = server.client()
    for i in range(30):                                   # an older, longer conversation
        send(client, "85291234567", f"Your code is {1000 + i}")
    send(client, "85291230002", "Parcel on its way")
    send(client, "6581234567", "Flash sale today")
    b = browser
    browser_sign_in(server, b)
    b.get(server.url("/console/inbox"))
    wait_for(lambda: listed(b) == ["+6581234567", "+85291230002", "+85291234567"], timeout=20)
    assert "SG" in b.execute_script("return document.querySelector('#conversations li').textContent")
    # Search with the keyboard: / then text; the list keeps to the matches.
    ActionChains(b).send_keys("/").perform()
    ActionChains(b).send_keys("code is 1029" + Keys.ENTER).perform()
    wait_for(lambda: listed(b) == ["+85291234567"], timeout=10)
    b.find_element(By.CSS_SELECTOR, "#conversations a").click()
    # The newest message is on screen without scrolling the thread.
    newest_in_view = """var n = document.querySelector('.thread .bubble'); if (!n) return '';
        var t = n.closest('.thread').getBoundingClientRect(), r = n.getBoundingClientRect();
        return (r.top >= t.top - 1 && r.bottom <= t.bottom + 1) ? n.textContent : 'out of view';"""
    wait_for(lambda: "Your code is 1029" in b.execute_script(newest_in_view), timeout=20)
    # Live: a new conversation appears in the list without a reload.
    b.get(server.url("/console/inbox"))
    send(client, "85291239999", "Just now")
    wait_for(lambda: listed(b)[:1] == ["+85291239999"], timeout=20)
    # Clearing asks first; dismissed, nothing goes.
    b.get(server.url("/console/inbox?to=85291230002"))
    b.find_element(By.ID, "clear-number").click()
    alert = b.switch_to.alert
    assert "+85291230002" in alert.text
    alert.dismiss()
    assert "+85291230002" in listed(b)
    b.find_element(By.ID, "clear-number").click()
    b.switch_to.alert.accept()
    wait_for(lambda: "+85291230002" not in listed(b) and len(listed(b)) == 3, timeout=10)
    # On a phone the reader is on the first screen, below a list that scrolls in its own box.
    b.set_window_size(390, 844)
    b.get(server.url("/console/inbox?to=85291234567"))
    top = b.execute_script("return document.querySelector('.phone').getBoundingClientRect().top")
    assert top < 844 - 200, top
    b.set_window_size(1280, 900)
    b.find_element(By.ID, "clear-all").click()
    b.switch_to.alert.accept()
    wait_for(lambda: "No message has reached the sandbox yet" in b.page_source, timeout=10)
