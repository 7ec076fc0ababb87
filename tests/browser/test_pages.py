"""What a person sees in a real browser: signing in per role, languages, keyboard use, phones, errors.

Every page visited is checked with axe-core (CSP enforced) by ``BrowserPage.check``.
"""

from urllib.parse import quote, urlsplit

import pytest

from lms.i18n import LANGUAGE_NAMES, bcp47
from tests.lms.test_security import REDIRECT_PAYLOADS

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


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(browser_page, live_server):
    page = browser_page.page
    for signed_in in (False, True):
        if signed_in:
            browser_page.login(live_server.accounts[0])
        else:
            browser_page.goto("/auth/login")
        page.keyboard.press("Tab")
        skip = page.locator(":focus")
        assert skip.get_attribute("class") == "skip-link"
        assert skip.inner_text() == "Skip to main content"
        box = skip.bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0  # on screen once focused
        assert skip.evaluate("el => getComputedStyle(el).outlineStyle") != "none"  # visible focus
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")  # the next stop comes after the header, not back in it
        assert not page.evaluate("document.querySelector('header').contains(document.activeElement)")
        if not signed_in:
            assert page.evaluate("document.activeElement.name") == "login"


def test_login_errors_are_announced_next_to_labelled_fields(browser_page, live_server):
    page = browser_page.page
    browser_page.goto("/auth/login")
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    browser_page.check()
    summary = page.get_by_role("alert")
    assert summary.get_by_role("heading").inner_text() == "Please correct the following"
    assert summary.get_by_role("link").count() == 2
    for label, message in (
        ("E-mail, username or phone number", "Enter your e-mail, username or phone number."),
        ("Password", "Enter your password."),
    ):
        field = page.get_by_label(label, exact=True)
        assert field.get_attribute("aria-invalid") == "true"
        described_by = field.get_attribute("aria-describedby")
        assert page.locator(f"#{described_by}").inner_text() == message
        assert summary.get_by_role("link", name=label).get_attribute("href") == f"#{field.get_attribute('id')}"

    account = live_server.accounts[0]
    browser_page.fill_login(account["username"], "not the password")
    browser_page.check()
    assert "The sign-in details are not right" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("E-mail, username or phone number").input_value() == account["username"]


def test_pages_fit_a_phone_screen(browser_page, live_server):
    page = browser_page.page
    page.set_viewport_size({"width": 360, "height": 740})
    longest = max(live_server.accounts, key=lambda account: len(account["name"]))
    for signed_in in (False, True):
        if signed_in:
            browser_page.login(longest)
        else:
            browser_page.goto("/auth/login")
        scroll, width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll <= width, f"{page.url} scrolls sideways on a 360 px phone ({scroll} > {width})"
        for control in page.locator("header a, header button, header select, main a, main button, main input").all():
            box = control.bounding_box()
            if box:  # controls hidden on this page have no box
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, control.evaluate("el => el.outerHTML")


def test_error_page_is_translated_and_accessible(browser, live_server):
    context = browser.new_context(locale="mk-MK")
    try:
        from tests.browser.conftest import BrowserPage

        checked = BrowserPage(context.new_page(), live_server)
        checked.goto("/no-such-page", status=404)
        page = checked.page
        assert page.locator("html").get_attribute("lang") == "mk"
        assert page.get_by_role("heading", level=1).inner_text() == live_server.translate(
            "mk", "We could not find this page."
        )
        assert not checked.problems
    finally:
        context.close()


def test_csp_is_enforced_and_a_violation_fails_the_check(browser_page):
    page = browser_page.page
    browser_page.goto("/auth/login")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true';"
        " document.head.append(s); }"
    )
    assert page.evaluate("window.__ran === undefined")  # the page's CSP blocked the inline script
    with pytest.raises(AssertionError, match="Content Security Policy|script-src"):
        browser_page.check()


def test_next_never_leaves_the_site_in_chromium(browser_page, live_server):
    """Each redirect ``next`` produces, resolved by Chromium's own URL parser, stays on this site."""
    page = browser_page.page
    browser_page.login(live_server.accounts[0])
    origin = live_server.url
    for payload in REDIRECT_PAYLOADS:
        response = page.context.request.get(f"{origin}/auth/login?next={quote(payload, safe='')}", max_redirects=0)
        assert response.status == 302, payload
        location = response.headers["location"]
        resolved = page.evaluate("([location, base]) => new URL(location, base).origin", [location, page.url])
        assert resolved == origin, f"{payload!r} -> {location!r} -> {resolved}"
