"""What the bot processes, described once.

The consent notice, the privacy notice (/datenschutz and the website), the data copy and
the record of processing activities (Art. 30 GDPR) all read this description, so they
cannot disagree. It is derived from the configured values and the flow definitions; its
texts are catalog message ids, translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flows.catalog import FlowCatalog
from flows.i18n import N_, SUPPORTED_LOCALES, translator
from flows.models import ConsentStep, FlowDefinition, Purpose, Text, ThanksStep


@dataclass(frozen=True)
class Controller:
    """Who is responsible for the processing (Art. 13(1)(a), (b))."""

    name: str
    contact: str
    dpo: str | None = None


class LegalBasis(StrEnum):
    CONSENT = "consent"


class DataCategory(StrEnum):
    """A kind of personal data the bot stores about a customer."""

    PSEUDONYM = "pseudonym"
    CONSENT_RECORDS = "consent_records"
    RATINGS = "ratings"
    CHOICES = "choices"
    FREE_TEXT = "free_text"
    OTHER_ANSWERS = "other_answers"
    CONTACT_CHAT = "contact_chat"


CATEGORY_NAMES: dict[DataCategory, str] = {
    DataCategory.PSEUDONYM: N_(
        "a pseudonym computed from the Telegram user ID with a secret key, and the dates on "
        "which each feedback was given and will be deleted"
    ),
    DataCategory.CONSENT_RECORDS: N_(
        "consent records: purpose, notice version, SHA-256 of the text shown, time and method"
    ),
    DataCategory.RATINGS: N_("ratings"),
    DataCategory.CHOICES: N_("choices among given options"),
    DataCategory.FREE_TEXT: N_(
        "free-text comments, which may contain whatever the person chooses to write"
    ),
    DataCategory.OTHER_ANSWERS: N_("other answers to the questions of the flow"),
    DataCategory.CONTACT_CHAT: N_(
        "the chat id in which the person may be contacted, and the language to write in"
    ),
}

# The data a step of each type collects; consent and thanks steps collect no answer.
_STEP_CATEGORIES = {
    "rating": DataCategory.RATINGS,
    "choice": DataCategory.CHOICES,
    "multiple_choice": DataCategory.CHOICES,
    "text": DataCategory.FREE_TEXT,
}


class RecipientRole(StrEnum):
    PROCESSOR = "processor"
    MESSENGER = "messenger"
    INTERNAL = "internal"
    THIRD_PARTY = "third_party"
    STAFF = "staff"


@dataclass(frozen=True)
class Recipient:
    """Someone personal data is disclosed to (Art. 13(1)(e), 30(1)(d)).

    `notice` is the sentence the person reads; `description` and `transfer` are what the
    processing record says about the recipient and about transfers to third countries.
    """

    id: str
    name: Text
    role: RecipientRole
    notice: Text
    description: Text
    transfer: Text
    purpose: str | None = None
    """For a configured recipient of the recipients file: the optional purpose it receives
    feedback under (None for an internal one), what it receives (`fields`, answers by
    step id) and whether free text is redacted first: what that purpose's consent
    question tells (DPO review: it named neither the recipient nor what it gets)."""
    fields: tuple[str, ...] = ()
    redact: bool = True


HOSTING = Recipient(
    id="hosting",
    name=N_("Hosting provider"),
    role=RecipientRole.PROCESSOR,
    notice=N_("the hosting provider that runs this bot on our behalf (processor, Art. 28 GDPR)"),
    description=N_(
        "Processor (Art. 28 GDPR): runs the bot and keeps its encrypted data files on the "
        "controller's behalf, under a data processing agreement."
    ),
    transfer=N_(
        "None, as long as the hosting provider processes the data within the EU/EEA; the "
        "controller must confirm where it does."
    ),
)
TELEGRAM = Recipient(
    id="telegram",
    name=N_("Telegram"),
    role=RecipientRole.MESSENGER,
    notice=N_(
        "Telegram, the messenger you use: your messages pass through Telegram's servers, "
        "which may be outside the EU/EEA (a third country). Chats with bots are not "
        "end-to-end encrypted, and your own chat history is outside our control; you can "
        "delete it in Telegram."
    ),
    description=N_(
        "The messenger the conversation runs on: every message passes through Telegram's "
        "servers, and chats with bots are not end-to-end encrypted. How Telegram's own role "
        "is described is for the controller to decide."
    ),
    transfer=N_(
        "Telegram's servers may be outside the EU/EEA. Where Telegram processes messages is "
        "outside the controller's control; each deployment must assess whether this is a "
        "transfer to a third country and on what basis. This software makes no claim "
        "about it."
    ),
)
# Telegram's own role as a deployment describes it (FEEDBACKBOT_TELEGRAM_ROLE; an open
# point of PRIVACY.md, found by a DPO's review not to be configurable): the messenger
# alone, its role left to the controller (TELEGRAM, the default); a controller in its own
# right; or jointly responsible with the controller (Art. 26 GDPR). Named in the notices
# and the record, not in a consent request: changing it asks nobody to agree again.
TELEGRAM_AS_CONTROLLER = Recipient(
    id="telegram",
    name=N_("Telegram"),
    role=RecipientRole.MESSENGER,
    notice=N_(
        "Telegram, the messenger you use, which is responsible for its own processing of "
        "your messages, under its own privacy policy: your messages pass through "
        "Telegram's servers, which may be outside the EU/EEA (a third country). Chats with "
        "bots are not end-to-end encrypted, and your own chat history is outside our "
        "control; you can delete it in Telegram."
    ),
    description=N_(
        "The messenger the conversation runs on: every message passes through Telegram's "
        "servers, and chats with bots are not end-to-end encrypted. Described as a "
        "controller in its own right, responsible for its own processing under its own "
        "privacy policy (`FEEDBACKBOT_TELEGRAM_ROLE=controller`)."
    ),
    transfer=TELEGRAM.transfer,
)
TELEGRAM_AS_JOINT_CONTROLLER = Recipient(
    id="telegram",
    name=N_("Telegram"),
    role=RecipientRole.MESSENGER,
    notice=N_(
        "Telegram, the messenger you use, with which we are jointly responsible for "
        "processing your messages in this chat (Art. 26 GDPR); we tell you the essence of "
        "our arrangement on request, and you may exercise your rights with either of us. "
        "Your messages pass through Telegram's servers, which may be outside the EU/EEA (a "
        "third country). Chats with bots are not end-to-end encrypted, and your own chat "
        "history is outside our control; you can delete it in Telegram."
    ),
    description=N_(
        "The messenger the conversation runs on: every message passes through Telegram's "
        "servers, and chats with bots are not end-to-end encrypted. Described as jointly "
        "responsible with the controller (Art. 26 GDPR, `FEEDBACKBOT_TELEGRAM_ROLE=joint`): "
        "their arrangement must set out who meets which obligation, and its essence be "
        "available to the people concerned."
    ),
    transfer=TELEGRAM.transfer,
)
TELEGRAM_ROLES = {
    "messenger": TELEGRAM,
    "controller": TELEGRAM_AS_CONTROLLER,
    "joint": TELEGRAM_AS_JOINT_CONTROLLER,
}
"""Telegram as the notices and the record describe it, by FEEDBACKBOT_TELEGRAM_ROLE."""
DEFAULT_RECIPIENTS = (HOSTING, TELEGRAM)
# Where digests go (FEEDBACKBOT_STAFF_CHAT_ID), and alerts with FEEDBACKBOT_ALERT_THRESHOLD
# set (STAFF_CHAT_ALERTS): named wherever recipients are; the consent request names only
# the alerts (a single feedback posted on the survey's consent, found by a DPO review),
# not the digests. Without alerts, nothing of anyone's single feedback goes there, and
# nobody can be answered (found by review: the notice said so). An alert shows every
# rating and the options chosen (flows.staff.alert), and the notice and the record say
# so: they said "its low ratings" after alerts showed more (DPO review).
STAFF_CHAT = Recipient(
    id="staff_chat",
    name=N_("Staff chat"),
    role=RecipientRole.STAFF,
    notice=N_(
        "our staff, in a Telegram chat of theirs: digests of counts and recent comments, "
        "e-mail addresses, phone numbers and the like removed (the bot adds no name or "
        "account). Erasing your data does not remove these messages from that chat."
    ),
    description=N_(
        "The staff chat (`FEEDBACKBOT_STAFF_CHAT_ID`): scheduled digests, each audited. "
        "Without `FEEDBACKBOT_ALERT_THRESHOLD` no single feedback is posted there. The "
        "messages stay in that Telegram chat until deleted there; erasure and expiry do not "
        "reach them, so set an auto-delete timer on the chat."
    ),
    transfer=N_("As for Telegram (the messages pass through and stay on Telegram's servers)."),
)
STAFF_CHAT_ALERTS = Recipient(
    id="staff_chat",
    name=N_("Staff chat"),
    role=RecipientRole.STAFF,
    notice=N_(
        "our staff, in a Telegram chat of theirs: digests of counts and recent comments and, "
        "for a feedback with a low rating or one you agreed to be contacted about, that "
        "feedback with its ratings, the options chosen and its comments, e-mail addresses, "
        "phone numbers and the like removed (the bot adds no name or account); where you "
        "agreed, they can answer it through the bot, which passes their answer on to you "
        "without showing them who you are. When you erase your data, when the feedback expires, "
        "and when you withdraw the consent such a message rests on (for a low rating, that to "
        "the survey), the bot replaces the message with a note that it was withdrawn; digests "
        "stay in that chat."
    ),
    description=N_(
        "The staff chat (`FEEDBACKBOT_STAFF_CHAT_ID`): scheduled digests and, for a rating at "
        "or below `FEEDBACKBOT_ALERT_THRESHOLD` and for a feedback whose author agreed to be "
        "contacted about it, an alert with all its ratings, the options chosen and the redacted "
        "comments (not the answers collected for another optional purpose; one posted more than "
        "an hour late also says when the feedback was given), each alert audited. Where the "
        "customer agreed to be contacted, the alert shows the feedback's reference and staff "
        "answer through the bot (`/antworten` in reply to the alert or with the reference): the "
        "bot sends the answer to the stored chat id, which staff never see; each answer is "
        "audited, its text is not stored by the bot (the member's own `/antworten` message "
        "stays in the staff chat like any message there). The bot replaces an alert with a note "
        "that it was withdrawn when the feedback is erased or expires, or the consent the alert "
        "rests on is withdrawn (the survey's; for one posted only to be answered, the consent "
        "to be contacted, whose withdrawal takes the reference out of a low-rating alert). "
        "Digests and staff's own messages stay in that Telegram chat until deleted there, so "
        "set an auto-delete timer on the chat."
    ),
    transfer=N_("As for Telegram (the messages pass through and stay on Telegram's servers)."),
)


def shared_recipient(
    recipient_id: str,
    name: str,
    *,
    internal: bool,
    purpose: str | None = None,
    fields: Sequence[str] = (),
    redact: bool = True,
) -> Recipient:
    """A configured webhook recipient as the notices and the record describe it."""

    def each(message: str) -> dict[str, str]:
        return {
            loc: translator(loc).gettext(message).format(name=name) for loc in SUPPORTED_LOCALES
        }

    if internal:
        notice = N_("{name}, our own system, which receives feedback for the same purpose")
        description = N_(
            "The controller's own system; receives the configured fields of each feedback, "
            "redacted unless configured otherwise, by signed webhook, and a deletion notice "
            "on erasure or withdrawal."
        )
    else:
        notice = N_("{name}, only if you agree to it separately")
        description = N_(
            "A third party; receives the configured fields of a feedback only with the "
            "person's separate consent, by signed webhook, and a deletion notice on erasure "
            "or withdrawal."
        )
    return Recipient(
        id=recipient_id,
        name=name,
        role=RecipientRole.INTERNAL if internal else RecipientRole.THIRD_PARTY,
        notice=each(notice),
        description=each(description),
        transfer=each(
            N_("Depends on where {name} processes the data; the controller must document it.")
        ),
        purpose=purpose,
        fields=tuple(fields),
        redact=redact,
    )


@dataclass(frozen=True)
class ProcessedPurpose:
    """A purpose of processing, with its legal basis and the data collected for it."""

    id: str
    description: Text
    label: Text | None
    required: bool
    legal_basis: LegalBasis
    data: tuple[DataCategory, ...]
    retention: timedelta | None
    """The purpose's own retention, when its flow definition sets one."""

    @property
    def name(self) -> Text:
        return self.label or self.description


