"""Languages: which one a page speaks, the switcher, and dates and numbers written the local way."""

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale

from lms.extensions import db
from lms.models import User
from tests.helpers import csrf_token, login_as

TRANSLATIONS = Path(__file__).resolve().parents[2] / "lms" / "translations"


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogues():
    """The .mo files `make translations` builds, compiled here when a .po is newer (pytest run on its own)."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=po.parent.parent.name)
            partial = mo.with_suffix(f".{id(catalog)}.tmp")
            with partial.open("wb") as handle:
                write_mo(handle, catalog)
            partial.replace(mo)  # atomic: a test running beside this one never reads half a file


def page_lang(html: str) -> str:
    """The ``lang`` attribute of the page's <html> element."""
    return re.search(r'<html lang="([^"]+)"', html).group(1)


@pytest.mark.parametrize(
    ("accept", "lang", "sign_in"),
    [
        ("sr-Latn-RS,sr;q=0.8", "sr-Latn", "Prijavite se"),
        ("sr-RS,en;q=0.5", "sr", "Пријавите се"),
        ("mk-MK,mk;q=0.9", "mk", "Најавете се"),
        ("sl", "sl", "Prijavite se"),
        ("sq-AL", "sq", "Hyni"),
        ("ro-RO", "ro", "Intrați în cont"),
        ("de-DE,de;q=0.9", "en", "Sign in"),
    ],
)
def test_browser_language_picks_the_page_language(client, accept, lang, sign_in):
    """A first visit speaks the browser's language when Pathways has it, English otherwise."""
    html = client.get("/auth/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert page_lang(html) == lang
    assert sign_in in html


def test_serbian_latin_page_has_no_cyrillic_interface_text(client):
    """sr-Latn readers get Latin letters, not the Cyrillic catalogue."""
    html = client.get("/auth/login", headers={"Accept-Language": "sr-Latn-RS"}).get_data(as_text=True)
    text = re.sub(r"<option[^>]*>[^<]*</option>", "", html)  # the switcher names each language in its own script
    assert not re.search("[\u0400-\u04ff]", text)


def test_switcher_keeps_the_choice_for_a_signed_out_visitor(client):
    """POST /language with its CSRF token changes the language for the rest of the visit."""
    token = csrf_token(client, "/auth/login")
    response = client.post("/language", data={"locale": "sq", "next": "/auth/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    html = client.get("/auth/login", headers={"Accept-Language": "mk"}).get_data(as_text=True)
    assert page_lang(html) == "sq"
    assert "Hyni" in html


def test_switcher_refuses_a_form_without_csrf_token(client):
    """A cross-site form cannot change someone's language."""
    response = client.post("/language", data={"locale": "sq", "next": "/auth/login"})
    assert response.status_code == 400
    assert page_lang(client.get("/auth/login").get_data(as_text=True)) == "en"


def test_signed_in_choice_is_saved_to_the_profile_and_follows_the_person(app, client, make_user):
    """Chosen once on one device, the language is there at the next sign-in from another browser."""
    user = make_user("vesna")
    login_as(client, user)
    token = csrf_token(client, "/")
    client.post("/language", data={"locale": "sr_Latn", "next": "/", "csrf_token": token})
    with app.app_context():
        assert db.session.get(User, user.id).locale == "sr_Latn"

    other_browser = app.test_client()
    login_as(other_browser, user)
    html = other_browser.get("/", headers={"Accept-Language": "mk"}).get_data(as_text=True)
    assert page_lang(html) == "sr-Latn"
    assert "Odjavite se" in html


@pytest.mark.parametrize(
    ("locale", "number", "hours"),
    [("en", "1,234.5", "2.5"), ("mk", "1.234,5", "2,5"), ("sr", "1.234,5", "2,5"), ("sl", "1.234,5", "2,5")]
    + [("ro", "1.234,5", "2,5"), ("sr_Latn", "1.234,5", "2,5")],
)
def test_numbers_and_hours_follow_the_language(app, locale, number, hours):
    """Decimal separators and grouping are the language's; 150 minutes are shown as 2.5 hours."""
    template = app.jinja_env.from_string("{{ value|decimal }}|{{ minutes|hours }}|{{ 0.85|percent }}")
    with app.test_request_context(), force_locale(locale):
        rendered = template.render(value=1234.5, minutes=150)
    shown_number, shown_hours, percent = rendered.split("|")
    assert (shown_number, shown_hours) == (number, hours)
    assert percent.replace("\xa0", " ") in {"85%", "85 %"}


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Nov 24, 2026, 12:30 AM"),
        ("mk", "24.11.2026 г., 00:30"),
        ("sr", "24. 11. 2026. 00:30"),
        ("sl", "24. nov. 2026, 00:30"),
        ("ro", "24 nov. 2026, 00:30"),
    ],
)
def test_times_are_shown_in_the_programme_time_zone_in_the_local_style(app, locale, expected):
    """22:30 UTC on 23 November is already 24 November in Bucharest; each language writes it its way."""
    template = app.jinja_env.from_string('{{ when|datetime("Europe/Bucharest") }}')
    with app.test_request_context(), force_locale(locale):
        assert template.render(when=datetime(2026, 11, 23, 22, 30)).replace("\u202f", " ") == expected


def test_dates_and_times_default_to_the_site_time_zone(app):
    """Without a programme time zone the site's (Europe/Skopje) is used; a plain date is never shifted."""
    template = app.jinja_env.from_string(
        "{{ when|date }} {{ when|time }} {{ day|date(format='short') }} {{ none|hours }}."
    )
    with app.test_request_context(), force_locale("mk"):
        rendered = template.render(when=datetime(2026, 11, 23, 22, 30), day=date(2026, 3, 5), none=None)
    assert rendered.replace("\u202f", " ") == "23.11.2026 г. 23:30 5.3.26 ."
