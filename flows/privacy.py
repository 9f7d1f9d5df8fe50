"""The privacy notice (Art. 12, 13 GDPR): /datenschutz in the chat, and the same for a website.

Purposes, data, retention and recipients come from `flows.processing`, the source the
consent notice and the processing record read too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from flows.i18n import Translator
from flows.models import render_text
from flows.processing import LegalBasis, Processing, purposes_of

Escape = Callable[[str], str]


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True)
class Section:
    """A part of the notice; a heading of None continues without one."""

    heading: str | None
    lines: tuple[str, ...]


def recipient_notices(t: Translator, processing: Processing) -> list[str]:
    """Who receives data, one sentence each, as the person reads it."""
    return [render_text(recipient.notice, t) for recipient in processing.recipients]


def contact_kept(t: Translator, language: bool = True) -> str:
    """How long the chat to write to is kept: in the notice and beside it in /mydata
    (without a `language` kept with it: stores before it kept the chat alone)."""
    if not language:
        return t.gettext(
            "The chat to write to is deleted when you withdraw your consent to being "
            "contacted, and at the latest with the feedback you gave that consent with."
        )
    return t.gettext(
        "The chat to write to, and the language to write in, are deleted when you "
        "withdraw your consent to being contacted, and at the latest with the feedback "
        "you gave that consent with."
    )


def consents_kept(t: Translator) -> str:
    """How long consent records are kept: in the notice and beside them in /mydata."""
    return t.gettext(
        "The records of your consents are kept as proof (Art. 7(1) GDPR) as long as any "
        "feedback, unfinished answers or a chat to write to of yours are stored; then "
        "the next automatic purge deletes them, at the earliest a day after your last "
        "consent."
    )


def proof_kept(t: Translator, period: timedelta) -> str:
    """How long proof of consent is kept after the person's data went
    (FEEDBACKBOT_CONSENT_PROOF_RETENTION): in the notice, and in /mydata beside the
    consents."""
    return t.gettext(
        "When you erase your data with /delete, or when the records of your consents are "
        "deleted automatically together with the last of your data, proof of your consents "
        "(to what, when and how you agreed; none of your answers) is kept from then on for "
        "{period}, until the first of the following month, encrypted under a key of ours and "
        "not yours, to show that you agreed (Art. 7(1), 17(3)(e) GDPR); then it is deleted. "
        "/mydata shows it."
    ).format(period=t.duration(period))


def erasure_notes_kept(t: Translator) -> str:
    """How long the erasure ledger keeps its note: in the notice, and in /mydata beside a
    consent withdrawn (found by a DPO's review: /mydata did not mention it)."""
    return t.gettext(
        "After an erasure, a withdrawal or an objection to storing your language choice, "
        "an encrypted note that it took place (none of your answers) is kept until your "
        "data would have expired anyway, and at least a year, so that it is carried out "
        "again should our data be restored from a backup."
    )


def retention_text(t: Translator, processing: Processing, escape: Escape = _as_is) -> str:
    """The retention of feedback, with any flow that keeps it for a different time."""
    lines = [
        t.gettext("Feedback is deleted automatically after {retention}.").format(
            retention=t.duration(processing.retention)
        )
    ]
    for flow in processing.flows:
        if flow.retention != processing.retention:
            lines.append(
                t.gettext(
                    "Feedback in “{flow}” is deleted automatically after {retention}."
                ).format(
                    flow=escape(render_text(flow.title, t)), retention=t.duration(flow.retention)
                )
            )
    return " ".join(lines)


def notice_sections(
    t: Translator, processing: Processing, escape: Escape = _as_is
) -> tuple[str, tuple[Section, ...]]:
    """The notice's title and sections in the person's language.

    `escape` is applied to every configured value (names, contacts, flow texts), so that a
    Markdown rendering cannot be broken by them.
    """
    controller = processing.controller
    responsible = [f"{escape(controller.name)}, {escape(controller.contact)}"]
    if controller.dpo:
        responsible.append(
            t.gettext("Data protection officer: {dpo}").format(dpo=escape(controller.dpo))
        )
    purposes = [
        t.gettext("• {purpose}: only with your consent (Art. 6(1)(a) GDPR).").format(
            purpose=escape(render_text(purpose.description, t))
        )
        for purpose in processing.purposes
        if purpose.legal_basis is LegalBasis.CONSENT
    ]
    # Each purpose's legal basis (Art. 13(1)(c)), also of what the bot keeps to prove
    # consent and to carry erasure out again (found by a DPO's review: no basis named).
    purposes.append(
        t.gettext(
            "• Keeping proof of your consents, and a note of each erasure or withdrawal so "
            "that it holds should our data be restored from a backup: to meet our "
            "obligations under the GDPR (Art. 6(1)(c) with Art. 7(1), 17 GDPR)."
        )
    )
    if processing.consent_proof_retention is not None:
        purposes.append(
            t.gettext(
                "• Keeping proof of your consents after your data is erased or deleted, for "
                "{period} (to the first of the following month): to be able to show that you "
                "agreed, should it be disputed (Art. 6(1)(c) with Art. 7(1) GDPR; erasure does "
                "not reach it, Art. 17(3)(e) GDPR)."
            ).format(period=t.duration(processing.consent_proof_retention))
        )
    purposes.append(
        t.gettext(
            "We store your answers, the consents you gave and, only if you agree to be "
            "contacted, the chat in which we may write to you (in a private chat its ID is "
            "your Telegram user ID). Your Telegram name and username are not stored, nor "
            "your user ID otherwise: you are identified by a pseudonym (a code computed from "
            "your Telegram user ID with a secret key of ours). Your answers, the details of "
            "your consents, the chat to write to and a language you chose are encrypted with "
            "a key of your "
            "own. Stored unencrypted under the pseudonym are only times (given, agreed, "
            "withdrawn, deleted on, language chosen), the survey, the purpose of a consent, "
            "whether a chat to write to is stored, to which recipients a feedback was passed "
            "and when, and which message in our staff chat is about it (so that the bot can "
            "replace it with a note when the feedback goes)."
        )
    )
    purposes.append(
        t.gettext(
            "If you choose a language with /language (also before agreeing to anything), we "
            "store that choice, encrypted in the same way, so that the bot writes to you in "
            "that language (Art. 6(1)(f) GDPR: our legitimate interest in answering in the "
            "language you asked for). Without a choice the bot follows the language your "
            "Telegram app reports, which is stored only with unfinished answers (until they "
            "are deleted), as the language of the consent request your consent records prove "
            "you agreed to, and as the language to write to you in when you agree to be "
            "contacted."
        )
    )
    # Who reads it within (found by a customer walk-through: "Wer liest mein Feedback?" was
    # pointed to the notice, which named only the host and Telegram)
    purposes.append(
        t.gettext(
            "Our staff read your answers, one by one and in summaries, to improve what we "
            "offer: without your name, Telegram user ID or pseudonym. Names, phone numbers and "
            "similar details in a comment are replaced by placeholders where they are "
            "recognised; a comment may still tell them who wrote it. Figures in summaries are "
            "shown only for groups of several people."
        )
    )
    keeping = (
        retention_text(t, processing, escape),
        t.gettext(
            "Unfinished answers are set aside after {idle} without activity and deleted at "
            "the next automatic purge."
        ).format(idle=t.duration(processing.draft_idle)),
        t.gettext(
            "A language you chose is deleted {retention} after you last use the chat with the "
            "bot, or at once when you choose “Like my Telegram app”."
        ).format(retention=t.duration(processing.retention)),
        contact_kept(t),
        consents_kept(t),
        *(
            ()
            if processing.consent_proof_retention is None
            else (proof_kept(t, processing.consent_proof_retention),)
        ),
        (
            t.gettext(
                "Counts without any text or pseudonym (how many ratings of each kind a survey "
                "got on a day) are kept after the feedback is deleted; /delete and /withdraw "
                "take your feedback out of them."
            )
            if processing.statistics_retention is None
            else t.gettext(
                "Counts without any text or pseudonym (how many ratings of each kind a survey "
                "got on a day) are kept after the feedback is deleted, for {period} after "
                "their day (for as long as its feedback, where a survey keeps that longer), "
                "then deleted; /delete and /withdraw take your feedback out of them."
            ).format(period=t.duration(processing.statistics_retention))
        ),
        erasure_notes_kept(t),
        # (found by a DPO's review: only the reply to /delete named backups)
        t.gettext(
            "Our backups may still hold your data for a while. What you erase with /delete, "
            "and feedback that is withdrawn or expires, can no longer be decrypted there once "
            "the briefly kept older backups of our keys have been deleted; times, surveys and "
            "purposes stored unencrypted stay in a backup until it is deleted, and so, while "
            "you have other data with us, does a contact chat or a language choice you "
            "withdrew. Should a backup be restored, whatever was erased, withdrawn or has "
            "expired since is deleted again."
        ),
    )
    rights = (
        t.gettext("• Access and a copy of your data (Art. 15, 20 GDPR): /mydata"),
        t.gettext("• Erasure of all your data (Art. 17 GDPR): /delete"),
        t.gettext(
            "• Objection to storing your language choice (Art. 21 GDPR), at any time: "
            "/language → “Like my Telegram app” deletes it at once"
        ),
        t.gettext(
            "• Withdrawal of a consent at any time, without affecting the lawfulness of what "
            "was done before (Art. 7(3) GDPR): /withdraw; the feedback given under it is "
            "then erased"
        ),
        t.gettext(
            "• Rectification (Art. 16 GDPR): erase your feedback with /delete and give it "
            "again, or write to {contact}"
        ).format(contact=escape(controller.contact)),
        t.gettext(
            "• Restriction of processing (Art. 18 GDPR) and objection (Art. 21 GDPR): "
            "write to {contact}"
        ).format(contact=escape(controller.contact)),
        t.gettext(
            "• You may lodge a complaint with a data protection supervisory authority "
            "(Art. 77 GDPR)."
        ),
    )
    voluntary = t.gettext(
        "Giving feedback is voluntary; not giving it has no consequences for you. "
        "There is no automated decision-making or profiling."
    )
    sections = (
        Section(t.gettext("Who is responsible"), tuple(responsible)),
        Section(t.gettext("What we process and why"), tuple(purposes)),
        Section(t.gettext("How long we keep it"), keeping),
        Section(
            t.gettext("Who receives data"),
            tuple(f"• {escape(notice)}" for notice in recipient_notices(t, processing)),
        ),
        Section(t.gettext("Your rights"), rights),
        Section(None, (voluntary,)),
    )
    return t.gettext("Privacy notice"), sections


def privacy_notice(t: Translator, processing: Processing) -> str:
    """The full notice as /datenschutz shows it, in the person's language."""
    title, sections = notice_sections(t, processing)
    lines = [title]
    for section in sections:
        lines.append("")
        if section.heading is not None:
            lines.append(section.heading)
        lines += section.lines
    return "\n".join(lines)


def privacy_notice_markdown(t: Translator, processing: Processing) -> str:
    """The same notice as Markdown, for the controller's website."""
    title, sections = notice_sections(t, processing, escape=markdown_escape)
    blocks = [
        f"# {title}",
        t.gettext(
            "Our feedback bot in Telegram shows this notice when you send it /privacy. "
            "The commands named below work in the chat with the bot."
        ),
    ]
    for section in sections:
        if section.heading is not None:
            blocks.append(f"## {section.heading}")
        blocks += markdown_blocks(section.lines)
    return "\n\n".join(blocks) + "\n"


def markdown_blocks(lines: Sequence[str]) -> list[str]:
    """Bulleted lines ("• ...") become one Markdown list; any other line its own paragraph."""
    blocks: list[str] = []
    items: list[str] = []
    for line in lines:
        if line.startswith("• "):
            items.append("- " + line.removeprefix("• "))
            continue
        if items:
            blocks.append("\n".join(items))
            items = []
        blocks.append(line)
    if items:
        blocks.append("\n".join(items))
    return blocks


_MARKDOWN_SPECIAL = "\\`*_[]<>|#"


def markdown_escape(text: str) -> str:
    """A configured value as literal Markdown text (also inside a table cell)."""
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in text)


__all__ = [
    "Section",
    "consents_kept",
    "contact_kept",
    "markdown_escape",
    "notice_sections",
    "privacy_notice",
    "privacy_notice_markdown",
    "proof_kept",
    "purposes_of",
    "recipient_notices",
    "retention_text",
]
