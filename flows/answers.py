"""Staff answering a customer who agreed to be contacted about their feedback.

The consent to be contacted keeps the person's chat id (encrypted); this is what uses
it. An alert about a feedback given with that consent ends with the feedback's
reference (the start of its random id) and how to answer: `/antworten <text>` (`/reply`)
in reply to the alert, or `/antworten <reference> <text>` anywhere staff commands work.
Always a command: a plain reply to an alert is staff talking among themselves ("I'll
take this one") and must never reach the customer. The bot passes the text on in the
person's chat; staff never see who the person is, and the person's answer stays with
them (they are told whom to write to). Nothing of the answer is stored: the audit trail
keeps that a member of staff answered a feedback of a survey, and when.

An answer goes only to feedback that is still stored and was given with the consent,
while that consent is in force and the chat id kept: a withdrawal, an erasure or the
feedback's expiry ends it, and staff are told no more than that it cannot be answered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flows.catalog import FlowCatalog
from flows.i18n import N_, SUPPORTED_LOCALES, Translator, translator
from flows.models import FlowDefinition, render_text
from flows.replies import Outcome, Reply
from storage.interface import (
    AuditEntry,
    FeedbackRecord,
    NewFeedback,
    PeriodFeedback,
    StorageFull,
    Store,
    StoreError,
)

log = logging.getLogger("flows.answers")

ANSWER_EVENT = "answer"
ANSWERED_KEPT = 10_000
"""How many feedbacks' counts of answers are kept in memory (see AnswerDesk._answered)."""
REFERENCE_LENGTH = 10
"""Hex digits of the feedback id an alert shows: 40 bits, so two unexpired feedbacks
share a reference about once in a million at a million feedbacks (then neither is
answered, and staff are told so)."""
MAX_ANSWER = 3500
"""Characters of an answer: with the bot's words around it, one Telegram message (and no
longer than that allows with the controller's name and contact: checked as well)."""
MESSAGE_LIMIT = 4096
"""Telegram's limit on a message's text: an answer is never split, so that it either
arrives or not (a half-delivered one would be reported as not sent)."""
NO_LONGER = "no longer answerable: "
"""The detail of a second audit entry where the customer could no longer be answered when
the answer was to be sent (withdrawn, erased, expired meanwhile): then the survey's id."""
NOT_CHECKED = "not sent, not checked: "
"""The detail of a second audit entry where the store failed when the consent was to be
checked again before sending: then the survey's id."""
NOT_DELIVERED = "not delivered: "
"""The detail of a second audit entry where Telegram refused an answer: then the survey's id."""
MAY_HAVE_ARRIVED = "may have arrived: "
"""The detail of the audit entry of a message to staff or a customer (an alert, an
answer) where Telegram did not answer in time: then the survey's id."""

_REFERENCE = re.compile(rf"[0-9a-f]{{{REFERENCE_LENGTH}}}")
_ALERT_LINE = N_(
    "The customer agreed to be contacted about this feedback: answer with /reply and your "
    "text in reply to this message, or with /reply {reference} and your text."
)
_SENT = N_("Your answer to {reference} was sent to the customer.")
_CANNOT = N_(
    "That feedback cannot be answered: it has been deleted or has expired, or its author "
    "did not agree to be contacted or withdrew that consent, or the reference is mistyped "
    "(it is the last line of the alert). Nothing was sent."
)
"""A mistyped reference is said alike (found by review: it read as if the customer were out
of reach); an unknown and an erased reference must look the same."""
_LOOKS_LIKE = re.compile(r"[0-9a-f]{8,12}")
"""A reference, mistyped perhaps (a digit too many or too few): with a letter, or all
ten digits (a house number or a date is no reference)."""
_LOOKED_AT = 3
_AROUND = "#:.,;!?()[]{}<>\"'„“”‚‘’«»"
_WORD = re.compile(r"\s*(\S*)\s*(.*)", re.DOTALL)


async def answered_in(store: Store, pseudonym: str, now: datetime) -> str | None:
    """The language an answer from staff reaches the person in: the one chosen with
    /sprache while it is stored, else that of the conversation in which they agreed to be
    contacted (an English speaker got German: language review); one the bot does not
    speak, or a row that does not open, counts as none (found by review: the alert named
    another language than the answer came in). None: the default language. The alert
    names it to staff (bot.alerts)."""
    try:
        choice = await store.language_of(pseudonym, now)
    except StoreError:
        choice = None
    if choice is not None and choice.locale in SUPPORTED_LOCALES:
        return choice.locale
    try:
        kept = await store.contact_language_of(pseudonym)
    except StoreError:
        return None
    return kept if kept in SUPPORTED_LOCALES else None