@dataclass(frozen=True)
class ProcessedFlow:
    """One flow: its purposes as it defines them, and how long its feedback is kept."""

    id: str
    title: Text
    retention: timedelta
    purposes: tuple[ProcessedPurpose, ...]

    @property
    def required_purposes(self) -> tuple[ProcessedPurpose, ...]:
        return tuple(p for p in self.purposes if p.required)


@dataclass(frozen=True)
class Processing:
    """Everything the bot processes about customers: who, what, why, how long, to whom."""

    controller: Controller
    retention: timedelta
    """The default retention (FEEDBACKBOT_RETENTION); a flow's purposes may shorten it."""
    draft_idle: timedelta
    flows: tuple[ProcessedFlow, ...]
    purposes: tuple[ProcessedPurpose, ...]
    """Every purpose any flow asks consent for, once each, in definition order."""
    recipients: tuple[Recipient, ...]
    statistics_retention: timedelta | None = None
    """How long the daily counts are kept after their day (FEEDBACKBOT_STATISTICS_RETENTION);
    None: without a time limit."""
    consent_proof_retention: timedelta | None = None
    """How long proof of consent is kept after the person's data went, erased or expired
    (FEEDBACKBOT_CONSENT_PROOF_RETENTION); None: not kept, erased with everything else."""

    def flow(self, flow_id: str) -> ProcessedFlow:
        return next(f for f in self.flows if f.id == flow_id)

    def retention_of(self, flow_id: str) -> timedelta:
        """How long a feedback of the flow is kept: what the bot uses for its deletion date."""
        return self.flow(flow_id).retention

    def flows_with(self, purpose_id: str) -> tuple[ProcessedFlow, ...]:
        return tuple(f for f in self.flows if any(p.id == purpose_id for p in f.purposes))

    @property
    def data(self) -> tuple[DataCategory, ...]:
        return _unique(category for purpose in self.purposes for category in purpose.data)


