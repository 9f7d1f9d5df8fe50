"""What the bot says and decides for one person: consent gate, flow, help, cancel.

The transport calls one method per update with a `Person` and renders the `Outcome`.
This is the only place where the engine's decisions meet the store.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from babel.lists import format_list

from flows.answers import from_staff
from flows.catalog import FlowCatalog
from flows.consent import (
    CONSENT_METHOD,
    Controller,
    consent_notice,
    consent_texts,
    notice_version,
    sha256_hex,
)
from flows.engine import (
    AGREES,
    AS_ASCII,
    GREETINGS,
    PUZZLED,
    PUZZLED_ALONE,
    RECTIFY,
    STOP,
    TAKE_BACK,
    YESES,
    Completion,
    ConversationState,
    Engine,
    Input,
    OtherInput,
    Press,
    TextInput,
    Turn,
    about_privacy,
    about_the_consent,
    asks_another_way,
    asks_how_long,
    asks_if_erased,
    asks_if_required,
    asks_not_to_be_contacted,
    asks_rectification,
    asks_rectification_of_contact,
    asks_to_be_contacted,
    asks_whether_contacted,
    bare_words,
    button_data,
    buttons_note,
    new_token,
    offers_contact_details,
    privacy_pointer,
    request_anywhere,
    request_at_the_end,
    sees_no_buttons,
    thanks_or_goodbye,
    typed_forms,
    typed_help,
    typed_no,
    typed_request,
    typed_start,
)
from flows.i18n import N_, SUPPORTED_LOCALES, Translator, translator
from flows.models import (
    CALLBACK_LIMIT,
    SKIP,
    ConsentStep,
    FlowDefinition,
    RatingStep,
    TextStep,
    render_text,
)
from flows.processing import (
    AUDIT_RETENTION,
    DEFAULT_RECIPIENTS,
    Processing,
    Recipient,
    describe_processing,
)
from flows.replies import Button, Outcome, Reply, headed
from flows.stopwords import written_in
from storage.interface import (
    ConsentGrant,
    ConsentMissing,
    ConsentRecord,
    DecryptionFailed,
    Draft,
    FeedbackLimit,
    FeedbackLimitReached,
    FeedbackRecord,
    NewFeedback,
    StorageFull,
    Store,
)

_COMMAND = re.compile(r"\s*/[A-Za-z]")
"""An edited message that is a command (see `edited`)."""
log = logging.getLogger("flows.service")
T = TypeVar("T")

DRAFT_IDLE = timedelta(minutes=30)
CHANGED_REQUEST_SAID_FOR = timedelta(minutes=10)
"""How long after the changed consent request was shown under someone's answers a text
they type is told, in a line, to agree to it above, rather than shown it all again."""
DEFAULT_FEEDBACK_LIMIT = 10
"""Feedbacks one person may give to one survey in any 24 hours, unless configured otherwise
(FEEDBACKBOT_FEEDBACK_LIMIT)."""
_DEFAULT_LIMIT = FeedbackLimit(most=DEFAULT_FEEDBACK_LIMIT)
_CONTINUE = N_("Let's continue where you left off.")
_SURVEY_GONE = N_(
    "The survey you had started is no longer offered, so your answers to it were discarded."
)


@dataclass(frozen=True)
class Person:
    """Who sent an update: a subject reference (never stored in clear), their chat, locale."""

    subject: str
    chat_id: int
    locale: str
    app_locale: str | None = None
    """The language the person's Telegram app reports, where the bot speaks it: kept with
    a contact chat id, to answer in (never otherwise stored)."""
    app_unspoken: bool = False
    """Whether the app reports a language the bot does not speak (French, say)."""
    staff_locale: str | None = None
    """The language a member of staff (FEEDBACKBOT_STAFF_IDS) is answered in as staff; None
    for anyone else. "Hilfe" typed lists their commands too, as /hilfe does: in this
    language with no survey open, in the survey's in one (found by review)."""

    @property
    def staff(self) -> bool:
        return self.staff_locale is not None


@dataclass(frozen=True)
class ServiceConfig:
    controller: Controller
    retention: timedelta
    draft_idle: timedelta = DRAFT_IDLE
    recipients: tuple[Recipient, ...] = DEFAULT_RECIPIENTS
    timezone: str = "Europe/Berlin"
    """Where times are shown to people (FEEDBACKBOT_TIMEZONE)."""
    audit_retention: timedelta = AUDIT_RETENTION
    """How long audit entries are kept (FEEDBACKBOT_AUDIT_RETENTION)."""
    statistics_retention: timedelta | None = None
    """How long the daily counts are kept after their day; None: without a limit."""
    consent_proof_retention: timedelta | None = None
    """How long proof of consent is kept after the person's data went; None: not kept."""
    staff_summaries: bool = False
    """Whether staff can ask for summaries, which quote the newest comments
    (FEEDBACKBOT_STAFF_IDS set), in their own chats as well as in a staff chat."""
    support_contact: str | None = None
    """Where customers write instead of replying in the chat (FEEDBACKBOT_SUPPORT_CONTACT);
    None: the controller's contact."""
    feedback_limit: FeedbackLimit | None = _DEFAULT_LIMIT
    """How many feedbacks one person may give to one survey in any 24 hours
    (FEEDBACKBOT_FEEDBACK_LIMIT); None: as many as they like."""

    def processing(self, catalog: FlowCatalog) -> Processing:
        """What the bot processes with these settings: the one source of its notices."""
        return describe_processing(
            catalog,
            self.controller,
            self.retention,
            self.draft_idle,
            self.recipients,
            self.statistics_retention,
            self.consent_proof_retention,
        )


def utc_now() -> datetime:
    return datetime.now(UTC)


