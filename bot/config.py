"""From settings to what flows/ needs: one place, so `run` and `docs` cannot disagree."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.operator import operator_translator
from bot.settings import ConfigurationError, Settings
from flows.catalog import FlowCatalog
from flows.models import LONGEST_RETENTION
from flows.processing import (
    HOSTING,
    STAFF_CHAT,
    STAFF_CHAT_ALERTS,
    TELEGRAM_ROLES,
    Controller,
    shared_recipient,
)
from flows.processing import Recipient as NamedRecipient
from flows.service import ServiceConfig
from flows.sharing import Recipient, load_recipients, require_recipients
from storage.interface import FeedbackLimit, StatisticsCutoff


def unanswered_contact_flows(settings: Settings, catalog: FlowCatalog) -> list[str]:
    """The surveys asking for consent to be contacted where staff cannot answer anyone:
    the references to answer by come with alerts, which need a staff chat and a
    threshold, and someone to answer (for `run`'s warning and `check`'s)."""
    asking = sorted(
        f.id for f in catalog.flows.values() if any(p.stores_contact for p in f.purposes)
    )
    answered = None not in (settings.staff_chat_id, settings.alert_threshold)
    return asking if not (answered and settings.staff_ids) else []


def catalog_retentions(settings: Settings, catalog: FlowCatalog) -> dict[str, timedelta]:
    """Each loaded survey's retention, by flow id, as the bot applies it."""
    return {flow.id: flow.retention(settings.retention) for flow in catalog.flows.values()}


def statistics_before(
    settings: Settings, retentions: Mapping[str, timedelta], now: datetime
) -> StatisticsCutoff | None:
    """The first day whose counts the purge keeps (FEEDBACKBOT_STATISTICS_RETENTION), per
    survey: never one whose feedback may still be stored (`retentions`: each loaded
    survey's, which may be longer, found by review: one cutoff for all, by the longest,
    kept every survey's counts that long), and of a survey no longer loaded, whose
    retention is not known, none of the longest a survey may have (found by review: its
    counts went before its feedback). None: all are kept."""
    kept = settings.statistics_retention
    if kept is None:
        return None
    return StatisticsCutoff(
        flows={flow: (now - max(kept, each)).date() for flow, each in retentions.items()},
        other=(now - max(kept, LONGEST_RETENTION)).date(),
    )


def configured_recipients(settings: Settings, catalog: FlowCatalog) -> list[Recipient]:
    """The webhook recipients; raises RecipientsError for an unusable file, or for a
    flow's purpose to pass feedback on that no recipient receives."""
    t = operator_translator()
    recipients = []
    if settings.recipients_file is not None:
        recipients = load_recipients(settings.recipients_file, catalog, t)
    require_recipients(catalog, recipients, t)
    return recipients


def audit_kept(settings: Settings, retentions: Mapping[str, timedelta]) -> timedelta:
    """How long the audit trail is kept: FEEDBACKBOT_AUDIT_RETENTION, which must outlast
    the feedback its entries may be about (a deletion notice that could not be sent names
    it): where unset, at least the longest retention of a survey loaded (`retentions`),
    as it follows FEEDBACKBOT_RETENTION; set shorter than one, ConfigurationError (found
    by a flow author's walk-through: a survey's own `retention = "3000d"` outlasted the
    trail of four years without a word)."""
    longest = max(retentions.values(), default=settings.retention)
    if settings.audit_retention_follows:
        return max(settings.audit_retention, longest)
    short = sorted(flow for flow, kept in retentions.items() if kept > settings.audit_retention)
    if short:
        t = operator_translator()
        raise ConfigurationError(
            t.gettext(
                "FEEDBACKBOT_AUDIT_RETENTION ({audit}) is shorter than the retention of the "
                "survey {flows} ({retention}): audit entries about feedback must not go "
                "before the feedback"
            ).format(
                audit=t.duration(settings.audit_retention),
                flows=", ".join(short),
                retention=t.duration(retentions[short[0]]),
            )
        )
    return settings.audit_retention


def service_config(settings: Settings, catalog: FlowCatalog) -> ServiceConfig:
    """The service configuration the bot runs with, recipients included."""
    shared = tuple(
        shared_recipient(
            r.id, r.name, internal=r.internal, purpose=r.purpose, fields=r.fields, redact=r.redact
        )
        for r in configured_recipients(settings, catalog)
    )
    return ServiceConfig(
        controller=Controller(
            name=settings.controller_name or "",
            contact=settings.controller_contact or "",
            dpo=settings.dpo_contact,
        ),
        retention=settings.retention,
        recipients=(
            HOSTING,
            TELEGRAM_ROLES[settings.telegram_role],
            *_staff_chat(settings),
            *shared,
        ),
        timezone=settings.timezone,
        audit_retention=audit_kept(settings, catalog_retentions(settings, catalog)),
        statistics_retention=settings.statistics_retention,
        consent_proof_retention=settings.consent_proof_retention,
        staff_summaries=bool(settings.staff_ids),
        support_contact=settings.support_contact,
        feedback_limit=(
            None if settings.feedback_limit is None else FeedbackLimit(most=settings.feedback_limit)
        ),
    )


def _staff_chat(settings: Settings) -> tuple[NamedRecipient, ...]:
    """The staff chat as the notices name it: with alerts (single feedback posted, and
    answered) or with digests only."""
    if settings.staff_chat_id is None:
        return ()
    return (STAFF_CHAT_ALERTS if settings.alert_threshold is not None else STAFF_CHAT,)
