"""Typed callback context: the service and the sender as flows/ sees them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.settings import Settings
from flows.i18n import resolve_locale
from flows.language import AppLanguage, LanguageDesk
from flows.rights import DataRights
from flows.service import FeedbackService, Person
from flows.staff import StaffDesk

if TYPE_CHECKING:
    from bot.alerts import Alerts
    from bot.retractions import Retractor
    from bot.webhooks import WebhookSender


@dataclass
class BotData:
    """Process-wide objects, filled in by `build_application` and `post_init`."""

    settings: Settings | None = None
    service: FeedbackService | None = None
    store_open: bool = False
    """The service's store was opened before the bot started (`run`): post_init does not
    open it again."""
    rights: DataRights | None = None
    staff: StaffDesk | None = None
    languages: LanguageDesk | None = None
    webhooks: WebhookSender | None = None
    retractor: Retractor | None = None
    alerts: Alerts | None = None
    group_notices: dict[int, float] = field(default_factory=dict)
    open_questions: dict[int, int] = field(default_factory=dict)
    """Per chat, the message showing the buttons of the current question (in memory only:
    after a restart, a question answered by typing keeps its buttons; pressing them later
    shows the current question again)."""
    lapsing: dict[int, list[int]] = field(default_factory=dict)
    """Per chat, the messages whose buttons act on the survey under way (Undo), removed
    once it is over (in memory, bounded as `open_questions`)."""
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    answered_once: dict[tuple[int, str], None] = field(default_factory=dict)
    """Per chat, the edited messages and albums answered already (bounded, in memory)."""
    digest_ran_at: datetime | None = None
    """When the scheduled digest job last ran (by the service's clock)."""
    digest_due: tuple[datetime, tuple[Any, ...], str] | None = None
    """The scheduled digest Telegram did not take (down, flood control, the staff chat cut
    off), when it was made, its messages not posted and its text: posted at a purge, as
    made (audited once) unless what it shows has changed since, for a day at most, or
    until the next one is made."""

    def first_time(self, chat_id: int, what: str) -> bool:
        """Whether `what` (an edited message's id, an album's id) is seen in `chat_id` for
        the first time: one answer to it, not one to each of its updates."""
        key = (chat_id, what)
        if key in self.answered_once:
            return False
        self.answered_once[key] = None
        if len(self.answered_once) > 10_000:  # bounded: forget the oldest
            del self.answered_once[next(iter(self.answered_once))]
        return True


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """What every handler gets: the service, the sender as a Person, and their locale."""

    chosen_locale: str | None = None
    """The language the sender chose with /sprache, looked up once per update before any
    feature runs (see handlers.common.recall_language); None: their app's language."""

    @property
    def service(self) -> FeedbackService:
        service = self.bot_data.service
        if service is None:
            raise RuntimeError("the feedback service is not ready yet")
        return service

    @property
    def rights(self) -> DataRights:
        rights = self.bot_data.rights
        if rights is None:
            raise RuntimeError("the data-rights service is not ready yet")
        return rights

    @property
    def staff(self) -> StaffDesk:
        staff = self.bot_data.staff
        if staff is None:
            raise RuntimeError("the staff desk is not ready yet")
        return staff

    @property
    def languages(self) -> LanguageDesk:
        languages = self.bot_data.languages
        if languages is None:
            raise RuntimeError("the language desk is not ready yet")
        return languages

    @property
    def settings(self) -> Settings:
        settings = self.bot_data.settings
        if settings is None:
            raise RuntimeError("settings missing")
        return settings

    def locale(self, update: Update) -> str:
        """The sender's language: the one they chose, else their app's."""
        return self.chosen_locale or self.app_locale(update)

    def app_locale(self, update: Update) -> str:
        """The language the sender's Telegram app reports (or the default)."""
        return self.app_language(update).locale

    def app_language(self, update: Update) -> AppLanguage:
        """The app's language if the bot speaks it, else the default, saying which."""
        user = update.effective_user
        reported = user.language_code if user else None
        locale = resolve_locale(reported, self.settings.default_locale)
        primary = (reported or "").replace("_", "-").split("-")[0].lower()
        return AppLanguage(locale, spoken=primary == locale, reported=bool(primary))

    def staff_locale(self, update: Update) -> str:
        """The language of an answer to a member of staff: in the staff chat, where the
        whole team reads it, the one FEEDBACKBOT_STAFF_LOCALE sets, as for alerts and
        digests (found by an English-speaking team's review: a German colleague's
        /zusammenfassung there came in German); elsewhere, and with the setting unset, the
        one they chose, else their app's where the bot speaks it, else the team's, not the
        customers' default (a colleague whose Telegram is in Polish got German)."""
        chat, settings = update.effective_chat, self.settings
        if (
            settings.staff_locale is not None
            and chat is not None
            and chat.type != chat.PRIVATE
            and chat.id == settings.staff_chat_id
        ):
            return settings.staff_locale
        if self.chosen_locale:
            return self.chosen_locale
        app = self.app_language(update)
        return app.locale if app.spoken else self.settings.staff_language

    def is_staff(self, update: Update) -> bool:
        """Whether the sender is a member of staff (FEEDBACKBOT_STAFF_IDS)."""
        user = update.effective_user
        return user is not None and user.id in self.settings.staff_ids

    def person(self, update: Update) -> Person:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            raise ValueError("update without sender")
        app = self.app_language(update)
        return Person(
            subject=f"tg-user:{user.id}",
            chat_id=chat.id,
            locale=self.chosen_locale or app.locale,  # as `locale`, the app's looked at once
            app_locale=app.locale if app.spoken else None,
            app_unspoken=app.reported and not app.spoken,
            staff_locale=self.staff_locale(update) if self.is_staff(update) else None,
        )


BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
