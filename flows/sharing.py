"""Passing feedback to configured recipients, only where the customer consented.

Recipients are configured in a TOML file (FEEDBACKBOT_RECIPIENTS_FILE). An internal
recipient (the company's own CRM or ticket system) receives feedback under the flow's
required purpose; an external one only when the customer gave the optional consent
named by its `purpose`. Each gets only its configured fields, redacted unless told
otherwise, signed with HMAC-SHA256 over the timestamp and the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import tomllib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import idna
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from flows.catalog import FlowCatalog
from flows.i18n import N_, Translator, translator
from flows.models import IDENT, ConsentStep, TextStep, ThanksStep
from flows.redaction import redact
from flows.toml_lines import loads
from storage.interface import FeedbackRecord, NewFeedback

SIGNATURE_HEADER = "X-Feedbackbot-Signature"
TIMESTAMP_HEADER = "X-Feedbackbot-Timestamp"
META_FIELDS = ("feedback_id", "flow", "given_at")
MIN_SECRET_LENGTH = 16
_THIS_MACHINE = frozenset({"localhost", "127.0.0.1", "::1"})

# What the audit trail says of an attempt, in English there; `feedbackbot audit` shows
# them in the operator's language (bot.cli.staff.shown_detail).
DELIVERED = N_("delivered")
GAVE_UP = N_("gave up")
GAVE_UP_MAY_HAVE_ARRIVED = N_("gave up; it may have arrived")
STOPPED = N_("stopped: erased or withdrawn")
FAILED = "failed: "  # then the cause below, the error's name, or "HTTP <status>"
# Why an attempt failed, where an operator can tell what to do about it.
CERTIFICATE_NOT_TRUSTED = N_("TLS certificate not trusted")
HOST_NOT_FOUND = N_("host name not found")
CONNECTION_REFUSED = N_("connection refused")
TIMED_OUT = N_("timeout")
INVALID_URL = N_("no request can be made to this URL")
CAUSES = (CERTIFICATE_NOT_TRUSTED, HOST_NOT_FOUND, CONNECTION_REFUSED, TIMED_OUT, INVALID_URL)
NOT_SENT = "not sent; ask by hand to delete: "  # then the feedback ids
# A withdrawal that may concern a recipient no longer in the file (renamed, or replaced
# under the same purpose): whether it served the withdrawn purpose cannot be told.
NO_LONGER_CONFIGURED = (
    "no longer configured; if it received them under the withdrawn consent, ask it by hand "
    "to delete: "
)  # then the feedback ids


class RecipientsError(ValueError):
    """The recipients file cannot be used; the message names the file and the problem.
    `problems` has them one by one, without the file's name (`check` reports them
    against the file)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems) or (message,)


