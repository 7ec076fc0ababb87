"""Every string in the code is translated into every language, with its placeholders and plural forms intact.

The messages are extracted afresh from the code (with babel.cfg, as ``make translations-extract`` does), so a
string added without a translation fails here with its msgid listed.
"""

import gettext
import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from lms.config import Defaults
from tools.sr_latn import serbian_latin

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "lms" / "translations"
SOURCE_LOCALE = Defaults.BABEL_DEFAULT_LOCALE
TRANSLATED = [code for code in Defaults.LANGUAGES if code != SOURCE_LOCALE]

# Words that are rightly the same as the English in some languages: names, codes, international words.
SAME_AS_ENGLISH = {
    "Mentor": {"sq", "sr_Latn", "sl", "ro"},
    "Administrator": {"sq", "sr_Latn", "ro"},
    "Auditor": {"ro"},
    "Status": {"sr_Latn"},
    "Contact": {"ro"},
    "Token": {"ro", "sr_Latn"},
    "Region": {"sr_Latn"},
    "Online": {"ro"},
    "Text": {"ro"},
    "Calendar": {"ro"},
    "UTF-8": {"mk", "sq", "sr", "sr_Latn", "sl", "ro"},
    "Problem": {"sr_Latn"},
    "Format": {"sr_Latn", "ro"},
    "E-mail": {"ro"},
    "Separator": {"ro"},
}

PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifreEgGxXoc%]|\{\w*(?:[.:!][^{}]*)?\}")
CYRILLIC = re.compile("[\u0400-\u04ff]")
CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")


@pytest.fixture(scope="module")
def code_messages() -> Catalog:
    """The messages in the code as it is now."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")
    catalog = Catalog()
    for filename, lineno, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map):
        catalog.add(message, None, [(filename, lineno)], context=context)
    return catalog


def catalogue(locale: str) -> Catalog:
    """A locale's catalogue as committed."""
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def placeholders(text: str) -> list[str]:
    """The formatting placeholders of a message, in a comparable order."""
    return sorted(PLACEHOLDER.findall(text))


def test_extraction_finds_python_lazy_and_template_strings(code_messages):
    """babel.cfg reaches gettext in Python, lazy _l in forms and _() in templates of the core and the plugins."""
    for msgid, where in [
        ("The sign-in details are not right. Check them and try again.", "lms/auth/views.py"),
        ("Language", "lms/forms.py"),
        ("Skip to main content", "templates/base.html"),
    ]:
        message = code_messages.get(msgid)
        assert message is not None and where in {path for path, _line in message.locations}, msgid
    assert any(path.startswith("courses/") for message in code_messages for path, _line in message.locations)


@pytest.mark.parametrize("locale", Defaults.LANGUAGES)
def test_catalogue_holds_every_message_in_the_code(code_messages, locale):
    """A string added to the code and not yet in a catalogue is listed here."""
    translated = catalogue(locale)
    missing = []
    for message in code_messages:
        entry = translated.get(message.id, message.context) if message.id else message
        # A plural in the code that is singular in the catalogue (or the reverse) is missing too.
        if entry is None or entry.id != message.id:
            missing.append(message.id)
    assert not missing, (
        f"{len(missing)} message(s) in the code are not in the {locale} catalogue; run `make translations-extract` "
        "and translate them:\n" + "\n".join(map(repr, missing))
    )


def problems_in(translated: Catalog, locale: str) -> list[tuple[str, str]]:
    """Every (problem, msgid) of a catalogue: fuzzy, untranslated, same as English, placeholders, plural forms."""
    problems = []
    for message in translated:
        if not message.id:
            continue
        forms = (message.string,) if isinstance(message.string, str) else tuple(message.string)
        sources = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        if message.fuzzy:
            problems.append(("fuzzy", sources[0]))
        if message.pluralizable and len(forms) != translated.num_plurals:
            problems.append((f"{len(forms)} plural forms, not {translated.num_plurals}", sources[0]))
        if not all(forms):
            problems.append(("untranslated", sources[0]))
            continue
        wordless = not re.search(r"[^\W\d_]", PLACEHOLDER.sub("", sources[0]))  # "%(name)s: %(status)s."
        if forms[0] == sources[0] and not wordless and locale not in SAME_AS_ENGLISH.get(sources[0], ()):
            problems.append(("same as English", sources[0]))
        for form in forms:
            if placeholders(form) != placeholders(sources[-1]):
                problems.append((f"placeholders differ in {form!r}", sources[0]))
    return problems


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders_and_plural_forms(locale):
    """No empty, fuzzy or untouched English message; placeholders as in English; each plural form filled."""
    problems = problems_in(catalogue(locale), locale)
    assert not problems, f"{len(problems)} problem(s) in {locale}:\n" + "\n".join(
        f"{what}: {msgid!r}" for what, msgid in problems
    )


