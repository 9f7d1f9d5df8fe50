"""The record of processing activities (Art. 30(1) GDPR) as Markdown, in one language.

Everything in it comes from `flows.processing`, the source of what the bot tells people.
"""

from __future__ import annotations

from flows.i18n import N_, Translator
from flows.models import render_text
from flows.privacy import markdown_blocks
from flows.privacy import markdown_escape as md
from flows.processing import (
    CATEGORY_NAMES,
    TELEGRAM,
    DataSubject,
    LegalBasis,
    Measure,
    ProcessedFlow,
    ProcessedPurpose,
    ProcessingRecord,
)

LEGAL_BASIS_NAMES = {LegalBasis.CONSENT: N_("consent (Art. 6(1)(a) GDPR)")}


def processing_record(t: Translator, record: ProcessingRecord) -> str:
    """Points (a) to (g) of Art. 30(1), then what the controller still has to decide."""
    blocks = [
        "# " + t.gettext("Record of processing activities (Art. 30(1) GDPR)"),
        t.gettext(
            "Processing activity: customer feedback through a Telegram bot (feedbackbot). "
            "Generated from the configuration and the flow definitions by "
            "`feedbackbot docs processing-record`; generate it again whenever either changes."
        ),
    ]
    for heading, lines in (
        (t.gettext("(a) Controller and data protection officer"), _controller(t, record)),
        (t.gettext("(b) Purposes of the processing"), _purposes(t, record)),
        (
            t.gettext("(c) Categories of data subjects and of personal data"),
            _categories(t, record),
        ),
        (t.gettext("(d) Recipients"), _recipients(t, record)),
        (
            t.gettext("(e) Transfers to third countries or international organisations"),
            _transfers(t, record),
        ),
        (t.gettext("(f) Time limits for erasure"), _time_limits(t, record)),
        (
            t.gettext("(g) Technical and organisational measures (Art. 32(1) GDPR)"),
            [f"• {_measure(t, m)}" for m in record.measures],
        ),
        (t.gettext("Open points for the controller"), _open_points(t, record)),
    ):
        blocks.append(f"## {heading}")
        blocks += markdown_blocks(lines)
    return "\n\n".join(blocks) + "\n"


def _controller(t: Translator, record: ProcessingRecord) -> list[str]:
    controller = record.processing.controller
    lines = [
        "• "
        + t.gettext("Controller: {name}, {contact}").format(
            name=md(controller.name), contact=md(controller.contact)
        )
    ]
    if controller.dpo:
        dpo = t.gettext("Data protection officer: {dpo}").format(dpo=md(controller.dpo))
    else:
        dpo = t.gettext(
            "Data protection officer: none named (`FEEDBACKBOT_DPO_CONTACT` is not set)"
        )
    return [*lines, f"• {dpo}"]


def _purposes(t: Translator, record: ProcessingRecord) -> list[str]:
    processing = record.processing
    lines = []
    for purpose in processing.purposes:
        flows = _flow_names(t, processing.flows_with(purpose.id))
        if purpose.required:
            basis = t.gettext("Legal basis: {basis}, asked before the first question of {flows}.")
        else:
            basis = t.gettext("Legal basis: {basis}, optional, asked during {flows}.")
        description = md(render_text(purpose.description, t).rstrip("."))
        lines.append(
            f"• {_purpose_name(t, purpose)}: {description}. "
            + basis.format(basis=t.gettext(LEGAL_BASIS_NAMES[purpose.legal_basis]), flows=flows)
        )
    lines.append(
        "• "
        + t.gettext(
            "“Language choice” (`language`): the bot writes to a person in the language they "
            "chose with /language. Legal basis: legitimate interest (Art. 6(1)(f) GDPR) in "
            "communicating, at the person's request, in the language they chose; independent "
            "of any consent."
        )
    )
    lines.append(  # as /privacy names it (found by a DPO's review: no basis named)
        "• "
        + t.gettext(
            "“Proof and erasure notes”: the records of consents, kept as proof, and a note of "
            "each erasure and withdrawal, so that it is carried out again should the data be "
            "restored from a backup. Legal basis: legal obligation (Art. 6(1)(c) GDPR with "
            "Art. 7(1), 17 GDPR)."
        )
    )
    if processing.consent_proof_retention is not None:
        lines.append(
            "• "
            + t.gettext(
                "“Proof of consent after erasure”: to what, when and how a person agreed, kept "
                "for {period} after their consent records went (erased, or deleted with the "
                "last of their data), to be able to show that they agreed should it be "
                "disputed. Legal basis: legal obligation (Art. 6(1)(c) GDPR with Art. 7(1) "
                "GDPR); erasure does not reach it (Art. 17(3)(e) GDPR); see the open points."
            ).format(period=t.duration(processing.consent_proof_retention))
        )
    return lines