def _language(info: ValidationInfo) -> Translator:
    """The operator's language when load_recipients passed it, else English."""
    context = info.context if isinstance(info.context, dict) else {}
    t = context.get("t")
    return t if isinstance(t, Translator) else translator("en")


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=IDENT)
    name: str = Field(min_length=1)
    url: str
    secret: SecretStr
    internal: bool = False
    purpose: str | None = None
    fields: list[str] = Field(default_factory=lambda: ["flow", "given_at"])
    redact: bool = True

    @field_validator("url")
    @classmethod
    def _https(cls, value: str, info: ValidationInfo) -> str:
        """Feedback is personal data: sent encrypted (https), plain http only to a service
        on this machine."""
        t = _language(info)
        try:
            parts = urlsplit(value)
        except ValueError as error:
            message = t.gettext("not a URL: {reason}").format(reason=error)
            raise ValueError(f"url: {message}") from None
        # Only scheme and host are repeated: a path or user part may hold a token.
        shown = repr(f"{parts.scheme}://{parts.hostname or ''}/…")
        if not parts.hostname or parts.scheme not in {"http", "https"}:
            message = t.gettext("{url} is not an https:// URL").format(url=shown)
            raise ValueError(f"url: {message}")
        if parts.scheme == "http" and parts.hostname not in _THIS_MACHINE:
            message = t.gettext(
                "{url} would send feedback unencrypted; use https:// (plain http only to localhost)"
            ).format(url=shown)
            raise ValueError(f"url: {message}")
        # Found by review: a URL no request can be made to passed, and every delivery and
        # deletion notice to it failed, not even audited, until it was fixed.
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            message = t.gettext(
                "{url} has a port that is not a number from 1 to 65535; give one, or none"
            ).format(url=shown)
            raise ValueError(f"url: {message}")
        if not _idna_valid(parts.hostname):
            message = t.gettext(
                "{url} has a host name that is not a valid internationalized domain name"
            ).format(url=shown)
            raise ValueError(f"url: {message}")
        return value

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        if len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            message = _language(info).gettext("use at least {count} characters")
            raise ValueError(f"secret: {message.format(count=MIN_SECRET_LENGTH)}")
        return value

    @model_validator(mode="after")
    def _basis(self, info: ValidationInfo) -> Recipient:
        if self.internal == (self.purpose is not None):
            message = _language(info).gettext(
                "set either internal = true (the company's own systems) or purpose = "
                "'<optional purpose a flow asks consent for>'"
            )
            raise ValueError(message)  # _problem names the recipient
        return self

    def receives(self, record: NewFeedback, catalog: FlowCatalog) -> bool:
        """Whether this feedback may go to this recipient at all (by the purposes it
        was given under)."""
        if self.internal:
            flow = catalog.flows.get(record.flow_id)
            return flow is not None and {p.id for p in flow.required_purposes} <= set(
                record.purposes
            )
        return self.purpose in record.purposes


def _idna_valid(host: str) -> bool:
    """Whether a request can go to `host` as far as its internationalized labels go (non-
    ASCII, or "xn--"): httpx and the resolver encode them by IDNA 2008 and refuse what is
    not valid. Other names are left to the resolver, as before (an "_" works in many)."""
    if host.isascii() and "xn--" not in host:
        return True
    try:
        idna.encode(host)
    except idna.IDNAError:
        return False
    return True


class _RecipientsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipients: list[Recipient] = Field(default_factory=list)


def load_recipients(
    path: Path, catalog: FlowCatalog | None, t: Translator | None = None
) -> list[Recipient]:
    """Read and check the recipients, against the flows of `catalog` (their fields and
    purposes) unless it is None; raises RecipientsError naming the problem, in the
    language of `t` (the operator's; English by default)."""
    t = t or translator("en")
    try:
        data = loads(path.read_text(encoding="utf-8"))
        recipients = _RecipientsFile.model_validate(data, context={"t": t}).recipients
    except OSError as error:
        reason = t.reason(error)
        raise RecipientsError(
            t.gettext("cannot read {path}: {reason}").format(path=path, reason=reason)
        ) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        message = t.gettext("not valid TOML: {reason}").format(reason=t.reason(error))
        raise RecipientsError(f"{path}: {message}", [message]) from None
    except ValidationError as error:
        problems = [_problem(e, data, t) for e in error.errors()]
        # What the flows say of the entries, as far as they can be read (found by review:
        # a mistyped field came to light only once the URL and secret were right).
        if catalog is not None:
            problems += _catalog_problems(_readable_entries(data), catalog, t)
        raise RecipientsError(f"{path}: " + "; ".join(problems), problems) from None
    entries = [(r.id, r.fields, r.purpose) for r in recipients]
    problems = _catalog_problems(entries, catalog, t) if catalog is not None else []
    if len({r.id for r in recipients}) != len(recipients):
        problems.append(t.gettext("recipient ids must be unique"))
    if problems:
        raise RecipientsError(f"{path}: " + "; ".join(problems), problems)
    return recipients


