"""Translations and locale-aware formatting, resolved once per update.

Catalogs live in the `locales` package (gettext domain ``messages``). Compiled ``.mo``
files are preferred; when a checkout has not compiled them yet the ``.po`` source is
compiled in memory, so a fresh clone still speaks both languages.
"""

from __future__ import annotations

import ast
import errno
import gettext as _gettext
import io
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_interval, format_time, get_timezone, get_timezone_name
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

SUPPORTED_LOCALES = ("de", "en")
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks a message id for extraction where it is translated later (e.g. in a table)."""
    return message


def resolve_locale(language_code: str | None, default: str) -> str:
    """Map Telegram's ``language_code`` (``de``, ``en-GB``...) to a supported locale."""
    if language_code:
        primary = language_code.replace("_", "-").split("-")[0].lower()
        if primary in SUPPORTED_LOCALES:
            return primary
    return default if default in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]


@cache
def _translations(locale: str) -> _gettext.NullTranslations:
    folder = resources.files("locales").joinpath(locale, "LC_MESSAGES")
    mo = folder.joinpath(f"{DOMAIN}.mo")
    po = folder.joinpath(f"{DOMAIN}.po")
    if mo.is_file() and not _newer(po, mo):
        return _gettext.GNUTranslations(io.BytesIO(mo.read_bytes()))
    if po.is_file():
        catalog = read_po(io.BytesIO(po.read_bytes()), locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return _gettext.GNUTranslations(buffer)
    return _gettext.NullTranslations()


def _newer(first: Traversable, second: Traversable) -> bool:
    """Whether `first` was edited after `second` was compiled (a checkout mid-edit)."""
    if not (isinstance(first, Path) and isinstance(second, Path) and first.is_file()):
        return False
    return first.stat().st_mtime > second.stat().st_mtime


@cache
def _translated_ids(locale: str) -> frozenset[str]:
    """The message ids the catalog of `locale` has a translation for, from the file the
    translations come from (see _translations): a .po edited after the .mo was compiled
    translated the bot, while `check` still read the old .mo (found by a README audit)."""
    folder = resources.files("locales").joinpath(locale, "LC_MESSAGES")
    mo, po = folder.joinpath(f"{DOMAIN}.mo"), folder.joinpath(f"{DOMAIN}.po")
    if mo.is_file() and not _newer(po, mo):
        catalog = read_mo(io.BytesIO(mo.read_bytes()))
    elif po.is_file():
        catalog = read_po(io.BytesIO(po.read_bytes()), locale=locale)
    else:
        return frozenset()
    return frozenset(m.id for m in catalog if isinstance(m.id, str) and m.id and m.string)


def tenths(value: float | Decimal) -> Decimal:
    """`value` rounded to one decimal place, halves up: what a person reads. A change
    between two figures shown is taken between these, so that it matches them."""
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _signed(rounded: Decimal, magnitude: str) -> str:
    if rounded == 0:
        return "±" + magnitude
    return ("+" if rounded > 0 else "-") + magnitude


# The operating system's reasons an operator meets most, in the catalogs; others stay as
# the system says them (in its own language, usually English).
SQLITE_REASONS = {
    "unable to open database file": N_("the database file cannot be opened"),
    "attempt to write a readonly database": N_("the database is read-only"),
    "disk I/O error": N_("the disk could not be read or written"),
    "database is locked": N_("the database is in use by another program"),
    "database or disk is full": N_("the disk is full"),
}
"""SQLite's reasons an operator meets most, in the catalogs (as it words them)."""
OS_REASONS = {
    errno.ENOENT: N_("no such file or folder"),
    errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("operation not permitted"),
    errno.ENOTDIR: N_("not a folder"),
    errno.EISDIR: N_("is a folder"),
    errno.EROFS: N_("read-only file system"),
    errno.ENOSPC: N_("no space left on the disk"),
    errno.EEXIST: N_("already exists"),
}
# What tomllib says of a file it cannot read, in the catalogs (found by a flow author's
# review: a German `check` gave "kein gültiges TOML: Unclosed inline table"); the names in
# braces are the parts of its message that vary. Anything else is shown as tomllib says it.
TOML_REASONS = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (r"Unclosed inline table", N_("an inline table { … } is not closed")),
        (r"Unclosed array", N_("a list [ … ] is not closed")),
        # (a quote not closed: at the end of the file, or on its line; found by review)
        (
            # (only a quote expected: "Expected '='" is a key without its value)
            r"Unterminated string|Expected \"'{1,3}\"|(?:Illegal|Found invalid) character '\\n'",
            N_("a text in quotes is not closed"),
        ),
        (r"Expected '=' after a key in a key/value pair", N_("a key without “= value”")),
        (r"Expected ']' at the end of a table declaration", N_("a [table] without “]”")),
        (r"Expected ']]' at the end of an array declaration", N_("a [[table]] without “]]”")),
        (
            r"Expected newline or end of document after a statement",
            N_("more on the line after a value"),
        ),
        (r"Invalid value", N_("a value that is not text in quotes, a number, true or false")),
        (r"Invalid statement", N_("a line that is no key = value and no [table]")),
        (
            r"Invalid initial character for a key part",
            N_("a key that begins with a sign, or a comma or line break too many in { … }"),
        ),
        (r"Invalid date or datetime", N_("an invalid date")),
        (
            r"Invalid hex value|Escaped character is not a Unicode scalar value",
            N_("an invalid \\u escape"),
        ),
        (
            r"Unescaped '\\' in a string",
            N_("a backslash in a text in quotes: write \\\\ or use '…'"),
        ),
        (r"Cannot overwrite a value", N_("a key given twice")),
        (r"Cannot declare (?P<key>.+) twice", N_("{key} declared twice")),
        (r"Cannot redefine namespace (?P<key>.+)", N_("{key} declared twice")),
        (r"Cannot mutate immutable namespace (?P<key>.+)", N_("{key} declared twice")),
        (r"Duplicate inline table key (?P<key>.+)", N_("the key {key} twice in one table")),
        (
            r"(?:Illegal|Found invalid) character (?P<char>.+)",
            N_("a character not allowed here: {char}"),
        ),
        (r"nested too deeply", N_("lists or tables nested too deeply")),
        (r"a number has too many digits", N_("a number has too many digits")),
    )
)


