"""Removes personal data from comments before staff see them.

E-mail addresses (also spelled "(at)"), phone numbers, IBANs (checked with mod-97; a
mistyped one counts as a number), IPv4 addresses, long numbers written in groups,
URLs and links without a scheme, @handles, numbers that look like customer or order ids
and shorter ones a word names as such become translated placeholders such as
``[E-Mail]`` or ``[Telefon]``. Order matters: the most specific patterns run first.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flows.i18n import N_, Translator

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# "erika(at)example(dot)org", "erika [at] example.org", "erika(ät)beispiel(punkt)de"
_TLDS = ("com", "de", "org", "net", "eu", "at", "ch", "info", "io", "co", "uk", "fr", "nl")
_SPELLED_EMAIL = re.compile(
    r"[\w.+-]+\s*[(\[{]\s*(?:at|ät)\s*[)\]}]\s*[\w-]+"
    r"(?:\s*[(\[{]\s*(?:dot|punkt)\s*[)\]}]\s*[\w-]+|\.[\w-]+)+"
    # "erika dot muster at example dot com": bare words, so only ending in a known
    # top-level domain ("polka dot dresses" is no address)
    rf"|[\w.+-]+(?:\s+(?:dot|punkt)\s+[\w.+-]+)*\s+(?:at|ät)\s+[\w-]+"
    rf"(?:\s+(?:dot|punkt)\s+[\w-]+)*\s+(?:dot|punkt)\s+(?:{'|'.join(_TLDS)})\b",
    re.IGNORECASE,
)
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
# A domain with a path and no scheme: "example.com/profil/erika", "t.me/erika_m".
_BARE_LINK = re.compile(r"\b(?:[\w-]+\.)+[a-z]{2,24}/[^\s<>\"']*", re.IGNORECASE)
_IBAN = re.compile(
    r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", re.IGNORECASE
)
# An IBAN-shaped string that fails the check is still an account number, mistyped: taken
# whole as a number (not an IBAN) when it has the digits of one, so that no piece of it is
# left for the phone pattern to half-take. "de12 ganz toll" has too few digits to count.
_IBAN_DIGITS = 12
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
# +49 151 12345678, 0151/1234567, (030) 123 45 67, 030-1234567, +1 (555) 123-4567,
# 030 / 123 456 78, 0151 - 234 567 89, 0 30 / 12 34 56
_SEPARATOR = r"(?:\s?[./-]\s?|\s)?"
_PHONE = re.compile(
    rf"(?<![\w+])(?:\+\d{{1,3}}{_SEPARATOR}|\(?\b0(?!00)\s?)(?:\(?\d{{1,5}}\)?{_SEPARATOR}){{1,5}}\d{{2,}}"
    r"(?![\w])"
)
# An IPv4 address (each part at most 255), not part of a longer chain of digits.
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
)
# Digits in groups of up to four, nine or more in all: a tax id "12 345 678 901", an
# account or policy number; short groups ("1 000 000", "30 Tage") stay.
# A leading 0 is a phone number's (0151 2345 6789), left to that pattern.
_GROUPED_NUMBER = re.compile(r"(?<![\d.,+])(?<!\d )[1-9]\d{0,3}(?: \d{2,4}){2,}(?![\d.,])")
# A payment card number: 13 to 19 digits in groups, valid by the Luhn check.
_CARD = re.compile(r"\b\d{4}(?:[ -]?\d{3,4}){2,4}\b")
# Dates and times of day are no phone numbers: "01.02.2024", "12.03.", "03/12/2024",
# "2024-02-01", "08.00-18.00", "8:30". They are set aside while the patterns run, dates
# first, then times, each only if it is a real date or time standing on its own: never
# part of a longer chain of digits ("06.12.34.56.78", "0171/12.34.567").
_DATE = re.compile(
    r"\b(?:(?P<y>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})"
    r"|(?P<d2>\d{1,2})\.\s?(?P<m2>\d{1,2})\.(?:\s?\d{4}|\s?\d{2}\b)?"
    r"|(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?:\d{4}|\d{2})\b)"
)
_TIME = re.compile(
    r"\b(?P<h1>\d{1,2})[.:](?P<n1>\d{2})(?:\s?(?:-|–|bis)\s?(?P<h2>\d{1,2})[.:](?P<n2>\d{2}))?\b"
)
_CHAIN_BEFORE = re.compile(r"(?:\d[\s./-]?|\)\s?|\+)$")
_CHAIN_AFTER = re.compile(r"^[./-]?\d")
_SET_ASIDE = 0xE000  # private-use characters stand for the spans set aside
# "Bestellnummer 12345", "Kd.-Nr. A-1234", "#12345", "order 123456", and any 5+ digit run.
_ID = re.compile(
    r"(?:#\s?\d{3,}|\b[A-Z]{1,4}-?\d{4,}\b|\b\d{5,}\b)",
)
# A shorter number that a word names as an id: "Kundennummer 4711", "Bestell-Nr.: 1234",
# "order no. 123", "Vertragsnummer 12 345 678"; a bare "Rechnung 2031" from four digits
# on. The word stays, the number goes. ("Kundenservice 100 Punkte" keeps its number.)
_ID_WORD = (
    r"\b(?:kunden|kd|bestell|auftrags?|rechnungs?|vertrags?|vorgangs?|"
    r"order|customer|invoice|account|contract|ticket|konto)"
)
_NAMED_ID = re.compile(
    rf"(?P<label>{_ID_WORD}(?:[\s.-]*(?:nummer|nr|number|no|id)\b\.?[\s:#.-]*(?=\d)"
    r"|[\s:#.-]+(?=\d{4})))(?P<number>\d(?:[ -]?\d){2,})\b",
    re.IGNORECASE,
)

PLACEHOLDERS = {
    "email": N_("[E-Mail]"),
    "phone": N_("[Phone]"),
    "iban": N_("[IBAN]"),
    "url": N_("[URL]"),
    "handle": N_("[Handle]"),
    "id": N_("[Number]"),
    "ip": N_("[IP]"),
}


def _iban_valid(candidate: str) -> bool:
    """The ISO 13616 check: move the first four characters to the end, letters to
    numbers (A=10 ... Z=35), and the result modulo 97 must be 1."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def redact(text: str, t: Translator) -> str:
    """The comment with personal data replaced by placeholders in the staff member's language."""
    return _replace(text, lambda kind: t.gettext(PLACEHOLDERS[kind]))


