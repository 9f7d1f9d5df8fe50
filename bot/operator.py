"""The language of the person at the terminal, the operator: for the command line's
help, answers and errors, the configuration's among them."""

from __future__ import annotations

import os

from flows.i18n import SUPPORTED_LOCALES, Translator, resolve_locale, translator


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
    """The language of the command line: the terminal's, else German (the product's first
    language). Settings are not asked: the message that they are wrong must be readable."""
    return translator(operator_locale(None, SUPPORTED_LOCALES[0]))
