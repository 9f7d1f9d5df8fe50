"""The `feedbackbot` command's entry point (also `python -m bot`): the command line, with
a Ctrl-C pressed while it is still being imported ended as one later is.

Importing the command line takes a second or two (python-telegram-bot, pydantic, babel),
and a Ctrl-C then printed a traceback through whichever of them was loading, where a
command under way says one line (found by an operator audit). This module imports nothing
of the bot's until it is called, so that the try below covers all of it."""

from __future__ import annotations

import signal
import sys

INTERRUPTED = 130
"""As bot.cli.common.INTERRUPTED, not imported from there: that import is what may be cut
short."""


def main() -> int:
    try:
        from bot.cli import main as command_line

        return command_line()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C: no traceback either
        print_interrupted()
        return INTERRUPTED


def print_interrupted() -> None:
    """`feedbackbot: interrupted` in the operator's language, as a command under way says
    it; nothing when the translations cannot be loaded (the interrupted import may have
    left one of their modules broken)."""
    try:
        from bot.operator import operator_translator

        said = operator_translator().gettext("interrupted")
    except Exception:  # a line less is better than a traceback here
        return
    print(f"feedbackbot: {said}", file=sys.stderr)
