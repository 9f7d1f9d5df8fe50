"""The consent notice: its text in each language, its version, and the proof of what was shown."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Literal

from babel.lists import format_list

from flows.i18n import SUPPORTED_LOCALES, Translator, translator
from flows.models import (
    ChoiceStep,
    ConsentStep,
    FlowDefinition,
    MultipleChoiceStep,
    RatingStep,
    TextStep,
    ThanksStep,
    render_text,
)
from flows.processing import (
    STAFF_CHAT_ALERTS,
    Controller,
    Processing,
    Recipient,
    RecipientRole,
)
from storage.interface import ConsentText

CONSENT_METHOD = "telegram:inline-button"


def consent_notice(flow: FlowDefinition, t: Translator, processing: Processing) -> str:
    """The exact text a person agrees to before the first question.

    Purposes, retention and controller come from `processing`, as in the privacy notice.
    """
    described = processing.flow(flow.id)
    controller = processing.controller
    lines = [
        render_text(flow.intro, t),
        "",
        t.gettext("Before the first question we need your consent:"),
    ]
    for purpose in described.required_purposes:
        lines.append(
            t.gettext("• Purpose: {purpose}.").format(purpose=render_text(purpose.description, t))
        )
    lines.append(
        t.gettext(
            "• Your answers are stored encrypted. Retention period: {retention}; "
            "after that they are deleted automatically."
        ).format(retention=t.duration(described.retention))
    )
    internal = [
        render_text(r.name, t) for r in processing.recipients if r.role is RecipientRole.INTERNAL
    ]
    if internal:
        lines.append(
            t.gettext("• Your feedback also goes to our own system: {systems}.").format(
                systems=", ".join(internal)
            )
        )
    if STAFF_CHAT_ALERTS in processing.recipients and any(
        isinstance(step, RatingStep) for step in flow.steps
    ):
        # The survey's consent is what a low-rating alert rests on: said where it is
        # given, not only in /privacy (found by a DPO review). An alert shows the options
        # chosen too: said where there are any (a later DPO review; a survey without
        # choices keeps its text, and so its version).
        if any(isinstance(s, ChoiceStep | MultipleChoiceStep) for s in flow.evaluated_steps):
            shown = t.gettext(
                "• With a low rating, our staff see this feedback on its own in their Telegram "
                "chat: your ratings, the options you chose and your comments, with e-mail "
                "addresses, phone numbers and the like removed; the bot adds no name or "
                "account."
            )
        else:
            shown = t.gettext(
                "• With a low rating, our staff see this feedback on its own in their Telegram "
                "chat: your ratings and comments, with e-mail addresses, phone numbers and the "
                "like removed; the bot adds no name or account."
            )
        lines.append(shown)
    lines.append(
        t.gettext("• Responsible: {name}, {contact}.").format(
            name=controller.name, contact=controller.contact
        )
    )
    if controller.dpo:
        lines.append(t.gettext("• Data protection officer: {dpo}.").format(dpo=controller.dpo))
    lines.append(
        t.gettext(
            "• Taking part is voluntary. At any time you can see your data with /mydata, "
            "withdraw your consent with /withdraw and erase everything with /delete. "
            "Details: /privacy"
        )
    )
    lines += ["", t.gettext("Do you agree?")]
    return "\n".join(lines)


def optional_consent_text(
    flow: FlowDefinition,
    step: ConsentStep,
    t: Translator,
    retention: timedelta,
    recipients: Sequence[Recipient] = (),
) -> str:
    """The exact text shown when a flow asks for an optional purpose.

    `retention` is how long the flow's feedback is kept; `recipients` are those the
    notices name (`Processing.recipients`). A purpose that passes feedback on names each
    of its recipients, what it receives and by when it deletes it; one to be contacted
    says what is stored for it and until when (both found by a DPO review: a swapped
    recipient changed neither the text nor its hash). With alerts on, a feedback given
    with a consent to be contacted is posted to the staff chat to be answered: said here
    too (found by review).
    """
    purpose = flow.purpose(step.purpose)
    lines = [
        render_text(step.prompt, t),
        t.gettext("Purpose: {purpose}.").format(purpose=render_text(purpose.description, t)),
    ]
    if purpose.stores_contact:
        lines.append(
            t.gettext(
                "If you agree, we store the ID of this chat (in a private chat, your Telegram "
                "user ID) and your Telegram app's language, so that we can write to you here in "
                "your language. Both are deleted when you withdraw this consent, and at the "
                "latest with this feedback, which is kept for {retention}."
            ).format(retention=t.duration(retention))
        )
        if STAFF_CHAT_ALERTS in recipients:
            lines.append(
                t.gettext(
                    "Our staff then see this feedback in their Telegram chat (the bot adds no "
                    "name or account, and removes e-mail addresses, phone numbers and the like "
                    "from what you wrote) and can answer you here. If you withdraw, they can no "
                    "longer answer, and the feedback is removed from their chat unless it is "
                    "there for a low rating."
                )
            )
    if purpose.shares_feedback:
        for recipient in recipients:
            if recipient.purpose == purpose.id:
                lines += _passed_on(flow, recipient, t, retention)
    lines.append(t.gettext("You can withdraw this consent at any time with /withdraw."))
    return "\n".join(lines)


# A question is named by its text, shortened where it is long: the message stays readable
# with several recipients and questions.
_QUESTION_SHOWN = 80


def _passed_on(
    flow: FlowDefinition, recipient: Recipient, t: Translator, retention: timedelta
) -> list[str]:
    """What `recipient` gets of a feedback of `flow` with this consent, and by when it is
    to delete it: the `delete_by` its copy carries (see flows.sharing.feedback_payload)."""
    name = render_text(recipient.name, t)
    questions = [
        step
        for step in flow.steps
        if step.id in recipient.fields and not isinstance(step, ConsentStep | ThanksStep)
    ]
    data = []
    if questions:
        quoted = [
            t.gettext("“{question}”").format(question=_short(render_text(s.prompt, t)))
            for s in questions
        ]
        data.append(
            t.ngettext(
                "your answer to {questions}", "your answers to {questions}", len(questions)
            ).format(questions=format_list(quoted, locale=t.locale))
        )
    if "flow" in recipient.fields:
        data.append(t.gettext("the name of the survey"))
    if "given_at" in recipient.fields:
        data.append(t.gettext("when you gave your feedback"))
    # The reference number goes always: a deletion notice names the feedback by it.
    if data:
        received = t.gettext(
            "If you agree, {recipient} receives {data}, together with a reference number for "
            "the feedback."
        ).format(recipient=name, data=format_list(data, locale=t.locale))
    else:
        received = t.gettext(
            "If you agree, {recipient} receives a reference number for the feedback, none of "
            "your answers."
        ).format(recipient=name)
    lines = [received]
    if recipient.redact and any(isinstance(s, TextStep) for s in questions):
        lines.append(
            t.gettext(
                "E-mail addresses, phone numbers and the like are removed from what you wrote "
                "before it is passed on."
            )
        )
    lines.append(
        t.gettext(
            "{recipient} is to delete them by the day we delete your feedback (it is kept for "
            "{retention}), and sooner if you withdraw this consent or erase your data."
        ).format(recipient=name, retention=t.duration(retention))
    )
    return lines


def _short(question: str) -> str:
    words = " ".join(question.split())
    if len(words) <= _QUESTION_SHOWN:
        return words
    return words[: _QUESTION_SHOWN - 1].rsplit(" ", 1)[0] + "…"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _texts_shown(flow: FlowDefinition, processing: Processing) -> Iterator[ConsentText]:
    """Every consent text of the flow a person can be shown, in every language, in the
    order its notice version digests them (with a placeholder version)."""
    required = tuple(purpose.id for purpose in flow.required_purposes)
    retention = processing.retention_of(flow.id)
    for locale in SUPPORTED_LOCALES:
        t = translator(locale)
        shown: list[tuple[Literal["notice", "optional"], tuple[str, ...], str]]
        shown = [("notice", required, consent_notice(flow, t, processing))]
        shown += [
            (
                "optional",
                (step.purpose,),
                optional_consent_text(flow, step, t, retention, processing.recipients),
            )
            for step in flow.steps
            if isinstance(step, ConsentStep)
        ]
        for kind, purposes, text in shown:
            yield ConsentText(
                sha256=sha256_hex(text),
                flow_id=flow.id,
                notice_version="",
                language=locale,
                kind=kind,
                purposes=purposes,
                text=text,
            )


def notice_version(flow: FlowDefinition, processing: Processing) -> str:
    """A short fingerprint of every consent text of the flow in every language.

    Any change of wording, controller, retention or of a recipient a consent question
    names (its name, what it receives) changes it, and people whose consent was given to
    an older version are asked again.
    """
    return _version_of(list(_texts_shown(flow, processing)))


def _version_of(texts: list[ConsentText]) -> str:
    digest = hashlib.sha256()
    for shown in texts:
        digest.update(shown.text.encode())
    return digest.hexdigest()[:12]


def consent_texts(flow: FlowDefinition, processing: Processing) -> list[ConsentText]:
    """Every consent text of the flow a person can be shown, in every language, with the
    flow's notice version: what the archive of consent texts keeps, so that the SHA-256
    in a consent record can be shown as the wording it stands for."""
    texts = list(_texts_shown(flow, processing))
    version = _version_of(texts)
    return [text.model_copy(update={"notice_version": version}) for text in texts]


__all__ = [
    "CONSENT_METHOD",
    "Controller",
    "consent_notice",
    "consent_texts",
    "notice_version",
    "optional_consent_text",
    "sha256_hex",
]