def _categories(t: Translator, record: ProcessingRecord) -> list[str]:
    lines = ["### " + t.gettext("Data subjects")]
    if DataSubject.CUSTOMERS in record.subjects:
        lines.append(
            "• " + t.gettext("Customers who write to the bot: give feedback or choose a language.")
        )
    if DataSubject.STAFF in record.subjects:
        lines.append(
            "• "
            + t.gettext(
                "Staff members allowed the staff commands (currently {count}, "
                "`FEEDBACKBOT_STAFF_IDS`)."
            ).format(count=record.operations.staff_members)
        )
    lines.append("### " + t.gettext("Personal data"))
    for purpose in record.processing.purposes:
        data = "; ".join(t.gettext(CATEGORY_NAMES[c]) for c in purpose.data)
        lines.append(
            "• "
            + t.gettext("For {purpose}: {data}.").format(
                purpose=_purpose_name(t, purpose), data=data
            )
        )
    if DataSubject.STAFF in record.subjects:
        lines.append(
            "• "
            + t.gettext(
                "Of staff members: their Telegram user id (`FEEDBACKBOT_STAFF_IDS`), for "
                "access control, and, encrypted, in the audit trail of their access."
            )
        )
    lines.append(
        "• "
        + t.gettext(
            "For answering in the language a customer chose with /language (legal basis: "
            "Art. 6(1)(f) GDPR, legitimate interest, at the customer's request): that "
            "language, encrypted."
        )
    )
    lines.append(
        t.gettext(
            "Not stored: the Telegram name and username of customers, the language their "
            "Telegram app reports (except with unfinished answers, until they are deleted, and "
            "as the language of the consent request a consent record proves) and "
            "their user id unless they agree to be contacted (then the chat id, encrypted, "
            "which in a private chat is the user id, and that language, to answer in), and "
            "anything a person types before consenting but a language chosen with /language."
        )
    )
    return lines


def _recipients(t: Translator, record: ProcessingRecord) -> list[str]:
    # A configured name is escaped; a description is the catalog's own Markdown (its
    # `FEEDBACKBOT_...` code spans showed escaped, found by an operator audit).
    return [
        f"• **{md(render_text(r.name, t))}**: {render_text(r.description, t)}"
        for r in record.processing.recipients
    ]


def _transfers(t: Translator, record: ProcessingRecord) -> list[str]:
    return [
        f"• **{md(render_text(r.name, t))}**: {md(render_text(r.transfer, t))}"
        for r in record.processing.recipients
    ]


def _time_limits(t: Translator, record: ProcessingRecord) -> list[str]:
    processing = record.processing
    lines = []
    for flow in processing.flows:
        if flow.retention == processing.retention:
            text = t.gettext(
                "Feedback in {flow}: deleted {retention} after it is given "
                "(`FEEDBACKBOT_RETENTION`)."
            )
        else:
            text = t.gettext(
                "Feedback in {flow}: deleted {retention} after it is given (the retention "
                "set for its purpose in the flow definition)."
            )
        lines.append(
            "• " + text.format(flow=_flow_names(t, (flow,)), retention=t.duration(flow.retention))
        )
    lines += [
        "• "
        + t.gettext(
            "Feedback is also deleted at once when the person erases their data or withdraws "
            "the consent it was given under (/withdraw)."
        ),
        "• "
        + t.gettext(
            "Unfinished answers are set aside after {idle} without activity and deleted at "
            "the next automatic purge."
        ).format(idle=t.duration(processing.draft_idle)),
        "• "
        + t.gettext(
            "Contact chat id: deleted when the consent to be contacted is withdrawn, and at "
            "the latest with the feedback it was given with."
        ),
        "• "
        + t.gettext(
            "Language chosen with /language: deleted {retention} after the person last "
            "uses their chat with the bot (`FEEDBACKBOT_RETENTION`; the date is moved on at "
            "most daily, so it may come up to a day sooner), or at once when the person goes "
            "back to their Telegram app's language."
        ).format(retention=t.duration(processing.retention)),
        "• "
        + t.gettext(
            "Consent records: kept as proof while feedback, unfinished answers or a contact "
            "chat id of the person are stored; deleted by the purge once none is left and the "
            "last consent is more than a day old."
        ),
        *(
            ()
            if processing.consent_proof_retention is None
            else (
                "• "
                + t.gettext(
                    "Proof of consent after erasure: when the consent records go (/delete, "
                    "or the purge once nothing else of the person is left), purpose, notice "
                    "version, SHA-256 of the text, method and times of each are kept in the "
                    "erasure ledger, encrypted under its key and not the person's, for "
                    "{period} (`FEEDBACKBOT_CONSENT_PROOF_RETENTION`, to the first of the next "
                    "month); /mydata shows them, the purge then deletes them."
                ).format(period=t.duration(processing.consent_proof_retention)),
            )
        ),
        "• "
        + t.gettext(
            "On request (/delete): everything about the person at once; their keys are "
            "destroyed first. An encrypted note of the erasure or withdrawal (the data keys "
            "or consents it concerns, no content) stays in the erasure ledger until the "
            "person's data would have expired, at least a year, to carry it out again after a "
            "restore."
        ),
        "• "
        + t.gettext(
            "Expired data is removed by a purge at start and every {interval}; it is never "
            "shown or counted after its deletion date."
        ).format(interval=t.duration(record.operations.purge_interval)),
        "• "
        + t.gettext(
            "Audit trail (staff access, alerts, exports, deliveries to recipients, erasures, "
            "withdrawals that erased feedback): each "
            "entry is deleted {period} after it was made (`FEEDBACKBOT_AUDIT_RETENTION`)."
        ).format(period=t.duration(record.operations.audit_retention)),
        "• "
        + (
            t.gettext(
                "Statistics (counts of ratings and choices per day and flow, without texts or "
                "pseudonyms): an erasure or a withdrawal takes the person's feedback out of "
                "them; the counts of expired feedback are kept without a time limit (see the "
                "open points)."
            )
            if record.processing.statistics_retention is None
            else t.gettext(
                "Statistics (counts of ratings and choices per day and flow, without texts or "
                "pseudonyms): an erasure or a withdrawal takes the person's feedback out of "
                "them; each day's counts are deleted {period} after that day "
                "(`FEEDBACKBOT_STATISTICS_RETENTION`), or as long after it as the survey's "
                "feedback is kept, where that is longer (of a survey no longer loaded, the "
                "longest a survey may keep it)."
            ).format(period=t.duration(record.processing.statistics_retention))
        ),
    ]
    return lines