def reference_of(record: FeedbackRecord) -> str:
    return record.id[:REFERENCE_LENGTH]


def answerable(record: NewFeedback, flow: FlowDefinition) -> bool:
    """Whether the feedback was given with a consent that keeps the chat id."""
    purposes = {p.id: p for p in flow.purposes}
    return any(p in purposes and purposes[p].stores_contact for p in record.purposes)


def alert_line(t: Translator, record: FeedbackRecord, flow: FlowDefinition) -> str | None:
    """The alert's last line for a feedback that can be answered, else None."""
    if not answerable(record, flow):
        return None
    return t.gettext(_ALERT_LINE).format(reference=reference_of(record))


def reference_in(alert: str | None) -> str | None:
    """The reference of the feedback an alert (a message the bot sent) is about: from its
    last line, which must be the bot's own sentence. The comment the alert quotes is the
    customer's text, and one that says "/reply 3f9a1c20b7" must not direct the answer to
    another feedback (a comment is one line, never the last). Also of the bot's word that
    an answer was sent, the whole message (found by a staff review: a second answer in
    reply to it was refused as if the customer had withdrawn their consent)."""
    last = (alert or "").rstrip().rpartition("\n")[2]
    for pattern in _alert_lines():
        found = pattern.fullmatch(last)
        if found:
            return found.group(1)
    for pattern in _sent_lines():
        found = pattern.fullmatch((alert or "").strip())
        if found:
            return found.group(1)
    return None


@cache
def _sent_lines() -> tuple[re.Pattern[str], ...]:
    """The bot's word that an answer was sent, with what it may add, in every language."""
    patterns = []
    for locale in SUPPORTED_LOCALES:
        t = translator(locale)
        before, _, after = t.gettext(_SENT).partition("{reference}")
        added = "|".join(
            re.escape(_answered_before(t, count)).replace(r"\{count\}", r"\d+")
            # the plural forms of German and English, and two ("twice"); a "2 times" sent
            # before it was said so matches the plural form
            for count in (1, 2, 5)
        )
        reference = f"({_REFERENCE.pattern})"
        patterns.append(
            re.compile(re.escape(before) + reference + re.escape(after) + f"(?: (?:{added}))?")
        )
    return tuple(patterns)


def _answered_before(t: Translator, count: int) -> str:
    if count == 2:  # English and German have no plural form of their own for two
        return t.gettext("This feedback had been answered twice before.")
    return t.ngettext(
        "This feedback had been answered once before.",
        "This feedback had been answered {count} times before.",
        count,
    )


@cache
def _alert_lines() -> tuple[re.Pattern[str], ...]:
    """The alert's last line in every language, the reference in it to be found."""
    patterns = []
    for locale in SUPPORTED_LOCALES:
        before, _, after = translator(locale).gettext(_ALERT_LINE).partition("{reference}")
        patterns.append(
            re.compile(re.escape(before) + f"({_REFERENCE.pattern})" + re.escape(after))
        )
    return tuple(patterns)


def command_parts(text: str, quoted: str | None = None) -> tuple[str, str, str | None]:
    """`/antworten 3f9a1c20b7 Hello…` as ("3f9a1c20b7", "Hello…", "3f9a1c20b7"): the
    reference, the answer with its line breaks (the command's arguments, split at spaces,
    would lose them), and the reference typed, if one was. In reply to an alert (`quoted`:
    its reference) the answer is all after the command, less a reference typed as well."""
    rest = _first_word(text)[1]
    first, after = _first_word(rest)
    token = first.strip(_AROUND).lower()  # "3F9A1C20B7:" as well
    typed = token if _REFERENCE.fullmatch(token) else None
    if quoted is not None:
        return quoted, (after if typed is not None else rest).strip(), typed
    return typed or first.lower(), after.strip(), typed