def purposes_of(catalog: FlowCatalog) -> list[Purpose]:
    """Every purpose any flow asks consent for, once each, in definition order."""
    seen: dict[str, Purpose] = {}
    for flow in catalog.flows.values():
        for purpose in flow.purposes:
            seen.setdefault(purpose.id, purpose)
    return list(seen.values())


def describe_processing(
    catalog: FlowCatalog,
    controller: Controller,
    retention: timedelta,
    draft_idle: timedelta,
    recipients: Sequence[Recipient] = DEFAULT_RECIPIENTS,
    statistics_retention: timedelta | None = None,
    consent_proof_retention: timedelta | None = None,
) -> Processing:
    """The processing the bot performs with these flows and settings."""
    flows = tuple(_describe_flow(flow, retention) for flow in catalog.flows.values())
    seen: dict[str, ProcessedPurpose] = {}
    for flow in flows:
        for purpose in flow.purposes:
            seen.setdefault(purpose.id, purpose)
    return Processing(
        controller=controller,
        retention=retention,
        draft_idle=draft_idle,
        flows=flows,
        purposes=tuple(seen.values()),
        recipients=tuple(recipients),
        statistics_retention=statistics_retention,
        consent_proof_retention=consent_proof_retention,
    )


def _describe_flow(flow: FlowDefinition, default: timedelta) -> ProcessedFlow:
    return ProcessedFlow(
        id=flow.id,
        title=flow.title,
        retention=flow.retention(default),
        # An optional purpose no step asks for is processing that never happens.
        purposes=tuple(
            _describe_purpose(flow, p) for p in flow.purposes if p.required or flow.asks(p.id)
        ),
    )


