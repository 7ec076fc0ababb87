"""Each demo role in a real browser: sign in, the dashboard, the language switcher, sign out.

Every page visited is checked with axe-core (CSP enforced) by ``BrowserPage.check``.
"""

from urllib.parse import urlsplit

import pytest

from lms.i18n import LANGUAGE_NAMES, bcp47

pytestmark = pytest.mark.browser


def _path(page) -> str:
    return urlsplit(page.url).path


def test_each_role_signs_in_switches_language_and_signs_out(browser_page, live_server, demo_role):
    account = live_server.account(demo_role)
    page = browser_page.page
    browser_page.login(account)
    assert _path(page) == "/"
    assert account["name"] in page.get_by_role("heading", level=1).inner_text()
    own = account["locale"]
    assert page.locator("html").get_attribute("lang") == bcp47(own)  # the profile's language

    navigation = page.get_by_role("navigation", name=live_server.translate(own, "Main"))
    hrefs = navigation.get_by_role("link").evaluate_all("links => links.map((a) => a.getAttribute('href'))")
    assert "/" in hrefs
    for href in hrefs:  # every page the role's navigation offers opens, is marked current, and passes the checks
        browser_page.goto(href)
        if _path(page) == href:  # not after a redirect ("my organisation" opens the organisation's own page)
            current = navigation.locator("[aria-current=page]")
            assert current.count() == 1 and current.get_attribute("href") == href
    browser_page.goto("/")

    target = "mk" if own != "mk" else "en"
    switcher = page.get_by_role("combobox", name=live_server.translate(own, "Language"))
    switcher.select_option(label=LANGUAGE_NAMES[target])
    page.get_by_role("button", name=live_server.translate(own, "Change")).click()
    page.wait_for_load_state("load")
    browser_page.check()
    assert _path(page) == "/"
    assert page.locator("html").get_attribute("lang") == bcp47(target)
    welcome = live_server.translate(target, "Welcome, %(name)s", name=account["name"])
    assert page.get_by_role("heading", level=1).inner_text() == welcome

    page.get_by_role("button", name=live_server.translate(target, "Sign out")).click()
    page.wait_for_load_state("load")
    browser_page.check()
    assert _path(page) == "/auth/login"

    page.go_back()  # the dashboard from before signing out is fetched again, and needs a sign-in
    page.wait_for_load_state("load")
    assert _path(page) == "/auth/login"
    assert account["name"] not in page.content()
    browser_page.goto("/")
    assert _path(page) == "/auth/login" and urlsplit(page.url).query == "next=%2F"