def other_reference(command: str, quoted: str) -> str | None:
    """What looks like another reference than the alert's (`quoted`) among the first
    words of an answer in reply to it: "Y: …", "#Y …", "Kennung Y …", X with a typo.
    Which feedback was meant? Either way the answer would go to the alert's customer
    naming another one (found by review)."""
    words = _first_word(command)[1].split(maxsplit=_LOOKED_AT)[:_LOOKED_AT]
    for word in words:
        token = word.strip(_AROUND).lower()
        if token != quoted and _LOOKS_LIKE.fullmatch(token):
            if len(token) == REFERENCE_LENGTH or not token.isdigit():
                return token
    return None


def _mistyped(first: str) -> str | None:
    """The first word of an answer, if it looks like a reference with a character too many
    or too few ("3f9a1c20b", "3f9a1c20b7a"): told so, rather than the general usage (found
    by a staff walk-through). A number that is no reference (an order's) is not one."""
    token = first.strip(_AROUND).lower()
    if _REFERENCE.fullmatch(token) or not _LOOKS_LIKE.fullmatch(token) or token.isdigit():
        return None
    return token


def _no_answer(t: Translator, reference: str | None) -> str:
    """A reference (or a reply to the alert) and no answer to pass on: said so (it was the
    general usage, found by a staff walk-through)."""
    if reference is None:
        return t.gettext(
            "Your answer is missing, so nothing was sent: write it after the command, in reply "
            "to the alert, for example: /reply Thank you, we have refunded the order."
        )
    return t.gettext(
        "Your answer is missing, so nothing was sent: write it after the reference, for "
        "example: /reply {reference} Thank you, we have refunded the order."
    ).format(reference=reference)


def _first_word(text: str) -> tuple[str, str]:
    found = _WORD.fullmatch(text)
    return (found.group(1), found.group(2)) if found else ("", "")


def _head(t: Translator) -> str:
    return t.gettext("Message from {controller} about your feedback of {date} (“{survey}”):")


def _foot(t: Translator) -> str:
    return t.gettext(
        "You agreed to be contacted in this chat about your feedback. This message "
        "cannot be answered here: please write to {contact}. /withdraw withdraws the "
        "consent."
    )


def from_staff(text: str, controller: str, contacts: Iterable[str]) -> bool:
    """Whether `text` is (a part of) an answer from staff as the customer's chat shows it,
    in any language, its note naming one of `contacts`: a message the customer replied
    to with Telegram's reply."""
    for locale in SUPPORTED_LOCALES:
        t = translator(locale)
        opening = _head(t).split("{date}")[0].format(controller=controller)
        if text.startswith(opening) or any(
            text.endswith(_foot(t).format(contact=contact)) for contact in contacts
        ):
            return True
    return False


@dataclass(frozen=True)
class CustomerMessage:
    """An answer ready for the transport to send to the customer's chat."""

    chat_id: int
    reply: Reply
    flow_id: str
    actor: str
    locale: str
    """The staff member's language, for what they are told afterwards."""
    reference: str
    pseudonym: str = ""
    """The customer's, whose open question is asked again under the answer."""


@dataclass(frozen=True)
class AnswerSettings:
    controller: str = ""
    write_to: str = ""
    """Whom the customer writes to (FEEDBACKBOT_SUPPORT_CONTACT, else the controller's
    contact): answers in the chat do not reach staff."""
    default_locale: str = "de"
    """The customer's language when they did not choose one with /sprache."""
    timezone: str = "Europe/Berlin"