def _describe_purpose(flow: FlowDefinition, purpose: Purpose) -> ProcessedPurpose:
    data: list[DataCategory] = []
    if purpose.required:
        data.append(DataCategory.PSEUDONYM)
    data.append(DataCategory.CONSENT_RECORDS)
    for step in flow.steps:
        if isinstance(step, ConsentStep | ThanksStep):
            continue
        belongs = step.purpose == purpose.id or (step.purpose is None and purpose.required)
        if belongs:
            data.append(_STEP_CATEGORIES.get(step.type, DataCategory.OTHER_ANSWERS))
    if purpose.stores_contact:
        data.append(DataCategory.CONTACT_CHAT)
    return ProcessedPurpose(
        id=purpose.id,
        description=purpose.description,
        label=purpose.label,
        required=purpose.required,
        legal_basis=LegalBasis.CONSENT,
        data=_unique(data),
        retention=purpose.retention,
    )


def _unique(categories: Iterable[DataCategory]) -> tuple[DataCategory, ...]:
    return tuple(dict.fromkeys(categories))


class DataSubject(StrEnum):
    CUSTOMERS = "customers"
    STAFF = "staff"


# How long audit entries are kept by default: four years. How feedback was handled may
# have to be shown within the regular limitation period of three years, which runs from
# the end of the year (§§ 195, 199 BGB).
AUDIT_RETENTION = timedelta(days=4 * 365 + 1)


