"""The words a person reads, kept apart from what they mean.

Every message has an identity, a `Message`: a code ("archive.not_a_zip") and its parameters (the
file's name, a count). The words for each code live in a gettext catalogue per language,
`catbreed/locale/<language>/LC_MESSAGES/catbreed.po` (English and Brazilian Portuguese), read with
Babel, which also knows each language's plural rule ("1 foto", "2 fotos") and how it writes numbers
(92,5% in pt-BR). What catbreed stores (a data set's report, a model's metadata, `--json`) keeps codes
and parameters, so whatever was made in one language reads correctly in the other.

A parameter that is itself a Message is rendered in the same language; an int or float is written
as the language writes numbers; `n` chooses the plural form of a code whose entry has one.
"""

from __future__ import annotations

import functools
import gettext
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol

LOCALE_FOLDER = Path(__file__).with_name("locale")
DOMAIN = "catbreed"
ENGLISH, PORTUGUESE = "en", "pt_BR"
LANGUAGES = (ENGLISH, PORTUGUESE)  # the first is the fallback
LITERAL = "literal"  # words stored before messages had codes (older data sets and models): shown as they are


@dataclass(frozen=True)
class Message:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"code": self.code, "params": {k: _plain(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: object) -> Message:
        """A stored message; a plain string (stored before codes) becomes a literal one."""
        if isinstance(data, str):
            return cls(LITERAL, {"text": data})
        return cls(str(data["code"]), {name: _stored(value) for name, value in data["params"].items()})

    def __hash__(self) -> int:  # equal messages count as one (a report's reasons)
        return hash((self.code, repr(sorted(self.params.items()))))

    def text(self, language: str = ENGLISH) -> str:
        return text(self, language)

    def __str__(self) -> str:
        return self.text(ENGLISH)


class Percent(float):
    """A fraction a message shows as a percentage: 92.5% in English, 92,5% in Portuguese."""

    decimals: int

    def __new__(cls, value: float, decimals: int = 1):
        shown = super().__new__(cls, value)
        shown.decimals = decimals
        return shown


def message(code: str, **params: Any) -> Message:
    return Message(code, params)


NOTHING = Message(LITERAL, {"text": ""})  # an optional part of a message, left out


def _stored(value: Any) -> Any:
    if isinstance(value, dict) and "code" in value:
        return Message.from_json(value)
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def language_of(tag: str | None) -> str:
    """The catalogue for a browser's or a shell's language tag ('pt-BR', 'pt_BR.UTF-8', 'pt'):
    Portuguese for any Portuguese, English otherwise."""
    if not tag:
        return ENGLISH
    try:
        locale = Locale.parse(tag.split(".")[0].replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return ENGLISH
    return PORTUGUESE if locale.language == "pt" else ENGLISH


def shell_language() -> str:
    """The language of the command line: LC_ALL, LC_MESSAGES, then LANG, as gettext reads them."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := os.environ.get(variable):
            return language_of(value)
    return ENGLISH


class _Catalogue:
    def __init__(self, language: str):
        with open(LOCALE_FOLDER / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as po:
            catalogue = read_po(po, locale=language, domain=DOMAIN)
        self.codes = {entry.id if isinstance(entry.id, str) else entry.id[0] for entry in catalogue if entry.id}
        self.plurals = {entry.id[0] for entry in catalogue if isinstance(entry.id, tuple)}
        compiled = io.BytesIO()
        write_mo(compiled, catalogue)
        compiled.seek(0)
        self.translations = gettext.GNUTranslations(compiled)
        self.locale = Locale.parse(language)

    def words(self, code: str, n: int | None) -> str:
        if code in self.plurals:
            return self.translations.ngettext(code, code, 1 if n is None else n)
        return self.translations.gettext(code)


@functools.cache
def catalogue(language: str) -> _Catalogue:
    return _Catalogue(language if language in LANGUAGES else ENGLISH)


def number(value: float, language: str = ENGLISH, decimals: int = 3) -> str:
    """A number as the language writes it: 1,799.5 in English, 1.799,5 in Portuguese."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals and not float(value).is_integer() else "")
    return format_decimal(value, format=pattern, locale=catalogue(language).locale)


def number_symbols(language: str) -> tuple[str, str]:
    """(decimal mark, thousands separator) of the language: ('.', ',') in English, (',', '.') in Portuguese."""
    locale = catalogue(language).locale
    return get_decimal_symbol(locale), get_group_symbol(locale)


def percent(fraction: float, language: str = ENGLISH, decimals: int = 1) -> str:
    """92.5% in English, 92,5% in Portuguese."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    return format_percent(fraction, format=pattern, locale=catalogue(language).locale)


def text(item: Message | str, language: str = ENGLISH) -> str:
    """The words for `item` (a Message, or a code without parameters) in `language`. A code without
    an entry shows as itself, so a missing entry is visible (and tests/test_messages.py fails)."""
    found = item if isinstance(item, Message) else Message(item)
    if found.code == LITERAL:
        return str(found.params.get("text", ""))
    chosen = catalogue(language)
    values = {name: _shown(value, language) for name, value in found.params.items()}
    words = chosen.words(found.code, found.params.get("n"))
    if words == found.code and found.code not in chosen.codes:
        return found.code
    return words.format_map(_Filled(values))


class _Filled(dict):
    """Parameters for the words; one the words name but the message lacks (a message from an older
    version, or from a worker) shows as its placeholder instead of failing the page."""

    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


def _shown(value: Any, language: str) -> str:
    if isinstance(value, Message):
        return text(value, language)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Percent):
        return percent(value, language, value.decimals)
    if isinstance(value, (int, float)):
        return number(value, language)
    if isinstance(value, (list, tuple)):
        return ", ".join(_shown(v, language) for v in value)
    return str(value)
