"""The language of the person at the terminal, the operator: for the command line's
help, answers and errors, the configuration's among them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from flows.i18n import SUPPORTED_LOCALES, Translator, resolve_locale, translator

_requested: str | None = None
"""The language a subcommand's --lang asked for, while it runs (see `operator_language`)."""


def operator_locale(requested: str | None, default: str) -> str:
    """The language for messages to the person at the terminal: `requested`, else the
    terminal's (LC_ALL, LC_MESSAGES, LANG), else `default`."""
    if requested:
        return resolve_locale(requested, default)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(name):
            return resolve_locale(os.environ[name], default)
    return resolve_locale(None, default)


def operator_translator() -> Translator:
    """The language of the command line: the one `--lang` asked for (`check`, `chat`),
    else the terminal's, else German (the product's first language). Settings are not
    asked: the message that they are wrong must be readable."""
    return translator(operator_locale(_requested, SUPPORTED_LOCALES[0]))


@contextmanager
def operator_language(requested: str | None) -> Iterator[None]:
    """Every message to the operator in `requested` (when given) while it lasts: errors
    raised while the settings, the recipients or the bot are loaded too, which are
    translated where they are raised (found by review: `check --lang en` said a wrong
    setting in German)."""
    global _requested  # one command line per process
    previous, _requested = _requested, requested or _requested
    try:
        yield
    finally:
        _requested = previous