@dataclass(frozen=True)
class Operations:
    """The configured values behind the technical and organisational measures."""

    purge_interval: timedelta
    min_group_size: int
    staff_members: int
    """How many Telegram users FEEDBACKBOT_STAFF_IDS allows the staff commands."""
    audit_retention: timedelta
    """How long audit entries are kept (FEEDBACKBOT_AUDIT_RETENTION)."""
    master_key_apart: bool = True
    """The master key is set, or its file is outside the data folder (not the
    `master.key` generated in it at the first start)."""


@dataclass(frozen=True)
class Measure:
    """A technical or organisational measure in force (Art. 32(1) GDPR).

    `text` is a message id; `values` fill its placeholders (durations are formatted in
    the reader's language).
    """

    id: str
    text: str
    values: tuple[tuple[str, timedelta | int], ...] = ()


@dataclass(frozen=True)
class ProcessingRecord:
    """The record of processing activities (Art. 30(1) GDPR): the processing and its measures."""

    processing: Processing
    operations: Operations

    @property
    def subjects(self) -> tuple[DataSubject, ...]:
        staff = (DataSubject.STAFF,) if self.operations.staff_members else ()
        return (DataSubject.CUSTOMERS, *staff)

    @property
    def measures(self) -> tuple[Measure, ...]:
        return measures_in_force(self.processing, self.operations)


def _key_store(operations: Operations) -> Measure:
    """Key management as configured (found by a DPO's review: the record said the master
    key was kept apart while the bot had generated it in the data folder)."""
    if operations.master_key_apart:
        return Measure(
            "key_store",
            N_(
                "Key management: the personal keys are kept wrapped by a master key in a key "
                "store file separate from the data (`keys.db` beside `feedback.db`); the master "
                "key is kept outside both, so that data backups never carry keys."
            ),
        )
    return Measure(
        "key_store",
        N_(
            "Key management: the personal keys are kept wrapped by a master key in a key "
            "store file separate from the data (`keys.db` beside `feedback.db`), and "
            "`feedbackbot backup` copies neither the master key nor, unless asked to, the "
            "key store. Open point: the master key is kept in the data folder itself (by "
            "default as `master.key`), so a copy of the whole folder carries the data with "
            "the keys that open it; keep the master key apart (`FEEDBACKBOT_MASTER_KEY` or "
            "`FEEDBACKBOT_MASTER_KEY_FILE` outside the data folder)."
        ),
    )