class AnswerDesk:
    def __init__(
        self,
        store: Store,
        catalog: FlowCatalog,
        settings: AnswerSettings,
        clock: Callable[[], datetime],
        rules_gate: Callable[[str, str], Awaitable[Outcome | None]],
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.settings = settings
        self.clock = clock
        self._rules_gate = rules_gate
        self._answered: dict[str, int] = {}
        """How often each feedback was answered since the start (in memory, bounded): told
        to staff with each answer, so that two of them do not answer one customer unawares
        (found by a staff review: four answers went out, nothing showed it)."""

    async def prepare(
        self, actor: str, locale: str, command: str, quoted: str | None = None
    ) -> Outcome | CustomerMessage:
        """What to send to whom, or what to tell the member of staff instead. `command` is
        the message as typed; `quoted`, the bot's message it replies to (an alert)."""
        t = translator(locale)
        in_alert = reference_in(quoted) if quoted is not None else None
        reference, text, _ = command_parts(command, in_alert)
        typed = other_reference(command, in_alert) if in_alert is not None else None
        if in_alert is not None and typed is not None:
            # Which did they mean? Either way the text names another feedback than the
            # one it would go to.
            return Outcome.say(
                t.gettext(
                    "You answered the alert about the feedback with the reference {alert}, but "
                    "your answer begins with {typed}, which looks like another reference. "
                    "Nothing was sent: answer in reply to the right alert, or write the "
                    "reference without replying to an alert (a number that is no reference "
                    "can stand further on in the answer)."
                ).format(alert=in_alert, typed=typed)
            )
        if not _REFERENCE.fullmatch(reference) and quoted is not None:
            return Outcome.say(
                t.gettext(
                    "That message names no feedback that can be answered: only an alert about "
                    "feedback whose author agreed to be contacted ends with a reference, and "
                    "it is taken off the alert once they withdraw that consent or their "
                    "feedback is deleted (an alert with a very long comment comes in two "
                    "messages: answer the second). Nothing was sent."
                )
            )
        if not text and (in_alert is not None or _REFERENCE.fullmatch(reference)):
            return Outcome.say(_no_answer(t, None if in_alert is not None else reference))
        mistyped = _mistyped(reference)
        if mistyped is not None:
            return Outcome.say(
                t.gettext(
                    "{typed} is not a reference: a reference has 10 characters, digits and "
                    "the letters a to f, and is found in the last line of the alert. Nothing "
                    "was sent."
                ).format(typed=mistyped)
            )
        if not _REFERENCE.fullmatch(reference) or not text:
            return Outcome.say(
                t.gettext(
                    "Write /reply and your answer in reply to the alert, or /reply, the "
                    "reference from the alert and your answer, for example: /reply 3f9a1c20b7 "
                    "Thank you, we have refunded the order."
                )
            )
        if len(text) > MAX_ANSWER:
            return self._too_long(t, MAX_ANSWER, len(text))
        gate = await self._rules_gate(actor, locale)
        if gate is not None:
            return gate
        now = self.clock()
        found = await self.store.feedback_by_reference(reference, now)
        target = found[0] if len(found) == 1 else None
        flow = self.catalog.flows.get(target.flow_id) if target is not None else None
        chat_id = await self._reachable(target, flow)
        if target is None or flow is None or chat_id is None:
            return Outcome.say(t.gettext(_CANNOT))
        # The room the bot's words leave, in whichever language takes most: the limit
        # told must not depend on the customer's language (it would give it away).
        room = MESSAGE_LIMIT - max(
            len(self._compose(translator(other), target, flow, "").text)
            for other in SUPPORTED_LOCALES
        )
        if len(text) > room:  # a long controller name or contact, say
            return self._too_long(t, room, len(text))
        reply = await self._message(target, flow, text, now)
        message = CustomerMessage(
            chat_id=chat_id,
            reply=reply,
            flow_id=target.flow_id,
            actor=actor,
            locale=locale,
            reference=reference,
            pseudonym=target.pseudonym,
        )
        # In the audit trail before it is sent: an answer that cannot be accounted for
        # (a full disk) is not sent at all.
        try:
            await self._audit(actor, target.flow_id)
        except StorageFull:
            return Outcome.say(
                t.gettext(
                    "Your answer could not be recorded in the audit trail (the disk is "
                    "full), so it was not sent. Please try again later."
                )
            )
        return message

    @staticmethod
    def edit_not_passed_on(locale: str) -> Outcome:
        """Said to a member of staff who edited an /antworten already sent: Telegram tells
        the bot of the edit, but a message in the customer's chat stays as it was sent."""
        t = translator(locale)
        return Outcome.say(
            t.gettext(
                "Edits are not passed on: the customer keeps the answer as first sent (if it "
                "was sent; see my reply to it). To correct it, send a new /reply."
            )
        )

    @staticmethod
    def borrowed_not_passed_on(locale: str) -> Outcome:
        """Said to a member of staff whose /antworten was forwarded or came through an
        inline bot: not their own act of answering (see bot.handlers.staff)."""
        t = translator(locale)
        return Outcome.say(
            t.gettext(
                "Nothing was sent to the customer: a /reply that is forwarded or sent through "
                "another bot is not passed on (it may be someone else's words, or an answer "
                "sent before). To answer, send /reply yourself."
            )
        )

    @staticmethod
    def attachment_not_passed_on(locale: str) -> Outcome:
        """Said to a member of staff whose /antworten is the caption of a photo or a file
        (see bot.handlers.staff): an answer is text alone."""
        t = translator(locale)
        return Outcome.say(
            t.gettext(
                "Nothing was sent to the customer: I pass on text only, not photos, files or "
                "other attachments. To answer, send /reply with your answer as text."
            )
        )

    @staticmethod
    def _too_long(t: Translator, limit: int, length: int) -> Outcome:
        return Outcome.say(
            t.gettext(
                "That answer is too long: at most {limit} characters (it has {length}). "
                "Nothing was sent."
            ).format(limit=t.number(max(0, limit)), length=t.number(length))
        )

    async def still_reachable(self, message: CustomerMessage) -> bool:
        """Checked again before every attempt to send: a withdrawal, an erasure or the
        feedback's expiry while the answer waits (Telegram's flood control can hold it for
        a minute) stops it."""
        found = await self.store.feedback_by_reference(message.reference, self.clock())
        target = found[0] if len(found) == 1 else None
        flow = self.catalog.flows.get(target.flow_id) if target is not None else None
        return await self._reachable(target, flow) == message.chat_id

    async def _reachable(
        self, target: PeriodFeedback | None, flow: FlowDefinition | None
    ) -> int | None:
        """The chat id, while the feedback's consent to be contacted is in force."""
        if target is None or flow is None or not answerable(target, flow):
            return None
        contact = {p.id for p in flow.purposes if p.stores_contact}
        if not contact & set(target.purposes) & target.consents_in_force:
            return None
        return await self.store.contact_of(target.pseudonym)

    async def _message(
        self, target: PeriodFeedback, flow: FlowDefinition, text: str, now: datetime
    ) -> Reply:
        locale = await answered_in(self.store, target.pseudonym, now)
        return self._compose(translator(locale or self.settings.default_locale), target, flow, text)

    def _compose(
        self, t: Translator, target: PeriodFeedback, flow: FlowDefinition, text: str
    ) -> Reply:
        return Reply(
            "\n\n".join(
                (
                    _head(t).format(
                        controller=self.settings.controller,
                        date=t.date(target.created_at, self.settings.timezone),
                        survey=render_text(flow.title, t),
                    ),
                    text,
                    _foot(t).format(contact=self.settings.write_to),
                )
            )
        )

    async def sent(
        self,
        message: CustomerMessage,
        delivered: bool,
        uncertain: bool,
        stopped: bool = False,
        unchecked: bool = False,
    ) -> Outcome:
        """What became of an answer (audited as sent before it was): what to tell staff.
        `stopped`: the customer could no longer be answered when it was to be sent;
        `unchecked`: whether they could, could not be found out (the store failed)."""
        t = translator(message.locale)
        if not delivered:
            outcome = (
                MAY_HAVE_ARRIVED
                if uncertain
                else NOT_CHECKED
                if unchecked
                else NO_LONGER
                if stopped
                else NOT_DELIVERED
            )
            try:
                await self._audit(message.actor, outcome + message.flow_id)
            except StoreError as error:
                log.error("answer's outcome not audited: %s", type(error).__name__)
        if delivered:
            before = self._answered.pop(message.reference, 0)
            self._answered[message.reference] = before + 1
            if len(self._answered) > ANSWERED_KEPT:
                del self._answered[next(iter(self._answered))]
            # The reference names the alert in a chat of several (staff review).
            said = t.gettext(_SENT)
            if before:
                said += " " + _answered_before(t, before)
            return Outcome.say(said.format(reference=message.reference, count=before))
        if unchecked and not uncertain:
            return Outcome.say(
                t.gettext(
                    "Your answer could not be checked against the customer's consent just now, "
                    "so it was not sent. Please try again later."
                )
            )
        if stopped and not uncertain:
            return Outcome.say(t.gettext(_CANNOT))
        if uncertain:
            return Outcome.say(
                t.gettext(
                    "Telegram did not confirm the answer in time: it may have arrived. "
                    "Send it again only if it matters more than a duplicate."
                )
            )
        return Outcome.say(
            t.gettext(
                "Your answer could not be delivered: the customer may have blocked the bot, "
                "or Telegram refused it. Nothing was sent."
            )
        )

    async def _audit(self, actor: str, detail: str) -> None:
        await self.store.record_audit(
            AuditEntry(event=ANSWER_EVENT, at=self.clock(), actor=actor, detail=detail, records=1)
        )
        log.info("staff access: %s", ANSWER_EVENT)