def _readable_entries(data: Any) -> list[tuple[str, list[str], str | None]]:
    """(id, fields, purpose) of the entries of a recipients file that failed validation,
    where these three can be read; fields as by default where not given."""
    entries = data.get("recipients") if isinstance(data, dict) else None
    readable = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        id_, purpose = entry.get("id"), entry.get("purpose")
        fields = entry.get("fields", ["flow", "given_at"])
        if (
            isinstance(id_, str)
            and (purpose is None or isinstance(purpose, str))
            and isinstance(fields, list)
            and all(isinstance(name, str) for name in fields)
        ):
            readable.append((id_, fields, purpose))
    return readable


def _catalog_problems(
    entries: Sequence[tuple[str, list[str], str | None]], catalog: FlowCatalog, t: Translator
) -> list[str]:
    """Whether recipients (id, fields, purpose) fit the flows: fields a flow has, answers
    for an optional purpose to that purpose's recipient only, a purpose that passes
    feedback on. Every problem at once."""
    sharing = {p.id for f in catalog.flows.values() for p in f.purposes if p.shares_feedback}
    # Steps that take an answer: a consent step's answer is a consent, a thanks step has none.
    known = set(META_FIELDS) | {
        s.id
        for f in catalog.flows.values()
        for s in f.steps
        if not isinstance(s, ConsentStep | ThanksStep)
    }
    # (A step id another flow asks under its required purpose is that flow's answer.)
    evaluated = {s.id for f in catalog.flows.values() for s in f.evaluated_steps}
    optional_only = {
        step: purpose.id
        for f in catalog.flows.values()
        for purpose in f.purposes
        if not purpose.required
        for step in f.collected_for(purpose.id)
        if step not in evaluated
    }
    problems: list[str] = []
    for id_, fields, purpose in entries:
        unknown = [name for name in fields if name not in known]
        if unknown:
            problems.append(
                t.gettext(
                    "recipient {recipient} lists fields no flow has: {fields} (known: {known})"
                ).format(
                    recipient=repr(id_), fields=", ".join(unknown), known=", ".join(sorted(known))
                )
            )
        for name in fields:
            serves = optional_only.get(name)
            if serves is not None and purpose != serves:
                # Withdrawing that consent erases the answer: no copy may stay elsewhere.
                problems.append(
                    t.gettext(
                        "recipient {recipient} lists field {field}, which is collected for the "
                        "optional purpose {purpose} alone; only a recipient of that purpose may "
                        "receive it"
                    ).format(recipient=repr(id_), field=repr(name), purpose=repr(serves))
                )
        if purpose is not None and purpose not in sharing:
            problems.append(
                t.gettext(
                    "recipient {recipient} names purpose {purpose}, but no flow has an optional "
                    "purpose of that id with shares_feedback = true"
                ).format(recipient=repr(id_), purpose=repr(purpose))
            )
    return problems


def require_recipients(catalog: FlowCatalog, recipients: list[Recipient], t: Translator) -> None:
    """Raises RecipientsError for a purpose that passes feedback on (shares_feedback) but
    that no recipient receives: people would consent to a passing-on that never happens,
    and the notices would name no recipient for it."""
    received = {r.purpose for r in recipients}
    for flow in catalog.flows.values():
        for purpose in flow.purposes:
            if purpose.shares_feedback and purpose.id not in received:
                raise RecipientsError(
                    t.gettext(
                        "the purpose {purpose} of flow {flow} passes feedback on "
                        "(shares_feedback = true), but no recipient in "
                        "FEEDBACKBOT_RECIPIENTS_FILE names it: add the recipient, or remove "
                        "the purpose and its consent step"
                    ).format(purpose=repr(purpose.id), flow=repr(flow.id))
                )