def _measure(t: Translator, measure: Measure) -> str:
    values = {
        name: value if isinstance(value, int) else t.duration(value)
        for name, value in measure.values
    }
    return t.gettext(measure.text).format(**values)


def _open_points(t: Translator, record: ProcessingRecord) -> list[str]:
    lines = [
        "• "
        + t.gettext(
            "Name and location of the hosting provider, and the data processing agreement "
            "with it (Art. 28(3) GDPR)."
        ),
        "• "
        + (
            t.gettext(
                "How Telegram's role is described (FEEDBACKBOT_TELEGRAM_ROLE: messenger, "
                "controller or joint), and whether messages passing through Telegram's "
                "servers are a transfer to a third country."
            )
            if TELEGRAM in record.processing.recipients
            else t.gettext(
                "Whether messages passing through Telegram's servers are a transfer to a "
                "third country (Telegram's role is described as chosen with "
                "FEEDBACKBOT_TELEGRAM_ROLE, see Recipients)."
            )
        ),
    ]
    if not record.processing.controller.dpo:
        lines.append(
            "• " + t.gettext("Whether a data protection officer must be named (Art. 37 GDPR).")
        )
    if DataSubject.STAFF in record.subjects:
        lines.append(
            "• "
            + t.gettext(
                "The legal basis for keeping staff members' Telegram user ids for access control."
            )
        )
    lines.append(
        "• "
        + (
            t.gettext(
                "Whether proof of consent is to be kept after erasure "
                "(FEEDBACKBOT_CONSENT_PROOF_RETENTION; not set, /delete erases the consent "
                "records with everything else)."
            )
            if record.processing.consent_proof_retention is None
            else t.gettext(
                "Whether keeping proof of consent for {period} after erasure "
                "(FEEDBACKBOT_CONSENT_PROOF_RETENTION) is needed to show consent and to defend "
                "legal claims (Art. 7(1), 17(3)(e) GDPR), on which legal basis (the notices "
                "name Art. 6(1)(c) with Art. 7(1) GDPR; with Art. 6(1)(f) GDPR, the interest "
                "is to be named and objection offered, Art. 13(1)(d), 21 GDPR), and whether the "
                "period is no longer than that needs."
            ).format(period=t.duration(record.processing.consent_proof_retention))
        )
    )
    lines.append(
        "• "
        + t.gettext(
            "The balancing of interests for storing a language chosen with /language "
            "(Art. 6(1)(f) GDPR)."
        )
    )
    lines.append(
        "• "
        + (
            t.gettext(
                "How long the statistics are kept (Art. 5(1)(e) GDPR; "
                "FEEDBACKBOT_STATISTICS_RETENTION), and whether days with few feedbacks are "
                "to be combined: whoever knows that a person gave the only feedback of a day "
                "learns their answers from that day's counts."
            )
            if record.processing.statistics_retention is None
            else t.gettext(
                "Whether days with few feedbacks are to be combined in the statistics: "
                "whoever knows that a person gave the only feedback of a day learns their "
                "answers from that day's counts, until they are deleted."
            )
        )
    )
    lines.append(
        "• "
        + t.gettext(
            "How long backups are kept (Art. 5(1)(e) GDPR): a data backup shows, in clear, "
            "when people since erased gave feedback and consent and in which survey, and "
            "holds the statistics of its day; a key store backup opens their encrypted "
            "data until it is deleted."
        )
    )
    return lines


def _purpose_name(t: Translator, purpose: ProcessedPurpose) -> str:
    return _quoted(t, render_text(purpose.name, t), purpose.id)


def _flow_names(t: Translator, flows: tuple[ProcessedFlow, ...]) -> str:
    return ", ".join(_quoted(t, render_text(f.title, t), f.id) for f in flows)


def _quoted(t: Translator, name: str, ident: str) -> str:
    """A name in the language's quotation marks, with the id the configuration uses."""
    return t.gettext("“{name}”").format(name=md(name)) + f" (`{ident}`)"
