"""A chat in the terminal in front of the real bot, which talks to the Bot API double.

The bot's messages are printed as text, inline buttons as numbered choices, documents
and images are saved to files whose paths are printed. What the person types is turned
into the update Telegram would send and handed to `Application.process_update`, one at
a time, so the conversation is synchronous and repeatable.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from telegram import Update

from bot.context import BotApplication
from bot.fakeapi import BotMessage, FakeBotApi, Sender
from flows.i18n import Translator

QUIT_COMMANDS = frozenset({"/quit", "/exit"})
Buttons = list[list[tuple[str, str | None]]]


def numbered(buttons: Buttons) -> list[list[tuple[str, str, str | None]]]:
    """(number, label, callback data) per button: a keyboard of numbers keeps its own
    numbers (a rating), any other is numbered from 1 in reading order."""
    own = _all_numbers(buttons)
    counter = itertools.count(1)
    return [
        [(label if own else str(next(counter)), label, data) for label, data in row]
        for row in buttons
    ]


@dataclass
class TerminalChat:
    """One person chatting with the bot; `run` reads lines until /quit or end of input."""

    application: BotApplication
    api: FakeBotApi
    t: Translator
    downloads: Path
    user_id: int
    sender: Sender
    read: Callable[[str], str] = input
    out: TextIO | None = None
    _seen: dict[int, tuple[str | None, Buttons]] = field(default_factory=dict)
    _answers_seen: int = 0

    def run(
        self, first_message: str | None = None, started: Callable[[], None] | None = None
    ) -> None:
        """Chat until the input ends; `started` is called once the bot and its store are
        up (the banner: not printed above a refusal of a store in use, found by an
        operator's walk-through)."""
        with asyncio.Runner() as runner:
            runner.run(self._start())
            try:
                # (inside: a banner written to a pipe already closed, "chat | head", left
                # the store open, and the exit waited for its thread for good; found by an
                # operator walk-through)
                if started is not None:
                    started()
                if first_message:
                    self._print(f"{self._you()}{first_message}")
                    runner.run(self._deliver(self._typed(first_message)))
                while (line := self._next_line()) is not None:
                    runner.run(self._deliver(self._update_for(line)))
            except KeyboardInterrupt:  # Ctrl-C while the bot was answering: end as with Ctrl-D
                self._print("")
            finally:
                runner.run(self._stop())

    # --- the bot ----------------------------------------------------------------------
    async def _start(self) -> None:
        app = self.application
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        self._seen = {m["message_id"]: _shown(m) for m in self._messages()}
        self._answers_seen = len(self.api.callback_answers)

    async def _stop(self) -> None:
        app = self.application
        if app.post_stop is not None:
            # The alerts under way posted while the stand-in still answers (found by an
            # operator walk-through: a chat ended right after a feedback logged "sending
            # failed" and "alert not audited" for its alert), as `run` does at a stop.
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)

    async def _deliver(self, update: dict[str, Any]) -> None:
        app = self.application
        await app.process_update(Update.de_json(update, app.bot))
        if self._show_news():
            self._print("")

    # --- the person -------------------------------------------------------------------
    def _you(self) -> str:
        return self.t.gettext("You") + ": "

    def _next_line(self) -> str | None:
        """The next line typed, or None to end (end of input, Ctrl-C, /quit)."""
        while True:
            try:
                line = self.read(self._you()).strip()
            except (EOFError, KeyboardInterrupt):
                self._print("")
                return None
            if line.lower() in QUIT_COMMANDS:
                return None
            if line:
                return line

    def _update_for(self, line: str) -> dict[str, Any]:
        """A button's number presses it (in the latest message with buttons), and so does
        the label of a button of an earlier message (as a finger in Telegram reaches
        the erase button above the survey question asked again); anything else is sent as
        a message, as typed."""
        target = self._latest_with_buttons()
        if target is not None and line.isdecimal():
            for row in numbered(target["buttons"]):
                for number, _, data in row:
                    if number == line and data is not None:
                        return self._press(target, data)
        # (Not a number: one the latest keyboard lacks is text, a rating perhaps.)
        earlier = [] if line.isdecimal() else [m for m in self._messages() if m["buttons"]]
        for message in reversed(earlier):
            for buttons in message["buttons"]:
                for label, data in buttons:
                    if label.casefold() == line.casefold() and data is not None:
                        return self._press(message, data)
        return self._typed(line)

    def _press(self, message: BotMessage, data: str) -> dict[str, Any]:
        return self.api.callback_press(self.user_id, message["message_id"], data, **self.sender)

    def _typed(self, text: str) -> dict[str, Any]:
        return self.api.user_message(self.user_id, text, **self.sender)

    # --- what the bot did -------------------------------------------------------------
    def _messages(self) -> list[BotMessage]:
        return self.api.messages(self.user_id)

    def _latest_with_buttons(self) -> BotMessage | None:
        return next((m for m in reversed(self._messages()) if m["buttons"]), None)

    def _show_news(self) -> bool:
        """Print the notices, new and changed messages since last time; False if none."""
        shown_any = False
        answers = self.api.callback_answers
        for answer in answers[self._answers_seen :]:
            if answer.get("text"):
                self._print(f"  ({answer['text']})")
                shown_any = True
        self._answers_seen = len(answers)
        for message in self._messages():
            now = _shown(message)
            before = self._seen.get(message["message_id"])
            self._seen[message["message_id"]] = now
            if before is None or before[0] != now[0]:
                self._show_message(message)
            elif before[1] != now[1] and now[1]:
                self._show_buttons(now[1])
            else:
                continue
            shown_any = True
        return shown_any

    def _show_message(self, message: BotMessage) -> None:
        text = message["text"] or message["caption"] or ""
        if text:
            first, *rest = text.split("\n")
            self._print(self.t.gettext("Bot") + ": " + first)
            for line in rest:
                self._print(f"     {line}" if line else "")
        document, photo = message["document"], message["photo"]
        if document is not None:
            note = self.t.gettext("File saved: {path} (deleted when the chat ends)")
            self._print(
                "  " + note.format(path=self._save(document["filename"], document["bytes"]))
            )
        if photo is not None:
            note = self.t.gettext("Image saved: {path} (deleted when the chat ends)")
            self._print("  " + note.format(path=self._save("image.png", photo)))
        self._show_buttons(message["buttons"])

    def _show_buttons(self, buttons: Buttons) -> None:
        own = _all_numbers(buttons)
        for row in numbered(buttons):
            cells = [f"[{n}]" if own else f"[{n}] {label}" for n, label, _ in row]
            self._print("     " + "   ".join(cells))

    def _save(self, filename: str, content: bytes) -> Path:
        self.downloads.mkdir(parents=True, exist_ok=True)
        name = Path(filename).name or "file"
        path = self.downloads / name
        for n in itertools.count(2):
            if not path.exists():
                break
            path = self.downloads / f"{Path(name).stem}-{n}{Path(name).suffix}"
        path.write_bytes(content)
        return path

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def _shown(message: BotMessage) -> tuple[str | None, Buttons]:
    return message["text"] or message["caption"], message["buttons"]


def _all_numbers(buttons: Buttons) -> bool:
    labels = [label for row in buttons for label, _ in row]
    return all(label.isdecimal() for label in labels) and len(set(labels)) == len(labels)