def feedback_payload(
    recipient: Recipient, record: FeedbackRecord, catalog: FlowCatalog, locale: str
) -> dict[str, Any]:
    """Only the configured fields; free text redacted unless the recipient may see it.

    `feedback_id` is always there: a deletion notice (Art. 19) names the feedback by it,
    and a recipient without it could not find what to delete. So is `delete_by`, when
    its retention ends here: no notice is sent then, the copy is to go by that date.
    """
    t = translator(locale)
    flow = catalog.flows.get(record.flow_id)
    # A flow no longer loaded cannot say which answers are free text: all are taken as such.
    text_steps = (
        {s.id for s in flow.steps if isinstance(s, TextStep)} if flow else set(record.answers)
    )
    payload: dict[str, Any] = {
        "type": "feedback",
        "feedback_id": record.id,
        # The day, not the moment: the moment less the published retention would give away
        # when the feedback was given, to a recipient not configured to get `given_at`.
        "delete_by": delete_by(record.expires_at).isoformat(),
    }
    meta = {
        "feedback_id": record.id,
        "flow": record.flow_id,
        "given_at": record.created_at.isoformat(),
    }
    answers: dict[str, Any] = {}
    for name in recipient.fields:
        if name in meta:
            payload[name] = meta[name]
        elif name in record.answers:
            value = record.answers[name]
            if name in text_steps and isinstance(value, str) and recipient.redact:
                value = redact(value, t)
            answers[name] = value
    payload["answers"] = answers
    return payload


def delete_by(expires_at: datetime) -> datetime:
    """The start of the UTC day the feedback expires on here: the recipient's copy goes no
    later than ours."""
    return expires_at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def deletion_payload(
    feedback_ids: Iterable[str], reason: Literal["erasure", "withdrawal", "retention"]
) -> dict[str, Any]:
    """Asks the recipient to delete what it received (Art. 19 GDPR; "retention": it
    expired here before the `delete_by` the recipient was told); carries no content."""
    return {"type": "deletion", "reason": reason, "feedback_ids": sorted(set(feedback_ids))}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, now: datetime, tolerance: int = 300
) -> bool:
    """What a receiver does: recompute the signature and refuse old timestamps (replays).
    Any header a forger may send is refused, never raised on ("²", 5,000 digits, "ä")."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs(now.timestamp() - int(timestamp)) > tolerance or not signature.isascii():
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _kind_of_problem(kind: str, key: str, t: Translator) -> str | None:
    """pydantic's error kinds in the operator's language, without the value."""
    if kind == "extra_forbidden":
        return t.gettext("unknown key {key}").format(key=repr(key))
    if kind == "missing":
        return t.gettext("{key} is missing").format(key=repr(key))
    if kind == "string_too_short":
        return t.gettext("{key} must not be empty").format(key=repr(key))
    if kind == "string_pattern_mismatch":
        return t.gettext(
            "{key} must start with a lowercase letter, followed by lowercase letters, digits or _"
        ).format(key=repr(key))
    wrong_kind = {
        "string_type": t.gettext("{key} must be a text in quotes"),
        "bool_type": t.gettext("{key} must be true or false"),
        "bool_parsing": t.gettext("{key} must be true or false"),
        "list_type": t.gettext("{key} must be a list: [ ... ]"),
        "model_type": t.gettext("{key} must be a table of keys and values"),
    }.get(kind)
    return None if wrong_kind is None else wrong_kind.format(key=repr(key))


def _problem(error: Any, data: Any, t: Translator) -> str:
    """One validation problem, named by recipient: "recipient 'crm': secret: ...". Never
    the input itself (it may be the secret)."""
    loc = error["loc"]
    # A list's entry is named by its list and position: fields[2], not '2'.
    key = f"{loc[-2]}[{loc[-1] + 1}]" if len(loc) >= 2 and isinstance(loc[-1], int) else ""
    message = _kind_of_problem(error["type"], key or (str(loc[-1]) if loc else ""), t)
    if message is None:  # our own validators' messages are translated already
        message = str(error["msg"]).removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "recipients" and isinstance(loc[1], int):
        entries = data.get("recipients") if isinstance(data, dict) else None
        entry = entries[loc[1]] if isinstance(entries, list) and len(entries) > loc[1] else None
        name = entry.get("id") if isinstance(entry, dict) else None
        recipient = t.gettext("recipient {recipient}").format(recipient=repr(name or loc[1] + 1))
        return f"{recipient}: {message}"
    return message
