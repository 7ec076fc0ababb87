"""Write the Serbian Latin catalogue (sr_Latn) from the Cyrillic one (sr), so the two scripts never drift apart.

Serbian has one spelling in two alphabets: every Cyrillic letter has exactly one Latin letter or digraph, so the
Latin catalogue is derived, never translated by hand. Run after editing ``sr`` (``make translations-extract`` does):

    .venv/bin/python tools/sr_latn.py
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "lms" / "translations"

_LETTERS = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "ђ": "đ",
    "е": "e",
    "ж": "ž",
    "з": "z",
    "и": "i",
    "ј": "j",
    "к": "k",
    "л": "l",
    "љ": "lj",
    "м": "m",
    "н": "n",
    "њ": "nj",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "ћ": "ć",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "c",
    "ч": "č",
    "џ": "dž",
    "ш": "š",
}


def serbian_latin(text: str) -> str:
    """Serbian Cyrillic to Latin script; other characters (placeholders, "PDF", punctuation) pass unchanged.

    A capital digraph is all capitals inside a capitalised word ("ЉУБАВ" -> "LJUBAV") and title case
    otherwise ("Љубав" -> "Ljubav").
    """
    out = []
    for index, char in enumerate(text):
        latin = _LETTERS.get(char.lower())
        if latin is None:
            out.append(char)
        elif char.islower():
            out.append(latin)
        else:
            neighbour = text[index + 1 : index + 2] or text[index - 1 : index]
            out.append(latin.upper() if neighbour.isupper() else latin.capitalize())
    return "".join(out)


def _transliterated(value):
    """A msgstr (a string, or a tuple of plural forms) in Latin script."""
    if isinstance(value, str):
        return serbian_latin(value)
    return tuple(serbian_latin(form) for form in value)


def derive_latin_catalogue(translations: Path = TRANSLATIONS) -> int:
    """Rewrite ``sr_Latn`` as the transliteration of ``sr``; returns how many messages it holds."""
    source = translations / "sr" / "LC_MESSAGES" / "messages.po"
    target = translations / "sr_Latn" / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as handle:
        cyrillic = read_po(handle, locale="sr")
    with target.open("rb") as handle:
        latin = read_po(handle, locale="sr_Latn")
    for message in list(latin):
        if message.id:
            latin.delete(message.id, message.context)
    for message in cyrillic:
        if message.id:
            latin.add(
                message.id,
                _transliterated(message.string),
                locations=message.locations,
                flags=message.flags,
                auto_comments=message.auto_comments,
                context=message.context,
            )
    with target.open("wb") as handle:
        write_po(handle, latin)
    return len([message for message in latin if message.id])


if __name__ == "__main__":
    sys.stdout.write(f"sr_Latn: {derive_latin_catalogue()} messages\n")