def measures_in_force(processing: Processing, operations: Operations) -> tuple[Measure, ...]:
    """What protects the data, as this software and these settings actually do it."""
    if operations.staff_members:
        access = Measure(
            "access_control",
            N_(
                "Access control: only the Telegram users listed in `FEEDBACKBOT_STAFF_IDS` "
                "(currently {count}) can use the staff commands."
            ),
            (("count", operations.staff_members),),
        )
    else:
        access = Measure(
            "access_control",
            N_(
                "Access control: `FEEDBACKBOT_STAFF_IDS` lists nobody, so nobody can use the "
                "staff commands."
            ),
        )
    return (
        Measure(
            "encryption",
            N_(
                "Encryption: everything stored about a person (answers, unfinished answers, "
                "consent details, contact chat id, chosen language) is encrypted with "
                "AES-256-GCM under random 256-bit keys of their own (one for their consent "
                "details, contact chat id and language, one for each survey they answer, "
                "destroyed when its answers go), bound to its table, record, pseudonym and "
                "key version."
            ),
        ),
        _key_store(operations),
        Measure(
            "pseudonyms",
            N_(
                "Pseudonymisation: a person is identified by an HMAC-SHA256 of their Telegram "
                "user id under a secret key; no Telegram id, name, username or language is "
                "written in clear (a language chosen with /language only encrypted)."
            ),
        ),
        Measure(
            "minimisation",
            N_(
                "Data minimisation: nothing a person types before consenting is stored (but "
                "for a language they choose with /language); the "
                "contact chat id only with the consent to be contacted."
            ),
        ),
        Measure(
            "expiry",
            N_(
                "Storage limitation: every record carries its deletion date and is never "
                "shown after it; a purge removes expired data at start and every {interval}, "
                "and unfinished answers after {idle} without activity."
            ),
            (("interval", operations.purge_interval), ("idle", processing.draft_idle)),
        ),
        Measure(
            "erasure",
            N_(
                "Erasure: the person's keys are destroyed first, so that no copy of their data "
                "can be read once the key store backups made before have been deleted, then "
                "the rows are deleted; SQLite runs with "
                "`secure_delete`, and its write-ahead log is checkpointed and truncated after "
                "erasures and purges."
            ),
        ),
        access,
        Measure(
            "private_rights",
            N_(
                "Data-subject rights in the chat: /mydata, /withdraw and /delete work in "
                "private chats only and act on the sender alone; no command takes another "
                "person's id."
            ),
        ),
        Measure(
            "logs",
            N_(
                "Logging: log lines carry event names and a tag per person only (a hash of the "
                "pseudonym under a salt that changes with every start, so it cannot be traced "
                "back later); message text, long numbers such as ids and the bot token are "
                "redacted, and HTTP request logging is silenced."
            ),
        ),
        Measure(
            "statistics",
            N_(
                "Statistics: only counts of ratings and choices per day and flow, encrypted "
                "at rest; any breakdown over fewer than {k} feedbacks is suppressed; an "
                "erasure or withdrawal takes the person's feedback out of them."
            ),
            (("k", operations.min_group_size),),
        ),
        Measure(
            "summary_cache",
            N_(
                "Summary cache: so that staff summaries over long periods stay fast, the "
                "counts behind them are kept per day (ratings, "
                "words of comments with e-mail addresses, phone numbers and the like removed, "
                "shortened hashes of pseudonyms "
                "to count people), "
                "encrypted; they are dropped as soon as a feedback they count is erased, its "
                "consent withdrawn or its retention over."
            ),
        ),
        Measure(
            "backups",
            N_(
                "Backups: `feedbackbot backup` copies the data file with `VACUUM INTO`, so that "
                "a backup carries neither keys nor freed pages; the key store is copied "
                "separately (`--keys`), to be kept apart and only briefly. Erasures and "
                "withdrawals are noted in a ledger beside the store (`erasures.db`; whom an "
                "entry concerns encrypted; copied only on request, `--ledger`, to be put back "
                "only for a data folder lost as a whole) until the person's data would have "
                "expired, at least a year, rounded up to the first of a month (the day would "
                "match a deletion date stored in clear), and applied again when a store "
                "restored from backups is opened. The same file notes each alert in the staff "
                "chat until its feedback goes, with pseudonym, feedback id and consent in "
                "clear, so copies of it are kept no longer than data backups."
            ),
        ),
        *(
            ()
            if processing.consent_proof_retention is None
            else (
                Measure(
                    "consent_proof",
                    N_(
                        "Proof of consent after erasure (`FEEDBACKBOT_CONSENT_PROOF_RETENTION`):"
                        " the one exception to the measures above. Before a person's consent "
                        "records go (/delete, or the purge once nothing else of theirs is "
                        "left), purpose, notice version, SHA-256 of the text, method and times "
                        "of each are sealed into `erasures.db` under a key derived from the "
                        "pseudonym key, not the person's, so that the destruction of their keys "
                        "does not reach it: one row per person, padded (up to about ten "
                        "consents take one size), named by a keyed hash of its own (not the "
                        "pseudonym of the data store), no time in clear but the first of a "
                        "month; each proof deleted "
                        "by the purge {period} after (rounded up to the first of a month); a "
                        "shorter period, or none, set later holds for it from the next start."
                    ),
                    (("period", processing.consent_proof_retention),),
                ),
            )
        ),
    )