@pytest.mark.parametrize("locale", TRANSLATED)
def test_words_are_written_in_one_script(locale):
    """No Latin look-alike inside a Cyrillic word ("сè" needs Cyrillic "ѐ"), no Romanian cedilla for comma (ş, ţ)."""
    odd = []
    for message in catalogue(locale):
        text = message.string if isinstance(message.string, str) else " ".join(message.string)
        mixed = [w for w in re.findall(r"\w+", text) if CYRILLIC.search(w) and re.search(r"[A-Za-z\u00c0-\u024f]", w)]
        if mixed or locale == "ro" and re.search("[şţŞŢ]", text):
            odd.append((mixed, message.id))
    assert not odd, "\n".join(f"{words}: {msgid!r}" for words, msgid in odd)


def test_the_check_finds_each_kind_of_problem():
    """A catalogue broken in every way the check knows is reported message by message."""
    broken = Catalog(locale="sl")
    broken.add("Save", "Save")
    broken.add("Mentor", "Mentor")  # on the allow-list
    broken.add("%(name)s: %(status)s.", "%(name)s: %(status)s.")  # no words to translate
    broken.add("Welcome, %(name)s", "Dobrodošli, %(ime)s")
    broken.add("Sent", "Poslano", flags=["fuzzy"])
    broken.add("Cancel", "")
    broken.add(("%(num)d person", "%(num)d people"), ("%(num)d oseba", "%(num)d osebi", "%(num)d osebe"))
    broken.add(("%(num)d day", "%(num)d days"), ("%(num)d dan", "%(num)d dneva", "%(num)d dnevi", ""))
    assert problems_in(broken, "sl") == [
        ("same as English", "Save"),
        ("placeholders differ in 'Dobrodošli, %(ime)s'", "Welcome, %(name)s"),
        ("fuzzy", "Sent"),
        ("untranslated", "Cancel"),
        ("3 plural forms, not 4", "%(num)d person"),
        ("untranslated", "%(num)d day"),
    ]


@pytest.mark.parametrize("locale", Defaults.LANGUAGES)
def test_plural_forms_header_follows_cldr(locale):
    """The catalogue's Plural-Forms pick the same form as the CLDR rules for every count."""
    translated = catalogue(locale)
    rule = Locale.parse(locale).plural_form
    tags = [tag for tag in CLDR_ORDER if tag in rule.tags or tag == "other"]
    assert translated.num_plurals == len(tags)
    choose = gettext.c2py(translated.plural_expr)
    wrong = [n for n in range(1000) if choose(n) != tags.index(rule(n))]
    assert not wrong, f"{locale}: Plural-Forms picks the wrong form for {wrong[:10]}"


def test_serbian_latin_catalogue_is_the_transliteration_of_the_cyrillic():
    """sr_Latn says exactly what sr says, in Latin letters (tools/sr_latn.py writes it)."""
    cyrillic = catalogue("sr")
    latin = catalogue("sr_Latn")
    drifted = []
    for message in cyrillic:
        if not message.id:
            continue
        expected = message.string
        expected = serbian_latin(expected) if isinstance(expected, str) else tuple(map(serbian_latin, expected))
        other = latin.get(message.id, message.context)
        actual = other and (other.string if isinstance(other.string, str) else tuple(other.string))
        if actual != expected:
            drifted.append(message.id)
    assert not drifted, "run tools/sr_latn.py; sr_Latn differs from sr for:\n" + "\n".join(map(repr, drifted))


def test_serbian_transliteration_keeps_digraph_case_and_foreign_text():
    """Capital digraphs follow their word; Latin codes and placeholders pass unchanged."""
    assert serbian_latin("Љубав ЊЕГОШ џеп Ђорђе") == "Ljubav NJEGOŠ džep Đorđe"
    assert serbian_latin("Преузми PDF за %(name)s") == "Preuzmi PDF za %(name)s"
