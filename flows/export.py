"""The portable copy of a person's data (Art. 15(3), 20 GDPR): models and JSON Schema.

The schema shipped in ``docs/export.schema.json`` is generated from these models
(``python -m flows.export``); a test fails when the two disagree.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal[9] = 9
"""2 added `chosen_language` and `passed_on[].confirmed` (a copy of version 1 has neither);
3 added `contact_language`; 4 added `retention_rules`; 5 added the consent status
`ended`, each consent's `text` and `automated_decisions`; 6 added a consent's `ended_at`
(one that ended with an erased feedback had `withdrawn_at`, as if the person withdrew it);
7 added the `language` of unfinished answers and `erasure_note_kept_until`; 8 added
`erasure_note_about`; 9 added `consent_proofs` and `staff_audit`."""
SCHEMA_PATH = Path("docs") / "export.schema.json"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExportController(_Model):
    name: str = Field(description="Who is responsible for the data (the controller).")
    contact: str = Field(description="How to reach the controller about one's data.")
    data_protection_officer: str | None = Field(
        default=None, description="The data protection officer's contact; null where none is named."
    )


class ExportConsent(_Model):
    purpose: str = Field(description="Purpose id, e.g. 'feedback' or 'contact'.")
    purpose_description: str = Field(description="What the purpose is, in the copy's language.")
    status: Literal["in_force", "withdrawn", "ended"] = Field(
        description="'ended': an optional consent given with a feedback that has been "
        "deleted since (expired or erased); it covers nothing any more."
    )
    granted_at: datetime = Field(description="When the person agreed (UTC, as all times here).")
    withdrawn_at: datetime | None = Field(
        default=None, description="When the person withdrew it; null for one that ended."
    )
    ended_at: datetime | None = Field(
        default=None,
        description="When it ended with the feedback it was given with, where that is "
        "recorded (the feedback erased with another consent); null for one that expired "
        "with its feedback, or is in force or withdrawn.",
    )
    notice_version: str = Field(
        description="Version of the consent texts (the request and the optional questions "
        "of its survey) the person agreed to: any change of their wording changes it."
    )
    text_sha256: str = Field(description="SHA-256 of the exact text shown when consenting.")
    text: str | None = Field(
        default=None,
        description="The exact text shown when consenting, from the archive of consent "
        "texts; null where it is not archived (a consent from before data schema v13).",
    )
    method: str = Field(
        description="How the consent was given: 'telegram:inline-button', a tap on its button."
    )


class ExportConsentProof(_Model):
    purpose: str = Field(description="Purpose id, e.g. 'feedback' or 'contact'.")
    purpose_description: str = Field(description="What the purpose is, in the copy's language.")
    granted_at: datetime = Field(description="When the person agreed.")
    withdrawn_at: datetime | None = Field(
        default=None, description="When the person withdrew it; null if they did not."
    )
    ended_at: datetime | None = Field(
        default=None,
        description="When it ended with the feedback it was given with, where that is "
        "recorded; null otherwise.",
    )
    notice_version: str = Field(description="Version of the consent texts agreed to.")
    text_sha256: str = Field(description="SHA-256 of the exact text shown when consenting.")
    text: str | None = Field(
        default=None,
        description="The exact text shown when consenting, from the archive of consent "
        "texts; null where it is not archived.",
    )
    method: str = Field(description="How the consent was given.")
    kept_since: datetime = Field(
        description="When the person's data went and this proof was kept in place of the "
        "consent record."
    )
    reason: Literal["erasure", "expiry"] = Field(
        description="Why the data went: 'erasure', asked for by the person (/delete); "
        "'expiry', the last of it deleted automatically."
    )
    kept_until: datetime = Field(
        description="Until when the proof is kept (FEEDBACKBOT_CONSENT_PROOF_RETENTION after "
        "`kept_since`, to the first of the next month); the next purge then deletes it."
    )


class ExportAuditEntry(_Model):
    event: str = Field(
        description="What was done: 'summary' (figures and comments read), 'export' "
        "(feedback exported), 'answer' (a customer answered), 'staff-rules-confirmed' (the "
        "rules for staff confirmed)."
    )
    at: datetime = Field(description="When, to the minute.")
    detail: str | None = Field(
        default=None,
        description="As the trail keeps it: the period asked for ('7d'), the survey answered "
        "and what became of the answer, the version of the rules confirmed.",
    )
    records: int | None = Field(
        default=None, description="How many feedbacks it covered; null where none are counted."
    )


class ExportAnswer(_Model):
    step: str = Field(description="Step id in the flow definition.")
    question: str = Field(description="The question as shown, in the copy's language.")
    answer: int | str | list[str] | None = Field(
        description="As given (the option ids for a multiple choice); null when skipped."
    )
    answer_label: str | None = Field(
        default=None, description="Shown label of the chosen option(s)."
    )


class ExportFeedback(_Model):
    id: str = Field(description="The feedback's reference, random (it says nothing of the person).")
    flow: str = Field(description="Id of the survey it was given in.")
    flow_title: str = Field(description="Title of that survey, in the copy's language.")
    given_at: datetime = Field(description="When the survey was completed.")
    deleted_automatically_on: datetime = Field(
        description="When it is deleted automatically, unless erased before."
    )
    purposes: list[str] = Field(
        description="The purposes consented to when it was given, as recorded with it; "
        "whether each consent is still in force is in `consents` (a withdrawn one stays "
        "listed here)."
    )
    answers: list[ExportAnswer] = Field(description="Each question answered, in order.")
    evaluated: bool = Field(
        default=True,
        description="False once the consent it needed (its survey's required one, not that "
        "to be contacted) was withdrawn and the person chose to keep it: kept until its "
        "deletion date (or an erasure), but no longer used in figures, alerts or deliveries, "
        "even if they agree again later.",
    )


class ExportDraft(_Model):
    flow: str = Field(description="Id of the survey under way.")
    started_at: datetime = Field(description="When the survey was begun.")
    discarded_automatically_at: datetime = Field(
        description="When the unfinished answers are discarded unless the person goes on."
    )
    answers: list[ExportAnswer] = Field(description="The answers given so far.")
    language: str | None = Field(
        default=None,
        description="The language the survey began in, which it goes on in (stored with the "
        "answers); null in unfinished answers from before it was kept.",
    )
    language_name: str | None = Field(
        default=None, description="That language's name, in the copy's language."
    )


class ExportLanguage(_Model):
    language: str = Field(description="Language code chosen with /language, e.g. 'en'.")
    language_name: str = Field(description="That language's name, in the copy's language.")
    chosen_at: datetime = Field(description="When it was chosen.")
    deleted_automatically_on: datetime = Field(
        description="When the choice is deleted automatically, unless made again before."
    )


class ExportDelivery(_Model):
    recipient: str = Field(description="Who received it, as named in the privacy notice.")
    feedback_id: str = Field(description="The `id` of the feedback passed on.")
    delivered_at: datetime = Field(description="When it was passed on.")
    confirmed: bool = Field(
        default=True,
        description="False when the recipient never confirmed receipt (the connection broke "
        "off after the feedback was sent): it may have it, and is asked to delete it too.",
    )


class DataExport(_Model):
    """Everything stored about the person who requested it, in their language."""

    schema_version: Literal[9] = Field(
        default=SCHEMA_VERSION, description="Version of this schema the copy follows."
    )
    generated_at: datetime = Field(description="When the copy was made.")
    language: str = Field(description="Language code of the copy's texts, e.g. 'de'.")
    controller: ExportController
    source: str = Field(description="Where the data come from (Art. 15(1)(g)).")
    recipients: list[str] = Field(
        description="Who receives or may see the data, by kind (Art. 15(1)(c))."
    )
    retention: str = Field(
        description="How long feedback is kept: the default, and each survey that keeps it "
        "for a time of its own (each feedback gives its deletion date)."
    )
    retention_rules: list[str] = Field(
        default_factory=list,
        description="How long the data without a deletion date of its own is kept: the "
        "consent records, the chat to write to (Art. 15(1)(d)).",
    )
    identification: str = Field(
        description="How the person is identified: by a keyed pseudonym of their Telegram "
        "user id; that id itself is stored only as the chat to write to, with consent to be "
        "contacted (see `contact_chat_id`)."
    )
    automated_decisions: str = Field(
        default="",
        description="Whether automated decisions or profiling take place (Art. 15(1)(h)).",
    )
    consents: list[ExportConsent] = Field(
        description="Each consent given, with its state and the exact text agreed to."
    )
    feedback: list[ExportFeedback] = Field(description="Each completed survey's answers.")
    unfinished_feedback: list[ExportDraft] = Field(
        description="Answers of a survey under way, not yet completed."
    )
    contact_chat_id: int | None = Field(
        default=None,
        description="The chat staff may write to (in a private chat the person's Telegram "
        "user id); stored only with consent to be contacted.",
    )
    contact_language: str | None = Field(
        default=None,
        description="Stored with the chat id: the language of the conversation in which the "
        "person agreed to be contacted, so that staff's answers reach them in it.",
    )
    chosen_language: ExportLanguage | None = Field(
        default=None,
        description="Stored only when the person chose a language with /language; without "
        "one the bot follows the language their Telegram app reports, which is not stored.",
    )
    passed_on: list[ExportDelivery] = Field(
        default_factory=list,
        description="Which recipient received which feedback, and when (Art. 15(1)(c)).",
    )
    erasure_note_kept_until: datetime | None = Field(
        default=None,
        description="Until when the erasure ledger keeps an encrypted note (none of the "
        "answers) that the person had data erased, withdrew a consent or objected to storing "
        "their language choice, so that it is carried out again after a restore from a "
        "backup; null when it keeps none.",
    )
    erasure_note_about: list[Literal["erasure", "withdrawal", "objection"]] = Field(
        default_factory=list,
        description="What that note is of: an erasure of the person's data, a consent "
        "withdrawn, an objection to storing their language choice; empty when none is kept.",
    )
    staff_audit: list[ExportAuditEntry] = Field(
        default_factory=list,
        description="The audit trail's entries of the person's own use of the staff commands "
        "(as a member of staff, or a former one), oldest first; empty for customers.",
    )
    consent_proofs: list[ExportConsentProof] = Field(
        default_factory=list,
        description="Proof of consents kept after the person's data went, erased or "
        "expired: to what, when and how they agreed, no answer (Art. 7(1) GDPR); empty "
        "when none is kept (FEEDBACKBOT_CONSENT_PROOF_RETENTION unset).",
    )


def json_schema() -> str:
    schema = DataExport.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m flows.export",
        description="Write the JSON schema of the /mydata export (regenerate after a change).",
    )
    parser.add_argument("target", nargs="?", type=Path, default=SCHEMA_PATH)
    target = parser.parse_args().target
    target.write_text(json_schema(), encoding="utf-8")
    print(f"wrote {target}")
