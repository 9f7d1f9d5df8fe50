"""Removes personal data from comments before staff see them.

E-mail addresses (also spelled "(at)", "(a)", "[at]" ... "[.]"), phone numbers (with any
dash between the groups: "0151 – 2345 6789"; North American ones too: "(555) 123-4567";
spaced digit by digit: "0 1 5 1 2 3 4 5 6 7 8 9"), IBANs (checked with mod-97; a mistyped
one counts as a number), IPv4, IPv6 and MAC addresses, long numbers written in groups, URLs
and links without a scheme, @handles (also with dots) and accounts a word names without "@"
("Telegram: erika_m2024", "Benutzername ist ...", "Mein PayPal ist erika1980"), numbers that
look like customer or order ids (whole when joined by hyphens: "RE-2024-0815") and shorter
ones a word names as such (also those of identity documents and meters: "Ausweisnummer
L01X00T47", "Perso-Nr. L01X00T47", "Zählernummer 1ESY1160123456"), passwords and PINs after
their word ("Passwort Sonne2024", "PIN 4821"), German, Austrian and British number plates,
US social security and Swiss AHV numbers and dates of birth ("geb. am 12.3.85", "Bin am 12.
März 1985 geboren", "born on March 12, 1985") become translated placeholders such as
``[E-Mail]`` or ``[Telefon]``.

So do postal addresses (a street and house number: "Musterstraße 12", "Am Markt 3",
"123 Main Street"; a postal code and city where an address stands: "10115 Berlin"; a
post office box: "Postfach 12 34 56", "PO Box 123"; a UK postcode after a street) and
names where the comment shows them to be names: after a closing ("Viele Grüße, Erika
Mustermann", "LG Tom", "lg tom", "Gruß Kai (Kundennr. ...)", "Viele Grüße von Erika",
"LG Erika & Jan", "Regards from John Smith"), a self-introduction ("Mein Name ist ...",
"my name is ...", "Ich bin Thomas Berger", "Hi, this is Tom from ...", also with a filler:
"Ich heiße übrigens ..."), a title ("Herr Müller", "Frau Dr. Schmidt", "Dr. med. Anna
Schulz", "Mrs. Jones", also in small letters or capitals: "herr müller", "HERR MÜLLER"),
staff named in feedback too, a first and last name after a role, a relative, a holder's
label or a thank-you ("Der Fahrer Jan Petersen", "Mein Vater Klaus-Dieter Möller",
"Kontoinhaber Hans Meier", "Vielen Dank an Jan Petersen"), a common first name alone there
or after a word that names ("Der Fahrer Jan", "Danke an Kevin", "sie hieß Jessica": a first
name with a role and a branch says who works there; see flows.first_names), a family
("Familie Nowak"), a name alone on the last line ("...\nPetra Schmidt"), a common first name
ending the comment after an emoji, a thank-you, "Euer" or its last sentence ("Danke 🙏
Sandra", "Danke für alles! Sandra", "Euer Kevin", "Essen kalt.\nErika") or signed after
a dash or a comma ("... – John Smith"), or a first and last name right before an address
("an Tom Becker, Hauptstr. 5", "Jana Wolff, Bergstraße 23, ...") or next to a customer or
phone number ("Sandra Kowalski, Kundennummer ...", "Meyer, Anna - Kundennummer ...", a name
on its line above "0151 ..."). A capitalised word alone is none: German capitalises every
noun, and a brand may look like a title and a name ("Dr. Oetker").

Order matters: the most specific patterns run first.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import sys
import traceback
import unicodedata
from collections.abc import Callable, Iterator

from flows.first_names import AMBIGUOUS_IN_SMALL_LETTERS, COMMON_SURNAMES, FIRST_NAMES
from flows.i18n import N_, Translator
from flows.stopwords import STOP_WORDS

log = logging.getLogger(__name__)


class _Pattern:
    """A regular expression compiled when first used. Those below take about a second and
    a half to compile (the name lists inlined in them), which every `feedbackbot` command
    paid at start, `--help` too; `feedbackbot run` compiles them all before it polls
    (`compile_patterns`), so that no customer's comment waits for it."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().search(string, pos, endpos)

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().match(string, pos, endpos)

    def fullmatch(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> re.Match[str] | None:
        return self.compiled().fullmatch(string, pos, endpos)

    def finditer(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[re.Match[str]]:
        return self.compiled().finditer(string, pos, endpos)

    def sub(self, repl: Callable[[re.Match[str]], str], string: str) -> str:
        return self.compiled().sub(repl, string)


# Each starts only where its run of characters starts ((?<!...)): tried from every
# letter of a long word, the pattern would take time growing with the square of its length.
_TLDS = ("com", "de", "org", "net", "eu", "at", "ch", "info", "io", "co", "uk", "fr", "nl")
_MAIL_PROVIDERS = (
    r"gmail|googlemail|gmx|web|yahoo|outlook|hotmail|live|icloud|me|aol|posteo|mailbox"
    r"|t-online|freenet|proton|protonmail|mail|arcor"
)
_EMAIL = _Pattern(
    r"(?<![\w.+-])[\w.+-]+[@＠﹫][\w-]+(?:\.[\w-]+)+"
    # "erika @ gmail.com": spaced out, so only ending in a domain ("2 @ 3.99" is a price)
    # but not a capitalised word, spaced, before a capitalised domain no mail provider's
    # ("Bestellung @ Amazon.de" is where one ordered; "Anna @ gmx.de" is an address)
    # (each part of it linear: a run of 4,000 letters before "@" took 0.2 s)
    # "erika.mustermann@⏎gmx.de": a line break after "@"; "max @ example . com": spaces
    # around its dots, so only before a known top-level domain (both found by a hostile
    # customer's review: the name before "@" reached staff)
    # "thomas . berger @ web . de": spaced around the dots before "@" too (found by a
    # redaction walk-through: "thomas ." was left), from the run's first word on
    r"|(?<![\w.+-])(?<![ \t]\.[ \t])[\w+-]++(?:[ \t]+\.[ \t]+[\w+-]++)++[ \t]*[@＠﹫][ \t]*"
    r"(?:\n[ \t]*)?(?:[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}\b"
    rf"|[^\W\d_][\w-]*(?:[ \t]*\.[ \t]*[\w-]+)*[ \t]*\.[ \t]*(?:{'|'.join(_TLDS)})\b)"
    r"|(?<![\w.+-])(?:(?=[\w+-]*[._+\d])|(?!(?=[^\W\d_]*[^\W\d_a-zäöüß])[^\W\d_]++[ \t]+[@＠﹫]"
    rf"(?=\s)[ \t]*\n?[ \t]*(?!(?i:{_MAIL_PROVIDERS})\b)[A-ZÄÖÜ]))"
    r"[\w.+-]++[ \t]*[@＠﹫][ \t]*(?:\n[ \t]*)?"
    r"(?:[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}\b"
    rf"|[^\W\d_][\w-]*(?:[ \t]*\.[ \t]*[\w-]+)*[ \t]*\.[ \t]*(?:{'|'.join(_TLDS)})\b)"
    # "jens.k@gmx", "lisa.b@gmail,com": a mail provider's, the ending left out or mistyped
    rf"|(?<![\w.+-])[\w.+-]+[@＠﹫](?i:{_MAIL_PROVIDERS})\b(?:,(?i:{'|'.join(_TLDS)})\b)?",
    re.UNICODE,
)
# "Meine Mail: erika mustermann@gmx.de": after a label for an address, the words right
# before it belong to it, a space typed in it or a name written before it (found by a
# redaction walk-through: "erika" was left). Not words of the language ("Meine Mail: bitte
# an anna@gmx.de"; see mail_words), and only before what `_EMAIL` takes.
_LABELLED_MAIL = _Pattern(
    r"(?P<label>\b(?i:(?:meine?[ \t]+|my[ \t]+)?e?-?mail(?:[ \t-]?(?:adresse|address))?)"
    r"(?:[ \t]*:|[ \t]+(?i:ist|lautet|is)\b)[ \t]*)"
    r"(?P<words>(?:[\w+-]++[ \t]+){1,3}?)"
    r"(?=[\w.+-]++[ \t]*[@＠﹫][ \t]*[\w-]+(?:[ \t]*\.[ \t]*[\w-]+)+)"
)
# "erika(at)example(dot)org", "erika [at] example.org", "erika(ät)beispiel(punkt)de",
# "erika.muster(a)gmx.de", "erika[at]gmx[.]de" (the last two found by a staff-side review;
# "(a)" only without spaces around it: "Punkt (a) Anlage.pdf" is a list)
_SPELLED_EMAIL = _Pattern(
    r"(?<![\w.+-])[\w.+-]+(?:\s*[(\[{]\s*(?:at|ät)\s*[)\]}]\s*|[(\[]a[)\]])[\w-]+"
    r"(?:\s*[(\[{]\s*(?:dot|punkt|\.)\s*[)\]}]\s*[\w-]+|\.[\w-]+)+"
    # "erika dot muster at example dot com": bare words, so only ending in a known
    # top-level domain ("polka dot dresses" is no address)
    rf"|(?<![\w.+-])[\w.+-]+(?:\s+(?:dot|punkt)\s+[\w.+-]+)*\s+(?:at|ät)\s+[\w-]+"
    rf"(?:\s+(?:dot|punkt)\s+[\w-]+)*\s+(?:dot|punkt)\s+(?:{'|'.join(_TLDS)})\b"
    # "erika at gmail.com", "e.muster at example.org": a mail provider's domain, or a name
    # that is no word ("bought it at amazon.com" is a shop)
    rf"|(?<![\w.+-])(?!(?i:it|this|that|them|him|her|one|es|das|ihn|sie|ihm|ihr|was|ware)\s)"
    rf"(?:[\w.+-]++\s+(?:at|ät)\s+(?:{_MAIL_PROVIDERS})"
    rf"|(?=[\w+-]*[._+\d])[\w.+-]++\s+(?:at|ät)\s+[\w-]+(?:\.[\w-]+)*)"
    rf"\.(?:{'|'.join(_TLDS)})\b(?:\.[a-z]{{2}}\b)?"  # "yahoo.co.uk"
    # "anna (at) gmx de", "Meine Mail: anna schmidt (at) gmx de": a mail provider's and a
    # top-level domain, the dot left out (found by the corpus review); after "Mail:" the
    # word before too
    r"|(?<![\w.+-])(?:(?<=ail:[ ])[\w.+-]+[ ])?[\w.+-]+\s*[(\[{]\s*(?:at|ät)\s*[)\]}]\s*"
    rf"(?:{_MAIL_PROVIDERS})[ ]+(?:{'|'.join(_TLDS)})\b"
    # "petra.schulze at gmx de": a bare "at", the dot left out, after an address's name
    # (a dot, "_" or a digit in it: "looked at me at" is none; found by a staff review)
    r"|(?<![\w.+-])(?=[\w+-]*[._\d][\w+-])[\w.+-]++[ \t]+(?:at|ät)[ \t]+"
    rf"(?:{_MAIL_PROVIDERS})[ \t]+(?:{'|'.join(_TLDS)})\b(?!\.\w)",
    re.IGNORECASE,
)
# "max.mustermann gmail com", "erika_m gmx.de": an address's name (a dot, "_" or a digit
# in it, and a letter) and a mail provider's domain, "@" left out (found by a staff
# walk-through). Only providers that are no words ("live", "me", "mail": "2x live at
# Wembley" stays).
_MAIL_WITHOUT_AT = _Pattern(
    r"(?<![\w.+-])(?=[\w+-]*[^\W\d_])(?=[\w+-]*[._\d][\w+-])[\w.+-]++[ \t]+"
    r"(?i:gmail|googlemail|gmx|web|yahoo|outlook|hotmail|icloud|aol|posteo|t-online|freenet"
    # ("at" only after a dot: "Outlook at work", "web at the hotel": the review of it)
    r"|protonmail|arcor)(?:[ \t]+(?i:com|de|net|org|ch|eu)|[ \t]*\.[ \t]*(?i:com|de|net|org|at"
    r"|ch|eu))\b(?!\.\w)"
)
# "erika punkt mustermann bei gmx punkt de", "erika.m bei gmx.de": "bei" for "@", as said
# on the phone (found by an attack review). "bei" is an ordinary word, so only before a mail
# provider's domain, and after an address's name: spelled with "punkt", dots or digits, or
# a common first name ("Kunde bei gmx punkt de", "Ich bestelle bei web punkt de" stay; see
# spelled_bei). Not from a word after "punkt" or "dot": each run is tried once, not from
# each of its words.
_SPELLED_BEI_EMAIL = _Pattern(
    r"(?<![\w.+-])(?<!\bpunkt[ \t])(?<!\bdot[ \t])"
    r"(?P<local>[\w.+-]++(?:[ \t]+(?:dot|punkt)[ \t]+[\w.+-]++)*+)[ \t]+bei[ \t]+"
    rf"(?:{_MAIL_PROVIDERS})(?:[ \t]+(?:dot|punkt)[ \t]+|\.)(?:{'|'.join(_TLDS)})\b",
    re.IGNORECASE,
)
# (Telegram's own links too: "tg://resolve?domain=erika_m85" names an account, found by a
# hostile customer's review; and files', "ftp://erika:geheim@...".)
_URL = _Pattern(r"\b(?:(?:https?|s?ftps?|tg)://|www\.)[^\s<>\"']+", re.IGNORECASE)
# A domain with a path and no scheme: "example.com/profil/erika", "t.me/erika_m".
_BARE_LINK = _Pattern(r"(?<![\w.-])(?:[\w-]+\.)+[a-z]{2,24}/[^\s<>\"']*", re.IGNORECASE)
# A domain alone, or with a port, query or fragment: "kunden-login-hilfe.com",
# "erika-mustermann.de", "evil.com:8080", "сайт.рф" (Telegram makes each a link staff can
# click; a personal one names its owner; found by review). Known top-level domains only;
# those that are words too ("thanks.it works", "danke.es", "z.B.in der Filiale") only
# with a path, port or query after them. Written as Telegram links them: not Capitalised
# ("gut.Es hat geklappt" is two sentences typed together; see `_domain`).
_WEB_TLDS = (
    *(t for t in _TLDS if t not in ("at", "io")),
    *("biz", "xyz", "online", "shop", "site", "store", "top", "link", "club", "dev", "ru"),
    *("рф", "pl", "se", "dk", "cz", "ca", "au", "cc", "ai", "support", "help", "live", "tk"),
    *("ws", "ly", "gg", "cn", "jp", "br", "mobi", "click", "vip", "icu", "cyou", "rest"),
)
_WORD_TLDS = ("at", "io", "in", "it", "es", "me", "be", "us", "to", "so", "do", "is", "app")
_AFTER_DOMAIN = r"(?::\d{1,5})?(?:[/?#][^\s<>\"']*)?"
_DOMAIN = _Pattern(
    r"(?<![\w.@/-])(?:[\w-]+\.)+"
    rf"(?:(?P<tld>{'|'.join(_WEB_TLDS)}|xn--[a-z0-9-]+)(?![\w-]){_AFTER_DOMAIN}"
    rf"|(?P<word>{'|'.join(_WORD_TLDS)})(?![\w-])(?P<after>{_AFTER_DOMAIN}))",
    re.IGNORECASE,
)


_OPENING = {")": "(", "]": "[", "}": "{"}


def _after_link(link: str) -> str:
    """What ends a link's match but not the link: the punctuation after it, and a closing
    bracket it does not open ("[Link](https://example.org/x)" read "[Link]([URL]", found by
    a hostile customer's walk-through; "https://de.wikipedia.org/wiki/A_(B)" is whole)."""
    end = len(link)
    while end:
        last = link[end - 1]
        if last in ".,;:!?" or (
            last in _OPENING and link.count(last, 0, end) > link.count(_OPENING[last], 0, end)
        ):
            end -= 1
        else:
            break
    return link[end:]


def _is_domain(match: re.Match[str]) -> bool:
    """Whether `_DOMAIN` found a link: not a Capitalised ending ("Es", "Com": a word
    beginning a sentence, which Telegram does not make a link), and a word-like one only
    with a path, port or query after it, or a hyphen in the name ("erika-muster.at")."""
    tld = match["tld"] or match["word"]
    if len(tld) > 1 and tld[0].isupper() and tld[1:].islower():
        return False
    return match["tld"] is not None or bool(match["after"]) or "-" in match.group(0)


# (Hyphen, non-breaking hyphen, figure dash, en dash, em dash, minus sign.)
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212"
# An IBAN, its groups apart by spaces, dashes or dots ("DE89-3704-0044-…", "DE89.3704.0044.…":
# found by a hostile customer's review, which saw the first eight characters kept and
# the rest taken for a phone number), and not part of a longer chain.
_IBAN_GAP = rf"(?:[ ]?[.{_DASHES}-][ ]?|[ ])?"
_IBAN = _Pattern(
    rf"\b[A-Z]{{2}}\d{{2}}(?:{_IBAN_GAP}[A-Z0-9]{{4}}){{2,7}}(?:{_IBAN_GAP}[A-Z0-9]{{1,3}})?\b"
    rf"(?![.{_DASHES}-]\w)",
    re.IGNORECASE,
)
# An IBAN-shaped string that fails the check is still an account number, mistyped: taken
# whole as a number (not an IBAN) when it has the digits of one, so that no piece of it is
# left for the phone pattern to half-take. "de12 ganz toll" has too few digits to count.
_IBAN_DIGITS = 12
# Words with a small letter at the end of such a string ("… 1234 ist", "… 1234 falsch"):
# an account number's groups are digits and capitals.
_WORDS_AFTER_A_NUMBER = _Pattern(rf"(?:[ .{_DASHES}-]+(?=[A-Za-z]*[a-z])[A-Za-z]+)+$")
# Instagram's may have dots: "@erika.muster" went but for ".muster" (found by a staff-side
# review). Small letters after a dot only: "@anna.Danke" is a sentence typed on.
_HANDLE = _Pattern(
    r"(?<![\w@])@(?!(?i:home|work|office|everyone|here|all)\b)[A-Za-z][A-Za-z0-9_]{3,31}"
    r"(?:\.[a-z0-9_]{1,30}){0,3}\b"
)
# An account named without "@" after a word that says it is one: "Telegram: erika_m2024",
# "mein TG ist erika_m2024", "Mein Telegram-Benutzername ist erika_m2024", "Instagram
# erika.muster", "username: john_smith99" (found by a DPO review: "@erika_m2024" went,
# these did not). Only a name shaped as one, with a digit, "_" or a dot in it, and no
# version ("v2"); a Signal username always ends in a dot and two digits ("erika.01"). So
# "Telegram ist super", "Benutzername ist falsch" and "Das Signal ist schwach" stay.
# A payment service's too ("Paypal: erika.mustermann", "an PayPal erika.mustermann", "Mein
# PayPal ist erika1980"), "bin ich" after a service ("auf Insta bin ich erika_mustermann"),
# and after "Benutzer", "Account" or "Konto" with a colon or "ist"/"heißt" ("Benutzer:
# erika78", "Mein Account heißt erika78"): found by a redaction walk-through. ("PayPal ist
# super", "Zahlung per PayPal klappte", "Als Nutzer iOS17 ..." stay.)
_ACCOUNT_SERVICES = (
    "telegram instagram insta twitter tiktok discord skype threema snapchat facebook "
    "twitch steam reddit mastodon bluesky paypal venmo revolut"
).split()
_ACCOUNT_OWNERS = "benutzer nutzer user account konto".split()
# ("Benutzerkennung st123456", "meine Kennung ist st123456": found by a precision check of a
# university's comments; not a device's "Kennung E12 am Display", its review)
_ACCOUNT_WORDS = [
    *(
        "benutzername nutzername username user-name anmeldename loginname login nickname "
        "gamertag handle benutzerkennung nutzerkennung userid user-id benutzer-id login-id"
    ).split(),
    r"meine[ \t]+kennung",
]
# "Telegram-Benutzername", "TG-Name", "Instagram Account", "X-Handle" (X alone is a letter)
_ACCOUNT_SUFFIX = (
    r"(?i:benutzername|nutzername|username|user-?name|name|handle|account|konto|profil"
    r"|profile|id|nickname|nick|kontakt)"
)
_NAMED_ACCOUNT = _Pattern(
    rf"(?P<lead>(?<![\w@.-])(?:(?:(?i:{'|'.join(_ACCOUNT_SERVICES)})|TG|(?P<signal>(?i:signal)))"
    # (in small letters before a colon: "tg: max_m", found by the corpus audit; "tg" alone
    # may be a car park's, "TG" is looked for in capitals)
    rf"(?:[ \t-]?{_ACCOUNT_SUFFIX})?|X-{_ACCOUNT_SUFFIX}|tg(?=[ \t]*:)"
    rf"|(?i:{'|'.join(_ACCOUNT_WORDS)})|(?P<owner>(?i:{'|'.join(_ACCOUNT_OWNERS)})))\b"
    r"(?(owner)(?:[ \t]*[:=][ \t]*|[ \t]+(?=(?i:ist|lautet|heißt|heisst|is)\b))"
    r"|(?:[ \t]*[:=][ \t]*|[ \t]+))"
    r"(?:(?i:ist|lautet|heißt|heisst|is|unter|als|under|as|bin[ \t]+ich|i[ \t]+am|i['’]m)"
    r"[ \t]*:?[ \t]+)?)"
    # (each lookahead reads one name at most: linear however long the comment)
    r"(?![vV]\d)(?(signal)(?=[A-Za-z0-9_]{3,32}\.\d{2})|)"
    r"(?=[A-Za-z0-9_]{0,31}(?:[\d_]|#\d)|[A-Za-z0-9_]{1,32}\.[a-z0-9_])"
    r"[A-Za-z][A-Za-z0-9_]{2,31}(?:\.[a-z0-9_]{1,30}){0,3}(?:#\d{4})?\b(?!@)"
)
# "DM me at @ janedoe", "Ich bin @ anke_wolf": a space typed after "@" (found by a staff
# walk-through: both reached staff). A name shaped as an account's (a digit, "_" or a dot
# in it), or after words that ask to be written to (see spaced_handle): "Treffen @
# Bahnhof", "Preis @ Home" stay.
_SPACED_HANDLE = _Pattern(
    r"(?<![\w@])@[ \t]+(?!(?i:home|work|office|everyone|here|all)\b)"
    r"(?P<name>[A-Za-z][A-Za-z0-9_]{3,31}(?:\.[a-z0-9_]{1,30}){0,3})\b(?!@)"
)
# (Whole words, written to the reader, or an account's word: "address @ checkout",
# "Erreichbarkeit @ Hotline", "Contact @ reception" stay; found by the review of it.)
_WRITE_TO = _Pattern(
    # (formal too, "Schreiben Sie mir", "Melden Sie sich"; not "tg", also a car park's
    # "TG": the second review)
    r"(?i:\b(?:(?:dm|pm|message|msg|text|write|contact|reach|add|follow|find)[ \t]+(?:me|us)"
    r"|(?:schreib|schreibe|schreibt|schreiben|kontaktiere|kontaktiert|kontaktieren|melde"
    r"|meldet|melden|meld|erreichst|erreicht|erreichen|folge|folgt|folgen|findest|findet"
    r"|finden|find)[ \t]+(?:(?:sie|du|dich)[ \t]+)?(?:mir|mich|uns|sich|dich|bei[ \t]+mir)"
    rf"|{'|'.join(_ACCOUNT_SERVICES)}|handle|username|user-?name|benutzername|nutzername"
    # (a comma right before "@" only: "DM me, @ janedoe", not "Kontaktiert mich gerne,
    # Termin @ Filiale")
    r"|nickname)\b|\b(?:kontakt|contact)[ \t]*:)[^.!?,;\n]*(?:,[ \t]*)?\Z"
)
# "jane_doe99 on Telegram", "Ich bin erika.m auf Insta": an account's name before the
# service it is on (found by a staff walk-through; _NAMED_ACCOUNT takes one after it).
# Shaped as one only (a digit, "_" or a dot in it, no version): "Support on Telegram",
# "Fotos auf Instagram" stay.
# (Not a product, a code or a hashtag: "FIFA23 on Steam", "iPhone15 on Facebook", "Code
# SOMMER20 auf Instagram", "#urlaub2024 auf Instagram"; found by the review of it: a "_"
# or a dot in it, or small letters and two digits at least.)
_ACCOUNT_ON_SERVICE = _Pattern(
    r"(?<![\w@.#-])(?![vV]\d)"
    # (or a word, maybe capitalised or two joined, and two digits: "Erika85", "JaneDoe99",
    # the second review; not all capitals, "FIFA23", nor "iPhone15")
    r"(?=[A-Za-z0-9_]{0,31}_|[A-Za-z0-9_]{1,32}\.[a-z0-9_]"
    r"|[A-Za-z][a-z]+(?:[A-Z][a-z]+)?\d{2,}(?![\w.]))"
    r"[A-Za-z][A-Za-z0-9_]{2,31}(?:\.[a-z0-9_]{1,30}){0,3}\b(?!@)"
    rf"(?P<tail>[ \t]+(?i:on|auf|bei|via|über|in|at)[ \t]+(?i:{'|'.join(_ACCOUNT_SERVICES)}|tg)\b)"
)
# A password or PIN given after its word ("Passwort: Sommer2024!", "PW: hallo123", "my
# password is Hunter2!", "Mein PIN ist 1234"; found by a staff walk-through: shown to
# staff as written): after a colon or "=" whatever follows, after "ist"/"is" only what has
# a digit or a sign within it ("das Passwort ist zu lang." stays). Right after the word too
# ("Passwort Sonne2024", "PIN 4821", "my password sunshine99 doesn't work", "Meine
# Geheimzahl ist 4821", "Zugangsdaten: erika78 / Sonne2024"; found by a redaction
# walk-through), but there four characters at least, a digit or a sign between letters in
# them, no sentence's sign at their end, and not a length or a count ("Passwort 8-stellig",
# "PIN 3x falsch", "Passwort 12 Zeichen", "password 2FA": see _LENGTH_OR_COUNT). So
# "PIN vergessen", "password reset", "Das Passwort war zu lang" stay.
_LENGTH_OR_COUNT = (
    r"(?!\d+[ \t-]*(?i:zeichen|stellig\w*|stellen|ziffern|buchstaben|characters?|chars"
    r"|digits?|letters|mal|x|fach|versuchen?|attempts?|tries|times|tagen?|days?|wochen"
    r"|weeks?|monaten?|months?|jahren?|years?|stunden|hours?|minuten|minutes?|min|h)\b"
    r"|(?i:2fa)\b)"
)
_PASSWORD = _Pattern(
    # (after an account's word and a hyphen too: "WLAN-Passwort: Sommer2024!", "Login-Passwort
    # ist Sommer2024!", found by a precision check; not "map-pin", the regression check)
    r"(?P<label>(?<![\w-])(?:(?i:(?:wlan|wifi|wi-fi|login|router|konto|account|e-mail|email"
    r"|mail|admin|app|portal|master|root|kunden|online|web|netflix|amazon)-)?(?i:passwort"
    r"|password|kennwort|passwd|pw|pin|pin-code|pincode"
    r"|pin-nummer|pinnummer|puk|passcode|zugangscode|geheimzahl|geheimnummer)"
    r"(?:[ \t]*[:=][ \t]*(?P<colon>)|[ \t]+(?i:ist|lautet|is|was|war)[ \t]+|[ \t]+(?P<bare>))"
    # a login and a password at once: "Zugangsdaten: erika78 / Sonne2024"
    r"|(?i:zugangsdaten|anmeldedaten|logindaten|login-daten|credentials)(?P<pair>)"
    r"(?:[ \t]*:[ \t]*|[ \t]+(?i:sind|lauten|are)[ \t]+)))"
    r"(?(colon)\S{2,64}"
    rf"|(?(bare){_LENGTH_OR_COUNT}(?=\S*\d|\S*?\w[!#$%&*+=@^~§]+\w)\S{{3,63}}?[^\s.,;:]"
    r"(?=[.,;:]*(?:\s|\Z))"
    r"|(?=\S*\d|\S*[^\w\s]\S)\S{2,64}(?(pair)(?:[ \t]*[/|][ \t]*\S{2,64})?|)))"
)
# A safe's or a door's code, digits only: "Safe-PIN 0000", "Zimmertür-Code 5812", "Die
# Zimmertür-PIN war 1234", "The door code is 2580#" (found by a staff walk-through; the
# README says a PIN after its word goes). Not words after it ("Türcode: kam per SMS"), nor
# a length, a count or a time ("Der Türcode war 10 Minuten zu spät", "4-stellig"; found by
# the review of that change).
_DOOR_CODE = _Pattern(
    r"(?P<label>(?<![\w-])(?i:(?:safe|tresor|zimmertür|haustür|tür|door|room|zimmer"
    r"|schließfach|locker|garage|garagentor|tor|gate|entry|eingangs|access|alarm)[ \t-]?(?:pin"
    r"|code"
    r"|kombination|combination)"
    # a key safe's, its word alone too ("Zugangscode für den Schlüsselkasten 4471", "Keysafe
    # code is 2580": found by a precision check of cleaning services' comments)
    r"|(?P<key_safe>(?:schlüssel|schluessel)(?:kasten|safe|box|tresor)|(?:key|lock)[ \t-]?(?:safe"
    r"|box))(?P<its_code>[ \t-]?(?:pin|code))?)"
    r"(?:[ \t]*[:=][ \t]*|[ \t]+(?i:ist|lautet|is|was|war)[ \t]+|[ \t]+))"
    rf"{_LENGTH_OR_COUNT}[0-9]{{3,10}}[#*]?(?![\w-]|[.,]\d)"
    # not a price, a size or an error ("Der Schlüsselkasten war 1200 Euro teuer",
    # "Schlüsselkasten 120 cm breit", "Alarm code 404 error": the review)
    r"(?![ \t]*(?:€|£|\$|(?i:euro|eur|pounds?|dollars?|chf|franken|cm|mm|m|kg|g|meter|metres?"
    r"|meters|zentimeter|centimet(?:er|re)s?|series|serie|modell|model|error\w*|fehler\w*"
    r"|internal|forbidden|not[ \t]+found|policy|richtlinie)\b))"
)
# A key safe's word alone is a code's only where a code is spoken of before it ("Zugangscode
# für den Schlüsselkasten 4471"), not a model's, a year's or a size's ("Abus Schlüsselbox
# 797", "Schlüsselsafe 2023 eingebaut": the review of the rule); see door_code.
_CODE_BEFORE = _Pattern(r"(?i:code|pin|kombination|combination)\b")
# +49 151 12345678, 0151/1234567, (030) 123 45 67, 030-1234567, +1 (555) 123-4567,
# 030 / 123 456 78, 0151 - 234 567 89, 0 30 / 12 34 56; any dash where the hyphen may stand:
# Word and Outlook set " - " as " – " ("0151 – 2345 6789", found by a staff-side review;
# see _DASHES).
_SEPARATOR = rf"(?:\s?[./{_DASHES}-]\s?|\s)?"
# Possessive where giving back cannot lead to a match (a separator is never followed by
# what could start a group without it; the last digits given back would be followed by
# a digit): the same matches, with less backtracking on long runs of digits and words.
_PHONE = _Pattern(
    # (not the last part of a code joined by hyphens: "Rechnung RE-2024-004711", found by a
    # precision check, was "RE-2024-[Telefon]")
    rf"(?<![\w+])(?<!\d\d\d\d[{_DASHES}-])(?:\+\d{{1,3}}{_SEPARATOR}+|\(?\b0(?!00)\s?)"
    rf"(?:\(?\d{{1,5}}\)?{_SEPARATOR}+){{1,5}}\d{{2,}}+(?![\w])"
    # said in pairs, an odd one at the end: "0171 23 45 67 8" (found by a precision check:
    # "[Telefon] 8")
    r"(?:(?<=[ ]\d\d)[ ]\d(?![\w]|[.,]\d|[ ]\d|[ ]+(?i:mal|uhr|x|times|tage|days)\b))?"
)
# A parcel's tracking number: after a word for it ("Sendungsnummer 00340434161234567890",
# "Paket 1Z999AA10123456784", "tracking no. JJD000390007000123456"), or a UPS one ("1Z"
# and 16 capitals and digits) anywhere. A number, not a phone number: found by a staff
# review, where "[Telefon]" made staff think the customer asked for a call. (More than 15
# digits are never a phone number either: see phone.) Whole when written in groups, as
# printed on the label ("Sendungsnummer 00340434 16 1234 5678", "Sendungsnr. JJD 0003 9000
# 7000 1234 56"; found by a review: the groups after the first, which tell one parcel from
# another, were left), but for a count after it ("Paket 12345678 10 Tage unterwegs"; see
# tracking).
_TRACKING = _Pattern(
    r"(?P<lead>(?<!\w)(?i:sendungs(?:nummer|-?nr\.?|-?id|verfolgung(?:snummer)?)|sendung"
    r"|tracking(?:nummer|[ \t-]?(?:number|nummer|no\.?|nr\.?|id|code))?|paket(?:nummer"
    r"|-?nr\.?|[ \t-]?id)?|(?:parcel|shipment)(?:[ \t-]?(?:number|no\.?|id))?)"
    r"(?:[ \t]*[:#.-])?[ \t]*(?:(?i:ist|lautet|is)[ \t:]+)?)"
    r"(?:(?=[A-Z]{0,6}\d)[A-Z0-9]{8,35}|[A-Z]{2,6}(?=(?:[ \t]\d{2,6}){3}))"
    r"(?P<groups>(?:[ \t]\d{2,20}(?![\w-]|[.,]\d))*+)(?![\w-])"
    r"|(?<![\w-])1Z[0-9A-Z]{16}(?![\w-])"
)
# A word for a customer number right before a number that looks like a phone number
# ("Kundennr: 0047112233", "Kunden-Nr. 0151 2345678", "customer no. 0047112233"): the
# number is the customer's, "[Number]" as after "Kundennummer 4711", not "[Phone]" (found
# by a redaction walk-through: staff read it as a request for a call).
# So too an order's, a booking's, an invoice's or a case's ("Bestellnummer 0171234567",
# "Rechnung Nr 01512345678", "order #0207946095", "booking ref 0301234567": found by a
# review, read by staff as phone numbers).
_CUSTOMER_NUMBER_BEFORE = _Pattern(
    r"(?<!\w)(?:(?:kunden|bestell|buchungs|rechnungs|auftrags|vorgangs|reservierungs|ticket)"
    r"(?:nummer|[ \t]*-?[ \t]*nr\.?|[ \t]*-?[ \t]*no\.?)|kd\.?[ \t]*-?[ \t]*nr\.?"
    r"|(?:rechnung|bestellung|buchung|auftrag|vorgang|ticket)(?:[ \t]+(?:nr\.?|no\.?|#))?"
    # (the word alone too: "Bestellung 0012345678 fehlt", found by a precision check)
    r"|order|invoice"
    r"|(?:customer|order|booking|invoice|ticket|case|reservation)[ \t]*"
    r"(?:no\.?|nr\.?|number|id|ref\.?|reference|#)|ticket)"
    r"[ \t]*[:#.=-]?[ \t]*(?:(?:ist|lautet|is)[ \t:]+)?\Z",
    re.IGNORECASE,
)
_PHONE_DIGITS = 15  # the most a phone number has, its country code included (E.164)
# A phone number with a space between every digit, or nearly: "Handy: 0 1 5 1 2 3 4 5 6 7 8
# 9", "Tel 0 30 1 2 3 4 5 6 7" (found by a DPO review: the pattern above wants a last group
# of two digits or more). After a word for a phone, seven digits or more in groups of one
# or two; elsewhere nine single digits or more from a 0 or a "+" (see _is_spaced_phone).
# Only where a run starts: tried from each of its digits, it took the square of its length.
# A dash or slash between its groups too: "0 1 5 1 - 2 3 4 5 6 7 8 9" (found by a staff
# walk-through: the same digits without it went).
_SPACED_PHONE = _Pattern(
    r"(?<![\w+.,/-])(?<!\d[ ])(?:\+[ ]?\d{1,3}|\d{1,5})"
    rf"(?:(?:[ ][/{_DASHES}-])?[ ]\d{{1,2}}+){{4,}}+(?![\w/-]|[.,]\d|[ ]\d)"
)
_SINGLE_DIGITS = _Pattern(rf"(?:\+[ ]?\d{{1,3}}|0)(?:(?:[ ][/{_DASHES}-])?[ ]\d){{8,}}")
_PHONE_BEFORE = _Pattern(
    r"\b(?:tel|telefon|fon|phone|handy|mobil|mobile|cell|festnetz|fax|whatsapp|ruf|rückruf"
    r"|rufen[ \t]+sie[ \t]+mich|ruf[ \t]+mich|erreichbar|erreichen[ \t]+(?:sie[ \t]+)?mich"
    r"|call[ \t]+me|reach[ \t]+me|text[ \t]+me|meine[ \t]+(?:handy|telefon)?nummer"
    r"|my[ \t]+(?:phone[ \t]+|cell[ \t]+|mobile[ \t]+)?number|durchwahl"
    r"|melden[ \t]+sie[ \t]+sich(?:[ \t]+bitte)?)"
    r"(?:\.?[ \t-]?(?:nummer|nr|number|no))?\.?[ \t:.-]*"
    r"(?:(?:mich[ \t]+)?(?:bitte[ \t]+)?an\b[ \t:]*)?(?:(?:ist|lautet|unter|is|at|on)[ \t:]+)?\Z",
    re.IGNORECASE,
)
# A local number, without its area code, after a word for a phone: "Tel. 834 56 78",
# "Rufen Sie mich an: 555 1234", "Erreichbar unter 8345678", "call me at 555-1234" (found
# by a mutation audit: the pattern above wants a 0 or a "+" first). Six digits or more.
# Its groups also apart by "_", "~", "," or "·" ("Tel 0151_2345_6789", "Handy 0151·2345·6789",
# where the pattern above does not look: found by a hostile customer's review), and then of
# any length ("Mobil 0151_23456789"); after a comma three digits or more, as "Handy
# 1299,99" is a price. Its first group may be one digit, as a number is said in pairs
# ("Tel. 8 34 56 78": found by the corpus review of what staff see).
_CUED_PHONE = _Pattern(
    r"(?<![\w+.,/~·-])\d{1,15}"
    r"(?:(?:[ ]?[/.-][ ]?|[ ])\d{2,4}|(?:[ ]?[~·][ ]?|_)\d{2,13}|,\d{3,13}){0,4}+"
    r"(?![\w/-]|[.,~·]\d|[ ]\d)"
)
# An IPv4 address (each part at most 255), not part of a longer chain of digits.
_IPV4 = _Pattern(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
)
# An IPv6 address: eight groups of hex digits, or fewer where "::" stands for those left
# out ("2001:db8::8a2e:370:7334", found by the corpus audit: it reached staff whole).
# Three groups at least and a group no time has (see _is_ipv6): "::1" and "fe80::1" are no
# one's, "12:30:45" is a time. Each group possessive: tried from a run's start only.
_IPV6_GROUP = r"[0-9A-Fa-f]{1,4}"
_IPV6 = _Pattern(
    rf"(?<![\w:.])(?:{_IPV6_GROUP}(?::{_IPV6_GROUP}){{7}}"
    rf"|(?:{_IPV6_GROUP}(?::{_IPV6_GROUP}){{0,6}}+)?::(?:{_IPV6_GROUP}(?::{_IPV6_GROUP}){{0,6}}+)?)"
    r"(?![\w:]|\.\d)"
)
# A device's MAC address, which names its owner's device as an IP address does: six
# pairs of hex digits joined by the same ":" or "-" ("00:1A:2B:3C:4D:5E",
# "00-1a-2b-3c-4d-5e"; found by the corpus audit: it reached staff whole). A time has three
# pairs at most ("12:30:45"). Or, as Cisco writes it, three groups of four joined by dots
# ("001A.2B3C.4D5E", found by the second corpus audit), with a letter and a digit among them:
# twelve digits alone are left to the patterns for numbers, "face.beef.cafe" is words.
_MAC = _Pattern(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}(?P<sep>[:-])[0-9A-Fa-f]{2}(?:(?P=sep)[0-9A-Fa-f]{2}){4}"
    r"|(?=[\d.]{0,13}[A-Fa-f])(?=[A-Fa-f.]{0,13}\d)[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})"
    r"(?![\w:-]|\.\w)"
)
# Digits in groups of up to four, nine or more in all: a tax id "12 345 678 901", an
# account or policy number; short groups ("1 000 000", "30 Tage") stay.
# A leading 0 is a phone number's (0151 2345 6789), left to that pattern.
# (Not right after ")": "+49 (0)171 123 45 67" is a phone number, found by the corpus
# audit, where "+49 (0)" was left before "[Number]".)
# Before a comma or a full stop that ends a clause too ("Depotnummer 4412 887 01, Order…":
# found by a precision check of banks' comments), not one of an amount ("1 234 567,89").
_GROUPED_NUMBER = _Pattern(r"(?<![\d.,+)])(?<!\d )[1-9]\d{0,3}(?: \d{2,4}){2,}(?![\d]|[.,]\d)")
# A German social security (pension insurance) number: area, date of birth, the initial of
# the birth name, a serial number: "65180539W001", "45 120385 M 123" (found by the corpus
# review: none of it, or all but "M 123", went). Whole, and only with a real day and month.
_SOCIAL_SECURITY = _Pattern(
    r"(?<![\w-])\d{2}[ ]?(?P<day>\d{2})(?P<month>\d{2})\d{2}[ ]?[A-Z][ ]?\d{2,3}(?![\w-])"
)
# A payment card number: 13 to 19 digits in groups, valid by the Luhn check.
# (Never from a 0: "0049 151 12345678" is a phone number that passes the Luhn check.)
# An American Express card is grouped 4-6-5: "3782 822463 10005" (found by the corpus
# audit: its first four digits were left).
# Nor after a "+": "+4915112345678" is a phone number that passes it too (found by a
# staff walk-through: "+[Number]").
_CARD = _Pattern(
    r"(?<![\w+-])(?:3[47]\d{2}[ -]?\d{6}[ -]?\d{5}|[1-9]\d{3}(?:[ -]?\d{3,4}){2,4})(?![\w-])"
)
# A Swiss social security (AHV) number: "756.1234.5678.97", always from 756 (found by the
# corpus audit: it stayed whole).
_AHV = _Pattern(r"(?<![\w.])756\.\d{4}\.\d{4}\.\d{2}(?!\w|\.\d)")
# A UK National Insurance number: two letters, six digits, a letter A to D, "QQ 12 34 56 C",
# "AB123456C" (left by a precision check: it stayed whole).
# Spaced as printed, or after its words in any letters (a part's or a batch's code has the
# shape too: "Ersatzteil KM123456A", found by review).
_NATIONAL_INSURANCE = _Pattern(
    r"(?<![\w-])[A-Z]{2}[ ]\d{2}[ ]\d{2}[ ]\d{2}[ ][A-D](?![\w-])"
    r"|(?P<lead>\b(?i:ni|national[ \t]+insurance|nino)(?:[ \t]+(?i:number|no\.?|nr\.?))?"
    r"(?:[ \t]+(?i:is|ist|was|war))?[ \t:]*)"
    r"(?i:[a-z]{2}[ -]?\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?[a-d])(?![\w-])"
)
# Dates and times of day are no phone numbers: "01.02.2024", "12.03.", "03/12/2024",
# "2024-02-01", "08.00-18.00", "8:30". They are set aside while the patterns run, dates
# first, then times, each only if it is a real date or time standing on its own: never
# part of a longer chain of digits ("06.12.34.56.78", "0171/12.34.567").
_DATE = _Pattern(
    r"\b(?:(?P<y>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})"
    r"|(?P<d2>\d{1,2})\.\s?(?P<m2>\d{1,2})\.(?:\s?\d{4}|\s?\d{2}\b)?"
    r"|(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?:\d{4}|\d{2})\b)"
)
_TIME = _Pattern(
    r"\b(?P<h1>\d{1,2})[.:](?P<n1>\d{2})(?:\s?(?:-|–|bis)\s?(?P<h2>\d{1,2})[.:](?P<n2>\d{2}))?\b"
)
# A date of birth is personal data, unlike the other dates: "geb. 12.03.1985",
# "Geburtsdatum: 17.08.1990", "date of birth is 14/02/1979"; and, found by a DPO review,
# "geb. am 12.3.85", "Geburtsdatum ist der 12.03.1985", "born on the 12th of March".
_BIRTH_BEFORE = _Pattern(
    # ("geb" without its dot too, found by a precision check: "Helmut Krämer, geb 11.09.1994")
    r"\b(?:geb\.(?:[ \t-]?datum)?|geb\b|geboren|geburtsdatum|geburtstag|dob|d\.o\.b\.|born"
    r"|birthday|date[ \t]+of[ \t]+birth)"
    # (and its star too: "Geb. *12.03.1985", found by a precision check)
    r"(?:[ \t:]+(?:am|den|der|ist|war|on|the|is|was)\b){0,2}[ \t:]*(?:\*[ \t]*)?\Z",
    re.IGNORECASE,
)
# A star for "born", right before a date that opens its line, or after a comma or a
# parenthesis (found by the corpus audit: "*12.03.1985" stayed); not a date in stars ("am
# *12.03.2024*"), one after a word ("Lieferung *03.05.2024"), nor a list's ("* 12.03.
# geliefert").
_BORN_STAR = _Pattern(r"(?:\n\*|[(,;][ \t]*\*[ \t]?)\Z")
# "Bin am 12. März 1985 geboren", "am 12.03.1985 in Köln geboren": the word after the date.
_BIRTH_AFTER = _Pattern(r"[ \t]+(?:(?:in|im)[ \t]+[\w-]{1,40}[ \t]+)?geboren\b", re.IGNORECASE)
# A birthday's date with its year, which is a date of birth: "Ich habe am 12.05.1982
# Geburtstag", "Geburtstag meiner Frau am 14.02.1978", "my wife's birthday, 3 May 1980"
# (found by a staff walk-through: only "Geburtstag: <date>" went). The word after the date,
# or before it in the same clause; a year of one born before 2010.
_BIRTHDAY_AFTER = _Pattern(r"[ \t]+(?i:geburtstag|birthday)\b")
# (not a hotel's: "Zum 50. Hotelgeburtstag (gegründet am 14.06.1974)", found by review)
_BIRTHDAY_BEFORE = _Pattern(
    r"\b(?i:geburtstag|birthday)\b"
    r"(?![^.!?\n]*\b(?i:gegründet|eröffnet|erbaut|seit|founded|opened|built|since)\b)"
    r"[^.!?\n]{0,32}\Z"
)
# The words for a date of birth earlier in the same clause, before a date with a year of
# one: "Geburtsdatum im System falsch (07.11.1991 statt 17.11.1991)", "my date of birth
# (04/12/1979)", "date of birth on my policy is wrong, should be 1985-07-23" (found by a
# precision check: only a date right after its word went).
_BIRTH_IN_CLAUSE = _Pattern(
    r"\b(?i:geburtsdatum|geb\.[ \t-]?datum|date[ \t]+of[ \t]+birth|dob|d\.o\.b\.|geboren"
    r"|born(?![ \t]+in[ \t]+the\b)|birth[ \t]*date)\b"
    r"(?![^.!?\n]*\b(?i:seit|since|vertrag|contract|termin|appointment|gegründet|founded)\b)"
    r"(?:[^.!?\n]|\.(?=\d)){0,64}"
    # not a date an event's word stands before: "die Police vom 01.07.2003", "the invoice
    # dated 12/05/2008", "Anmeldung war am 12.08.2009" (found by review)
    r"(?<!(?i:ab|am|on|at))(?<!(?i:vom|von|bis))(?<!(?i:seit|from|date))"
    r"(?<!(?i:dated|since|until))[ \t(]\Z"
)
_ANY_YEAR = _Pattern(r"(?:19|20)\d\d\b|[./-]\d\d\Z")
# (a year of birth, not a stay's: "Anreise 12.05.2026")
_WITH_A_YEAR = _Pattern(r"(?:19\d\d|200\d)\b|\.\s?[3-9]\d\Z")
# A date with the month in words: "12. März 1985", "3. Mai 85", "12th of March 1985", "March
# 12, 1985", "Mar 12th" (found by a DPO review: only the digits of one were looked for).
# Left as written unless it is a date of birth (see birth_date); other dates stay for
# staff ("Lieferung am 12. März 2026").
_MONTHS = (
    "januar jänner jaenner februar feber märz maerz april mai juni juli august september "
    "oktober november dezember january february march may june july october december "
    "jan feb mär mrz mar apr jun jul aug sep sept okt oct nov dez dec"
).split()
_MONTH = rf"(?i:{'|'.join(sorted(_MONTHS, key=len, reverse=True))})\b\.?"
_WORDED_DATE = _Pattern(
    rf"(?<![\d.])(?P<day>\d{{1,2}})(?:\.|(?i:st|nd|rd|th)\b)?[ \t]*(?:(?i:of)[ \t]+)?{_MONTH}"
    r"(?:,?[ \t]*(?:\d{4}|'?\d{2})(?![\w.,]\d|\w))?"
    rf"|(?<!\w){_MONTH}[ \t]*(?P<month_first>\d{{1,2}})(?:(?i:st|nd|rd|th))?\b"
    r"(?:,?[ \t]*\d{4}\b|,[ \t]*'?\d{2}\b)?"
)
# A street's name right before "12/3/14": an Austrian house number, not a date.
_STREET_BEFORE = _Pattern(
    r"(?i:stra(?:ß|ss)e|str\.|gasse|weg|platz|allee|ring|markt|damm|ufer|zeile|lände|kai)[ \t]*\Z"
)
_CHAIN_BEFORE = _Pattern(rf"(?:\d[\s./{_DASHES}-]?|\)\s?|\+)$")
_CHAIN_AFTER = _Pattern(rf"^[./{_DASHES}-]?\d")
_SET_ASIDE = 0xE000  # private-use characters stand for the spans set aside
# "Bestellnummer 12345", "Kd.-Nr. A-1234", "#12345", "order 123456", and any 5+ digit run.
_ID = _Pattern(
    r"(?:#\s?\d{3,}|\b[A-Z]{1,4}-?\d{4,}\b|\b\d{5,}\b)",
)
# Of those, codes no person has (found by the corpus review): a train or a graphics card
# ("ICE1234", "RTX4090"), a flight after its word ("Flug LH2034"), what a number counts
# ("120000 km", "25000 Payback-Punkte", "in 10000 Jahren"), a postal code alone ("im Raum
# 80331", "kein Internet in 80331,": it covers thousands) and a public service number
# ("Die 116117 war nicht erreichbar").
_PUBLIC_CODE = _Pattern(
    r"(?:ICE|IC|EC|ECE|IRE|RE|RB|NJ|FLX|TGV|RJX?|EN|RTX|GTX|RX)-?\d{1,4}|116\d{3}|11[02]"
    # a Windows update, a car's fault code ("KB5034441", "Code P0300": found by a precision
    # check of software and garage feedback)
    r"|KB\d{6,8}|[PCBU][0-3][0-9A-F]{3}"
)
# A published vulnerability, no one's: set aside whole, as a date is ("CVE-2024-12345":
# found by a precision check of software feedback, "[Nummer]").
_CVE = _Pattern(r"(?<![\w-])CVE-\d{4}-\d{4,7}(?![\w-])")
_FLIGHT_BEFORE = _Pattern(
    r"\b(?i:flug(?:nummer|nr\.?)?|flight(?:[ \t]+(?:number|no\.?))?)[ \t:#]*\Z"
)
_FLIGHT = _Pattern(r"[A-Z0-9]{2}-?\d{1,4}")
_AREA_BEFORE = _Pattern(
    r"(?:\b(?i:raum|gebiet|plz|postleitzahl|postleitzahlgebiet|bereich)[ \t:]*"
    r"|(?P<loose>(?<!\w)(?i:in|im)[ \t]+))\Z"
)
_AREA_AFTER = _Pattern(r"[ \t]*(?:[,.;!?)]|\Z|\n)")
# A shorter number that a word names as an id: "Kundennummer 4711", "Bestell-Nr.: 1234",
# "order no. 123", "Vertragsnummer 12 345 678"; a bare "Rechnung 2031" from four digits
# on. The word stays, the number goes. ("Kundenservice 100 Punkte" keeps its number.)
# ("Best.-Nr. 4711" with its dot only: "best no. 1" is praise.) A customer account's in two
# groups too ("Kundenkonto: 4711-0815", found by a redaction walk-through: only "Kundenkonto
# 47110815" went, as a long number).
_ID_WORD = (
    r"\b(?:kunden(?:konto)?|kd|bestell|best\.|auftrags?|rechnungs?|vertrags?|vorgangs?|"
    r"order|customer|invoice|account|contract|ticket|konto)"
)
# Identity documents (found by a staff-side review: "Ausweisnummer L01X00T47",
# "Reisepass C01X00T47", "Führerscheinnummer B072RRE2I55" reached staff as written; "Perso-Nr.
# L01X00T47", as one says it, found by a redaction walk-through).
_ID_DOCUMENT = (
    r"(?:personal|kinder|reise|dienst|mitglieds|studenten|schüler|firmen|mitarbeiter"
    r"|schwerbehinderten|bibliotheks)?ausweis|perso|reisepass|führerschein|fuehrerschein"
    r"|passport"
    r"|(?:driver['’]?s|driving)[ \t]+licen[cs]e|(?:id|identity)[ \t]+card"
)
# Words that name an id only with "nummer" after them: alone, "Schaden 1500", "Police
# 2024" and "booking 2024" are an amount and years; "Pass" alone is "Pass auf".
# Staff numbers too ("Fahrer Nr. 4471", "Agent ID 4471", "Personalnummer 4471": a staff
# member's number names them as their name does; found by the corpus review).
_NUMBERED_ID_WORD = (
    # ("Mitglied Nr. 4471", "my confirmation code is ABX7721K": found by a staff walk-through)
    r"\b(?:mitglieds?|reservierungs|buchungs|patienten|versicherten|versicherungs|referenz"
    r"|bestätigungs|confirmation"
    r"|schadens|member(?:ship)?|booking|reservation|reference|policy|police|pass"
    r"|sozialversicherungs|rentenversicherungs|sv|(?:bus|taxi|liefer|paket)?fahrer"
    r"|mitarbeiter|personal|dienst|agent|employee|staff"
    # a tenant's, a tax payer's, a student's, a client's ("Mieternummer 4711-0382",
    # "Steuernummer 217/5123/4567": found by a precision check of landlords' and tax
    # advisors' comments)
    r"|mieter|steuer|steueridentifikations|matrikel|mandanten|akten|antrags|bearbeitungs"
    r"|policen|schaden|objekt|client|frequent[ \t]+flyer|vielflieger|wristband|armband"
    # a meter's, which names the household it is in ("Zählernummer 1ESY1160123456", found by
    # a redaction walk-through; fourteen characters, so a code may have up to twenty)
    r"|(?:strom|gas|wasser)?(?:zähler|zaehler)"
    # a flat's, a pupil's, a lost bag's report ("Wohnungsnummer 12-0334", "Schülernummer
    # 2023-0419", "PIR-Nummer PMIEW12345": found by a precision check of landlords',
    # driving schools' and airlines' comments)
    # (a pupil's written as one word: "Schüler Nr. 12 von 450" is a place; a trip's
    # number is a bus's or a train's: the review)
    r"|wohnungs|schüler(?=nummer|nr|-)|schueler(?=nummer|nr|-)|pir"
    # a customer or loyalty card's ("Kundenkarte Nr. 9876": found by the corpus review)
    r"|(?:stammkunden|kunden|treue|bonus)?karten?|(?:customer|loyalty|member(?:ship)?)[ \t]+card"
    rf"|(?P<document>{_ID_DOCUMENT}))"
)
# After such a word and "nummer", also a code of capitals and digits: "Buchungsnummer
# 8KX4PL", "booking ref HX7Y2K". After a document alone, only such a code, with a digit
# and a capital in it: "Reisepass C01X00T47", not "Reisepass 2024 abgelaufen".
_NAMED_ID = _Pattern(
    rf"(?P<label>{_ID_WORD}(?:[\s.-]*(?:nummer|nr|number|no|id|ref|code)\b\.?[\s:#.-]*"
    r"(?:(?:ist|lautet|lautete|war|is|was)[\s:]+)?"
    r"(?=\d|(?-i:[A-Z]{1,11}\d|[A-Z]{1,4}-\d|[A-Z][ ]\d))"
    r"|[\s:#.-]+(?=\d{4}))"
    # "Bestellung 4711-2023", "Reklamation 2026/551": a number in two parts after the word
    # for what it numbers, as "Order 4711-2023" and "Bestellung 47112023" went (found by a
    # staff review: it let staff link a customer's two alerts); not a span of years
    # ("Bestellung 2019-2023"), nor a date or a count ("Lieferung 12/2023", "Sendung 3-5").
    # After "Nr." or "Nummer", any number of three digits or more ("Bestellung Nr.
    # 4711-2023", "Reklamation Nr. 2026/551", "Bestellung Nr. 4711": found by a review, the
    # usual wording stayed); without, not a range before a unit or an amount ("Bestellung
    # 1000-2000 Stück", "Lieferung 1500-2000 Euro": see named_id)
    r"|\b(?:bestellung|reklamation|retoure|rücksendung|lieferung|sendung|beschwerde)"
    r"[\s:#.-]+(?:(?:mit[ \t]+der[ \t]+)?(?:nr|no|nummer)\b\.?[\s:#.-]*(?=\d{3})"
    r"|(?=(?P<parts>\d{4,}[-/]\d{3,}|\d{3,}[-/]\d{4,})))"
    r"(?!(?:19|20)\d\d[-/](?:19|20)?\d\d\b)"
    # a booking's in two groups of four ("Reservierung 8842 1107", found by a precision
    # check); not "Buchung 1234/5678"
    r"|\b(?:reservierung|buchung|reservation|booking)[ \t]*:?[ \t]+"
    r"(?=\d{4}[ ]\d{4}\b(?![ ]?\d)(?![ \t]*(?i:uhr|h)\b))(?!(?:19|20)\d\d[ ](?:19|20)\d\d\b)"
    # ("Kundenkarte 4400 1987", "Vertragskonto 4471-229-01", "Kassenzeichen 5566-A": found
    # by a precision check of utilities', insurers' and offices' comments): digits in
    # groups, five or more, or capitals and a dash; not a count, an amount or a year
    # ("Kundenkarte 5000 Punkte", "Vertragskonto 1200 Euro", "Kundenkarte 2024": review)
    r"|\b(?:kundenkarte|vertragskonto|kassenzeichen|aktenzeichen|geschäftszeichen)"
    r"[\s:#.-]*(?:(?:nr|no|nummer)\b\.?[\s:#.-]*)?"
    r"(?!(?:19|20)\d\d[-/](?:19|20)?\d\d\b)(?=\d{3,}[ /.-]\d|\d{5,}|(?-i:[A-Z]{1,4}-\d))"
    rf"|{_NUMBERED_ID_WORD}(?:[\s.-]*(?:nummer|nr|number|no|id|ref|reference|referenz|code)"
    r"\b\.?"
    r"[\s:#.-]*"
    r"(?:(?:ist|lautet|lautete|war|is|was)[\s:]+)?"
    r"(?=\d|(?-i:[A-Z]{1,11}\d|[A-Z]{1,4}-\d|[A-Z][ ]\d)|(?(document)(?-i:[a-z]{1,11}\d)|(?!)))"
    r"|(?(document)[\s:#.-]+(?:(?:ist|lautet|lautete|war|is|was)[\s:]+)?"
    r"(?=(?-i:[A-Z0-9]{0,11}[A-Z])(?-i:[A-Z]{0,11}\d)|(?-i:[a-z0-9]{0,11}[a-z])(?-i:[a-z]{0,11}\d))"
    r"|(?!))))"
    # (letters between groups of digits: "Schadensnummer 2024-SN-884412", one number)
    # (groups joined by dots: "Buchungsnummer 4411.887.223", found by a precision check of
    # travel comments: "[Nummer].887.223")
    r"(?P<number>\d(?:[ /-]?\d|\.(?=\d{3})){2,}(?:(?P<cut>[-/])(?-i:[A-Z]{1,4})(?P=cut)\d{2,})?\b"
    # a capital, then groups of digits ("Versichertennummer: M 847 291 035", as printed on
    # the card: found by the same check, "M [Nummer]" where a comma followed)
    r"|(?-i:[A-Z][ ]\d{2,4}(?:[ ]\d{2,4}){1,4})\b"
    r"|(?-i:(?=[A-Z0-9]{0,11}[A-Z])[A-Z0-9]{5,20}(?:[-/][A-Z0-9]{1,12}){0,3})\b"
    # a few capitals before the digits ("Bestellnr. A-7731-XK": "-XK" stayed, found by a
    # staff walk-through)
    r"|(?-i:[A-Z]{1,4}-\d{3,}(?:-[A-Z0-9]{1,12}){1,3})\b"
    # ("Auftragsnummer U-24-7719": found by the same check)
    r"|(?-i:[A-Z]{1,4}(?:-\d{2,}){2,3})\b"
    # capitals and digits, then groups of digits ("Kundennr K12-883-201": found by a
    # precision check of a provider's comments)
    r"|(?-i:[A-Z]{1,4}\d{1,6}(?:[-/]\d{2,}){1,3})\b"
    # a document's in small letters, as typed on a phone ("Ausweis: l01x00t47")
    r"|(?(document)(?-i:(?=[a-z0-9]{0,11}[a-z])(?=[a-z]{0,11}\d)[a-z0-9]{5,12})\b|(?!)))",
    re.IGNORECASE,
)

# A code after "ref:", "Ref." or "Referenz:", capitals and digits in parts joined by "-" or
# "/": "ref: ABC-123-XYZ", "Ref. XK-4711-QZ" (found by the corpus audit: they stayed, for
# no part is long enough for _ID). Four characters at least, a digit and a capital among
# them: "ref: your email", "Ref: A4" stay.
_REFERENCE = _Pattern(
    r"(?P<label>(?<![\w-])(?i:ref|referenz|reference)(?:[ \t]*[:#][ \t]*|\.[ \t]*))"
    r"(?=[A-Z0-9/-]{4})(?=[A-Z0-9/-]{0,40}\d)(?=[0-9/-]{0,40}[A-Z])"
    r"[A-Z0-9]{1,12}(?:[-/][A-Z0-9]{1,12}){0,3}(?![\w-])"
)
# A code of capitals and digits after any word for a number, or a claim's, a reference's or
# a serial's word: "Gepäckermittlungsnummer FRALH12345", "lost luggage claim LHRBA45123",
# "smart meter serial 20L1234567", "Matrikelnr. AB1234567" (found by a precision check of
# travel, utility and university comments: only known words' codes went). Four digits at
# least and a capital; not after the number of a thing or a place that is no one's
# ("Artikelnummer", "Flugnummer LH12345", "Modellnummer", "Fehlercode"), nor a version.
# (Words of a person's matter: a part's, a product's or a catalogue's code is no one's,
# "Sachnummer 1K0615301AA", "ISBN-Nummer 386680192X", "watch reference 116610LN": found by
# the review of this rule, which had taken any word for a number.)
_MATTER_NUMBERED = (
    r"gepäck|gepäckermittlungs|ermittlungs|matrikel|versicherten|mitglieds|vorgangs|akten"
    r"|fall|schadens|antrags|bearbeitungs|buchungs|reservierungs|auftrags|bestell|rechnungs"
    r"|mandats|depot|konto|kontos|steuer|steueridentifikations|kunden|vertrags|ticket"
    r"|sendungs|paket|leserausweis|bibliotheks|bahncard|karten|mieter|zähler|versicherungs"
    r"|policen|personal|mitarbeiter|patienten|fahrgestell|identifikations|referenz"
)
_LABELLED_CODE = _Pattern(
    rf"(?P<label>(?<![\w-])"
    rf"(?i:(?:[a-zäöüß]{{0,20}}-)?(?:{_MATTER_NUMBERED})-?(?:nummer|nr\b\.?)|claim|serial"
    r"|(?:serial|case|file|claim|baggage|luggage)[ \t]+(?:number|no\b\.?|reference|ref\b\.?))"
    r"[ \t]*[:#]?[ \t]*(?:(?i:ist|lautet|lautete|war|is|was)[ \t]+)?)"
    r"(?-i:(?=[A-Z0-9]{0,19}[A-Z])(?=(?:[A-Z]*\d){4})[A-Z0-9]{6,20})(?![\w-])"
)
# A telephone extension after its word: "Durchwahl 214", "ext. 4471" (found by a
# precision check of an IT helpdesk's comments: with a name, it says who sits there).
_EXTENSION = _Pattern(
    # (not "Apparat 3000", "hair extension 200 strands", "Chrome extension 2024": review)
    r"(?P<label>(?<![\w-])(?i:(?:tel\.?-?|telefon)?durchwahl(?:nummer)?|nebenstelle|ext\.)"
    r"(?:[ \t]+(?i:ist|lautet|is))?[ \t]*[:#]?[ \t]*)\d{2,5}(?![\w.,/-]?\d)"
)
# A hotel room, or a booking or order named by its word alone (found by the corpus review
# of what staff see: "Zimmer 312", "Zi. 108", "room 1204", "Buchung 4711", "Booking 4711",
# "Bestellung 4711", "Reservation 8KX4PL" reached staff, though a room's number and the day
# of the stay name the guest as a booking's number does). A room from three digits on:
# "Zimmer 4", "Zimmer 12" are also a practice's rooms; a booking's from four, or a code of
# capitals and digits. Not a year ("Buchung 2024", "Zimmer 2019 renoviert"), nor what a
# number counts, a size or a time ("Bestellung 1000 Stück", "Zimmer 120 m²", "Reservierung
# 1930 Uhr": see room), nor a range ("Zimmer 101 bis 110") or a number joined on by "-".
# More rooms after one, in the same match: "Zimmer 214 und 215 waren laut", "Zimmer 214,
# 215 und 216", "Zimmer 214/215" (found by a staff walk-through: the first went, the
# others stayed). Which of them are rooms, see room: of the same floor.
_MORE_ROOMS = (
    r"(?P<more>(?:(?:[ \t]*,[ \t]*|[ \t]+(?i:und|and|&|u\.|oder|or|bzw\.)[ \t]+"
    r"|[ \t]*[/+][ \t]*)(?!(?:19|20)\d\d\b)\d{3,4}\b(?![.,]?\d))*)"
)
# (a noun after a number counts it: "Zimmer 214, 220 Grad Panorama", "100 Stufen")
_NOUN_OR_DEGREE_AFTER = _Pattern(
    r"[ \t]*°|[ \t]+[A-ZÄÖÜ][a-zäöüß]|[ \t]+(?!(?:was|has|is|does)\b)[a-z]+s\b"
)
_ROOM_OR_BOOKING = _Pattern(
    r"(?P<label>(?<![\w-])(?:(?P<room>(?i:zimmer(?P<plural>n)?(?:[ \t-]?(?:nummer|nr\.?))?"
    # found by a staff walk-through: "Zi 214", "Raum 214", "Rm 412", "Suite 1204"; and by
    # the next: "Zi-Nr 217", "rooms 214 and 215"
    r"|zi(?:[ \t-]?nr\b\.?|\.)?|raum|rm\.?|suite|apartment|apt\.?"
    r"|room(?P<plural2>s)?(?:[ \t]+(?:number|no\.?))?))|(?i:bestellung|buchung|reservierung|booking"
    r"|reservation))[ \t]*[:#]?[ \t]*(?:(?i:nr|no)\.[ \t]*)?)"
    r"(?P<number>(?!(?:19|20)\d\d\b)(?(room)\d{3,4}|\d{4})\b"
    r"|(?(room)(?!)|(?=[A-Z0-9]{0,11}[A-Z])(?=[A-Z]{0,11}\d)[A-Z0-9]{5,12}\b))"
    rf"(?(room){_MORE_ROOMS}|)"
    # (a second room after a slash, "Zimmer 214/215", see _MORE_ROOMS)
    rf"(?![.,-]?\d|(?(room)/(?!\d{{3,4}}\b(?![ \t]*(?:m²|qm\b)))\d|/\d)|-|[ \t]\d"
    r"|[ \t]*(?:(?i:uhr|h|qm)\b|m²)"
    rf"|[ \t]*(?:bis|to|[{_DASHES}-])[ \t]*\d)"
)
# A room's number with no word for it, where a guest is in or from it: "Gast aus der 417",
# "Wir waren in der 312", "the guests in 417 were loud" (found by the staff walk-through of
# session 50; not "We stayed in 100 year old buildings", found by the precision check).
# After who stays there, and "aus", "in" or "von der"; not a year, a range, nor what a
# number counts or an ordinal ("in der 100 Jahre alten Villa", "in der 312. Minute"; "mit
# der 417 zum Bahnhof" is a bus line).
_ROOM_BY_ARTICLE = _Pattern(
    # (after who stays or stayed there only: "Jeans in der 164", "in der 1830 erbauten
    # Villa", "von der 100 in die U2" are a size, a year and a bus; found by the review)
    r"(?P<label>(?<![\w-])(?P<room>)(?:(?i:gast|gäste|gästen|nachbarn?|leute|familie|paar"
    r"|kinder|jemand|grüße|gruß|wir[ \t]+(?:waren|wohnten|schliefen|hatten[ \t]+die))"
    # ("Die Gäste aus 305", with no "der" too: found by the precision check)
    r"(?:[ \t]+(?i:direkt|gleich|nebenan|oben|unten))?[ \t]+(?i:aus|in|von)(?:[ \t]+der)?"
    r"|(?i:guests?|guy|people|neighbou?rs?|family|couple|lady|man|woman|kids)[ \t]+"
    r"(?i:in|from))[ \t]+)"
    r"(?P<number>(?!(?:19|20)\d\d\b)\d{3,4})\b"
    rf"{_MORE_ROOMS}"
    # (not what it counts: "aus der 5000 Einwohner Stadt", "guests in 300 rooms", review;
    # nor a year: "Wir wohnten in der 1830 erbauten Villa", the precision check)
    r"(?![ \t]+(?:[A-ZÄÖÜ]|(?!(?:was|has|is|does|goes|keeps|seems|says)\b)[a-z]+s\b"
    r"|(?:er|ge)?(?:baut|richtet|gründet|öffnet|neuert|richtete)\w*))"
    rf"(?![.,/-]?\d|-|\.[ \t]*[A-ZÄÖÜ]|[ \t]\d|[ \t]*(?:(?i:uhr|h|qm)\b|m²)"
    rf"|[ \t]*(?:bis|to|[{_DASHES}-])[ \t]*\d)"
)

# A vehicle identification number (ISO 3779: 17 capitals and digits, no I, O or Q), which
# names a car and through it its keeper: "Fahrgestellnummer WVWZZZ1JZXW000001" reached
# staff of a garage as written (found by the corpus review of what staff see).
_VIN = _Pattern(
    r"(?<![\w-])(?=[A-HJ-NPR-Z]{0,16}\d)(?=\d{0,16}[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}(?![\w-])"
)

# A phone number written in words, digit by digit: "null eins sieben eins, zwei drei vier
# ..." (found by the corpus review of what staff see: it reached staff as written). Seven
# digit words or more in a row, which no sentence has ("eins zwei drei" stays), and not
# counting ("one, two, three, four, five, six, seven"), nor more than a phone number has
# (see worded_phone).
_DIGIT_WORD = (
    r"(?:null|eins|zwei|zwo|drei|vier|fünf|fuenf|sechs|sieben|acht|neun"
    r"|zero|oh|one|two|three|four|five|six|seven|eight|nine)"
)
_DIGIT_VALUES = {
    word: str(value % 10)
    for value, word in enumerate(
        "null eins zwei drei vier fünf sechs sieben acht neun "
        "zero one two three four five six seven eight nine".split()
    )
} | {"zwo": "2", "fuenf": "5", "oh": "0"}
# As a British number is read out, a digit twice or thrice: "oh seven seven double oh nine
# ..." (found by the corpus audit: it stayed whole).
_SPOKEN_DIGIT = rf"(?:(?P<times>double|triple)[ \t]+)?{_DIGIT_WORD}"
_DIGIT_WORDS = _Pattern(rf"(?i:{_SPOKEN_DIGIT})")
_WORDED_PHONE = _Pattern(
    rf"(?<![\w-])(?i:{_SPOKEN_DIGIT.replace('?P<times>', '')}"
    rf"(?:(?:[ \t]*[,/-][ \t]*|[ \t]+){_SPOKEN_DIGIT.replace('?P<times>', '')}){{6,}}+)(?![\w-])"
)


def _digits_of(spoken: re.Match[str]) -> str:
    """The digits a match of `_DIGIT_WORDS` says: "double oh" is "00"."""
    times = {"double": 2, "triple": 3}.get((spoken["times"] or "").lower(), 1)
    return _digit_of(spoken.group(0).split()[-1]) * times


def _digit_of(word: str) -> str:
    """The digit a word of `_DIGIT_WORDS` says, also one it matched case-insensitively only
    ("sıeben" with a dotless i: looked up as written, it withheld the comment)."""
    found = _DIGIT_VALUES.get(word.lower())
    if found is None:
        found = next(v for k, v in _DIGIT_VALUES.items() if re.fullmatch(k, word, re.IGNORECASE))
    return found


def _letters(predicate: Callable[[str], bool]) -> str:
    """The letters of the Latin (also extended), Greek and Cyrillic scripts for which
    `predicate` holds, as ranges for a character class: ``re`` knows no Unicode classes
    like ``\\p{Lu}``."""
    codes = [*range(0x41, 0x530), *range(0x1E00, 0x1F00)]  # and Vietnamese: "Nguyễn"
    chars = [code for code in codes if predicate(chr(code))]
    ranges: list[tuple[int, int]] = []
    for code in chars:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


_UPPER = _letters(str.isupper)
_LOWER = _letters(str.islower)
# German capitalises every noun, so a capitalised word is no name by itself. These never
# are one: function words, and the words that follow a title or a closing ("Danke Team").
_NOT_NAMES = (
    "der die das den dem des ein eine einer einem einen eines kein keine keiner keinem "
    "keinen ich du er sie es wir ihr ihre ihren ihrem ihrer ihres ihnen mein meine meiner "
    "meinem meinen dein deine sein seine seiner seinem seinen unser unsere unserem "
    "unseren euer eure euch dir dich mir mich uns man und oder aber doch denn sondern als "
    "wie wenn weil dass ob da dort hier so auch noch nur schon sehr gar mal nicht nie "
    "immer wieder weiter leider später gerne gern bitte danke dank mit ohne bei von vom "
    "zu zum zur an am auf aus in im um für gegen über unter vor nach seit bis durch "
    "hinter neben zwischen ist war sind waren hat hatte haben wird wurde kann soll muss "
    "alle allen alles jeder jede jedes dieser diese dieses welche welcher andere anderer "
    "erste erster letzte letzter nächste nächster was wer wo wann heute gestern morgen "
    "jetzt dann endlich wirklich super toll top klasse prima gut schön vielmals nochmal "
    "nochmals team leute service support kundenservice mitarbeiter mitarbeiterin personal "
    "kollege kollegin chef chefin namens anfang mitte ende schluss beispiel schnitt "
    "durchschnitt moment prinzip vergleich ganzen glück tag jahr monat abend mittag "
    "wochenende gott nachbar nachbarin gemahl gemahlin doktor dr prof professor montag "
    "dienstag mittwoch donnerstag freitag samstag sonnabend sonntag the a an and or but "
    "of to on at for with from by is was are were it this that these those he she they we "
    "you your yours my our their his her its me us them all everyone everybody guys folks "
    "mate again much lots very not no yes please thanks thank monday tuesday wednesday "
    "thursday friday saturday sunday herr herrn frau mr mrs ms gruß gruss grüße grüsse "
    "guten gute schönen schönes frohe frohes frohen "
    "januar februar märz juni juli september oktober november dezember january february "
    "march june july october december "
    # the word before a number or an address ("Claudia Eberhardt Tel. 0621 …": found by a
    # precision check, "Tel" taken into the name and the name left)
    "tel telefon handy mobil fax email mail phone mobile cell"
).split()
# (The capital letter first: it fails at most places, sooner than the list.)
_NOT_A_NAME = rf"(?=[{_UPPER}])(?!(?i:{'|'.join(_NOT_NAMES)})\b)"
# Of those, the words that are surnames as well (Schön, Gut, Ende, Glück, Sonntag, Morgen):
# no name where a name would start ("Danke, Schön", "Gruß, Gut"), but after a first name
# or a title they are ("Viele Grüße, Anna Schön", "Frau Glück").
_SURNAMES_TOO = frozenset(
    "schön gut klasse ende anfang glück tag abend mittag morgen sonntag montag dienstag "
    "freitag samstag gott".split()
)
_NOT_A_LATER_NAME = (
    rf"(?=[{_UPPER}])(?!(?i:{'|'.join(w for w in _NOT_NAMES if w not in _SURNAMES_TOO)})\b)"
)
# Nor are these where a name would start after a closing, a thank-you, a title or "ich bin":
# praise ("Danke, Perfekt!", "Thanks, Awesome!"), who writes ("LG Stammkunde", "Grüße,
# Anonym", "Ich bin Berliner Rentner"), how they feel ("I'm Really Happy"), a role ("Herr
# Ober"). Words that are surnames as well (Sauer, Ganz, Schüler, Richter) are left out.
_DESCRIPTIONS = (
    "perfekt perfekte perfekter perfektes spitze spitzenmäßig bestens genial geniale "
    "genialer wunderbar wunderbare hervorragend ausgezeichnet großartig grossartig "
    "fantastisch phantastisch traumhaft mega cool zufrieden zufriedene zufriedener "
    "zufriedenes unzufrieden unzufriedene unzufriedener glücklich glückliche glücklicher "
    "begeistert begeisterte begeisterter dankbar dankbare dankbarer enttäuscht "
    "enttäuschte enttäuschter verärgert verärgerte verärgerter wütend traurig total extrem "
    "absolut ziemlich zutiefst treue treuer anonym anonyme anonymer kunde kundin "
    "stammkunde stammkundin neukunde neukundin bestandskunde bestandskundin privatkunde "
    "privatkundin geschäftskunde geschäftskundin endkunde endkundin käufer käuferin "
    "mitglied rentner rentnerin student studentin mieter mieterin nutzer nutzerin fan "
    "abonnent abonnentin besitzer besitzerin inhaber inhaberin ober kommissar pfarrer "
    "pastor direktor präsident bürgermeister vormittag nachmittag mittag abend morgen "
    "früh awesome amazing great brilliant perfect "
    "excellent fantastic wonderful lovely superb terrific outstanding fabulous legend "
    "legends good nice happy unhappy satisfied disappointed angry upset furious "
    "frustrated sad glad sorry pleased delighted impressed shocked annoyed grateful really "
    "truly totally absolutely extremely completely quite pretty still just also always "
    "never anonymous customer customers client member user owner holder subscriber buyer "
    "diabetiker diabetikerin allergiker allergikerin patient patientin privatpatient "
    "privatpatientin kassenpatient kassenpatientin awful terrible horrible ridiculous "
    "unacceptable insane crazy"
).split()
# What is thanked rather than who, right after a thank-you only ("Danke, Tolle Beratung!",
# "Danke Telekom!", "Thank you, Vodafone!"): some are surnames too ("Herr Hermes", "Frau
# Tolle"), which after a title or in a self-introduction stay names.
_THANKED = (
    "toll tolle toller tolles passt läuft klappt funktioniert erledigt geklappt gelöst "
    "sorted fixed done solved works amazon telekom vodafone lufthansa zalando ebay paypal "
    "google apple samsung congstar sparkasse volksbank postbank commerzbank ikea lidl aldi "
    "rewe edeka netflix spotify dhl hermes ups fedex bahn "
    # shops (found by a precision check of shops' comments)
    "fielmann rossmann tchibo dm mediamarkt saturn"
).split()
# A hotel, its chain or its city, after a thank-you only ("Danke Hotel Adler!", "Thank you
# Hilton!", "Danke Berlin!": found by a staff walk-through, made "[Name]", the praise
# lost); not among the words no plain name is ("herr london", review of the change).
_THANKED_PLACES = (
    "hotel hotels team marriott hilton hyatt accor ibis novotel mercure radisson sheraton "
    "westin intercontinental steigenberger maritim dorint booking airbnb expedia trivago "
    "berlin hamburg münchen köln frankfurt wien zürich paris london"
).split()
# Nor these, the first word of a brand or a shop ("Danke, Deutsche Bahn!", "Thanks to Royal
# Mail", "Black Friday").
_NOT_PEOPLE = (
    "deutsche deutschen royal british black cyber fast quick free express next same new old"
).split()
_DESCRIPTION = rf"(?i:{'|'.join(_DESCRIPTIONS)})\b"
_DESCRIBED = rf"(?!{_DESCRIPTION})"
# One word of a name: "Erika", "Yılmaz", "McDonald", "O'Brien", "Müller-Lüdenscheidt".
_NAME_PART = rf"(?:[{_UPPER}]['’])?[{_UPPER}][{_LOWER}]+(?:[{_UPPER}][{_LOWER}]+)?"
_NAME_WORD = rf"{_NOT_A_NAME}{_NAME_PART}(?:-{_NAME_PART}){{0,2}}\b"
# A word after a first name or a title (see _SURNAMES_TOO)
_LATER_NAME_WORD = rf"{_NOT_A_LATER_NAME}{_NAME_PART}(?:-{_NAME_PART}){{0,2}}\b"
# A name word that is no description either (after the function words: most fail sooner)
_NAME_WORD_NOT_DESCRIBING = rf"{_NOT_A_NAME}{_DESCRIBED}{_NAME_PART}(?:-{_NAME_PART}){{0,2}}\b"
_PARTICLE = r"(?:von|van|de|der|den|du|da|di|del|della|la|le|zu|ten|ter)"
_PARTICLES = frozenset(_PARTICLE[3:-1].split("|")) | frozenset(("dos", "el", "al"))
_INITIAL = rf"[{_UPPER}]\."
# Up to three name words, particles or an initial between them, an initial before or after
# them: "Erika von der Heide", "Robert J. Miller", "K. Schneider", "Anna M."
_NAME = (
    rf"(?:{_INITIAL}[ \t]?)?{_NAME_WORD_NOT_DESCRIBING}"
    rf"(?:[ \t]+(?:(?:{_PARTICLE}[ \t]+){{0,2}}|{_INITIAL}[ \t]+){_LATER_NAME_WORD}){{0,2}}"
    rf"(?:[ \t]+{_INITIAL})?"
)
# A first and a last name at least, no word of them a description: "Thomas Berger", "Anna
# Maria Schmidt", "Robert J. Miller"; not "Berliner Stammkunde" nor "Really Happy".
_FULL_NAME = (
    rf"{_NAME_WORD_NOT_DESCRIBING}(?:[ \t]+(?:(?:{_PARTICLE}[ \t]+){{0,2}}"
    rf"|{_INITIAL}[ \t]+){_DESCRIBED}{_LATER_NAME_WORD}){{1,2}}"
)
# "Dr.", "Prof.", "Dr.-Ing.", "Dipl.-Ing.", "Mag.", a doctorate's faculty after it: "Dr.
# med.", "Dr. rer. nat.", "Prof. Dr. med. dent."
_DEGREE = rf"(?:(?:Dr|Prof)\.?(?:-Ing\.)?|Mag\.|Ing\.|Dipl\.-[{_UPPER}][{_LOWER}]{{1,8}}\.?)"
# What may stand between "Frau"/"Herr" and the name: "Frau Doktor Lehmann", "Frau
# Direktorin Schmidt" (and no name then: "Die Frau Apothekerin war nett").
_ROLE = (
    r"(?:Doktor|Professor|Direktor|Apotheker|Lehrer|Pfarrer|Kommissar|Rektor|Richter"
    r"|Minister|Bürgermeister|Anwalt|Notar)(?:in)?|Ärztin|Anwältin"
)
_FACULTY = r"(?:med|dent|vet|rer|nat|pol|oec|phil|jur|theol|pharm|habil|h\.[ \t]?c)\."
_DEGREES = rf"{_DEGREE}(?:[ \t]*{_FACULTY}|[ \t]+{_DEGREE}){{0,4}}"
# Brands and characters named like a person with a title: "Dr. Oetker Pizza", "Mr Bean DVD".
_BRANDS = (
    r"(?:Dr\.?[ \t]*(?:Oetker|Martens|Pepper|Best|Hauschka|Who)|Mr\.?[ \t]*(?:Clean|Bean"
    r"|Proper|Coffee|Muscle|Robot|Spex|Right)|Mrs\.?[ \t]*(?:Meyer['’]s|Sporty|Doubtfire)"
    r"|Frau[ \t]+Holle|Ms\.?[ \t]*Word"
    r"|Miss[ \t]+(?:Saigon|Marple|Piggy|Universe|Sixty|Selfridge|Daisy|Havisham|Honey|America"
    r"|World|Germany|Moneypenny|Congeniality|Peregrine|Vickie['’]s|Sophie)"
    # (characters and a rum: see the titles of _TITLE)
    r"|Captain[ \t]+(?:Morgan|America|Kirk|Planet|Hook|Jack|Sparrow|Marvel|Future|Nemo"
    r"|Picard|Obvious|Crunch|Birdseye|Phillips|Cook|Corelli['’]s|Underpants|Haddock|Scarlet)"
    r"|Kapitän[ \t]+(?:Iglo|Nemo|Hook|Blaubär)|Professor[ \t]+(?:Layton|Snape|Dumbledore|Moriarty)"
    r"|Doktor[ \t]+(?:Faustus|Schiwago|Who|Allwissend|Martens)"
    r"|Professor[ \t]+(?:Plum|Oak|Quirrell|Green|Brinkmann)|Pastor[ \t]+Troy"
    # surnames too: a brand only before what it makes ("Dr. Schär Brot", not "Dr. Brandt war")
    rf"|Dr\.?[ \t]*(?:Schär|Beckmann|Scholl|Brandt|Grandel|Theiss|Kade)"
    rf"(?=[ \t]+{_NOT_A_NAME}[{_UPPER}][{_LOWER}]+))(?!\w)"
)
_COMMON_SURNAME = rf"(?i:{'|'.join(sorted(COMMON_SURNAMES, key=len, reverse=True))})"
# Surnames that are brands after "Dr." ("dr. klein baufinanzierung", "dr. wolff shampoo")
_SURNAME_BRANDS = "klein|wolff|scholl|brandt|beckmann|kade|theiss|grandel|scheller|martens"
_ENGLISH_DOING = (
    r"(?:has|hasn['’]t|had|hadn['’]t|is|isn['’]t|was|wasn['’]t|did|didn['’]t|does|doesn['’]t"
    r"|never|always|said|told|gave|helped|kept|made|took|explained|answered|replied)"
)
# (Atomic: no degree is a name, and giving one back to the name would only take time.)
_TITLE = (
    rf"(?!{_BRANDS})(?>(?:Herrn?|Frau)(?:[ \t]+(?:{_ROLE}))?(?:[ \t]+{_DEGREES})?"
    # "Hr Bauer" without its dot too, but not the HR department ("Hr Abteilung")
    r"|(?:Hr\.|Hr(?![ \t]+(?i:abteilung|team|bereich|department|manager|managerin|business"
    r"|partner)\b)|Fr\.|Mrs?\.?|Ms\.?"
    # a title that is a calling, alone: "Professor Whitfield", "Doktor Lehmann", "Captain
    # Roberts" (found by a precision check of universities', practices' and ferries'
    # comments). German capitalises nouns: there a common last name only ("beim Doktor
    # Termine verschoben" stays), or an English sentence going on ("Professor Whitfield
    # hasn't replied").
    rf"|(?:(?:Professor|Doktor|Kapitän|Pfarrer|Pastor)(?:in)?|Captain|Capt\.)"
    rf"(?=[ \t]+(?:{_COMMON_SURNAME}\b|[{_UPPER}][{_LOWER}]+[ \t]+{_ENGLISH_DOING}\b))"
    # "Miss Smith was rude" (a precision check): before a common last name alone, not "I
    # Miss You", "Little Miss", "Miss Dior was sold out", "Dont Miss Taylor Swift night"
    # (found by the review of a version that took any name before a verb)
    r"|(?<!\b[Ii][ \t])(?<![Ww]e[ \t])(?<!(?<![Tt]hank[ \t])[Yy]ou[ \t])(?<![Tt]hey[ \t])"
    r"(?<!Little[ \t])"
    rf"Miss(?=[ \t]+{_COMMON_SURNAME}\b(?![ \t]+[{_UPPER}]))"
    # "Fr Schmidt" without its dot too (found by the corpus review), but not a Friday: "Mo
    # bis Fr Ruhetag", "Do Fr Sa", "ab Fr Nachmittag" ("Mo-Fr 9" is kept by _TITLED_NAME)
    r"|(?<![Bb]is[ \t])(?<![Uu]nd[ \t])(?<![AaUu][bm][ \t])(?<!(?:Mo|Di|Mi|Do|Sa|So)[ \t])"
    r"(?<!(?:Mo|Di|Mi|Do|Sa|So),[ \t])"
    rf"Fr(?=[ \t]+[{_UPPER}][{_LOWER}]{{2}})(?![ \t]+(?:Sa|So|Mo|Di|Mi|Do)\b))"
    rf"(?:[ \t]+{_DEGREES})?|{_DEGREES})"
)
# "Viele Grüße, Erika Mustermann", "LG Tom", "Gruß\nEure Anna", "Cheers, John": a name
# and nothing else up to the end of its line, after a closing that starts a sentence.
# After a thank-you ("Danke\nSuper Service") a name on the next line ends the comment.
# After a closing, contact data may follow on the line ("Erika Muster. Tel 0170 1234567"),
# or a parenthesis ending it ("Regards, Hannah (order #55-221100)"), see sign_off.
# (Found by the corpus review: "Viele liebe Grüße, Hans", "Liebe Grüße und bis bald,
# Petra", "Hochachtungsvoll\nGerhard Schröder-Klein", "Herzlichst, Ihre Ingrid Vogel",
# "Signed, Tom Baker", "cheers, mike": two words before "Grüße", and more closings.)
_CLOSING = (
    r"(?:mit[ \t]+)?(?:(?:viele|vielen|liebe|lieben|beste|besten|herzliche|herzlichen"
    r"|freundliche|freundlichen|schöne|schönen)[ \t]+){0,2}(?:grüße|grüßen|grüsse|grüssen|gruß"
    r"|gruss)(?:[ \t]+und[ \t]+(?:bis[ \t]+(?:bald|dann|zum[ \t]+nächsten[ \t]+mal)"
    # "Gruß und schönes Wochenende, Erika" (found by a review: the wish stopped the match)
    r"|(?:ein[ \t]+|einen[ \t]+)?(?:schönes|schönen)[ \t]+(?:wochenende|tag|abend)"
    r"(?:[ \t]+noch)?|kuss|küsschen|umarmung)"  # "Gruß und Kuss, Erika" (review)
    r")?"
    r"|hochachtungsvoll|herzlichst|signed|xoxo"
    r"|mfg|lg|glg|vg|(?:best|kind|kindest|warm|warmest)[ \t]+regards|regards"
    r"|best[ \t]+wishes|all[ \t]+the[ \t]+best|sincerely|yours[ \t]+(?:sincerely|truly"
    # after a line break or the end of a sentence ("BR, Tagesschau" opening a comment is
    # the broadcaster; for one opening it with a line break, see _SIGN_OFF)
    r"|faithfully)|(?:(?<=\n)|(?<=[.!?][ \t]))(?:best|br)(?=[ \t]*,)"
)
# Words that name the contact data or number after them: "Tel. [Phone]", "Kundennr. [Number]"
_CONTACT_LABEL = (
    r"tel|telefon|fon|phone|mobil|mobile|handy|cell|fax|whatsapp|e-?mail|mail|adresse"
    r"|address|iban|konto|order|bestellung|bestell-?nr|auftrag|ticket|rechnung|invoice"
    r"|kundennummer|kunden-?nr|kd-?nr|customer|account|nr|no|number|nummer|id"
)
_THANKS = (
    r"(?:danke(?:[ \t]*schön)?|(?:vielen|besten|herzlichen)[ \t]+dank)(?:[ \t]+im[ \t]+voraus)?"
    r"|(?:thanks|thank[ \t]+you)(?:[ \t]+(?:a[ \t]+lot|so[ \t]+much|very[ \t]+much"
    r"|in[ \t]+advance))?|many[ \t]+thanks|thx|tschüss|tschüs|ciao"
)
# A thank-you and a closing at once: a name in small letters after it too ("cheers, mike"),
# but no brand ("Cheers, Amazon"). See _SIGN_OFF.
_CHEERS = r"cheers(?:[ \t]+mate)?"
# After a closing, a name typed in small letters: "lg tom", "kind regards\njohn smith"
# (not after a thank-you: "Danke, läuft"), one or two words that are not words of the
# language nor wishes ("Gruß, gute Besserung", "best regards, merry christmas"). Not in
# capitals: "LG OLED" is a television.
_WISHES = (
    "frohe frohes frohen schöne schönes schönen gute gutes guten besserung weihnachten "
    "ostern feiertage festtage rutsch neues neujahr erholung urlaub allerseits zusammen "
    "merry happy christmas xmas easter holidays new year weekend day ok okay ps pps passt "
    "done well bye bleib bleibt bleiben gesund stay safe"
).split()
_LOOSE_WORD = (
    rf"(?!(?i:{'|'.join(_NOT_NAMES + _WISHES)}|{_CLOSING}|{_THANKS}|{_CHEERS})\b){_DESCRIBED}"
    rf"[{_LOWER}]{{2,}}(?:-[{_LOWER}]{{2,}})?\b"
)
_CITY_WORD = rf"{_NOT_A_NAME}[{_UPPER}][{_LOWER}]+\b"
# "Berlin", "Berlin-Mitte", "Frankfurt am Main", "Bad Homburg", "Halle (Saale)", "New York":
# after a postal code, and where a sign-off says where from ("Grüße aus Hamburg")
_CITY_PREFIX = r"(?:Bad|Sankt|St\.|Neu|Alt|Groß|Klein|Hohen|New|Los|Las|San|Santa|Le|La|El)"
_CITY = (
    rf"(?:{_CITY_PREFIX}[ \t]+)?"
    rf"{_CITY_WORD}(?:-[{_UPPER}][{_LOWER}]+){{0,2}}\b"
    rf"(?:[ \t]+(?:am|im|an[ \t]+der|ob[ \t]+der|in[ \t]+der)[ \t]+{_CITY_WORD})?"
    rf"(?:[ \t]*\({_CITY_WORD}\))?"
)
# "Love, Emily", "Lots of love,\nAnna": only a name after it, before a comma ("Love it")
_LOVE = r"(?:(?:lots[ \t]+of|much|all[ \t]+my)[ \t]+)?love"
# One name or two: "LG Erika & Jan", "Grüße Erika und Jan Mustermann" (found by a staff-side
# review: the second name stopped the match, and the whole sign-off stayed).
_AND = r"(?:[ \t]*+[&+][ \t]*+|[ \t]+(?:und|and|u\.)[ \t]+)"
_NAMES = rf"{_NAME}(?:{_AND}(?:{_TITLE}[ \t]+)?{_NAME})?"
# (a name's particles first, though the language has them as words: "lg, da silva",
# "Gruß, de la cruz", "Viele Grüße, van der berg", found by the third corpus audit)
_LOOSE_PARTICLES = (
    r"(?:(?:von|van)(?:[ \t]+(?:der|dem|den))?|de(?:[ \t]+la)?|da|di|del|della|dos"
    r"|ten|ter)[ \t]+"
)
# ("von" and "da" are German words too: a name only known as one follows them, see sign_off)
_GERMAN_PARTICLES = frozenset(("von", "da"))
_LOOSE_WORDS = rf"(?:{_LOOSE_PARTICLES})?{_LOOSE_WORD}(?:[ \t]+{_LOOSE_WORD})?"
# Where a sign-off's writer is from, after the name: "Cheers, Mike from Leeds" (found by
# the corpus review), "Gruß, Jan aus Kiel". The place stays.
# Or the room or flat they are in: "Cheers, Mike from room 12", "Liebe Grüße\nSandra aus
# Zimmer 12" (found by a redaction walk-through: the name stayed). Its number may be a
# placeholder already ("Zimmer 214" is one's own, see _NAMED_ID: "Gruß, Erika aus Zimmer
# [Nummer]", found by a review).
_ROOM = (
    r"(?i:zimmer|room|apartment|apt\.?|wohnung|flat|suite|kabine|cabin)[ \t]*"
    r"(?:(?:(?i:nr|no)\.?[ \t]*|#)?\d{1,5}[a-zA-Z]?\b|\[[^\]\n]{1,24}\])"
)
# Or a room's number alone after "aus" or "from": "Gruß, Erika aus 214" (found by a review)
_ROOM_NUMBER = r"\d{1,4}[a-zA-Z]?\b"
# "in" a place too: "Cheers, Mike in Leeds", "Gruß, Jan in Kiel" (found by a review), but
# there a name known as one ("Gruß, Familie in Kiel", see signed)
_FROM_CITY = _Pattern(
    rf"[ \t]+(?:(?i:from|aus)[ \t]+(?:{_ROOM}|{_ROOM_NUMBER}|{_CITY})"
    rf"|(?i:in)[ \t]+(?:{_ROOM}|{_CITY}))"
    r"(?=[^\w\n]*(?:\n|\Z))"
)
# "in" and a place, not a room (see signed)
_IN_A_PLACE = _Pattern(rf"[ \t]+(?i:in)[ \t]+(?!{_ROOM})")
# "von der", "vom" before a first name after a closing: the sender's, not a particle of
# the name ("liebe grüße von der erika", see sign_off)
_FROM_SOMEONE = _Pattern(r"(?i:von[ \t]+(?:der|dem)|vom)[ \t]+")
# What may end a sign-off's name: the line, contact data, a parenthesis, where from (see
# sign_off)
# The room after a comma: "Cheers, Olena, Apt 4" (found by a review; the room stays)
_COMMA_ROOM = _Pattern(rf"[ \t]*,[ \t]*{_ROOM}(?=[^\w\n]*(?:\n|\Z))")
_SIGN_OFF_END = (
    rf"(?=[^\w\n]*(?:[\n\[]|\Z)|[ \t]*\(|[^\w\n]{{1,3}}(?i:{_CONTACT_LABEL})\b"
    rf"|{_FROM_CITY.pattern}|{_COMMA_ROOM.pattern})"
)
_SIGN_OFF = _Pattern(
    # (a closing after a wish and "und": "Schönes Wochenende und Gruß, Erika", "Have a nice
    # day and best regards, John", found by a review)
    rf"(?<!\w)(?:(?<!\w[ \t])|(?<=\b(?i:und|and)[ \t])(?=(?i:{_CLOSING})))"
    rf"(?P<lead>(?i:(?P<closing>{_CLOSING})|(?P<cheers>{_CHEERS})"
    rf"|(?P<thanks>{_THANKS})"
    # "Best,\nEmily" opening a comment: only a name after it, no words in small letters
    # ("Best,\nfast delivery")
    rf"|(?P<opening>\A(?:best|br)(?=[ \t]*,[ \t]*\n)|{_LOVE}(?=[ \t]*,)))\b"
    # where from: "Grüße aus Hamburg\nJan", "Best regards from Vienna, Katharina"
    # (a name after it only past a comma, a dash or a line end: "Grüße aus Hamburg
    # Altona" and "aus Bad Tölz!" name no one)
    # (or a room's placeholder: "Grüße aus der 214, eure Lena", found by a staff walk-through)
    rf"(?(closing)(?P<where>[ \t]+(?i:aus|from)[ \t]+(?:(?i:dem|der|the)[ \t]+)?"
    rf"(?:{_CITY}|\[[^\]\n]{{1,24}}\]))?|)"
    # (one run of spaces: two side by side took 0.1 s on 4,000 of them)
    rf"(?(where)(?=[ \t]*(?:[!.][ \t]*)?[,\n–—-]|[ \t]+{_FULL_NAME}[^\w\n]*(?:\n|\Z))|)"
    r"(?P<gap>[ \t]*[,–—-][ \t]*|(?<=[gG])\.[ \t]*|[ \t]+"
    r"|[ \t]*(?:[,!.][ \t]*)?\n(?:[ \t]*\n)?[ \t]*(?:[–—-][ \t]*)?)"
    # "Ihre Erika", and as friends write it, "eure Erika" (found by a staff-side review)
    r"(?:(?:(?i:ihre?|euer|eure|deine?|your)|i\.[ \t]?[AV]\.)[ \t]+)?)"
    # (nor a closing on the next line: "Thanks a lot.\nBest,\nEmily" is signed by Emily)
    # (nor a brand: "Danke, Deutsche Bahn!", "Thank you, Deutsche Telekom", found by the
    # corpus review)
    rf"(?(thanks)(?!(?i:{'|'.join(_THANKED + _THANKED_PLACES + _NOT_PEOPLE)}|{_CLOSING})\b)"
    rf"|(?(cheers)(?!(?i:{'|'.join(_THANKED + _NOT_PEOPLE)}|{_CLOSING})\b)|))"
    # (after a closing, an initial in small letters too: "mfg m.müller", "Gruß, j. schmidt",
    # found by the corpus audit; see sign_off)
    rf"(?:{_TITLE}[ \t]+)?(?:{_NAMES}|(?(closing)(?P<initial>[{_LOWER}]\.[ \t]?)?{_LOOSE_WORDS}"
    rf"|(?(cheers){_LOOSE_WORDS}|(?!))))"
    rf"{_SIGN_OFF_END}"
)
# A first and a last name alone at the end, a signature with no closing: on the last line
# ("Leider wieder falsch geliefert.\nPetra Schmidt"), after the last sentence ("Servus,
# passt scho. Sepp Huber"), or as the whole comment ("Achim Müller-Lüdenscheidt"; found by
# the corpus review). From a common first name only (see last_line): "Tolle Pizza\nGerne
# Wieder", "Bestellung kam nicht.\nAmazon Prime", "Top.\nTom Tailor" stay.
_WHO_SIGNS = (
    r"(?i:(?:stamm|neu|bestands|dauer)?kund(?:e|in)|customer|client|member|mitglied"
    r"|patient(?:in)?|mieter(?:in)?|tenant|gast|guest|zimmer|room|wohnung|flat|apt"
    r"|abteilung|buchhaltung|vertrieb|einkauf|verwaltung|marketing|personalabteilung|it|hr"
    r"|tel|telefon|mobil|handy|phone|durchwahl|kd|kundennr|kundennummer|vertragsnummer"
    r"|mitgliedsnummer|geb|born|aus|from)\b"
)
_LAST_LINE_NAME = _Pattern(
    r"(?P<lead>(?:\A|(?<=\n)|(?<=[.!?])(?<!Dr\.)(?<!Nr\.)(?<!St\.)(?<!Fr\.)(?<!Hr\.)[ \t]+"
    r"|(?<=[.!?][)\"'])[ \t]+)[ \t]*)"
    # (or a parenthesis after it that held personal data: "Jan Becker (*[Number])", "Jan
    # Becker (geb. [Number])", found by the second corpus audit; see last_line)
    # An initial and a last name too ("Fotos habe ich. K. Schröder"), and after the name a
    # comma and who they are ("Yvonne Schädlich, Kundin seit 2015", "Frank Vogel,
    # Buchhaltung, Durchwahl 214"): found by a precision check, they stayed.
    rf"(?P<name>(?>{_FULL_NAME})|(?P<initial>{_INITIAL})[ \t]?{_LATER_NAME_WORD})"
    rf"(?=[^\w\n]*\Z|(?P<aside>[ \t]*\([^()\n]{{1,80}}\))[^\w\n]*\Z"
    # (who they are, not a book or a seat: "Thomas Mann, Zauberberg", "Udo Lindenberg, Block
    # C" stay, found by the review)
    rf"|(?P<tail>[ \t]*,[ \t]*(?:{_WHO_SIGNS}|\[)[^.!?\n]{{0,60}})[.!]?[ \t]*\Z)"
)
# A common first name alone ending the comment after its last sentence, on its line or
# not, an emoji or an article with it: "Essen kalt.\nErika", "Essen kalt. Erika :)",
# "Essen kalt. Die Erika" (found by a review: a signature with no closing nor a last
# name stayed). A name known as one only, and no word too (see lone_name): "Danke",
# "Berlin", "Team", "Top", "Max", "Frank" as the last word stay.
_LONE_FIRST_NAME = _Pattern(
    r"(?P<lead>(?<=[.!?\n])(?<!Dr\.)(?<!Nr\.)(?<!St\.)(?<!Fr\.)(?<!Hr\.)(?<!bzw\.)"
    r"[ \t]*(?:\n[ \t]*)?(?:(?i:die|der)[ \t]+)?)"
    rf"(?P<name>{_NAME_PART}(?:-{_NAME_PART})?)"
    # a second (found by a review: "Essen kalt.\nTom & Erika"), and where they are, which
    # stays ("Essen kalt. Die Erika aus Zimmer 12", "Essen kalt.\nErika, Zimmer 12")
    rf"(?:(?P<and>{_AND})(?P<second>{_NAME_PART}(?:-{_NAME_PART})?))?"
    rf"(?=(?:{_FROM_CITY.pattern}|{_COMMA_ROOM.pattern})?[^\w\n]*\Z)"
)
# First names that are places too: "Toller Urlaub.\nJordan" (see lone_name)
_PLACES_TOO = frozenset("georgia jordan austin santiago victoria virginia".split())
# A name signed after a dash or a comma with no closing before it, ending its line or the
# comment: "... never arrived. – John Smith", "— Petra Schulze", "~ Sarah Miller", "Ruft mich
# an [Phone], Petra Schulze" (found by a staff review: after "Best regards –" the same name
# went, alone it stayed, and "Häufige Wörter" repeated it in every summary). A first and a
# last name from a common first name on, as on a last line (see dashed): "Alles top –
# Super Service", "..., Bad Homburg", "Jeans gekauft – Tom Tailor" stay. After a dash, a
# common first name alone too where it ends the comment ("Essen kalt – Petra").
# A line of a list: "- Pad Thai" (see dashed)
_BULLET = _Pattern(r"^[ \t]*-[ \t]", re.MULTILINE)
_LINED = _Pattern(r"^[ \t]*-", re.MULTILINE)
_DASHED_NAME = _Pattern(
    r"(?P<lead>(?:(?<![\w-])(?P<dash>[–—~])|(?:(?<=\s)|\A)(?P<hyphen>-)(?=[ \t])"
    # "Great stay, thanks! -Tom", "Alles gut. --Anna": a hyphen right before the name, after
    # words on its line (found by a staff walk-through: only "Thanks! -Tom" was taken)
    r"|(?<=[^\s][ \t])(?P<joined>--?)(?=[^\W\d_])"
    # ... or beginning its own line ("Super Aufenthalt!\n-Anna": found by its review)
    r"|(?:(?<=\n)|\A)(?P<lined>--?)(?=[^\W\d_])|,)[ \t]*)"
    rf"(?P<name>(?>{_NAME}))(?=[^\w\n]*(?:[\n\[]|\Z)|[^\w\n]{{1,3}}(?i:{_CONTACT_LABEL})\b)"
)
# "Viele Grüße von Erika Mustermann", "Viele Grüße\nvon Erika", "Gruß aus Kiel von Jan
# Petersen", "Regards from John Smith", "Love from Emily Brown": whom a closing is from
# (found by a staff-side review). In German a name, not "von Herzen" nor "von der ganzen
# Familie"; in English, where "from" names a place as often, a first and a last name
# only, and no city ("Regards from Vienna", "Best wishes from New York").
# Nor, after either, a place or where one is (found by review: "Regards from Cape Town",
# "Love from Palma Nova", "Liebe Grüße von Bord", "Grüße aus dem Urlaub von Mallorca").
_NOT_SENDERS = (
    "herzen zuhause daheim unterwegs hause ganzem weitem bord deck board reise urlaub "
    "insel strand meer see berg bergen land lande mallorca malle ibiza menorca sylt rügen "
    "usedom föhr amrum norderney borkum juist helgoland kreta rhodos korfu teneriffa "
    "madeira zypern malta sardinien sizilien korsika bali"
).split()
_PLACE_PREFIX = (
    rf"(?:{_CITY_PREFIX}|Hong|Rio|Costa|Buenos|Puerto|Sri|South|North|East|West|Great|Cape"
    r"|Tel|Kuala|Palma|Playa|Port|Porto|Saint|Mount|Lake|Fort|Abu|Ho|Gran|Cabo|Monte)"
)
_SENT_BY = _Pattern(
    # also after a thank-you or a wish ("Thanks from Tom", "Danke von Erika", "Warm wishes
    # from Olena": found by a review; a single name then known as a first name, see signed)
    rf"(?<!\w)(?<!\w[ \t])(?P<lead>(?i:(?P<closing>{_CLOSING}|{_LOVE})|(?P<thanks>{_CHEERS}"
    r"|thanks|thank[ \t]+you|danke|(?:warm|warmest|best)[ \t]+wishes|hugs|kisses))\b"
    rf"(?:[ \t]+(?i:aus)[ \t]+(?:(?i:dem|der)[ \t]+)?{_CITY})?"
    r"[ \t]*+(?:[,!.][ \t]*+)?(?:\n[ \t]*+)?(?i:(?P<von>von|vom)|from)[ \t]+"
    # "Liebe Grüße von der Erika", "Grüße vom Thomas": a first name known as one then
    # (see signed; found by a redaction walk-through)
    r"(?P<article>(?<=[nN][ \t])(?i:der|dem)[ \t]+)?"
    # "Grüße von eurer Erika" (found by review: "eure" was taken, "eurer" not)
    r"(?:(?i:eurer|eurem|ihrer|ihrem|deiner|deinem|your)[ \t]+)?)"
    rf"(?!{_PLACE_PREFIX}[ \t]|(?i:{'|'.join(_NOT_SENDERS)})\b)"
    rf"(?(von)|(?={_FULL_NAME}|(?P<first>{_NAME_PART}(?:{_AND}{_NAME_PART})?(?=[^\w\n]*(?:\n|\Z)))"
    rf"|[{_LOWER}]))"
    rf"(?:(?:{_TITLE}[ \t]+)?(?P<one>{_NAME})(?:{_AND}(?:{_TITLE}[ \t]+"
    # "Liebe Grüße von der Erika und dem Tom" (found by a review), a first name known as
    # one after the article (see signed)
    rf"|(?P<article2>(?i:der|dem|die|den))[ \t]+)?{_NAME})?"
    # in small letters, a word known as a first name (see signed): "grüße vom thomas",
    # "cheers from tom" (found by a review), not "grüße vom see", "love from mum"
    # (and a second: "liebe grüße von der erika und dem tom")
    rf"|(?P<small>[{_LOWER}]{{2,20}})\b(?:{_AND}(?:(?i:der|dem|die|den)[ \t]+)?"
    rf"(?P<small2>[{_LOWER}]{{2,20}})\b)?){_SIGN_OFF_END}"
)
# Words said between "ich heiße" or "ich bin" and the name: "Ich heiße übrigens Sandra
# Kowalski", "my name is actually Sarah Johnson", "I'm btw Tom" (found by a redaction
# walk-through: the filler stopped the match, and the name stayed). Atomic: a filler given
# back would be taken for the name and fail it.
_FILLER = (
    r"(?>(?:(?i:übrigens|uebrigens|eigentlich|ja|auch|also|btw\.?|by[ \t]+the[ \t]+way"
    # "Trainerin heißt glaub ich Vanessa" (found by a precision check)
    r"|actually|glaube?[ \t]+ich|ich[ \t]+glaube?|i[ \t]+think)[ \t]*,?[ \t]+)*)"
)
# "Mein Name ist Erika Mustermann", "Ich heiße Anna", "my name is John Smith", "Name:
# Erika". Not "Ich heiße Sie willkommen", nor "Ich heiße Neukunden willkommen".
# After a signature's label too ("Unterschrift: Erika Mustermann", "gez. E. Mustermann";
# found by an attack review) and after "call me:", but there a name known as one (see
# self_introduction):
# "Unterschrift: Fehlt leider" names no one, and "Unterschrift fehlte" has no colon.
_GIVEN_WORD = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"
_NAME_KIND = r"(?:vor|nach|familien|ruf|zu|spitz|mädchen|geburts)?"
_NAME_KIND_EN = r"(?:(?:first|last|family|given|middle|maiden)[ \t]+|sur|nick)?"
_SELF_INTRODUCTION = _Pattern(
    # (the first name or the family name said so too: "Mein Nachname ist Schulze", "my
    # last name is Schulze", found by a hostile customer's walk-through)
    rf"(?P<lead>\b(?i:(?:mein[ \t]+{_NAME_KIND}name[ \t]+(?:ist|lautet)|ich[ \t]+hei(?:ß|ss)e"
    rf"|hier[ \t]+schreibt|my[ \t]+{_NAME_KIND_EN}name[ \t]+is|my[ \t]+name's)(?:[ \t]*:)?[ \t]+"
    rf"{_FILLER}|(?P<label>(?:vor|nach)?name[ \t]*[:=][ \t]*)"
    r"|(?P<signature>(?:unterschrift|signatur|signature|gezeichnet)[ \t]*:"
    # "call me: Max Mustermann" (found by the corpus audit), as a label
    r"|gez\.(?:[ \t]*:)?|call[ \t]+me[ \t]*:)[ \t]*))"
    rf"(?P<title>{_TITLE}[ \t]+)?(?P<name>(?>{_NAME}))(?![ \t]+(?i:willkommen|gut)\b)"
    r"(?<![Ii]st Hase)"
    # the first name after the family name, as forms and lists have it: "Mein Name ist
    # Kowalski, Jan", "My name is Smith, John" (found by a staff walk-through: "Jan" stayed)
    # (not a form's next label: "Nachname: Kowalski, Vorname: Jan", a precision check)
    r"(?:,[ \t]*(?!(?i:(?:vor|nach)?name|unterschrift|signatur|signature|gezeichnet|gez)\b)"
    # (two of them, or hyphenated: "Schneider, Anna Maria", "Kowalski, Jan-Peter")
    rf"(?P<given>{_GIVEN_WORD}(?:[ \t]+{_GIVEN_WORD})?)\b(?![-'’]\w))?"
)
# What says a first name after "Mein Name ist Kowalski," ends the introduction: a stop,
# the end, "und"; else a word goes on after it, of a second person maybe ("Mein Name ist
# Peter, Paul ist mein Bruder" is two names, not one).
_INTRODUCTION_ENDS = re.compile(r"[ \t]*(?:[.,;:!?)(\n–-]|\Z|(?i:und|and|ich|i)\b)")
# A capitalised word after them: a full name goes on, which its own rule takes whole
# ("Mein Name ist Kowalski, Jan Peter Müller war da").
_NAME_GOES_ON = re.compile(rf"[ \t]+[{_UPPER}]")
# The same in small letters, as a phone types it: "ich heiße anna schmidt", "mein name ist
# max müller", "my name is john smith" (found by the corpus audit: the first two stayed
# whole, the third but for "john"), and after "call me:" ("call me: jana kowalczyk", found by
# the second corpus audit). A common first name or last name first, then a word
# of no language the patterns know (see plain_introduction): "ich heiße sie willkommen",
# "my name is missing", "mein name ist anna und ich ..." keep their words.
_PLAIN_SELF_INTRODUCTION = _Pattern(
    rf"(?P<lead>\b(?i:mein[ \t]+{_NAME_KIND}name[ \t]+(?:ist|lautet)|ich[ \t]+hei(?:ß|ss)e"
    rf"|my[ \t]+{_NAME_KIND_EN}name[ \t]+is"
    rf"|my[ \t]+name['’]s)(?:[ \t]*:)?[ \t]+{_FILLER}|\b(?i:call[ \t]+me)[ \t]*:[ \t]*)"
    rf"(?P<first>[{_LOWER}]{{2,}}(?:-[{_LOWER}]{{2,}})?)\b(?![-'’]\w)"
    rf"(?:[ \t]+(?P<second>[{_UPPER}{_LOWER}][{_LOWER}]+(?:-[{_UPPER}{_LOWER}][{_LOWER}]+)?)\b"
    r"(?![-'’]\w))?"
)
# "Ich bin Thomas Berger", "I am Laura Bennett", "I'm Robert J. Miller": a first and a last
# name, and no capitalised word or description right after them. Not "Ich bin Kunde",
# "Ich bin Berliner Stammkunde", "I'm German", "I'm Really Happy", "I am Amazon Prime
# customer", nor in title case "I'm Going Crazy".
# (And "Ich bin die Erika Mustermann", as one says it, from a common first name on: "Ich
# bin der Meinung Sabine ..." stays; see i_am.)
_NUMBER_WORDS_ABBREVIATED = frozenset(("nr", "no", "nummer", "number"))
"""The last word of what follows "Ich bin" where a number follows it ("Gast Nr. 5")."""
_I_AM = _Pattern(
    rf"(?P<lead>\b(?i:ich[ \t]+bin|i[ \t]+am|i['’]m)[ \t]+{_FILLER}"
    r"(?:(?P<article>(?i:die|der))[ \t]+)?)"
    rf"(?![{_UPPER}][{_LOWER}]*ing\b)(?>{_FULL_NAME}"
    # an initial and a surname: "Ich bin A. Schmidt" (not "M. Sc.")
    rf"|{_INITIAL}[ \t]?(?=[{_UPPER}][{_LOWER}]{{2}}){_NAME_WORD_NOT_DESCRIBING})"
    rf"(?![ \t]+(?:[{_UPPER}]|{_DESCRIPTION}))"
)
# "Hier ist Klaus nochmal", "Hi, this is Tom from Leeds", "Hallo, hier ist Anna Schmidt,":
# at the start of the comment, the name followed by "nochmal", "from"... or, after a
# greeting or "hier ist"/"hier spricht", by a sign or the end of the line (else a first
# and a last name only, and without a greeting from a common first name on: "Hallo,
# hier ist Chaos, ...", "Hier ist Ihr Team."; see this_is). Not "Hier ist Chaos pur", "This is
# Ridiculous. Third time", "Hier ist Wasser aus der Maschine gelaufen".
_GREETING = (
    r"hi|hello|hey|hallo|moin|servus|guten[ \t]+(?:tag|morgen|abend)"
    r"|good[ \t]+(?:morning|afternoon|evening)"
)
# (Also "this is Priya Patel writing", and "hier ist die Sandra von nebenan" as one says
# it, with a common first name after the article: found by the corpus audit. "hier ist
# der Kaffee von gestern", "hier ist die Hölle los" stay; see this_is.)
# What "it's ... here" says besides who writes: "Hi, it's Chaos here", "Hello, it's
# Christmas here" (see this_is)
_NOT_SPEAKERS = frozenset(
    "christmas xmas easter summer winter spring autumn fall chaos madness mayhem hell "
    "paradise heaven lovely quiet busy cold hot freezing raining snowing dark late early "
    "night midnight noon morning evening weekend".split()
)
_THIS_IS = _Pattern(
    rf"(?P<lead>\A\s*(?P<greeting>(?i:{_GREETING})\b(?:[ \t]+\w+){{0,2}}[ \t]*[,!.]?\s*)?"
    r"(?i:this[ \t]+is|(?P<its>it['’]s(?:[ \t]+me[ \t]*,?)?)"
    r"|(?P<hier>hier)[ \t]+(?:ist|spricht|schreibt)"
    # "Hier ist nochmal die Sandra", "Hier ist übrigens der Thomas" (a redaction walk-through)
    r"(?:(?:[ \t]+(?:nochmal|nochmals|übrigens|uebrigens|wieder|mal|auch))?"
    r"[ \t]+(?P<article>die|der))?)"
    r"[ \t]+)"
    # (in small letters, a word known as a first name alone, see this_is: "it's me, tom",
    # "hier schreibt die erika", found by a review)
    rf"(?P<name>(?>{_NAME})|(?P<small>[{_LOWER}]{{2,20}}))"
    r"(?=[ \t]+(?P<cue>(?i:from|here|again|speaking|writing|calling"
    r"|nochmal|wieder))\b|(?(article)[ \t]+(?i:von|vom|aus)\b|(?!))"
    # "This is Tom, room 12" (found by a review; see this_is)
    rf"|(?P<room>[ \t]*,[ \t]*{_ROOM})"
    r"|(?(greeting)[ \t]*(?:[,.!]|\Z)|[ \t]*(?:[,.!:;–—-]|\n|\Z)))"
)
# A common first name that ends the comment after an emoji, a thank-you's sentence, a
# farewell or "Euer": "Alles super 😊\nSandra", "Danke 🙏 Sandra", "Danke für alles! Sandra",
# "Danke 😊\nSandra K.", "Danke und Gruß\nThomas", "Euer Kevin", "Servus, Sepp", "Moin
# Moin\nHauke"; in capitals after a closing too ("VIELE GRÜSSE\nANNA MEYER"). Found by a
# redaction walk-through: with no closing right before it, the signature stayed. Only
# a name known as one, and at the very end (see end_signature): "Danke 👍 Top", "Danke!
# Paula war super", "Servus, Bayern" stay.
_EMOJI_CHAR = (
    "[\u2190-\u21ff\u2300-\u23ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff"
    "\U0001f000-\U0001faff\ufe0f\u200d]"
)
# (from where a run of them starts: tried from each of them, it took the square of its length)
_EMOJI = rf"(?<!{_EMOJI_CHAR}){_EMOJI_CHAR}++|[:;]-?[)D]|<3"
# (Greetings that are farewells too, where one signs; "Hallo, Anna!" greets Anna.)
_FAREWELL = (
    r"moin(?:[ \t]+moin)?|servus|tschau|baba|bye|cheerio|ade|adieu|pfiat[ \t]+di"
    r"|bis[ \t]+(?:bald|dann|später|morgen)"
    # and wishes one signs after (found by a redaction walk-through: "Schönen Tag noch, Tom",
    # "Alles Liebe, Sandra", "Take care, Tom", "Grüßle, Erika" stayed)
    r"|tschö|tschüssi|alles[ \t]+liebe|grüßle|grüssle|take[ \t]+care|see[ \t]+you(?:[ \t]+(?:soon"
    r"|later))?|(?:warm|warmest|best)[ \t]+wishes|much[ \t]+appreciated"
    r"|(?:(?:einen|ein)[ \t]+)?(?:schönen|schönes|angenehmen)[ \t]+(?:tag|abend|wochenende"
    r"|sonntag)(?:[ \t]+noch)?|have[ \t]+a[ \t]+(?:nice|good|great|lovely)[ \t]+(?:day|evening"
    r"|weekend)|gute[ \t]+nacht|good[ \t]+night|frohe[ \t]+(?:weihnachten|ostern|feiertage)"
    r"|merry[ \t]+christmas|happy[ \t]+(?:holidays|easter|new[ \t]+year)|viel[ \t]+erfolg"
    r"|peace(?:[ \t]+out)?|yours"
    # (found by a review: "Frohes neues Jahr, Erika", "Have a good one, Tom", "Merci, Tom")
    r"|frohes[ \t]+neues(?:[ \t]+jahr)?|guten[ \t]+rutsch|(?:guten|schönen)[ \t]+abend[ \t]+noch"
    r"|have[ \t]+a[ \t]+good[ \t]+one|enjoy[ \t]+(?:your|the)[ \t]+(?:weekend|day|evening|stay)"
    r"|with[ \t]+love|hugs|kisses|merci"
    # (and these, found by a later review: "Frohes Fest, Erika", "Gute Besserung, Tom")
    r"|frohes[ \t]+fest|gute[ \t]+besserung|bis[ \t]+(?:nächste|nächsten)[ \t]+(?:woche|mal)"
)
_CAPITALS = rf"[{_UPPER}]{{2,}}(?:-[{_UPPER}]{{2,}})?"
_SENTENCE_STARTS = r"(?:\A|(?<=\n)|(?<=[.!?][ \t]))[ \t]*"
_END_SIGNATURE = _Pattern(
    rf"(?P<lead>(?:(?:{_EMOJI})[ \t]*(?:[.!]+[ \t]*)?(?:\n[ \t]*)?"
    rf"|{_SENTENCE_STARTS}(?i:{_THANKS})\b[^.!?\n]{{0,80}}+(?:[.!?]+[ \t]*(?:\n[ \t]*)?|\n[ \t]*)"
    # after a comma ending the thank-you's sentence: "Danke für alles, Sandra", "Vielen Dank
    # für alles, Tom", "Thanks for everything, liebe Priya" (found by a redaction walk-through)
    rf"|{_SENTENCE_STARTS}(?i:{_THANKS})\b[^.!?\n]{{0,80}}?,[ \t]*"
    r"(?:(?i:liebe|lieber|liebes|dear)[ \t]+)?"
    rf"|{_SENTENCE_STARTS}(?i:{_FAREWELL}|{_CLOSING})\b"
    # ("Gruß aus Köln, die Erika", "Grüße aus Zimmer 12, Tom": a walk-through)
    rf"(?:[ \t]+(?i:aus|from)[ \t]+(?:{_ROOM}|{_CITY}))?[ \t]*[,!.]?[ \t]*(?:\n[ \t]*)?"
    rf"|{_SENTENCE_STARTS}(?=(?i:euer|eure|ihre?|deine?|your)[ \t]))"
    # ("Gruß, die Erika", "Servus, der Sepp", "Thanks! -Tom": a walk-through)
    r"(?:(?i:euer|eure|ihre?|deine?|your|die|der)[ \t]+|[-–—~][ \t]*)?)"
    rf"(?P<name>{_NAME_PART}(?:-{_NAME_PART})?(?:[ \t]+(?:{_INITIAL}|{_LATER_NAME_WORD}))?"
    rf"|{_CAPITALS}(?:[ \t]+(?:{_CAPITALS}|[{_UPPER}]\.))?"
    # in small letters, one word known as a first name and no word too (see end_signature):
    # "thanks! -tom", "schönen tag noch, tom" (found by a review)
    rf"|[{_LOWER}]{{2,20}})"
    # where they are after it: "Danke, Erika aus Zimmer 12", "Thanks, Tom from room 12",
    # "Gruß, Erika, Zimmer 12" (found by a review; the room or the place stays)
    rf"(?=(?:{_FROM_CITY.pattern}|{_COMMA_ROOM.pattern})?[^\w\n]*\Z)"
)
# "Herr Müller", "Frau Dr. Schmidt", "Hr. Meier", "Mrs. Jones", "Mr van Dijk": the title
# goes with the name, for a title with a single name still says who. Not "Frau am
# Empfang", "Herr der Ringe", "Mo.–Fr. Service", "2 Hr. Wartezeit". "von" and "zu" only
# before a name, not "Frau von der Post" nor "der Herr von Vodafone" (see _titled), and
# a particle before the last name too: "Herr von Bülow", "Frau von der Heide", "Frau de la
# Cruz", "Herr Dr. Klaus-Peter von Schönebeck" (found by the corpus review, as was "Herr
# Müller/Frau Schmidt": a title after "/" unless after a day or a number, "Mo./Fr.").
_NAME_PARTICLES = (
    r"(?:(?:(?P<von>von|zu)|van)(?:[ \t]+(?:der|dem|den))?|de(?:[ \t]+la)?|di|da|du|del|della"
    r"|dos|el|al|ten|ter)[ \t]+"
)
# A title written out after a number or a dash and a space ("Tisch 4 Herr Krause war
# unfreundlich", "- Frau Meier an der Kasse", "Table 7 Mr Smith": found by an operator
# walk-through, in clear in the export, the summary and the staff alert); not an
# abbreviation there, which may be hours, francs or a Friday ("2 Hr. Wartezeit", "10 Fr.
# Gebühr", "Mo - Fr Service").
_WRITTEN_OUT_TITLE = r"(?=(?:Herrn?|Frau|Mrs?)[ \t])"
_TITLED_NAME = _Pattern(
    rf"(?<![\w.–-])(?<![\d.]/)(?<!(?:Mo|Di|Mi|Do|Sa|So)/)"
    rf"(?:(?<![\d–-][ \t])|{_WRITTEN_OUT_TITLE}){_TITLE}"
    # "Hr.Meier", "Dr.Weber", "Mrs.Jones"; not "Fr.Sa." (Friday), "Ms.Excel", "Hr.Abteilung"
    rf"(?:[ \t]+|(?:(?<=Hr\.)|(?<=Mr\.)|(?<=rs\.)|(?<=Dr\.)|(?<=of\.))"
    rf"(?!(?i:abteilung|team|bereich|department|manager|business|partner)\b)"
    rf"(?=[{_UPPER}][{_LOWER}]))"
    # an initial or two before the surname, or alone: "Frau M. Weber", "Mr J. R. Smith",
    # "Herr M. war unfreundlich" (found by a precision check: the title was taken for no
    # name's)
    rf"(?:(?<=[ \t]){_INITIAL}(?:[ \t]?{_INITIAL})?(?![ \t]*[{_UPPER}][{_LOWER}.])"
    rf"|(?:{_INITIAL}[ \t]?){{0,2}}"
    rf"(?:{_NAME_PARTICLES})?{_DESCRIBED}{_LATER_NAME_WORD}"
    rf"(?:[ \t]+{_NAME_PARTICLES.replace('?P<von>', '?P<von2>')}{_LATER_NAME_WORD}"
    rf"|[ \t]+{_LATER_NAME_WORD})?)"
)
# A title before a name typed in small letters or in capitals, as on a phone or in anger:
# "herr müller hat mir gesagt", "hr. schulz war sehr kompetent", "der chef herr
# papadopoulos", "HERR MÜLLER VOM KUNDENSERVICE" (found by the corpus review). A word in
# small letters is any word: so none of the language ("frau am empfang", "herr der ringe",
# "frau mitte 40", "herr ober", "frau holle"), and no noun "Frau" or "Herr" after an article
# or an adjective ("die frau meinte", "ein netter herr sagte"; see _plain_titled). "Fr." is
# left out: "am fr. geschlossen" is a Friday. A second word only after a first name
# ("herr klaus müller").
_PLAIN_WORD = (
    rf"(?:[{_LOWER}]{{2,}}(?:-[{_LOWER}]{{2,}})?|[{_UPPER}]{{2,}}(?:-[{_UPPER}]{{2,}})?)\b"
)
_PLAIN_TITLED_NAME = _Pattern(
    rf"(?<![\w.–/-])(?:(?<![\d–-][ \t])|(?=(?i:herrn?|frau)[ \t]))"
    # "hr." or "Hr", "hr" and "HR" only before a word in the same letters and not after
    # an article, not the HR department ("HR called me", "the hr called": found by a
    # precision check; "hr müller", "HR SCHULZ" are people, found by its review)
    # ("die ärztin dr. brenner", "prof. schulz": found by a precision check of practices'),
    # only before a common last name ("beim dr. wegen rücken", "dr. oetker pizza", "dr.
    # house" stay: found by its review)
    rf"(?P<title>(?i:herrn?|frau|hr\.)|(?:dr|prof)\.(?:[ \t]*{_FACULTY})*"
    rf"(?=[ \t]+{_COMMON_SURNAME}\b)(?![ \t]+(?i:{_SURNAME_BRANDS})\b)"
    rf"|Hr|(?<!the[ \t])(?<!our[ \t])(?<!your[ \t])hr"
    rf"(?=[ \t]+[{_LOWER}])|HR(?=[ \t]+[{_UPPER}]{{2}}))[ \t]+"
    # a degree too: "MEIN ANWALT HERR DR. WEBER" (found by a staff review)
    # (atomic: a faculty is no name, "Herr Dr. med. Klaus-Peter ..." is left to _TITLED_NAME)
    # (or written out: "frau doktor lehmann", found by a precision check of practices')
    rf"(?>(?:(?i:dr|prof|doktor(?:in)?|professor(?:in)?)\.?[ \t]+"
    rf"(?:(?i:{_FACULTY})[ \t]+){{0,3}}){{0,2}})"
    rf"(?P<first>{_PLAIN_WORD})(?![.-]?\w)(?:[ \t]+(?P<second>{_PLAIN_WORD})(?![.-]?\w))?"
)
_NOUN_BEFORE = _Pattern(
    r"(?<!\w)(?:als|d(?:ie|er|en|em|es)|eine?[mnrs]?|kein(?:e[mnrs]?)?|dies(?:e[mnrs]?)?"
    r"|jed(?:e[mnrs]?)|welche[mnrs]?|(?:m|d|s)eine[mnrs]?|ihre[mnrs]?|unsere[mnrs]?"
    r"|(?:nett|freundlich|unfreundlich|hilfsbereit|jung|alt|älter|ält|lieb|kompetent"
    r"|sympathisch|ander|gleich|selb|erst|zweit|dritt|toll|super|nächst|letzt|ganz|arm"
    r"|gut|schön|groß|klein|dick|blond|nervös|gestresst|überfordert)(?:e[mnrs]?)?)"
    r"[ \t]+\Z",
    re.IGNORECASE,
)
# "als herr angeschrieben", "frau ausgeflippt": a verb's participle, no name.
_PARTICIPLE = _Pattern(r"(?:an|ab|auf|aus|ein|zu|vor|mit|nach|durch|zurück|weg)?ge\w{2,}(?:t|en)\Z")
_NO_PLAIN_NAMES = frozenset((*_NOT_NAMES, *_DESCRIPTIONS, *STOP_WORDS, *_THANKED)) | frozenset(
    "von van de di da du del della la le zu ten ter dos el al ca holle doktor doktorin "
    "professor professorin direktor direktorin abteilung team bereich department manager "
    "managerin business partner ober kollege kollegin chef chefin und oder sagte meinte "
    "fragte rief kam ging stand saß sitzt steht hat war ist erklärte antwortete wollte "
    "konnte musste sollte durfte gab nahm half hilft macht machte redete sprach spricht "
    "schrie lachte telefonierte schrieb hilfsbereit nett freundlich unfreundlich kompetent "
    "zuständig zuvorkommend bemüht genervt höflich unhöflich pampig frech siehe oben unten "
    "anbei see attached".split()
)
# What follows "von" as a place or a firm, not a name: "Frau von der Post", "Herr von der
# Stadt", "Frau von der Krankenkasse", "Herr vom Amt".
_INSTITUTIONS = frozenset(
    "post bank stadt gemeinde polizei feuerwehr bahn kasse krankenkasse rezeption empfang "
    "theke info information firma agentur verwaltung hausverwaltung versicherung behörde "
    "telekom vodafone caritas diakonie tafel apotheke praxis klinik station stadtwerke "
    "schule kita uni universität kirche bücherei bibliothek presse zeitung konkurrenz "
    "nebenan gegenüber oben unten vorne hinten ".split()
)
_INSTITUTION = _Pattern(
    r"\w*(?:amt|ämter|kasse|bank|werke?|center|zentrale|dienst|service|verwaltung|behörde"
    r"|versicherung|agentur|gesellschaft|verein|gmbh|firma|markt|haus|hof)\Z",
    re.IGNORECASE,
)
# "12", "5a", "7 b", "12-14", "3/1", "45/3/12" (staircase and door in Vienna); not part
# of a longer number or a decimal.
_HOUSE_NUMBER = (
    r"\d{1,4}(?:[ \t]?[a-zA-Z](?!\w))?(?:[ \t]?[-–/][ \t]?\d{1,4}(?:[a-zA-Z](?!\w))?){0,3}"
    r"(?!\d|[.,]\d)"
)
# After a street, also an Austrian or Swiss postal code of four digits ("Hauptplatz 3,
# 8010 Graz", "Bahnhofstrasse 10, CH-8001 Zürich"); on its own, four digits are a year.
# What a number counts rather than a city it is the postal code of: "in 10000 Jahren",
# "1200 Euro".
_COUNTED = (
    r"(?i:jahre|jahren|kilometer|kilometern|meter|metern|stunden|minuten|sekunden|tage"
    r"|tagen|wochen|monate|monaten|euro|punkte|punkten|stück|leute|leuten|kunden|menschen"
    r"|personen|mitglieder|mitgliedern|bestellungen|exemplare|years|miles|kilometres"
    r"|kilometers|hours|minutes|days|weeks|months|euros|points|people|customers"
    # (found by a review of the rooms and bookings: "Buchung 5000 Teilnehmer", "Room 1200
    # dollars a night" lost their number)
    r"|teilnehmer|teilnehmern|gäste|gästen|nächte|nächten|übernachtungen|dollar|dollars"
    r"|franken|pfund|pounds|guests|nights|participants|attendees|betten|beds|plätze|seats)\b"
)
# (Also in a compound, and as a unit: "25000 Payback-Punkte", "120000 km"; see _ID.)
_COUNTED_AFTER = _Pattern(
    rf"[ \t]*(?:(?:[{_UPPER}][{_LOWER}]+-)?{_COUNTED}|(?i:km|kwh|kg|qm|mi)\b|€)"
)
# A city typed in small letters after five digits ("Hauptstraße 12, 10115 berlin": found
# by review, "[Address], [Number] berlin" was left), not a word of the sentence going on:
# only before a sign or the end of the line ("Hauptstraße 12, 10115 stimmt nicht" keeps
# its verb: found by the review of that change).
_SMALL_CITY = (
    rf"(?!(?i:{'|'.join(sorted(STOP_WORDS | frozenset(_NOT_NAMES)))})\b)"
    rf"[{_LOWER}]{{3,}}(?:-[{_LOWER}]+){{0,2}}\b(?=[ \t]*(?:[,.;:!?)]|\n|\Z))"
)
_POSTAL_TAIL = (
    rf"(?P<postal>,?(?:(?:[ \t]*\n)?[ \t]*(?:(?:A|D)-)?\d{{5}}[ \t]+(?!{_COUNTED})"
    rf"(?:{_CITY}|{_SMALL_CITY})"
    # four digits, not a year since 1950 ("Lindenstraße 3, 2019 Neubau")
    # unless marked Austrian or Swiss, and not what a number counts ("1200 Euro")
    rf"|(?:[ \t]*\n)?[ \t]*(?:(?:A|CH)-\d{{4}}|(?!19[5-9]\d|20[0-4]\d)\d{{4}})"
    rf"[ \t]+(?!{_COUNTED}){_CITY}))?"
)
# "Musterstraße 12", "Hauptstr. 5a", "Karl-Marx-Straße 1", "Berliner Weg 4", "Lindenallee
# 7b", with a postal code and city after it taken along. "-weg", "-platz", "-markt"...
# end ordinary words too ("Rückweg 2 Stunden"): see _is_street.
_STREET = _Pattern(
    # named after someone, written without its hyphens: "Karl Marx Straße 12" (found by
    # the review of a precision check: "[Name] Straße 12")
    rf"(?<![\w-])(?P<street>(?:{_NAME_PART}[ \t]+){{2}}(?:Stra(?:ß|ss)e|Str\.|Weg|Platz|Allee"
    r"|Ring|Damm|Ufer)(?=[ \t]+(?:Nr\.?[ \t]*)?\d)"
    rf"|{_NOT_A_NAME}[{_UPPER}][{_LOWER}]*er?[ \t]+(?:Stra(?:ß|ss)e"
    r"|Str\.|Weg|Platz|Ring|Markt|Allee|Gasse|Damm|Ufer|Chaussee)"
    # (an adjective before it goes along: "Alte Landstraße 8", found by the corpus review)
    r"|(?:(?:Alte|Neue|Hohe|Lange|Große|Kleine|Obere|Untere|Breite|Kurze|Krumme|Schmale"
    r"|Stille|Hintere|Vordere|Innere|Äußere)[rn]?[ \t]+)?"
    rf"[{_UPPER}][\w-]{{0,60}}(?i:stra(?:ß|ss)e|str\.?|gasse|allee|chaussee|promenade|weg"
    r"|platz|ring|markt|damm|ufer|pfad|steig|stieg|graben|kamp)"
    # a street named after a day or a thing: "Straße des 17. Juni 135", "Platz der Republik
    # 1" (found by the corpus audit: both stayed whole)
    r"|(?:Stra(?:ß|ss)e|Platz|Allee|Ring|Damm|Ufer)[ \t]+(?:des|der)[ \t]+(?:\d{1,2}\.[ \t]+)?"
    rf"[{_UPPER}][{_LOWER}]+(?:[ \t]+[{_UPPER}][{_LOWER}]+)?)"
    # "Nr." before the number of a street that says it is one ("Hauptstraße Nr. 12", "Karl
    # Marx Straße Nr. 12": left by a precision check), see _is_street
    rf"(?:[ \t]+|(?<=\.))(?P<nr>Nr\.?[ \t]*)?{_HOUSE_NUMBER}{_POSTAL_TAIL}"
)
# A street typed in small letters: "meine adresse ist lindenweg 7, 50667 köln", "hauptstraße
# 12 10115 berlin" (found by the corpus review: only the postal code went). With a postal
# code and a city after it, or after a word for an address; and a street's ending that
# says so ("rückweg 2 stunden" has neither).
_SMALL_STREET = _Pattern(
    r"(?P<lead>\b(?i:adresse|anschrift|wohne[ \t]+(?:in[ \t]+der|im|am))"
    r"(?:[ \t]+(?i:ist|lautet))?[ \t]*:?[ \t]+)?"
    rf"(?<![\w-])(?P<street>[{_LOWER}][{_LOWER}-]{{0,40}}"
    r"(?:stra(?:ß|ss)e|str\.|allee|gasse|weg|platz|ring|damm))"
    rf"[ \t]+{_HOUSE_NUMBER}"
    rf"(?P<postal>,?[ \t]*\d{{5}}[ \t]+(?!{_COUNTED}|(?i:{'|'.join(_NOT_NAMES)})\b)"
    rf"[{_UPPER}{_LOWER}][{_LOWER}]+(?:-[{_UPPER}{_LOWER}][{_LOWER}]+)*\b)?"
)
_UNAMBIGUOUS_STREET = _Pattern(r"(?i:stra(?:ß|ss)e|str\.?|gasse|allee|chaussee|promenade)$")
_NOT_STREETS = _Pattern(
    r"(?:park|sitz|stell|arbeits|spiel|studien|tabellen|steck|ablage|stand|camping|zelt"
    # a court ("Tennisplatz 3 hat Risse", found by a precision check of sports clubs)
    r"|tennis|golf|padel|squash|bolz"
    r"|garagen|tiefgaragen|liege|wohnmobil"
    # a seat on a plane or a train ("Fensterplatz 23A gebucht": found by a precision check)
    r"|fenster|gang|mittel|fensterplatz|logen|steh|rang|parkett|balkon|sitz)platz"
    r"|(?:rück|heim|hin|um|aus|versand|liefer|rechts|fahr|zahlungs|bezahl|dienst)weg"
    r"|(?:dichtungs|schlüssel|sicherungs|spreng|o-)ring"
    # ("Die Waschstraße Nr. 2 war kaputt", found by review)
    r"|(?:wasch|spiel|einkaufs|fußgänger|fussgänger)stra(?:ß|ss)e"
    r"|(?:super|bau|floh|arbeits)markt|(?:bahn|ein|aus|auf|an|um|ab)st(?:ei|ie)g",
    re.IGNORECASE,
)
# What follows a number of things rather than a house number: "2 Stunden", "2 km", "3 x".
_QUANTITY = _Pattern(
    rf"[ \t]*(?:[{_UPPER}%€$]|(?i:km|m|mm|ml|min|mal|x|h|std|uhr|euro|eur|stück|stk|kg|cm"
    r"|zoll|von|of)\b)"
)
# "Am Markt 3", "An der Alster 5": on a line or after a comma of its own, and nothing after
# but a comma, a postal code or the end of the line ("Im Schnitt 4 Sterne" stays).
# Elsewhere only with a postal code and city after it: "Adresse ist Am Markt 3, 04109
# Leipzig" (see square).
# After a word for an address, within a sentence too, in small letters and with more
# after it, and a house number's range: "Ich wohne am Ring 1-3 in Köln" (left by session
# 64: it stayed whole); see square.
_PREPOSITION_STREET = _Pattern(
    r"(?:(?:\A|(?<=\n)|(?<=[,:])|(?<=[,:] ))(?P<alone>)|(?<=[ \t(]))"
    r"(?:Am|Im|Beim|Zum|Zur|An[ \t]+der|An[ \t]+den"
    r"|Auf[ \t]+der|Auf[ \t]+dem|In[ \t]+der|Unter[ \t]+den"
    r"|(?P<small>am|beim|zum|zur|an[ \t]+der|an[ \t]+den|auf[ \t]+der|auf[ \t]+dem)"
    # ("im", "in der" in small letters with a postal code only: "wohne im Block 4", "in
    # der Regel 2" are none, found by review; "in der Au 5, 53111 Bonn" is one)
    r"|(?P<within>im|in[ \t]+der|unter[ \t]+den))[ \t]+"
    # (nor a page or a step of a form: "Die Adresse ist auf der Seite 3 falsch", review)
    r"(?!(?:Seite|Formular|Schritt|Teil|Punkt|Stufe|Ende|Anfang|Zeile|Feld|Stelle"
    r"|Bildschirm|Etage|Stock|Tag|Woche|Monat|Jahr)\b)"
    rf"{_NAME_WORD}[ \t]+\d{{1,3}}(?:[a-zA-Z](?!\w))?"
    r"(?:[ \t]?[-–][ \t]?\d{1,3}(?:[a-zA-Z](?!\w))?)?"
    rf"(?:(?![ \t]*\w){_POSTAL_TAIL}|(?P<more>))"
)
# "123 Main Street", "10 Downing St.": not "the Main Street store" (no number), nor a
# saint's place after a number: "Bus 5 Richtung St. Pauli" (found by the corpus audit: it
# read "Bus [Address] Pauli").
_ENGLISH_STREET = _Pattern(
    rf"(?<![\w.,/#-])\d{{1,5}}[A-Za-z]?[ \t]+(?:{_NOT_A_NAME}[{_UPPER}][{_LOWER}]+[ \t]+){{1,3}}"
    rf"(?:St\.(?![ \t]*[{_UPPER}])|"
    r"(?:Street|Road|Rd\.|Avenue|Ave\.|Lane|Ln\.|Drive|Boulevard|Blvd\.|Way|Court"
    r"|Place|Square|Terrace"
    # ("14 Elm Grove, Leeds LS6 2AB", "5 Maple Crescent": found by a precision check)
    r"|Grove|Crescent|Mews)(?!\w)"
    # words of a hotel's own too ("a 5 Minute Walk from the station", "5 Stars Close to
    # the beach", "12 Back Row seats": the regression check), only where the street ends
    # its field ("22 Park Close, Bristol")
    r"|(?:Close|Gardens|Row|Walk|Rise|Parade|Circle|Highway)(?=[ \t]*(?:[,;]|\n|\Z))"
    # without the dot only where the street ends its field: "123 Main St, Springfield",
    # "45 Elm Rd, Leeds" (found by the corpus audit); "Bus 5 Richtung St Pauli" stays
    r"|(?:St|Rd|Ave|Ln|Blvd)(?=[ \t]*(?:[,;]|\n|\Z)))"
)
# A North American phone number: "(555) 123-4567", "555-123-4567", "555.123.4567"; not
# "2019-2023", "5-10 Tage", a date, a version or a price.
_US_PHONE = _Pattern(
    r"(?<![\w+/.,-])(?:\([2-9]\d{2}\)[ \t]?|[2-9]\d{2}(?P<sep>[-.]))\d{3}"
    r"(?(sep)(?P=sep)|[-. ])\d{4}(?![\w/-]|[.,]\d)"
)
# An id joined by hyphens or slashes goes whole ("RE-2024-0815", "304-1234567-1234567",
# "#55-221100") where a part of it is one by _ID: "2019-2023", "12/2023", "5-10" stay.
_JOINED_ID = _Pattern(
    r"(?<![\w#/.-])(?:#[ ]?)?(?:[A-Z]{1,4}-?)?\d{1,20}(?:[-/]\d{1,20}){1,6}(?![\w/-]|[.,]\d)"
)
# Of those, a US social security number goes too, though no part of it is long: "123-45-6789"
# (found by a staff-side review). Never 000, 666 or 9.. first, nor a part of zeros.
_SSN = _Pattern(r"(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}")
# A German number plate: "HH-AB 1234", "B-MW 123E" (found by a staff-side review). After a
# word that names it, in any form ("Kennzeichen HH AB 1234", "Nummernschild M-A 5"), in
# small letters with the hyphen ("Kennzeichen hh-ab 1234"); elsewhere only with the hyphen,
# two letters, two digits or more, no unit after them, and a car in the sentence before
# or parking after ("Das Auto HH-AB 1234", "HH-AB 1234 parkte"): "USB-C 30 W", "LED-TV 55
# Zoll", "PS-VR 2", "LG TV 55", and a model or a train ("Fernseher LG-OL 65", "Router FB-AX
# 7590", "S-Bahn S-AB 12", found by review) stay (see _is_plate).
_PLATE = _Pattern(
    r"(?<![\w-])[A-ZÄÖÜa-zäöü]{1,3}(?P<sep>[- ])(?P<letters>[A-Za-z]{1,2})[ ]?"
    r"(?P<digits>\d{1,4})[EHeh]?(?![\w-]|[.,]\d)"
)
# A car in the sentence before: "Das Auto", "der weiße Transporter", "Lieferwagen".
# (a camper's too: "Unser Wohnmobil HD-RT 440", found by a staff walk-through)
_VEHICLES = (
    r"(?i:\b(?:auto|autos|pkw|lkw|kfz|fahrzeug|fahrzeugs|wagen|transporter|motorrad|taxi"
    r"|car|vehicle|van|truck|wohnmobil|wohnwagen|camper|caravan|motorhome|anhänger|trailer"
    r"|suv|kombi|cabrio)|(?:liefer|firmen|miet|dienst|privat|streifen)wagen)\b"
)
_VEHICLE_BEFORE = _Pattern(rf"{_VEHICLES}[^.!?\n]*\Z")
# Right before it, a plate may be spaced as printed: "Das Auto M AB 1234" (the same)
_VEHICLE_RIGHT_BEFORE = _Pattern(rf"{_VEHICLES}[ \t]+\Z")
_PARKED_AFTER = _Pattern(
    r"[ \t]+(?i:parkt|parkte|parkten|geparkt|parkend|parked|parking|blockiert|blockierte"
    r"|blocked|zugeparkt)\b"
)
# A British number plate after a word for it or a car: "plate AB12 CDE", "my car, reg
# AB12CDE" (found by the corpus audit); a code of that shape elsewhere stays.
_UK_PLATE = _Pattern(r"(?<![\w-])[A-Z]{2}\d{2}[ ]?[A-Z]{3}(?![\w-])")
# An Austrian number plate, the district's letters and then digits and letters: "W-12345A",
# "GU-123AB" (found by the corpus audit), as a British one only after a word for it or a
# car: "Modell W-1200" and "Typ B-52" stay.
_AUSTRIAN_PLATE = _Pattern(r"(?<![\w-])[A-Z]{1,2}[- ]\d{1,5}[ ]?[A-Z]{1,3}(?![\w-])")
# (Also after "KZ:" or "Kz.", as Austria shortens "Kennzeichen": "KZ: W-4711B", found by
# the second corpus audit. With its capital and its colon or dot only, a label: "im KZ B-12"
# may be a camp's block.)
_KZ = r"\bK[Zz](?:[ \t]*:|\.)"
_PLATE_WORD = rf"(?:{_KZ}|(?i:\b(?:plate|reg|registration|kennzeichen|nummernschild)))"
_UK_PLATE_BEFORE = _Pattern(
    rf"{_PLATE_WORD}[ \t:.-]*"
    r"(?:(?i:no\.?|number|is|was|ist|war)[ \t:]+)?\Z"
)
_PLATE_BEFORE = _Pattern(
    rf"(?:{_KZ}|(?i:kennzeichen|nummernschild|autonummer"
    r"|(?:number|licen[cs]e|registration)[ \t]+plate))"
    r"[ \t:.-]*(?:(?i:ist|lautet|lautete|war|is|was)[ \t:]+)?\Z"
)
_UNIT_AFTER = _Pattern(
    r"[ \t]*(?:(?i:zoll|w|watt|kw|ps|v|volt|mah|gb|tb|mb|hz|khz|mhz|ghz|x|mal|mm|cm|m|km"
    r"|kg|g|l|ml|euro|eur|stück|stk)\b|[%€$\"″])"
)
# "10115 Berlin" where an address would stand: at the start of a line, after a comma or
# "in", "aus", "nach", "PLZ". ("Ich habe 12345 Punkte" keeps its number an id.)
_POSTAL_CITY = _Pattern(
    r"(?:\A|(?<=\n)|(?<=[,;:])|(?<=[,;:] )|(?<=\b[Ii]n )|(?<=\b[Aa]us )|(?<=\b[Nn]ach )"
    rf"|(?<=\b[Ff]rom )|(?<=PLZ )|(?<=PLZ: ))\d{{5}}[ \t]+(?!{_COUNTED}){_CITY}"
)

# An address found stands as one of these marks until the name before it is looked for
# (then as its placeholder); the private-use characters of comments are removed first.
_ADDRESS_MARK = chr(_SET_ASIDE + 6399)
_POSTAL_MARK = chr(_SET_ASIDE + 6398)
"""An address with its postal code and city."""
_MARKS = f"[{_ADDRESS_MARK}{_POSTAL_MARK}]"
# A post office box: "Postfach 1234, 10001 Berlin", "Postfach 12 34 56", "PO Box 123",
# "P.O. Box 4711" (found by a staff review: the box number stayed). Only a number that ends
# the phrase or has a postal code after it: "Postfach 3 Tage voll" is a mailbox.
_PO_BOX = _Pattern(
    r"(?<![\w-])(?:Postfach|POSTFACH|postfach|(?i:p\.?[ \t]?o\.?[ \t]*box|post[ \t]+office"
    r"[ \t]+box))[ \t]*:?[ \t]*\d{1,6}(?:[ \t]\d{2,4}){0,3}(?![\d.,]\d)"
    rf"{_POSTAL_TAIL}(?(postal)|(?=[ \t]*(?:[,.;:!?)\n]|\Z)))"
)
# A UK postcode ("NW1 6XE", "SW1A 1AA"; found by a staff review) after a word for one, or
# after an English street and a city: "I live at 12 Baker Street, London NW1 6XE". Not
# elsewhere: "Galaxy S24 5GB" and "PS5 2TB" have its shape.
_UK_POSTCODE_SHAPE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[ABD-HJLNP-UW-Z]{2}(?![\w-])"
_UK_POSTCODE = _Pattern(
    r"(?P<lead>(?<!\w)(?i:post[ \t]?code|postal[ \t]+code|zip[ \t]+code)"
    r"(?:[ \t]+(?i:is|was|ist|lautet))?[ \t]*:?[ \t]*)"
    rf"{_UK_POSTCODE_SHAPE}|{_ADDRESS_MARK}(?:,?[ \t]+{_CITY})?,?[ \t]+{_UK_POSTCODE_SHAPE}"
)
# A first and last name before an address where they say it is whose: after a word that
# sends something there ("Lieferung an Tom Becker, Hauptstr. 5", "z. Hd. Frau Dr. Anna
# Schulz, Am Markt 3", "Lieferadresse: ..."), or at the start of a line before a postal
# address ("Erika Mustermann\nMusterstraße 12\n10115 Berlin", "Tom Becker, Hauptstraße
# 5, 10115 Berlin"). Not any two capitalised words before a street: "Neue Filiale
# Hauptstraße 5", "Tolle Beratung\nMusterstraße 12" name no one. (Possessive where
# spaces meet: a long run of them between a name and no address took minutes.)
_ADDRESSEE = (
    r"(?i:\b(?:an|to|für|for|c/o|z\.[ \t]?hd\.?|zu[ \t]+händen|attn\.?|absender|sender"
    r"|empfänger|recipient|shipping[ \t]+address|billing[ \t]+address|address)"
    r"|\b(?:liefer|rechnungs|post|wohn|meine[ \t]+)?(?:adresse|anschrift))"
)
# What starts a line of feedback, not a name, before an address: "Schneller Versand,
# Musterstraße 12, 10115 Berlin", "Media Markt, Alexanderplatz 3, ...". (Only here: after
# "Herr" or "Ich bin", Schnell, Nette and Gute are surnames.)
_FEEDBACK_WORD = (
    r"(?i:(?:schnell|langsam|toll|gut|nett|freundlich|unfreundlich|pünktlich|kostenlos"
    r"|defekt|kaputt|neu|alt|super|prima|schlecht|teuer|günstig|falsch|fehlend)(?:e[rsnm]?)?"
    r"|media|markt|kasse|filiale|sparkasse|bank|hauptbahnhof|bahnhof|apotheke|praxis"
    r"|restaurant|hotel|lieferung|versand|paket|bestellung)\b"
)
_NAME_BEFORE_ADDRESS = _Pattern(
    rf"(?P<lead>{_ADDRESSEE}(?:[ \t]+(?i:war|ist|is|was)(?:[ \t]+(?i:ich|I))?)?(?:[ \t]*+:)?"
    rf"(?:[ \t]++|(?<=:)[ \t]*+\n[ \t]*+))(?:{_TITLE}[ \t]+)?(?>{_FULL_NAME}"
    # or an initial and a family name: "Liefern an: M. Schulz, Ringstr. 9" (found by a
    # staff walk-through)
    rf"|{_INITIAL}(?:-?{_INITIAL}|[ \t]{_INITIAL})?[ \t]?(?:{_PARTICLE}[ \t]+)?"
    rf"(?:[{_UPPER}]['’])?[{_UPPER}][{_LOWER}]{{2,}}(?:-[{_UPPER}][{_LOWER}]{{2,}})?\b)"
    rf"(?P<gap>[ \t]*+[,\n][ \t]*+)(?={_MARKS})"
    rf"|(?P<line>(?:\A|(?<=\n))[ \t]*+)(?:{_TITLE}[ \t]+)?(?!{_FEEDBACK_WORD})(?>{_FULL_NAME})"
    rf"(?P<above>[ \t]*+[,\n][ \t]*+)(?={_POSTAL_MARK})"
    # anywhere, a first and a last name and a comma right before an address: "Rücksendung an
    # mich: Jana Wolff, Bergstraße 23, ...", "Anyway, Tom Baker, 12 Oak Road" (found by the
    # corpus review); from a common first name on (see addressee)
    rf"|(?<![\w-])(?P<near>(?!{_FEEDBACK_WORD})(?>{_FULL_NAME}))(?P<comma>[ \t]*+,[ \t]*+)"
    rf"(?={_MARKS})"
)

# "attn. Julia Roth", "z. Hd. Herrn Meier", "c/o Anna Schulz": whom a thing goes to,
# wherever it stands.
_FOR_THE_ATTENTION = _Pattern(
    r"(?P<lead>(?<!\w)(?i:attn\.?|z\.[ \t]?hd\.?|zu[ \t]+händen|c/o)[ \t]*:?[ \t]+)"
    rf"(?:{_TITLE}[ \t]+{_DESCRIBED}{_LATER_NAME_WORD}|(?>{_FULL_NAME}))"
)

# "Der Fahrer Jan Petersen war unhöflich", "Kundin: Erika Mustermann", "Vielen Dank an Jan
# Petersen!", "Thanks to Sarah Miller at reception": a first and a last name after a role
# or a thank-you to someone (found by a staff-side review: staff named are personal data).
# German capitalises every noun, so no capitalised word may follow them, nor may they be
# a shop ("Danke an Media Markt", "Thanks to Royal Mail") or any word known as no name
# (see _is_person). "Der Fahrer war nett" and "Dank an Ihre Kollegen" name no one. A first
# name alone after them goes too, if it is a common one (see _FIRST_NAME_AFTER_CUE): a
# first name with a role and a branch says who works there (a DPO's decision, after the
# corpus review; before it "Der Fahrer Jan" was left). "Anna war super", with no cue, is
# left ("Paula war sehr freundlich" goes: see _NAME_OPENS). Relatives and holders of an
# account or a parcel are roles too ("Mein Vater Klaus-Dieter Möller", "Kontoinhaber Hans
# Meier", "Empfänger: Hans Meier"). (Each role also ending in "-in": "Fahrerin".)
PERSON_ROLES = (
    *("fahrer", "paketfahrer", "busfahrer", "taxifahrer", "lieferfahrer", "kurierfahrer"),
    *("bote", "botin", "paketbote", "paketbotin", "postbote", "postbotin", "zusteller"),
    *("kurier", "kollege", "kollegin", "mitarbeiter", "servicemitarbeiter", "verkäufer"),
    *("berater", "kundenberater", "techniker", "servicetechniker", "monteur", "handwerker"),
    *("kassierer", "kellner", "leiter", "filialleiter", "marktleiter", "sachbearbeiter"),
    *("ansprechpartner", "kunde", "kundin", "vermieter", "hausmeister", "pfleger", "arzt"),
    *("ärztin", "apotheker", "azubi", "driver", "courier", "colleague", "waiter", "waitress"),
    *("receptionist", "nurse", "technician", "cashier", "agent", "employee", "consultant"),
    *("representative", "advisor", "adviser", "pharmacist"),
    # found by the corpus review
    *("concierge", "bedienung", "server", "schwester", "krankenschwester", "arzthelfer"),
    *("zugbegleiter", "schaffner", "rezeptionist", "friseur", "frisör", "barkeeper"),
    *("barista", "köchin", "reiseleiter", "lehrer", "erzieher", "hebamme"),
    *("koch", "chefin"),  # "Der Koch Andreas" (review of the change)
    # "Werkstattleiter Jürgen Braun" (found by the corpus review of what staff see)
    *("werkstattleiter", "serviceleiter", "abteilungsleiter", "geschäftsführer", "meister"),
    *("physiotherapeut", "therapeut", "masseur", "flugbegleiter", "stewardess", "praktikant"),
    *("aushilfe", "schichtleiter", "teamleiter", "bankberater", "mechaniker", "zahnarzt"),
    *("bartender", "chef", "cook", "housekeeper", "doorman", "porter", "teacher"),
    *("dentist", "mechanic", "manager", "supervisor", "trainee", "host", "hostess"),
    *("vater", "mutter", "mann", "ehemann", "ehefrau", "gatte", "gattin", "sohn", "tochter"),
    *("bruder", "oma", "opa", "tante", "onkel", "enkel", "enkelin", "neffe", "nichte"),
    *("cousin", "cousine", "freund", "partner", "lebensgefährte", "lebensgefährtin"),
    *("schwiegermutter", "schwiegervater", "schwager", "schwägerin", "husband"),
    *("wife", "son", "daughter", "brother", "sister", "mother", "father", "mum", "mom"),
    *("dad", "grandma", "grandpa", "granny", "grandson", "granddaughter", "nephew", "niece"),
    *("aunt", "uncle", "friend", "boyfriend", "girlfriend", "fiancé", "fiancée", "verlobte"),
    *("kontoinhaber", "karteninhaber", "inhaber", "empfänger", "absender", "cardholder"),
    *("versicherungsnehmer", "recipient", "sender", "addressee", "account[ \\t]+holder"),
    *("policyholder", "beneficiary"),
    # "Zimmer 12, Patientin Erika Mustermann" (found by an attack review)
    # (as a noun: "very patient Highly Recommended!" stays, found by a precision review)
    *("patient", "privatpatient", "kassenpatient"),
    # "Das Zimmermädchen Olga", "Our guide Pedro" (found by a review: the name stayed)
    *("zimmermädchen", "reinigungskraft", "putzfrau", "putzkraft", "hausdame", "portier"),
    *("pförtner", "animateur", "betreuer", "trainer", "ausbilder", "fahrlehrer", "guide"),
    *("maid", "housemaid", "cleaner", "instructor", "lifeguard", "bellboy", "valet"),
    *("hairdresser", "stylist", "therapist", "doctor", "driving instructor"),
    # A hotel's and a shop's compounds: "Küchenchef Meier", "Der Oberkellner Thomas", "Die
    # Empfangsdame Sabine" (found by a staff walk-through: German joins the role to where
    # it works, and the name after it stayed)
    *("oberkellner", "chefkellner", "küchenchef", "chefkoch", "souschef", "empfangsdame"),
    *("empfangschef", "empfangsmitarbeiter", "nachtportier", "tagportier", "hotelmanager"),
    *("hoteldirektor", "restaurantleiter", "restaurantchef", "servicekraft"),
    *("servicechef", "hotelfachfrau", "hotelfachmann", "sommelier", "barchef", "wirt"),
    *("nachtrezeptionist", "angestellte", "angestellter", "hotelangestellte"),
    *("hotelmitarbeiter", "kundenbetreuer", "supportmitarbeiter", "verkaufsberater"),
    *("bademeister", "hotelier", "besitzer", "eigentümer", "gastgeber", "owner"),
    *("head[ \t]+waiter", "head[ \t]+chef", "sous[ \t]+chef", "night[ \t]+porter"),
    *("desk[ \t]+clerk", "clerk", "bellhop", "landlord", "landlady", "housekeeper"),
    # "Unsere Kinder Mia und Paul", "My kids Olivia and Noah" (found by a staff walk-through:
    # a son's name went, children's stayed)
    *("kinder", "kids", "children", "söhne", "töchter", "enkelkinder", "zwillinge"),
    *("sons", "daughters", "grandchildren", "twins", "barman", "barmaid"),
    # Trades, practices, transport, insurance and software (found by a precision check of
    # comments outside hotels: "Der Elektriker Dennis", "Die Sprechstundenhilfe Sandra",
    # "My physio Emma", "Electrician Dave fixed it" stayed)
    *("elektriker", "installateur", "klempner", "maler", "fliesenleger", "dachdecker"),
    *("schreiner", "tischler", "mechatroniker", "serviceberater", "autoverkäufer"),
    *("werkstattmeister", "geselle", "auszubildende", "auszubildender", "lehrling"),
    *("lagerist", "lokführer", "kontrolleur", "fahrkartenkontrolleur", "busfahrer"),
    *("versicherungsvertreter", "vertreter", "makler", "entwickler"),
    *("zahnärztin", "tierarzt", "tierärztin", "hausarzt", "hausärztin", "physio"),
    *("ergotherapeut", "logopäde", "logopädin", "sprechstundenhilfe", "arzthelferin"),
    *("wachmann", "optiker", "hörakustiker", "lieferant", "gutachter", "schadensregulierer"),
    *("salesman", "saleswoman", "salesperson", "sales[ \t]+assistant", "shop[ \t]+assistant"),
    *("engineer", "plumber", "electrician", "fitter", "builder", "handyman", "postman"),
    *("conductor", "ticket[ \t]+inspector", "developer", "physio", "physiotherapist"),
    *("hygienist", "apprentice", "optician", "assessor", "loss[ \t]+adjuster", "steward"),
    # gyms, courses, cinemas, landlords, utilities, insurers, neighbours ("coach Mike",
    # "usher Kyle", "Platzanweiser Luca", "Nachbarin Gerda Klein", "maintenance guy Luis":
    # found by a precision check of comments from such places)
    *("coach", "usher", "adjuster", "platzanweiser", "kursleiter", "dozent", "tutor"),
    *("nachhilfelehrer", "fitnesstrainer", "ableser", "zählerableser", "hausverwalter"),
    *("nachbar", "nachbarn", "neighbour", "neighbor", "neighbours", "neighbors"),
    *("counter[ \t]+staff", "staff[ \t]+member"),
    *("maintenance[ \t]+guy", "maintenance[ \t]+man", "delivery[ \t]+guy", "repair[ \t]+guy"),
    *("front[ \t]+desk[ \t]+guy", "cable[ \t]+guy", "delivery[ \t]+man"),
    # practices, salons, libraries, flights, sports grounds ("Die Tierarzthelferin Jana",
    # "nail tech Kim", "librarian Fiona", "cabin crew member Sophie", "platzwart Günther":
    # found by a precision check of such comments)
    *("helfer", "tierarzthelfer", "zahnarzthelfer", "mfa", "nail[ \t]+tech", "librarian"),
    *("nail[ \t]+technician", "bibliothekar", "barber", "flight[ \t]+attendant"),
    *("cabin[ \t]+crew[ \t]+member", "cabin[ \t]+crew", "housekeeping[ \t]+lady"),
    *("platzwart", "nageldesigner", "kosmetiker", "tierpfleger", "dental[ \t]+nurse"),
    *("zfa", "fußpfleger", "podologe", "podologin"),
    # ski schools, funerals, offices, weddings, care ("Skilehrer Hannes", "Trauerbegleiterin
    # Anja", "Buchhalterin Kerstin", "Carer Precious", "Funeral director Siobhan": found by
    # a precision check of such comments)
    *("skilehrer", "snowboardlehrer", "bergführer", "trauerbegleiter", "trauerredner"),
    *("bestatter", "buchhalter", "steuerberater", "vorarbeiter", "bauleiter", "polier"),
    *("hochzeitsplaner", "eventplaner", "saalordner", "ordner", "pflegekraft", "pflegerin"),
    *("altenpfleger", "haushaltshilfe", "betreuungskraft", "wohnbereichsleitung"),
    *("pflegedienstleitung", "sozialarbeiter", "fallmanager", "vermittler"),
    *("carer", "caregiver", "care[ \t]+worker", "support[ \t]+worker", "key[ \t]+worker"),
    *("funeral[ \t]+director", "undertaker", "accountant", "bookkeeper", "wedding[ \t]+planner"),
    *("event[ \t]+planner", "planner", "box[ \t]+office[ \t]+assistant", "caseworker"),
    *("case[ \t]+worker", "ski[ \t]+instructor", "foreman", "site[ \t]+manager"),
    # night shifts, dog salons, installers, agencies ("Nachtwache Oksana", "Hundefriseurin
    # Jasmin", "Installer Gavin", "Recruiter Hayley": found by a precision check of such
    # comments)
    *("nachtwache", "hundefriseur", "groomer", "dog[ \t]+groomer", "installer", "recruiter"),
    # kitchens, movers, tax offices, kindergartens, flights ("Die Küchenfrau Roswitha",
    # "Möbelpacker Dragan und Sascha", "Steuerfachangestellte Melanie", "Gruppenleitung
    # Tanja", "Crew member Leanne", "Passagierin Claudia Fenske": found by a precision check
    # of such comments)
    *("küchenfrau", "küchenhilfe", "möbelpacker", "umzugshelfer", "steuerfachangestellte"),
    *("steuerfachangestellter", "gruppenleitung", "gruppenleiter", "kitaleitung"),
    # ("mover" alone is a firm's: "The mover Two Men and a Truck", the review)
    *("passagier", "passenger", "crew[ \t]+member", "crew[ \t]+lead", "removal[ \t]+man"),
    *("tagesmutter",),
)
# Roles that are things too ("Der Sender Sky Sport fehlt", "Die Bedienung Android App",
# "Our server Microsoft Exchange", "Mutter Erde Produkte": found by the review of the
# corpus rules): a name after them only from a common first name on ("Mein Mann Peter").
_ROLES_THAT_ARE_THINGS = frozenset(
    "sender bedienung server host leiter empfänger guide trainer cleaner valet "
    # ("Builder Pro", "Developer Edition", "Entwickler Studio")
    "entwickler builder developer fitter conductor coach helfer mfa "
    # ("Planner Pro", "Ordner Dokumente")
    "planner ordner vermittler "
    # ("the installer Ubuntu Pro crashed", "Der Hundefriseur Pfötchen Paradies": found by
    # the review of the roles that came with them)
    "installer hundefriseur groomer".split()
)
# So are relatives ("Mutter Erde", "Tante Emma"), unless someone's ("Mein Mann Dragan
# Petrović": found by the review of that change, which had kept the name).
_RELATIVES_THAT_ARE_THINGS = frozenset(
    "partner mann mutter vater tante onkel oma opa kinder kids".split()
)
_AMBIGUOUS_ROLES = _ROLES_THAT_ARE_THINGS | _RELATIVES_THAT_ARE_THINGS
_DECLINED_ROLES = tuple(
    role
    for role in PERSON_ROLES
    if role not in _AMBIGUOUS_ROLES
    and role not in {"koch", "kind", "kinder", "kids", "gast", "gäste"}
    and " " not in role
    and "[" not in role
)
# ("Ihr Partner Tele Columbus" is a company's: not "ihr", found by review)
# Who is named by "hieß", "called" with no role before them: "Er hieß Kevin Becker", "the
# guy called Dave Smith" (a dish is too: "Die Suppe hieß Tom Kha Gai"; see by_role)
_PERSON_BEFORE = _Pattern(
    r"(?<!\w)(?i:er|sie|he|she|guy|man|woman|lady|girl|boy|typ|mann|frau|dame|junge"
    r"|mädchen|herr|person|someone|jemand)[ \t]+\Z"
)
_SOMEONES = _Pattern(
    r"(?<!\w)(?i:mein|meine[mnrs]?|unser|unsere[mnrs]?|sein|seine[mnrs]?|my|our|his|her)"
    r"[ \t]+\Z"
)
# A word that names whoever comes next: "sie hieß Jessica", "Er heißt Kevin", "the guy
# called Dave", "Her name was Olga" (found by the corpus review). Only a common first
# name after them (see _FIRST_NAME_AFTER_CUE).
_CALLED = ("hieß", "hiess", "heißt", "heisst", "namens", "called", "named")
_NAMING = (
    *_CALLED,
    *("name[ \t]+(?:is|was)", "name's"),
    # a first name alone after "Ich bin", "I'm" (a first and a last name: see _I_AM)
    # "Ich bin die Erika aus der Filiale" (found by an attack review; "Ich bin die ganze
    # Woche unterwegs" has no first name). Before "ich bin": tried in this order.
    # a filler before the article too, or "ich bin's, die Erika" (found by a redaction
    # walk-through: "Ich bin übrigens die Erika" stayed)
    r"ich[ \t]+bin(?:[ \t]*['’]s|[ \t]+es)?[ \t]*,?[ \t]+"
    r"(?:(?:übrigens|uebrigens|eigentlich|ja|auch|also|nochmal|nochmals|wieder)[ \t]*,?[ \t]+)*"
    r"d(?:ie|er)",
    # "Hallo, ich bin's, Tom", "Ich bin es, Tom" (a walk-through)
    # (a comma after it, and none needed after the name: see _FIRST_NAME_AFTER_CUE)
    # "Ich bin's nochmal, Tom" (found by a review)
    r"ich[ \t]+bin(?:[ \t]*['’]s|[ \t]+es)(?:[ \t]+(?:nochmal|nochmals|wieder|übrigens))?"
    r"(?P<its_me>)(?=[ \t]*,)",
    # "Es schreibt Ihnen die Erika" (found by a review; "… die Geschäftsführung" stays)
    r"es[ \t]+schreibt(?:[ \t]+(?:ihnen|euch|dir))?(?:[ \t]+(?:nochmal|wieder))?[ \t]+d(?:ie|er)",
    *("ich[ \t]+bin", "i[ \t]+am", "i['’]m"),
)
_TO_SOMEONE = (
    *("danke[ \t]+an", "dank[ \t]+an", "lob[ \t]+an", "kompliment[ \t]+an", "thanks[ \t]+to"),
    *("thank[ \t]+you[ \t]+to", "kudos[ \t]+to"),
    # "Shoutout to Priya!", "Riesenlob an Jana", "besonders an Jana" (found by a review)
    *("shout[ \t-]?out[ \t]+to", "riesenlob[ \t]+an", "extralob[ \t]+an"),
    *("besonders[ \t]+an", "vor[ \t]+allem[ \t]+an", "especially[ \t]+to"),
    # whom one spoke to: "I talked to Sarah on the phone" (and see _SPOKE_WITH)
    *("spoke[ \t]+(?:to|with)", "talked[ \t]+(?:to|with)", "chatted[ \t]+with"),
    *("speaking[ \t]+(?:to|with)", "talking[ \t]+(?:to|with)"),
)
# A thank-you or a greeting with more after it: "Thanks Maria! best dinner ever", "LG und
# danke Birgit", "Gruß Thorsten aus dem Allgäu", "love from Becky x" (found by a precision
# check: alone they went, not so). A common first name after them only (see first_name):
# "Love from Palma Nova", "Danke Hotel Adler" stay.
_THANKING = (
    # (the longer first: "Thanks again Jenna", "Gruß an Marek" took "again", "an" for the
    # name, found by review)
    *("thanks[ \t]+again", "thanks", "thank[ \t]+you", "danke", "dankeschön", "gruß[ \t]+an"),
    *("gruß", "grüße[ \t]+an", "grüße", "love[ \t]+from"),
    # "LG Renate aus Zimmer 12" (found by a precision check: "Viele Grüße Renate aus" went)
    *("lg", "glg", "vg"),
)
# Nor any word of them one of a brand, a team, a place or a thing (found by review:
# "Thanks to Uber Eats", "Danke an Lieferando Berlin", "Großes Lob an Küche Süd", "Der
# Fahrer Mercedes Sprinter", "Mitarbeiter Kundendienst Hotline"). Precision before recall:
# a name missed here stays for staff, as "Anna war super" does.
_NOT_IN_NAMES = (
    "nord süd sued ost west mitte zentrum zentrale north south east central "
    "berlin hamburg münchen muenchen köln koeln frankfurt stuttgart düsseldorf dortmund "
    "essen leipzig bremen dresden hannover nürnberg duisburg bochum wuppertal bielefeld "
    "bonn münster mannheim karlsruhe augsburg wiesbaden mainz rostock potsdam wien graz "
    "linz salzburg zürich basel deutschland germany österreich austria schweiz europa "
    "europe küche kueche kantine hotline kundendienst callcenter abteilung shop "
    "store center centre markt hotel support service team crew video music maps pay eats "
    "prime plus lieferando uber wolt flink gorillas deliveroo sprinter transporter"
).split()
# What follows a brand rather than a person: "Thanks to Prime Video support", and in
# English a clause after "thanks to" as "because of" ("Thanks to Uber Eats the food ...").
_NOT_AFTER_A_PERSON = (
    r"[ \t]+(?i:support|service|team|app|shop|store|hotline|kundenservice|kundendienst"
    r"|customer|the|my|our|your|their|this|it|everything|i|we)\b"
)


def _any_of(words: tuple[str, ...]) -> str:
    """Any of the words, in any case, for a pattern tried at every word: grouped by their
    first letter ("f(?:ahrer|ilialleiter)|k(?:unde|undin)"), and those letters looked for
    first, so that most words fail at once. (Each word in turn took twice as long.)"""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(word[1:])
    initials = "".join(groups)
    alternatives = "|".join(f"{first}(?:{'|'.join(rest)})" for first, rest in groups.items())
    return f"(?=[{initials}{initials.upper()}])(?i:{alternatives})"


# A role's ending as German declines it, before a first name alone ("Kollegen Stefan",
# "unseres Sohnes Ben": found by a precision check, they stayed); not a role that is a
# thing too, nor one whose declined form is another word ("Kochen", "Kindern", "des
# Senders Sky Sport", "des Kellners Aperol Spritz": found by the review of a first version,
# which took full names and every cue word so).
_ROLE_ENDING = r"(?:en|n|es|s)"
_NO_SHOP = rf"(?!{_FEEDBACK_WORD}|(?i:{'|'.join(_THANKED + _NOT_PEOPLE)})\b)"
# A second name after "und", "and" or "&": "Danke an Jan Petersen und Anna Müller" (found
# by review: the second stayed); where it is none, the first goes alone (see by_role).
# After a word that names, and a role and such a word, a first and a last name too: "Der
# Kellner hieß Kevin Becker", "the guy called Dave Smith"; and after a role, a name set off
# by commas ("our server, Dave Smith, was great"). Found by a staff review: "sie hieß
# Jessica" went, "Der Kellner hieß Kevin Becker" stayed. There, from a common first name
# on (see by_role): "Das Gericht heißt Kaiserschmarrn Royal", "a dish called Eggs Benedict".
_NAME_AFTER_ROLE = _Pattern(
    rf"(?P<lead>(?<!\w)(?:{_any_of(PERSON_ROLES + _TO_SOMEONE)}(?:in)?\b"
    r"(?:[ \t]*:|(?P<comma>[ \t]*,))?[ \t]+"
    rf"(?P<called>{_any_of(_CALLED)}\b[ \t]+)?|(?P<naming>{_any_of(_CALLED)})\b[ \t]+))"
    rf"{_NO_SHOP}(?P<name>(?>{_FULL_NAME}))"
    rf"(?:(?P<also>{_AND}){_NO_SHOP}(?P<second>(?>{_FULL_NAME}))"
    rf"(?![ \t]+[{_UPPER}]|{_NOT_AFTER_A_PERSON}))?"
    rf"(?![ \t]+[{_UPPER}]|{_NOT_AFTER_A_PERSON})(?(comma)(?=[ \t]*,)|)"
)
# A common first name alone after a role, a thank-you to someone or a word that names
# ("Kellner Tobias war aufmerksam", "Der Concierge Giuseppe", "der support mitarbeiter
# kevin", "Our server Jake", "Danke an Kevin und Chantal", "sie hieß Jessica", "the guy
# called Dave", "dank an d'resi", found by the corpus review), in quotes too ("Namensschild
# 'Dennis'"). Only one of FIRST_NAMES (in small letters only one that is no word: "der
# fahrer max 5 Minuten zu spät"), and no capitalised word of a name after it ("Danke an
# Marco Polo", "Toni's Pizzeria"; see first_name). Not "Der Fahrer kam pünktlich", "Danke
# an alle", "Kellner war nett", "Mark my words".
_FIRST_NAME_WORD = rf"[{_UPPER}{_LOWER}][{_LOWER}]+(?:-[{_UPPER}{_LOWER}][{_LOWER}]+)?\b(?![-'’]\w)"
_I_AM_CUE = _Pattern(r"(?i:ich[ \t]+bin|i[ \t]+am|i['’]m)\b")
_WHAT_ONE_IS = _Pattern(
    r"[ \t]+(?i:fan|fans|kunde|kundin|customer|user|nutzer|nutzerin|mitglied|member)\b"
)
_LISTED_SEPARATOR = rf"(?:,[ \t]*+|{_AND})"
_LISTED_FIRST_NAME = (
    rf"(?={_any_of(tuple(sorted(FIRST_NAMES, key=len, reverse=True)))}\b){_FIRST_NAME_WORD}"
)
# A street or square named after someone, written without its hyphens, where a place is
# spoken of ("Der Bus zum Willy Brandt Platz", "Filiale Friedrich Ebert Straße"), and an
# airport ("Flughafen Helmut Schmidt"): found by a precision check of a transport company's
# comments, "[Name] Platz". Set aside as a place, as its hyphened form stays; not with a
# house number after it, which makes it an address. Only after a word that names a place,
# and only a common first name and another name before the street's word: "Frau Damm an
# der Rezeption", "Ich habe mit Jens Weber Halle telefoniert", "Anna Schmidt Krankenhaus"
# are people (found by the regression check and the review of that change).
_NAMED_PLACE = _Pattern(
    r"(?<![\w-])(?:(?:zum|zur|am|vom|beim|im|nach|ab|bis|Richtung|Filiale|Haltestelle"
    r"|Station|in[ \t]+der|an[ \t]+der|auf[ \t]+der|von[ \t]+der|über[ \t]+die)[ \t]+"
    rf"{_LISTED_FIRST_NAME}[ \t]+{_NAME_PART}[ \t]+(?:Platz|Straße|Strasse|Str\.|Allee)"
    # airports by their names alone: "Airport John Smith" is a driver (found by review)
    r"|Flughafen[ \t]+(?:Helmut[ \t]+Schmidt|Franz[ \t-]Josef[ \t-]Strauß|Konrad[ \t]+Adenauer"
    r"|Willy[ \t]+Brandt|Otto[ \t]+Lilienthal))"
    r"\b(?![ \t]*(?:\d|Nr\b|Nummer\b|No\b))"
)
_FIRST_NAME_AFTER_CUE = _Pattern(
    rf"(?P<lead>(?<!\w)(?:{_any_of(_DECLINED_ROLES)}{_ROLE_ENDING}"
    rf"|{_any_of(PERSON_ROLES + _TO_SOMEONE + _THANKING + _NAMING)}(?:in)?)\b"
    # a role and a word that names ("Der Kellner hieß Marcel", "Der Kellner namens Kevin"),
    # or a name set off by commas after a role ("our server, Dave, was great"): found by a
    # staff review, where "sie hieß Jessica" and "Our server Jessica" went
    rf"(?:[ \t]*:|(?P<comma>[ \t]*,))?[ \t]+{_FILLER}"
    rf"(?:{_any_of(_CALLED)}\b[ \t]+{_FILLER})?(?:[‚‘'\"„“»«›‹]|[dD]['’])?)"
    # the names listed after it too: "Danke an Anna, Ben und Jana" (found by review: Ben
    # and Jana were left); only common first names, so that what follows a comma is looked
    # at again ("Danke an alle, Kellner Tobias": found by the review of that change)
    rf"(?P<name>{_FIRST_NAME_WORD})(?P<more>(?:{_LISTED_SEPARATOR}{_LISTED_FIRST_NAME})*+)"
    # (or ending the comment: "We loved our waiter, Giovanni." found by a staff walk-through)
    r"(?(comma)(?(its_me)|(?=[ \t]*(?:,|[.!]?[ \t]*(?:\n|\Z))))|)"
)
# A common first name alone in brackets, maybe with a doubt: "Die Dame an der Kasse
# (Nicole) war genervt", "Mein Mann (Reinhard)", "der Kellner (ich glaube Lukas)" (found by
# a precision check: all stayed). See bracketed.
# (Only after someone, or with a doubt in the brackets: a thing's name stands there too,
# "Das Regal (Billy)", "Sturm (Sabine)", "Die Oper (Carmen)": found by review.)
_SOMEONE_BEFORE_BRACKET = _Pattern(
    rf"(?i:\b(?:{_any_of(tuple(r for r in PERSON_ROLES if r not in _AMBIGUOUS_ROLES))}"
    r"|dame|herr|frau|mann|junge|mädchen|typ|guy|lady|man|woman|girl|boy|person|staff"
    r"|mitarbeiterin|kollegin|verkäuferin|kellnerin|bedienung|partner|partnerin"
    # (a child: "mein kind (Ella, 4)", found by a precision check)
    r"|kind|baby|child|kid"
    # children, the little one, oneself with others, a trainer who is a woman ("Die Kinder
    # (Paul und Emma)", "Unser Kleiner (Matteo, 2)", "Wir (Kathrin & Dominik Schulz)", "Die
    # Trainerin (Lisa)": found by a precision check); weaker cues (see bracketed)
    r"|(?P<weak>kinder|children|kleine|kleiner|kleinen|little[ \t]+one|wir|we"
    # one's relatives that are things too ("Meine Mutter (Waltraud Engel, 91)")
    r"|(?:mein|meine|meiner|meinem|meinen|unser|unsere|unserer|unserem|unseren|my|our)[ \t]+"
    r"(?:mutter|vater|oma|opa|tante|onkel|partner)"
    rf"|{_any_of(tuple(r for r in _ROLES_THAT_ARE_THINGS if r.isalpha()))}in))"
    r"(?:in|en|n|s|e)?\b)(?:[ \t]+(?:an|am|in|im|at|on|from|von|vom|der|dem|the|mit|with|bei)"
    r"(?:[ \t]+(?:der|dem|den|the))?[ \t]+\w+(?:[ \t]+\d+)?)?"
    # and a short clause of who they are: "Der Pfleger, der am Wochenende kommt (Piotr)",
    # "Das Kind, das neben uns saß (Mia)"
    r"(?:[ \t]*,[ \t]*(?i:der|die|das|who|that)\b[^,;:.!?()\n]{1,40})?[ \t]*\Z"
)
_FIRST_NAME_RUN = _Pattern(_FIRST_NAME_WORD)
_BRACKETED_NAME = _Pattern(
    r"(?P<lead>\((?:(?i:ich[ \t]+glaube?|glaube?[ \t]+ich|i[ \t]+think|vielleicht|maybe"
    r"|wohl|namens|called|named)[ \t]+)?)"
    rf"(?P<name>{_FIRST_NAME_WORD}(?:[ \t]+{_LATER_NAME_WORD})?)"
    # several ("mit den Enkeln (Paul, Emma und Sophie)"), or with an age ("(Ella, 4)"):
    # found by a precision check; their family name after them, a common one ("Wir (Kathrin
    # & Dominik Schulz)", not "Wir (Anna & Tom Vegetarier)")
    rf"(?P<more>(?:{_LISTED_SEPARATOR}{_FIRST_NAME_WORD}){{1,5}}"
    rf"(?P<family>[ \t]+{_NAME_PART}(?:-{_NAME_PART})?)?)?"
    # an age ("Jahre alt", found by a precision check), or when born: "(Rüdiger Voss, geb.
    # 02.11.1956)", its date taken out by the rules of dates of birth before this one
    r"(?P<end>(?:,[ \t]*(?:\d{1,3}(?:[ \t]*(?i:j\.|jahre|years?|yrs?)(?:[ \t]+(?i:alt|old))?)?"
    rf"|(?i:geb\.?|born|\*)[ \t]*(?:(?:\[[^\]\n]{{1,16}}\]|[\d. /-]){{1,24}}?"
    # or a maiden name ("(Waltraud, geb. Engel)": the review of the rule)
    rf"|(?P<maiden>{_NAME_PART}(?:-{_NAME_PART})?))))?[ \t]*\??\))"
)
# Or set off by commas after someone, maybe with a doubt: "the lady at the counter, Janet,
# was lovely", "Der junge Mann an Kasse 2, Tim glaub ich, war geduldig" (found by a precision
# check: they stayed). See commaed.
_COMMA_NAME = _Pattern(
    rf"(?P<lead>,[ \t]*)(?P<name>{_FIRST_NAME_WORD})"
    r"(?P<end>(?:[ \t]+(?i:glaube?[ \t]+ich|ich[ \t]+glaube?|i[ \t]+think))?[ \t]*,)"
)
# A common first name opening a sentence, before what it did or was, or a thank-you: "Sandra
# ist die beste Friseurin", "Paula war sehr freundlich", "Sandra, danke für den Schnitt!"
# (found by a precision check of salons' comments). Not one that is a word too: there the
# capital tells nothing (see _is_first_name). And only where the sentence tells of someone
# serving (a role, how they treated one: see name_opens), for products, shows and pets
# have first names too ("Emma ist viel zu weich", "Billy ist wackelig", "Carmen war
# großartig", "Luna hat die Impfung gut vertragen": found by its review). "Anna war super"
# stays.
_SHOPS_NAMED_AS_PEOPLE = frozenset(("douglas", "jordan"))
_SERVING = _Pattern(
    r"(?<!\w)(?i:freundlich|unfreundlich|nett|nette|netter|hilfsbereit|höflich|unhöflich"
    r"|kompetent|inkompetent|geduldig|ungeduldig|zuvorkommend|bemüht|genervt|pampig|frech"
    r"|arrogant|herzlich|sympathisch|unsympathisch|aufmerksam|professionell|unprofessionell"
    r"|erklärt|beraten|berät|bedient|geholfen|hilft|zugehört|zurückgerufen|angerufen"
    r"|gefärbt|geschnitten|frisiert|behandelt|friendly|unfriendly|rude|helpful|unhelpful"
    r"|polite|impolite|patient|impatient|attentive|professional|unprofessional|explained"
    r"|helped|served|listened|called|answered|welcoming|knowledgeable|did[ \t]+(?:an?|my))"
    r"(?!\w)"
)
# (a role of one serving: not a relative, a customer or a neighbour, "the kids loved it")
_NOT_SERVING = frozenset(
    "vater mutter mann ehemann ehefrau gatte gattin sohn tochter bruder oma opa tante onkel "
    "enkel enkelin neffe nichte cousin cousine freund partner lebensgefährte lebensgefährtin "
    "schwiegermutter schwiegervater schwager schwägerin husband wife son daughter brother "
    "sister mother father mum mom dad grandma grandpa granny grandson granddaughter nephew "
    "niece aunt uncle friend boyfriend girlfriend fiancé fiancée verlobte kinder kids "
    "children söhne töchter enkelkinder zwillinge sons daughters grandchildren twins kunde "
    "kundin kontoinhaber karteninhaber inhaber empfänger absender cardholder recipient "
    "sender addressee policyholder beneficiary versicherungsnehmer patient privatpatient "
    "kassenpatient nachbar nachbarn neighbour neighbor neighbours neighbors owner besitzer "
    "eigentümer server host".split()
)
SERVING_ROLES = tuple(r for r in PERSON_ROLES if r not in _NOT_SERVING)
"""The roles of those who serve (also read by `flows.engine.about_privacy`)."""
_SERVING_ROLE = _Pattern(rf"(?<!\w){_any_of(SERVING_ROLES)}(?:in|innen)?(?!\w)")
_SENTENCE_END = _Pattern(r"[.!?\n]")
_NAME_OPENS = _Pattern(
    rf"(?P<lead>(?:\A|(?<=[.!?][ \t])|(?<=\n))[ \t]*)(?P<name>{_FIRST_NAME_WORD})"
    r"(?=[ \t]+(?:ist|war|hat|hatte|is|was|has|had)\b"
    r"|[ \t]*,[ \t]*(?i:danke|vielen[ \t]+dank|thanks|thank[ \t]+you)\b)"
)
# Whom a course, a lesson or an appointment was with: "Kurs Bodypump dienstags mit Jenny",
# "Nachhilfe bei Jonas", "spin class with Rachel" (found by a precision check of gyms'
# and schools' comments). A common first name, capitalised, with such a word shortly before
# (see with_someone): "Tee mit Jasmin-Reis", "mit Ernst bei der Sache" stay.
_WITH_SOMEONE = _Pattern(
    rf"(?P<lead>(?<!\w)(?i:mit|bei|with)[ \t]+)(?P<name>{_FIRST_NAME_WORD})"
    rf"(?P<more>(?:{_LISTED_SEPARATOR}{_LISTED_FIRST_NAME})*+)"
)
_SESSION_BEFORE = _Pattern(
    r"(?i:kurs|class|training|nachhilfe|unterricht|lesson|session|workshop|seminar"
    r"|coaching|führung|tour|termin|beratung|sitzung|behandlung|massage|appointment"
    r"|gespräch|meeting|probetraining|stunde)(?:e|es|en|n|s|e?n?s)?\b[^.!?\n]{0,40}\Z"
)
_NOT_AFTER_ONE_WITH = _Pattern(
    rf"\.?[ \t]*\d|[ \t]*[&+]|[ \t]+im[ \t]+Glück|[ \t]+(?:and|und)[ \t]+"
    rf"(?!{_any_of(tuple(sorted(FIRST_NAMES, key=len, reverse=True)))}\b)[{_UPPER}]"
)
_BRAND_AFTER_A_NAME = _Pattern(r"[ \t]*[&+][ \t]*\w+['’]s\b|[ \t]+im[ \t]+Glück\b")
_LISTED_NAME = _Pattern(rf"(?P<gap>{_LISTED_SEPARATOR})(?P<name>{_FIRST_NAME_WORD})")
# A common last name alone after a role: "Kellner Meier war unfreundlich", "Küchenchef
# Meier", "Die Kundenberaterin Schneider" (found by a staff walk-through: a first name
# alone went, a last name alone stayed). Only a last name of COMMON_SURNAMES, no capitalised
# word after it ("Der Fahrer Müller Logistik"), and not after a role that is a thing or a
# relative too ("Mutter Wolf"), nor after a thank-you ("Danke an Müller", the shop).
_SURNAME_AFTER_ROLE = _Pattern(
    rf"(?P<lead>(?<!\w){_any_of(tuple(r for r in PERSON_ROLES if r not in _AMBIGUOUS_ROLES))}"
    r"(?:in)?\b(?:[ \t]*:)?[ \t]+)"
    rf"(?P<name>{_NAME_PART}(?:-{_NAME_PART})?)\b(?![-'’]\w|[ \t]+[{_UPPER}])"
)
# A last name that is a word too, after "der"/"the" and a role, before what they did: "Der
# Kellner Bauer war super", "The waiter Baker was rude" (found by the precision check of
# session 51: only last names that are no words went). Not "dem Kellner Trinkgeld
# gegeben": the article names the one who did, the verb follows at once.
_GERMAN_WORD_SURNAMES = (
    "bauer koch wolf klein braun schwarz lange lang könig kaiser fuchs weiß weiss jung hahn "
    "vogel winter stein sommer groß gross graf engel horn busch sauer berg kuhn kühne"
).split()
_WORD_SURNAMES = [
    *_GERMAN_WORD_SURNAMES,
    *"baker cook young king hall wood hill green white brown bell ward price".split(),
]
# What names a place or an institute after a name ("Robert Koch Institut", "Die Max Winter
# Halle"): not any capitalised word, which every German noun is ("Ich habe Anke Wolf
# Bescheid gesagt", found by the second review).
_PLACE_NOUN_AFTER = _Pattern(
    r"[ \t]+(?:Institut|Instituts|Halle|Straße|Strasse|Str\.|Weg|Platz|Allee|Ring|Klinik"
    r"|Klinikum|Krankenhaus|Schule|Gymnasium|Realschule|Grundschule|Stiftung|Haus|Hotel"
    r"|Center|Zentrum|Arena|Stadion|Park|Brücke|Apotheke|Verlag|Bahnhof|Kaserne|Museum"
    r"|Preis|Gesellschaft|Gedächtnis\w*|GmbH|AG|KG|e\.V\.)(?![\w-])"
)
_WORD_SURNAME_AFTER_ROLE = _Pattern(
    # or where a sentence begins, as a name tag reads: "Kassiererin Bauer war genervt",
    # "Techniker Fuchs kam zu spät" (found by a precision check outside hotels)
    r"(?P<lead>(?:(?<![\w-])(?i:der|die|the|our|unser|unsere)[ \t]+|(?m:^)|(?<=[.!?:][ \t]))"
    rf"{_any_of(tuple(r for r in PERSON_ROLES if r not in _AMBIGUOUS_ROLES))}(?:in)?[ \t]+)"
    rf"(?P<name>(?=[{_UPPER}])(?i:{'|'.join(_WORD_SURNAMES)})\b)"
    r"(?=[ \t]+(?i:war|ist|hat|hatte|kam|sagte|meinte|was|is|has|had|came|said)\b)"
)
# A common first name, then its role set off by a comma or "the": "Jan, der Techniker, war
# super", "Steve the driver was rude" (found by a precision check outside hotels). Not
# a role that is a thing too ("Bob the Builder").
_NAME_THE_ROLE = _Pattern(
    rf"(?<![\w-])(?P<name>{_FIRST_NAME_WORD})"
    r"(?P<role>(?:[ \t]*,[ \t]*(?i:der|die|unser|unsere|our|my|mein|meine|the)|[ \t]+(?i:the))"
    rf"[ \t]+(?:{_any_of(tuple(r for r in PERSON_ROLES if r not in _AMBIGUOUS_ROLES))}"
    # a role that is a thing too in small letters only ("Joe the builder", not "Bob the
    # Builder": the regression check)
    rf"|(?-i:{'|'.join(sorted(r for r in _ROLES_THAT_ARE_THINGS if ' ' not in r))}))(?:in)?\b)"
)
# A common first name before "und" and a name that went: "Maria und Jan am Empfang",
# "Toller Service von Maria und Jan am Empfang" (found by a staff walk-through: the second
# went, the first stayed). See name_before_a_name.
_NAME_BEFORE_A_NAME = _Pattern(
    rf"(?<![\w-])(?P<name>{_FIRST_NAME_WORD})(?P<and>[ \t]+(?i:und|and|&)[ \t]+)(?=\[)"
)
# A common first name and a common last name, anywhere: "Bitte rufen Sie Thomas Berger
# zurück", "Please contact Sarah Johnson, room 12" (found by a staff walk-through: with no
# cue before them, they reached alerts, summaries and exports). Both from the lists, so
# that a first name and a noun after it stay ("Thomas Mann", "Paul Zimmer" is no list's),
# and not a brand's ("Tom Tailor"; see known_full_name).
_KNOWN_FULL_NAME = _Pattern(rf"(?<![\w-])(?P<name>(?>{_FULL_NAME}))")
# "Mustermann, Erika (Kundin seit 2010)", "Name = Mustermann, Erika": a surname and a common
# first name after it, as in a form (found by an attack review). At the start of a line
# or after a label's ":" or "=", and nothing but a parenthesis, a comma or the end of the
# line after it; a surname known as one, or after a label or before a parenthesis (see
# surname_first). "Müller, Bäcker und Metzger haben zu", "Schade, Anna.", "Hallo, Anna!"
# (a greeting) and "Danke, Anna" (a thank-you, left to _SIGN_OFF) stay. Before a dash only
# where contact data follow it: "Meyer, Anna - Kundennummer 998877" (found by a redaction
# walk-through; see surname_first).
_SURNAME_FIRST = _Pattern(
    r"(?P<lead>(?:\A|(?<=\n)|(?<=[:=]))[ \t]*)"
    rf"(?!(?i:{_GREETING}|{_CLOSING}|{_THANKS}|{_CHEERS})\b)"
    rf"(?P<surname>{_NAME_WORD_NOT_DESCRIBING}),[ \t]*(?P<first>{_LISTED_FIRST_NAME})"
    r"(?=[ \t]*(?:[(,;\n]|\.?[ \t]*(?:\n|\Z))|(?P<dash>[ \t]+[–—-][ \t]+))"
)
# A first and a last name right before a customer number, a phone number or an address
# of mail, or alone on its line above or below a line of nothing but one: "Sandra Kowalski,
# Kundennummer 556677", "Bitte Rückruf: Sandra Kowalski, 0151 23456789", "...\nSandra
# Kowalski\n0151 23456789" (found by a redaction walk-through: the number went, the name
# next to it stayed). From a common first name on, or a common last name (see
# by_contact): "Super Service, Kundennummer 556677", "Tom Tailor, Bestellnummer 123456" stay.
_CONTACT_WORD = r"(?i:tel|telefon|fon|phone|mobil|mobile|handy|cell|fax|e-?mail|mail)\b"
_CONTACT_WORD_AHEAD = _Pattern(_CONTACT_WORD)
_NAME_BY_CONTACT = _Pattern(
    rf"(?<![\w-])(?P<name>(?>{_FULL_NAME})"
    # or a common first name alone before the word for a phone or a mail ("Bitte Rückruf:
    # Claudia Tel 0621 …", "Call Sarah Phone …": the review of the change that keeps "Tel"
    # out of names)
    rf"|(?P<lone>(?=[A-ZÄÖÜ])[^\W\d_]+)(?=[ \t]+{_CONTACT_WORD}))"
    r"(?:(?P<gap>(?:[ \t]*+[,;:]|[ \t]+[–—-])[ \t]*+)|(?P<below>[ \t]*+\n[ \t]*+)"
    r"|(?P<above>[ \t]*+(?=\n|\Z))|(?P<space>[ \t]++))"
)
# A label that says a name follows ("Name =", "Kundin:", "Absender:"), not any ("Fazit:
# Lecker, Anna").
_NAME_LABEL_BEFORE = _Pattern(
    r"(?i:name|kunde|kundin|absender|sender|\bvon|\bfrom|patient|patientin|inhaber"
    r"|inhaberin|empfänger|unterschrift)[ \t]*[:=][ \t]*\Z"
)
# A name at a door, where a parcel or a key was left: "Klingel Haberkorn", "klingeln bei
# Wagner", "bei Krause im EG abgelegt" (found by a precision check of parcel services' and
# movers' comments: a neighbour named who agreed to nothing). Not a shop ("bei Rewe im
# EG"), see at_the_door.
_FLOOR = (
    r"(?:(?-i:EG|OG|DG|UG|HH|VH)|\d{1,2}\.[ \t]*(?:OG|Stock|Etage|Obergeschoss)|erdgeschoss"
    r"|obergeschoss|dachgeschoss|hinterhaus|vorderhaus|souterrain|keller|parterre)"
)
_ROLE_WORD = _Pattern(rf"(?i:{_any_of(PERSON_ROLES)})(?:in|innen|en|n|s|e)?")
_AT_THE_DOOR = _Pattern(
    r"(?P<lead>(?<![\w-])(?:(?P<plate>(?i:klingel|klingelschild|türschild|tuerschild))"
    r"[ \t]*:?[ \t]+"
    r"|(?i:briefkasten)[ \t]*:?[ \t]+"
    r"|(?i:klingeln|klingelt|klingelte|geklingelt|klingle)[ \t]+(?i:bei)[ \t]+"
    rf"|(?P<floor>(?i:bei)[ \t]+(?={_NAME_PART}[ \t]+(?i:im|in[ \t]+der|in|ganz[ \t]+im)[ \t]+"
    rf"{_FLOOR}\b))))"
    # (not a number's word: "Klingel Nr. 14 geht aber", the regression check)
    rf"(?!(?i:nr|nummer|no|name)\b)(?P<name>{_NAME_WORD_NOT_DESCRIBING}"
    rf"(?:[ \t]*/[ \t]*{_NAME_PART})?)(?!\.?[ \t]*\d)"
    # where it ends the phrase on a bell's or a door's plate ("Klingel Haberkorn"), a name
    # no list has too; elsewhere, and before more words, only a common one ("Klingel Geht
    # nicht", "klingeln bei Schmerzen": see at_the_door)
    r"(?P<alone>(?=[ \t]*(?:[,.;:!?)/\n]|\Z)))?"
)
# Words at a door that are no name, capitalised as typed ("Briefkasten Voll", "Klingel
# Links", "klingeln bei Empfang": found by the review of the rule), and when to ring ("Bitte
# klingeln bei Ankunft").
_AT_A_DOOR = frozenset(
    "voll leer kaputt defekt links rechts oben unten geht fehlt ton anlage schloss klappe "
    "post schlüssel hinterhaus vorderhaus aufgebrochen funktioniert empfang rezeption pforte "
    "hausmeister verwaltung büro buero familie firma tür tuer haus eingang "
    "ankunft bedarf abholung problemen fragen rückfragen nachfragen notfall notfällen gefahr "
    "regen dunkelheit verspätung abwesenheit anlieferung zustellung übergabe".split()
)
# "Ich, Erika Mustermann, bin enttäuscht", "I, John Smith, ...": a name set off by commas
# after "ich" or "I" (found by an attack review), from a common first name on (see
# i_comma): "Ich, Berliner Stammkunde, ..." stays.
_I_COMMA_NAME = _Pattern(
    r"(?P<lead>(?<![\w-])(?i:ich|i)[ \t]*,[ \t]*)"
    rf"(?P<title>{_TITLE}[ \t]+)?(?P<name>(?>{_NAME}))(?=[ \t]*,)"
)
# "Anna Schmidt hier, bitte zurückrufen", "Hallo, Tom hier.": a name and "hier" opening the
# comment, as on the phone (found by an attack review), from a common first name on and
# before a sign or the end of the line (see name_here): "Alles Gute hier." and "Anna hier
# ist alles gut" stay.
_NAME_HERE = _Pattern(
    # (possessive: runs of spaces given back to one another took the cube of their length)
    # at the start, or after a sentence ("Food cold. Tom here": found by a review)
    rf"(?P<lead>\A\s*+(?:(?i:{_GREETING})\b(?:[ \t]++\w++){{0,2}}?[ \t]*+[,!.]?\s*+)?"
    r"|(?<=[.!?])[ \t]++)"
    rf"(?P<name>(?>{_NAME})|[{_LOWER}]{{2,20}})(?=[ \t]+(?i:hier|here)(?:[ \t]*(?:[,.!:;–—-]|\n|\Z)"
    # "Sandra here from reception", "Tom hier aus Zimmer 12" (a redaction walk-through)
    r"|[ \t]+(?i:from|vom|von|aus|again|nochmal)\b))"
)
# A name and the desk or room they work at: "Kevin von der Rezeption war unhöflich", "Jana
# an der Bar", "Priya at the front desk" (found by a review: staff were named whole). From
# a common first name on, capitalised (see at_work): "Kaffee an der Bar", "Service an der
# Rezeption", "Berlin from the kitchen" stay.
_WORKPLACES = (
    *("rezeption", "empfang", "küche", "bar", "theke", "kasse", "information", "info"),
    *("hotline", "kundenservice", "kundendienst", "service", "frühstück", "filiale"),
    *("werkstatt", "lobby", "spa", "front[ \t]+desk", "reception", "front[ \t]+office"),
    *("kitchen", "counter", "checkout", "check-in", "help[ \t]*desk", "concierge"),
    *("support", "billing", "sales", "customer[ \t]+service", "buchhaltung", "vertrieb"),
    *("versand", "technik", "support-team", "kundenbetreuung"),
    # "Sarah from housekeeping", "Sonja vom Frühstücksservice" (found by a staff walk-through)
    # (not "Restaurant" nor "Pool": "Pizza Regina im Restaurant", "Bloody Mary at the pool",
    # found by the review of that change)
    *("housekeeping", "frühstücksservice", "zimmerservice", "room[ \t]+service", "valet"),
    # a shop's, a practice's, a station's ("Kevin im Lager", "Sabine an der Anmeldung", "Anna
    # am Schalter", "Gary on the tills": found by a precision check outside hotels)
    *("lager", "anmeldung", "schalter", "annahme", "tills", "till", "warehouse"),
    *("returns[ \t]+desk", "service[ \t]+desk", "workshop", "tresen", "grill"),
    # an office's ("Tom from IT", "Sarah in accounts": found by a precision check)
    *("edv", "it-abteilung", "accounts", "accounting", "finance", "hr", "marketing"),
    *("personalabteilung", "verwaltung", "hausverwaltung", "finanzbuchhaltung"),
    *("pharmacy[ \t]+counter",),
)
_DRINK_BEFORE = _Pattern(r"(?i:bloody|virgin|pizza)[ \t]+\Z")
_NAME_AT_WORK = _Pattern(
    # an initial and a surname too: "M. Weber vom Kundendienst" (not "z. B. Kaffee an
    # der Bar")
    rf"(?<![\w-])(?P<name>(?<![zZ]\.[ \t])(?<![zZ]\.)"
    rf"(?P<initialled>{_INITIAL}[ \t]?(?=[{_UPPER}][{_LOWER}]{{2}}){_LATER_NAME_WORD})"
    rf"|(?>{_FULL_NAME})|{_FIRST_NAME_WORD})"
    r"(?P<where>[ \t]+(?:(?:von|an|aus|in)[ \t]+der|(?:von|aus)[ \t]+dem|vom|am|im|at|from|on|in)"
    # ("IT" in capitals only: "Tom Hanks in it", found by the review of that change)
    rf"(?:[ \t]+the)?[ \t]+(?:(?i:{_any_of(_WORKPLACES)})|IT)\b)"
)
# Whom one spoke with, the German way round: "Ich habe mit Sandra telefoniert", "Hab mit
# einer Sandra gesprochen" (found by a review). A common first name, capitalised (see
# spoke_with): "mit Amazon telefoniert", "mit Freude gesprochen" stay.
_SPOKE_WITH = _Pattern(
    r"(?P<lead>(?<!\w)(?i:mit)[ \t]+(?:(?i:einer|einem|der|dem|ihrer|ihrem)[ \t]+)?)"
    rf"(?P<name>{_FIRST_NAME_WORD})(?=[ \t]+(?:(?i:am[ \t]+telefon|kurz|lange)[ \t]+)?"
    r"(?i:telefoniert|gesprochen|gechattet|geschrieben|geredet)\b)"
)
# Who said what: "Erika sagt, der Kaffee war lauwarm", "Tom said it was fine" (found by an
# operator walk-through: the name stayed in the summary and the frequent words). A common
# first name, capitalised (see says): "Google sagt", "Die Karte sagt" stay.
_NAME_SAYS = _Pattern(
    rf"(?<![\w-])(?P<name>{_FIRST_NAME_WORD})(?=[ \t]+(?:(?i:hat|hatte|has|had)[ \t]+)?"
    r"(?i:sagt|sagte|gesagt|meint|meinte|gemeint|erzählt|erzählte|behauptet|behauptete|"
    r"said|says|told|tells|thinks|thought|claimed|claims|insisted|explained)\b)"
)
# A name tag, and a surname where a word says it is one: "Namensschild 'S. Kowalczyk'",
# "namen schild ‚Dennis‘", "her name tag said Olga", "bitte klingeln bei Wagner",
# "Reservierung lief auf Nguyen", "auf den Namen Yılmaz", "ask for Kowalski" (found by the
# corpus review), "unter dem Namen Yilmaz reserviert" (as common as "auf den Namen": found
# by a DPO review). Any name in quotes after a name tag; without quotes, a common first name
# there (see surname); after "ask for", a common first name or any name after a phone
# number ("Phone: [Phone], ask for Kowalski"). Not "Namensschild war nicht zu sehen",
# "klingeln bei Nachbarn", "ask for Help", "Reservierung lief auf Hochtouren".
_NAME_TAG = r"(?P<tag>namens?[ \t-]?schild|name[ \t-]?(?:tag|badge))(?:[ \t]+(?:said|says|sagte))?"
_SURNAME_CUE = _Pattern(
    rf"(?P<lead>(?<!\w)(?i:{_NAME_TAG}|(?P<booking>klingeln[ \t]+bei|läuten[ \t]+bei"
    r"|(?:reservierung|buchung|bestellung|tisch|zimmer)[ \t]+(?:lief|läuft|war|ist)"
    r"[ \t]+auf|booked[ \t]+under"
    # "Tisch reserviert auf Weber", "reserved under Smith" (found by a staff walk-through)
    r"|(?:reserviert|gebucht)[ \t]+(?:auf|unter)|(?:reserved|reservation|booking)[ \t]+under"
    # ("Reservierung auf H. Schulze", found by a precision check)
    r"|(?:reservierung|buchung|bestellung)[ \t]+auf)"
    r"|auf[ \t]+den[ \t]+namen"
    r"|unter[ \t]+(?:dem|meinem|seinem|ihrem)[ \t]+namen|(?P<ask>ask[ \t]+for)"
    r"|under[ \t]+the[ \t]+name)"
    r"[ \t]*:?[ \t]*(?P<quote>[‚‘'\"„“»«›‹][ \t]*)?)"
    rf"(?!(?i:familie|fam)\b)(?P<name>(?>{_NAME}))(?![-'’]\w)"
)
# Brands named as a first and a last name: "Tom Tailor", "Marc O'Polo", "Max Bahr".
# ("Ralph Lauren", "Tommy Hilfiger": found where a comment signs after a dash; "Marc
# Cain", "Tom Ford", "Karl Lagerfeld", "Mary Poppins", "Mario Bros", found by a review of
# that.) A last word that is also a person's ("Ford", "Green", "Klein") only in the whole
# name: "Anna Klein" is someone.
_BRAND_NAMES = frozenset(
    (
        "Tailor O'Polo Bahr Kart Potter Beam Wolfskin Boss Kors Lauren Hilfiger Lagerfeld "
        "Poppins Bros Joop Armani Versace Yum"
    ).split()
) | frozenset(
    (
        *("Tom Ford", "Paul Green", "Marc Cain", "Calvin Klein", "Anne Klein", "Thomas Philipps"),
        # (fashion and shoe brands named as people, found by review)
        *("Peter Hahn", "Peter Kaiser", "Thomas Cook"),
    )
)
# (Not "Paul Smith" nor "John Lewis": a person's names as often as a shop's, found by the
# review of their addition.)
_NOT_SURNAMES = frozenset(
    "nachbarn nachbar nachbarin hochtouren hochbetrieb sparflamme anfrage wunsch".split()
)
# "Familie Nowak", "Fam. Becker", "Familie Schulz-Yılmaz": a family's name (found by the
# corpus review). "Familie" stays, and no noun after it ("Familie Urlaub gebucht").
_FAMILY = _Pattern(
    rf"(?P<lead>(?<![\w.])(?:Familie|Fam\.|familie|fam\.|FAMILIE)[ \t]+)"
    rf"(?P<name>{_DESCRIBED}{_LATER_NAME_WORD})(?![-'’]\w)"
)
_FAMILY_AFTER = _Pattern(r"(?<!\w)(?i:bei|an|von)[ \t]+\Z")
_FAMILY_AS_WORD = _Pattern(r"(?<!\w)(?i:für|mit|als|ohne|pro|zur|zum)[ \t]+\Z")
_LINE_ENDS = _Pattern(r"[ \t]*[.!]?[ \t]*(?:\n|\Z)")
_NOT_FAMILIES = frozenset(
    "urlaub zimmer ticket tarif karte paket kinder eltern freunde feier fest essen hotel "
    "pizza menü angebot rabatt wochenende ausflug auto haus sache leben bonus geburtstag "
    "hochzeit beruf arbeit zeit glück sonntag familie".split()
)
_CAPITALISED_AFTER = _Pattern(rf"[ \t]+(?P<word>[{_UPPER}][\w'’-]*)")
# A word of a name does not end so; a German noun often does ("Rechnung", "Wartezeit").
_COMMON_NOUN = _Pattern(r"\w{3}(?:ung|heit|keit|schaft|tion|ität|ismus|zeit)\Z")
_FEEDBACK = _Pattern(_FEEDBACK_WORD)
# All of them here, also those that are surnames too: a role is a weaker cue than a title.
_KNOWN_WORDS = frozenset(_NOT_NAMES + _NOT_IN_NAMES)

PLACEHOLDERS = {
    "email": N_("[E-Mail]"),
    "phone": N_("[Phone]"),
    "iban": N_("[IBAN]"),
    "url": N_("[URL]"),
    "handle": N_("[Handle]"),
    "id": N_("[Number]"),
    "ip": N_("[IP]"),
    "name": N_("[Name]"),
    "address": N_("[Address]"),
    "password": N_("[Password]"),
}


_PLACEHOLDER_MARKS = re.compile("|".join(re.escape(mark) for mark in PLACEHOLDERS.values()))


def _iban_valid(candidate: str) -> bool:
    """The ISO 13616 check: move the first four characters to the end, letters to
    numbers (A=10 ... Z=35), and the result modulo 97 must be 1."""
    compact = "".join(ch for ch in candidate if ch.isalnum()).upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


WITHHELD = N_("[Comment withheld: it could not be checked for personal data]")


def redact(text: str, t: Translator) -> str:
    """The comment with personal data replaced by placeholders in the staff member's language.
    Should a pattern fail on it, the comment is withheld, not shown as written: one comment
    must not stop alerts, digests and summaries (nor the bot's start, which posts alerts)."""
    try:
        return _replace(text, lambda kind: t.gettext(PLACEHOLDERS[kind]))
    except Exception as error:
        _withheld(error)
        return t.gettext(WITHHELD)


def holds_contact_details(text: str) -> bool:
    """Whether `text` holds a phone number, an e-mail address or a username, which staff
    never see of a comment (False, should a pattern fail on it; see `redact`)."""
    try:
        redacted = _replace(text, lambda kind: PLACEHOLDERS[kind])
    except Exception as error:
        _withheld(error)
        return False
    marks = (PLACEHOLDERS[kind] for kind in ("email", "phone", "handle"))
    return any(mark in redacted and mark not in text for mark in marks)


def strip_personal(text: str) -> str:
    """The comment with personal data blanked out: for counting words in any language
    (nothing, should a pattern fail on it; see `redact`)."""
    try:
        # The placeholders first, blanked after: patterns that look for contact data next
        # to a name find them only as placeholders ("x Erika Mustermann, [E-Mail]"; found
        # by a review: blanked at once, the name stayed to be counted as words).
        redacted = _replace(text, lambda kind: PLACEHOLDERS[kind])
    except Exception as error:
        _withheld(error)
        return ""
    return _PLACEHOLDER_MARKS.sub(" ", redacted)


def _withheld(error: Exception) -> None:
    # Where it failed, never the message: an exception's text may quote the comment. The
    # innermost frame of this module, not one inside `re`.
    frames = traceback.extract_tb(error.__traceback__)
    where = next((f for f in reversed(frames) if f.filename == __file__), frames[-1])
    log.error(
        "a comment could not be redacted (%s in %s, line %s) and is withheld",
        type(error).__name__,
        where.name,
        where.lineno,
    )


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


# Spaces that look like one (a phone's or a signature's no-break space between first and
# last name) become one, and a run of spaces and tabs becomes one space ("Tom  Becker,  Am
# Markt 3"): the patterns know one " " between words.
_ONE_SPACE = str.maketrans(
    dict.fromkeys("\u00a0\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B))), " ")
)


def _invisible(match: re.Match[str]) -> str:
    """A soft hyphen, zero-width space, (non-)joiner, word joiner or BOM between letters or
    digits: a space where it parts a word and a number outside an address ("Tel\u200b0151
    ...": deleted, it hid the number from its patterns; not "erika\u200b85@web.de",
    "KD4711A\u200b0815", nor after an IBAN's country code) or comes before a capital
    ("Erika\u200bMustermann", but not in a capitalised run "G\u200bMX.de" unless a country
    code follows: "IBAN\u200bDE89 ..."), and nothing elsewhere ("E\u200brika",
    "Muster\u00admann", "erika\u200b.m@gmx.de"); a space before "+" or "(" ("Ruf
    an\u2060+49 ..."). A joiner or variation selector after a symbol (an emoji sequence)
    stays; after a space, an "@" or a dash it hid what follows (hostile review). Found by
    three reviews of the change."""
    text, start, end = match.string, match.start(), match.end()
    before, after = text[start - 1 : start], text[end : end + 1]
    if before.isalpha() and after.isalpha():
        if before.isupper() and after.isupper():
            return " " if _COUNTRY_CODE.match(text, end) else ""
        return " " if after.isupper() else ""
    if (before.isalpha() and after.isdigit()) or (before.isdigit() and after.isalpha()):
        token = _TOKEN_BEFORE.search(text, max(0, start - 64), start)
        code = token is not None and token.group(0)
        if _IN_ADDRESS.match(text, end) or (
            code and (any(ch.isdigit() for ch in code) or _COUNTRY_CODE.fullmatch(code + "00"))
        ):
            return ""
        return " "
    if before.isalnum() and after and after in "+(":
        return " "
    if set(match.group(0)) <= _EMOJI_PARTS and before and _emoji(before):
        return match.group(0)  # in an emoji sequence: "👨\u200d👩\u200d👧", "❤\ufe0f"
    return ""


def _emoji(char: str) -> bool:
    """A sign a joiner or a variation selector may follow in an emoji sequence: not after a
    space, an "@" or a dash, where it would keep a number, a handle or an address apart
    from its patterns ("@\u200derika_m85", "0151 \u200d2345 6789")."""
    return unicodedata.category(char) in ("So", "Sk", "Me") or char in _EMOJI_LETTERS


_EMOJI_LETTERS = "\u2139\u24c2"  # ℹ️, Ⓜ️


# Letters and digits in other shapes (fullwidth, circled, mathematical, superscript) as the
# patterns know them: "Ｄ Ｅ８９ ...", "①⑤①...", "max＠example．com" (hostile review);
# NFKC where it gives one ASCII letter, digit or sign of an address, not an emoji's letter.
_FOLDED = {
    code: folded
    for code in (*range(0xA0, 0x3400), *range(0xFE00, 0x10000), *range(0x1D400, 0x1D800))
    if len(folded := unicodedata.normalize("NFKC", chr(code))) == 1
    and folded != chr(code)
    and (folded.isascii() and (folded.isalnum() or folded in "@.+-/()#*_:"))
    and chr(code) not in _EMOJI_LETTERS
    and not unicodedata.decomposition(chr(code)).startswith(("<super>", "<sub>"))  # "m²"
}


def _replace(text: str, placeholder: Callable[[str], str]) -> str:
    text = unicodedata.normalize("NFC", _INVISIBLE.sub(_invisible, text.translate(_FOLDED)))
    text = _MARKED.sub(lambda marks: "", text)
    text = _SPACE_RUN.sub(lambda run: " ", text.translate(_ONE_SPACE))
    # Whether it was written in small letters: looked at once, not for each name in
    # brackets (the benchmark of long messages found 4096 characters of "anna (at) gmx"
    # taking three times as long as half of them)
    in_small_letters = not any(ch.isupper() for ch in text)
    set_aside: list[str] = []

    def keep(match: re.Match[str]) -> str:
        set_aside.append(match.group(0))
        return chr(_SET_ASIDE + len(set_aside) - 1)

    def aside(match: re.Match[str]) -> str:
        if not _real_date_or_time(match) or _in_chain(match):
            return match.group(0)
        if match.groupdict().get("a") is not None and _STREET_BEFORE.search(
            match.string, max(0, match.start() - 16), match.start()
        ):  # an Austrian house, staircase and door: "Hauptstraße 12/3/14" (corpus audit)
            return match.group(0)
        if match.re is _DATE.compiled() and _of_birth(match):
            return placeholder("id")
        return keep(match)

    def birth_date(match: re.Match[str]) -> str:
        day = int(match["day"] or match["month_first"])
        return placeholder("id") if 1 <= day <= 31 and _of_birth(match) else match.group(0)

    def iban(match: re.Match[str]) -> str:
        if _iban_valid(match.group(0)):
            return placeholder("iban")
        # Mistyped, a number: not the word after it that fits a group's shape (found by a
        # diff review: "Seriennummer AB12.3456.7890.1234 ist defekt" lost its "ist").
        words = _WORDS_AFTER_A_NUMBER.search(match.group(0))
        number = match.group(0)[: words.start()] if words else match.group(0)
        if _digits(number) < _IBAN_DIGITS:
            return match.group(0)
        # A valid one with a word after it is an IBAN still ("AT61 1904 3002 3457 3201 ist
        # falsch" read "[Number] ist falsch": found by a second diff review).
        kind = "iban" if words and _iban_valid(number) else "id"
        return placeholder(kind) + (words.group(0) if words else "")

    def social_security(match: re.Match[str]) -> str:
        real = 1 <= int(match["day"]) <= 31 and 1 <= int(match["month"]) <= 12
        return placeholder("id") if real else match.group(0)

    def card(match: re.Match[str]) -> str:
        return placeholder("id") if _luhn_valid(match.group(0)) else match.group(0)

    # Placeholders put in by earlier steps count as nothing after a name or an address, as
    # the blanks of strip_personal do: "LG Tom 0151 2345678" is a sign-off in both.
    placeholders = tuple(sorted({placeholder(kind) for kind in PLACEHOLDERS}))
    contacts = tuple(sorted({placeholder(kind) for kind in ("phone", "id", "email", "handle")}))

    def nothing_follows(
        match: re.Match[str], *, on_its_line: bool = True, start: int = -1, labelled: bool = False
    ) -> bool:
        blank = _nothing_but(placeholders, on_its_line=on_its_line, labelled=labelled)
        return blank.match(match.string, match.end() if start < 0 else start) is not None

    def address(match: re.Match[str]) -> str:
        return _POSTAL_MARK if match["postal"] else _ADDRESS_MARK

    def street(match: re.Match[str]) -> str:
        return address(match) if _is_street(match) else match.group(0)

    def square(match: re.Match[str]) -> str:
        if match["within"] is not None:
            return address(match) if match["postal"] else match.group(0)
        before = match.string[max(0, match.start() - 30) : match.start()]
        if _ADDRESS_RIGHT_BEFORE.search(before):  # "Ich wohne am Ring 1-3 in Köln"
            if match["more"] is None or not (
                _QUANTITY.match(match.string, match.end())
                or _TIME_OR_WAY.match(match.string, match.end())
            ):
                return address(match)
        if match["more"] is not None or match["small"] is not None:
            return match.group(0)
        if match["alone"] is None:  # within a sentence, a postal code and city tell
            return address(match) if match["postal"] else match.group(0)
        if match["postal"] or _LIST_GOES_ON.match(match.string, match.end()):
            return address(match)
        return address(match) if nothing_follows(match) else match.group(0)

    def small_street(match: re.Match[str]) -> str:
        if not (match["postal"] or match["lead"]) or _NOT_STREETS.fullmatch(match["street"]):
            return match.group(0)
        return (match["lead"] or "") + address(match)

    def addressee(match: re.Match[str]) -> str:
        if match["near"] is not None:
            # Cut where the name's first word starts, found anew (rebuilt from its words
            # and searched for, it once raised where the original had two spaces).
            near = match["near"]
            starts = [(word.start(), word.group()) for word in _WORD_RUN.finditer(near)]
            first = _first_name_at([word for _, word in starts])
            if first is None:
                return match.group(0)
            return near[: starts[first][0]] + placeholder("name") + match["comma"]
        if match["lead"] is not None:
            return match["lead"] + placeholder("name") + match["gap"]
        return match["line"] + placeholder("name") + match["above"]

    def signed(match: re.Match[str]) -> str:
        # "Gruß Kai (Kundennr. [Number])", "Erika Muster. Tel [Phone]": after a closing,
        # not after a thank-you ("Thanks, Amazon (not)", "Danke, Blitzschnell! Alles top")
        aside = (
            _PARENTHESIS.match(match.string, match.end())
            or _FROM_CITY.match(match.string, match.end())
            or _COMMA_ROOM.match(match.string, match.end())
        )
        end = aside.end() if aside else match.end()
        groups = match.groupdict()
        if (
            aside is not None
            and _IN_A_PLACE.match(aside.group(0))
            and not _is_first_name(match.group(0)[len(match["lead"]) :].split()[0])
        ):
            return match.group(0)  # "Gruß, Familie in Kiel", not "Gruß, Jan in Kiel"
        if (
            (
                groups.get("article")
                or (groups.get("von") or "").lower() == "vom"
                or groups.get("first")  # "Love from Sandra", not "Cheers from Berlin"
                or groups.get("thanks")  # "Danke von Erika", not "Danke von Herzen"
                or groups.get("small")  # "grüße vom thomas", not "grüße von zuhause"
            )
            and not (_is_first_name(match.group(0)[len(match["lead"]) :].split()[0]))
        ):
            # "Grüße von der Ostsee", "Gruß vom Bodensee"
            return match.group(0)
        # "Grüße von der Erika und den Kindern", "grüße von erika und den kindern": the
        # first name alone, a second one (after an article, or in small letters) where it
        # is one known as one
        if groups.get("article2"):
            first, second = "one", match.string[match.end("article2") :].split()[0]
        else:
            first, second = "small", groups.get("small2") or ""
        if second and not _is_first_name(second):
            return (
                match["lead"] + placeholder("name") + match.string[match.end(first) : match.end()]
            )
        if nothing_follows(match, start=end, labelled=True):
            return match.group("lead") + placeholder("name")
        return match.group(0)

    def sign_off(match: re.Match[str]) -> str:
        if match["initial"] and match["initial"][0] == "s":  # "Gruß, s. oben": "see above"
            if not _known_surname(match.string[match.end("initial") :].split()[0]):
                return match.group(0)
        if match["cheers"]:  # in small letters, a first name only: "cheers, fast delivery"
            name = match.group(0)[len(match["lead"]) :]
            if name[0].islower() and not _is_first_name(name.split()[0]):
                return match.group(0)
        if match["closing"] is not None and not match["initial"]:
            # in small letters, no word of the language the patterns know nor a noun by its
            # ending, but for a name known as one: "Gruß, siehe oben", "lg, ganz herzlich"
            # (found by the second corpus audit). (A participle's ending is a name's too:
            # "Gruß, gebhardt"; and after a particle the name is the next word: "lg, dos
            # santos", "Gruß, ter horst".)
            words = match.group(0)[len(match["lead"]) :].split()
            particle = words[0] if len(words) > 1 and words[0] in _PARTICLES else ""
            while len(words) > 1 and words[0] in _PARTICLES:  # "de la cruz": "cruz"
                words = words[1:]
            first = words[0]
            if particle in _GERMAN_PARTICLES and not _is_known_name(first):
                return match.group(0)  # "lg von unterwegs", "Gruß, da drüben"
            folded = first.lower()
            if (
                first[0].islower()
                and not _is_known_name(first)
                and (
                    folded in _NO_PLAIN_NAMES
                    or folded in _KNOWN_WORDS
                    or _COMMON_NOUN.search(folded)
                )
            ):
                return match.group(0)
        if match["closing"] is not None or match["opening"] is not None or match["cheers"]:
            said = signed(match)
            sender = _FROM_SOMEONE.match(match.group(0), len(match["lead"]))
            after = match.group(0)[sender.end() :].split() if sender else []
            if said != match.group(0) and sender and after and _is_first_name(after[0]):
                # "liebe grüße von der erika": the words before the name stay (found by a
                # review: "liebe grüße [Name]", as if "von der" were of the name)
                return match["lead"] + sender.group(0) + said[len(match["lead"]) :]
            return said
        # "Danke\nSuper Service\nund gern wieder": a thank-you and a line of capitalised
        # words are a sign-off only at the very end.
        if not nothing_follows(match) or (
            match["thanks"]
            and "\n" in match["gap"]
            and not nothing_follows(match, on_its_line=False)
        ):
            return match.group(0)
        return match.group("lead") + placeholder("name")

    def end_signature(match: re.Match[str]) -> str:
        name = match["name"]
        words = name.split()
        if name.isupper():  # "ANNA MEYER": in capitals, a first name known as one
            known = words[0].split("-")[0].lower() in FIRST_NAMES
            if not known or any(w.lower() in _NO_PLAIN_NAMES for w in words):
                return match.group(0)
        elif not (_is_first_name(words[0]) and _is_person(name) and not _is_brand(name)):
            return match.group(0)
        return match["lead"] + placeholder("name")

    def grouped_number(match: re.Match[str]) -> str:
        groups = match.group(0).split()
        if _digits(match.group(0)) < 9 or (
            len({len(group) for group in groups}) == 1
            and (
                all(_A_YEAR.fullmatch(group) for group in groups)
                or all(0 < int(b) - int(a) <= 20 for a, b in itertools.pairwise(groups))
            )
        ):  # "Zimmer 101 102 103, alle dreckig", "2019 2020 2021, immer toll" (review)
            return match.group(0)
        return placeholder("id")

    def extension(match: re.Match[str]) -> str:
        if _COUNTED_AFTER.match(match.string, match.end()) or _UNIT_AFTER.match(
            match.string, match.end()
        ):  # "Apparat 12 mal abgestürzt"
            return match.group(0)
        return match["label"] + placeholder("phone")

    def phone(match: re.Match[str]) -> str:
        if _digits(match.group(0)) < 6 or _technical(match):  # "PZN 01234567"
            return match.group(0)
        if _MONTH_OF_A_YEAR.fullmatch(match.group(0)):  # "abgelaufen seit 08/2023" (check)
            return match.group(0)
        if re.match(
            r"\.\d", match.string[match.end() : match.end() + 2]
        ) and _VERSION_BEFORE.search(
            match.string, max(0, match.start() - 12), match.start()
        ):  # a version's first part: "Firmware 010139.4.2" (found by a precision check)
            return match.group(0)
        if _digits(match.group(0)) > _PHONE_DIGITS:  # a parcel's, an account's: a number
            return placeholder("id")
        if _customer_number(match) and not match.group(0).startswith("+"):  # "Kundennr: 00471"
            return placeholder("id")
        # a hotline's number, free or charged, is no one's ("Telekom Hotline 0800 3301000")
        # (set aside, as a date is: no piece of it is an id either)
        if re.sub(r"\D", "", match.group(0)).startswith(("0800", "0180", "0900")):
            return keep(match)
        # an opening parenthesis that the number does not close is the text's: "Website
        # (089 123456) stimmt nicht" (found by a review: ")" was left alone)
        number = match.group(0)
        kept = "(" if number.startswith("(") and ")" not in number else ""
        return kept + placeholder("phone")

    def spaced_phone(match: re.Match[str]) -> str:
        if _customer_number(match) and _digits(match.group(0)) >= 6:  # "Kundennr. 0 0 4 7 ..."
            return placeholder("id")
        return placeholder("phone") if _is_spaced_phone(match) else match.group(0)

    def tracking(match: re.Match[str]) -> str:
        # a last group that counts what follows is no part of it: "Paket 12345678 10 Tage"
        text, end, kept = match.string, match.end(), ""
        if match["groups"] and (_COUNTED_AFTER.match(text, end) or _UNIT_AFTER.match(text, end)):
            groups = match["groups"]
            kept = groups[max(groups.rfind(" "), groups.rfind("\t")) :]
        return (match["lead"] or "") + placeholder("id") + kept

    def named_id(match: re.Match[str]) -> str:
        parts = match.end("parts")  # a number in two parts: not a range that counts
        if parts >= 0 and (
            _COUNTED_AFTER.match(match.string, parts) or _UNIT_AFTER.match(match.string, parts)
        ):
            return match.group(0)
        number = match.group("number") or ""
        if "." in number and (
            _COUNTED_AFTER.match(match.string, match.end())
            or _UNIT_AFTER.match(match.string, match.end())
        ):  # "Kundennummer 12.500 Punkte gesammelt": a count in thousands (review)
            return match.group(0)
        return match.group("label") + placeholder("id")

    def worded_phone(match: re.Match[str]) -> str:
        digits = "".join(map(_digits_of, _DIGIT_WORDS.finditer(match.group(0))))
        if digits in "0123456789" or digits in "9876543210" or len(digits) > _PHONE_DIGITS:
            return match.group(0)
        return placeholder("phone")

    def room(match: re.Match[str]) -> str:
        more = match.groupdict().get("more") or ""
        end = match.end("number") if more else match.end()
        if (
            _COUNTED_AFTER.match(match.string, end)
            or _UNIT_AFTER.match(match.string, end)
            # (not a room's: "Zimmer 112" is no emergency number, found by a staff
            # walk-through: rooms 110 and 112 alone were left)
            or (_PUBLIC_CODE.fullmatch(match["number"]) and match.groupdict().get("room") is None)
        ):  # "Bestellung 1000 Stück", "Zimmer 120 m²", "Buchung ICE1234"
            return match.group(0)
        groups = match.groupdict()
        if (groups.get("plural") or groups.get("plural2")) and not more:
            return match.group(0)  # "Rooms 120 USD per night" (precision check): no list
        said = match["label"] + placeholder("id")
        if not more:
            return said
        # The rooms listed after it: of its floor (as many digits, the same first one), up
        # to the first that is not, or that counts something ("Zimmer 214 und 215", not
        # "Room 412 and 300 feet", "Zimmer 214, 180 Grad": found by the review)
        first, at = match["number"], match.end("number")
        for listed in re.finditer(r"\d{3,4}", more):
            number, after = listed.group(), match.start("more") + listed.end()
            if (
                len(number) != len(first)
                or number[0] != first[0]
                or _COUNTED_AFTER.match(match.string, after)
                or _UNIT_AFTER.match(match.string, after)
                or _NOUN_OR_DEGREE_AFTER.match(match.string, after)
            ):
                break
            said += match.string[at : match.start("more") + listed.start()] + placeholder("id")
            at = after
        return said + match.string[at : match.end()]

    def by_role(match: re.Match[str]) -> str:
        if not _is_person(match["name"]):
            return match.group(0)
        words = match["name"].split()
        if (match["called"] or match["naming"]) and not (
            _is_first_name(words[0]) and not _is_brand(match["name"])
        ):  # "Das Gericht heißt Kaiserschmarrn Royal", "the brand named Tom Tailor"
            return match.group(0)
        if match["naming"] and not (
            words[-1].split("-")[0].lower() in COMMON_SURNAMES
            or _PERSON_BEFORE.search(match.string, max(0, match.start() - 16), match.start())
        ):  # without a role, someone's: "Er hieß Kevin Becker", not "Die Suppe hieß Tom Kha"
            return match.group(0)
        if match["lead"].lower().startswith("patient ") and _ADJECTIVE_BEFORE.search(
            match.string, 0, match.start()
        ):  # "very patient Highly Recommended!" (the adjective), not "the patient John Smith"
            return match.group(0)
        if not _names_someone(match):
            return match.group(0)
        if match["second"] is None:
            return match["lead"] + placeholder("name")
        second = placeholder("name") if _is_person(match["second"]) else match["second"]
        return match["lead"] + placeholder("name") + match["also"] + second

    def first_name(match: re.Match[str]) -> str:
        if not _is_first_name(match["name"], match.string, match.end("name")):
            return match.group(0)
        if _BRAND_AFTER_A_NAME.match(match.string, match.end("name")) or (
            match["lead"].rstrip().lower().endswith("from") and match["name"].lower() in _PLACES_TOO
        ):  # "Thanks Ben & Jerry's", "Danke Hans im Glück", "love from Jordan" (review)
            return match.group(0)
        parts = match["name"].split("-")
        if _I_AM_CUE.match(match["lead"]) and (
            any(part.lower() not in FIRST_NAMES for part in parts[1:])
            or _WHAT_ONE_IS.match(match.string, match.end("name"))
        ):  # "Ich bin Victoria-Kunde", "I'm Victoria fan"; not "Ich bin Anna-Lena" (review)
            return match.group(0)
        return with_the_listed(match)

    def with_the_listed(match: re.Match[str]) -> str:
        """The lead and the name as a placeholder, and so each common first name listed
        after it within the match ("Danke an Anna, Ben und Jana", "mit Jenny und Marco")."""
        said = [match["lead"], placeholder("name")]
        kept = match.end("name")  # up to where the listed names went
        for listed in _LISTED_NAME.finditer(match.string, kept, match.end()):
            if listed.start() != kept or not _is_first_name(
                listed["name"], match.string, listed.end()
            ):
                break
            said += [listed["gap"], placeholder("name")]
            kept = listed.end()
        return "".join(said) + match.string[kept : match.end()]

    def last_line(match: re.Match[str]) -> str:
        name = match["name"]
        if match["aside"] and not any(mark in match["aside"] for mark in placeholders):
            return match.group(0)  # "Anne Frank (Buch)"
        words = name.split()
        if match["initial"]:  # on a line of its own, or a common last name (see _LAST_LINE_NAME)
            if (
                match["lead"].startswith("\n")
                or match.start() == 0
                or (words[-1].lower() in COMMON_SURNAMES)
            ):
                return match["lead"] + placeholder("name")
            return match.group(0)
        if _is_first_name(words[0]) and _is_person(name) and not _is_brand(name):
            return match["lead"] + placeholder("name")
        return match.group(0)

    def lone_name(match: re.Match[str]) -> str:
        for name in (match["name"], *([match["second"]] if match["second"] else [])):
            folded = name.split("-")[0].lower()
            if (
                not _is_first_name(name)
                or folded in AMBIGUOUS_IN_SMALL_LETTERS  # "Essen kalt. Max" may be the most
                or folded in _PLACES_TOO
                or not _is_person(name)
                or _is_brand(name)
            ):
                return match.group(0)
        return match["lead"] + placeholder("name")

    def dashed(match: re.Match[str]) -> str:
        name, tail = match["name"], ""
        words = name.split()
        named = [word for word in words if word[0].isupper() and not word.endswith(".")]
        # Where a dish, a book or a product is as likely, a last name known as one: of three
        # words, after a double first name ("– Anne Frank Tagebuch", "– Marie Antoinette
        # Suite", "Pizza, Tom Kha Gai" stay; "– Hans Peter Müller" is signed), and in a list
        # of lines each after a hyphen ("Bestellt:\n- Pad Thai\n- Tom Yum"; found by a review)
        if len(named) > 2 and not (_is_first_name(named[1]) and _known_surname(named[-1])):
            # ... but for a contact's label taken for a third word: "– John Smith Tel. [Phone]"
            cut = match.start("name") + name.rindex(words[-1])
            if len(words) != 3 or not nothing_follows(match, start=cut, labelled=True):
                return match.group(0)
            name, tail = " ".join(words[:2]), match.string[cut - 1 : match.end()]
            words = named = words[:2]
        if not (_is_first_name(words[0]) and _is_person(name) and not _is_brand(name)):
            return match.group(0)
        if match["hyphen"] and not _known_surname(named[-1]):
            if sum(1 for _ in _BULLET.finditer(match.string)) > 1:
                return match.group(0)
        if (
            match["lined"]
            and (
                sum(1 for _ in _LINED.finditer(match.string))
                > 1  # "Bestellt:\n-Pad Thai\n-Tom Yum"
                or match.string[: match.start()].rstrip().endswith(":")  # "Reiseziel:\n-Santiago"
                or name.count("-") > 1  # "Lage:\n-Karl-Marx-Allee" (its review)
                or name.casefold() in _PLACES_TOO  # "Urlaub in\n-Georgia"
            )
        ):
            return match.group(0)
        if len(words) == 1 and not (
            (match["dash"] or match["hyphen"] or match["joined"] or match["lined"])
            and nothing_follows(match, on_its_line=False, labelled=True)
        ):  # a first name alone only after a dash and at the very end: "Danke, Anna" is
            # a thank-you's (see _SIGN_OFF), "Kartoffeln, Linda (festkochend)" a sort
            return match.group(0)
        if not nothing_follows(match, labelled=True):  # "– Anna Schmidt war nett"
            return match.group(0)
        return match["lead"] + placeholder("name") + tail

    def surname_after_role(match: re.Match[str]) -> str:
        name = match["name"]
        if not _known_surname(name) or not _is_person(name):
            return match.group(0)
        return match["lead"] + placeholder("name")

    def surname(match: re.Match[str]) -> str:
        name = match["name"]
        first = _is_first_name(name.split()[0])
        if match["tag"] and not match["quote"] and not first:
            return match.group(0)
        # After a booking or a bell, a name known as one, with an initial, or in quotes
        # ("Tisch war auf Terrasse", "Bestellung lief auf PayPal", "booked under Expedia",
        # "Bitte klingeln bei Ankunft" are none: found by the reviews of the corpus rules)
        known = first or name.split()[-1].split("-")[0].lower() in COMMON_SURNAMES
        if match["booking"] and not (match["quote"] or known or "." in name):
            return match.group(0)
        if match["ask"] and not first and placeholder("phone") not in match.string[: match.start()]:
            return match.group(0)
        if not _is_person(name) or name.lower() in _NOT_SURNAMES:
            return match.group(0)
        return match["lead"] + placeholder("name")

    def family(match: re.Match[str]) -> str:
        name = match["name"]
        if not _is_person(name) or name.lower() in _NOT_FAMILIES:
            return match.group(0)
        # The word "Familie" ("mit der Familie Schnitzel essen", "als Familie Spaß gehabt"),
        # and a noun after it ("Familie Frühstück war super": found by the review of the
        # corpus rules), are no family's name: a name known as one, a double name, one after
        # "bei", "an" or "von", before a comma, or one that ends its line ("… ruiniert.
        # Familie Kowalczuk"; those three found by the review of that change).
        before = match.string[max(0, match.start() - 24) : match.start()]
        if name.split("-")[0].lower() in COMMON_SURNAMES:  # also "an die Familie Müller"
            return match["lead"] + placeholder("name")
        if (
            _NOUN_BEFORE.search(before)
            or _FAMILY_AS_WORD.search(before)
            or not (
                "-" in name
                or _FAMILY_AFTER.search(before)
                or _LINE_ENDS.match(match.string, match.end())
                or match.string.startswith(",", match.end())  # "Wir, Familie Lindemann, …"
            )
        ):
            return match.group(0)
        return match["lead"] + placeholder("name")

    def joined_id(match: re.Match[str]) -> str:
        if _ID.search(match.group(0)) or _SSN.fullmatch(match.group(0)):
            return placeholder("id")
        return match.group(0)

    def spelled_bei(match: re.Match[str]) -> str:
        # a word alone before "bei" only if a common first name: "Kunde bei gmx punkt de",
        # "Ich bestelle bei web punkt de" are no addresses
        # (a number or an abbreviation is none: "seit 2010 bei gmx.de", "z.B. bei gmx.de",
        # found by a precision review)
        # ("erika.m", "erika1985", "a.schmidt" are addresses: the review of that fix)
        local = match["local"]
        parts = local.rstrip(".").split(".")
        letters, digits = (sum(map(f, local)) for f in (str.isalpha, str.isdigit))
        spelled = (
            len(local.split()) > 1
            or "_" in local
            or (  # "e.m", "erika.m85"; not "z.B.", "v3.1", "14.30"
                len(parts) > 1
                and all(part.isalnum() and not part.isdigit() for part in parts)
                and local.lower().rstrip(".") not in _ABBREVIATIONS
            )
            or (len(parts) == 1 and letters >= 2 and digits >= 2)  # "em1985", not "Nr. 2"
        )
        if spelled or _is_first_name(local):
            return placeholder("email")
        return match.group(0)

    def email(match: re.Match[str]) -> str:
        # a word of the sentence before a spaced dot is no part of the address: "Das war gut
        # . anna@gmx.de" keeps "gut ." ("thomas . berger @ web . de" goes whole)
        found = match.group(0)
        if " . " not in found:
            return placeholder("email")
        at = _AT.search(found)
        parts = found[: at.start() if at else len(found)].split(" . ")
        kept = max(
            (i + 1 for i, p in enumerate(parts[:-1]) if p.lower() in _NO_PLAIN_NAMES), default=0
        )
        return "".join(part + " . " for part in parts[:kept]) + placeholder("email")

    def mail_words(match: re.Match[str]) -> str:
        # the words next to the address that may be part of it or a name: "erika" in "Mail:
        # erika mustermann@gmx.de", not "bitte an" (they stay, with those before them)
        words = match["words"].split()
        kept = len(words)
        while kept and (_plain_name(words[kept - 1]) or _is_known_name(words[kept - 1])):
            kept -= 1
        return match["label"] + "".join(word + " " for word in words[:kept])

    def self_introduction(match: re.Match[str]) -> str:
        # A first name after the family name goes with it ("Kowalski, Jan"); any other
        # word after a comma stays ("Mein Name ist Anna, Hamburg").
        head = match.string[match.start() : match.end("name")]
        tail = match.string[match.end("name") : match.end()]
        introduced = introduction(match, head)
        given = match["given"]
        words = given.split() if given else []
        if introduced == head or not words or not _is_first_name(words[0].split("-")[0]):
            return introduced + tail
        parts = [part for word in words for part in word.split("-")]
        if all(_is_first_name(part) for part in parts) and _INTRODUCTION_ENDS.match(
            match.string, match.end()
        ):
            return introduced  # one person: "Kowalski, Jan.", "Schneider, Anna Maria."
        # a second person ("Anna, Paul Schmidt ist mein Mann", "Peter, Paul ist mein
        # Bruder"), or the sentence goes on after the first name ("Kowalski, Jan Die
        # Lieferung ...")
        comma = tail[: tail.index(given)]
        if _is_person(given) and _NAME_GOES_ON.match(match.string, match.end()):
            return introduced + tail  # "Kowalski, Jan Peter Müller": a full name's rule
        if len(words) > 1 and _is_person(given):
            return introduced + comma + placeholder("name")
        return introduced + comma + placeholder("name") + given[len(words[0]) :]

    def introduction(match: re.Match[str], head: str) -> str:
        # after a signature's label or "Name:", a name known as one: a title, a common first
        # name, an initial or a common surname ("Unterschrift: Fehlt leider" names no one,
        # nor "Feld Name: Sonderzeichen gehen nicht", found by a precision review)
        # ("Name:" opening a line is a form's field, whatever name fills the line: "Name:
        # Schmidt Anna", "Nachname: Mustermann", the review of that fix; not "Name = Feld
        # lässt sich nicht ausfüllen")
        name = match["name"]
        words = name.split()
        text, start = match.string, match.start("lead")
        if (
            match["label"]
            and not text[text.rfind("\n", 0, start) + 1 : start].strip()
            and _FIELD_ENDS.match(text, match.end("name"))
        ):
            return match["lead"] + placeholder("name")
        if (
            (match["signature"] or match["label"])
            and not match["title"]
            and not (
                _is_person(name)
                and (
                    any(_is_first_name(word) for word in words)
                    or "." in name
                    or any(word.split("-")[0].lower() in COMMON_SURNAMES for word in words)
                )
            )
        ):
            return head
        return match["lead"] + placeholder("name")

    def plain_introduction(match: re.Match[str]) -> str:
        first, second = match["first"], match["second"]
        folded = first.split("-")[0]
        if (folded not in FIRST_NAMES and folded not in COMMON_SURNAMES) or not _plain_name(first):
            return match.group(0)
        if second is not None and _plain_name(second):
            return match["lead"] + placeholder("name")
        return match["lead"] + placeholder("name") + match.string[match.end("first") : match.end()]

    def i_am(match: re.Match[str]) -> str:
        name = match.group(0)[len(match["lead"]) :]
        if match["article"] and not _is_first_name(name.split()[0]):
            return match.group(0)  # "Ich bin der Meinung Sabine ..."
        if name.split()[-1].lower() in _NUMBER_WORDS_ABBREVIATED:
            return match.group(0)  # "Ich bin Gast Nr. 5" (found by a staff walk-through)
        return match["lead"] + placeholder("name")

    def contact_next(start: int, text: str) -> bool:
        return _contact_at(contacts).match(text, start) is not None

    def name_before_a_name(match: re.Match[str]) -> str:
        name = match["name"]
        before = match.string[: match.start()].rstrip(" \t").rsplit(None, 1)[-1:]
        if (
            not match.string.startswith(placeholder("name"), match.end())
            # (a dish's or a drink's second word: "Bloody Mary und Tom Collins", "Birne
            # Helene und Sonja", found by the review of that change)
            or (before and before[0][:1].isupper() and before[0][-1:].isalpha())
            or not name[0].isupper()
            or not _is_first_name(name)
            or _is_brand(name)
        ):
            return match.group(0)
        return placeholder("name") + match["and"]

    def known_full_name(match: re.Match[str]) -> str:
        name = match["name"]
        starts = [(word.start(), word.end(), word.group()) for word in _WORD_RUN.finditer(name)]
        words = [word for _, _, word in starts]
        # from the first first name on ("Nachtportier Klaus Becker": found by the same)
        for first, word in enumerate(words[:-1]):
            if not _is_first_name(word) or word[0].islower():
                continue
            for last in range(len(words) - 1, first, -1):  # the longest known name
                candidate = " ".join(words[first : last + 1])
                # a last name that is a word too, capitalised after a first name ("Petra
                # Koch war sehr nett", "Rückruf bitte an Anke Wolf": found by a staff
                # walk-through, where "Petra war sehr nett" went and the full name stayed)
                # (not one ending before more of a name, a place's or an institute's, nor
                # one after a place's word: "Robert Koch Institut", "Die Max Winter Halle",
                # "Hotel Maria Stein", found by the review of that change)
                surname = _known_surname(words[last]) or (
                    _word_surname(words[last])
                    and not _PLACE_NOUN_AFTER.match(match.string, match.start() + starts[last][1])
                    and not _NAMED_PLACE_BEFORE.search(
                        match.string,
                        max(0, match.start() + starts[first][0] - 16),
                        match.start() + starts[first][0],
                    )
                )
                if surname and not _is_brand(candidate):
                    kept = name[: starts[first][0]]
                    return kept + placeholder("name") + name[starts[last][1] :]
        return match.group(0)

    def by_contact(match: re.Match[str]) -> str:
        text, name = match.string, match["name"]
        starts = [(word.start(), word.group()) for word in _WORD_RUN.finditer(name)]
        words = [word for _, word in starts]
        first = _first_name_at(words)
        if match["lone"] is not None:
            place = _NAMED_PLACE_BEFORE.search(text, max(0, match.start() - 16), match.start())
            # (not a place's name: "Pension Anna Tel. …", "Haus Maria Telefon …", review)
            first = 0 if _is_first_name(match["lone"]) and place is None else None
        elif (
            first is None
            and match["space"] is not None
            and _is_first_name(words[-1])
            and _CONTACT_WORD_AHEAD.compiled().match(text, match.end())
            and not _NAMED_PLACE_BEFORE.search(name[: starts[-1][0]])
        ):  # "Call Sarah Phone …", not "Pension Anna Tel. …"
            first = len(words) - 1
        # else a last name known as one, and the word before it ("Xiaoling Wang")
        if first is None and _known_surname(words[-1]) and _is_person(" ".join(words[-2:])):
            first = len(words) - 2
        if first is None:
            return match.group(0)
        kept = name[: starts[first][0]]
        if match["gap"] is not None:  # "Sandra Kowalski, Kundennummer [Number]"
            if not contact_next(match.end(), text):
                return match.group(0)
            return kept + placeholder("name") + match["gap"]
        if match["space"] is not None:
            # right before a phone number or a mail address ("Rückruf: Claudia Eberhardt
            # [Phone]", found by a precision check); not before a label or an id
            # (after a contact word too: "Claudia Eberhardt mobil [Phone]", found by review)
            reachable = (placeholder("phone"), placeholder("email"))
            if _contact_at(reachable).match(text, match.end()) is None:
                return match.group(0)
            return kept + placeholder("name") + match["space"]
        # alone on its line, above or below one of nothing but contact data
        line_start = match.start() == 0 or text[match.start() - 1] == "\n"
        if kept or not line_start:
            return match.group(0)
        after = match.end()
        below = match["below"] is not None and (
            contact_next(after, text) and nothing_follows(match, start=after, labelled=True)
        )
        above = False
        if match.start() > 0:
            previous = text.rfind("\n", 0, match.start() - 1) + 1
            above = contact_next(previous, text) and (
                _nothing_but(placeholders, on_its_line=True, labelled=True).match(text, previous)
                is not None
            )
        if not (below or above):
            return match.group(0)
        return placeholder("name") + match.group(0)[len(name) :]

    def surname_first(match: re.Match[str]) -> str:
        # a surname known as one, or after a label, or before a parenthesis about a person
        # ("Kundin seit 2010"): "Schade, Anna.", "Bäcker, Anna" and "Kartoffeln, Linda
        # (festkochend)" stay (the last found by a precision review)
        surname = match["surname"]
        if match["dash"] is not None and not contact_next(match.end("dash"), match.string):
            return match.group(0)  # "Müller, Anna - die Verkäuferin war nett"
        if (
            surname.lower() in _NO_PLAIN_NAMES
            or not _is_person(surname)
            or not _is_first_name(match["first"])
            or not (
                surname.split("-")[0].lower() in COMMON_SURNAMES
                or _NAME_LABEL_BEFORE.search(
                    match.string[max(0, match.start() - 24) : match.start()]
                )
                or _PERSON_ASIDE.match(match.string, match.end())
            )
        ):
            return match.group(0)
        return match["lead"] + placeholder("name")

    def i_comma(match: re.Match[str]) -> str:
        name = match["name"]
        if not match["title"] and not (_is_first_name(name.split()[0]) and _is_person(name)):
            return match.group(0)
        return match["lead"] + placeholder("name")

    def name_here(match: re.Match[str]) -> str:
        name = match["name"]
        words = name.split()
        if _is_first_name(words[0]) and _is_person(name) and not _is_brand(name):
            return match["lead"] + placeholder("name")
        return match.group(0)

    def at_work(match: re.Match[str]) -> str:
        name = match["name"]
        if match["initialled"]:
            return placeholder("name") + match["where"]
        starts = [(word.start(), word.group()) for word in _WORD_RUN.finditer(name)]
        words = [word for _, word in starts]
        first = _first_name_at(words)  # "Jana Schmidt an der Kasse"
        if first is None and _is_first_name(words[-1]):
            first = len(words) - 1  # "Jana an der Bar", "Lob Jana an der Bar"
        if first is None or not words[first][0].isupper():
            return match.group(0)
        begins = match.start() + starts[first][0]
        if _DRINK_BEFORE.search(match.string, max(0, begins - 10), begins):
            return match.group(0)  # "Eine Bloody Mary am Tresen", "Pizza Regina aus der Küche"
        return name[: starts[first][0]] + placeholder("name") + match["where"]

    def says(match: re.Match[str]) -> str:
        name = match["name"]
        if not (name[0].isupper() and _is_first_name(name, match.string, match.end("name"))):
            return match.group(0)
        after = match.string[match.end() : match.end() + 12].split()
        before = match.string[: match.start()].rstrip(" \t")
        if (name.lower(), after[0].rstrip(",:;.!") if after else "") in {
            ("frank", "gesagt"),
            ("ernst", "gemeint"),
        } and (
            not before or before[-1] in ".!?,:;\n"
        ):  # "Frank gesagt: enttäuschend", frankly (staff walk-through), "Ernst gemeint:"
            # (a precision check); not "Ich habe es Frank gesagt" (review of the change)
            return match.group(0)
        return placeholder("name")

    def bracketed(match: re.Match[str]) -> str:
        name = match["name"]
        first = name.split()[0]
        # in small letters only where the whole comment is ("der vermieter (heiko)")
        capitalised = name[0].isupper() or (
            in_small_letters and first not in AMBIGUOUS_IN_SMALL_LETTERS
        )
        if not (capitalised and _is_first_name(first)) or _is_brand(name):
            return match.group(0)
        if match["more"]:
            # each a first name, after someone ("mit den Enkeln (Paul, Emma und Sophie)")
            others = [
                word
                for word in (run.group() for run in _FIRST_NAME_RUN.finditer(match["more"]))
                if word.lower() not in ("und", "and", "u")
            ]
            family = match["family"] or ""
            if family and not _known_surname(family.strip()):
                return match.group(0)  # "Wir (Anna & Tom Vegetarier)" (review)
            if family:
                others = others[:-1]
            if first != name or not all(_is_first_name(word) for word in others):
                return match.group(0)
            if not _SOMEONE_BEFORE_BRACKET.search(
                match.string, max(0, match.start() - 48), match.start()
            ):
                return match.group(0)
            if family:
                family = family[: len(family) - len(family.lstrip())] + placeholder("name")
            more = _FIRST_NAME_RUN.compiled().sub(
                lambda word: (
                    word.group()
                    if word.group().lower() in ("und", "and", "u")
                    else placeholder("name")
                ),
                match["more"][: len(match["more"]) - len(match["family"] or "")],
            )
            return match["lead"] + placeholder("name") + more + family + match["end"]
        doubt = match["lead"] != "("
        someone = _SOMEONE_BEFORE_BRACKET.search(
            match.string, max(0, match.start() - 48), match.start()
        )
        if not doubt and not someone:
            # "Das Regal (Billy)", "Sturm (Sabine)", "Die Oper (Carmen)" (review)
            return match.group(0)
        weak = someone is not None and someone["weak"] is not None
        if first != name and not (
            _is_person(name)
            and (not weak or _known_surname(name.split()[-1]) or match["end"] != ")")
        ):  # after one's grandmother, a trainer or children, "Meine Oma (Maria Trost)", "Die
            # Trainerin (Anna Yoga)" (review); not with an age or when born, "Meine Mutter
            # (Waltraud Engel, 91)"; after a wife or a waiter, as before, "Meine Frau (Petra
            # Haberland)" (the review of that change)
            return match.group(0)
        end = match["end"]
        if match["maiden"]:
            start = match.start("maiden") - match.start("end")
            end = end[:start] + placeholder("name") + end[start + len(match["maiden"]) :]
        return match["lead"] + placeholder("name") + end

    def door_code(match: re.Match[str]) -> str:
        if match["key_safe"] is not None and match["its_code"] is None:
            start = max(0, match.start() - 40)
            if not _CODE_BEFORE.compiled().search(match.string, start, match.start()):
                return match.group(0)
        return match.group("label") + placeholder("password")

    def at_the_door(match: re.Match[str]) -> str:
        name = match["name"]
        folded = name.lower()
        known = all(_is_known_name(part) for part in re.split(r"[ \t]*/[ \t]*", name))
        if (
            not _is_person(name)
            or _is_brand(name)
            or folded in _THANKED
            or folded in _AT_A_DOOR
            or folded in _SHOPS_NAMED_AS_PEOPLE
            or _ROLE_WORD.fullmatch(name)
            or _COMMON_NOUN.search(name)
            # a shop on a floor ("bei Zara im EG"), words before more, and after "klingeln
            # bei" or a letterbox, "klingeln bei Schmerzen", "Briefkasten Hofseite" (the
            # review): common names only; any other on a bell's plate alone
            or (not known and (match["plate"] is None or match["alone"] is None))
        ):  # "Klingel Defekt", "bei Rewe im EG", "klingeln bei Nachbarn", "bei Ankunft"
            return match.group(0)
        return match["lead"] + placeholder("name")

    def commaed(match: re.Match[str]) -> str:
        name, end = match["name"], match.end("name")
        if not (
            name[0].isupper()
            and _is_first_name(name, match.string, end)
            and name.lower() not in _PLACES_TOO  # "the staff at the resort, Austin, were"
            and _SOMEONE_BEFORE_BRACKET.search(
                match.string, max(0, match.start() - 48), match.start()
            )
        ):
            return match.group(0)
        return match["lead"] + placeholder("name") + match["end"]

    def name_opens(match: re.Match[str]) -> str:
        name, end = match["name"], match.end("name")
        if (
            not name[0].isupper()
            or not _is_first_name(name, match.string, end)
            or name.split("-")[0].lower() in AMBIGUOUS_IN_SMALL_LETTERS
            or name.lower() in _PLACES_TOO
            or name.lower() in _SHOPS_NAMED_AS_PEOPLE
            or any(part.lower() not in FIRST_NAMES for part in name.split("-")[1:])
        ):  # "Douglas had a great range of perfumes", "Jasmin-Reis war pappig" (regression)
            return match.group(0)
        stop = _SENTENCE_END.search(match.string, end)
        until = min(stop.start() if stop else len(match.string), end + 200)
        thanked = match.string[end:].lstrip().startswith(",")
        if not thanked and not (
            _SERVING.search(match.string, end, until)
            or _SERVING_ROLE.search(match.string, end, until)
        ):  # "Emma ist viel zu weich", "Carmen war großartig" (review)
            return match.group(0)
        return match["lead"] + placeholder("name")

    def with_someone(match: re.Match[str]) -> str:
        name, end = match["name"], match.end("name")
        session = _SESSION_BEFORE.search(match.string, max(0, match.start() - 60), match.start())
        if (
            session is None
            or not (name[0].isupper() and _is_first_name(name, match.string, end))
            or any(part.lower() not in FIRST_NAMES for part in name.split("-")[1:])
            or name.lower() in _PLACES_TOO
            or _NOT_AFTER_ONE_WITH.match(match.string, end)
        ):  # "mit Max. 8 Personen", "bei Ernst & Young", "with Julia and Python" (review)
            return match.group(0)
        return with_the_listed(match)  # "mit Jenny und Marco"

    def spoke_with(match: re.Match[str]) -> str:
        name = match["name"]
        if not (name[0].isupper() and _is_first_name(name)):
            return match.group(0)
        return match["lead"] + placeholder("name")

    def this_is(match: re.Match[str]) -> str:
        small = match["small"]
        if small is not None and not (
            _is_first_name(small)
            and (match["its"] or match["article"] or match["cue"] or match["room"])
        ):  # "this is ridiculous", "hier ist die hölle los"
            return match.group(0)
        if match["its"] is not None:  # "It's me, Tom", not "It's Awful, really"
            name = match["name"]
            # after a greeting and before "here", a name not known as one too: "Hi, it's
            # Dawn here" (found by a review), not "Hi, it's Chaos here"
            cued = (
                match["greeting"] is not None
                and (match["cue"] or "").lower() in ("here", "speaking", "writing", "calling")
                and small is None
                and " " not in name
                and name.lower() not in _NOT_SPEAKERS
                and name.lower() not in _THANKED  # "Hi, it's Amazon here"
            )
            if not ((cued or _is_first_name(name.split()[0])) and _is_person(name)) or _is_brand(
                name
            ):
                return match.group(0)
            return match.group("lead") + placeholder("name")
        if match["article"] is not None:  # "hier ist die Sandra", not "hier ist der Kaffee"
            if not _is_first_name(match["name"].split()[0]):
                return match.group(0)
            return match.group("lead") + placeholder("name")
        # (and "This is David Brown, I called yesterday", opening the comment as "Hier ist
        # Anna Schmidt," does: found by a staff review, where "This is Sarah Miller
        # speaking" went; "This is Ridiculous." and "This is Great Britain." stay)
        if match["room"] is not None and not _is_first_name(match["name"].split()[0]):
            return match.group(0)  # "This is Tom, room 12", not "This is Chaos, room 12"
        if (
            match["cue"] is None
            and match["room"] is None
            and (match["hier"] or match["greeting"] is None)
        ):
            name = match["name"]
            if " " not in name:  # "Hier ist Chaos.", "This is Ridiculous."
                return match.group(0)
            # "Hier ist Anna Schmidt, bitte zurückrufen", as on the phone (found by a
            # precision review), from a common first name on: "Hier ist Ihr Team." stays
            words = name.split()
            if match["greeting"] is None and not (
                _is_first_name(words[0]) and _is_person(name) and not _is_brand(name)
            ):
                return match.group(0)
        return match.group("lead") + placeholder("name")

    def spaced_handle(match: re.Match[str]) -> str:
        text = match.string
        if not (
            any(c in match["name"] for c in "._0123456789")
            or _WRITE_TO.compiled().search(text, max(0, match.start() - 40), match.start())
        ):
            return match.group(0)
        return placeholder("handle")

    steps: list[tuple[_Pattern, Callable[[re.Match[str]], str]]] = [
        (_PASSWORD, lambda m: m.group("label") + placeholder("password")),
        (_DOOR_CODE, door_code),
        (_LABELLED_MAIL, mail_words),
        (_EMAIL, email),
        (_SPELLED_EMAIL, lambda m: placeholder("email")),
        (_SPELLED_BEI_EMAIL, spelled_bei),
        (_MAIL_WITHOUT_AT, lambda m: placeholder("email")),
        (_URL, lambda m: placeholder("url") + _after_link(m.group(0))),
        (_BARE_LINK, lambda m: placeholder("url") + _after_link(m.group(0))),
        (_DOMAIN, lambda m: placeholder("url") if _is_domain(m) else m.group(0)),
        (_IBAN, iban),
        (_SOCIAL_SECURITY, social_security),
        (_CARD, card),
        (_HANDLE, lambda m: placeholder("handle")),
        (_NAMED_ACCOUNT, lambda m: m.group("lead") + placeholder("handle")),
        (_SPACED_HANDLE, spaced_handle),
        (_ACCOUNT_ON_SERVICE, lambda m: placeholder("handle") + m["tail"]),
        (_MAC, lambda m: placeholder("id")),
        (_IPV6, lambda m: placeholder("ip") if _is_ipv6(m) else m.group(0)),
        (_AHV, lambda m: placeholder("id")),
        (_NATIONAL_INSURANCE, lambda m: (m["lead"] or "") + placeholder("id")),
        (_WORDED_DATE, birth_date),
        (_CVE, keep),
        (_NAMED_PLACE, keep),
        (_DATE, aside),
        (_TIME, aside),
        (_GROUPED_NUMBER, grouped_number),
        (_TRACKING, tracking),
        (_VIN, lambda m: placeholder("id")),
        (_WORDED_PHONE, worded_phone),
        (_PHONE, phone),
        (_SPACED_PHONE, spaced_phone),
        (_CUED_PHONE, lambda m: placeholder("phone") if _is_cued_phone(m) else m.group(0)),
        (_IPV4, lambda m: placeholder("ip") if _address(m) else m.group(0)),
        (_NAMED_ID, named_id),
        (_REFERENCE, lambda m: m["label"] + placeholder("id")),
        (_LABELLED_CODE, lambda m: m["label"] + placeholder("id")),
        (_EXTENSION, extension),
        (_ROOM_OR_BOOKING, room),
        (_ROOM_BY_ARTICLE, room),
        (_PLATE, lambda m: placeholder("id") if _is_plate(m) else m.group(0)),
        (_UK_PLATE, lambda m: placeholder("id") if _is_uk_plate(m) else m.group(0)),
        (_AUSTRIAN_PLATE, lambda m: placeholder("id") if _is_uk_plate(m) else m.group(0)),
        (_US_PHONE, lambda m: placeholder("phone")),
        (_PO_BOX, address),
        (_STREET, street),
        (_PREPOSITION_STREET, square),
        (_SMALL_STREET, small_street),
        (_ENGLISH_STREET, lambda m: _ADDRESS_MARK),
        (_UK_POSTCODE, lambda m: (m["lead"] or "") + _POSTAL_MARK),
        (_POSTAL_CITY, lambda m: _POSTAL_MARK),
        (_NAME_BEFORE_ADDRESS, addressee),
        (_FOR_THE_ATTENTION, lambda m: m.group("lead") + placeholder("name")),
        (_ADDRESS_MARKS, lambda m: placeholder("address")),
        (_JOINED_ID, joined_id),
        (_ID, lambda m: m.group(0) if _technical(m) or _public(m) else placeholder("id")),
        (_SENT_BY, signed),
        (_SIGN_OFF, sign_off),
        (_END_SIGNATURE, end_signature),
        (_NAME_BY_CONTACT, by_contact),
        (_AT_THE_DOOR, at_the_door),
        (_SURNAME_FIRST, surname_first),
        (_SELF_INTRODUCTION, self_introduction),
        (_PLAIN_SELF_INTRODUCTION, plain_introduction),
        (_I_COMMA_NAME, i_comma),
        (_I_AM, i_am),
        (_THIS_IS, this_is),
        (_NAME_HERE, name_here),
        (_NAME_AT_WORK, at_work),
        (_NAME_THE_ROLE, lambda m: _name_the_role(m, placeholder("name"))),
        (_SPOKE_WITH, spoke_with),
        (_BRACKETED_NAME, bracketed),
        (_COMMA_NAME, commaed),
        (_NAME_OPENS, name_opens),
        (_WITH_SOMEONE, with_someone),
        (_NAME_SAYS, says),
        (_NAME_AFTER_ROLE, by_role),
        (_FIRST_NAME_AFTER_CUE, first_name),
        (_SURNAME_AFTER_ROLE, surname_after_role),
        (_WORD_SURNAME_AFTER_ROLE, lambda m: m["lead"] + placeholder("name")),
        (_SURNAME_CUE, surname),
        (_FAMILY, family),
        (_PLAIN_TITLED_NAME, lambda m: _plain_titled(m, _wife(m, placeholder("name")))),
        (_TITLED_NAME, lambda m: _titled(m, _wife(m, placeholder("name")))),
        (_DASHED_NAME, dashed),
        (_LAST_LINE_NAME, last_line),
        (_KNOWN_FULL_NAME, known_full_name),
        (_NAME_BEFORE_A_NAME, name_before_a_name),
        (_LONE_FIRST_NAME, lone_name),
    ]
    if any(_SET_ASIDE <= ord(ch) < _SET_ASIDE + 6400 for ch in text):
        text = "".join(ch for ch in text if not _SET_ASIDE <= ord(ch) < _SET_ASIDE + 6400)
    # Most comments have no number, and no address (nor a North American phone number, nor
    # an id of joined numbers or one a word names, nor a number plate) is without one: the
    # costliest patterns need not look (nor the spelled e-mail one without its "at", nor
    # that of whom a closing is from without "von" or "from").
    skip = (
        []
        if _DIGIT.search(text)
        else [
            _WORDED_DATE,
            _SOCIAL_SECURITY,
            _VIN,
            _SPACED_PHONE,
            _CUED_PHONE,
            _STREET,
            _PREPOSITION_STREET,
            _SMALL_STREET,
            _ENGLISH_STREET,
            _POSTAL_CITY,
            _US_PHONE,
            _JOINED_ID,
            _NAMED_ID,
            _REFERENCE,
            _LABELLED_CODE,
            _EXTENSION,
            _ROOM_OR_BOOKING,
            _ROOM_BY_ARTICLE,
            _PLATE,
            _UK_PLATE,
            _AUSTRIAN_PLATE,
            _AHV,
            _NATIONAL_INSURANCE,
        ]
    )
    if ":" not in text:
        skip.append(_IPV6)
    if not _SPELLED_AT.search(text) and not any(a in text for a in _SPELLED_A):
        skip.append(_SPELLED_EMAIL)
    if not any(word in text for word in _SENT_FROM):
        skip.append(_SENT_BY)
    folded = text.lower()
    if " bei " not in folded:  # (tabs are spaces by now)
        skip.append(_SPELLED_BEI_EMAIL)
    if "*" not in text and not any(word in folded for word in _BIRTH_WORDS):
        skip.append(_WORDED_DATE)
    if (
        "TG" not in text
        and "tg" not in text
        and "X-" not in text
        and not any(w in folded for w in _ACCOUNT_CUES)
    ):
        skip.append(_NAMED_ACCOUNT)
    if not any(service in folded for service in _ACCOUNT_SERVICES) and "tg" not in folded:
        skip.append(_ACCOUNT_ON_SERVICE)
    if "@ " not in text and "@\t" not in text:
        skip.append(_SPACED_HANDLE)
    name_mark = placeholder("name")
    removed: set[str] = set()

    def noting(replace: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
        def noted(match: re.Match[str]) -> str:
            result = replace(match)
            if name_mark in result and name_mark not in match.group(0):
                left = set(_NAME_TOKEN.findall(result))
                removed.update(word for word in _NAME_TOKEN.findall(match.group(0)))
                removed.difference_update(left)
            return result

        return noted

    for pattern, replace in steps:
        if any(pattern is skipped for skipped in skip):
            continue
        if pattern is _NAME_BEFORE_ADDRESS and not _ADDRESS_MARKS.search(text):
            continue  # no address found: no name before one
        if pattern is _NAME_BY_CONTACT and not any(mark in text for mark in contacts):
            continue  # no contact data found: no name next to them
        text = pattern.sub(noting(replace), text)
    if names := sorted(word for word in removed if _named_again(word)):
        # The same name where it is said again, with nothing about it that the rules know:
        # "Der Kellner Tobias war unhöflich. Später hat Tobias uns ignoriert." (found by a
        # precision check: the second one stayed)
        again = re.compile(rf"(?<![\w\[-])(?:{'|'.join(map(re.escape, names))})(?![\w-])")
        text = again.sub(lambda m: m.group() if _a_thing_here(m) else name_mark, text)
    for index, span in enumerate(set_aside):
        text = text.replace(chr(_SET_ASIDE + index), span)
    return text


_NAME_TOKEN = re.compile(rf"(?<![\w-])[{_UPPER}]?[{_LOWER}]{{2,}}(?:-[{_UPPER}][{_LOWER}]+)*")
"""A word of a name, to find again where the name is said again (see `_named_again`)."""


def _named_again(word: str) -> bool:
    """Whether a word of a name taken out is taken out where it is said again too: a common
    first name, or a common last name in capitals ("Tobias", "Kowalczyk" after "Frau"); not
    a word known as other words too ("Koch", "Frank", "Max": "der Koch", "Max. 5 Minuten"),
    nor one no list has, which may be any noun ("Herr Bäcker … beim Bäcker": the review
    of the rule)."""
    folded = word.split("-")[0].lower()
    if (
        folded in AMBIGUOUS_IN_SMALL_LETTERS
        or folded in STOP_WORDS
        or folded in _KNOWN_WORDS
        or folded in _SHOPS_NAMED_AS_PEOPLE
    ):
        return False
    return folded in FIRST_NAMES or (word[0].isupper() and folded in COMMON_SURNAMES)


_GREETED_BY = frozenset(
    "danke dank hallo hi hey liebe lieber dear thanks thank herr frau mr mrs ms dr".split()
)
_NAMED_PLACE_BEFORE = re.compile(
    r"(?i:\b(?:st|sankt|saint|hotel|gasthaus|gasthof|pension|café|cafe|restaurant|oper|film"
    r"|musical|roman|song|lied|platz|firma|company|haus|villa|arche|apotheke|kita|salon"
    r"|studio|bäckerei|kiosk|hof|kindergarten|schule|pizzeria|trattoria|ristorante|bistro"
    r"|metzgerei|imbiss|bar|pub|at)\.?[ \t]+)\Z"
)
_PLACE_OR_ARTICLE_BEFORE = re.compile(
    r"(?i:\b(?:der|die|das|den|dem|des|ein|eine|einen|einem|einer|the|a|an|this|that|our"
    r"|unser|unsere|unseren|unserem|im|beim|vom|zum|zur|am|bei)[ \t]+)\Z"
)
# After it, a capitalised word, "&", "und die" or "und" and a capitalised word, "'s": a name
# of something ("Christian Dior", "Hans im Glück", "Bridget Jones", "Emil und die
# Detektive", "Hoffmann's Backstube"); before it, a capitalised word, also with "und" ("Pizza
# Luca", "mit der Lotte Puppe", "Max und Moritz", "Waschküche und Keller").
_THING_AFTER = re.compile(
    rf"[ \t]*(?:&|\+)|['’]s?\b|[ \t]+(?:[{_UPPER}]|(?i:im|und die|and the)\b)"
    rf"|[ \t]+(?i:und|and)[ \t]+[{_UPPER}]"
)
_THING_BEFORE = re.compile(rf"[{_UPPER}][{_LOWER}]+[ \t]+(?:(?i:und|and|oder|or|&)[ \t]+)?\Z")


def _a_thing_here(match: re.Match[str]) -> bool:
    """Whether a word of a name found again may name a thing or a place there: after "St.",
    "Hotel", "Oper"; a last name after an article or "bei" ("Der Schneider im Nachbarort",
    "bei Müller" the shop); before or after another capitalised word ("Christian Dior",
    "Ben & Jerry's", "Pizza Luca"). Found by the review of the rule; where in doubt it
    stays, as every name said again did before."""
    before = match.string[max(0, match.start() - 16) : match.start()]
    if _NAMED_PLACE_BEFORE.search(before):
        return True
    word = match.group()
    if word.split("-")[0].lower() not in FIRST_NAMES and _PLACE_OR_ARTICLE_BEFORE.search(before):
        return True
    if _THING_AFTER.match(match.string, match.end()):
        return True
    thing = _THING_BEFORE.search(match.string, max(0, match.start() - 24), match.start())
    return thing is not None and thing.group().split()[0].lower() not in _GREETED_BY


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


def _of_birth(match: re.Match[str]) -> bool:
    """Whether a date is a date of birth, which names a person as no other date does: a
    word before it ("geb. am 12.3.85") or after it ("Bin am 12. März 1985 geboren"), or a
    star that means born ("*12.03.1985", "Tom Becker, * 12.3.85")."""
    text, start = match.string, match.start()
    before = text[max(0, start - 32) : start]
    if _BORN_STAR.search(("\n" if start <= 32 else "") + before) and not text.startswith(
        "*", match.end()
    ):
        return True
    if _BIRTH_BEFORE.search(before) or _BIRTH_AFTER.match(text, match.end()):
        return True
    if _BIRTH_IN_CLAUSE.search(text[max(0, start - 96) : start]):
        return bool(_ANY_YEAR.search(match.group(0)))  # a child's too: "12.03.2012"
    return bool(_WITH_A_YEAR.search(match.group(0))) and bool(
        _BIRTHDAY_AFTER.match(text, match.end()) or _BIRTHDAY_BEFORE.search(before)
    )


def _in_chain(match: re.Match[str]) -> bool:
    """Whether digits run on before or after it: a piece of a phone number, not a date.
    (A date set aside already stands as one private-use character, not a digit.)"""
    before = match.string[max(0, match.start() - 2) : match.start()]
    after = match.string[match.end() : match.end() + 2]
    return bool(_CHAIN_BEFORE.search(before) or _CHAIN_AFTER.match(after))


_VERSION_BEFORE = _Pattern(
    r"\b(?:version|v|ver|update|build|release|firmware|app|os)\.?\s*$", re.IGNORECASE
)


def _is_ipv6(match: re.Match[str]) -> bool:
    """Whether hex groups and colons are someone's IPv6 address: three groups at least (of
    eight at most), "::" or a group of three characters or a letter in them (no time nor
    a score has one: "1:0:2:1:3:0:1:1")."""
    address = match.group(0)
    groups = [group for group in address.split(":") if group]
    if not 3 <= len(groups) <= 8:
        return False
    return "::" in address or any(len(g) > 2 or not g.isdigit() for g in groups)


def _is_uk_plate(match: re.Match[str]) -> bool:
    """Whether "AB12 CDE" is a British number plate (or "W-12345A" an Austrian one): after
    a word for one or in a sentence about a car."""
    before = match.string[max(0, match.start() - 40) : match.start()]
    return bool(_UK_PLATE_BEFORE.search(before) or _VEHICLE_BEFORE.search(before))


def _address(match: re.Match[str]) -> bool:
    """Whether four dotted numbers are an IP address rather than a version ("Version
    4.2.0.1", "v2.1.0.5"): one part has two digits at least, and no version word leads."""
    if all(len(part) == 1 for part in match.group(0).split(".")):
        return False
    return not _VERSION_BEFORE.search(match.string[max(0, match.start() - 12) : match.start()])


# Numbers that name a thing, not a person's case: "Fehlercode 80070005", "Artikelnummer
# 4711123", "model number 55123" stay for staff to act on; only right after such a
# word, on its line, and of at most nine digits (a voucher code, an order number, or
# ten digits, a phone number's, go).
_TECHNICAL_BEFORE = _Pattern(
    r"(?:fehler[ -]?(?:code|nummer)|\berror[ \t-]?(?:code|number)"  # also "Systemfehlercode"
    r"|(?P<bare>fehler|\berror)"  # only before a code of letters and digits ("Fehler E-4012")
    r"|\bartikel[ -]?(?:nummer|nr\.?)|\bart\.?[ \t-]*nr\.?|\bmodell[ -]?(?:nummer|nr\.?)"
    # an article's number by its word alone, a product's, an item's or a part's ("Artikel
    # 0123456 fehlt", "Item 0123456 was out of stock": found by a precision check, they
    # were phone numbers)
    r"|\b(?P<product>(?:produkt|ersatzteile?|teile?|item|product|part)"
    r"(?:[ \t-]?(?:nummer|nr\.?|number|no\.?|code|#))?|sku|artikel)"
    r"|\bmodel[ \t-]?(?:number|no\.?)|\bpzn|\bbuild|(?P<barcode>\b(?:ean|gtin|isbn)(?:-?1[03])?))"
    r"[ \t:#.-]*\Z",
    re.IGNORECASE,
)
# A code as it follows such a word: digits, or capitals and digits ("Fehler E-4012"), in
# two parts too ("Modellnummer 0815-4711" was a phone number: corpus audit).
_CODE = _Pattern(r"(?:[A-Z]{1,4}-?)?\d+(?:-\d+)?")


def _technical(match: re.Match[str]) -> bool:
    """Whether a bare number is a code of a product or an error ("Fehlercode 80070005",
    "PZN 01234567", "EAN 4006381333931")."""
    number = match.group(0)
    if not _CODE.fullmatch(number):
        return False
    before = _TECHNICAL_BEFORE.search(match.string[max(0, match.start() - 24) : match.start()])
    if before is None or (before["bare"] and number.isdigit()):
        return False
    if before["barcode"]:  # EAN-8, ISBN-10, UPC-A, EAN-13, GTIN-14: not a phone number
        return _digits(number) in (8, 10, 12, 13, 14)
    if before["product"] and not number.startswith("0"):
        # a bare "Artikel", "Teil", "Item" only before what read as a phone number ("Artikel
        # 0123456"); "part 12345678" may be anyone's number (review of that change)
        return False
    return _digits(number) <= 9


_VERSION_PART_BEFORE = _Pattern(
    r"(?i:\bversion|\bbuild|\brelease|\bfirmware|\bv)[ \t:-]*(?:\d{1,4}\.){1,3}\Z"
)
_MODEL = _Pattern(r"[A-Z]{1,3}-?\d{3,5}")
_DEVICE_BEFORE = _Pattern(
    r"\b(?i:router|repeater|modem|drucker|printer|fernseher|tv|laptop|notebook|kamera|camera"
    r"|gerät|device|staubsauger|waschmaschine|netgear|fritz!?box|asus"
    r"|tp-link|canon|epson|hp|brother|samsung|lg|sony|bosch|siemens|miele|dyson|lenovo|dell"
    r"|acer|nikon|philips)\b[ \t]+"
    # a product line between ("Netgear Nighthawk R7000"), no label of an id ("Laptop
    # Seriennummer SN12345", "Siemens Ticket T-40567": found by review)
    r"(?:(?!(?i:serien\w*|serial|ticket|order|case|vertrag\w*|kunden\w*|auftrag\w*|nummer|nr"
    r"|no|number|sn|id|rechnung\w*|invoice|bestell\w*|konto|account)\b)[A-Z][\w!-]*[ \t]+)?\Z"
)
# Roles one addresses after "Herr" or "Frau", and no one's surname ("Herr Koch", "Frau
# Meister" are people)
_ADDRESSED_ROLES = frozenset(
    "hausmeister hausmeisterin hausverwalter hausverwalterin vermieter vermieterin nachbar "
    "nachbarin ober filialleiter filialleiterin geschäftsführer geschäftsführerin "
    "sachbearbeiter sachbearbeiterin kollege kollegin busfahrer busfahrerin".split()
)
# (near its word, in its clause, no label of an id between: "Zählerstand 18740 gemeldet,
# Vertragskonto 482913" keeps the reading only, found by review)
_READING_BEFORE = _Pattern(
    r"(?i:z(?:ä|ae)hlerst(?:a|ä)nde?|ablese(?:wert|ung)|abgelesen|meter[ \t]+readings?"
    r")\b[^,;.!?\n\d]{0,28}(?:\d+[ \t]+(?i:statt|instead[ \t]+of|nicht|not)"
    r"[ \t]+)?\Z"
)
_READING_UNIT = _Pattern(r"[ \t]*(?i:kwh|kilowattstunden|m³|m3|kubikmeter)\b")
_ISSUE_BEFORE = _Pattern(
    r"\b(?i:issue|bug|pr|pull[ \t]+request|merge[ \t]+request|jira|github|gitlab)[ \t]*\Z"
)


def _public(match: re.Match[str]) -> bool:
    """Whether a number `_ID` found is no one's: a train, a graphics card, a flight, a count,
    a postal code alone or a public service number (see _PUBLIC_CODE)."""
    number, text = match.group(0), match.string
    if _PUBLIC_CODE.fullmatch(number) or _COUNTED_AFTER.match(text, match.end()):
        return True
    before = text[max(0, match.start() - 24) : match.start()]
    # a part of a version ("Windows-Build 10.0.19045.3803", "Version 2.3.10045"), an issue
    # of a bug tracker ("GitHub issue #1234"): found by a precision check
    version = _VERSION_PART_BEFORE.search(before) and _digits(number) <= 5  # not "10.20.123456"
    if version or (number.startswith("#") and _ISSUE_BEFORE.search(before)):
        return True
    if _FLIGHT.fullmatch(number) and _FLIGHT_BEFORE.search(before):
        return True
    if re.match(r"\.\d", text[match.end() : match.end() + 2]) and _VERSION_BEFORE.search(before):
        return True  # a version's first part: "Firmware 010139.4.2"
    if _MODEL.fullmatch(number) and _DEVICE_BEFORE.search(before):
        # a device's model ("Netgear Nighthawk R7000", "router R7000": found by a
        # precision check of a provider's comments)
        return True
    if (
        number.isdigit()
        and len(number) <= 6
        and (
            _READING_BEFORE.search(text, max(0, match.start() - 40), match.start())
            or _READING_UNIT.match(text, match.end())
        )
    ):
        # a meter's reading after its word or before its unit ("Zählerstand 23456
        # gemeldet", "45231 kWh", "meter reading 12873": found by a precision check of an
        # energy supplier's comments); a meter's own number is longer or named
        return True
    area = _AREA_BEFORE.search(before) if len(number) == 5 and number.isdigit() else None
    return area is not None and (
        area["loose"] is None or _AREA_AFTER.match(text, match.end()) is not None
    )


def _is_plate(match: re.Match[str]) -> bool:
    """Whether capitals and digits are a number plate: after a word that names one (in
    small letters only with the hyphen: "Kennzeichen war am 12" is none), or written as on
    one ("HH-AB 1234"), counting nothing ("LED-TV 55 Zoll") and where a car is."""
    before = match.string[max(0, match.start() - 40) : match.start()]
    capitals = match.group(0).isupper()
    if _PLATE_BEFORE.search(before):
        return capitals or match["sep"] == "-"
    spaced = match["sep"] == " " and bool(_VEHICLE_RIGHT_BEFORE.search(before))
    return (
        capitals
        and (match["sep"] == "-" or spaced)
        and len(match["letters"]) == 2
        and len(match["digits"]) >= 2
        and not _UNIT_AFTER.match(match.string, match.end())
        and bool(_VEHICLE_BEFORE.search(before) or _PARKED_AFTER.match(match.string, match.end()))
    )


def _is_cued_phone(match: re.Match[str]) -> bool:
    """Whether digits in groups are a local phone number: six to fifteen, right after a
    word for a phone, and not a count ("Telefon 200.000 Kunden", "Telefon 10 20 30
    Minuten": found by review)."""
    text, start, end = match.string, match.start(), match.end()
    return (
        6 <= _digits(match.group(0)) <= _PHONE_DIGITS
        and bool(_PHONE_BEFORE.search(text[max(0, start - 30) : start]))
        and not (_COUNTED_AFTER.match(text, end) or _UNIT_AFTER.match(text, end))
    )


def _name_the_role(match: re.Match[str], name: str) -> str:
    """`name` for a capitalised common first name before its role ("Jan, der Techniker")."""
    said = match["name"]
    if not (said[0].isupper() and _is_first_name(said, match.string, match.end("name"))):
        return match.group(0)
    return name + match["role"]


def _customer_number(match: re.Match[str]) -> bool:
    """Whether a word for a customer number stands right before the match."""
    start = match.start()
    return _CUSTOMER_NUMBER_BEFORE.search(match.string[max(0, start - 30) : start]) is not None


def _is_spaced_phone(match: re.Match[str]) -> bool:
    """Whether digits spaced out one by one are a phone number: after a word for a phone,
    or nine single digits from a 0 or a "+" that do not count up ("Skala 0 1 2 3 4 5 6 7 8
    9" is a scale); not ratings or marks ("1 2 3 4 5 Sterne", "Noten 1 2 3 2 1")."""
    number = match.group(0)
    if _PHONE_BEFORE.search(match.string[max(0, match.start() - 24) : match.start()]):
        return _digits(number) >= 7
    digits = "".join(ch for ch in number if ch.isdigit())
    return (
        len(digits) >= 9
        and _SINGLE_DIGITS.fullmatch(number) is not None
        and digits not in "0123456789"
    )


def _is_person(name: str) -> bool:
    """Whether the capitalised words after a role or a thank-you are a name: none of them
    a word known as none, also where it is a surname too ("Kunde Zweiter Klasse", "Der
    Techniker Termin Dienstag"), nor a word of feedback ("Der Fahrer Kam Pünktlich") or a
    noun by its ending ("Kundin: Offene Rechnung")."""
    return not any(
        word.lower() in _KNOWN_WORDS or _FEEDBACK.fullmatch(word) or _COMMON_NOUN.search(word)
        for word in name.split()
        if word[0].isupper()
    )


def _plain_name(word: str) -> bool:
    """Whether a word in small letters or capitals after a title may be a name: no word of
    the language that `_NOT_NAMES` and the stop words know, nor a noun by its ending."""
    folded = word.lower()
    return (
        folded not in _NO_PLAIN_NAMES
        and folded not in _KNOWN_WORDS
        and not _COMMON_NOUN.search(folded)
        and not _PARTICIPLE.match(folded)
    )


def _names_someone(match: re.Match[str]) -> bool:
    """Whether the words after a role are a name where the role is a thing too ("Der Sender
    Sky Sport", "Mutter Erde Produkte"): a common first or last name, a recipient's label
    ("Empfänger: Chidi Okafor"), or a relative who is someone's ("Mein Mann Dragan
    Petrović")."""
    lead = match["lead"]
    role = lead.rstrip(" \t:,").lower()
    if role not in _AMBIGUOUS_ROLES:  # "Partnerin": the role without its ending
        role = role.removesuffix("in")
    if role not in _AMBIGUOUS_ROLES:
        return True
    words = match["name"].split()
    if ":" in lead and role == "empfänger":  # a label ("Sender: Sky Sport" is a channel)
        return True
    if _is_first_name(words[0]) or words[-1].split("-")[0].lower() in COMMON_SURNAMES:
        return True
    before = match.string[max(0, match.start() - 12) : match.start()]
    return role in _RELATIVES_THAT_ARE_THINGS and _SOMEONES.search(before) is not None


def _plain_titled(match: re.Match[str], name: str) -> str:
    """A title and a name in small letters or capitals as `name` (see _PLAIN_TITLED_NAME);
    after "frau" only a name known as one: typed so, "frau" is often a wife, and any word
    may follow ("frau fand das essen kalt", "frau allergisch gegen nüsse": found by the
    review of the corpus rules)."""
    before = match.string[max(0, match.start() - 24) : match.start()]
    if not _plain_name(match["first"]) or _NOUN_BEFORE.search(before):
        return match.group(0)
    first = match["first"].lower()
    if match["title"].lower() == "frau" and not (
        first.split("-")[0] in COMMON_SURNAMES or _is_first_name(match["first"])
    ):
        return match.group(0)
    second = match["second"]
    if second and match["first"].lower() in FIRST_NAMES and _plain_name(second):
        # (after "frau" and a first name that is a last name too, a last name known as one:
        # "frau walter fand das essen kalt" keeps its verb, "frau anna lindemann" goes whole;
        # found by review)
        first = match["first"].lower()
        if (
            match["title"].lower() != "frau"
            or first not in COMMON_SURNAMES
            or second.split("-")[0].lower() in COMMON_SURNAMES
        ):
            return name
    return name + match.string[match.end("first") : match.end()]


def _wife(match: re.Match[str], name: str) -> str:
    """`name`, after "Frau" that is someone's wife ("Meine Frau Claudia und ich") with the
    word kept: "Meine [Name] und ich" read as if "Frau" were her name (found by a staff
    walk-through)."""
    said = match.group(0)
    if said[:5].lower() == "frau " and _SOMEONES.search(
        match.string, max(0, match.start() - 16), match.start()
    ):
        return said[:5] + name
    return name


def _titled(match: re.Match[str], name: str) -> str:
    """A title and name as `name`, where "von" or "zu" and what follows are a name ("Herr
    von Bülow"), not a firm or a place ("Frau von der Post", "Herr von Vattenfall-Service";
    "Frau Schmidt von der Hotline" is a name and where she works), nor a role ("Herr
    Hausmeister, bitte …": found by a precision check)."""
    words = match.group(0).split()
    if len(words) == 2 and words[-1].rstrip(",.!?:;").lower() in _ADDRESSED_ROLES:
        return match.group(0)
    if match["von"] is None and match["von2"] is None:
        return name
    particle = match.start("von") if match["von"] is not None else match.start("von2")
    after = match.string[particle : match.end()].split()[1:]
    if _is_person(" ".join(after)) and not any(
        w.lower() in _INSTITUTIONS or w.lower() in _THANKED or _INSTITUTION.match(w) for w in after
    ):
        return name
    if match["von"] is not None:
        return match.group(0)
    start = particle
    while match.string[start - 1] in " \t":
        start -= 1
    return name + match.string[start : match.end()]


def _is_first_name(word: str, text: str = "", end: int = -1) -> bool:
    """Whether a word is a common first name (of a hyphenated one, its first part:
    "Klaus-Dieter"); in small letters, one that is no word too ("frank", "max"). With `end`,
    also that no capitalised word of a name follows it in `text` ("Marco Polo")."""
    folded = word.split("-")[0].lower()
    if folded not in FIRST_NAMES:
        return False
    if word[0].islower() and (folded in AMBIGUOUS_IN_SMALL_LETTERS or folded in STOP_WORDS):
        return False
    after = _CAPITALISED_AFTER.match(text, end) if end >= 0 else None
    return after is None or after["word"].lower() in _NOT_NAMES


def _first_name_at(words: list[str]) -> int | None:
    """Where a name begins among `words` (not at the last): the first common first name
    whose words to the end are a person's, not a brand's ("an Tom Becker", "Sandra
    Kowalski"); None where there is none."""
    for index, word in enumerate(words[:-1]):
        rest = " ".join(words[index:])
        if _is_first_name(word) and _is_person(rest) and not _is_brand(rest):
            return index
    return None


def _is_brand(name: str) -> bool:
    """Whether a first and a last name are a brand's ("Tom Tailor", "Tom Ford")."""
    return name in _BRAND_NAMES or name.split()[-1] in _BRAND_NAMES


def _known_surname(word: str) -> bool:
    """Whether a word is a common last name (of a double one, its first part)."""
    return word.split("-")[0].lower() in COMMON_SURNAMES


def _word_surname(word: str) -> bool:
    """Whether a capitalised word is a common German last name that is a word too ("Koch",
    "Klein"); a double one only of names ("Braun-Schmidt", not "Winter-Jacke": found by
    review). Not the English ones (King, Young, White): there public figures ("Stephen
    King", "Barry White") outnumbered the staff named (found by review)."""
    first, *more = word.split("-")
    return (
        word[:1].isupper()
        and first.lower() in _GERMAN_WORD_SURNAMES
        and all(_known_surname(part) or part.lower() in _GERMAN_WORD_SURNAMES for part in more)
    )


def _is_known_name(word: str) -> bool:
    """Whether a word is a common first or last name, in whatever letters (of a double one,
    its first part)."""
    folded = word.split("-")[0].lower()
    return folded in FIRST_NAMES or folded in COMMON_SURNAMES


def _is_street(match: re.Match[str]) -> bool:
    """Whether a street-like word and a number are an address, not "Rückweg 2 Stunden",
    "Parkplatz 3 war frei" or "Supermarkt 2 km entfernt". A "-straße" always is."""
    street = match["street"]
    if match["postal"]:
        return True
    if _NOT_STREETS.fullmatch(street):
        return False
    if match["nr"] and not _UNAMBIGUOUS_STREET.search(street):
        return False  # "Tennisplatz Nr. 3", "Ring Nr. 2": numbered things
    if " " not in street and _UNAMBIGUOUS_STREET.search(street):
        before = match.string[max(0, match.start() - 30) : match.start()]
        return not _TIME_OR_WAY.match(match.string, match.end()) or bool(
            _ADDRESS_SAID_BEFORE.search(before)
        )
    return not _QUANTITY.match(match.string, match.end())


# A time or a way along a street, not its house number: "an der Bushaltestelle Goethestraße
# 40 Minuten gewartet", "Ab Bahnhofstraße 2 Stationen", "die Gartenstraße 3 Tage ohne
# Wasser" (found by a precision check of public transport's and utilities' comments).
_TIME_OR_WAY = _Pattern(
    r"[ \t]+(?i:sekunden|minuten|min|stunden|std|tage|tagen|wochen|monate|monaten|km"
    r"|kilometer|meter|stationen|haltestellen|stopps?|minutes|hours|days|weeks|stops)\b"
)
# (an address all the same after its word: "Meine Adresse ist Bahnhofstraße 14 Stunden
# später kam der Techniker", found by the review of _TIME_OR_WAY)
_ADDRESS_SAID_BEFORE = _Pattern(
    r"(?i:adresse|anschrift|wohne|wohnhaft|address|live at)\b[^.!?\n]{0,20}\Z"
)
# The same right before, "ist" or a colon between at most: "Ich wohne am Ring 1", "Meine
# Adresse ist an der Alster 5" (not "Die Adresse steht auf der Seite 3", "Meine Adresse
# wurde im Schritt 2 nicht angenommen": found by review).
_ADDRESS_RIGHT_BEFORE = _Pattern(
    r"(?i:adresse|anschrift|wohne|wohnhaft)(?:[ \t]+(?i:ist|lautet|jetzt|nun))*[ \t]*:?[ \t]+\Z"
)


# A month and year, as on a pack or a card ("MHD 03/2024", "abgelaufen seit 08/2023"): no
# phone number (found by a precision check of pharmacies' comments: "[Telefon]").
_A_YEAR = _Pattern(r"(?:19|20)\d\d")
_MONTH_OF_A_YEAR = _Pattern(r"(?:0[1-9]|1[0-2])[/.](?:19|20)\d\d")
_DIGIT = _Pattern(r"\d")
_WORD_RUN = _Pattern(r"\S+")
_SPACE_RUN = _Pattern(r"[ \t]{2,}|\t")
# (Also the marks of writing direction, which would reorder how staff see a comment,
# variation selectors and tags: found by a hostile customer's review.)
_INVISIBLE = _Pattern(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    "\ufe00-\ufe0f\ufeff\U000e0000-\U000e007f]+"
)
_EMOJI_PARTS = frozenset(
    "\u200c\u200d" + "".join(map(chr, [*range(0xFE00, 0xFE10), *range(0xE0020, 0xE0080)]))
)
# Marks left on a letter or a digit once composed (a stroke through each, a circle or
# a keycap around each: "0\u0336151 ...", "0\ufe0f\u20e3"), which hid the letters and
# digits from every pattern; "Mu\u0308ller" is "Müller" by then.
_MARKED = _Pattern(
    "(?<=[\\w#*])[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20f0\ufe20-\ufe2f]+"
)
_IN_ADDRESS = _Pattern(r"[\w.+-]*@")
_AT = _Pattern("[@＠﹫]")
_COUNTRY_CODE = _Pattern(r"[A-Z]{2}\d{2}")
_FIELD_ENDS = _Pattern(r"[ \t]*(?:[,;.(]|\n|\Z)")
_TOKEN_BEFORE = _Pattern(r"[^\W_]+\Z")
_ADDRESS_MARKS = _Pattern(_MARKS)
_SPELLED_AT = _Pattern(r"\b(?:at|ät)\b", re.IGNORECASE)
# (Looked for as strings: a pattern for them took as long as the step they spare.)
_SPELLED_A = ("(a)", "[a]", "(A)", "[A]")
_SENT_FROM = ("von", "Von", "VON", "vom", "Vom", "VOM", "from", "From", "FROM")
# (In a comment in small letters: "geb" for "geb.", "geboren"; "TG" and "X-" are looked for
# as written, "tg" is in "Mitglied".)
_BIRTH_WORDS = ("geb", "born", "dob", "d.o.b", "birth")  # ("geburtstag" has "geb")
_ACCOUNT_CUES = (
    *(*_ACCOUNT_SERVICES, *_ACCOUNT_OWNERS),
    *("signal", "name", "login", "gamertag", "handle", "kennung", "user-id", "userid"),
)
_LIST_GOES_ON = _Pattern(r"[ \t]*[,;]")
# A parenthesis that may end a sign-off's line: "Gruß Kai (Kundennr. [Number])"
_PARENTHESIS = _Pattern(r"[ \t]*\([^()\n]{0,80}\)")
# ... and one that says something of a person: "(Kundin seit 2010)", "(8 Jahre)"
_PERSON_ASIDE = _Pattern(
    r"[ \t]*\((?i:(?:stamm)?kund(?:e|in)|patient(?:in)?|mitglied|gast|mieter(?:in)?"
    r"|bewohner(?:in)?|geb\.?|\d{1,3}[ \t]*(?:jahre|j\.)|zimmer[ \t]*\d+)(?![\w-])"
)
# Abbreviations that look like an address's name before "bei gmx.de"
_ABBREVIATIONS = frozenset({"z.b", "u.a", "d.h", "o.ä", "u.u", "i.d.r", "z.t", "v.a", "s.o"})
# Words before "patient" that make it the adjective: "very patient", "were patient and"
_ADJECTIVE_BEFORE = _Pattern(
    r"(?i:\b(?:very|so|too|extremely|really|quite|super|incredibly|always|most|more|was|were"
    r"|is|are|be|been|being|stayed|remained))[ \t]+\Z"
)


@functools.lru_cache(maxsize=32)
def _nothing_but(
    placeholders: tuple[str, ...], *, on_its_line: bool, labelled: bool
) -> re.Pattern[str]:
    """Matches where nothing but those placeholders (each after a label word if `labelled`:
    "Tel. [Phone]", "(order [Number])") and no word follows up to the end of the line, or
    of the text. Possessive, and it stops at the first word: linear in what it reads."""
    shown = "|".join(re.escape(each) for each in sorted(placeholders, key=len, reverse=True))
    label = (
        rf"\b(?i:{_CONTACT_LABEL})\b[^\w\n]{{0,4}}(?:(?i:{_CONTACT_LABEL})\b[^\w\n]{{0,4}})?"
        rf"(?={shown})|"
        if labelled
        else ""
    )
    if on_its_line:
        return re.compile(rf"(?:{shown}|{label}[^\w\n])*+(?:\n|\Z)")
    return re.compile(rf"(?:{shown}|{label}\W)*+\Z")


@functools.lru_cache(maxsize=32)
@functools.lru_cache(maxsize=32)
def _contact_at(placeholders: tuple[str, ...]) -> re.Pattern[str]:
    """Matches where one of those placeholders follows, after a label word or two if any:
    "[Phone]", "Kundennummer [Number]", "Tel. [Phone]"."""
    shown = "|".join(re.escape(each) for each in sorted(placeholders, key=len, reverse=True))
    label = rf"(?i:{_CONTACT_LABEL}|[\w-]*(?:nummer|nr))\b"  # "Bestellnummer", "Kd.-Nr."
    return re.compile(rf"(?:{label}[^\w\n]{{0,4}}){{0,2}}(?:{shown})")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


PATTERNS = (
    _PASSWORD,
    _DOOR_CODE,
    _LABELLED_MAIL,
    _EMAIL,
    _SPELLED_EMAIL,
    _SPELLED_BEI_EMAIL,
    _URL,
    _BARE_LINK,
    _DOMAIN,
    _IBAN,
    _WORDS_AFTER_A_NUMBER,
    _SOCIAL_SECURITY,
    _CARD,
    _AHV,
    _NATIONAL_INSURANCE,
    _HANDLE,
    _NAMED_ACCOUNT,
    _SPACED_HANDLE,
    _WRITE_TO,
    _ACCOUNT_ON_SERVICE,
    _MAIL_WITHOUT_AT,
    _MAC,
    _IPV6,
    _WORDED_DATE,
    _CVE,
    _NAMED_PLACE,
    _DATE,
    _TIME,
    _GROUPED_NUMBER,
    _TRACKING,
    _VIN,
    _WORDED_PHONE,
    _DIGIT_WORDS,
    _PHONE,
    _SPACED_PHONE,
    _CUED_PHONE,
    _IPV4,
    _NAMED_ID,
    _REFERENCE,
    _LABELLED_CODE,
    _EXTENSION,
    _MONTH_OF_A_YEAR,
    _A_YEAR,
    _SERVING,
    _SERVING_ROLE,
    _SENTENCE_END,
    _ROOM_OR_BOOKING,
    _ROOM_BY_ARTICLE,
    _NOUN_OR_DEGREE_AFTER,
    _US_PHONE,
    _PO_BOX,
    _STREET,
    _PREPOSITION_STREET,
    _SMALL_STREET,
    _ENGLISH_STREET,
    _UK_POSTCODE,
    _POSTAL_CITY,
    _NAME_BEFORE_ADDRESS,
    _FOR_THE_ATTENTION,
    _JOINED_ID,
    _SSN,
    _PLATE,
    _UK_PLATE,
    _AUSTRIAN_PLATE,
    _ID,
    _SENT_BY,
    _SIGN_OFF,
    _END_SIGNATURE,
    _NAME_BY_CONTACT,
    _CONTACT_WORD_AHEAD,
    _CODE_BEFORE,
    _AT_THE_DOOR,
    _ROLE_WORD,
    _SURNAME_FIRST,
    _SELF_INTRODUCTION,
    _PLAIN_SELF_INTRODUCTION,
    _I_COMMA_NAME,
    _I_AM,
    _THIS_IS,
    _NAME_HERE,
    _NAME_AT_WORK,
    _SPOKE_WITH,
    _BRACKETED_NAME,
    _FIRST_NAME_RUN,
    _COMMA_NAME,
    _NAME_OPENS,
    _DRINK_BEFORE,
    _BRAND_AFTER_A_NAME,
    _NOT_AFTER_ONE_WITH,
    _SOMEONE_BEFORE_BRACKET,
    _MODEL,
    _DEVICE_BEFORE,
    _BIRTH_IN_CLAUSE,
    _ANY_YEAR,
    _WITH_SOMEONE,
    _SESSION_BEFORE,
    _READING_BEFORE,
    _READING_UNIT,
    _NAME_SAYS,
    _NAME_LABEL_BEFORE,
    _NAME_AFTER_ROLE,
    _FIRST_NAME_AFTER_CUE,
    _SURNAME_AFTER_ROLE,
    _WORD_SURNAME_AFTER_ROLE,
    _LISTED_NAME,
    _FAMILY_AFTER,
    _FAMILY_AS_WORD,
    _SOMEONES,
    _PERSON_BEFORE,
    _I_AM_CUE,
    _WHAT_ONE_IS,
    _LINE_ENDS,
    _SURNAME_CUE,
    _FAMILY,
    _PLAIN_TITLED_NAME,
    _TITLED_NAME,
    _DASHED_NAME,
    _LAST_LINE_NAME,
    _KNOWN_FULL_NAME,
    _NAME_BEFORE_A_NAME,
    _NAME_THE_ROLE,
    _LONE_FIRST_NAME,
    # and those that decide on what the patterns above found
    _VERSION_PART_BEFORE,
    _ISSUE_BEFORE,
    _BULLET,
    _LINED,
    _UNAMBIGUOUS_STREET,
    _NOT_STREETS,
    _QUANTITY,
    _TIME_OR_WAY,
    _ADDRESS_SAID_BEFORE,
    _ADDRESS_RIGHT_BEFORE,
    _LIST_GOES_ON,
    _PARENTHESIS,
    _PERSON_ASIDE,
    _ADJECTIVE_BEFORE,
    _PLATE_BEFORE,
    _UK_PLATE_BEFORE,
    _BORN_STAR,
    _VEHICLE_BEFORE,
    _VEHICLE_RIGHT_BEFORE,
    _PARKED_AFTER,
    _UNIT_AFTER,
    _COMMON_NOUN,
    _FEEDBACK,
    _STREET_BEFORE,
    _CHAIN_BEFORE,
    _CHAIN_AFTER,
    _VERSION_BEFORE,
    _TECHNICAL_BEFORE,
    _BIRTH_BEFORE,
    _BIRTH_AFTER,
    _BIRTHDAY_AFTER,
    _BIRTHDAY_BEFORE,
    _WITH_A_YEAR,
    _SINGLE_DIGITS,
    _PHONE_BEFORE,
    _CUSTOMER_NUMBER_BEFORE,
    _FROM_SOMEONE,
    _COMMA_ROOM,
    _IN_A_PLACE,
    _PUBLIC_CODE,
    _FLIGHT_BEFORE,
    _FLIGHT,
    _COUNTED_AFTER,
    _AREA_BEFORE,
    _AREA_AFTER,
    _FROM_CITY,
    _NOUN_BEFORE,
    _PARTICIPLE,
    _INSTITUTION,
    _CAPITALISED_AFTER,
    _PLACE_NOUN_AFTER,
    _CODE,
    _DIGIT,
    _ADDRESS_MARKS,
    _SPELLED_AT,
    _WORD_RUN,
    _SPACE_RUN,
    _INVISIBLE,
    _MARKED,
    _IN_ADDRESS,
    _AT,
    _COUNTRY_CODE,
    _FIELD_ENDS,
    _TOKEN_BEFORE,
)
"""Every pattern, for fingerprints of what was computed with them (see flows.figures)."""


def compile_patterns() -> None:
    """Compile every pattern now (about a second and a half), not at the first comment."""
    for pattern in PATTERNS:
        pattern.compiled()
