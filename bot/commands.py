"""The command menu, per language (German names first, English aliases second)."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from datetime import UTC, datetime

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from bot.render import cuts_off
from bot.staffchat import say_cut_off
from flows.durations import InvalidDuration, parse_duration
from flows.engine import AS_ASCII, one_slip
from flows.i18n import N_, SUPPORTED_LOCALES, translator
from flows.staff import first_day_named, staff_period

log = logging.getLogger("bot.commands")

# (German name, English name, description msgid); both names are handled in every language.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("start", "start", N_("Give feedback")),
    ("datenschutz", "privacy", N_("How your data is handled")),
    ("meinedaten", "mydata", N_("See the data stored about you")),
    ("widerruf", "withdraw", N_("Withdraw a consent")),
    ("loeschen", "delete", N_("Erase all your data")),
    ("sprache", "language", N_("Choose the language I write in")),
    ("hilfe", "help", N_("What I can do")),
    ("abbrechen", "cancel", N_("Discard an unfinished feedback")),
)
STAFF_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("zusammenfassung", "summary", N_("Summarise feedback (staff)")),
    ("antworten", "reply", N_("Answer a customer (staff)")),
)


# Telegram's commands are ASCII letters, figures and "_": typed with an umlaut ("/löschen"),
# apart ("/meine daten") or a letter off ("/loschen"), a command arrives as an unknown
# command or as plain text (found by a German customer's review: "/löschen" was unknown).
_NOT_IN_A_NAME = re.compile(r"[^a-z0-9]")
TYPED_COMMAND = re.compile(r"^\s*/[^\W\d_]\w*(?:@\w+)?(?=[\s!?.,:;]|$)")
"""A message that begins like a command, whether or not Telegram marked it as one: a word
after "/", then a space or the end ("/r/germany empfahl euch" is a comment: review)."""
# Words for a command that is no command's name (found by a customer's review: "/ende",
# "/quit" got the whole help).
_ALIASES = {
    "ende": "abbrechen", "beenden": "abbrechen", "abbruch": "abbrechen", "quit": "cancel",
    "exit": "cancel", "end": "cancel", "widerrufen": "widerruf", "datenloeschen": "loeschen",
    "loeschung": "loeschen", "erase": "delete", "remove": "delete", "daten": "meinedaten",
    "data": "mydata", "hallo": "start", "hello": "start", "hi": "start", "deutsch": "sprache",
    "english": "language", "englisch": "language",
}  # fmt: skip


# Staff's, named to staff only (found by a staff walk-through: "/antwort" was unknown).
_STAFF_ALIASES = {
    "antwort": "antworten", "answer": "reply", "zusammenfassen": "zusammenfassung",
    "summarise": "summary", "summarize": "summary",
}  # fmt: skip


_SKIPS = frozenset({"skip", "ueberspringen", "uberspringen"})


def skips(text: str) -> bool:
    """Whether `text` is "/skip" or "/überspringen", which the bot has no command for but
    takes at a question one may skip (see `FeedbackService.skip`)."""
    words = text.strip().removeprefix("/").split()
    name = words[0].partition("@")[0].lower().translate(AS_ASCII) if words else ""
    return text.lstrip().startswith("/") and len(words) == 1 and name in _SKIPS


_POLITE = frozenset("bitte please pls danke thanks".split())


def typed_staff_command(text: str) -> str | None:
    """The staff command a text without its slash names ("Zusammenfassung bitte", "summary
    30d": found by a staff walk-through, told to agree to the consent request), with what
    follows it; None for any other text, and for one longer than a command is."""
    words = [word.strip(".,;:!?") for word in text.split()]
    if not words or len(words) > 4:
        return None
    name = words[0].casefold()
    if name not in {each for german, english, _ in STAFF_COMMANDS for each in (german, english)}:
        return None
    rest = [w for w in words[1:] if w and w.casefold() not in _POLITE]
    # only with what the command takes after it: a period, a reference; not "Reply faster
    # please", "Antworten kamen schnell" (found by review: "did you mean /reply faster?")
    if rest and not (any(c.isdigit() for c in rest[0]) or _a_period(" ".join(rest))):
        return None
    return " ".join([f"/{name}", *rest])


# A customer's command typed without its slash, alone (found by a customer walk-through:
# "mydata", "datenschutz", "sprache" after the survey were told no question is open, and
# "widerruf" got a pointer to three commands). Not "start" and "hilfe", which are taken as
# their commands (see FeedbackService.text), nor "abbrechen" (outside a survey, which it
# stops, nothing to cancel) or "löschen" (answered with what there is to erase): as before;
# asked outside a survey only.
_UNSLASHED = {
    **{
        name: name
        for german, english, _ in COMMANDS
        for name in (german, english)
        if name not in ("start", "hilfe", "help", "abbrechen", "cancel", "loeschen", "delete")
    },
    "meine daten": "meinedaten", "my data": "mydata",
}  # fmt: skip


def typed_customer_command(text: str) -> str | None:
    """The command a customer's text names without its slash ("mydata", "Meine Daten
    bitte", "Datenschutz?"), or None."""
    words = [w for w in re.sub(r"[!?.,:;]", " ", text.casefold()).split() if w not in _POLITE]
    name = _UNSLASHED.get(" ".join(words))
    return None if name is None else f"/{name}"


def _a_period(text: str) -> bool:
    """Whether `text` reads as a summary's period ("letzte Woche", "seit Montag")."""
    today = datetime.now(UTC).date()
    try:
        return bool(first_day_named(text, today) or parse_duration(staff_period(text, today)))
    except InvalidDuration:
        return False


_GLUED_PERIOD = re.compile(r"(?P<name>[^\W\d_]{4,})(?P<period>\d[\w.,]*)")
_SUMMARIES = frozenset(f"/{name}" for name in STAFF_COMMANDS[0][:2])


def meant(text: str, staff: bool = False) -> str | None:
    """The customer's command that `text`, a mistyped one, most likely was ("/loeschen" for
    "/löschen", "/Meine Daten" or "/loschen"), or None when none is near; of `staff`, also
    theirs ("/zusammenfasung": found by a staff walk-through, answered with the customers'
    help)."""
    words = text.strip().removeprefix("/").split()[:3]
    if words:
        words[0] = words[0].partition("@")[0]  # "/löschen@feedback_bot"
    # "/zusammenfassung7d": the period without its space (found by a staff walk-through:
    # the whole help), named with it
    glued = _GLUED_PERIOD.fullmatch(words[0]) if words and staff else None
    if glued is not None and (name := meant(f"/{glued['name']}", staff)) in _SUMMARIES:
        return f"{name} {glued['period']}"
    for count in range(len(words), 0, -1):
        typed = _NOT_IN_A_NAME.sub("", "".join(words[:count]).lower().translate(AS_ASCII))
        aliases = {**_ALIASES, **(_STAFF_ALIASES if staff else {})}
        if typed in aliases:
            return f"/{aliases[typed]}"
        names = [
            name
            for german, english, _ in (*COMMANDS, *(STAFF_COMMANDS if staff else ()))
            for name in (german, english)
        ]
        for name in names:
            if typed == name or (len(name) >= 5 and one_slip(typed, name)):
                return f"/{name}"
        # a slip of an alias ("/widerufen"), or a command's beginning ("/lösch", "/meine"):
        # found by a customer walk-through, answered with the whole help
        for alias, name in aliases.items():
            if len(alias) >= 5 and one_slip(typed, alias):
                return f"/{name}"
        begun = {name for name in names if len(typed) >= 4 and name.startswith(typed)}
        if len(begun) == 1:
            return f"/{begun.pop()}"
    return None


def menu(locale: str, entries: Iterable[tuple[str, str, str]] = COMMANDS) -> list[BotCommand]:
    t = translator(locale)
    return [
        BotCommand(german if locale == "de" else english, t.gettext(description))
        for german, english, description in entries
    ]


async def register_commands(
    application: Application,  # type: ignore[type-arg]
    default_locale: str,
    staff_ids: Collection[int] = (),
    staff_chat_id: int | None = None,
    staff_locale: str | None = None,
) -> None:
    """Register the menu for each language and the default language's for everyone else.

    Staff see their commands only in their own private chat with the bot, so nobody
    else learns that they exist, and in the staff chat, where the summary and answers to
    customers are all the bot handles (the customers' commands are for private chats).
    Where a member of staff's app is in neither language, their menus are in the staff
    language (`staff_locale`, FEEDBACKBOT_STAFF_LOCALE), as the bot answers them.
    """
    team = staff_locale or default_locale
    # The menu is a convenience: a refusal (flood control, a 5xx, a staff member who never
    # opened the chat) is logged and the bot starts anyway; the next start sets it again.
    calls = [
        application.bot.set_my_commands(menu(loc), language_code=loc) for loc in SUPPORTED_LOCALES
    ]
    calls.append(application.bot.set_my_commands(menu(default_locale)))
    # A chat's own menu wins over the menus per language, so staff get theirs in each
    # language too (and the default language's where theirs is another).
    for staff_id in staff_ids:
        scope = BotCommandScopeChat(staff_id)
        staff_menus = [(menu(loc, COMMANDS + STAFF_COMMANDS), loc) for loc in SUPPORTED_LOCALES]
        calls += [
            application.bot.set_my_commands(entries, scope=scope, language_code=loc)
            for entries, loc in staff_menus
        ]
        calls.append(
            application.bot.set_my_commands(menu(team, COMMANDS + STAFF_COMMANDS), scope=scope)
        )
    for call in calls:
        try:
            await call
        except TelegramError as error:
            log.warning("command menu not set: %s", type(error).__name__)
    # (A staff chat that is a staff member's own chat keeps that member's whole menu.)
    if staff_chat_id is None or staff_chat_id in staff_ids:
        return
    scope = BotCommandScopeChat(staff_chat_id)
    # Where the team's language is set, the staff chat answers everyone in it, so its menu
    # is in it for every app language too (a German colleague's said "/zusammenfassung –
    # Feedback zusammenfassen" in an English team's chat: found by that team's review).
    # Set for each language rather than left out, so a menu of an earlier start is replaced.
    staff_chat_menus: list[tuple[list[BotCommand], str | None]] = [
        (menu(staff_locale or loc, STAFF_COMMANDS), loc) for loc in SUPPORTED_LOCALES
    ]
    staff_chat_menus.append((menu(team, STAFF_COMMANDS), None))
    for entries, language in staff_chat_menus:
        try:
            await application.bot.set_my_commands(entries, scope=scope, language_code=language)
        except TelegramError as error:
            if cuts_off(error):  # the first word of it at start, not at the first alert
                say_cut_off(staff_chat_id, error, "alerts and digests cannot be posted")
                return
            log.warning("command menu not set: %s", type(error).__name__)
