"""Assembles the python-telegram-bot Application from settings."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.ext import Application, ContextTypes, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.commands import register_commands
from bot.context import BotApplication, BotContext, BotData
from bot.handlers import all_handlers
from bot.processor import PerPersonUpdateProcessor
from bot.render import render
from bot.settings import Settings
from flows.catalog import FlowCatalog
from flows.consent import Controller
from flows.rights import DataRights
from flows.service import FeedbackService, ServiceConfig, utc_now
from storage.interface import Store, StoreError

log = logging.getLogger("bot.app")


def build_application(
    settings: Settings,
    store: Store,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> BotApplication:
    """The bot, ready for `run_polling` or `process_update`. The store is opened in post_init."""
    if settings.token is None:
        raise ValueError("a token is required to build the application")
    catalog = FlowCatalog.load(settings.flows_dir)
    config = ServiceConfig(
        controller=Controller(
            name=settings.controller_name or "",
            contact=settings.controller_contact or "",
            dpo=settings.dpo_contact,
        ),
        retention=settings.retention,
    )
    service = FeedbackService(store, catalog, config, clock=clock)
    builder = (
        Application.builder()
        .token(settings.token.get_secret_value())
        .base_url(settings.api_base_url)
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .concurrent_updates(PerPersonUpdateProcessor())
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    builder = builder.request(request or HTTPXRequest(connection_pool_size=16))
    builder = builder.get_updates_request(get_updates_request or HTTPXRequest())
    application: BotApplication = builder.build()
    application.bot_data.settings = settings
    application.bot_data.service = service
    application.bot_data.rights = DataRights(store, catalog, config, clock)
    for group, handler in all_handlers():
        application.add_handler(handler, group=group)
    application.add_error_handler(_on_error)
    return application


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    data: BotData = application.bot_data
    assert data.service is not None and data.settings is not None
    await data.service.store.open()
    await purge_expired(data.service)
    if application.job_queue is not None:
        # Jobs live in memory only: the schedule is recreated from the settings at every start.
        interval = data.settings.purge_interval.total_seconds()
        application.job_queue.run_repeating(
            _purge_job, interval=interval, first=interval, name="purge"
        )
    await register_commands(application, data.settings.default_locale)
    log.info("bot ready")


async def purge_expired(service: FeedbackService) -> None:
    """Delete what has expired; a failure is logged and retried at the next interval."""
    try:
        report = await service.store.purge_expired(service.clock())
    except StoreError as error:
        log.error("purge failed: %s", type(error).__name__)
        return
    log.info(
        "purge: %d feedback, %d drafts, %d orphans, %d keys",
        report.feedback,
        report.drafts,
        report.orphans,
        report.keys,
    )


async def _purge_job(context: BotContext) -> None:
    await purge_expired(context.service)


async def _post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    data: BotData = application.bot_data
    if data.service is not None:
        await data.service.store.close()


async def _on_error(update: object, context: BotContext) -> None:
    """Log the failure (redacted by the log formatter) and apologise in the person's language."""
    # Exception messages can quote what a person typed (validation errors do), so only
    # the type and where it happened are logged.
    error = context.error
    where = " < ".join(
        f"{frame.name}@{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
        for frame in reversed(traceback.extract_tb(error.__traceback__ if error else None))
    )
    log.error("update failed: %s at %s", type(error).__name__, where)
    if (
        isinstance(update, Update)
        and update.effective_chat
        and update.effective_chat.type == "private"
    ):
        try:
            await render(context.service.apology(context.locale(update)), update, context)
        except Exception:  # the apology must never raise out of the error handler
            log.exception("apology failed")
