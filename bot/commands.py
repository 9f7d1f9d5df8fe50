"""The command menu, per language (German names first, English aliases second)."""

from __future__ import annotations

from telegram import BotCommand
from telegram.ext import Application

from flows.i18n import N_, SUPPORTED_LOCALES, translator

# (German name, English name, description msgid); both names are handled in every language.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("start", "start", N_("Give feedback")),
    ("datenschutz", "privacy", N_("How your data is handled")),
    ("meinedaten", "mydata", N_("See the data stored about you")),
    ("widerruf", "withdraw", N_("Withdraw a consent")),
    ("loeschen", "delete", N_("Erase all your data")),
    ("hilfe", "help", N_("What I can do")),
    ("abbrechen", "cancel", N_("Discard an unfinished feedback")),
)


def menu(locale: str) -> list[BotCommand]:
    t = translator(locale)
    return [
        BotCommand(german if locale == "de" else english, t.gettext(description))
        for german, english, description in COMMANDS
    ]


async def register_commands(application: Application, default_locale: str) -> None:  # type: ignore[type-arg]
    """Register the menu for each language, and the default language's for everyone else."""
    for locale in SUPPORTED_LOCALES:
        await application.bot.set_my_commands(menu(locale), language_code=locale)
    await application.bot.set_my_commands(menu(default_locale))