class FeedbackService:
    """Consent-gated feedback conversations over any transport."""

    def __init__(
        self,
        store: Store,
        catalog: FlowCatalog,
        config: ServiceConfig,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.config = config
        self.clock = clock
        # Called with every stored feedback (alerts, webhooks); must not block.
        self.feedback_listeners: list[Callable[[str, FeedbackRecord], Awaitable[None]]] = []
        # Which recipients a new feedback goes to: their pending deliveries are stored
        # with it, in one transaction, so that no crash can lose one.
        self.recipients_of: Callable[[NewFeedback], list[tuple[str, str]]] = lambda feedback: []
        # Whether a new feedback raises an alert to the staff chat: noted as due with it,
        # in the same transaction, so that a stop or crash before it is posted loses none.
        self.alert_of: Callable[[NewFeedback], bool] = lambda feedback: False
        self.processing = config.processing(catalog)
        self._versions = {
            flow.id: notice_version(flow, self.processing) for flow in catalog.flows.values()
        }
        self._notice_texts: dict[tuple[str, str], str] = {}
        # When this process first tried to archive its consent texts, and whether it did.
        self._showing_since: datetime | None = None
        self._texts_archived = False
        # Per person, the token of the survey they finished last and when: a button of it
        # pressed afterwards is told so (one process; bounded, the oldest forgotten).
        self._finished: dict[str, tuple[str, datetime]] = {}
        # Per person, when they last cancelled a survey with /cancel (likewise bounded).
        # With the command that begins that survey again ("/start product": found by a
        # customer walk-through, told to send /start, which began the general survey).
        self._cancelled: dict[str, tuple[datetime, str]] = {}
        # Per person, when the consent request changed under their answers was last shown
        # to them (likewise bounded; see CHANGED_REQUEST_SAID_FOR).
        self._changed_shown: dict[str, datetime] = {}
        # Per person who agreed to something before, when a consent request was last shown
        # to them (likewise bounded): a yes typed under it is pointed to its button.
        self._requested: dict[str, datetime] = {}
        # Per person, when they last declined a consent request, and the command that shows
        # it again (likewise bounded): its buttons are gone, so a yes typed after it is
        # pointed to that command, not to them.
        self._declined_at: dict[str, tuple[datetime, str]] = {}

    async def archive_consent_texts(self) -> int:
        """Keep every consent text the flows can show, in every language, in the store's
        archive (what is there already stays as it was); how many were new. Raises
        StorageFull. Done at start and, until it succeeded, again before a consent is
        recorded: no consent record this process writes lacks the text its hash is of."""
        if self._showing_since is None:  # a start's time, never a person's consent's
            self._showing_since = self.clock()
        texts = [
            text
            for flow in self.catalog.flows.values()
            for text in consent_texts(flow, self.processing)
        ]
        added = await self.store.archive_consent_texts(texts, self._showing_since)
        self._texts_archived = True
        return added

    async def _archived(self) -> None:
        if not self._texts_archived:
            await self.archive_consent_texts()

    # --- commands -------------------------------------------------------------------
    async def start(self, person: Person, flow_id: str | None = None) -> Outcome:
        """/start [flow]: continue a running conversation, or ask for consent, or begin."""
        t = translator(person.locale)
        pseudonym = self.store.pseudonym(person.subject)
        self._cancelled.pop(pseudonym, None)
        self._declined_at.pop(pseudonym, None)  # (the request shown again, or a survey)
        state = await self._state(pseudonym)
        flow = self.catalog.get(flow_id)
        notes: tuple[str, ...] = ()
        running = self.catalog.flows.get(state.flow_id) if state is not None else None
        if state is not None and running is None:
            # The survey under way was taken out of the flows since (found by a flow
            # author's walk-through: the request of another came, and a text typed under it
            # was then told "this survey is no longer available")
            await self.store.delete_draft(pseudonym)
            state = None
            notes = (t.gettext(_SURVEY_GONE),)
        if running is not None and (flow_id is None or flow is None):
            # A plain /start (the menu's "give feedback") or an unknown link must not cost
            # the answers of the survey under way: it continues.
            if flow is None:
                notes = (*notes, t.gettext("I do not know that survey."))
            flow = running
        elif flow is None:
            meant = self._survey_meant(flow_id)
            if meant is not None:
                # "/start produkt": asked, not given the general survey's consent request
                # (found by a customer walk-through: a product link with a typo led to
                # rating the hotel's service)
                return Outcome.say(
                    t.gettext(
                        "I do not know that survey. Did you mean /start {survey}? /start alone "
                        "gives our general feedback."
                    ).format(survey=meant)
                )
            flow = self.catalog.default
            notes = (*notes, t.gettext("I do not know that survey; here is our general feedback."))
        if state is not None and state.flow_id == flow.id:
            t = _language_of(state, t)
            if self._agreed_to_older(state, flow):
                return _headed(notes, await self._ask_again_under_way(pseudonym, flow, t, state))
            outcome = await self._asked_again(pseudonym, flow, t, state, t.gettext(_CONTINUE))
            return _headed(notes, outcome)
        consents = await self.store.consents(pseudonym)
        # Before the consent request, too: nobody agrees (or answers) only to be refused.
        # (No feedback is ever stored without a consent record, which stays as long as it:
        # someone who has none, as everyone at their first /start, is not looked up.)
        refused = await self._limit_reached(pseudonym, person, flow, t) if consents else None
        if refused is not None:
            return _headed(notes, refused)
        if not self._agreed(consents, flow):
            # The notice stays a message of its own: the consent proof hashes its exact text.
            # Another survey's unfinished answers stay until this one begins: declining it
            # costs nothing, and agreeing is said to cost them before, not only after (found
            # by the language review).
            if running is not None:  # (a survey since removed cannot be gone on with)
                notes = (
                    *notes,
                    # The survey named (found by a customer walk-through: "beginnt diese,
                    # und jene werden verworfen" was stiff, and unclear which was which)
                    t.gettext(
                        "You have unfinished answers for another survey: if you agree here, "
                        "“{survey}” begins and those answers are discarded. To go on with the "
                        "other survey, send /start."
                    ).format(survey=render_text(flow.title, t)),
                )
            if await self._agreed_before(consents, flow):  # not a lost consent (review)
                notes = (
                    *notes,
                    t.gettext(
                        "This request has changed since you agreed, so I ask you again; "
                        "please read it once more."
                    ),
                )
            if person.app_unspoken:
                # The app's language is not one the bot speaks (French, say): the way to
                # the others, in each (found by an English customer's review: a French
                # app got German alone, and nothing readable named /language).
                notes = (*notes, _other_languages(person.locale))
            # The request said so over these answers: its Yes may discard them (`over`).
            if running is not None and state is not None:
                state = await self._interrupted(pseudonym, state)
            notice = self._notice(flow, t, over=state if running is not None else None)
            if consents:
                _remember(self._requested, pseudonym, self.clock())
            return Outcome(replies=(*(Reply(note) for note in notes), notice))
        if running is not None and state is not None:
            # Another survey's answers: asked first, as where consent is asked (found by
            # review: a second link tapped, a newsletter's say, discarded them unasked).
            state = await self._interrupted(pseudonym, state)
            return Outcome(replies=(*(Reply(n) for n in notes), self._to_begin(flow, t, state)))
        return await self._welcome_back(pseudonym, flow, t, state, notes)

    def _survey_meant(self, typed: str | None) -> str | None:
        """The id of a survey `typed` is a slip of ("produkt", "prodcut"; a name in other
        letters, "Product", is the survey itself), not the general one's; None for none or
        several."""
        if not typed:
            return None
        others = [i for i in self.catalog.flows if i != self.catalog.default_id]
        close = difflib.get_close_matches(typed.casefold(), others, n=2, cutoff=0.75)
        return close[0] if len(close) == 1 else None

    @staticmethod
    def _to_begin(flow: FlowDefinition, t: Translator, state: ConversationState) -> Reply:
        """Whether to begin `flow` over the unfinished answers of another survey, `state`'s:
        a question with its button, which begins it (see `_begin_press`)."""
        title = render_text(flow.title, t)
        ask = t.gettext(
            "You have unfinished answers for another survey: beginning “{survey}” "
            "discards them. To go on with the other, send /start."
        ).format(survey=title)
        # The answers it was asked over go in its data: pressed later, over others, it
        # asks again (review).
        begin = Button(
            t.gettext("Begin “{survey}”").format(survey=title), f"b:{flow.id}:{state.token}"
        )
        return Reply(ask, ((begin,),))

    async def _welcome_back(
        self,
        pseudonym: str,
        flow: FlowDefinition,
        t: Translator,
        state: ConversationState | None,
        notes: tuple[str, ...] = (),
    ) -> Outcome:
        notes = (*notes, *self._discarding(state, t))
        intro = t.gettext("Welcome back! You have already agreed, so let's begin.")
        return _headed((*notes, intro), await self._begin(pseudonym, flow, t))

    async def _begin_press(self, person: Person, t: Translator, data: str) -> Outcome:
        """``b:<flow>:<token>``: begin that survey over another's unfinished answers, those
        of `token` (see start)."""
        flow_id, _, token = data.removeprefix("b:").partition(":")
        flow = self.catalog.flows.get(flow_id)
        if flow is None:
            return Outcome(toast=t.gettext("This button is not valid."), close_keyboard=True)
        pseudonym = self.store.pseudonym(person.subject)
        if not self._agreed(await self.store.consents(pseudonym), flow):
            # withdrawn since: the consent request, as /start would show it
            return replace(await self.start(person, flow.id), close_keyboard=True)
        state = await self._state(pseudonym)
        if state is not None and state.flow_id == flow.id:  # begun already (pressed twice)
            t = _language_of(state, t)
            outcome = await self._asked_again(
                pseudonym, flow, t, state, t.gettext(_CONTINUE), keep_open=False
            )
            return replace(outcome, close_keyboard=True)
        if state is not None and state.token != token:  # other answers than it asked over
            return replace(await self.start(person, flow.id), close_keyboard=True)
        refused = await self._limit_reached(pseudonym, person, flow, t)
        if refused is not None:  # (reached since the button was sent)
            return replace(refused, close_keyboard=True)
        outcome = await self._welcome_back(pseudonym, flow, t, state)
        return replace(outcome, close_keyboard=True)

    @staticmethod
    def _discarding(state: ConversationState | None, t: Translator) -> tuple[str, ...]:
        """What to say when another survey begins over unfinished answers: its first draft
        replaces theirs (not deleted first, so that a full disk costs them nothing)."""
        if state is None:
            return ()
        return (t.gettext("Your unfinished answers for the other survey were discarded."),)

    async def under_way(self, person: Person) -> bool:
        """Whether the person has a survey under way (unfinished answers that go on)."""
        return await self._state(self.store.pseudonym(person.subject)) is not None

    async def asks_consent_first(self, person: Person) -> bool:
        """Whether a plain /start would ask the person for consent before any question
        (they have not agreed to the general survey's current request)."""
        consents = await self.store.consents(self.store.pseudonym(person.subject))
        return not self._agreed(consents, self.catalog.default)

    async def skip(self, person: Person) -> Outcome:
        """/skip (/ueberspringen), which many bots have: a question one may skip skipped,
        as with its button; an optional consent question (all in a survey are) declined,
        as with its No; any other question said not to be skipped, and asked again (found
        by a customer walk-through: "I do not know that command" and the whole help).
        Where no survey is under way, that nothing is open to skip (found by a customer
        walk-through: "I do not know that command", of a command it knows)."""
        state = await self._state(self.store.pseudonym(person.subject))
        flow = self.catalog.flows.get(state.flow_id) if state is not None else None
        if state is None or flow is None:
            return Outcome.say(
                translator(person.locale).gettext(
                    "No question is open, so there is nothing to skip. Send /start to give "
                    "feedback; /help lists what I can do."
                )
            )
        step = flow.step(state.step_id)
        if isinstance(step, TextStep) and step.skippable:
            return await self.press(person, button_data(state.token, step.id, SKIP))
        if isinstance(step, ConsentStep):
            return await self.press(person, button_data(state.token, step.id, "n"))
        t = _language_of(state, translator(person.locale))
        said = t.gettext(
            "This question cannot be skipped: please answer it, or send /cancel to stop the survey."
        )
        return await self.reminded(person, Outcome.say(said))

    async def cancel(self, person: Person) -> Outcome:
        """/abbrechen: drop the unfinished answers."""
        t = translator(person.locale)
        pseudonym = self.store.pseudonym(person.subject)
        try:
            draft = await self.store.load_draft(pseudonym, self.clock())
        except DecryptionFailed:  # whatever it held goes, as said
            draft = None
        state = ConversationState.model_validate(draft.payload) if draft is not None else None
        if await self.store.delete_draft(pseudonym):
            await self.store.flush_deletions()
            log.info("draft cancelled")
            if state is not None and not state.holds_answers:
                # Nothing answered yet (found by a customer walk-through: "your unfinished
                # answers have been discarded" right after agreeing)
                said = t.gettext("Cancelled. The survey you had started has ended.")
            else:
                said = t.gettext("Cancelled. Your unfinished answers have been discarded.")
            # A consent given in the survey is not one of its answers (found by a customer
            # walk-through: /mydata showed it after the cancel, and the next /start said
            # "you have already agreed").
            said += await self._consents_stay(pseudonym, t)
            # What next, as every other reply says (found by an English customer's review:
            # the question's buttons go, and the chat fell silent), for the survey cancelled
            start = self.catalog.start_command(state.flow_id) if state is not None else "/start"
            said += " " + t.gettext("Send {start} to give feedback.").format(start=start)
            _remember(self._cancelled, pseudonym, (self.clock(), start))
            return Outcome(replies=(Reply(said),), question_gone=True)
        if self._cancelled_recently(pseudonym):  # a second /abbrechen: the survey's own start
            start = self._cancelled[pseudonym][1]
            return Outcome.say(
                t.gettext("There is nothing to cancel. Send {start} to give feedback.").format(
                    start=start
                )
            )
        return Outcome.say(t.gettext("There is nothing to cancel. Send /start to give feedback."))

    async def relanguage(self, person: Person) -> Outcome | None:
        """The person chose another language: a feedback under way goes on in it, its
        current question asked again (the copy in the chat loses its buttons). None when
        no feedback is under way or it is in that language already."""
        pseudonym = self.store.pseudonym(person.subject)
        state = await self._state(pseudonym)
        flow = self.catalog.flows.get(state.flow_id) if state is not None else None
        if state is None or flow is None:
            return None
        t = translator(person.locale)
        if state.locale == t.locale:  # the same language: where they are, not "/start"
            return await self._asked_again(
                pseudonym, flow, t, state, t.gettext(_CONTINUE), keep_open=False
            )
        try:
            # A new token: the buttons of the copy in the old language no longer count, so
            # that an optional consent pressed there is never recorded with the hash of the
            # new language's text (its keyboard is removed, but not after a restart).
            switched = state.model_copy(update={"locale": t.locale, "token": new_token()})
            await self._save(pseudonym, switched)
        except StorageFull:
            # The choice was kept; this feedback goes on in the language it began in.
            log.error("storage full: the feedback under way keeps its language")
            return Outcome.say(
                t.gettext(
                    "The feedback you are giving goes on in {language} for now: its answers "
                    "could not be saved in the new language right now."
                ).format(language=t.language(state.locale or t.locale))
            )
        return await self._asked_again(
            pseudonym, flow, t, switched, t.gettext(_CONTINUE), keep_open=False
        )

    async def reminded(self, person: Person, outcome: Outcome, renewed: bool = False) -> Outcome:
        """`outcome` (the answer to a command such as /help or /mydata) followed by the
        open question of a feedback under way, asked again: the question is far up the
        chat by now, and whatever the person types next is taken as its answer. Its idle
        time starts again, unless `renewed` already (see `keep_open`)."""
        pseudonym = self.store.pseudonym(person.subject)
        return await self._reminded(pseudonym, person.locale, outcome, renewed)

    async def after_staff_message(self, pseudonym: str, locale: str) -> Outcome:
        """The open question of the customer's survey under way, asked again under an
        answer from staff that just reached them (found by review: what they wrote back
        below it was taken as the survey's answer); else nothing. Read only: this runs
        in staff's update, not in the order of the customer's own, and writing back
        the answers read would undo what they gave meanwhile (found by review: a survey
        finished in between came back and was stored twice)."""
        return await self._reminded(pseudonym, locale, Outcome(), read_only=True)

    async def _reminded(
        self,
        pseudonym: str,
        locale: str,
        outcome: Outcome,
        renewed: bool = False,
        read_only: bool = False,
    ) -> Outcome:
        try:
            draft = await self.store.load_draft(pseudonym, self.clock())
        except DecryptionFailed:  # a damaged draft: no question to ask again
            return outcome
        state = None if draft is None else ConversationState.model_validate(draft.payload)
        flow = self.catalog.flows.get(state.flow_id) if state is not None else None
        if draft is None or state is None or flow is None:
            return outcome
        t = _language_of(state, translator(locale))
        note = _still_open(t, outcome)
        if self._agreed_to_older(state, flow):
            # The request to agree to, not the question whose answer it would refuse (nothing
            # written in staff's update: see above); the buttons of `outcome` named, as below
            # a question (found by a review: /sprache's buttons, then the request's).
            if not (read_only or renewed):
                await self._keep_open(pseudonym, state)
            self._forget_no_to(pseudonym, flow)  # (the request shown again: review)
            again = self._changed_request(flow, t, kept=_kept_buttons(t, outcome))
        elif read_only:
            engine = self._engine(flow, t)
            if engine.realign(state) is not None:  # edited under them: their answer realigns
                return outcome
            # Its idle time starts again (found by review: the answer minutes later was
            # refused), unless the person answered meanwhile: then it is not asked again.
            try:
                until = self.clock() + self.config.draft_idle
                if not await self.store.extend_draft(pseudonym, draft.updated_at, until):
                    return outcome
            except StorageFull:
                log.warning("unfinished answers not kept open longer: no space")
            again = engine.reask(state, note).outcome  # (read only: nothing saved here)
        else:
            again = await self._asked_again(pseudonym, flow, t, state, note, not renewed)
        return replace(outcome, replies=(*outcome.replies, *again.replies))

    def help(self, locale: str, staff: bool = False) -> Outcome:
        t = translator(locale)
        staff_lines = (
            "\n\n"
            + t.gettext(
                "For staff:\n/summary 7d – summarise the feedback of a period (e.g. 24h, 7d, 4w)\n"
                "/reply <reference> <text> – answer a customer who agreed to be contacted "
                "(the reference is in the alert about their feedback)"
            )
            if staff
            else ""
        )
        return Outcome.say(
            t.gettext(
                "I collect feedback for {name}.\n\n"
                "/start – give feedback\n"
                "/privacy – how your data is handled\n"
                "/mydata – see the data stored about you\n"
                "/withdraw – withdraw a consent\n"
                "/delete – erase all your data\n"
                "/cancel – discard unfinished answers\n"
                "/language – choose the language I write in\n"
                "/help – this overview"
            ).format(name=self.config.controller.name)
            + staff_lines
        )

    def unknown_command(
        self, locale: str, meant: str | None = None, staff: bool = False
    ) -> Outcome:
        """A command the bot does not have; `meant` is the one it most likely was (a
        "/löschen" typed with its umlaut), named instead of the whole help, which lists
        staff's commands to `staff`."""
        t = translator(locale)
        if meant is not None:
            return Outcome.say(
                t.gettext("I do not know that command. Did you mean {command}?").format(
                    command=meant
                )
            )
        lead = Reply(t.gettext("I do not know that command."))
        return Outcome(replies=(lead, *self.help(locale, staff).replies))

    def invalid_button(self, locale: str) -> Outcome:
        t = translator(locale)
        return Outcome(toast=t.gettext("This button is not valid."), close_keyboard=True)

    async def edited(self, person: Person, text: str) -> Outcome:
        """A text message edited after it was sent: the change is not taken over, said as
        true for where the person is (found by review: before consent it said "the answer
        counts as first sent", as if something had been kept, and after the survey it
        named /cancel, which then does nothing, and not how to correct stored feedback).
        Nothing when the text is an answer as it stands, or a message added to one:
        Telegram also sends edits that change nothing (the first reaction put on a
        message)."""
        t = translator(person.locale)
        if _COMMAND.match(text):
            # A mistyped command corrected (found by review: told about answers not
            # changed, and pointed to /cancel, which discards the survey).
            return Outcome.say(
                t.gettext("An edited command is not carried out: please send it again.")
            )
        pseudonym = self.store.pseudonym(person.subject)
        state = await self._state(pseudonym)
        given, _ = await self.store.readable_feedback_of(pseudonym, self.clock())
        answers = [
            *(state.answers.values() if state is not None else ()),
            *(a for record in given for a in record.answers.values()),
        ]
        parts = {part for a in answers if isinstance(a, str) for part in (a, *a.split("\n"))}
        if text.strip() in parts:
            return Outcome()
        if state is not None and given:
            said = t.gettext(
                "I cannot take over changes to a message already sent: the answer counts as "
                "first sent. /cancel discards the unfinished answers, to give them again; "
                "stored feedback is corrected by erasing your data with /delete and giving "
                "it again."
            )
        elif state is not None:
            said = t.gettext(
                "I cannot take over changes to a message already sent: the answer counts "
                "as first sent. /cancel discards the unfinished answers, to give them "
                "again."
            )
        elif given:
            said = t.gettext(
                "I cannot take over changes to a message already sent: your feedback is "
                "stored as first sent, /mydata shows it. To correct it, erase your data "
                "with /delete and give your feedback again."
            )
        else:
            said = t.gettext(
                "I cannot take over changes to a message already sent; no answer of yours is "
                "stored, before or after the change."
            )
        return Outcome.say(said)

    async def keep_open(self, person: Person) -> None:
        """The idle time of the person's unfinished answers starts again (before a copy of
        their data names when they are discarded, and the question is asked again)."""
        pseudonym = self.store.pseudonym(person.subject)
        try:
            state = await self._state(pseudonym)
        except DecryptionFailed:
            return
        if state is not None:
            await self._keep_open(pseudonym, state)

    def private_only(self, locale: str, username: str | None = None) -> Outcome:
        """Said in a group: where to write instead (the bot's @username, when known)."""
        t = translator(locale)
        if not username:
            return Outcome.say(
                t.gettext(
                    "I take feedback and answer about your data only in a private chat with "
                    "me. Please write to me directly."
                )
            )
        return Outcome.say(
            t.gettext(
                "I take feedback and answer about your data only in a private chat with me. "
                "Please write to me directly: @{username}"
            ).format(username=username)
        )

    def apology(self, locale: str) -> Outcome:
        t = translator(locale)
        return Outcome.say(
            t.gettext("Sorry, something went wrong on our side. Please try again in a moment.")
        )

    # --- inputs -----------------------------------------------------------------------
    async def press(self, person: Person, data: str) -> Outcome:
        """A button: the consent gate (``c:``), beginning a survey over another's answers
        (``b:``) or an answer in the running flow (``a:``)."""
        t = translator(person.locale)
        if data.startswith("c:"):
            return await self._consent_press(person, t, data)
        if data.startswith("b:"):
            return await self._begin_press(person, t, data)
        if not data.startswith("a:"):
            return Outcome(toast=t.gettext("This button is not valid."), close_keyboard=True)
        pseudonym = self.store.pseudonym(person.subject)
        state = await self._state(pseudonym)
        if state is None:
            if self._just_finished(pseudonym, data):  # a button of the survey just done
                toast = t.gettext("This survey is already finished. Thank you!")
                return Outcome(toast=toast, close_keyboard=True)
            return self._ended(t)
        return await self._apply(pseudonym, person, t, state, Press(data))

    def _just_finished(self, pseudonym: str, data: str) -> bool:
        """Whether `data` is a button of the survey the person finished within the last
        idle period (not of one cancelled, discarded or replaced)."""
        finished = self._finished.get(pseudonym)
        parts = data.split(":")
        return (
            finished is not None
            and len(parts) == 4
            and parts[1] == finished[0]
            and self.clock() - finished[1] <= self.config.draft_idle
        )

    async def _consents_stay(self, pseudonym: str, t: Translator) -> str:
        """ " Your consent stays recorded; …", where unfinished answers went and a consent
        in force did not; else nothing."""
        in_force = [c for c in await self.store.consents(pseudonym) if c.in_force]
        if not in_force:
            return ""
        return " " + t.ngettext(
            "Your consent stays recorded; to withdraw it, send /withdraw.",
            "Your consents stay recorded; to withdraw them, send /withdraw.",
            len(in_force),
        )

    def forget(self, pseudonym: str) -> None:
        """An erased person: nothing of them stays in memory."""
        self._finished.pop(pseudonym, None)
        self._cancelled.pop(pseudonym, None)
        self._requested.pop(pseudonym, None)
        self._changed_shown.pop(pseudonym, None)
        self._declined_at.pop(pseudonym, None)

    def _requested_recently(self, pseudonym: str) -> bool:
        """Whether another survey's consent request was shown to the person within the
        last idle period, and no survey was finished or cancelled since (this process)."""
        requested = self._requested.get(pseudonym)
        if requested is None or self.clock() - requested >= self.config.draft_idle:
            return False
        finished, cancelled = self._finished.get(pseudonym), self._cancelled.get(pseudonym)
        return (finished is None or finished[1] <= requested) and (
            cancelled is None or cancelled[0] <= requested
        )

    def _cancelled_recently(self, pseudonym: str) -> bool:
        """Whether the person cancelled a survey within the last idle period, and began
        none since with /start nor finished one since (this process; review of the
        change: a survey begun by an older request's button and finished was said
        cancelled)."""
        cancelled = self._cancelled.get(pseudonym)
        finished = self._finished.get(pseudonym)
        if cancelled is None or (finished is not None and finished[1] >= cancelled[0]):
            return False
        return self.clock() - cancelled[0] < self.config.draft_idle

    async def _finished_recently(self, pseudonym: str) -> bool:
        """Whether the person gave feedback within the last idle period: then a question
        without answers open is one they just finished, not one that expired. (Their
        readable feedback: a damaged record must not turn an answer into an apology.)"""
        now = self.clock()
        given, _ = await self.store.readable_feedback_of(pseudonym, now)
        return any(record.created_at > now - self.config.draft_idle for record in given)

    def _ended(self, t: Translator) -> Outcome:
        # What became of answers not finished, said plainly (found by a customer
        # walk-through: "ended, or expired" left a rating and a complaint given before a
        # pause at the last, optional question believed kept).
        text = t.gettext(
            "This survey is no longer open: it was finished or cancelled, or it was left "
            "unfinished for {idle} and its answers were discarded. Send /start to begin again."
        ).format(idle=t.duration(self.config.draft_idle))
        return Outcome(replies=(Reply(text),), close_keyboard=True)

    async def text(
        self,
        person: Person,
        text: str,
        sent_at: datetime | None = None,
        replied: bool = False,
        quoted: str | None = None,
    ) -> Outcome:
        """Typed text; `sent_at` is when Telegram says it was sent; `replied`, whether it
        is a reply to one of the bot's messages (a staff answer, perhaps), and `quoted`
        that message's text."""
        if replied and quoted is not None and self._from_staff(quoted):
            # Meant for staff, who never read it here; never a survey's answer (found by
            # review: written back mid-survey, it became the comment).
            pseudonym = self.store.pseudonym(person.subject)
            if await self._state(pseudonym) is not None:
                t = translator(person.locale)
                said = t.gettext("I did not take that as an answer to your survey.")
                return await self.reminded(person, Outcome.say(self._replied(said, t)))
        return await self._input(person, TextInput(text, sent_at, quoted), replied)

    def _from_staff(self, quoted: str) -> bool:
        controller = self.config.controller
        # The answer's note names the customer service where one is set; answers sent
        # before it did named the controller's contact.
        contacts = [c for c in (self.config.support_contact, controller.contact) if c]
        return bool(contacts) and from_staff(quoted, controller.name, contacts)

    async def other(self, person: Person, kind: str) -> Outcome:
        return await self._input(person, OtherInput(kind))

    async def _input(self, person: Person, event: Input, replied: bool = False) -> Outcome:
        t = translator(person.locale)
        pseudonym = self.store.pseudonym(person.subject)
        state = await self._state(pseudonym)
        if state is not None:
            return await self._apply(pseudonym, person, t, state, event)
        if isinstance(event, TextInput) and not replied:
            # "Start", "Hilfe" typed without the slash (found by a customer walk-through:
            # told to send /start, or before consent that feedback needs consent); in a
            # survey they are no answer (see Engine._text), nor in a reply (to staff, who
            # never read it: see `_replied`)
            if typed_start(event.text):
                return await self.start(person)
            if typed_help(event.text):
                help_locale = person.staff_locale or person.locale
                (overview,) = self.help(help_locale, staff=person.staff).replies
                if await self._may_be_written_to(pseudonym):
                    said = self._replied(
                        overview.text, translator(help_locale), replied=False, written_to=True
                    )
                    return Outcome.say(said)
                return Outcome(replies=(overview,))
        # a request as the last sentence too ("Habt ihr mich verstanden? Meine Daten weg!":
        # found by a customer walk-through, told no question was open), or any sentence
        # ("Ich möchte, dass das alles gelöscht wird. Ich trau dem Internet nicht."): nothing
        # is stored here
        request = (
            typed_request(event.text)
            or request_at_the_end(event.text)
            or request_anywhere(event.text)
            if isinstance(event, TextInput)
            else None
        )
        correcting = asks_rectification(event.text) if isinstance(event, TextInput) else None
        consents = await self.store.consents(pseudonym)
        if any(consent.in_force for consent in consents):
            # Just thanked (in any survey), or the answers expired, or the notice has changed
            # since they agreed: none of it is an error of theirs, nor a refusal to consent.
            specific: str | None = None
            if isinstance(event, TextInput) and asks_not_to_be_contacted(event.text):
                # Before the commands a request is pointed to: "Please don't contact me"
                # is one too, and its answer names whether there is a consent to withdraw
                # (found by a customer walk-through: every command, /withdraw among them,
                # to someone who had declined)
                specific = await self._no_contact_afterwards(pseudonym, t)
            elif isinstance(event, TextInput) and asks_if_erased(event.text):
                # "Habt ihr wirklich alles gelöscht?" answered (found by a customer
                # walk-through: pointed to the commands, never told yes or no)
                specific = await self._whether_erased(pseudonym, t)
            elif request is not None:
                # Not "no survey is under way" to whoever asks about their data (found by
                # an English customer's review: "Please delete my data" two days after).
                specific = self._to_commands(t)
            elif isinstance(event, TextInput) and about_privacy(event.text):
                # "Ist das anonym?" after the thanks (found by a customer walk-through:
                # "your feedback has been received", the question unanswered)
                specific = privacy_pointer(t)
            elif isinstance(event, TextInput) and (
                asks_to_be_contacted(event.text)
                or asks_whether_contacted(event.text)
                or (correcting == RECTIFY and asks_rectification_of_contact(event.text))
                or offers_contact_details(event.text)
            ):
                # also a No tapped by mistake ("Oops, wrong button, I do want you to contact
                # me": found by a review, told to erase the feedback and give it again), and
                # a number or an address offered ("Meine Nummer ist …, rufen Sie mich an":
                # told "no question is open", as if someone would call)
                another_way = asks_another_way(event.text) or offers_contact_details(event.text)
                asked = asks_whether_contacted(event.text)
                return Outcome.say(
                    await self._contact_afterwards(pseudonym, t, replied, another_way, asked)
                )
            elif correcting is not None and await self._holds_feedback(pseudonym):
                # Not where nothing is stored to correct (found by a review: a No to the
                # consent tapped by mistake was told to erase its feedback)
                specific = self._to_correct(t, correcting)
            elif (
                isinstance(event, TextInput)
                and _a_yes(event.text, t)
                and self._requested_recently(pseudonym)
            ):
                # Under another survey's consent request (found by a customer walk-through:
                # "ja gerne" after /start product was told that no question was open)
                specific = _tap_yes(t)
            unanswered = specific is None  # told only that no question is open (see below)
            # Not "send /start" where the feedback limit refuses it: when instead (found by
            # a customer walk-through: "5" typed after the limit's answer was told to send
            # /start); the survey named, as others may still take feedback.
            limited = None if specific is not None else await self._limited_until(pseudonym, t)
            survey = render_text(self.catalog.default.title, t)
            kind = thanks_or_goodbye(event.text) if isinstance(event, TextInput) else None
            if specific is not None:
                said = specific
            elif self._cancelled_recently(pseudonym):
                # Not that a survey is discarded after its idle time (found by a customer
                # walk-through: a "3" typed right after /cancel was told so)
                said = t.gettext(
                    "You cancelled the survey, so I did not store this message. Send {start} "
                    "to give feedback again; /help lists what I can do."
                ).format(start=self._cancelled[pseudonym][1])
            elif (
                kind is not None
                and (kind == "thanks" or not self._requested_recently(pseudonym))
                and (limited is not None or await self._finished_recently(pseudonym))
            ):
                # ("ok" under another survey's request just shown is no goodbye: review)
                # Said not stored (found by a customer walk-through: "Und das Personal war
                # unfreundlich" sent after the thanks read as added to the feedback); a
                # thank-you or a goodbye is answered as one (found by the next: "thanks!" was
                # told that it had not been stored), also hours later by whoever the limit
                # holds, who gave feedback within a day (review: the limit's answer instead)
                unanswered = False  # no note that messages here reach nobody
                if kind == "thanks":
                    said = t.gettext("You're welcome, and thank you for your feedback!")
                else:
                    said = t.gettext("Thank you for your feedback, and all the best!")
            elif self._requested_recently(pseudonym):
                # Under a consent request just shown, to whoever agreed to another survey
                # before, also just after finishing one (found by a flow author's walk-through
                # and its review: "no survey is under way", the request above it)
                unanswered = False
                if isinstance(event, TextInput) and typed_no(event.text):
                    said = t.gettext("All right: nothing of this survey is stored.")
                else:
                    said = t.gettext(
                        "I did not store this message: I can take answers only after you have "
                        "agreed to the consent request above. To take part, tap “{yes}” under "
                        "it."
                    ).format(yes=t.gettext("Yes, I agree"))
            elif await self._finished_recently(pseudonym):
                if limited is not None:
                    said = t.gettext(
                        "Your feedback has been received. No question is open right now, so I "
                        "did not store this message. You can give more feedback to “{survey}” "
                        "from {time}; /help lists what I can do."
                    ).format(survey=survey, time=limited)
                else:
                    said = t.gettext(
                        "Your feedback has been received. No question is open right now, so I "
                        "did not store this message. Send /start to give feedback again; /help "
                        "lists what I can do."
                    )
            elif limited is not None:
                said = t.gettext(
                    "No question is open right now, so I did not store this message. You have "
                    "given as much feedback to “{survey}” as it takes from one person in 24 "
                    "hours; you can give more from {time}. /help lists what I can do."
                ).format(survey=survey, time=limited)
            else:
                said = t.gettext(
                    "No survey is under way, so I did not store this message. (Feedback you "
                    "completed stays stored; only a survey left unfinished for {idle} is "
                    "discarded.) Send /start to give feedback; /help lists what I can do."
                ).format(idle=t.duration(self.config.draft_idle))
            # Whoever staff may write to (a contact chat id kept) may be writing back,
            # typed rather than as a reply (found by review: no word of where to write).
            written_to = not replied and await self._may_be_written_to(pseudonym)
            if replied or written_to:
                said = self._replied(said, t, replied, written_to)
            elif unanswered and isinstance(event, TextInput) and _addresses_someone(event.text):
                # A request or a question, to nobody (found by a customer walk-through: "In
                # Zimmer 214 ist die Heizung kaputt, bitte schicken Sie jemanden", "Kann ich
                # mit einem Mitarbeiter sprechen?" got "no question is open" alone)
                said = self._replied(said, t, replied=False)
            return Outcome.say(_in_their_language(said, event, t))
        # Before consent nothing of the input is kept. A pointer, not the whole notice
        # again: whoever declined is not asked a second time unless they send /start.
        said = t.gettext(
            "I did not store this message: I can only take feedback after you have agreed "
            "to the consent request. Send /start to read it; /privacy explains how your data "
            "is handled."
        )
        if isinstance(event, TextInput) and (
            typed_no(event.text) or request == STOP or (request == TAKE_BACK and not consents)
        ):
            # ("delete pls" before any consent: nothing is stored to take back, found by a
            # customer walk-through: told to agree first)
            # A no typed (found by a German customer's review: "Nee danke" was told that
            # feedback needs consent first, as if asked to agree); as at a consent question
            # in a survey, also with a goodbye or in dialect ("Nein danke, schönen Tag")
            said = t.gettext(
                "All right: nothing of yours is stored. Should you change your mind, /start "
                "shows the consent request again."
            )
            if consents:  # withdrawn, kept as proof (found by a review of customers' phrasing)
                said = t.gettext(
                    "All right: I did not store this message. Should you change your mind, "
                    "/start shows the consent request again."
                )
        elif isinstance(event, TextInput) and asks_if_erased(event.text):
            # "Ist jetzt alles weg?" right after /loeschen (found by a customer walk-through:
            # told that feedback needs consent first)
            said = await self._whether_erased(pseudonym, t)
        elif isinstance(event, TextInput) and about_privacy(event.text):
            # "Ist das anonym?" under the consent request, where it is asked most (found by
            # a customer walk-through: told that feedback needs consent first)
            said = privacy_pointer(t)
        elif isinstance(event, TextInput) and sees_no_buttons(event.text):
            # "Ich sehe keinen Knopf" (found by a customer walk-through: an older customer
            # who typed every answer was told that feedback needs consent first)
            said = buttons_note(t) + " " + t.gettext("/start shows the consent request again.")
        elif isinstance(event, TextInput) and asks_if_required(event.text):
            # "Muss ich das machen?" (found by a customer walk-through: told that feedback
            # needs consent first)
            said = t.gettext(
                "I did not store this message. No, taking part is voluntary: nothing of yours "
                "is stored unless you agree to the consent request."
            )
        elif isinstance(event, TextInput) and _a_yes(event.text, t):
            # Typed to agree (found by review: pointed to /start, which shows the whole
            # request again): consent is given with its button alone; after a No, which
            # took the buttons away, with the request shown again (found by a customer
            # walk-through: pointed to a button no longer there).
            declined = self._declined_at.get(pseudonym)
            if declined is not None and self.clock() - declined[0] < self.config.draft_idle:
                said = t.gettext(
                    "You declined the consent request, so its buttons are gone. To agree after "
                    "all, send {start}: it shows the request again."
                ).format(start=declined[1])
            else:
                said = _tap_yes(t)
        elif isinstance(event, TextInput) and asks_how_long(event.text):
            # "Wie lange dauert das?" next to the request (as in a survey, see
            # `Engine._how_much_is_left`): its opening says.
            said = t.gettext(
                "I did not store this message. How long the survey takes is said at the "
                "beginning of the consent request. To take part, please tap “{yes}” under it "
                "(/start shows it again)."
            ).format(yes=t.gettext("Yes, I agree"))
        elif (
            isinstance(event, TextInput)
            and about_the_consent(event.text)
            # "?", "Hä?", "Was?": greeted with what is wanted here (found by review)
            and len(bare_words(event.text).split()) > 1
        ):
            # "why do you need this?" next to the request (found by a customer walk-through:
            # greeted, or told that feedback needs consent first)
            said = t.gettext(
                "I did not store this message. The consent request says what you would agree "
                "to, what would be stored and for how long (/start shows it again); /privacy "
                "tells more, also who sees what. It is up to you: nothing of yours is stored "
                "unless you tap “{yes}”."
            ).format(yes=t.gettext("Yes, I agree"))
        elif isinstance(event, TextInput) and _unsure(event.text):
            # "Hallo?", "Was soll ich hier machen?" next to the request (found by a customer
            # walk-through: told feedback needs consent, the button that gives it unnamed)
            said = t.gettext(
                "Hello! Here you can give us feedback; it takes less than a minute. To take "
                "part, please tap “{yes}” under the consent request (/start shows it again); "
                "/privacy explains how your data is handled."
            ).format(yes=t.gettext("Yes, I agree"))
        elif isinstance(event, TextInput) and (
            bare_words(event.text) in _ACKNOWLEDGED or event.text.strip() in _THUMBS
        ):
            # "ok" next to the request: a yes, or taking note of a no just given (found by
            # a customer walk-through: pointed to /start, the buttons just above unnamed)
            said = t.gettext(
                "I did not store this message. To take part, please tap “{yes}” under the "
                "consent request (/start shows it again); otherwise nothing of yours is "
                "stored."
            ).format(yes=t.gettext("Yes, I agree"))
        elif request is not None:  # "delete my data": said with the commands that do it
            said = self._to_commands(t)
        said = _in_their_language(said, event, t)
        return Outcome.say(self._replied(said, t) if replied else said)

    async def _contact_afterwards(
        self, pseudonym: str, t: Translator, replied: bool, another_way: bool, asked: bool = False
    ) -> str:
        """The answer to "Doch, Sie dürfen mich kontaktieren" typed outside a survey (see
        `asks_to_be_contacted`): whether staff can, and if not how to let them (found by a
        customer walk-through: told "no question is open", believing someone would write).
        A consent is given with its button under its text, not typed. Asked to be called or
        e-mailed (`another_way`): first that staff can write only here (found by the next
        walk-through: "Can you email me?" was told to agree, which allows no e-mail)."""
        written_to = await self._may_be_written_to(pseudonym)
        if written_to:
            said = t.gettext(
                "I did not store this message. You have already agreed that our staff may "
                "contact you in this chat about your feedback."
            )
            if asked:  # "Wann meldet sich jemand?" (found by a customer walk-through)
                said += " " + t.gettext(
                    "Whether and when they write depends on your feedback; there is no set time."
                )
        elif any(p.stores_contact for f in self.catalog.flows.values() for p in f.purposes):
            said = t.gettext(
                "I did not store this message. Your feedback is stored without your consent "
                "to be contacted, so our staff cannot write to you about it. If you would like "
                "them to, send /start, give your feedback again and agree when the survey asks "
                "whether we may contact you (the feedback stored now stays as it is)."
            )
        else:
            said = t.gettext(
                "I did not store this message. Our staff cannot contact you through this bot."
            )
        if another_way:
            said += " " + t.gettext(
                "Our staff cannot call you or send you an e-mail through this bot, only write "
                "to you here."
            )
        return self._replied(said, t, replied, written_to)

    async def _no_contact_afterwards(self, pseudonym: str, t: Translator) -> str:
        """The answer to "Bitte kontaktieren Sie mich nicht" typed outside a survey: the
        way to withdraw where the person agreed, else that nobody will (found by a customer
        walk-through: "no question is open", no word of /withdraw)."""
        if await self._may_be_written_to(pseudonym):
            return t.gettext(
                "I did not store this message. To withdraw your consent to be contacted, "
                "please send /withdraw."
            )
        contact = {
            p.id for f in self.catalog.flows.values() for p in f.purposes if p.stores_contact
        }
        given = [c for c in await self.store.consents(pseudonym) if c.purpose in contact]
        if given and not any(c.in_force for c in given):
            # Not "you have not agreed" to whoever withdrew it a minute ago (found by a
            # customer walk-through)
            return t.gettext(
                "I did not store this message. Your consent to be contacted is no longer in "
                "force, so our staff cannot write to you about your feedback."
            )
        return t.gettext(
            "I did not store this message. You have not agreed to be contacted, so our staff "
            "cannot write to you about your feedback."
        )

    @staticmethod
    def _to_commands(t: Translator) -> str:
        """The answer to a request about one's data typed outside a survey (see
        `typed_request`): the commands that do what it asks."""
        return t.gettext(
            "I did not store this message. To see what is stored about you, send /mydata; "
            "to withdraw a consent, /withdraw; to erase all your data, /delete."
        )

    def _to_correct(self, t: Translator, kind: str) -> str:
        """The answer to a request to correct one's answers or to restrict their processing
        (see `asks_rectification`): the route the privacy notice names for it, not "/start
        to give feedback again" (found by a DPO check), which leaves the old answers."""
        contact = self.config.controller.contact
        if kind == RECTIFY:
            return t.gettext(
                "I did not store this message. Answers already given cannot be changed here. "
                "To correct them, erase your feedback with /delete and give it again with "
                "/start, or write to {contact}."
            ).format(contact=contact)
        return t.gettext(
            "I did not store this message. To have the processing of your data restricted, "
            "please write to {contact}. /withdraw withdraws a consent; /delete erases all "
            "your data."
        ).format(contact=contact)

    async def _whether_erased(self, pseudonym: str, t: Translator) -> str:
        """The answer to "Ist jetzt alles weg?" (see `asks_if_erased`): whether feedback of
        theirs is stored, as the store holds it now, and where to see the rest."""
        if await self._holds_feedback(pseudonym):
            return t.gettext(
                "No: your feedback is still stored. To erase it, send /delete; /mydata shows "
                "what is stored."
            )
        return t.gettext(
            "Yes: no feedback of yours is stored. /mydata shows everything that is still kept "
            "about you, and until when."
        )

    async def _holds_feedback(self, pseudonym: str) -> bool:
        try:
            return bool(await self.store.feedback_of(pseudonym, self.clock()))
        except DecryptionFailed:  # a damaged row: something is stored
            return True

    async def _may_be_written_to(self, pseudonym: str) -> bool:
        try:
            return await self.store.contact_of(pseudonym) is not None
        except DecryptionFailed:  # a damaged row: the answer goes on without the line
            return False

    def _replied(
        self, said: str, t: Translator, replied: bool = True, written_to: bool = False
    ) -> str:
        """`said`, and where to write instead of replying to one of the bot's messages, such
        as an answer from staff, which nobody reads here (found by review: it ended at "no
        question is open", and after an erasure at the consent pointer); not `replied`:
        instead of writing here at all, to someone staff may write to here (`written_to`)
        said as such (found by a customer walk-through: "Nobody reads what is written here"
        just after agreeing to be contacted in this chat)."""
        # A customer service's address where one is set: a complaint about the bread sent
        # as a reply went to the data protection address (found by an older customer's
        # review).
        contact = self.config.support_contact or self.config.controller.contact
        if not contact:
            return said
        if replied:
            where = t.gettext(
                "Replies to my messages reach nobody: to write to us, please use {contact}."
            )
        elif written_to:
            where = t.gettext(
                "Our staff can write to you here, but nobody reads what you write here: to "
                "write to us, please use {contact}."
            )
        else:
            where = t.gettext(
                "Messages written here outside a survey reach nobody: to write to us, please "
                "use {contact}."
            )
        return f"{said}\n\n{where.format(contact=contact)}"

    # --- consent gate -------------------------------------------------------------------
    async def _consent_press(self, person: Person, t: Translator, data: str) -> Outcome:
        # c:<flow>:<version>:<language shown>[:<token>]:y|n, the token that of another
        # survey's answers the request was shown over (see `_notice`); buttons sent before
        # the language was part of them (c:<flow>:<version>:y|n) count in the language of
        # the press.
        parts = data.split(":")
        if len(parts) == 4:
            parts.insert(3, t.locale)
        if len(parts) == 5:
            parts.insert(4, "")
        flow = self.catalog.flows.get(parts[1]) if len(parts) == 6 else None
        if flow is None or parts[3] not in SUPPORTED_LOCALES or parts[5] not in {"y", "n"}:
            return Outcome(toast=t.gettext("This button is not valid."), close_keyboard=True)
        pseudonym = self.store.pseudonym(person.subject)
        self._requested.pop(pseudonym, None)  # answered
        if parts[5] == "n":
            said, refused = await self._declined(person, t, flow)
            if refused:  # (not a No to a request agreed to: review)
                _remember(
                    self._declined_at,
                    pseudonym,
                    (self.clock(), self.catalog.start_command(flow.id)),
                )
            declined = Outcome(replies=(said,), close_keyboard=True)
            # Another survey under way: its question again, as after any other interruption
            # (found by review: "No, thanks" to `/start product` mid-survey left it unasked).
            return await self.reminded(person, declined)
        no_before = self._declined_at.get(pseudonym)
        if (
            no_before is not None
            and no_before[1] == self.catalog.start_command(flow.id)
            and self.clock() - no_before[0] < self.config.draft_idle
        ):
            # A Yes after a No to this survey's request, not shown again since: two quick
            # taps before its buttons went (found by a hostile customer's walk-through:
            # "nothing has been stored", then "your consent has been recorded"). The No
            # stands, as for a yes typed after it.
            told = t.gettext(
                "You declined the consent request, so its buttons are gone. To agree after "
                "all, send {start}: it shows the request again."
            ).format(start=no_before[1])
            return Outcome(replies=(Reply(told),), close_keyboard=True)
        if parts[2] != self._versions[flow.id]:
            note = Reply(t.gettext("The privacy notice has changed since. Please read it again."))
            return Outcome(replies=(note, self._notice(flow, t)), close_keyboard=True)
        state = await self._state(pseudonym)
        under_way = state is not None and state.flow_id == flow.id
        if under_way and not (state is not None and self._agreed_to_older(state, flow)):
            return Outcome(toast=t.gettext("You have already agreed."), close_keyboard=True)
        over = state if state is not None and state.flow_id in self.catalog.flows else None
        if over is not None and not under_way and parts[4] != over.token:
            # A request shown before these answers of another survey (found by review: its
            # Yes began its survey and discarded them, said only after): asked first.
            return await self._agreed_over(person, t, flow, parts[3], over)
        # The proof is of the text the person read, whatever language their device
        # reports now (a phone in German, a desktop in English).
        grants = self._grants(flow, self._notice_text(flow, translator(parts[3])))
        # A Yes that would begin the survey is refused past the feedback limit, before the
        # consent is recorded (checked in the same call: no store call more on every Yes).
        limit = None if under_way else self.config.feedback_limit
        try:
            await self._archived()
            await self.store.grant_consents(pseudonym, grants, limit, flow.id)
            if under_way and state is not None:  # agreed again to a request changed since
                t = _language_of(state, t)  # (review: the pressing device's language)
                state = state.model_copy(update={"notice_version": self._versions[flow.id]})
                # An optional consent given to its old wording is asked for again (found
                # by review: a Yes to be contacted, read without "staff see it in their
                # chat", was kept, and the feedback posted there to be answered).
                kept = self._engine(flow, t).without_outdated_consents(state)
                # answers dropped with such a consent: the rest under a new key
                state = kept or state
                await self._save(pseudonym, state, fresh=kept is not None)
                log.info("consent granted", extra={"pseudonym": pseudonym[:12], "flow": flow.id})
                again = await self._asked_again(
                    pseudonym, flow, t, state, t.gettext(_CONTINUE), keep_open=False
                )
                receipt = t.gettext("Thank you, your consent has been recorded.")
                return Outcome(replies=headed((receipt,), again.replies), close_keyboard=True)
            # Agreeing to a survey begins it, also from an older request while another
            # survey is under way (as /start with its name would).
            outcome = await self._begin(pseudonym, flow, t)
        except StorageFull:
            return self._not_saved(t)
        except FeedbackLimitReached as reached:
            return replace(
                await self._limit_told(pseudonym, person, flow, t, reached), close_keyboard=True
            )
        log.info("consent granted", extra={"pseudonym": pseudonym[:12], "flow": flow.id})
        receipt = t.gettext("Thank you, your consent has been recorded.")
        notes = (receipt, *self._discarding(state, t))
        return Outcome(replies=headed(notes, outcome.replies), close_keyboard=True)

    async def _agreed_over(
        self,
        person: Person,
        t: Translator,
        flow: FlowDefinition,
        shown_in: str,
        over: ConversationState,
    ) -> Outcome:
        """A Yes to `flow`'s request that did not say it begins over `over`, another
        survey's unfinished answers: the consent recorded (unless given already), and the
        survey begun only with the button that says what it costs."""
        pseudonym = self.store.pseudonym(person.subject)
        notes: tuple[str, ...] = ()
        if not self._agreed(await self.store.consents(pseudonym), flow):
            shown = self._notice_text(flow, translator(shown_in))
            try:
                await self._archived()
                await self.store.grant_consents(
                    pseudonym,
                    self._grants(flow, shown),
                    self.config.feedback_limit,
                    flow.id,
                )
            except StorageFull:
                return self._not_saved(t)
            except FeedbackLimitReached as reached:
                return replace(
                    await self._limit_told(pseudonym, person, flow, t, reached),
                    close_keyboard=True,
                )
            log.info("consent granted", extra={"pseudonym": pseudonym[:12], "flow": flow.id})
            notes = (t.gettext("Thank you, your consent has been recorded."),)
        over = await self._interrupted(pseudonym, over)  # (review of the change)
        return Outcome(replies=headed(notes, (self._to_begin(flow, t, over),)), close_keyboard=True)

    async def _declined(
        self, person: Person, t: Translator, flow: FlowDefinition
    ) -> tuple[Reply, bool]:
        """The answer to "No, thanks", which records nothing: it says only what is true of
        this person (an older consent request may be pressed after agreeing to a newer
        one, or by someone whose earlier feedback is still stored); and whether it
        declined the request (not one agreed to already)."""
        pseudonym = self.store.pseudonym(person.subject)
        state = await self._state(pseudonym)
        if state is not None and state.flow_id == flow.id and self._agreed_to_older(state, flow):
            # The changed request declined: the answers cannot go on under it (nor stay in
            # the write-ahead log, as after /abbrechen; review).
            await self.store.delete_draft(pseudonym)
            await self.store.flush_deletions()
            said = t.gettext(
                "No problem. Your unfinished answers were discarded and nothing new has "
                "been stored. If you change your mind, send {start}."
            ).format(start=self.catalog.start_command(flow.id))
            # The consent to the earlier request is not withdrawn by this No: said, and how
            # (found by a customer walk-through: /mydata then showed "1 active consent" to
            # whoever had just declined).
            return Reply(said + await self._consents_stay(pseudonym, t)), True
        consents = await self.store.consents(pseudonym)
        if (state is not None and state.flow_id == flow.id) or self._agreed(consents, flow):
            return Reply(
                t.gettext(
                    "You have already agreed, so the buttons of this request no longer count. "
                    "/withdraw withdraws your consent; /cancel discards unfinished answers."
                )
            ), False
        if consents:
            return Reply(
                t.gettext(
                    "No problem. Nothing new has been stored. If you change your mind, send "
                    "{start}. /mydata shows what is still stored from before."
                ).format(start=self.catalog.start_command(flow.id))
            ), True
        return Reply(
            t.gettext(
                "No problem. Nothing has been stored. If you change your mind, send {start}. "
                "/privacy and /help keep working."
            ).format(start=self.catalog.start_command(flow.id))
        ), True

    def _notice_text(self, flow: FlowDefinition, t: Translator) -> str:
        """The consent notice, built once per flow and language (flows and settings do
        not change while the bot runs)."""
        key = (flow.id, t.locale)
        text = self._notice_texts.get(key)
        if text is None:
            text = self._notice_texts[key] = consent_notice(flow, t, self.processing)
        return text

    def _grants(self, flow: FlowDefinition, shown: str) -> list[ConsentGrant]:
        """The consents a Yes to `flow`'s request gives, with proof of the text `shown`."""
        return [
            ConsentGrant(
                purpose=purpose.id,
                notice_version=self._versions[flow.id],
                text_sha256=sha256_hex(shown),
                method=CONSENT_METHOD,
                granted_at=self.clock(),
                required=True,
            )
            for purpose in flow.required_purposes
        ]

    def _notice(
        self, flow: FlowDefinition, t: Translator, over: ConversationState | None = None
    ) -> Reply:
        """`flow`'s consent request; `over`: the other survey's answers it says its Yes
        discards, whose token its buttons carry (a request without it asks before it
        discards any; so does one whose flow name leaves no room for it)."""
        text = self._notice_text(flow, t)
        head = f"c:{flow.id}:{self._versions[flow.id]}:{t.locale}"
        if over is not None and len(f"{head}:{over.token}:y") <= CALLBACK_LIMIT:
            head = f"{head}:{over.token}"
        return Reply(
            text,
            (
                (
                    Button(t.gettext("Yes, I agree"), f"{head}:y"),
                    Button(t.gettext("No, thanks"), f"{head}:n"),
                ),
            ),
            proof=True,
        )

    async def _agreed_before(self, consents: list[ConsentRecord], flow: FlowDefinition) -> bool:
        """Whether `consents` hold a consent in force to this very flow's request, but to an
        earlier version of it (alerts turned on, say): asked again, which the person is told.
        Which flow a consent was given to, the archive of consent texts tells (a purpose
        may be shared with another survey, whose request they never saw here; review)."""
        version = self._versions[flow.id]
        required = {p.id for p in flow.required_purposes}
        for consent in consents:
            if not consent.in_force or consent.notice_version == version:
                continue
            if consent.purpose not in required:
                continue
            texts = await self.store.consent_texts(consent.notice_version, consent.text_sha256)
            if any(text.flow_id == flow.id for text in texts):
                return True
            if not texts and self._asked_by_this_flow_alone(consent.purpose, flow):
                # Given before the archive existed (a store from before data schema v13):
                # no text says which request it was, but no other survey asks for it
                # (found by an upgrade review: everyone was asked again without a word).
                return True
        return False

    def _asked_by_this_flow_alone(self, purpose: str, flow: FlowDefinition) -> bool:
        """Whether `flow` is the only survey loaded that asks for `purpose`."""
        return not any(
            any(p.id == purpose for p in other.purposes)
            for other in self.catalog.flows.values()
            if other.id != flow.id
        )

    def _agreed(self, consents: list[ConsentRecord], flow: FlowDefinition) -> bool:
        """Whether `consents` hold every required purpose of `flow`, for its current notice."""
        version = self._versions[flow.id]
        current = {c.purpose for c in consents if c.in_force and c.notice_version == version}
        return all(p.id in current for p in flow.required_purposes)

    # --- the running flow ---------------------------------------------------------------
    async def _begin(self, pseudonym: str, flow: FlowDefinition, t: Translator) -> Outcome:
        turn = self._engine(flow, t).begin()
        assert turn.state is not None
        state = turn.state.model_copy(update={"notice_version": self._versions[flow.id]})
        await self._save(pseudonym, state, fresh=True)  # not under the key of answers before
        return turn.outcome

    def _agreed_to_older(self, state: ConversationState, flow: FlowDefinition) -> bool:
        """Whether the answers under way were begun under an earlier version of the
        flow's consent request (the operator changed it while the person answered)."""
        version = state.notice_version
        return version is not None and version != self._versions[flow.id]

    async def _ask_again_under_way(
        self,
        pseudonym: str,
        flow: FlowDefinition,
        t: Translator,
        state: ConversationState,
        event: Input | None = None,
        keep_open: bool = True,
    ) -> Outcome:
        """The consent request changed while the person answered (found by review: the
        answers went on, and were kept for a year under a consent to 30 days, or posted
        to staff under a question they had read without that): asked again, the answers
        kept meanwhile; agreeing goes on where they left off. `event`: the answer that
        met the change, not taken (said so: review). A text typed soon after it was shown
        is told so in a line: the whole request and its reason came again with every
        message (found by a flow author's walk-through)."""
        if keep_open:
            await self._keep_open(pseudonym, state)
        now = self.clock()
        shown = self._changed_shown.get(pseudonym)
        if (
            isinstance(event, TextInput | OtherInput)  # a sticker too (found by a re-check)
            and shown is not None
            and now - shown <= CHANGED_REQUEST_SAID_FOR
        ):
            return Outcome.say(
                t.gettext("I did not store this message. {how}").format(
                    how=t.gettext(
                        "Your answers go on once you agree: please tap “{yes}” under the "
                        "consent request above; /start shows it again."
                    ).format(yes=t.gettext("Yes, I agree"))
                )
            )
        _remember(self._changed_shown, pseudonym, now)
        self._forget_no_to(pseudonym, flow)  # (the request shown again)
        return self._changed_request(flow, t, event)

    def _forget_no_to(self, pseudonym: str, flow: FlowDefinition) -> None:
        """A No to `flow`'s request forgotten, as the request is shown again (another
        survey's No stays: found by review)."""
        if self._declined_at.get(pseudonym, (None, ""))[1] == self.catalog.start_command(flow.id):
            del self._declined_at[pseudonym]

    def _changed_request(
        self,
        flow: FlowDefinition,
        t: Translator,
        event: Input | None = None,
        kept: str | None = None,
    ) -> Outcome:
        """The consent request changed under the answers, shown again (see
        `_ask_again_under_way`). What changed is not known here (only the version agreed
        to is kept), so the reason is given as examples: a controller's new name changes
        it too (found by a DPO check: told it was the purposes or the retention). `kept`:
        which buttons above stay, below another question (see `_kept_buttons`)."""
        note = t.gettext(
            "The consent request for this survey has changed since you agreed (for example "
            "what is done with your answers, who is responsible for them or how long they are "
            "kept). Your answers so far are kept: please read it once more and agree to go on."
        )
        if kept is not None:
            note += " " + kept
        if isinstance(event, TextInput) and _a_yes(event.text, t):
            # Not "give it again after agreeing" to a typed yes (found by a review)
            note += " " + t.gettext(
                "To agree, please tap “{yes}” under the request below; typing is not enough."
            ).format(yes=t.gettext("Yes, I agree"))
        elif isinstance(event, TextInput):
            note += " " + t.gettext(
                "The message you just sent was not stored: please give it again after agreeing."
            )
        elif isinstance(event, Press):
            note += " " + t.gettext(
                "The button you just pressed was not taken: please answer again after agreeing."
            )
        return Outcome(replies=(Reply(note), self._notice(flow, t)), close_keyboard=True)

    async def _apply(
        self, pseudonym: str, person: Person, t: Translator, state: ConversationState, event: Input
    ) -> Outcome:
        flow = self.catalog.flows.get(state.flow_id)
        if flow is None:  # said in the person's language: there is no survey to keep to
            await self.store.delete_draft(pseudonym)
            return Outcome.say(
                t.gettext(_SURVEY_GONE) + " " + t.gettext("Send /start to give feedback.")
            )
        t = _language_of(state, t)
        if self._agreed_to_older(state, flow):
            return await self._ask_again_under_way(pseudonym, flow, t, state, event)
        engine = self._engine(flow, t)
        if isinstance(event, TextInput) and engine.asks_for_help(state, event):
            # As /hilfe: the commands, then the open question again (see `_reminded`, here
            # without loading the draft a second time)
            overview = self.help(t.locale, staff=person.staff)
            again = await self._asked_again(pseudonym, flow, t, state, _still_open(t, overview))
            return replace(overview, replies=(*overview.replies, *again.replies))
        realigned = engine.realign(state)
        if realigned is not None and realigned.state is not None:
            try:  # an answer or all dropped: the rest under a new key
                await self._save(pseudonym, realigned.state, fresh=True)
            except StorageFull:
                return self._not_saved(t)
            return realigned.outcome
        turn = engine.handle(state, event)
        try:
            if turn.completion is not None:
                await self._complete(pseudonym, person, flow, turn.completion)
                _remember(self._finished, pseudonym, (state.token, self.clock()))
                # Its Undo buttons go: they cannot take words out of stored feedback (found
                # by review: shown after the thanks, they did nothing).
                done = replace(turn.outcome, survey_over=True)
                return await self._still_in_force(pseudonym, flow, turn.completion, t, done)
            elif turn.changed and turn.state is not None:
                await self._save(pseudonym, turn.state, fresh=turn.taken_out)
            elif turn.state is not None:  # the question asked again, as good as new
                await self._keep_open(pseudonym, turn.state)
        except StorageFull:
            return self._not_saved(t)
        except ConsentMissing:
            # The consent ran out with the person's earlier feedback while they answered
            # (it is kept as long as what it covers): no feedback without one.
            await self.store.delete_draft(pseudonym)
            return self._ended(t)
        except FeedbackLimitReached as reached:
            # Reached while they answered (given meanwhile elsewhere, or the limit lowered):
            # the answers cannot be stored, nor kept waiting in the draft; said so, not lost
            # without a word.
            await self.store.delete_draft(pseudonym)
            await self.store.flush_deletions()
            log.info("feedback limit reached", extra={"pseudonym": pseudonym[:12], "flow": flow.id})
            said = t.ngettext(
                "Your answers could not be saved and have been discarded: you have already "
                "given {count} feedback to this survey in the last 24 hours, the most it "
                "takes from one person in that time. You can give another from {time}.",
                "Your answers could not be saved and have been discarded: you have already "
                "given {count} feedbacks to this survey in the last 24 hours, the most it "
                "takes from one person in that time. You can give another from {time}.",
                reached.given,
            ).format(count=reached.given, time=self._next_time(reached, t))
            return Outcome(replies=(Reply(said),), close_keyboard=True, question_gone=True)
        if not turn.changed and turn.outcome.replies and not _given_already(state, event):
            # Not taken, and written in another language the bot speaks: the way to it, in
            # that language (found by a customer walk-through: an English speaker refused
            # four times in German at the rating, nothing readable naming /language)
            other = _their_language(event, t)
            if other is not None:
                hint = other.gettext("In English: send /language.")
                return replace(turn.outcome, replies=headed((hint,), turn.outcome.replies))
        return turn.outcome

    async def _complete(
        self, pseudonym: str, person: Person, flow: FlowDefinition, completion: Completion
    ) -> None:
        granted = [c for c in completion.consents if c.granted]
        contact = any(flow.purpose(c.purpose).stores_contact for c in granted)
        purposes = [p.id for p in flow.required_purposes] + [c.purpose for c in granted]
        # An answer for an optional purpose withdrawn mid-conversation (/widerruf) is not kept.
        declined = {p.id for p in flow.purposes if not p.required} - set(purposes)
        left_out = {step for purpose in declined for step in flow.collected_for(purpose)}
        # Nor one to a question the flow no longer has (removed between two runs while the
        # person answered, perhaps because it asked for what it should not; review).
        asked = {step.id for step in flow.steps}
        answers = {k: v for k, v in completion.answers.items() if k not in left_out and k in asked}
        if granted:
            await self._archived()
        # Which answers each optional consent carries, kept with them: a withdrawal finds
        # them after the purpose was renamed or the survey retired (review).
        # (An empty list where none: then it is known to carry none.)
        collected = {
            c.purpose: [s for s in flow.collected_for(c.purpose) if s in answers] for c in granted
        }
        # The language to answer in, kept with the chat id: the app's, not a copy of a
        # /language choice, which has its own date and goes with "Like my Telegram app"
        # (found by review: the copy outlived it); the answer takes a choice in force first.
        feedback = NewFeedback(
            flow_id=flow.id,
            answers=answers,
            purposes=purposes,
            created_at=self.clock(),
            expires_at=completion.expires_at,
            collected=collected,
            scales={  # as given; a draft from before they were kept: as the flow has it
                step.id: completion.scales.get(step.id, [step.min, step.max])
                for step in flow.steps
                if isinstance(step, RatingStep) and step.id in answers
            },
        )
        record = await self.store.submit_feedback(
            pseudonym,
            feedback,
            [
                ConsentGrant(
                    purpose=c.purpose,
                    notice_version=self._versions[flow.id],
                    text_sha256=c.text_sha256,
                    method=CONSENT_METHOD,
                    granted_at=c.at,
                    required=False,
                )
                for c in granted
            ],
            contact_chat_id=person.chat_id if contact else None,
            contact_language=person.app_locale if contact else None,
            tallies=countable_answers(flow, answers),
            recipients=self.recipients_of(feedback),
            counted_under=[p.id for p in flow.required_purposes],
            alert=self.alert_of(feedback),
            limit=self.config.feedback_limit,
        )
        log.info("feedback stored", extra={"pseudonym": pseudonym[:12], "flow": flow.id})
        for listener in self.feedback_listeners:
            await listener(pseudonym, record)

    async def _still_in_force(
        self,
        pseudonym: str,
        flow: FlowDefinition,
        completion: Completion,
        t: Translator,
        outcome: Outcome,
    ) -> Outcome:
        """The thanks, saying so where "No" was answered to an optional consent given in an
        earlier feedback: that one still applies to that feedback (not to this one: staff
        cannot answer this one, found by review), and "No" here does not withdraw it."""
        declined = {c.purpose for c in completion.consents if not c.granted}
        if not declined or not outcome.replies:
            return outcome
        earlier = {c.purpose for c in await self.store.consents(pseudonym) if c.in_force}
        # Only while a feedback given with it is stored: once that expired, the consent is
        # in force for nothing, and "still applies to it" was false (returning-customer
        # review). A record that cannot be read may be such a feedback.
        kept, unreadable = await self.store.readable_feedback_of(pseudonym, self.clock())
        if not unreadable:
            earlier &= {purpose for record in kept for purpose in record.purposes}
        notes = [
            t.gettext(
                "You agreed to “{purpose}” with an earlier feedback: that consent still applies "
                "to it, not to this one; /withdraw withdraws it."
            ).format(purpose=render_text(purpose.label or purpose.description, t))
            for purpose in flow.purposes
            if purpose.id in declined & earlier
        ]
        if not notes:
            return outcome
        *before, thanks = outcome.replies
        return replace(
            outcome, replies=(*before, replace(thanks, text="\n\n".join((thanks.text, *notes))))
        )

    async def _state(self, pseudonym: str) -> ConversationState | None:
        try:
            draft = await self.store.load_draft(pseudonym, self.clock())
        except DecryptionFailed:
            # Damaged on disk, it can never be read again: kept, it failed every message
            # and /start with "try again in a moment" until it expired (key review).
            log.warning("unfinished answers unreadable, discarded")
            await self.store.delete_draft(pseudonym)
            return None
        if draft is None:
            return None
        state = ConversationState.model_validate(draft.payload)
        flow = self.catalog.flows.get(state.flow_id)
        if state.notice_version is None and flow is not None:
            # Begun by a version that did not note it (before 1 Dec 2026): the request the
            # person agreed to is that of their consents, so that one changed by the upgrade
            # is asked again (upgrade review: it went on unasked, under the new terms).
            consents = await self.store.consents(pseudonym)
            required = {p.id for p in flow.required_purposes}
            current = self._versions[flow.id]
            older = [
                c
                for c in consents
                if c.in_force and c.purpose in required and c.notice_version != current
            ]
            if older and not self._agreed(consents, flow):
                newest = max(older, key=lambda c: c.granted_at)
                state = state.model_copy(update={"notice_version": newest.notice_version})
        return state

    async def _asked_again(
        self,
        pseudonym: str,
        flow: FlowDefinition,
        t: Translator,
        state: ConversationState,
        note: str | None = None,
        keep_open: bool = True,
    ) -> Outcome:
        """The open question asked again (after /help, /start, a language chosen ...), as
        the flow has it now: where it was edited under the answers, realigned and saved
        (found by review: the question was shown as it is now, and the answer to it
        refused as to a question changed since), else with its idle time started again
        (unless not `keep_open`). Where the consent request changed under the answers, that
        request instead (found by a DPO check: /mydata showed the question, and the answer
        to it was refused as given under the old request)."""
        if self._agreed_to_older(state, flow):
            return await self._ask_again_under_way(pseudonym, flow, t, state, keep_open=keep_open)
        engine = self._engine(flow, t)
        realigned = engine.realign(state)
        if realigned is not None and realigned.state is not None:
            try:  # an answer or all dropped: the rest under a new key
                await self._save(pseudonym, realigned.state, fresh=True)
            except StorageFull:  # the answer will realign it again
                log.warning("unfinished answers not realigned: no space")
            replies = realigned.outcome.replies
            # Starting again from the first question says so itself: "let's continue where
            # you left off" before it said the opposite (found by a flow author's review).
            restarted = flow.step(state.step_id) is None
            return Outcome(replies=headed((note,) if note and not restarted else (), replies))
        asked = engine.reask(state, note)  # below all else now (see `Engine.reask`)
        if keep_open and asked.state is not None:
            await self._keep_open(pseudonym, asked.state)
        return asked.outcome

    async def _interrupted(self, pseudonym: str, state: ConversationState) -> ConversationState:
        """`state` once another survey's request or question is shown below its question:
        a text sent next is not more of (nor, after a skip, the) answer given last (found
        by a customer walk-through: "/start product", then product feedback typed, was
        taken as the skipped comment of the other survey, which the product survey's Yes
        then discarded). "Delete that" still takes that answer out. Kept open as after any
        interruption (see `_keep_open`)."""
        state = state.model_copy(update={"interrupted": True})
        await self._keep_open(pseudonym, state)
        return state

    async def _keep_open(self, pseudonym: str, state: ConversationState) -> None:
        """The idle time starts again where the open question is asked again (found by a
        time review: the answer to a question asked again after /help, a sticker or a
        rating out of the scale was refused as "no survey under way" minutes later, the
        idle time counted from the last answer taken). Nothing is said should the disk be
        full: the question stands, and its answer will say so."""
        try:
            await self._save(pseudonym, state)
        except StorageFull:
            log.warning("unfinished answers not kept open longer: no space")

    async def _save(self, pseudonym: str, state: ConversationState, fresh: bool = False) -> None:
        now = self.clock()
        await self.store.save_draft(
            pseudonym,
            Draft(
                payload=state.model_dump(mode="json"),
                updated_at=now,
                expires_at=now + self.config.draft_idle,
            ),
            fresh=fresh,
        )

    def _engine(self, flow: FlowDefinition, t: Translator) -> Engine:
        return Engine(
            flow=flow,
            t=t,
            now=self.clock(),
            retention=self._retention(flow),
            timezone=self.config.timezone,
            idle=self.config.draft_idle,
            start=self.catalog.start_command(flow.id),
            recipients=self.processing.recipients,
        )

    def retentions(self) -> dict[str, timedelta]:
        """Each loaded flow's retention, by flow id."""
        return {flow.id: self._retention(flow) for flow in self.catalog.flows.values()}

    def _retention(self, flow: FlowDefinition) -> timedelta:
        # The deletion date the engine sets is the retention the notices state.
        return self.processing.retention_of(flow.id)

    async def _limit_reached(
        self, pseudonym: str, person: Person, flow: FlowDefinition, t: Translator
    ) -> Outcome | None:
        """The answer to whoever would begin `flow` having given it as many feedbacks in the
        last 24 hours as `ServiceConfig.feedback_limit` allows (with another survey's
        question under way asked again); None while they may begin it."""
        limit = self.config.feedback_limit
        if limit is None:
            return None
        try:
            await self.store.check_feedback_limit(pseudonym, flow.id, limit, self.clock())
        except FeedbackLimitReached as reached:
            return await self._limit_told(pseudonym, person, flow, t, reached)
        return None

    async def _limit_told(
        self,
        pseudonym: str,
        person: Person,
        flow: FlowDefinition,
        t: Translator,
        reached: FeedbackLimitReached,
    ) -> Outcome:
        log.info("feedback limit reached", extra={"pseudonym": pseudonym[:12], "flow": flow.id})
        said = t.ngettext(
            "Thank you for your interest! You have already given {count} feedback to this "
            "survey in the last 24 hours, the most it takes from one person in that time. "
            "You can give another from {time}.",
            "Thank you for your interest! You have already given {count} feedbacks to this "
            "survey in the last 24 hours, the most it takes from one person in that time. "
            "You can give another from {time}.",
            reached.given,
        ).format(count=reached.given, time=self._next_time(reached, t))
        return await self.reminded(person, Outcome.say(said))

    async def _limited_until(self, pseudonym: str, t: Translator) -> str | None:
        """When the person may give feedback again where the feedback limit would refuse
        /start now (the default survey's, which /start begins), in their language; None
        while it would begin it."""
        limit = self.config.feedback_limit
        if limit is None:
            return None
        try:
            await self.store.check_feedback_limit(
                pseudonym, self.catalog.default_id, limit, self.clock()
            )
        except FeedbackLimitReached as reached:
            return self._next_time(reached, t)
        return None

    def _next_time(self, reached: FeedbackLimitReached, t: Translator) -> str:
        """When the next feedback becomes possible, in the person's time zone and language,
        to the minute: rounded up, so that it is possible at the minute shown."""
        at = reached.next_at
        if at.second or at.microsecond:
            at = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return t.datetime(at, self.config.timezone)

    def _not_saved(self, t: Translator) -> Outcome:
        log.error("storage full: answer not saved")
        return Outcome.say(
            t.gettext(
                "Sorry, your answer could not be saved right now. Nothing was lost that you "
                "had already sent; please try again later."
            )
        )


def countable_answers(flow: FlowDefinition, answers: Mapping[str, object]) -> dict[str, list[str]]:
    """Ratings and choices for the anonymous statistics (those collected for the flow's
    required purposes); free text never leaves the record."""
    tallies: dict[str, list[str]] = {}
    for step in flow.evaluated_steps:
        value = answers.get(step.id)
        if step.type not in {"rating", "choice", "multiple_choice"} or value is None:
            continue
        values = value if isinstance(value, list) else [value]
        tallies[step.id] = [str(v) for v in values]
    return tallies


# A yes typed at a survey's consent question that may be no more than an acknowledgement
# before one: "Ok" after declining (a review); the rest of YESES is a yes there too ("sure",
# "Jawohl", "klar", "gerne", "of course" were told that feedback needs consent first, found
# by a customer walk-through).
_ACKNOWLEDGED = typed_forms({"ok", "okay", "j", "jo", "y"})
_THUMBS = frozenset({"👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "👌", "🆗", "✅", "✔️", "✔"})
"""An emoji that says ok, as "ok" does (found by a customer walk-through: "👍" next to the
consent request was told that feedback needs consent)."""


def _a_yes(text: str, t: Translator) -> bool:
    """Whether typed `text` says yes to the consent request: its button's words, or words
    of agreement alone (see AGREES and YESES)."""
    words = bare_words(text)
    # after an "ok" too ("ok I agree": found by a customer walk-through, told that feedback
    # needs consent first)
    agreeing = _ACKNOWLEDGING.sub("", words)
    return (
        words == bare_words(t.gettext("Yes, I agree"))
        or words in AGREES
        or (agreeing != words and agreeing in AGREES)
        or (words in YESES and words not in _ACKNOWLEDGED)
    )


_ACKNOWLEDGING = re.compile(
    r"^(?:(?:ok|okay|okey|alright|alles klar|na gut|gut|fine|ja gut|ja|yes|also|well) )+"
)


def _still_open(t: Translator, outcome: Outcome) -> str:
    """The note before a survey's question asked again under `outcome`; where that is a
    question of its own (/loeschen, /widerruf, /sprache), its buttons named, as the last
    buttons in the chat are now the survey's (found by an accessibility review: the person
    who asked to erase heard "Ja, einverstanden" of the contact question last)."""
    buttons = _buttons_of(t, outcome)
    if buttons is None:
        return t.gettext("Your survey is still open; here is its question again.")
    return t.gettext(
        "Your survey is still open; here is its question again. The question before this "
        "message keeps its own buttons: {buttons}."
    ).format(buttons=buttons)


def _kept_buttons(t: Translator, outcome: Outcome) -> str | None:
    """Where `outcome` asks a question of its own (/loeschen, /sprache), that its buttons
    stay, named (see `_still_open`); None where it has none."""
    buttons = _buttons_of(t, outcome)
    if buttons is None:
        return None
    note = t.gettext("The question before this message keeps its own buttons: {buttons}.")
    return note.format(buttons=buttons)


def _buttons_of(t: Translator, outcome: Outcome) -> str | None:
    """The labels of the buttons of `outcome`'s last question, as a list read out ("“Ja”
    oder “Nein”"); None where it asks none."""
    asked = [reply for reply in outcome.replies if reply.buttons]
    if not asked:
        return None
    labels = [t.gettext("“{name}”").format(name=b.label) for row in asked[-1].buttons for b in row]
    return format_list(labels, style="or", locale=t.locale)


def _addresses_someone(text: str) -> bool:
    """Whether `text`, sent where no question is open, may be written to someone: a
    question, or a message of a few words (not "Danke!", "ok", "👍")."""
    words = bare_words(text).split()
    return len(words) >= 4 or (bool(words) and text.rstrip().endswith("?"))


_HOW_IT_GOES = re.compile(
    r"\b(?:weiss nicht,? wie (?:das|es) (?:geht|funktioniert)|wie (?:geht|funktioniert) das"
    r"|was (?:muss|soll) ich (?:jetzt |hier |denn )*(?:druecken|tippen|klicken|anklicken|tun"
    r"|machen|antworten)|wo (?:muss|soll) ich (?:jetzt |hier )*(?:druecken|tippen|klicken)"
    r"|(?:don't|dont|do not) (?:know|understand) how (?:this|it) works"
    r"|what (?:do|should|must) i (?:press|tap|click|do now)|where (?:do|should) i (?:press|tap"
    r"|click)|how do i (?:do this|use this|answer|start))\b"
)
"""Asking how it goes, in a longer message too ("Guten Tag, ich bin 78 Jahre alt und weiß
nicht, wie das geht": found by a customer walk-through, told feedback needs consent)."""


def _unsure(text: str) -> bool:
    """Whether `text` only greets, asks what to do here or what is wanted ("Hallo?",
    "Hilfe", "Was soll ich hier machen?", "?"), or asks how it goes (see _HOW_IT_GOES)."""
    if len(text) <= 160 and _HOW_IT_GOES.search(bare_words(text).translate(AS_ASCII)):
        return True
    if len(text) > 60:
        return False
    words = bare_words(text)
    return (
        words in GREETINGS
        or words in PUZZLED_ALONE
        or typed_help(text)
        or (text.rstrip("!").endswith("?") and words in PUZZLED)
    )


def _language_of(state: ConversationState, t: Translator) -> Translator:
    """A conversation goes on in the language it began in, whichever device answers:
    the questions and buttons already in the chat are in that language."""
    if state.locale in SUPPORTED_LOCALES and state.locale != t.locale:
        return translator(state.locale)
    return t


def _remember(kept: dict[str, T], pseudonym: str, value: T) -> None:
    """`value` kept for `pseudonym`, newest last; bounded, the oldest forgotten (one
    process, so as not to grow with every person ever seen)."""
    kept.pop(pseudonym, None)
    kept[pseudonym] = value
    if len(kept) > 10_000:
        del kept[next(iter(kept))]


def _tap_yes(t: Translator) -> str:
    """The answer to a yes typed under a consent request: consent is given with its button."""
    return t.gettext(
        "To agree, please tap “{yes}” under the consent request; typing is not "
        "enough. If you cannot see the request any more, /start shows it again."
    ).format(yes=t.gettext("Yes, I agree"))


def _headed(notes: tuple[str, ...], outcome: Outcome) -> Outcome:
    return replace(outcome, replies=headed(notes, outcome.replies))


def _in_their_language(said: str, event: Input, t: Translator) -> str:
    """`said`, with the way to the language a message not kept was written in where that
    is not the chat's (found by a customer walk-through: "what do you do with my data?"
    answered in German alone, nothing readable naming /language)."""
    other = _their_language(event, t)
    if other is None:
        return said
    return said + "\n\n" + other.gettext("In English: send /language.")


def _given_already(state: ConversationState, event: Input) -> bool:
    """Whether `event` is a text answer given already (sent again): taken, not refused."""
    if not isinstance(event, TextInput):
        return False
    typed = event.text.strip()
    return any(isinstance(v, str) and typed in v.split("\n") for v in state.answers.values())


def _their_language(event: Input, t: Translator) -> Translator | None:
    """The language a text was written in, where the bot speaks it and it is not `t`'s."""
    written = written_in(event.text) if isinstance(event, TextInput) else None
    if written is None or written == t.locale or written not in SUPPORTED_LOCALES:
        return None
    return translator(written)


def _other_languages(locale: str) -> str:
    """How to switch to each language the bot speaks but `locale`, each in its own."""
    return " ".join(
        translator(other).gettext("In English: send /language.")
        for other in SUPPORTED_LOCALES
        if other != locale
    )


__all__ = ["FeedbackService", "Person", "ServiceConfig", "Turn"]