def strip_personal(text: str) -> str:
    """The comment with personal data blanked out: for counting words in any language."""
    return _replace(text, lambda kind: " ")


def _luhn_valid(candidate: str) -> bool:
    digits = [int(ch) for ch in candidate if ch.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _replace(text: str, placeholder: Callable[[str], str]) -> str:
    set_aside: list[str] = []

    def aside(match: re.Match[str]) -> str:
        if not _real_date_or_time(match) or _in_chain(match):
            return match.group(0)
        set_aside.append(match.group(0))
        return chr(_SET_ASIDE + len(set_aside) - 1)

    def iban(match: re.Match[str]) -> str:
        if _iban_valid(match.group(0)):
            return placeholder("iban")
        return placeholder("id") if _digits(match.group(0)) >= _IBAN_DIGITS else match.group(0)

    def card(match: re.Match[str]) -> str:
        return placeholder("id") if _luhn_valid(match.group(0)) else match.group(0)

    steps: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
        (_EMAIL, lambda m: placeholder("email")),
        (_SPELLED_EMAIL, lambda m: placeholder("email")),
        (_URL, lambda m: placeholder("url")),
        (_BARE_LINK, lambda m: placeholder("url")),
        (_IBAN, iban),
        (_CARD, card),
        (_HANDLE, lambda m: placeholder("handle")),
        (_DATE, aside),
        (_TIME, aside),
        (_GROUPED_NUMBER, lambda m: placeholder("id") if _digits(m.group(0)) >= 9 else m.group(0)),
        (_PHONE, lambda m: placeholder("phone") if _digits(m.group(0)) >= 6 else m.group(0)),
        (_IPV4, lambda m: placeholder("ip") if _address(m) else m.group(0)),
        (_NAMED_ID, lambda m: m.group("label") + placeholder("id")),
        (_ID, lambda m: placeholder("id")),
    ]
    if any(_SET_ASIDE <= ord(ch) < _SET_ASIDE + 6400 for ch in text):
        text = "".join(ch for ch in text if not _SET_ASIDE <= ord(ch) < _SET_ASIDE + 6400)
    for pattern, replace in steps:
        text = pattern.sub(replace, text)
    for index, span in enumerate(set_aside):
        text = text.replace(chr(_SET_ASIDE + index), span)
    return text


def _real_date_or_time(match: re.Match[str]) -> bool:
    found = {name: int(value) for name, value in match.groupdict().items() if value}
    if "h1" in found:
        hours = [found["h1"], found.get("h2", 0)]
        minutes = [found["n1"], found.get("n2", 0)]
        return all(h <= 24 for h in hours) and all(m <= 59 for m in minutes)
    if "a" in found:  # 03/12/2024 is a date read either way round
        return 1 <= min(found["a"], found["b"]) <= 12 and max(found["a"], found["b"]) <= 31
    day, month = found.get("d1", found.get("d2", 0)), found.get("m1", found.get("m2", 0))
    return 1 <= day <= 31 and 1 <= month <= 12


def _in_chain(match: re.Match[str]) -> bool:
    """Whether digits run on before or after it: a piece of a phone number, not a date.
    (A date set aside already stands as one private-use character, not a digit.)"""
    before = match.string[max(0, match.start() - 2) : match.start()]
    after = match.string[match.end() : match.end() + 2]
    return bool(_CHAIN_BEFORE.search(before) or _CHAIN_AFTER.match(after))


_VERSION_BEFORE = re.compile(
    r"\b(?:version|v|ver|update|build|release|firmware|app|os)\.?\s*$", re.IGNORECASE
)


def _address(match: re.Match[str]) -> bool:
    """Whether four dotted numbers are an IP address rather than a version ("Version
    4.2.0.1", "v2.1.0.5"): one part has two digits at least, and no version word leads."""
    if all(len(part) == 1 for part in match.group(0).split(".")):
        return False
    return not _VERSION_BEFORE.search(match.string[max(0, match.start() - 12) : match.start()])


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


PATTERNS = (
    _EMAIL,
    _SPELLED_EMAIL,
    _URL,
    _BARE_LINK,
    _IBAN,
    _CARD,
    _HANDLE,
    _DATE,
    _TIME,
    _GROUPED_NUMBER,
    _PHONE,
    _IPV4,
    _NAMED_ID,
    _ID,
)
"""Every pattern, for fingerprints of what was computed with them (see flows.figures)."""
