"""Model-based (stateful) property test of the customer conversation.

One or two people talk to the real Application over the in-process Bot API double, in
any interleaving of: /start, presses of the buttons in front of them, of old buttons and
of forged callback data, typed text (short, long, button labels, numbers), two quick
texts (joined into one comment, with Undo), edits, stickers, the rights commands and
their buttons, /sprache, and jumps of the clock with purges.

The model keeps what each person has been TOLD (the answers the bot took, a text added
to the comment and taken out again, thanked, erased, consent withdrawn), and after every
step checks it against the store and the replies.

`make test` runs 40 examples (derandomized), `make reliability` 300; STATEFUL_EXAMPLES
and STATEFUL_SEED (a number: random examples from that seed) tune it:
`STATEFUL_SEED=22 STATEFUL_EXAMPLES=400 make reliability ARGS="-k conversation_model"`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from bot.app import purge_expired
from flows.engine import typed_no
from flows.i18n import translator
from tests.fakes.botapi import BotMessage, FakeBotApi
from tests.harness import TOKEN, Clock
from tests.reliability.support import FULL, InProcessBot

REPO = Path(__file__).resolve().parents[2]
USERS = (7_100_000_001, 7_100_000_002)
APP_LANGUAGE = ("de", "en")
IDLE = timedelta(minutes=30)
RETENTION = timedelta(days=180)
ALLOWED_TO_FAIL = frozenset({"editMessageReplyMarkup", "answerCallbackQuery", "deleteMessage"})


THE_OTHER_LANGUAGE = "In English: send /language."
"""The way to the other language, in it: after a message not kept that was written in it."""


def _catalog() -> list[tuple[str, str]]:
    with (REPO / "locales/de/LC_MESSAGES/messages.po").open("rb") as po:
        catalog = read_po(po)
    pairs = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strs = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id == THE_OTHER_LANGUAGE:
            continue  # written in the other language by design
        for msgid, msgstr in zip(ids, strs, strict=False):
            # Only sentences: fragments ("Telegram", "Done") are the same in both languages
            # or part of ordinary words. The part before the first placeholder is compared.
            en = msgid.split("{")[0].strip()
            de = msgstr.split("{")[0].strip()
            if len(en) >= 24 and len(de) >= 24 and en != de:
                pairs.append((en, de))
    return pairs


CATALOG = _catalog()
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def both(message: str) -> tuple[str, str]:
    return translator("de").gettext(message), translator("en").gettext(message)


def says(text: str, message: str) -> bool:
    return any(s in text for s in both(message))


def withdrew(text: str) -> bool:
    """Whether a /withdraw button's answer says the consent was withdrawn (not that its
    question was out of date and nothing was)."""
    return "wurde widerrufen" in text or "has been withdrawn" in text


def nothing_stored(text: str) -> bool:
    """/mydata's answer where nothing is stored, or nothing but the erasure ledger's note."""
    return says(text, NO_DATA) or any(s.split("{")[0] in text for s in both(NOTHING_BUT_A_NOTE))


THANKS = "/mydata shows what is stored at any time; /delete erases all your data."
PRODUCT_STEPS = {"satisfaction", "improve", "problems", "problem_details", "liked", "recommend"}
ADDED = "Added to your previous answer."
TAKEN_FOR_SKIPPED = "Taken as your answer to the previous question, which you skipped."
TAKEN_OUT = "Taken out of your previous answer again."
TAKEN_BACK = (
    "I have taken your previous answer out: it will not be stored. Here is its question once more."
)
CONSENT_RECORDED = "Thank you, your consent has been recorded."
ERASED = "Done. Everything stored about you has been erased:"
NO_DATA = "No data is stored about you."
NOTHING_BUT_A_NOTE = (
    "No data is stored about you except an encrypted note (none of your answers) that {what}. "
    "It is kept until {date}, so that this is carried out again should our data be restored "
    "from a backup."
)


@dataclass
class Told:
    """One survey (by its token) as the person was told it went."""

    step: str
    rating: int | None = None
    comment: str | None = None
    additions: dict[str, str] = field(default_factory=dict)  # mark -> text added
    unknown: bool = False  # began where the model could not follow
    flow: str = "feedback"
    skipped: bool = False  # the comment is of messages sent after it was skipped


@dataclass
class Expected:
    rating: int | None
    comment: str | None
    contact: bool | None  # None: no longer checked (withdrawn since)
    created: datetime
    unknown: bool = False
    flow: str = "feedback"
    told_date: str = ""


@dataclass
class Person:
    index: int
    user_id: int
    app: str
    locale: str
    tokens: dict[str, Told] = field(default_factory=dict)
    expected: list[Expected] = field(default_factory=list)
    buttons_seen: list[tuple[int, str]] = field(default_factory=list)
    texts_sent: list[int] = field(default_factory=list)
    erased: bool = False
    withdrawn: bool = False
    withdrawn_product: bool = False
    current: str | None = None
    chose_language: bool = False
    contact_withdrawn: bool = False
    last_seen: datetime | None = None
    log: list[str] = field(default_factory=list)

    @property
    def sender(self) -> dict[str, Any]:
        return {"language_code": self.app, "first_name": f"Person{self.index}"}


@dataclass
class Action:
    kind: str  # "text", "press", "command", "other"
    value: str


class ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


WORDED_RATINGS = {"fünf Sterne": 5, "★★★☆☆": 3}


def rating_meant(text: str) -> int | None:
    """The rating a person means by typing `text` at the rating question."""
    if text in WORDED_RATINGS:
        return WORDED_RATINGS[text]
    found = re.fullmatch(r"\s*(\d)(?:\s*/\s*5)?\s*", text)
    if found and 1 <= int(found[1]) <= 5:
        return int(found[1])
    return None


def skip_meant(text: str) -> bool:
    return text.strip().strip(".!?").casefold() in {"überspringen", "skip"}


TEXT_POOL = [
    "gut",
    "Hallo,",
    "Alles bestens",
    "nein",
    "ok",
    "4",
    "5/5",
    " 3 ",
    "10",
    "0",
    *WORDED_RATINGS,
    "Überspringen",
    "Skip",
    "Nein",
    "Ja, einverstanden",
    "Yes, I agree",
    "Rückgängig",
    "Alles löschen",
    "L" * 2000,
    "M" * 2001,
    "N" * 4500,
    "und außerdem war der Service wirklich sehr freundlich",
    "und außerdem war der Service wirklich sehr freundlich",  # the same again
]


class Conversation(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.dir = Path(tempfile.mkdtemp(prefix="stateful-"))
        self.clock = Clock()
        self.api = FakeBotApi(TOKEN, clock=lambda: self.clock.now.timestamp())
        # The model knows nothing of the feedback limit (tests/bot/test_feedback_limit.py):
        # a person who finishes more than ten surveys within a day is no error here.
        self.bot = InProcessBot(
            self.api, self.dir / "data", clock=self.clock, settings={"feedback_limit": "off"}
        )
        self.errors = ErrorCollector()
        logging.getLogger().addHandler(self.errors)
        self.runner.run(self.bot.start())
        self.people = [
            Person(n, uid, APP_LANGUAGE[n], APP_LANGUAGE[n]) for n, uid in enumerate(USERS)
        ]
        self.counter = itertools.count(1)
        self.trace: list[str] = []

    def teardown(self) -> None:
        try:
            self.runner.run(self.bot.stop())
        finally:
            self.runner.close()
            logging.getLogger().removeHandler(self.errors)
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ plumbing
    @property
    def store(self) -> Any:
        assert self.bot.store is not None
        return self.bot.store

    @property
    def service(self) -> Any:
        assert self.bot.app is not None
        return self.bot.app.bot_data.service

    def pseudonym(self, person: Person) -> str:
        return self.store.pseudonym(f"tg-user:{person.user_id}")

    def deliver(
        self, person: Person, update: dict[str, Any], action: Action
    ) -> tuple[list[BotMessage], list[str]]:
        before_msgs = {(m["chat_id"], m["message_id"]) for m in self.api.messages()}
        before_calls = len(self.api.sent)
        before_toasts = len(self.api.callback_answers)
        before_errors = len(self.errors.records)
        assert self.bot.app is not None
        person.last_seen = self.clock.now
        self.last_update = update
        self.last_update_at = self.clock.now
        self.runner.run(self.bot.deliver(update))
        messages = [
            m for m in self.api.messages() if (m["chat_id"], m["message_id"]) not in before_msgs
        ]
        toasts = [a.get("text") or "" for a in self.api.callback_answers[before_toasts:]]
        shown = " | ".join((m["text"] or m["caption"] or "")[:70] for m in messages)
        self.trace.append(
            f"P{person.index} {action.kind} {action.value[:60]!r} -> {shown} {toasts}"
        )
        problems = [
            f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.errors.records[before_errors:]
        ]
        errors = [p for p in problems if not p.startswith("WARNING")]
        assert not errors, f"error logged: {errors}"
        self.check_calls(self.api.sent[before_calls:])
        spoken = person.locale
        self.observe(person, action, messages, toasts)
        # The answer to a language button is in the language chosen; the answer to an
        # erasure in the language it was asked in (the choice goes with it).
        self.check_language(
            person.locale if action.value.startswith("l:") else spoken, messages, toasts
        )
        return messages, toasts

    def check_calls(self, calls: list[Any]) -> None:
        for call in calls:
            if not call.ok:
                assert call.method in ALLOWED_TO_FAIL, f"{call.method} refused ({call.status})"
            params = call.params
            for key, limit in (("text", 4096), ("caption", 1024)):
                value = params.get(key)
                if isinstance(value, str):
                    assert len(value.strip()) <= limit, f"{call.method} {key} of {len(value)}"
            if call.method == "answerCallbackQuery" and isinstance(params.get("text"), str):
                assert len(params["text"]) <= 200
            markup = params.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup
            rows = (markup or {}).get("inline_keyboard", [])
            assert sum(len(row) for row in rows) <= 100
            for row in rows:
                for button in row:
                    data = button.get("callback_data")
                    assert data is None or 1 <= len(data.encode()) <= 64, data

    def check_language(self, locale: str, messages: list[BotMessage], toasts: list[str]) -> None:
        texts = [m["text"] or m["caption"] or "" for m in messages] + toasts
        texts += [label for m in messages for row in m["buttons"] for label, _ in row]
        for text in texts:
            assert not PLACEHOLDER.search(text), f"unfilled placeholder in {text[:200]!r}"
            for en, de in CATALOG:
                if locale == "de":
                    assert en not in text, f"English in a German chat: {en!r} in {text[:300]!r}"
                else:
                    assert de not in text, f"German in an English chat: {de!r} in {text[:300]!r}"

    # ------------------------------------------------------------------ the model
    def observe(
        self, person: Person, action: Action, messages: list[BotMessage], toasts: list[str]
    ) -> None:
        """Update what `person` was told from the bot's answer to `action`."""
        everything = "\n".join([*(m["text"] or m["caption"] or "" for m in messages), *toasts])
        for m in messages:
            for row in m["buttons"]:
                for _, data in row:
                    if data:
                        person.buttons_seen.append((m["message_id"], data))
        pressed = action.value.split(":") if action.kind == "press" else []

        # Language: the reply to a language button is in the language chosen.
        if pressed and pressed[0] == "l" and len(pressed) == 2 and messages:
            if pressed[1] in ("de", "en"):
                person.locale, person.chose_language = pressed[1], True
                person.erased = False  # a language choice is stored
            elif pressed[1] == "app":
                person.locale, person.chose_language = person.app, False

        if says(everything, CONSENT_RECORDED):
            if pressed[:2] == ["c", "product"]:
                person.withdrawn_product = False
            else:
                person.withdrawn = False
            person.erased = False

        # Undo (a toast) of a text added to the comment.
        if pressed and pressed[0] == "a" and len(pressed) == 4 and pressed[3].startswith("u-"):
            told = person.tokens.get(pressed[1])
            if says(everything, TAKEN_OUT):
                assert told is not None and told.comment is not None, "undone what was never added"
                # That message taken out, also one added before others (they stay).
                joined = "".join(f"\n{a}" for a in told.additions.values())
                if told.skipped:  # the messages alone, without a first answer before them
                    assert told.comment == joined[1:], (told.comment, told.additions)
                else:
                    assert told.comment.endswith(joined), (told.comment, told.additions)
                added = told.additions.pop(pressed[3][2:], None)
                assert added is not None, "taken out: a text the person was never told was added"
                rest = "".join(f"\n{a}" for a in told.additions.values())
                if told.skipped:
                    told.comment = rest[1:] or None
                else:
                    told.comment = told.comment.removesuffix(joined) + rest
            elif says(everything, "Nothing to undo.") and told is not None and not told.unknown:
                still = told.additions.get(pressed[3][2:])
                assert not (
                    still
                    and told.step == "contact"
                    and told.comment
                    and ("\n" + still) in told.comment
                ), f"'Nothing to undo' while {still!r} is still in the answer\n" + "\n".join(
                    self.trace
                )

        # The Undo button's word typed ("Rückgängig"): the message added last taken out, as
        # the button takes it; with none added, the comment itself, its question asked
        # again (the model missed both, found when the search went on past a failure).
        typed = person.tokens.get(person.current or "") if action.kind == "text" else None
        if typed is not None and not typed.unknown:
            if says(everything, TAKEN_OUT) and typed.additions:
                last = next(reversed(typed.additions))
                joined = "".join(f"\n{a}" for a in typed.additions.values())
                typed.additions.pop(last)
                rest = "".join(f"\n{a}" for a in typed.additions.values())
                if typed.skipped:
                    typed.comment = rest[1:] or None
                elif typed.comment is not None:
                    typed.comment = typed.comment.removesuffix(joined) + rest
            elif says(everything, TAKEN_BACK) and typed.step == "contact":
                typed.step, typed.comment, typed.skipped = "comment", None, False
                typed.additions.clear()

        # A text added to the comment (said so, with an Undo button), or taken as the
        # comment skipped just before.
        for m in messages:
            taken = says(m["text"] or "", TAKEN_FOR_SKIPPED)
            if not taken and not says(m["text"] or "", ADDED):
                continue
            [(_, data)] = [b for row in m["buttons"] for b in row]
            _, token, step, undo = data.split(":")
            assert action.kind == "text"
            told = person.tokens.setdefault(token, Told("contact", unknown=True))
            if step != "comment":  # a product-flow text step: counted, not followed
                told.unknown = True
            addition = action.value.strip()
            if taken:
                assert told.unknown or (told.comment is None and not told.additions), told
                told.comment, told.skipped = addition, True
            else:
                told.comment = f"{told.comment}\n{addition}"
            told.additions[undo[2:]] = addition

        # The questions asked: the step each survey is at, and the answer just taken.
        questions = [
            (m, data.split(":"))
            for m in messages
            for row in m["buttons"]
            for _, data in row[:1]
            if data and data.startswith("a:") and ":u-" not in data
        ]
        for _, (_, token, step, _) in questions[-1:]:
            told = person.tokens.get(token)
            person.current = token
            if told is None:
                if step == "rating":
                    person.tokens[token] = Told("rating")
                elif step == "satisfaction":
                    person.tokens[token] = Told(step, unknown=True, flow="product")
                else:  # a language switch gives the survey under way a new token
                    older = [t for t in person.tokens.values() if t.step == step]
                    copied = Told(
                        step, unknown=True, flow="product" if step in PRODUCT_STEPS else "feedback"
                    )
                    if older:
                        last = older[-1]
                        copied = Told(
                            step,
                            last.rating,
                            last.comment,
                            dict(last.additions),
                            last.unknown,
                            last.flow,
                            last.skipped,
                        )
                    person.tokens[token] = copied
                continue
            if told.step == step or told.unknown:
                told.step = step
                continue
            if told.step == "rating" and step == "comment":
                if pressed:
                    assert pressed[1] == token and pressed[2] == "rating", pressed
                    told.rating = int(pressed[3])
                else:
                    assert action.kind == "text", action
                    told.rating = rating_meant(action.value)
                    assert told.rating is not None, f"{action.value!r} taken as a rating"
            elif told.step == "comment" and step == "contact":
                if pressed:
                    assert pressed[1:] == [token, "comment", "~skip"], pressed
                    told.comment = None
                else:
                    assert action.kind == "text", action
                    told.comment = None if skip_meant(action.value) else action.value.strip()
                told.additions.clear()
                told.skipped = False
            else:
                raise AssertionError(f"survey went from {told.step} to {step} on {action}")
            told.step = step

        if says(everything, THANKS):
            if pressed and pressed[0] == "a":
                token = pressed[1]
            else:
                token = person.current
            assert token is not None and token in person.tokens, action
            told = person.tokens[token]
            if not told.unknown:
                # the contact question answered by its button, or by a no typed at it
                # (found by CI: the model knew the buttons alone)
                typed_a_no = action.kind == "text" and typed_no(action.value)
                assert typed_a_no or (pressed and pressed[0] == "a" and pressed[2] == "contact"), (
                    action
                )
            contact = pressed[3] == "y" if pressed and pressed[2] == "contact" else None
            if not pressed and action.kind == "text" and typed_no(action.value):
                contact = False
            date = re.search(r"(?:am|on) ([^.\n]*\d{4})", everything)
            person.expected.append(
                Expected(
                    told.rating,
                    told.comment,
                    contact,
                    self.clock.now,
                    unknown=told.unknown,
                    flow=told.flow,
                    told_date=date[1] if date else "",
                )
            )
            told.step = "done"
            if contact:
                person.contact_withdrawn = False

        if says(everything, ERASED) or (pressed[:2] == ["d", "y"] and nothing_stored(everything)):
            person.expected.clear()
            person.tokens.clear()
            person.erased = True
            person.withdrawn = False
            if person.chose_language:
                person.locale, person.chose_language = person.app, False

        if pressed[:1] == ["w"] and messages:
            text = everything
            if action.value.startswith("w:feedback:") and withdrew(text):
                person.expected = [e for e in person.expected if e.flow != "feedback"]
                person.withdrawn = True
            if action.value.startswith("w:product_feedback:") and (withdrew(text)):
                person.expected = [e for e in person.expected if e.flow != "product"]
                person.withdrawn_product = True
            if action.value.startswith("w:contact:") and withdrew(text):
                for e in person.expected:
                    e.contact = None
                person.contact_withdrawn = True

    # ------------------------------------------------------------------ checks
    async def _stored(self, person: Person) -> dict[str, Any]:
        p = self.pseudonym(person)
        now = self.clock.now
        feedback, unreadable = await self.store.readable_feedback_of(p, now)
        return {
            "feedback": feedback,
            "unreadable": unreadable,
            "consents": await self.store.consents(p),
            "draft": await self.store.load_draft(p, now),
            "contact": await self.store.contact_of(p),
        }

    def stored(self, person: Person) -> dict[str, Any]:
        return self.runner.run(self._stored(person))

    def rows_of(self, person: Person) -> list[str]:
        p = self.pseudonym(person)
        found = []
        data = self.dir / "data"
        for name, tables in (
            (
                "feedback.db",
                (
                    "drafts",
                    "consents",
                    "feedback",
                    "contacts",
                    "deliveries",
                    "languages",
                    "alerts_due",
                ),
            ),
            ("keys.db", ("data_keys",)),
        ):
            with closing(sqlite3.connect(f"file:{data / name}?mode=ro", uri=True)) as db:
                for table in tables:
                    count = db.execute(
                        f'SELECT count(*) FROM "{table}" WHERE pseudonym = ?', (p,)
                    ).fetchone()[0]
                    if count:
                        found.append(f"{table}: {count}")
        return found

    @invariant()
    def store_matches_what_people_were_told(self) -> None:
        for person in self.people:
            stored = self.stored(person)
            assert stored["unreadable"] == 0
            now = self.clock.now
            expected = [e for e in person.expected if e.created + RETENTION > now]
            records = [r for r in stored["feedback"] if r.flow_id == "feedback"]
            got = sorted(
                ((r.answers.get("rating"), r.answers.get("comment")) for r in records), key=repr
            )
            mine = [e for e in expected if e.flow == "feedback"]
            want = sorted(((e.rating, e.comment) for e in mine if not e.unknown), key=repr)
            trace = "\n".join(self.trace)
            if not any(e.unknown for e in mine):
                assert got == want, f"P{person.index}: stored {got!r}, told {want!r}\n{trace}"
            else:
                assert len(got) == len(mine), f"P{person.index}: {got!r} vs {mine!r}\n{trace}"
            products = [r for r in stored["feedback"] if r.flow_id == "product"]
            told_products = [e for e in expected if e.flow == "product"]
            assert len(products) == len(told_products), (
                f"P{person.index}: {len(products)} product feedbacks stored, "
                f"thanked for {len(told_products)}\n{trace}"
            )
            for e in expected:
                if e.told_date:
                    t = translator(person.locale)
                    dates = {t.date(r.expires_at, "Europe/Berlin") for r in stored["feedback"]}
                    dates |= {
                        translator(o).date(r.expires_at, "Europe/Berlin")
                        for o in ("de", "en")
                        for r in stored["feedback"]
                    }
                    assert e.told_date in dates, (e.told_date, dates, trace)
            for e in mine:
                if e.contact is not None and not e.unknown:
                    match = [
                        r
                        for r in records
                        if (r.answers.get("rating"), r.answers.get("comment"))
                        == (e.rating, e.comment)
                    ]
                    assert any(("contact" in r.purposes) == e.contact for r in match), (
                        f"P{person.index}: contact {e.contact} not as told\n{trace}"
                    )
            # No feedback without a consent record in force for its required purpose.
            for record in stored["feedback"]:
                needed = "feedback" if record.flow_id == "feedback" else "product_feedback"
                consents = [
                    c
                    for c in stored["consents"]
                    if c.purpose == needed and c.granted_at <= record.created_at
                ]
                assert any(c.in_force for c in consents), (
                    f"P{person.index}: feedback without a consent in force\n"
                    + "\n".join(self.trace)
                )
            if person.contact_withdrawn:
                assert stored["contact"] is None, "told contact withdrawn, chat id kept"
            if any(e.contact for e in expected if not e.unknown):
                assert stored["contact"] == person.user_id, "agreed to contact, no chat id"
            if person.withdrawn_product:
                assert not [r for r in stored["feedback"] if r.flow_id == "product"]
            if person.withdrawn:
                assert not [r for r in stored["feedback"] if r.flow_id == "feedback"], (
                    "feedback stored after consent withdrawn"
                )
                assert not any(c.in_force for c in stored["consents"] if c.purpose == "feedback"), (
                    "told withdrawn, but in force"
                )
            if person.erased:
                assert not stored["feedback"] and not stored["consents"]
                assert stored["draft"] is None and stored["contact"] is None
                rows = self.rows_of(person)
                assert not rows, f"P{person.index} told erased, rows left: {rows}\n" + "\n".join(
                    self.trace
                )

    # ------------------------------------------------------------------ rules
    people_index = st.integers(0, 1)

    def text_update(self, person: Person, text: str) -> dict[str, Any]:
        update = self.api.user_message(person.user_id, text, **person.sender)
        if not text.startswith("/"):
            person.texts_sent.append(update["message"]["message_id"])
        return update

    def send(
        self, person: Person, text: str, kind: str = "text"
    ) -> tuple[list[BotMessage], list[str]]:
        return self.deliver(person, self.text_update(person, text), Action(kind, text))

    def press(
        self, person: Person, message_id: int, data: str
    ) -> tuple[list[BotMessage], list[str]]:
        update = self.api.callback_press(person.user_id, message_id, data, **person.sender)
        return self.deliver(person, update, Action("press", data))

    @initialize(n=st.integers(1, 2))
    def how_many(self, n: int) -> None:
        self.people = self.people[:n]

    def who(self, index: int) -> Person:
        return self.people[index % len(self.people)]

    @rule(
        p=people_index,
        variant=st.sampled_from(
            ["/start", "/start", "/start unbekannt", "/start product", "/start feedback"]
        ),
    )
    def start(self, p: int, variant: str) -> None:
        self.send(self.who(p), variant, "command")

    @rule(p=people_index, index=st.integers(0, 99), weight=st.integers(0, 3))
    def press_visible(self, p: int, index: int, weight: int) -> None:
        """A button in front of the person (the consent agree button and the answers most)."""
        person = self.who(p)
        shown = [
            (m["message_id"], data)
            for m in self.api.messages(person.user_id)[-3:]
            for row in m["buttons"]
            for _, data in row
            if data
        ]
        if not shown:
            self.send(person, "/start", "command")
            return
        if weight == 0:  # the last message's first button: moves the survey on
            last = [b for b in shown if b[0] == shown[-1][0]]
            message_id, data = last[0] if not index % 2 else last[index % len(last)]
        else:
            message_id, data = shown[index % len(shown)]
        self.press(person, message_id, data)

    def open_question(self, person: Person) -> tuple[int, list[str]] | None:
        """The last message with buttons that are still showing: (id, their data)."""
        for m in reversed(self.api.messages(person.user_id)[-4:]):
            data = [d for row in m["buttons"] for _, d in row if d]
            if data:
                return m["message_id"], data
        return None

    def step_forward(self, person: Person, choice: int, typed: bool) -> None:
        """What a cooperative person does next (what is open is read from the draft: it
        only steers what is done, never what is checked)."""
        draft = self.runner.run(self.store.load_draft(self.pseudonym(person), self.clock.now))
        found = self.open_question(person)
        if draft is None:
            if found is not None and found[1][0].split(":")[0] in ("c", "b"):
                message_id, data = found
                self.press(person, message_id, data[0] if choice % 5 else data[-1])
            else:
                self.send(person, ["/start", "/start product"][choice % 7 == 0], "command")
            return
        step, token = draft.payload["step_id"], draft.payload["token"]
        message_id = found[0] if found is not None else 1
        a = f"a:{token}:{step}"
        if step in ("rating", "satisfaction"):
            value = str(1 + choice % 5)
            if typed:
                self.send(person, [value, f"{value}/5", f" {value} "][choice % 3])
            else:
                self.press(person, message_id, f"{a}:{value}")
        elif step == "recommend":
            value = str(choice % 11)
            if typed:
                self.send(person, value)
            else:
                self.press(person, message_id, f"{a}:{value}")
        elif step in ("comment", "improve", "problem_details"):
            if choice % 4 == 0 and step != "improve":
                if typed:
                    self.send(person, ["Überspringen", "skip"][choice % 2])
                else:
                    self.press(person, message_id, f"{a}:~skip")
            elif choice % 9 == 1:
                self.send(person, f"{next(self.counter)} " + "lang " * 395)
            else:
                self.send(person, f"Kommentar {next(self.counter)}: alles in Ordnung")
        elif step in ("problems", "liked"):
            options = {
                "problems": ["bugs", "slow", "confusing"],
                "liked": ["easy", "fast", "features"],
            }[step]
            if choice % 3:
                self.press(person, message_id, f"{a}:{options[choice % 3]}")
            self.press(person, message_id, f"{a}:~done")
        elif step == "contact":
            self.press(person, message_id, f"{a}:{'yn'[choice % 2]}")
        else:
            self.send(person, "/start", "command")

    @rule(p=people_index, choice=st.integers(0, 99), typed=st.booleans())
    def progress(self, p: int, choice: int, typed: bool) -> None:
        self.step_forward(self.who(p), choice, typed)

    @rule(p=people_index, choice=st.integers(0, 99), typed=st.booleans())
    def progress_more(self, p: int, choice: int, typed: bool) -> None:
        self.step_forward(self.who(p), choice, typed)

    @rule(p=people_index, choices=st.lists(st.integers(0, 99), min_size=1, max_size=6))
    def give_feedback(self, p: int, choices: list[int]) -> None:
        for n, choice in enumerate(choices):
            self.step_forward(self.who(p), choice, n % 2 == 1)

    @rule(
        p=people_index,
        gaps=st.lists(st.sampled_from([0, 1, 5, 19, 25]), min_size=1, max_size=3),
        undo=st.lists(st.integers(0, 3), min_size=3, max_size=3),
        same=st.integers(0, 5),
    )
    def comment_in_parts(self, p: int, gaps: list[int], undo: list[int], same: int) -> None:
        """At the comment question: a comment, then more of it in quick messages (added,
        with an Undo button), some taken out again, an Undo pressed late."""
        person = self.who(p)
        found = self.open_question(person)
        if found is None or ":comment:" not in found[1][0]:
            return
        n = next(self.counter)
        self.send(person, f"Hallo, Teil {n}")
        undos: list[tuple[int, str]] = []
        for k, gap in enumerate(gaps):
            self.clock.advance(timedelta(seconds=gap))
            text = (
                f"Hallo, Teil {n}" if same == k else f"und dann noch etwas mehr dazu, Teil {n}.{k}"
            )
            messages, _ = self.send(person, text)
            for m in messages:
                undos += [
                    (m["message_id"], d) for row in m["buttons"] for _, d in row if d and ":u-" in d
                ]
            if undos and undo[k] == 0:
                self.press(person, *undos[-1])
            elif undos and undo[k] == 1:
                self.press(person, *undos[0])

    @rule()
    def redelivered(self) -> None:
        """Telegram delivers the last update again: nothing changes, nothing is said."""
        update = getattr(self, "last_update", None)
        # Telegram keeps an update for 24 hours at most: no redelivery after that.
        if update is None or self.clock.now - self.last_update_at > timedelta(hours=23):
            return
        user = (
            update.get("message")
            or update.get("callback_query")
            or update.get("edited_message")
            or {}
        ).get("from", {})
        person = next((q for q in self.people if q.user_id == user.get("id")), None)
        if person is None:
            return
        before = len(self.api.sent)
        self.runner.run(self.bot.deliver(update))
        self.trace.append(f"P{person.index} redelivered")
        assert not [c for c in self.api.sent[before:] if c.method.startswith("send")]

    @rule(p=people_index, index=st.integers(0, 999))
    def press_someone_elses(self, p: int, index: int) -> None:
        person, other = self.who(p), self.who(p + 1)
        if other is person or not other.buttons_seen:
            return
        _, data = other.buttons_seen[index % len(other.buttons_seen)]
        message_id = person.buttons_seen[-1][0] if person.buttons_seen else 1
        self.press(person, message_id, data)

    @rule(p=people_index, index=st.integers(0, 999))
    def press_old(self, p: int, index: int) -> None:
        person = self.who(p)
        if not person.buttons_seen:
            return
        message_id, data = person.buttons_seen[index % len(person.buttons_seen)]
        self.press(person, message_id, data)

    @rule(
        p=people_index,
        choice=st.integers(0, 12),
        junk=st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    )
    def press_forged(self, p: int, choice: int, junk: str) -> None:
        person = self.who(p)
        token = next(reversed(person.tokens), "0123abcd")
        forged = [
            f"a:{token}:rating:9",
            f"a:{token}:rating:4",
            f"a:{token}:comment:u-000000",
            f"a:{token}:comment:~skip",
            f"a:{token}:contact:x",
            f"a:{token}:thanks:1",
            "a:deadbeef:rating:3",
            "d:y:AAAAAAAA",
            "d:n",
            "w:bogus",
            "l:fr",
            f"b:feedback:{token}",
            junk or "x",
        ][choice]
        if len(forged.encode()) > 64:
            forged = forged.encode()[:64].decode(errors="ignore") or "x"
        message_id = person.buttons_seen[-1][0] if person.buttons_seen else 1
        self.press(person, message_id, forged)

    @rule(p=people_index, text=st.sampled_from(TEXT_POOL), unique=st.booleans())
    def type_text(self, p: int, text: str, unique: bool) -> None:
        if unique and len(text) < 100:
            text = f"Kommentar {next(self.counter)} zu {text}"
        self.send(self.who(p), text)

    @rule(p=people_index, gap=st.sampled_from([0, 1, 5, 19, 25]), same=st.booleans())
    def two_quick_texts(self, p: int, gap: int, same: bool) -> None:
        person = self.who(p)
        n = next(self.counter)
        self.send(person, f"Erster Teil {n}")
        self.clock.advance(timedelta(seconds=gap))
        second = f"Erster Teil {n}" if same else f"und dann noch etwas mehr dazu Nummer {n}"
        messages, _ = self.send(person, second)
        for m in messages:  # press Undo, sometimes right away
            undo = [d for row in m["buttons"] for label, d in row if d and ":u-" in d]
            if undo and n % 2:
                self.press(person, m["message_id"], undo[0])

    @rule(p=people_index, index=st.integers(0, 999), text=st.sampled_from(TEXT_POOL[:8]))
    def edit(self, p: int, index: int, text: str) -> None:
        person = self.who(p)
        if not person.texts_sent:
            return
        message_id = person.texts_sent[index % len(person.texts_sent)]
        update = self.api.edited_message(person.user_id, message_id, text, **person.sender)
        self.deliver(person, update, Action("edit", text))

    @rule(p=people_index)
    def sticker(self, p: int) -> None:
        person = self.who(p)
        update = self.api.user_sticker(person.user_id, **person.sender)
        self.deliver(person, update, Action("other", "sticker"))

    @rule(
        p=people_index,
        command=st.sampled_from(
            ["/hilfe", "/datenschutz", "/abbrechen", "/sprache", "/widerruf", "/loeschen"]
        ),
        english=st.booleans(),
    )
    def command(self, p: int, command: str, english: bool) -> None:
        names = {
            "/hilfe": "/help",
            "/datenschutz": "/privacy",
            "/abbrechen": "/cancel",
            "/sprache": "/language",
            "/widerruf": "/withdraw",
            "/loeschen": "/delete",
        }
        self.send(self.who(p), names[command] if english else command, "command")

    @rule(p=people_index, confirm=st.booleans())
    def erase(self, p: int, confirm: bool) -> None:
        person = self.who(p)
        messages, _ = self.send(person, "/loeschen", "command")
        buttons = [
            (m["message_id"], d) for m in messages for row in m["buttons"] for _, d in row if d
        ]
        wanted = [b for b in buttons if b[1].startswith("d:y:" if confirm else "d:n")]
        if wanted:
            self.press(person, *wanted[0])
            if confirm:
                answer, _ = self.send(person, "/meinedaten", "command")
                assert nothing_stored(answer[0]["text"] or ""), answer[0]["text"]

    @rule(p=people_index, purpose=st.sampled_from(["feedback", "contact", "product_feedback"]))
    def withdraw(self, p: int, purpose: str) -> None:
        person = self.who(p)
        messages, _ = self.send(person, "/widerruf", "command")
        buttons = [
            (m["message_id"], d) for m in messages for row in m["buttons"] for _, d in row if d
        ]
        wanted = [b for b in buttons if b[1].startswith(f"w:{purpose}:")]
        if wanted:
            self.press(person, *wanted[0])

    @rule(p=people_index)
    def my_data(self, p: int) -> None:
        person = self.who(p)
        messages, _ = self.send(person, "/meinedaten", "command")
        first = messages[0]["text"] or ""
        if "eine Minute" in first or "a minute" in first:
            return
        stored = self.stored(person)
        if nothing_stored(first):
            assert not stored["feedback"] and not stored["consents"] and stored["draft"] is None
            return
        [document] = [m["document"] for m in messages if m["document"]]
        export = json.loads(document["bytes"].decode())
        shown = sorted(
            tuple(sorted((a["step"], json.dumps(a["answer"])) for a in f["answers"]))
            for f in export["feedback"]
        )
        kept = sorted(
            tuple(sorted((k, json.dumps(v)) for k, v in r.answers.items()))
            for r in stored["feedback"]
        )
        assert shown == kept, (shown, kept)
        # The readable summary: every stored answer verbatim (PRIVACY.md A1).
        summary = [m["text"] or "" for m in messages if not m["document"]]
        for record in stored["feedback"]:
            for answer in record.answers.values():
                if isinstance(answer, str):
                    answer = answer.replace("\n", "\n    ")  # later lines under the arrow
                    assert answer in "\n".join(summary) or answer in "".join(summary), (
                        f"P{person.index}: {answer[:80]!r}... not verbatim in the summary"
                    )
        assert len(export["consents"]) == len(stored["consents"])
        assert len(export["unfinished_feedback"]) == (stored["draft"] is not None)
        if stored["draft"] is not None:
            [draft] = export["unfinished_feedback"]
            shown_draft = {a["step"]: a["answer"] for a in draft["answers"]}
            payload = stored["draft"].payload
            kept_draft = dict(payload["answers"])
            if payload.get("selected"):  # the options ticked so far are shown too
                kept_draft[payload["step_id"]] = payload["selected"]
            for consent in payload.get("consents", []):
                kept_draft[
                    "contact"
                    if consent["purpose"] == "contact"
                    else f"consent:{consent['purpose']}"
                ] = "y" if consent["granted"] else "n"
            assert shown_draft == kept_draft, (shown_draft, kept_draft)

    @rule(
        delta=st.sampled_from(
            [
                timedelta(seconds=3),
                timedelta(seconds=25),
                timedelta(minutes=31),
                timedelta(days=1),
                timedelta(minutes=20),
                RETENTION - timedelta(minutes=10),
                timedelta(days=181),
            ]
        )
    )
    def time_passes(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.trace.append(f"clock +{delta}")
        if delta > RETENTION:
            for person in self.people:
                if person.chose_language:  # not used for longer than it is kept
                    person.locale, person.chose_language = person.app, False

    @rule()
    def purge(self) -> None:
        before = len(self.errors.records)
        self.runner.run(purge_expired(self.service))
        self.trace.append("purge")
        assert not [r for r in self.errors.records[before:] if r.levelno >= logging.ERROR]
        for person in self.people:
            if person.last_seen is not None and self.clock.now - person.last_seen > RETENTION:
                rows = self.rows_of(person)
                assert not rows, f"P{person.index}: left after retention: {rows}\n" + "\n".join(
                    self.trace
                )


def run(examples: int, seed: int | None) -> None:
    options: dict[str, Any] = {
        "max_examples": examples,
        "stateful_step_count": 30,
        "deadline": None,
        "database": None,
        "suppress_health_check": list(HealthCheck),
        "derandomize": seed is None,
    }
    machine = Conversation
    if seed is not None:
        from hypothesis import seed as with_seed

        machine = with_seed(seed)(Conversation)  # type: ignore[assignment]
    run_state_machine_as_test(machine, settings=settings(**options))


def test_conversation_model() -> None:
    seed = os.environ.get("STATEFUL_SEED")
    examples = os.environ.get("STATEFUL_EXAMPLES")
    run(int(examples) if examples else 300 if FULL else 40, int(seed) if seed else None)
