"""Keyboard use, announced form errors and phone screens, each page checked with axe-core (CSP enforced)."""

import pytest

pytestmark = pytest.mark.browser


def _assert_focus_visible(page) -> None:
    focused = page.locator(":focus")
    style, width = focused.evaluate(
        "el => [getComputedStyle(el).outlineStyle, parseFloat(getComputedStyle(el).outlineWidth)]"
    )
    assert style != "none" and width >= 2, f"no visible focus on {focused.evaluate('el => el.outerHTML')}"


def _focus_in_header(page) -> bool:
    return page.evaluate("document.activeElement.closest('header') !== null")


def test_keyboard_skip_link_first_then_visible_focus_through_the_header(browser_page, live_server):
    page = browser_page.page

    def tab_to_skip_link():
        page.keyboard.press("Tab")
        skip = page.locator(":focus")
        assert skip.get_attribute("class") == "skip-link"
        assert skip.inner_text() == "Skip to main content"
        box = skip.bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0  # on screen once focused
        _assert_focus_visible(page)

    for signed_in in (False, True):
        if signed_in:
            browser_page.login(live_server.accounts[0])
        else:
            browser_page.goto("/auth/login")

        tab_to_skip_link()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")  # the next stop comes after the header, not back in it
        assert not _focus_in_header(page)
        if not signed_in:
            assert page.evaluate("document.activeElement.name") == "login"

        page.reload()
        tab_to_skip_link()
        for _stop in range(page.locator("header").locator("a, button, select").count()):
            page.keyboard.press("Tab")
            assert _focus_in_header(page)
            _assert_focus_visible(page)
        page.keyboard.press("Tab")
        assert not _focus_in_header(page)
        if not signed_in:
            assert page.evaluate("document.activeElement.name") == "login"
            _assert_focus_visible(page)


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


def test_sign_in_language_and_sign_out_work_without_javascript(browser, live_server):
    """Plain forms all the way: nothing a person needs waits for a script (axe itself needs one, so no checks here)."""
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    try:
        page = context.new_page()
        account = live_server.accounts[0]
        page.goto(live_server.url + "/auth/login")
        page.get_by_label("E-mail, username or phone number").fill(account["username"])
        page.get_by_label("Password", exact=True).fill(account["password"])
        page.get_by_role("main").get_by_role("button", name="Sign in").click()
        assert account["name"] in page.get_by_role("heading", level=1).inner_text()
        page.get_by_role("combobox", name=live_server.translate(account["locale"], "Language")).select_option("sq")
        page.get_by_role("button", name=live_server.translate(account["locale"], "Change")).click()
        assert page.locator("html").get_attribute("lang") == "sq"
        page.get_by_role("button", name=live_server.translate("sq", "Sign out")).click()
        page.goto(live_server.url + "/")
        assert page.url.startswith(live_server.url + "/auth/login")
    finally:
        context.close()
