"""Assembles the python-telegram-bot Application from settings."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import LinkPreviewOptions, Update
from telegram.error import Conflict, NetworkError
from telegram.ext import Application, ContextTypes, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.alerts import Alerts
from bot.commands import register_commands
from bot.config import (
    audit_kept,
    configured_recipients,
    service_config,
    statistics_before,
    unanswered_contact_flows,
)
from bot.context import BotApplication, BotContext, BotData
from bot.handlers import all_handlers
from bot.handlers.common import remembered_language
from bot.operator import operator_translator
from bot.processor import PerPersonUpdateProcessor
from bot.render import render
from bot.requests import ServerErrorsRaised
from bot.retractions import Retractor
from bot.settings import SHORT_RETENTION, Settings
from bot.webhooks import WebhookSender
from flows.catalog import FlowCatalog
from flows.durations import compact_duration
from flows.i18n import N_
from flows.language import LanguageDesk
from flows.rights import DataRights
from flows.service import FeedbackService, utc_now
from flows.staff import StaffDesk, StaffSettings
from storage.interface import UPKEEP_WITHDRAWN_LEFTOVERS, FeedbackRecord, Store, StoreError
from storage.sqlite import says_damaged, stray_databases

log = logging.getLogger("bot.app")

DIGEST_GRACE = timedelta(hours=2)
"""How late a scheduled digest is still posted, and how soon after one another is not."""
DIGEST_KEPT = timedelta(days=1)
"""How long a digest Telegram did not take is tried again at the purges."""
DIGEST_RECHECKED = timedelta(seconds=30)
"""A digest that waited this long behind the alerts is checked again before it is posted
(see `_still_true`)."""


def build_application(
    settings: Settings,
    store: Store,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Callable[[], datetime] = utc_now,
    catalog: FlowCatalog | None = None,
    staff_chat_is_real: bool = True,
    store_open: bool = False,
) -> BotApplication:
    """The bot, ready for `run_polling` or `process_update`. The store is opened in post_init
    (but for `store_open`: opened already, on the event loop the bot runs on, as `run` does
    to fail fast), and closed in post_shutdown.
    `catalog`: the flows, if loaded already (else from the settings). Not
    `staff_chat_is_real` (`feedbackbot chat`, whose Telegram is a stand-in): alerts are not
    noted and none is retracted, as the stand-in's message ids are not the real chat's
    (found by review: a demo on the bot's data folder forgot retractions still owed, and
    noted its alerts under the real chat's id), and no feedback is passed on to recipients."""
    if settings.token is None:
        raise ValueError("a token is required to build the application")
    catalog = catalog or FlowCatalog.load(
        settings.flows_dir, operator_translator(), settings.shipped_flows
    )
    config = service_config(settings, catalog)
    service = FeedbackService(store, catalog, config, clock=clock)
    builder = (
        Application.builder()
        .token(settings.token.get_secret_value())
        .base_url(settings.api_base_url)
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .concurrent_updates(PerPersonUpdateProcessor())
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    builder = builder.request(ServerErrorsRaised(request or HTTPXRequest(connection_pool_size=16)))
    builder = builder.get_updates_request(get_updates_request or HTTPXRequest())
    application: BotApplication = builder.build()
    application.bot_data.settings = settings
    application.bot_data.service = service
    application.bot_data.store_open = store_open
    application.bot_data.rights = DataRights(store, catalog, config, clock)
    languages = LanguageDesk(store, service, clock)
    application.bot_data.languages = languages
    application.bot_data.rights.erasure_listeners.append(languages.forget)
    application.bot_data.rights.erasure_listeners.append(service.forget)
    application.bot_data.staff = StaffDesk(
        store,
        catalog,
        StaffSettings(
            min_group_size=settings.min_group_size,
            alert_threshold=settings.alert_threshold,
            contact=settings.dpo_contact or settings.controller_contact or "",
            rules=settings.staff_rules,
            timezone=settings.timezone,
            controller=settings.controller_name or "",
            # the customer service, where one is set: the answer's note that names it
            # sent customers to the data protection address, and a reply to the answer
            # was then pointed to the service (found by a staff walk-through)
            write_to=settings.support_contact or settings.controller_contact or "",
            default_locale=settings.default_locale,
            retention=settings.retention,
            audit_retention=config.audit_retention,
        ),
        clock,
    )
    if staff_chat_is_real:
        retractor = Retractor(
            application.bot,
            store,
            settings.staff_language,
            _alert_text(application.bot_data.staff, settings.staff_language),
            clock,
            settings.timezone,
            settings.staff_thread_id,
        )
        application.bot_data.retractor = retractor
        application.bot_data.rights.after_removal.append(retractor.soon)
    alerts = Alerts(application, outbox=staff_chat_is_real)
    application.bot_data.alerts = alerts
    service.feedback_listeners.append(alerts)
    service.alert_of = alerts.due
    # Also with no recipients file: recipients removed with it may hold feedback passed
    # on before, which an erasure names in the audit trail (found by review: with the file
    # unset, nobody listened to an erasure, and nothing said whom to ask by hand).
    recipients = configured_recipients(settings, catalog)
    webhooks = WebhookSender(store, catalog, recipients, settings.default_locale, clock)
    if staff_chat_is_real:
        service.recipients_of = webhooks.recipients_of
        service.feedback_listeners.append(webhooks.on_feedback)
    # (else nothing is passed on: found by review, `chat --recipients` with the production
    # file sent a demo feedback to the real recipient, signed, with nobody later told to
    # delete it; the consent question still names the recipients as `run` does)
    application.bot_data.rights.removal_listeners.append(webhooks.on_removal)
    application.bot_data.rights.recipient_names = {r.id: r.name for r in recipients}
    application.bot_data.rights.recipient_purposes = {r.id: r.purpose for r in recipients}
    application.bot_data.webhooks = webhooks
    for group, handler in all_handlers(settings):
        application.add_handler(handler, group=group)
    application.add_error_handler(_on_error)
    return application


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    data: BotData = application.bot_data
    assert data.service is not None and data.settings is not None
    if not data.store_open:
        await data.service.store.open()
    try:
        await refuse_cutting_short(data.service.store, data.service.retentions())
        await cap_retention(data.service)
        await end_withdrawn_leftovers(data.service)
        await purge_expired(data.service, data.settings)
    except StoreError:
        await data.service.store.close()
        raise
    except Exception as error:
        if not says_damaged(error):
            raise
        await data.service.store.close()
        # found by testing with pages overwritten: the purge at start ended `run` with
        # SQLite's traceback
        raise StoreError(
            N_(
                "a file of the store in {path} is damaged: `feedbackbot check` names it; "
                "restore the newest backup (`feedbackbot restore`)"
            ),
            path=data.settings.data_dir,
        ) from None
    for aside in sorted(data.settings.data_dir.glob("replaced-*")):  # (review of restore)
        log.warning(
            "%s holds the files a restore replaced, beyond the purge: delete it once the bot "
            "runs well",
            aside,
        )
    for stray in stray_databases(data.settings.data_dir):
        log.warning(
            "%s is a database in the data folder that is none of the bot's files, beyond "
            "erasure and the purge: move it elsewhere or delete it",
            stray,
        )
    if data.retractor is not None:  # also what the ledger carried out again at opening
        data.retractor.soon()
    await archive_consent_texts(data.service)
    if data.webhooks is not None:
        await data.webhooks.resume()
    if data.alerts is not None:  # those a stop, a crash or Telegram kept back
        await data.alerts.resume()
    if application.job_queue is not None:
        # Jobs live in memory only: the schedule is recreated from the settings at every start.
        interval = data.settings.purge_interval.total_seconds()
        application.job_queue.run_repeating(
            _purge_job,
            interval=interval,
            first=interval,
            name="purge",
            job_kwargs={"misfire_grace_time": int(interval), "coalesce": True},
        )
    schedule_digest(application)
    await register_commands(
        application,
        data.settings.default_locale,
        sorted(data.settings.staff_ids),
        data.settings.staff_chat_id,
        data.settings.staff_locale,
    )
    log.info("bot ready")


def warn_if_contact_unused(settings: Settings, catalog: FlowCatalog) -> None:
    """Surveys asking for consent to be contacted where staff cannot answer anyone: the
    references to answer by come with alerts, which need a staff chat and a threshold,
    and someone to answer. A chat id kept for a purpose nothing serves is more data than
    the bot needs."""
    asking = unanswered_contact_flows(settings, catalog)
    if asking:
        log.warning(
            "surveys %s ask for consent to be contacted, but without FEEDBACKBOT_STAFF_CHAT_ID, "
            "FEEDBACKBOT_ALERT_THRESHOLD and FEEDBACKBOT_STAFF_IDS staff cannot answer anyone: "
            "set all three, or remove the contact question from these flows (a shipped one: "
            "leave it out with FEEDBACKBOT_SHIPPED_FLOWS, or replace it by a copy in "
            "FEEDBACKBOT_FLOWS_DIR)",
            ", ".join(asking),
        )


async def refuse_cutting_short(store: Store, retentions: Mapping[str, timedelta]) -> None:
    """StoreError where a retention under a day would bring the deletion date of feedback
    already stored forward, for good (the next purge deletes it): most likely a slip
    ("180" is 180 seconds), which setting it right again would not undo (found by an
    operator audit). For every start that applies retentions: `run`, `chat`."""
    short = {flow: period for flow, period in retentions.items() if period < SHORT_RETENTION}
    if short and (cut := await store.cap_retention(short, apply=False)):
        raise StoreError(
            N_(
                "a retention of only {retention} (surveys: {flows}; FEEDBACKBOT_RETENTION or "
                "the flow's own; a plain number counts seconds and m minutes) would delete "
                "{count} feedback already stored within it, for good; write e.g. 180d for 180 "
                "days. Nothing was changed."
            ),
            retention=compact_duration(min(short.values())),
            flows=", ".join(sorted(short)),
            count=cut,
        )


async def cap_retention(service: FeedbackService) -> None:
    """A retention shortened since the last start holds for the feedback stored too, and
    a proof period shortened or ended for the proof of consent kept (the purge right after
    deletes what is now past its date)."""
    try:
        capped = await service.store.cap_retention(service.retentions())
    except StoreError as error:
        log.error("retention not applied to stored feedback: %s", type(error).__name__)
        return
    if capped:
        log.info("retention shortened: %d feedback now deleted sooner", capped)
    # The language choices too, at most the retention from now: when each was last used
    # is not stored (see LanguageDesk._renewal_due, which moves the date of one in use).
    try:
        chosen = await service.store.cap_languages(service.clock() + service.config.retention)
    except StoreError as error:
        log.error("retention not applied to language choices: %s", type(error).__name__)
    else:
        if chosen:
            log.info("retention shortened: %d language choices now deleted sooner", chosen)
    # FEEDBACKBOT_CONSENT_PROOF_RETENTION shortened or turned off holds for the proof
    # kept too, as the notices then say (found by review).
    period = service.config.consent_proof_retention
    try:
        people = await service.store.cap_consent_proofs(period)
    except StoreError as error:
        log.error("proof period not applied to the proof kept: %s", type(error).__name__)
        return
    if people and period is None:  # (an operator who unset it by mistake learns it here)
        log.warning(
            "FEEDBACKBOT_CONSENT_PROOF_RETENTION is not set: the proof of consent kept was"
            " deleted (people: %d)",
            people,
        )
    elif people:
        log.info(
            "proof of consent period shortened: the proof kept is kept shorter (people: %d)", people
        )


async def end_withdrawn_leftovers(service: FeedbackService) -> None:
    """Once per store (a data migration leaves the task, done at the first start): feedback
    whose consent was withdrawn under a version before 30 Nov 2026, which kept it no longer
    evaluated, goes with the purge right after, as a withdrawal now erases it (Art.
    17(1)(b)), and the recipients that got it are asked to delete it. A failure (a full
    disk) leaves the task for the next start."""
    store = service.store
    try:
        if UPKEEP_WITHDRAWN_LEFTOVERS not in await store.upkeep_due():
            return
        # The loaded flows' required purposes: the feedback of a flow no longer loaded is
        # left as it is (which purposes it needed is not known), until its deletion date.
        required = {
            flow.id: [purpose.id for purpose in flow.required_purposes]
            for flow in service.catalog.flows.values()
        }
        ended = await store.end_withdrawn_leftovers(required, service.clock())
        # Made again at the next start while feedback of a survey not loaded is stored
        # (found by a DPO review: a start without it marked the task done, its leftovers
        # kept for good), until that survey is loaded again or its feedback has expired.
        beyond = await store.holds_feedback_beyond(required)
        if not beyond:
            await store.upkeep_done(UPKEEP_WITHDRAWN_LEFTOVERS)
    except StoreError as error:
        log.error(
            "feedback whose consent was withdrawn under an earlier version not erased (%s): "
            "tried again at the next start",
            type(error).__name__,
        )
        return
    # Quiet when there was none, as in every new store (found walking the README).
    log.log(
        logging.INFO if ended else logging.DEBUG,
        "feedback whose consent was withdrawn under an earlier version: %d to be deleted now",
        ended,
    )
    if beyond:
        log.warning(
            "feedback of a survey no loaded flow declares is stored: whether its consent was "
            "withdrawn under an earlier version is looked at again at the next start; load "
            "every survey once so that it can be"
        )


async def purge_expired(service: FeedbackService, settings: Settings | None = None) -> None:
    """Delete what has expired, audit entries older than FEEDBACKBOT_AUDIT_RETENTION and the
    counts older than FEEDBACKBOT_STATISTICS_RETENTION (none without `settings`), keeping
    proof of the consents whose records go for FEEDBACKBOT_CONSENT_PROOF_RETENTION; a
    failure is logged and retried at the next interval."""
    now = service.clock()
    audit_before = None if settings is None else now - audit_kept(settings, service.retentions())
    statistics = (
        None if settings is None else statistics_before(settings, service.retentions(), now)
    )
    proof = None if settings is None else settings.consent_proof_retention
    try:
        report = await service.store.purge_expired(now, audit_before, statistics, proof)
    except StoreError as error:
        log.error("purge failed: %s", type(error).__name__)
        return
    # A purge that deleted nothing, most of them, is not worth a line at every interval.
    log.log(
        logging.INFO if any(report.model_dump().values()) else logging.DEBUG,
        "purge: %d feedback, %d drafts, %d language choices, %d consent records, %d orphans,"
        " %d keys, %d audit entries, %d deletion notices, %d days' counts,"
        " proof of consent kept for %d people",
        report.feedback,
        report.drafts,
        report.languages,
        report.consents,
        report.orphans,
        report.keys,
        report.audit,
        report.notices,
        report.statistics,
        report.proofs,
    )


async def archive_consent_texts(service: FeedbackService) -> None:
    """Keep the consent texts the bot shows in the store's archive, so that the hash in a
    consent record can be shown as its wording after any change of settings or version;
    a failure (a full disk) is logged and tried again before the next consent is recorded."""
    try:
        added = await service.archive_consent_texts()
    except StoreError as error:
        log.error(
            "consent texts not archived (%s): tried again at the next consent", type(error).__name__
        )
        return
    if added:  # a start with the texts of the last one says nothing (found by an operator walk)
        log.info("consent texts archived: %d new", added)


async def _purge_job(context: BotContext) -> None:
    settings = context.bot_data.settings
    await purge_expired(context.service, settings)
    retractor = context.bot_data.retractor
    if retractor is not None:  # posts about feedback that expired
        retractor.soon()
    alerts = context.bot_data.alerts
    if alerts is not None:  # those Telegram could not take before
        await alerts.resume()
    await _post_kept_digest(context.bot_data)
    webhooks = context.bot_data.webhooks
    if webhooks is not None:  # what the purge asked recipients to delete
        try:
            await webhooks.send_kept_notices()
        except StoreError as error:
            log.error("deletion notices not read: %s", type(error).__name__)


def schedule_digest(application: BotApplication) -> None:
    """Recreate the digest job from the settings (jobs are not persisted)."""
    settings = application.bot_data.settings
    schedule = settings.digest_schedule if settings else None
    if settings is None or schedule is None or settings.staff_chat_id is None:
        return
    if application.job_queue is None:
        log.warning("digest configured but the job queue is unavailable")
        return
    at = schedule.at.replace(tzinfo=ZoneInfo(settings.timezone))
    # PTB counts days from Sunday = 0; the schedule from Monday = 0.
    days = tuple(range(7)) if schedule.weekday is None else ((schedule.weekday + 1) % 7,)
    # A process woken late (a virtual machine resumed, a busy host) still posts it, once
    # (time review: the job queue's grace of one second dropped the day's digest).
    late = {"misfire_grace_time": int(DIGEST_GRACE.total_seconds()), "coalesce": True}
    application.job_queue.run_daily(_digest_job, time=at, days=days, name="digest", job_kwargs=late)


async def post_digest(application: BotApplication) -> None:
    """Send the digest to the staff chat now."""
    data = application.bot_data
    assert data.settings is not None and data.staff is not None
    schedule = data.settings.digest_schedule
    chat = data.settings.staff_chat_id
    if schedule is None or chat is None:
        return
    made = data.service.clock() if data.service is not None else utc_now()
    outcome = await data.staff.digest(data.settings.staff_language, schedule.period, at=made)
    data.digest_due = None  # a newer one made: the one not posted is out of date
    if data.alerts is None:
        return
    text = outcome.replies[0].text

    async def as_now() -> tuple[Any, ...]:
        # After a wait behind alerts held up by flood control (minutes, found by a
        # review of races), as after a failure: not with what was erased meanwhile.
        nonlocal text
        replies: tuple[Any, ...] = outcome.replies
        if _clock(data) - made > DIGEST_RECHECKED:
            replies, text = await _still_true(data, made, replies, text)
        return replies

    left = await data.alerts.post_in_turn(outcome.replies, "digest", as_now)
    if left:
        log.warning("the digest is tried again at each purge, for a day at most")
        data.digest_due = (made, left, text)


def _clock(data: BotData) -> datetime:
    return data.service.clock() if data.service is not None else utc_now()


async def _still_true(
    data: BotData, made: datetime, replies: tuple[Any, ...], text: str
) -> tuple[tuple[Any, ...], str]:
    """A digest made at `made` (its `replies` still to post, its `text`) as it is to be
    posted now: as it was (audited once, when made: found by review, a new one made at
    each try was audited as disclosed at each), unless what it shows has changed since:
    the comment of someone who has since erased their data or withdrawn their consent
    must not reach the staff chat (found by a review of races: it did, hours later). A
    new one is made then, of the same days (after midnight the next day's would differ),
    audited, and posted whole."""
    assert data.settings is not None and data.staff is not None
    schedule = data.settings.digest_schedule
    if schedule is None:
        return replies, text
    locale = data.settings.staff_language
    again = await data.staff.digest(locale, schedule.period, audited=False, at=made)
    if again.replies[0].text == text:
        return replies, text
    log.info("the digest not posted has changed since it was made: a new one posted")
    outcome = await data.staff.digest(locale, schedule.period, at=made)
    return outcome.replies, outcome.replies[0].text


async def _post_kept_digest(data: BotData) -> None:
    """The digest Telegram did not take at its time, as it is still true (`_still_true`),
    for a day at most (`feedbackbot summary` prints one later)."""
    if data.digest_due is None or data.alerts is None:
        return
    made, replies, text = data.digest_due
    if _clock(data) - made > DIGEST_KEPT:
        log.error("digest not posted for a day: given up (`feedbackbot summary` prints it)")
        data.digest_due = None
        return

    async def as_now() -> tuple[Any, ...]:  # checked once the alerts let it go
        nonlocal replies, text
        replies, text = await _still_true(data, made, replies, text)
        return replies

    left = await data.alerts.post_in_turn(replies, "digest", as_now)
    data.digest_due = (made, left, text) if left else None


async def _digest_job(context: BotContext) -> None:
    """The scheduled digest; once, also in the hour the clocks go back, which comes twice
    (time review: a digest at 02:30 was posted at 02:30 summer time and again an hour
    later)."""
    data = context.bot_data
    now = data.service.clock() if data.service is not None else None
    if (
        now is not None
        and data.digest_ran_at is not None
        and now - data.digest_ran_at < DIGEST_GRACE
    ):
        return
    data.digest_ran_at = now
    await post_digest(context.application)  # type: ignore[arg-type]


def _alert_text(staff: StaffDesk, locale: str) -> Callable[[FeedbackRecord, datetime], str | None]:
    """An alert's text as the staff chat is shown it, posted at the time given (one
    message, else None)."""

    def text(record: FeedbackRecord, posted_at: datetime) -> str | None:
        outcome = staff.alert(locale, record, posted_at=posted_at)
        if outcome is None or len(outcome.replies) != 1:
            return None
        return outcome.replies[0].text

    return text


ALERTS_AT_STOP = 10.0
"""Seconds a stop waits for the alerts on their way to be posted and noted."""


async def _post_stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """While the bot's connection is still open (python-telegram-bot closes it before
    post_shutdown): the alerts on their way are posted and noted, for a while, so that
    none is sent and then not noted (found by review); the retractions under way stop."""
    data: BotData = application.bot_data
    if data.background and data.alerts is not None:
        await data.alerts.stop(set(data.background), ALERTS_AT_STOP)
    if data.retractor is not None:
        data.retractor.stop()
        await data.retractor.wait()


async def _post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    data: BotData = application.bot_data
    if data.retractor is not None:  # the bot's connection is closed by now
        data.retractor.stop()
        await data.retractor.wait()  # before the store closes under it
    if data.webhooks is not None:
        await data.webhooks.close()  # what has not arrived is sent after the next start
    if data.service is not None:
        await data.service.store.close()


async def _on_error(update: object, context: BotContext) -> None:
    """Log the failure (redacted by the log formatter) and apologise in the person's language."""
    # Exception messages can quote what a person typed (validation errors do), so only
    # the type and where it happened are logged.
    error = context.error
    if update is None and isinstance(error, NetworkError):
        # A failed getUpdates (Telegram 5xx, a dropped connection): polling retries by itself.
        log.warning("polling failed (%s); retrying", type(error).__name__)
        return
    if update is None and isinstance(error, Conflict):
        log.error(
            "another process is polling with this bot token (409 Conflict): "
            "only one may run; stop the other one"
        )
        return
    where = " < ".join(
        f"{frame.name}@{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
        for frame in reversed(traceback.extract_tb(error.__traceback__ if error else None))
    )
    log.error("update failed: %s at %s", type(error).__name__, where)
    if says_damaged(error):  # found by testing with pages overwritten: nothing said what
        log.error(
            "a file of the store is damaged: `feedbackbot check` names it; stop the bot "
            "and restore the newest backup"
        )
    if (
        isinstance(update, Update)
        and update.effective_chat
        and update.effective_chat.type == "private"
    ):
        try:
            # An error's context is not the update's: the language chosen, from memory.
            remembered_language(update, context)
            await render(context.service.apology(context.locale(update)), update, context)
        except Exception:  # the apology must never raise out of the error handler
            log.exception("apology failed")