def _dotted(key: str) -> str:
    """A TOML key as tomllib shows it ("('a', 'b')", "(\"it's\",)") as written: a.b, quoted
    where it is empty."""
    try:
        parts = ast.literal_eval(key)
    except (ValueError, SyntaxError):
        return key
    if not isinstance(parts, tuple) or not all(isinstance(part, str) for part in parts):
        return key
    return ".".join(part if part else '""' for part in parts)


_TOML_WHERE = re.compile(
    r"^(?P<reason>.*?) \((?:at line (?P<line>\d+), column (?P<column>\d+)|at end of document)\)$"
)


_DATES_AS_IN = {"en": "en_150"}
"""The Babel locale a language's dates and times are written in: English as in Europe
("28/11/2026", "28 November 2026", "16:05 CET"), not as in the US ("11/28/26", "4:05 PM
UTC+1"), for the customers and staff of a company in the EU."""
_ZONES_AS_IN = {"en": ("en_150", "en", "en_GB")}
"""Where a language's short names of time zones come from, the first that has one: Babel
knows "CET" in European English, "EST" in US English, "GMT" in British English."""


@dataclass(frozen=True)
class Translator:
    """Gettext plus Babel formatting for one locale."""

    locale: str

    @property
    def _dates(self) -> str:
        return _DATES_AS_IN.get(self.locale, self.locale)

    def gettext(self, message: str) -> str:
        return _translations(self.locale).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _translations(self.locale).ngettext(singular, plural, n)

    def knows(self, message: str) -> bool:
        """Whether the catalog translates `message` (else gettext shows it as written)."""
        return message in _translated_ids(self.locale)

    def short_date(self, value: date | datetime) -> str:
        """``29.11.26``, ``29/11/2026``: for the chart's labels, where space is short."""
        return format_date(value, format="short", locale=self._dates)

    def medium_date(self, value: date | datetime) -> str:
        """``29.11.2026``, ``29 Nov 2026``: the date of an alert (see `datetime`), and of a
        summary's comments, so that staff read one format for a day (found by a staff
        review: "25.11.2026" in alerts, "24.11.26" and "28/11/2026" in summaries)."""
        return format_date(value, format="medium", locale=self._dates)

    def days_from(self, first: date, last: date) -> str:
        """``3.–5. Dez. 2026``, ``3 – 5 Dec 2026``; one day alone where `first` is `last`."""
        return format_interval(first, last, "yMMMd", locale=self._dates)

    def date(self, value: date | datetime, timezone: str | None = None) -> str:
        """A long date; a moment is dated in `timezone` when given (a deletion at 23:30 UTC
        happens on the next day in Berlin)."""
        if timezone is not None and isinstance(value, datetime):
            value = value.astimezone(get_timezone(timezone))
        return format_date(value, format="long", locale=self._dates)

    def datetime(self, value: datetime, timezone: str = "Europe/Berlin") -> str:
        """Date and time to the minute in `timezone`, which it names: ``29.11.2026, 15:05
        MEZ``, ``29 Nov 2026, 15:05 CET`` (where the language has no short name for the
        zone, the offset: ``UTC+5:30``; the export file has UTC)."""
        local = value.astimezone(get_timezone(timezone))
        day = self.medium_date(local)
        time = format_time(local, format="short", locale=self._dates)
        return f"{day}, {time} {_zone_name(local, _ZONES_AS_IN.get(self.locale, (self.locale,)))}"

    def number(self, value: float) -> str:
        return str(format_decimal(value, locale=self.locale))

    def decimal(self, value: float | Decimal) -> str:
        """To one decimal place, halves rounded up (2.65 is 2,7), as `tenths` rounds."""
        return str(format_decimal(tenths(value), format="#,##0.0", locale=self.locale))

    def signed_decimal(self, value: float | Decimal) -> str:
        """A change: "+0,1", "-0,1", and "±0,0" for none (not "-0,0")."""
        rounded = tenths(value)
        return _signed(rounded, self.decimal(abs(rounded)))

    def percent(self, value: float) -> str:
        return str(format_percent(value, locale=self.locale))

    def signed_percent(self, value: float) -> str:
        whole = Decimal(str(value * 100)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return _signed(whole, self.percent(abs(float(whole)) / 100))

    def reason(self, error: BaseException) -> str:
        """Why reading or writing failed: the system's reason in this language where the
        catalogs know it (an OSError), else the error's own words (a TOML error)."""
        if isinstance(error, UnicodeDecodeError):  # Python's words give a byte offset
            line = error.object[: error.start].count(b"\n") + 1
            return self.gettext("not UTF-8 text (line {line}); save the file as UTF-8").format(
                line=line
            )
        if isinstance(error, tomllib.TOMLDecodeError):
            return self._toml_reason(str(error))
        if type(error).__module__ == "sqlite3" and str(error) in SQLITE_REASONS:
            # SQLite's English inside a German line (found by an operator walk-through:
            # "…kann nicht geschrieben werden: unable to open database file")
            return self.gettext(SQLITE_REASONS[str(error)])
        if not isinstance(error, OSError):
            return str(error)
        known = OS_REASONS.get(error.errno) if error.errno is not None else None
        return self.gettext(known) if known else error.strerror or type(error).__name__

    def _toml_reason(self, said: str) -> str:
        where = _TOML_WHERE.match(said)
        reason = where["reason"] if where else said
        for pattern, message in TOML_REASONS:
            found = pattern.fullmatch(reason)
            if found is not None:
                parts = {  # a key as written, not a tuple of its parts: "('a', 'b')" is a.b
                    name: _dotted(part) for name, part in found.groupdict().items()
                }  # (and no braces filled in where none vary: "{ … }" is shown as is)
                reason = self.gettext(message).format(**parts) if parts else self.gettext(message)
                break
        if where is None:
            return reason
        if where["line"] is None:
            return self.gettext("{reason} (at the end of the file)").format(reason=reason)
        return self.gettext("{reason} (line {line}, column {column})").format(
            reason=reason, line=where["line"], column=where["column"]
        )

    def duration(self, value: timedelta) -> str:
        """Whole-unit duration, e.g. ``180 Tage`` / ``180 days`` / ``12 hours``."""
        return _duration(self.locale, int(value.total_seconds()))

    def days(self, value: float | Decimal) -> str:
        """Days with a part of one: ``10,5 Tage`` / ``10.5 days``."""
        return str(format_unit(value, "duration-day", locale=self.locale))

    def language(self, code: str) -> str:
        """The name of language `code` in this locale: ``Englisch`` for ``en`` in German."""
        return str(Locale.parse(code).get_display_name(self.locale))


def _zone_name(local: datetime, locales: tuple[str, ...]) -> str:
    """ "MEZ", "CET", "EST"; where Babel has no short name in any of `locales` (only an
    offset, "+0100", or a long name), the offset from UTC as people write it: "UTC+1",
    "UTC+5:30", and "UTC" itself where it is none (Dublin or London in winter, in German:
    it said "UTC+0"). Not the long names for Dublin: Babel's are a season off there
    ("Irische Sommerzeit" in January), since Irish law makes summer time the standard."""
    for locale in locales:
        name = str(get_timezone_name(local, "short", locale=locale))
        if name[:1] not in "+-" and " " not in name:
            return name
    if local.utcoffset() is None:
        return name
    minutes = int(local.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


@lru_cache(maxsize=256)  # a few configured durations, formatted on most updates
def _duration(locale: str, seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            return str(format_unit(seconds // size, f"duration-{unit}", locale=locale))
    return str(format_unit(seconds, "duration-second", locale=locale))


@cache
def translator(locale: str) -> Translator:
    return Translator(locale if locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0])
