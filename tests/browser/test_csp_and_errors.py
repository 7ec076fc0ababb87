"""The CSP really is enforced, error pages, and ``next`` resolved by Chromium's own URL parser."""

from urllib.parse import quote

import pytest

from tests.browser.conftest import checked_tab
from tests.lms.test_security import REDIRECT_PAYLOADS

pytestmark = pytest.mark.browser


def test_error_page_is_translated_and_accessible(browser, live_server):
    with checked_tab(browser, live_server, locale="mk-MK") as checked:
        checked.goto("/no-such-page", status=404)
        page = checked.page
        assert page.locator("html").get_attribute("lang") == "mk"
        message = live_server.translate("mk", "We could not find this page.")
        assert page.get_by_role("heading", level=1).inner_text() == message
        assert page.title().startswith(message)


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
