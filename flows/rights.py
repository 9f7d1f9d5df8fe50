"""Data-subject rights in the chat: access and copy, erasure, withdrawal, information.

Every method acts on the sender alone; none takes another person's id.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from babel.lists import format_list

from flows.catalog import FlowCatalog
from flows.engine import (
    DECLINES,
    ERASE,
    WITHDRAW,
    YESES,
    ConversationState,
    asks_if_erased,
    bare_words,
    typed_forms,
    typed_request,
)
from flows.export import (
    DataExport,
    ExportAnswer,
    ExportAuditEntry,
    ExportConsent,
    ExportConsentProof,
    ExportController,
    ExportDelivery,
    ExportDraft,
    ExportFeedback,
    ExportLanguage,
)
from flows.figures import needed_consents
from flows.i18n import N_, Translator, translator
from flows.models import (
    ChoiceStep,
    ConsentStep,
    FlowDefinition,
    MultipleChoiceStep,
    Purpose,
    RatingStep,
    TextStep,
    render_text,
)
from flows.privacy import (
    consents_kept,
    contact_kept,
    erasure_notes_kept,
    privacy_notice,
    proof_kept,
    recipient_notices,
    retention_text,
)
from flows.processing import STAFF_CHAT, purposes_of
from flows.replies import Button, Document, Outcome, Reply
from flows.service import Person, ServiceConfig
from storage.interface import (
    AuditEntry,
    ConsentGrant,
    ConsentProof,
    ConsentRecord,
    ConsentsOf,
    DecryptionFailed,
    Delivery,
    Draft,
    FeedbackRecord,
    LanguageChoice,
    LedgerNote,
    StorageFull,
    Store,
    StoreError,
    answers_for,
    proof_kept_until,
)

log = logging.getLogger("flows.rights")
OUR_STAFF_CHAT = N_("our staff chat")
"""As a recipient in a copy of the person's data: where alerts about their feedback went."""

RemovalListener = Callable[
    [list[Delivery], Literal["erasure", "withdrawal"], str | None], Awaitable[None]
]

ACCESS_LIMIT = 3
ACCESS_WINDOW = timedelta(minutes=1)
ERASE_BUTTON_VALID = timedelta(minutes=15)
NO_AUTOMATED_DECISIONS = N_("No automated decisions are made about you, and you are not profiled.")


# A short answer typed under an erase or withdraw question, in other words than a plain yes
# or no ("Jawohl", "ja mach", "Doch löschen bitte", "go ahead", "never mind"; found by a
# review of customers' phrasing: told that no question was open): made of these words
# alone, one of them not a mere filler. A comment ("Nein, die Toiletten waren dreckig")
# has other words, and is answered as before.
_DECIDING = typed_forms(
    frozenset(
        "ja jaa jawohl jo jup jep jap yes yess yea yeah yep yup ok okay k doch klar sicher "
        "genau gerne gern sure confirm confirmed go ahead do mach machen macht tu tun "
        "nein nee ne nö no nope nah never mind nvm behalten keep lass löschen lösche "
        "löscht delete erase remove weg".split()
    )
)
_FILLING = typed_forms(
    frozenset(
        "bitte please pls plz danke thanks thx sie ich i im i'm am bin es it das that this "
        "alles all everything meine my die the daten data nicht don't dont not anything "
        "nichts lieber mal damit will möchte want einfach just auch too schon jetzt now "
        "sofort right away".split()
    )
)
_CHOOSING = typed_forms(
    frozenset(
        "1 2 3 4 5 erste ersten zweite zweiten dritte letzte letzten first second third last "
        "one option nr nummer number beide both alle them of den der widerrufen widerrufe "
        "withdraw revoke einwilligung einwilligungen consent consents kontakt contact".split()
    )
)
"""Words naming one of the buttons under /withdraw's question ("die erste", "2", "beide");
the words of its buttons' labels too."""
_THUMBS = frozenset("👍 👌 ✅ 👎 ❌ 🙏".split())


def _an_answer(text: str, choosing: frozenset[str] = frozenset()) -> bool:
    """Whether `text` is a short answer of `_DECIDING` and `_FILLING` words (and of
    `choosing`), or a thumb or tick alone."""
    if text.strip().replace("\ufe0f", "") in _THUMBS:
        return True
    words = bare_words(text).split()
    deciding = _DECIDING | choosing
    return (
        0 < len(words) <= 8
        and all(word in deciding or word in _FILLING for word in words)
        and any(word in deciding for word in words)
    )


KEEP_CONSENTS = "w:"
"""The data of the button under /withdraw's question that withdraws nothing (a purpose id
is never empty)."""


@dataclass(frozen=True)
class _Held:
    """What is stored about a person, as an erase question tells it: which feedback
    (ids, and how many more cannot be read), and whether there are consent records,
    unfinished answers, contact details, a chosen language."""

    feedback: frozenset[str]
    unreadable: int
    consents: bool
    draft: bool
    contact: bool
    language: bool
    answered: bool = field(default=True, compare=False)
    """Whether the unfinished survey (`draft`) holds an answer yet, or may (unreadable):
    how the question names it, not a change that makes its button out of date."""
    survey: str = field(default="", compare=False)
    """Where the survey under way stood as the question was asked (`_Survey.mark`): typed
    text is for the question until the survey is answered."""
    alerts: int = 0
    """Feedback of the person with an alert in the staff chat (one posted after the
    question makes it out of date, found by review: the result counted it unasked)."""
    quoted: bool = False
    """Whether a digest or summary shown to staff may quote a comment of theirs (they
    wrote one, and a staff chat or staff members are set): those stay there, erasure does
    not reach them."""
    surveys: frozenset[str] = field(default=frozenset(), compare=False)
    """The surveys of their feedback and of the one under way: where, after erasing, they
    may begin again."""

    @property
    def count(self) -> int:
        return len(self.feedback) + self.unreadable  # a damaged one is erased like the rest

    @property
    def more(self) -> bool:
        """Anything but the language."""
        return bool(self.count or self.consents or self.draft or self.contact)


@dataclass(frozen=True)
class _EraseAsked:
    """The erase question a person was shown last: its button's token, when, and what
    was stored then, which its answer must still find."""

    token: str
    at: datetime
    held: _Held
    after_withdrawal: bool = False  # offered right after a withdrawal


@dataclass(frozen=True)
class _WithdrawAsked:
    """/withdraw's question as shown last: when, the words of its buttons' labels, where
    the survey under way stood then (`_Survey.mark`), and its buttons' marks (see
    `_withdrawal_mark`)."""

    at: datetime
    words: frozenset[str]
    survey: str = ""
    marks: tuple[tuple[str, str], ...] = ()


_ERASE_TOKEN = re.compile(r"[A-Za-z0-9_-]{8}")


@dataclass(frozen=True)
class _DraftWithdrawal:
    """What withdrawing a consent did to the conversation under way."""

    given: bool = False  # the consent was given there
    erased: bool = False  # answers collected for it went
    open_question: bool = False  # the question now open is one for it
    discarded: bool = False  # the unfinished answers went (no room to save them)


@dataclass(frozen=True)
class _Discarded:
    """Whether withdrawing a consent ended the conversation under way, and whether it
    held any answer."""

    draft: bool
    answered: bool = False

    def __bool__(self) -> bool:
        return self.draft


@dataclass(frozen=True)
class _Survey:
    """The survey under way as a rights question finds it: whether it holds an answer yet
    (one that cannot be read may), and where it stands (`mark`: its open question and last
    answer, "?" where it cannot be read), to tell later whether it was answered since."""

    answered: bool
    mark: str


class DataRights:
    """/meinedaten, /loeschen, /widerruf and /datenschutz for the person who asks."""

    def __init__(
        self,
        store: Store,
        catalog: FlowCatalog,
        config: ServiceConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.config = config
        self.clock = clock
        self.processing = config.processing(catalog)
        self._purposes = {p.id: p for p in purposes_of(catalog)}
        self._recent_access: dict[str, deque[datetime]] = {}
        # Per person, the erase question shown last: only its button erases, and only
        # what it said (one process: after a restart, /delete is asked again).
        self._erase_asked: dict[str, _EraseAsked] = {}
        # Per person, when /withdraw's question was shown last and the words of its
        # buttons, until one of them is pressed (for a typed answer: see
        # `typed_at_rights_question`).
        self._withdraw_asked: dict[str, _WithdrawAsked] = {}
        # Told which recipients received the person's data when it is erased or consent
        # withdrawn (Art. 19); return at once.
        self.removal_listeners: list[RemovalListener] = []
        # Told the pseudonym of each person erased (caches of their data); return at once.
        self.erasure_listeners: list[Callable[[str], None]] = []
        # Called once the store erased or withdrew something (bot.retractions takes the
        # staff-chat posts about it back); return at once.
        self.after_removal: list[Callable[[], None]] = []
        self.recipient_names: dict[str, str] = {}
        self.recipient_purposes: dict[str, str | None] = {}
        """Each recipient's own purpose (None: internal), to say who is asked to delete."""

    # --- /datenschutz -------------------------------------------------------------------
    def privacy(self, locale: str) -> Outcome:
        return Outcome.say(privacy_notice(translator(locale), self.processing))

    # --- /meinedaten ----------------------------------------------------------------------
    async def access(
        self, person: Person, staff: bool = False, actor: str | None = None
    ) -> Outcome:
        """A readable summary plus the complete copy as a JSON document; to a member of
        staff, also where their own use of the staff commands is kept (the audit trail),
        and to whoever made entries in it (`actor`: as the staff commands name them; also
        a former member of staff) those entries in the copy (Art. 15 GDPR: found by a DPO's
        review, the copy left them out, "ask {contact}")."""
        t = translator(person.locale)
        pseudonym = self.store.pseudonym(person.subject)
        if not self._allow_access(pseudonym):
            return Outcome.say(t.gettext("Please wait a minute before asking for your data again."))
        now = self.clock()
        # A record that cannot be read (a damaged disk, a copy restored in part) must not
        # keep the person from the rest: it is left out of the copy, and counted.
        feedback, unreadable = await self.store.readable_feedback_of(pseudonym, now)
        try:
            consents = await self.store.consents(pseudonym)
        except DecryptionFailed:  # at least one, which keeps all back: counted as one
            consents, unreadable = [], unreadable + 1
        try:
            draft = await self.store.load_draft(pseudonym, now)
        except DecryptionFailed:
            draft, unreadable = None, unreadable + 1
        contact_language = None
        try:
            contact = await self.store.contact_of(pseudonym)
            if contact is not None:
                contact_language = await self.store.contact_language_of(pseudonym)
        except DecryptionFailed:
            contact, unreadable = None, unreadable + 1
        language = await self._language(pseudonym, now)
        # Read through the whole ledger (0.16 s at 50,000 entries) also where other data is
        # stored: whoever erased and came back is told of the older note too (found by a
        # rights audit). Anyone could already have it read, with no data stored.
        noted = await self.store.ledger_note(pseudonym)
        trail = [] if actor is None else await self.store.audit_entries_of(actor)
        audited = [
            ExportAuditEntry(event=e.event, at=e.at, detail=e.detail, records=e.records)
            for e in trail
        ]
        if not (consents or feedback or draft or contact or language or unreadable):
            # Found by a DPO's review: said to a member of staff, whose every summary,
            # export and answer is in the audit trail under their id for years.
            copied = bool(noted is not None and noted.proofs) or bool(trail)
            nothing = self._nothing_but_a_note(t, noted, copy=copied, staff=staff or bool(trail))
            if staff or trail:
                nothing = f"{nothing}\n\n{self._staff_access_note(t, trail)}"
            if (noted is None or not noted.proofs) and not trail:
                return Outcome.say(nothing)
            # Proof of consent and audit entries are the person's data too: their copy,
            # with what the lines above leave out (the text agreed to, its hash, how it
            # was given; each entry).
            wording = await self._wording(() if noted is None else noted.proofs)
            export = self._export(
                t, now, [], [], None, None, None, None, ConsentsOf(()), set(), wording, noted
            )
            export = self._with_trail(t, export, audited)
            return Outcome(replies=(Reply(nothing), self._copy(t, export)))
        # Whether each feedback is still evaluated, as staff statistics, alerts and
        # deliveries go by it: also where a consent's sealed details are unreadable (found
        # by a key review: one damaged consent row had every feedback said withdrawn).
        ledger = await self.store.consent_ledger(pseudonym)
        ended = self._ended(consents, feedback, unreadable, contact is not None)
        wording = await self._wording([*consents, *(() if noted is None else noted.proofs)])
        export = self._export(
            t,
            now,
            consents,
            feedback,
            draft,
            contact,
            language,
            contact_language,
            ledger,
            ended,
            wording,
            noted,
        )
        stored = {f.id for f in feedback}
        passed_on = [
            ExportDelivery(
                recipient=self.recipient_names.get(d.recipient, d.recipient),
                feedback_id=d.feedback_id,
                delivered_at=d.delivered_at,
                confirmed=not d.unconfirmed,
            )
            for d in await self.store.deliveries_of(pseudonym)
            # On its way: shown once it has arrived; of a feedback expired: gone with it.
            if not d.pending and d.feedback_id in stored
        ]
        # The alerts staff were shown, one per feedback (a long one may take two messages),
        # unconfirmed where no part of it is known to have arrived.
        posts = await self.store.staff_posts_of(pseudonym)
        alerts = {post.feedback_id: post for post in reversed(posts) if post.feedback_id in stored}
        arrived = {post.feedback_id for post in posts if post.confirmed}
        unconfirmed = {post.feedback_id for post in posts} - arrived
        passed_on += [
            ExportDelivery(
                recipient=t.gettext(OUR_STAFF_CHAT),
                feedback_id=post.feedback_id,
                delivered_at=post.posted_at,
                confirmed=post.feedback_id not in unconfirmed,
            )
            for post in alerts.values()
        ]
        passed_on.sort(key=lambda passed: passed.delivered_at)
        export = self._with_trail(t, export.model_copy(update={"passed_on": passed_on}), audited)
        log.info("access given", extra={"pseudonym": pseudonym[:12]})
        summary = self._summary(t, export)
        if unreadable:
            log.warning("records unreadable at an access", extra={"records": unreadable})
            damaged = t.ngettext(
                "{count} more record about you could not be read because its stored copy "
                "is damaged, so it is missing here. It is deleted on its deletion date, or "
                "now with /delete.",
                "{count} more records about you could not be read because their stored "
                "copy is damaged, so they are missing here. They are deleted on their "
                "deletion date, or now with /delete.",
                unreadable,
            )
            summary = f"{summary}\n\n{damaged.format(count=unreadable)}"
        if staff or trail:
            summary = f"{summary}\n\n{self._staff_access_note(t, trail)}"
        return Outcome(replies=(Reply(summary), self._copy(t, export)))

    def _with_trail(
        self, t: Translator, export: DataExport, audited: list[ExportAuditEntry]
    ) -> DataExport:
        """The copy with the person's entries of the audit trail, and how long they are kept
        (found by review: the rules of the copy did not say)."""
        if not audited:
            return export
        kept = t.gettext(
            "Entries of the audit trail (your use of the staff commands): each is deleted "
            "{period} after it was made."
        ).format(period=t.duration(self.config.audit_retention))
        rules = [*export.retention_rules, kept]
        return export.model_copy(update={"staff_audit": audited, "retention_rules": rules})

    @staticmethod
    def _copy(t: Translator, export: DataExport) -> Reply:
        """The complete copy of the person's data, as a JSON file."""
        document = Document(
            filename="feedbackbot-data.json",
            content=export.model_dump_json(indent=2).encode("utf-8"),
            caption=t.gettext("A complete copy of your data as a file (JSON, machine-readable)."),
        )
        return Reply("", document=document)

    def _nothing_but_a_note(
        self, t: Translator, noted: LedgerNote | None, copy: bool = False, staff: bool = False
    ) -> str:
        """What /mydata says where nothing but the erasure ledger is left: its note, if it
        keeps one about the person, what of, and until when (found by a rights audit: right
        after the erasure had said that a note is kept, this said nothing was stored)."""
        if noted is None:
            if staff:  # (found by a DPO's review: "no data" above the audit trail's entries)
                return t.gettext("No data is stored about you as a customer.")
            return t.gettext("No data is stored about you.")
        zone = self.config.timezone
        if not noted.proofs:
            assert noted.until is not None
            return t.gettext(
                "No data is stored about you except an encrypted note (none of your answers) "
                "that {what}. It is kept until {date}, so that this is carried out again should "
                "our data be restored from a backup."
            ).format(what=_what_was_noted(t, _note_about(noted)), date=t.date(noted.until, zone))
        if noted.until is None:
            said = t.gettext(
                "No data is stored about you except proof of earlier consents (to what, when "
                "and how you agreed; none of your answers), kept after their records were "
                "deleted, to show that you agreed (Art. 7(1), 17(3)(e) GDPR):"
            )
        else:
            # One sentence for both (found by a DPO's review: "no data except a note", and
            # the proof only in the paragraph after it)
            said = t.gettext(
                "No data is stored about you except an encrypted note (none of your answers) "
                "that {what}, kept until {date} so that this is carried out again should our "
                "data be restored from a backup, and proof of earlier consents (to what, when "
                "and how you agreed; none of your answers), kept after their records were "
                "deleted, to show that you agreed (Art. 7(1), 17(3)(e) GDPR):"
            ).format(what=_what_was_noted(t, _note_about(noted)), date=t.date(noted.until, zone))
        proofs = [self._proof(t, proof, None) for proof in noted.proofs]
        # What /delete does to it, and the rights where it is all there is (found by a
        # DPO's review: a second /delete was answered by this list alone)
        rights = t.gettext(
            "/delete does not erase this proof: we keep it until the date named, to be able "
            "to show that you agreed should it be disputed. If you think we should not, write "
            "to {contact}; you may also complain to a data protection supervisory authority."
        ).format(contact=self.processing.controller.contact)
        # (found by a DPO's review: said after /delete too, where no file follows)
        wording = (
            t.gettext("The copy that follows as a file holds the exact wording of each consent.")
            if copy
            else t.gettext("/mydata sends a copy with the exact wording of each consent.")
        )
        return "\n".join([said, *self._proof_lines(t, proofs), "", f"{rights} {wording}"])

    def _proof_lines(self, t: Translator, proofs: Sequence[ExportConsentProof]) -> list[str]:
        """Each proof of consent kept, a line each: what it was given to, when, and until
        when the proof is kept."""
        zone = self.config.timezone
        lines = []
        for proof in proofs:
            if proof.withdrawn_at is not None:
                line = t.gettext(
                    "• {purpose}: given on {when}, withdrawn on {withdrawn} (consent request "
                    "version {version}); kept until {until}"
                )
            elif proof.ended_at is not None:  # (as the consent was shown before: review)
                line = t.gettext(
                    "• {purpose}: given on {when}, ended on {ended} with the feedback it was "
                    "given with (consent request version {version}); kept until {until}"
                )
            else:
                line = t.gettext(
                    "• {purpose}: given on {when} (consent request version {version}); kept "
                    "until {until}"
                )
            lines.append(
                line.format(
                    purpose=proof.purpose_description,
                    when=t.datetime(proof.granted_at, zone),
                    withdrawn=t.datetime(proof.withdrawn_at, zone) if proof.withdrawn_at else "",
                    ended=t.datetime(proof.ended_at, zone) if proof.ended_at else "",
                    version=proof.notice_version,
                    until=t.date(proof.kept_until, zone),
                )
            )
        return lines

    def _proof(self, t: Translator, proof: ConsentProof, text: str | None) -> ExportConsentProof:
        purpose = self._purposes.get(proof.purpose)
        return ExportConsentProof(
            purpose=proof.purpose,
            purpose_description=(
                render_text(purpose.description, t) if purpose else self._label(t, proof.purpose)
            ),
            granted_at=proof.granted_at,
            withdrawn_at=proof.withdrawn_at,
            ended_at=proof.ended_at,
            notice_version=proof.notice_version,
            text_sha256=proof.text_sha256,
            text=text,
            method=proof.method,
            kept_since=proof.kept_since,
            reason=proof.reason,
            kept_until=proof.kept_until,
        )

    def _staff_access_note(self, t: Translator, trail: Sequence[AuditEntry]) -> str:
        """Where the audit trail keeps the person's use of the staff commands, and how much
        of it there is (each entry is in the copy)."""
        period = t.duration(self.config.audit_retention)
        if not trail:
            return t.gettext(
                "As a staff member: the audit trail also keeps when you use the staff commands "
                "(what, and how many records) and, encrypted, your Telegram user ID with each "
                "entry, as proof of how feedback was handled; it holds no entry of yours now. "
                "Each entry is deleted {period} after it was made."
            ).format(period=period)
        zone = self.config.timezone
        first, last = t.date(trail[0].at, zone), t.date(trail[-1].at, zone)
        # Not "As a staff member": also said to a former one (found by review).
        if first == last:  # (found by review: "from 29 November 2026 to 29 November 2026")
            return t.ngettext(
                "From your work as staff: the audit trail also keeps when you used the staff "
                "commands (what, and how many records) and, encrypted, your Telegram user ID "
                "with each entry, as proof of how feedback was handled: {count} entry of "
                "yours, made on {first}; it is in the copy. Each entry is deleted {period} "
                "after it was made.",
                "From your work as staff: the audit trail also keeps when you used the staff "
                "commands (what, and how many records) and, encrypted, your Telegram user ID "
                "with each entry, as proof of how feedback was handled: {count} entries of "
                "yours, made on {first}; each is in the copy. Each entry is deleted {period} "
                "after it was made.",
                len(trail),
            ).format(count=t.number(len(trail)), first=first, period=period)
        return t.gettext(
            "From your work as staff: the audit trail also keeps when you used the staff "
            "commands (what, and how many records) and, encrypted, your Telegram user ID with "
            "each entry, as proof of how feedback was handled: {count} entries of yours, made "
            "from {first} to {last}; each is in the copy. Each entry is deleted {period} after "
            "it was made."
        ).format(count=t.number(len(trail)), first=first, last=last, period=period)

    def _allow_access(self, pseudonym: str) -> bool:
        now = self.clock()
        recent = self._recent_access.setdefault(pseudonym, deque())
        while recent and now - recent[0] >= ACCESS_WINDOW:
            recent.popleft()
        if len(recent) >= ACCESS_LIMIT:
            return False
        recent.append(now)
        if len(self._recent_access) > 10_000:  # keep memory bounded; forget the oldest
            del self._recent_access[next(iter(self._recent_access))]
        return True

    def _export(
        self,
        t: Translator,
        now: datetime,
        consents: list[ConsentRecord],
        feedback: list[FeedbackRecord],
        draft: Draft | None,
        contact: int | None,
        language: LanguageChoice | None,
        contact_language: str | None,
        ledger: ConsentsOf,
        ended: set[str],
        wording: dict[tuple[str, str], str],
        noted: LedgerNote | None,
    ) -> DataExport:
        controller = self.config.controller
        proof_period = self.config.consent_proof_retention
        drafts = []
        if draft is not None:
            state = ConversationState.model_validate(draft.payload)
            flow = self.catalog.flows.get(state.flow_id)
            drafts.append(
                ExportDraft(
                    flow=state.flow_id,
                    started_at=state.started_at,
                    discarded_automatically_at=draft.expires_at,
                    answers=self._answers(t, flow, _kept(state, flow)),
                    language=state.locale,
                    language_name=None if state.locale is None else t.language(state.locale),
                )
            )
        return DataExport(
            generated_at=now,
            language=t.locale,
            controller=ExportController(
                name=controller.name,
                contact=controller.contact,
                data_protection_officer=controller.dpo,
            ),
            source=t.gettext("Given by you in this Telegram chat."),
            recipients=recipient_notices(t, self.processing),
            retention=retention_text(t, self.processing),
            retention_rules=[
                *([consents_kept(t)] if consents else []),
                *(
                    [proof_kept(t, proof_period)]
                    if proof_period and (consents or (noted and noted.proofs))
                    else []
                ),
                *([contact_kept(t, contact_language is not None)] if contact is not None else []),
                *(
                    [erasure_notes_kept(t)]
                    if noted is not None or any(not c.in_force for c in consents)
                    else []
                ),
            ],
            identification=t.gettext(
                "A pseudonym computed from your Telegram user ID with a secret key of ours. Your "
                "Telegram name and username are not stored; your Telegram id only if you "
                "agreed to be contacted (encrypted, as the chat to write to)."
            ),
            automated_decisions=t.gettext(NO_AUTOMATED_DECISIONS),
            consents=[
                self._consent(t, c, c.id in ended, wording.get((c.notice_version, c.text_sha256)))
                for c in consents
            ],
            feedback=[self._feedback(t, f, ledger) for f in feedback],
            unfinished_feedback=drafts,
            contact_chat_id=contact,
            contact_language=contact_language,
            chosen_language=None
            if language is None
            else ExportLanguage(
                language=language.locale,
                language_name=t.language(language.locale),
                chosen_at=language.chosen_at,
                deleted_automatically_on=language.expires_at,
            ),
            erasure_note_kept_until=None if noted is None else noted.until,
            erasure_note_about=_note_about(noted),
            consent_proofs=[
                self._proof(t, p, wording.get((p.notice_version, p.text_sha256)))
                for p in (() if noted is None else noted.proofs)
            ],
        )

    def _ended(
        self,
        consents: list[ConsentRecord],
        feedback: list[FeedbackRecord],
        unreadable: int,
        contact: bool,
    ) -> set[str]:
        """The optional consents in force that cover nothing any more (their ids): each was
        given with a feedback, for it alone, and none the person still has carries it (it
        expired, or went with the consent it was given under). Shown as ended, not in force,
        nor offered for withdrawal (found by a returning customer's review: a consent to be
        contacted was said in force a year after its feedback, and its chat id, were gone).
        With a record unreadable, none: it may be the one the consent is for. Nor one to be
        contacted while a chat id is still stored (`contact`: until the purge, or kept for
        unfinished answers): it is what that id rests on, and withdrawing it erases the id
        (found by review: /mydata said it ended and the chat id stored under it, and
        /withdraw did not offer it)."""
        if unreadable:
            return set()
        given: dict[str, list[ConsentRecord]] = {}
        for c in sorted(consents, key=lambda c: c.granted_at):
            if c.in_force and self._optional(c):
                given.setdefault(c.purpose, []).append(c)
        ended: set[str] = set()
        for purpose, records in given.items():
            # Each record by the feedback it was given with: the newest given by the time
            # that feedback was (one per conversation, stored with it), so that one given
            # with an expired feedback ends beside one given since (found by a year-long
            # customer's review: both were said in force).
            covered = set()
            for record in feedback:
                if purpose in record.purposes:
                    before = [r for r in records if r.granted_at <= record.created_at]
                    covered.add(before[-1].id if before else records[0].id)
            left = [r for r in records if r.id not in covered]
            if contact and not covered and self._may_store_contact(purpose):
                left = left[:-1]  # the chat id still stored rests on the newest
            ended |= {r.id for r in left}
        return ended

    def _may_store_contact(self, purpose_id: str) -> bool:
        """Whether a consent to `purpose_id` may be what a contact chat id rests on (also
        one no loaded flow declares any more)."""
        purpose = self._purposes.get(purpose_id)
        return purpose is None or purpose.stores_contact

    def _optional(self, record: ConsentRecord) -> bool:
        """Whether the consent was asked with one feedback, not to take part at all."""
        if record.required is not None:
            return not record.required
        purpose = self._purposes.get(record.purpose)
        return purpose is not None and not purpose.required

    async def _wording(self, consents: Sequence[ConsentGrant]) -> dict[tuple[str, str], str]:
        """The exact text of each consent as the person was shown it, from the archive of
        consent texts, by notice version and SHA-256 (found by an English customer's review:
        a bare version and hash told the person nothing they could read)."""
        found: dict[tuple[str, str], str] = {}
        for c in consents:
            if (c.notice_version, c.text_sha256) not in found:
                for text in await self.store.consent_texts(c.notice_version, c.text_sha256):
                    found[(c.notice_version, c.text_sha256)] = text.text
        return found

    def _consent(
        self, t: Translator, record: ConsentRecord, ended: bool, text: str | None
    ) -> ExportConsent:
        purpose = self._purposes.get(record.purpose)
        return ExportConsent(
            purpose=record.purpose,
            purpose_description=(
                render_text(purpose.description, t) if purpose else self._label(t, record.purpose)
            ),
            status=(
                "ended"
                if ended or record.ended_at
                else "in_force"
                if record.in_force
                else "withdrawn"
            ),
            granted_at=record.granted_at,
            withdrawn_at=record.withdrawn_at,
            ended_at=record.ended_at,
            notice_version=record.notice_version,
            text_sha256=record.text_sha256,
            text=text,
            method=record.method,
        )

    def _feedback(
        self, t: Translator, record: FeedbackRecord, ledger: ConsentsOf
    ) -> ExportFeedback:
        flow = self.catalog.flows.get(record.flow_id)
        needed = needed_consents(record, self.catalog)
        return ExportFeedback(
            evaluated=needed <= ledger.for_feedback(record.created_at),
            id=record.id,
            flow=record.flow_id,
            flow_title=render_text(flow.title, t) if flow else record.flow_id,
            given_at=record.created_at,
            deleted_automatically_on=record.expires_at,
            purposes=record.purposes,
            answers=self._answers(t, flow, record.answers, record.scales),
        )

    def _answers(
        self,
        t: Translator,
        flow: FlowDefinition | None,
        answers: Mapping[str, object],
        scales: Mapping[str, list[int]] | None = None,
    ) -> list[ExportAnswer]:
        """Each answer with its question; a rating on the scale it was given on."""
        result = []
        for step_id, value in answers.items():
            step = flow.step(step_id) if flow else None
            label = None
            if isinstance(step, ChoiceStep):
                option = next((o for o in step.options if o.id == value), None)
                label = render_text(option.label, t) if option else None
            elif isinstance(step, MultipleChoiceStep) and isinstance(value, list):
                chosen = [o for o in step.options if o.id in value]
                label = ", ".join(render_text(o.label, t) for o in chosen) or t.gettext("none")
            elif isinstance(step, RatingStep) and isinstance(value, int):
                label = f"{value} / {(scales or {}).get(step_id, [step.min, step.max])[-1]}"
            elif isinstance(step, ConsentStep) and value in ("y", "n"):
                label = t.gettext("Yes, agree") if value == "y" else t.gettext("No")
            result.append(
                ExportAnswer(
                    step=step_id,
                    question=render_text(step.prompt, t) if step else step_id,
                    answer=value if isinstance(value, int | str | list) else None,
                    answer_label=label,
                )
            )
        return result

    def _summary(self, t: Translator, export: DataExport) -> str:
        zone = self.config.timezone
        lines = [t.gettext("Data stored about you"), *self._in_short(t, export), ""]
        if export.consents:
            lines.append(t.gettext("Consents"))
            for c in export.consents:
                if c.status == "ended":
                    line = t.gettext(
                        "• {purpose}: given on {when}, ended when the feedback it was given "
                        "with was deleted (consent request version {version})"
                    )
                elif c.withdrawn_at is None:
                    line = t.gettext(
                        "• {purpose}: given on {when} (consent request version {version})"
                    )
                else:
                    line = t.gettext(
                        "• {purpose}: given on {when}, withdrawn on {withdrawn} "
                        "(consent request version {version})"
                    )
                lines.append(
                    line.format(
                        purpose=c.purpose_description,
                        when=t.datetime(c.granted_at, zone),
                        withdrawn=t.datetime(c.withdrawn_at, zone) if c.withdrawn_at else "",
                        version=c.notice_version,
                    )
                )
            if all(c.text for c in export.consents):
                lines.append(
                    t.gettext("The file holds the exact wording of each consent as you saw it.")
                )
            elif any(c.text for c in export.consents):
                # Consents from before the archive of consent texts have none (found by an
                # upgrade review: the line said each one's wording was there).
                lines.append(
                    t.gettext(
                        "The file holds the exact wording of each consent as you saw it, "
                        "except for consents given before we kept these texts: of those, "
                        "only a fingerprint of the text (SHA-256) was recorded."
                    )
                )
            lines.append(consents_kept(t))
            if self.config.consent_proof_retention is not None:
                lines.append(proof_kept(t, self.config.consent_proof_retention))
            # (the note itself, with its date, follows below where the ledger keeps one)
            if export.erasure_note_kept_until is None and any(
                c.withdrawn_at or c.ended_at for c in export.consents
            ):
                lines.append(erasure_notes_kept(t))
            lines.append("")
        for number, f in enumerate(export.feedback, start=1):
            lines.append(
                t.gettext("Feedback {number} of {count}: {flow}, {when}").format(
                    number=number,
                    count=len(export.feedback),
                    flow=f.flow_title,
                    when=t.datetime(f.given_at, zone),
                )
            )
            lines += [self._answer_line(t, a) for a in f.answers]
            lines.append(
                t.gettext("Will be deleted automatically on {date}.").format(
                    date=t.date(f.deleted_automatically_on, zone)
                )
            )
            if not f.evaluated:
                lines.append(t.gettext("No longer evaluated: you withdrew the consent for it."))
            lines.append("")
        for d in export.unfinished_feedback:
            if d.language_name is None:
                started = t.gettext("Unfinished answers, started {when}")
            else:
                # Stored with them, so that the survey goes on in the language it began in.
                started = t.gettext("Unfinished answers in {language}, started {when}")
            lines.append(
                started.format(when=t.datetime(d.started_at, zone), language=d.language_name)
            )
            lines += [self._answer_line(t, a) for a in d.answers]
            if not d.answers:  # begun, nothing answered (found by a customer walk-through:
                # the heading alone read as answers hidden)
                lines.append("  " + t.gettext("No answers yet."))
            lines.append(
                t.gettext("Discarded automatically on {when} unless you continue.").format(
                    when=t.datetime(d.discarded_automatically_at, zone)
                )
            )
            lines.append("")
        numbers = {f.id: n for n, f in enumerate(export.feedback, start=1)}
        staff_chat = t.gettext(OUR_STAFF_CHAT)
        for passed in export.passed_on:
            # The staff chat in a sentence of its own: its name is as the copy's field has it
            # ("unser Team-Chat"), which no sentence about a recipient fits in German (found
            # by a DPO check: the copy read "recipient": "unseren Team-Chat").
            if passed.recipient == staff_chat and passed.confirmed:
                line = t.gettext("Feedback {number} was posted in our staff chat on {when}.")
            elif passed.recipient == staff_chat:
                line = t.gettext(
                    "Feedback {number} may have been posted in our staff chat on {when}: the "
                    "connection broke off before receipt was confirmed."
                )
            elif passed.confirmed:
                line = t.gettext("Feedback {number} was passed to {recipient} on {when}.")
            else:
                line = t.gettext(
                    "Feedback {number} may have reached {recipient} on {when}: the connection "
                    "broke off before receipt was confirmed."
                )
            lines.append(
                line.format(
                    number=numbers.get(passed.feedback_id, "?"),
                    recipient=passed.recipient,
                    when=t.datetime(passed.delivered_at, zone),
                )
            )
        if export.passed_on:
            lines.append("")
        if export.contact_chat_id is not None:
            stored = t.gettext(
                "You have agreed that we may contact you in this chat; for this, the "
                "chat's ID is stored encrypted."
            )
            chosen_other = (
                export.chosen_language is not None
                and export.chosen_language.language != export.contact_language
            )
            if export.contact_language is not None and chosen_other:
                # Not "the language to write to you in": while the choice holds, staff's
                # answer comes in it (returning-customer review: "(German)" beside English).
                stored = t.gettext(
                    "You have agreed that we may contact you in this chat; for this, the "
                    "chat's ID and your Telegram app's language ({language}) are stored "
                    "encrypted. While the language you chose with /language is stored, we "
                    "write to you in that one."
                ).format(language=t.language(export.contact_language))
            elif export.contact_language is not None:
                stored = t.gettext(
                    "You have agreed that we may contact you in this chat; for this, the "
                    "chat's ID and the language to write to you in ({language}) are stored "
                    "encrypted."
                ).format(language=t.language(export.contact_language))
            lines += [stored, contact_kept(t, export.contact_language is not None), ""]
        if export.chosen_language is not None:
            chosen = export.chosen_language
            lines += [
                t.gettext(
                    "The language you chose with /language: {language} (on {when}), stored so "
                    "that I write to you in it (Art. 6(1)(f) GDPR); deleted automatically on "
                    "{date}."
                ).format(
                    language=chosen.language_name,
                    when=t.datetime(chosen.chosen_at, zone),
                    date=t.date(chosen.deleted_automatically_on, zone),
                ),
                "",
            ]
        if export.consent_proofs:
            lines += [
                t.gettext(
                    "Proof of earlier consents (to what, when and how you agreed; none of your "
                    "answers), kept after their records were deleted, to show that you agreed "
                    "(Art. 7(1), 17(3)(e) GDPR); /delete does not erase it:"
                ),
                *self._proof_lines(t, export.consent_proofs),
                "",
            ]
        if export.erasure_note_kept_until is not None:
            lines += [
                t.gettext(
                    "An encrypted note (none of your answers) that {what} is also kept, until "
                    "{date}, so that this is carried out again should our data be restored "
                    "from a backup."
                ).format(
                    what=_what_was_noted(t, export.erasure_note_about),
                    date=t.date(export.erasure_note_kept_until, zone),
                ),
                "",
            ]
        lines += [
            t.gettext("Source: {source}").format(source=export.source),
            t.gettext("Recipients:"),
            *(f"• {recipient}" for recipient in export.recipients),
            # Each feedback's own date: its survey may keep it for a time of its own, and
            # feedback given before a change of FEEDBACKBOT_RETENTION keeps its date.
            *(
                [t.gettext("Retention: each feedback until the deletion date shown with it.")]
                if export.feedback
                else []
            ),
            # Art. 15(1)(h), here too, not in /privacy alone (found by a DPO's review)
            export.automated_decisions,
            "",
            (
                t.gettext(
                    "Your rights: /delete erases everything but what is kept as proof (see "
                    "above), /withdraw withdraws a consent; for rectification, restriction or "
                    "objection write to {contact}, and you may complain to a data protection "
                    "supervisory authority. /privacy shows the full privacy notice. A complete "
                    "copy follows as a file."
                )
                if self._kept_as_proof(export)
                else t.gettext(
                    "Your rights: /delete erases everything, /withdraw withdraws a consent; for "
                    "rectification, restriction or objection write to {contact}, and you may "
                    "complain to a data protection supervisory authority. /privacy shows the "
                    "full privacy notice. A complete copy follows as a file."
                )
            ).format(contact=self.processing.controller.contact),
        ]
        return "\n".join(lines)

    def _in_short(self, t: Translator, export: DataExport) -> list[str]:
        """One line on what there is, above the details a phone shows a screen at a time
        (found by an older customer's review: over a hundred lines, nothing said first)."""
        held = []
        if export.feedback:
            count = len(export.feedback)
            held.append(
                t.ngettext("{count} feedback", "{count} feedbacks", count).format(
                    count=t.number(count)
                )
            )
        in_force = sum(c.status == "in_force" for c in export.consents)
        if in_force:
            consents = t.ngettext("{count} consent in force", "{count} consents in force", in_force)
            held.append(consents.format(count=t.number(in_force)))
        over = len(export.consents) - in_force  # withdrawn or ended (found by review)
        if over:
            held.append(
                t.ngettext(
                    "{count} consent no longer in force (kept as proof)",
                    "{count} consents no longer in force (kept as proof)",
                    over,
                ).format(count=t.number(over))
            )
        if any(d.answers for d in export.unfinished_feedback):
            held.append(t.gettext("unfinished answers"))
        elif export.unfinished_feedback:  # begun, nothing answered (as the details say)
            held.append(t.gettext("the survey you have started"))
        if export.contact_chat_id is not None:
            held.append(t.gettext("the chat ID for contacting you"))
        if export.chosen_language is not None:
            held.append(t.gettext("the language you chose"))
        if export.consent_proofs:  # (kept after an erasure: /delete does not take it)
            count = len(export.consent_proofs)
            held.append(
                t.ngettext(
                    "proof of {count} earlier consent", "proof of {count} earlier consents", count
                ).format(count=t.number(count))
            )
        if not held:
            return []
        if self._kept_as_proof(export):  # (review: "erases everything")
            said = t.gettext(
                "In short: {held}. The details follow; /delete erases everything but what is "
                "kept as proof (see below)."
            )
        else:
            said = t.gettext("In short: {held}. The details follow; /delete erases everything.")
        return [said.format(held=", ".join(held))]

    def _kept_as_proof(self, export: DataExport) -> bool:
        """Whether /delete would leave something of the person kept as proof: proof of
        earlier consents, audit entries, or proof of the consents now held (with
        FEEDBACKBOT_CONSENT_PROOF_RETENTION: found by a DPO's review, a first-time customer
        was told "/delete erases everything")."""
        proof_of_these = self.config.consent_proof_retention is not None and export.consents
        return bool(export.consent_proofs or export.staff_audit or proof_of_these)

    def _answer_line(self, t: Translator, answer: ExportAnswer) -> str:
        if answer.answer is None:
            shown = t.gettext("(skipped)")
        else:
            shown = answer.answer_label or str(answer.answer)
        # Each line of an answer under its arrow (found by review: a comment's second line
        # stood flush left, read as an item of its own).
        shown = shown.replace("\n", "\n    ")
        return f"  {answer.question}\n  → {shown}"

    # --- /loeschen ------------------------------------------------------------------------
    async def request_erasure(
        self, person: Person, staff: bool = False, actor: str | None = None
    ) -> Outcome:
        """Asks for the one confirmation erasure needs. To a member of staff, or whoever has
        entries in the audit trail (`actor`, as for `access`), also that those stay."""
        t = translator(person.locale)
        pseudonym = self.store.pseudonym(person.subject)
        staff = await self._audited(staff, actor)
        held = await self._held(pseudonym)
        if not (held.more or held.language):
            return await self._nothing_stored(t, pseudonym, staff)
        if not held.more:  # only the language they chose
            text = t.gettext(
                "Do you want to erase all data stored about you? That is the language you "
                "chose with /language; I then follow your Telegram app's language again."
            )
            until = await self._proof_until(pseudonym, held)
            text = f"{text}\n\n{self._note_kept(t, until, only=not staff)}"
            if staff:
                text = f"{text}\n\n{_staff_note(t, self.config.audit_retention)}"
            return Outcome(replies=(self._erase_question(t, text, pseudonym, held),))
        what = self._what_is_erased(t, held.count, held.draft, held.answered)
        question = self._erase_question(t, what, pseudonym, held)
        # Everything the confirmation then counts is named before (language and DPO
        # reviews: the chat id and the alerts were told of only afterwards).
        also = self._also_erased(t, held)
        until = await self._proof_until(pseudonym, held)
        also.append(self._note_kept(t, until, only=not staff))
        if staff:  # (found by review: said only once it was done)
            also.append(_staff_note(t, self.config.audit_retention))
        question = replace(question, text="\n\n".join((question.text, *also)))
        return Outcome(replies=(question,))

    def _also_erased(self, t: Translator, held: _Held) -> list[str]:
        """What an erasure of everything takes besides the feedback counted, said before
        it: the contact chat id, the alerts, the digests quoting it, the language chosen
        (at /delete, and offered after a withdrawal: found by a customer walk-through, the
        chat id was named there only once it was erased)."""
        also = []
        if held.contact:
            also.append(
                t.gettext(
                    "The chat ID stored for contacting you is erased too; our staff can then no "
                    "longer answer you."
                )
            )
        alerts = held.alerts
        if alerts:
            also.append(
                t.ngettext(
                    "The alert about your feedback in our staff chat is replaced by a note "
                    "that it was withdrawn.",
                    "The {count} alerts about your feedback in our staff chat are replaced by a "
                    "note that they were withdrawn.",
                    alerts,
                ).format(count=t.number(alerts))
            )
        if held.quoted:
            also.append(self._digests_stay(t))
        if held.language:
            also.append(
                t.gettext(
                    "The language you chose with /language is erased too; I then follow your "
                    "Telegram app's language again."
                )
            )
        return also

    async def _audited(self, staff: bool, actor: str | None) -> bool:
        """Whether the person is a member of staff or has entries in the audit trail (a
        former one): what erasure leaves of theirs there is to be told (found by review:
        "only a note is kept" to a former member of staff)."""
        return staff or (actor is not None and bool(await self.store.audit_entries_of(actor)))

    async def _proof_until(self, pseudonym: str, held: _Held) -> datetime | None:
        """Until when an erasure now would leave proof of consent kept: that kept before
        (also with the setting since turned off, until the next start), and that of the
        consents held, with FEEDBACKBOT_CONSENT_PROOF_RETENTION set; None where none."""
        dates = [proof.kept_until for proof in await self.store.consent_proofs(pseudonym)]
        period = self.config.consent_proof_retention
        if period is not None and held.consents:
            dates.append(proof_kept_until(self.clock(), period))
        return max(dates, default=None)

    def _note_kept(
        self, t: Translator, proof_until: datetime | None = None, only: bool = True
    ) -> str:
        """What an erasure keeps, told before it as after it (found by a customer
        walk-through: the question did not say so, the confirmation then did): with proof
        of consent (`proof_until`), that too, and until when; not "only" where the audit
        trail keeps entries of the person too (found by review)."""
        if proof_until is None:
            if not only:
                return t.gettext(
                    "An encrypted note that the erasure took place (none of your answers) is "
                    "kept, so that it is carried out again should our data be restored from a "
                    "backup."
                )
            return t.gettext(
                "Only an encrypted note that the erasure took place (none of your answers) is "
                "kept, so that it is carried out again should our data be restored from a "
                "backup."
            )
        date = t.date(proof_until, self.config.timezone)
        if not only:
            return t.gettext(
                "An encrypted note that the erasure took place and proof of your consents (to "
                "what, when and how you agreed; none of your answers) are kept: the note so "
                "that the erasure is carried out again should our data be restored from a "
                "backup, the proof until {date}, to show that you agreed (Art. 7(1), 17(3)(e) "
                "GDPR)."
            ).format(date=date)
        return t.gettext(
            "Only an encrypted note that the erasure took place and proof of your consents "
            "(to what, when and how you agreed; none of your answers) are kept: the note so "
            "that the erasure is carried out again should our data be restored from a "
            "backup, the proof until {date}, to show that you agreed (Art. 7(1), 17(3)(e) "
            "GDPR)."
        ).format(date=date)

    @staticmethod
    def _what_is_erased(t: Translator, feedback: int, draft: bool, answered: bool) -> str:
        """The erase question, naming unfinished answers only where there are some (found
        by review: named just after a withdrawal had discarded them), and a survey begun
        with none yet as such (found by a customer walk-through: "your unfinished answers"
        just after agreeing)."""
        if draft and not answered:
            if not feedback:
                return t.gettext(
                    "Do you want to erase all data stored about you? That is your consents "
                    "and the survey you have started; no feedback is stored. This cannot be "
                    "undone."
                )
            return t.ngettext(
                "Do you want to erase all data stored about you? That is {count} feedback, "
                "your consents and the survey you have started. This cannot be undone.",
                "Do you want to erase all data stored about you? That is {count} feedbacks, "
                "your consents and the survey you have started. This cannot be undone.",
                feedback,
            ).format(count=feedback)
        if not feedback and draft:
            return t.gettext(
                "Do you want to erase all data stored about you? That is your consents and "
                "your unfinished answers; no feedback is stored. This cannot be undone."
            )
        if not feedback:
            return t.gettext(
                "Do you want to erase all data stored about you? That is your consents; no "
                "feedback is stored. This cannot be undone."
            )
        if draft:
            return t.ngettext(
                "Do you want to erase all data stored about you? That is {count} feedback, "
                "your consents and your unfinished answers. This cannot be undone.",
                "Do you want to erase all data stored about you? That is {count} feedbacks, "
                "your consents and your unfinished answers. This cannot be undone.",
                feedback,
            ).format(count=feedback)
        return t.ngettext(
            "Do you want to erase all data stored about you? That is {count} feedback and "
            "your consents. This cannot be undone.",
            "Do you want to erase all data stored about you? That is {count} feedbacks and "
            "your consents. This cannot be undone.",
            feedback,
        ).format(count=feedback)

    async def _held(
        self, pseudonym: str, feedback: tuple[list[FeedbackRecord], int] | None = None
    ) -> _Held:
        """What is stored about the person; each read once (the feedback not again where
        the caller has just read it: readable records and how many more)."""
        now = self.clock()
        readable, unreadable = feedback or await self.store.readable_feedback_of(pseudonym, now)
        survey = await self._survey(pseudonym, now)
        # (the mark begins with the survey's id; "?": a survey that cannot be read)
        under_way = [] if survey is None or survey.mark == "?" else [survey.mark.split(":")[0]]
        try:
            consents: list[ConsentRecord] | None = await self.store.consents(pseudonym)
        except DecryptionFailed:
            consents = None  # (stored all the same: erasure removes them)
        surveys = {record.flow_id for record in readable} | set(under_way)
        return _Held(
            feedback=frozenset(record.id for record in readable),
            unreadable=unreadable,
            consents=consents is None or bool(consents),
            draft=survey is not None,
            answered=survey is None or survey.answered,
            survey=survey.mark if survey is not None else "",
            contact=await self._stored(self.store.contact_of(pseudonym)),
            language=await self._stored(self.store.language_of(pseudonym, now)),
            alerts=len({post.feedback_id for post in await self.store.staff_posts_of(pseudonym)}),
            quoted=self._quotable(readable),
            surveys=frozenset(surveys or await self._surveys_consented_to(consents or [])),
        )

    async def _surveys_consented_to(self, consents: list[ConsentRecord]) -> set[str]:
        """The surveys whose consent requests `consents` were given to, by the archive of
        consent texts: where one whose feedback has gone with a withdrawal may begin again
        (found by a re-check: offered /start, the general survey, after a /widerruf that
        erased their feedback of another)."""
        surveys: set[str] = set()
        for version, sha256 in {(c.notice_version, c.text_sha256) for c in consents}:
            try:
                texts = await self.store.consent_texts(version, sha256)
            except StoreError:  # a text not of its hash: /start, and the erasure goes on
                return set()  # (found by review: every /loeschen failed)
            surveys |= {text.flow_id for text in texts}
        return surveys

    def _quotable(self, records: Iterable[FeedbackRecord]) -> bool:
        """Whether digests and summaries shown to staff may quote a comment among
        `records`: one is there, and a staff chat or staff members are set. Only an answer
        they count (as flows.figures.comments_of): one collected for an optional purpose is
        never quoted (found by review: a follow-up's issue alone was said to be quoted)."""
        # Digests go to a staff chat; staff ask for summaries in their own chats too
        # (found by review: with staff ids and no staff chat, nothing was said).
        staff_chat = any(recipient.id == STAFF_CHAT.id for recipient in self.config.recipients)
        if not (staff_chat or self.config.staff_summaries):
            return False
        for record in records:
            flow = self.catalog.flows.get(record.flow_id)
            for step in flow.evaluated_steps if flow is not None else ():
                answer = record.answers.get(step.id)
                if isinstance(step, TextStep) and isinstance(answer, str) and answer.strip():
                    return True
        return False

    @staticmethod
    def _digests_stay(t: Translator) -> str:
        # Found by a DPO review: "everything has been erased", while the morning's digest
        # in the staff chat still quoted the person's comment (the notice said digests
        # stay; the dialogue where the right is used did not).
        return t.gettext(
            "A digest or summary already shown to our staff may quote a comment of yours, "
            "without your name; these stay in their chats."
        )

    async def _nothing_stored(self, t: Translator, pseudonym: str, staff: bool) -> Outcome:
        """/delete where nothing is left to erase: as /mydata says it, with the note an
        erasure keeps (found by a customer walk-through: "no data is stored" here, "none
        except an encrypted note" from /mydata)."""
        noted = await self.store.ledger_note(pseudonym)
        notes = [self._nothing_but_a_note(t, noted, staff=staff)]
        if staff:
            notes.append(_staff_note(t, self.config.audit_retention))
        return Outcome(replies=(Reply("\n\n".join(notes)),), close_keyboard=True)

    def _erase_question(
        self,
        t: Translator,
        text: str,
        pseudonym: str,
        held: _Held,
        after_withdrawal: bool = False,
    ) -> Reply:
        """The question with its two buttons; asking again (or "keep") makes the erase
        buttons of every earlier question out of date, and so does any change of what is
        stored (feedback given, a survey begun, a language chosen since)."""
        now = self.clock()
        for stale in [p for p, a in self._erase_asked.items() if now - a.at > ERASE_BUTTON_VALID]:
            del self._erase_asked[stale]
        token = secrets.token_urlsafe(6)
        self._erase_asked[pseudonym] = _EraseAsked(token, now, held, after_withdrawal)
        return Reply(
            text,
            (
                (
                    Button(t.gettext("Erase everything"), f"d:y:{token}"),
                    Button(t.gettext("Keep my data"), f"d:n:{token}"),
                ),
            ),
        )

    async def typed_at_rights_question(self, person: Person, text: str) -> Outcome | None:
        """A yes, a no, "delete everything" or a consent named, typed under the open erase
        or withdraw question (the later of them): nothing is erased or withdrawn, and the
        person is told so and which button does it (found by a German customer's review:
        "ja" was told that no survey was under way, and she believed her data erased; by a
        review of customers' phrasing: "Jawohl", "ja mach" and "den Kontakt bitte
        widerrufen" were told that no question was open). Also during a survey, whose
        question was asked again below it, until it is answered (found by a customer
        walk-through: "ja" became the comment, and at the contact question was pointed to
        the button that agrees to be contacted). None for any other text."""
        pseudonym = self.store.pseudonym(person.subject)
        now = self.clock()
        erase = self._erase_asked.get(pseudonym)
        if erase is not None and now - erase.at > ERASE_BUTTON_VALID:
            erase = None
        withdraw = self._withdraw_asked.get(pseudonym)
        if withdraw is not None and now - withdraw.at > ERASE_BUTTON_VALID:
            withdraw = None
        if withdraw is not None and erase is not None and erase.at > withdraw.at:
            withdraw = None
        if erase is None and withdraw is None:
            return None
        t = translator(person.locale)
        if withdraw is not None:
            if not (
                _an_answer(text, _CHOOSING | withdraw.words) or typed_request(text) == WITHDRAW
            ):
                return None
            survey = await self._survey(pseudonym, now)
            surveying = self._answered_since(survey, withdraw.survey)
            if surveying:
                return None
            if await self._withdrawal_out_of_date(pseudonym, withdraw):
                # Not pointed to buttons that no longer act (found by a customer
                # walk-through: the survey finished since, "I withdraw my consent" was told
                # to tap a button that then said it was out of date); said once (a
                # re-check: an "ok" after it was told so again)
                self._withdraw_asked.pop(pseudonym, None)
                return Outcome(replies=(Reply(_out_of_date(t)),), close_keyboard=True)
            said = t.gettext(
                "Nothing has been withdrawn yet. To withdraw a consent, please tap it under "
                "the question above; to keep them all, “{keep}”."
            ).format(keep=t.gettext("Keep my consents"))
            return Outcome.say(self._not_for_the_survey(t, said, surveying))
        assert erase is not None
        if typed_request(text) == WITHDRAW:  # "don't contact me": the commands, /withdraw
            return None
        keep = t.gettext("Keep my data")
        words = bare_words(text)
        first, _, rest = words.partition(" ")
        said_yes = first in {"ja", "yes", "doch", "ok", "okay"} and typed_request(rest) == ERASE
        erased_yet = asks_if_erased(text)
        if not (
            said_yes
            or words in YESES
            or words in DECLINES
            or words == bare_words(keep)
            or words == bare_words(t.gettext("Erase everything"))
            or typed_request(text) == ERASE
            or _an_answer(text)
            # "Ist jetzt alles weg?" before the button (found by a review): not yet, where
            # feedback is held (after a withdrawal that erased it, "yes" is said by the
            # service: a re-check)
            or erased_yet
        ):
            return None
        held = await self._held(pseudonym)
        if erased_yet and not (held.feedback or held.unreadable):
            return None
        surveying = self._answered_since(
            _Survey(held.answered, held.survey) if held.draft else None, erase.held.survey
        )
        # Only while its button erases: not after a survey begun or given since (found by
        # a review of the change: the "👍" after its thanks was pointed to the button,
        # which then said it was out of date).
        if surveying or held != erase.held:
            return None
        said = t.gettext(
            "Nothing has been erased yet. To erase everything, please tap “{erase}” under "
            "the question above; to keep your data, “{keep}”."
        ).format(erase=t.gettext("Erase everything"), keep=keep)
        if erase.after_withdrawal:
            # Not "nothing has been erased" under a withdrawal that erased (the review of
            # the Keep button's answer there)
            said = t.gettext(
                "The rest of your data has not been erased. To erase it too, please tap "
                "“{erase}” under the question above; to keep it, “{keep}”."
            ).format(erase=t.gettext("Erase everything"), keep=keep)
        return Outcome.say(self._not_for_the_survey(t, said, surveying))

    async def _survey(self, pseudonym: str, now: datetime) -> _Survey | None:
        """The survey under way, if any (see `_Survey`)."""
        try:
            draft = await self.store.load_draft(pseudonym, now)
        except DecryptionFailed:
            return _Survey(answered=True, mark="?")
        if draft is None:
            return None
        state = ConversationState.model_validate(draft.payload)
        when = state.answered_at.isoformat() if state.answered_at else ""
        mark = f"{state.flow_id}:{state.step_id}:{state.answered}:{when}:{len(state.additions)}"
        return _Survey(answered=state.holds_answers, mark=mark)

    @staticmethod
    def _answered_since(survey: _Survey | None, then: str) -> bool | None:
        """Whether `survey` was answered (or begun) since a rights question was asked with
        the survey standing at `then`: what is typed then belongs to it; None without a
        survey under way."""
        if survey is None:
            return None
        return survey.mark != then or survey.mark == "?"

    @staticmethod
    def _not_for_the_survey(t: Translator, said: str, surveying: bool | None) -> str:
        if surveying is None:
            return said
        return (
            said
            + " "
            + t.gettext(
                "I did not take this message as an answer to your survey; its question is "
                "the last one above."
            )
        )

    async def confirm_erasure(
        self, person: Person, data: str, staff: bool = False, actor: str | None = None
    ) -> Outcome:
        """The erase / keep button: shreds the key first, then every row about the person.

        For a staff member, or whoever has entries in the audit trail (`actor`), the answer
        adds that the audit trail of their staff access stays: "nothing about you is left"
        would not be true of them.
        """
        t = translator(person.locale)
        pseudonym = self.store.pseudonym(person.subject)
        staff = await self._audited(staff, actor)
        parts = data.split(":")
        if parts[:2] == ["d", "n"] and len(parts) <= 3:
            # "keep" holds for every question shown, while one is open; with none (the
            # erasure done, from a double tap or another device), "nothing was erased"
            # would be false right under "everything was erased" (found by review).
            if (asked := self._erase_asked.pop(pseudonym, None)) is None:
                toast = t.gettext("This question is no longer open; nothing was changed.")
                return Outcome(toast=toast, close_keyboard=True)
            kept = t.gettext("Nothing was erased.")
            if asked.after_withdrawal:
                # Not "nothing was erased" right under the withdrawal that erased feedback
                # (found by a customer walk-through: read as the withdrawal undone)
                kept = t.gettext("All right: the rest of your data stays stored.")
            return Outcome(replies=(Reply(kept),), close_keyboard=True)
        if len(parts) != 3 or parts[:2] != ["d", "y"] or not _ERASE_TOKEN.fullmatch(parts[2]):
            return Outcome(toast=t.gettext("This button is not valid."), close_keyboard=True)
        asked = self._erase_asked.get(pseudonym)
        if asked is not None and asked.token == parts[2]:
            if self.clock() - asked.at > ERASE_BUTTON_VALID:
                # In the chat, not a toast that is gone in two seconds under a question
                # that still reads as if it were done (found by an English customer's
                # review).
                del self._erase_asked[pseudonym]
                expired = t.gettext(
                    "This question has expired, so nothing was erased. Send /delete again if "
                    "you want to erase everything."
                )
                return Outcome(replies=(Reply(expired),), close_keyboard=True)
            held = await self._held(pseudonym)
            if held == asked.held:
                return await self._erase(t, pseudonym, staff, held)
            del self._erase_asked[pseudonym]  # something given or gone since: ask again
            if not held.more and not held.language:
                # All of it expired meanwhile (found by a review of races: "nothing was
                # erased, send /delete again", with nothing left to erase).
                return await self._nothing_stored(t, pseudonym, staff)
        elif not (held := await self._held(pseudonym)).more and not held.language:
            return await self._nothing_stored(
                t, pseudonym, staff
            )  # e.g. a second tap after erasing
        # Or an earlier question, one answered with "keep", one from before a restart:
        # what it said is not what would be erased now.
        out_of_date = t.gettext(
            "This question is out of date, so nothing was erased. If you want to erase "
            "everything, send /delete again: it shows what is stored now."
        )
        return Outcome(replies=(Reply(out_of_date),), close_keyboard=True)

    def _start_again(self, held: _Held) -> str:
        """The command that begins again the survey they took part in, where it was one
        other than the default (found by a flow author's walk-through: erased from the
        dentist's survey, they were sent to the general one by "/start")."""
        if len(held.surveys) != 1:
            return "/start"
        (survey,) = held.surveys
        return self.catalog.start_command(survey)

    def _not_now(self, t: Translator, *, erasure: bool) -> Outcome:
        """An erasure or a withdrawal a full disk keeps from being done, the space kept in
        reserve spent on an earlier one (found by an operator review: on a disk that stayed
        full, it was "something went wrong, try again in a moment", in German after
        /language, and nothing said that the data was still there)."""
        what = "erasure" if erasure else "withdrawal"
        log.error("%s not completed: disk full; free space on the data folder's disk", what)
        if erasure:
            text = t.gettext(
                "Our storage is full, so erasing your data could not be completed just now. "
                "Please send /delete again later; we have told the operator."
            )
        else:
            text = t.gettext(
                "Our storage is full, so your consent could not be withdrawn just now. Please "
                "send /withdraw again later; we have told the operator."
            )
        return Outcome(replies=(Reply(text),), close_keyboard=True)

    async def _erase(self, t: Translator, pseudonym: str, staff: bool, held: _Held) -> Outcome:
        """Erase everything of the person; `held`: what the question said was stored, read
        just now (whether a comment may be quoted, whether the survey held answers)."""
        # Before anything: recipients must not be told to delete what the bot then keeps,
        # nor the keys be destroyed when the rows then cannot go (the answer would say
        # nothing was erased: found by review).
        if await self.store.out_of_room():
            return self._not_now(t, erasure=True)
        deliveries = await self.store.deliveries_of(pseudonym)
        # The notices are kept before the deliveries they come from are erased.
        for listener in self.removal_listeners:
            await listener(deliveries, "erasure", None)
        try:
            period = self.config.consent_proof_retention
            report = await self.store.erase_subject(pseudonym, self.clock(), period)
        except StorageFull:  # the disk filled while it ran: the keys may be gone already
            return self._not_now(t, erasure=True)
        finally:
            # Also when it was cut short: the key may be gone, and with it what they chose.
            for forget in self.erasure_listeners:
                forget(pseudonym)
            for removed in self.after_removal:
                removed()
        self._recent_access.pop(pseudonym, None)
        self._erase_asked.pop(pseudonym, None)
        # and the withdraw question asked before: nothing is left to withdraw (found by a
        # review: "ok" after the erasure was told "Nothing has been withdrawn yet")
        self._withdraw_asked.pop(pseudonym, None)
        log.info("subject erased")
        # The proof now kept, and any kept before (found by review: "only a note is kept"
        # to whoever had proof kept from an earlier erasure or purge)
        proofs = await self.store.consent_proofs(pseudonym)
        proof_until = max((proof.kept_until for proof in proofs), default=None)
        nothing = (
            t.gettext("No data is stored about you as a customer.")
            if staff
            else t.gettext("No data is stored about you.")
        )
        if proofs:
            noted = await self.store.ledger_note(pseudonym)
            nothing = self._nothing_but_a_note(t, noted, staff=staff)
        notes = [nothing] if not report.anything else []
        if staff:
            notes.append(_staff_note(t, self.config.audit_retention))
        if not report.anything:
            return Outcome(replies=(Reply("\n\n".join(notes)),), close_keyboard=True)
        gone = report.drafts > 0  # the open question's buttons with them
        text = "\n".join(
            [
                (
                    t.gettext(
                        "Done. Everything stored about you has been erased but what is kept "
                        "as proof (see below):"
                    )
                    if proof_until is not None or staff
                    else t.gettext("Done. Everything stored about you has been erased:")
                ),
                # What there was only (found by review: four lines of zeros beside the one
                # language choice that was all there was).
                *(
                    line.format(n=count)
                    for line, count in (
                        (t.gettext("• feedback: {n}"), report.feedback),
                        (t.gettext("• consent records: {n}"), report.consents),
                        # (a survey begun, nothing answered: no "answers: 1", found by a
                        # customer walk-through)
                        (
                            t.gettext("• unfinished answers: {n}")
                            if held.answered
                            else t.gettext("• the survey you had started (nothing answered yet)"),
                            report.drafts,
                        ),
                        (t.gettext("• chat ID for contacting you: {n}"), report.contacts),
                        (t.gettext("• chosen language: {n}"), report.languages),
                    )
                    if count
                ),
                *(
                    [
                        t.gettext(
                            "• alerts about your feedback in our staff chat: {n} (being "
                            "replaced by a note that they were withdrawn)"
                        ).format(n=report.staff_posts)
                    ]
                    if report.staff_posts
                    else []
                ),
                "",
                (
                    t.gettext(
                        "Your personal key has been destroyed: nobody can read your encrypted "
                        "data any more, not even in our backups once the briefly kept backups "
                        "of our keys from before this moment have been deleted."
                    )
                    if proof_until is None
                    else t.gettext(  # (the proof is under a key of ours: a DPO's review)
                        "Your personal key has been destroyed: nobody can read the data "
                        "encrypted under it any more, not even in our backups once the briefly "
                        "kept backups of our keys from before this moment have been deleted."
                    )
                ),
                self._kept_after_erasure(t, proof_until, only=not staff),
                *(
                    [
                        t.gettext(
                            "We are asking everyone we had passed your feedback to to delete it."
                        )
                    ]
                    if deliveries
                    else []
                ),
                *([self._digests_stay(t)] if held.quoted else []),
                # ("again" only to whoever gave some, found by a customer walk-through: it
                # was said after erasing a language choice alone)
                t.gettext("You can give feedback again at any time with {start}.").format(
                    start=self._start_again(held)
                )
                if report.feedback or report.consents or report.drafts
                else t.gettext("Send /start to give feedback."),
                *(f"\n{note}" for note in notes),
            ]
        )
        return Outcome(replies=(Reply(text),), close_keyboard=True, question_gone=gone)

    def _kept_after_erasure(
        self, t: Translator, proof_until: datetime | None, only: bool = True
    ) -> str:
        """What the erasure kept: the ledger's note, and the proof of consent where it was
        kept (FEEDBACKBOT_CONSENT_PROOF_RETENTION); not "only" beside the audit trail's
        entries of a member of staff (found by review)."""
        if proof_until is None:
            if not only:
                return t.gettext(
                    "An encrypted note that this erasure took place (none of your answers) is "
                    "kept until your data would have expired anyway, and at least a year, so "
                    "that it is carried out again should our data be restored from a backup."
                )
            return t.gettext(
                "Only an encrypted note that this erasure took place (none of your answers) "
                "is kept until your data would have expired anyway, and at least a year, "
                "so that it is carried out again should our data be restored from a backup."
            )
        date = t.date(proof_until, self.config.timezone)
        if not only:
            return t.gettext(
                "An encrypted note that this erasure took place and proof of your consents "
                "(to what, when and how you agreed; none of your answers) are kept: the note "
                "until your data would have expired anyway, and at least a year, so that the "
                "erasure is carried out again should our data be restored from a backup; the "
                "proof, encrypted under a key of ours and not yours, until {date}, to show that "
                "you agreed (Art. 7(1), 17(3)(e) GDPR). /mydata shows it."
            ).format(date=date)
        return t.gettext(
            "Only an encrypted note that this erasure took place and proof of your consents "
            "(to what, when and how you agreed; none of your answers) are kept: the note "
            "until your data would have expired anyway, and at least a year, so that the "
            "erasure is carried out again should our data be restored from a backup; the "
            "proof, encrypted under a key of ours and not yours, until {date}, to show that "
            "you agreed (Art. 7(1), 17(3)(e) GDPR). /mydata shows it."
        ).format(date=date)

    async def _language(self, pseudonym: str, now: datetime) -> LanguageChoice | None:
        """The person's language choice; one that does not open (tampered, or a data file
        restored without its key) is left out of the copy rather than refuse it."""
        try:
            return await self.store.language_of(pseudonym, now)
        except DecryptionFailed:
            log.warning("language choice unreadable")
            return None

    async def _withdrawal_out_of_date(self, pseudonym: str, asked: _WithdrawAsked) -> bool:
        """Whether any button of the /withdraw question shown last would now be out of date
        (see `withdraw`): the consents or the feedback under them changed since."""
        if not asked.marks:
            return False
        consents = await self.store.consents(pseudonym)
        feedback, _ = await self._readable_feedback(pseudonym)
        draft = await self._draft_state(pseudonym)
        state = draft[1] if draft is not None else None
        # (as its buttons do: one whose consent is no longer in force is not out of date)
        return any(
            (current := _withdrawal_mark(purpose, consents, feedback, state)) and current != mark
            for purpose, mark in asked.marks
        )

    # --- /widerruf ------------------------------------------------------------------------
    async def request_withdrawal(self, person: Person) -> Outcome:
        """Lists the consents in force as buttons: one press withdraws, as one press gave."""
        t = translator(person.locale)
        pseudonym = self.store.pseudonym(person.subject)
        consents = await self.store.consents(pseudonym)
        feedback, unreadable = await self.store.readable_feedback_of(pseudonym, self.clock())
        contact = await self._stored(self.store.contact_of(pseudonym))
        ended = self._ended(consents, feedback, unreadable, contact)
        stored = {c.purpose for c in consents if c.in_force and c.id not in ended}
        draft = await self._draft_state(pseudonym)  # read once, for the list and the marks
        state = draft[1] if draft is not None else None
        in_force = sorted(stored | _granted_in(state))
        if not in_force:
            return Outcome.say(t.gettext("You have no consent in force that could be withdrawn."))
        marks = {p: _withdrawal_mark(p, consents, feedback, state) for p in in_force}
        buttons = (
            *((Button(self._label(t, p), f"w:{p}:{marks[p]}"),) for p in in_force),
            # A way out, as the erase question has (found by an English customer's review)
            (Button(t.gettext("Keep my consents"), KEEP_CONSENTS),),
        )
        now = self.clock()
        for stale in [
            p for p, a in self._withdraw_asked.items() if now - a.at > ERASE_BUTTON_VALID
        ]:
            del self._withdraw_asked[stale]
        named = {
            word for row in buttons for button in row for word in bare_words(button.label).split()
        }
        survey = await self._survey(pseudonym, now)
        self._withdraw_asked[pseudonym] = _WithdrawAsked(
            now,
            typed_forms(frozenset(named)),
            survey.mark if survey is not None else "",
            tuple(sorted(marks.items())),
        )
        text = t.gettext(
            "Which consent do you want to withdraw? Withdrawal takes effect immediately and "
            "erases what you gave under that consent (the feedback given with it, or the "
            "chat to write to); it does not make what was done before it unlawful."
        )
        for purpose_id in in_force:
            # How many, where one press erases more than one (found by a customer
            # walk-through: "the feedback given with it", and two went at one tap)
            given = sum(purpose_id in f.purposes for f in feedback)
            known = self._purposes.get(purpose_id)
            if given > 1 and (known is None or known.required):
                text += "\n\n" + t.gettext(
                    "“{purpose}”: withdrawing it erases the {count} feedbacks given with it."
                ).format(purpose=self._label(t, purpose_id), count=t.number(given))
            answered = state is not None and state.holds_answers  # (none yet: none lost)
            open_flow = self.catalog.flows.get(state.flow_id) if answered and state else None
            if open_flow is not None and purpose_id in {p.id for p in open_flow.required_purposes}:
                # The survey under way ends with it (found by a customer walk-through: its
                # answers were discarded at one tap, nothing had said so)
                text += "\n\n" + t.gettext(
                    "“{purpose}”: withdrawing it also discards your unfinished answers to the "
                    "survey under way."
                ).format(purpose=self._label(t, purpose_id))
        return Outcome(replies=(Reply(text, buttons),))

    async def withdraw(
        self, person: Person, data: str, staff: bool = False, actor: str | None = None
    ) -> Outcome:
        """Withdraws the consent pressed, also one given in the survey under way or for a
        purpose no loaded flow declares any more: as easy to withdraw as it was to give.
        The erasure it then offers says what would stay, as /delete does (`staff`, `actor`
        as there)."""
        t = translator(person.locale)
        self._withdraw_asked.pop(self.store.pseudonym(person.subject), None)
        if data == KEEP_CONSENTS:
            reply = Reply(t.gettext("Nothing was withdrawn; your consents stay as they are."))
            return Outcome(replies=(reply,), close_keyboard=True)
        purpose_id, _, mark = data.removeprefix("w:").partition(":")
        purpose = self._purposes.get(purpose_id)
        pseudonym = self.store.pseudonym(person.subject)
        feedback, unreadable = await self._readable_feedback(pseudonym)
        consents = await self.store.consents(pseudonym)
        under_way = await self._draft_state(pseudonym)
        current = _withdrawal_mark(
            purpose_id, consents, feedback, under_way[1] if under_way is not None else None
        )
        if current and mark != current:
            # A question shown before the consent was withdrawn and given again, or before
            # more feedback was given under it (found by a customer walk-through: an older
            # /withdraw question's button withdrew the consent given since, and erased the
            # feedback given with it, which that question had never covered).
            out_of_date = _out_of_date(t)
            if not mark:  # a button from before the marks (review of the change)
                out_of_date = t.gettext(
                    "This question is from an earlier version of the bot, so nothing was "
                    "withdrawn. If you want to withdraw a consent, send /withdraw again: it "
                    "shows what is in force now."
                )
            return Outcome(replies=(Reply(out_of_date),), close_keyboard=True)
        complete = not unreadable
        kinds = await self._kinds_in_force(pseudonym, purpose_id)
        if purpose is not None:
            required = purpose.required
        else:
            required = self._was_required(purpose_id, kinds, feedback)
        # Answers collected for an optional purpose serve it alone: they go with it. The
        # feedback given under a required one goes whole: nothing else allows keeping it
        # (Art. 17(1)(b)). Only the consent records stay, as proof.
        # Which answers those are, each feedback says itself (since it is kept), else the
        # flow as loaded now (see `answers_for`; found by review: a purpose renamed or a
        # survey retired since left them).
        optional = not required
        collected: dict[str, list[str]] = {
            flow.id: steps
            for flow in self.catalog.flows.values()
            if optional and (steps := flow.collected_for(purpose_id))
        }
        answered = optional and any(
            set(answers_for(purpose_id, r, collected)) & set(r.answers) for r in feedback
        )
        # Only the feedback given under this consent: another survey's feedback, under a
        # consent still in force, stays (and stays with its recipients).
        under = {record.id for record in feedback if purpose_id in record.purposes}
        deliveries = await self.store.deliveries_of(pseudonym)
        if required:
            deliveries = [d for d in deliveries if d.feedback_id in under]
        # Feedback to be erased: as at an erasure, the notices are kept before it goes (a
        # crash in between must leave them, not records of passing on that the purge at
        # the next start deletes with nothing left to tell). Else after the withdrawal.
        notify_first = required and bool(kinds) and bool(under)
        if notify_first:
            if await self.store.out_of_room():  # as at an erasure
                return self._not_now(t, erasure=False)
            for listener in self.removal_listeners:
                await listener(deliveries, "withdrawal", None)
        # The store first: a draft that cannot be saved must not keep a consent in force.
        try:
            stored = await self.store.withdraw_consent(
                pseudonym,
                purpose_id,
                self.clock(),
                collected,
                under if required else (),
                redraw_alerts=purpose is not None and purpose.stores_contact,
            )
        except StorageFull:  # as at an erasure
            return self._not_now(t, erasure=False)
        if stored:
            for removed in self.after_removal:
                removed()
        draft = await self._withdraw_from_draft(pseudonym, purpose_id)
        if not stored and not draft.given:
            if not (purpose is not None and purpose.required):
                # A withdrawal cut short after the consent went: what it kept goes now.
                if await self._contact_served(purpose, pseudonym):
                    await self.store.delete_contact(pseudonym)
                    await self.store.flush_deletions()
            return Outcome(toast=t.gettext("This consent is not in force."), close_keyboard=True)
        log.info("consent withdrawn", extra={"pseudonym": pseudonym[:12]})
        if not notify_first:
            for listener in self.removal_listeners:
                await listener(deliveries, "withdrawal", None if required else purpose_id)
        name = self._label(t, purpose_id)
        if not required:
            erased = (stored > 0 and answered) or draft.erased
            text = await self._withdrawn_optional(t, purpose_id, pseudonym, erased)
            if draft.open_question:
                text += "\n\n" + t.gettext(
                    "The question about it that is still open is no longer needed: whatever "
                    "you answer there is not kept."
                )
            if stored and any(
                (self.recipient_purposes.get(d.recipient) if d.purpose is None else d.purpose)
                == purpose_id
                for d in deliveries
            ):
                text += "\n\n" + t.gettext(
                    "Everyone we had passed your feedback to for this purpose has been asked "
                    "to delete it."
                )
            if draft.discarded:
                text += "\n\n" + t.gettext("Your unfinished answers were discarded.")
            return Outcome(
                replies=(Reply(text),), close_keyboard=True, question_gone=draft.discarded
            )
        discarded = await self._discard_draft_needing(pseudonym, purpose_id)
        withdrawn = feedback
        if stored:
            feedback = [record for record in feedback if record.id not in under]
        # A chat to write to serves the feedback it was given with: with none left (nor
        # unfinished answers), it goes now, not at the next purge (found by review); also
        # where feedback given without it is left (a DPO's review: it stayed until the
        # purge, and the consent to be contacted in force for good).
        # (the language kept with the chat id is read before the chat id goes with it)
        language = bool(stored and under) and await self._stored(
            self.store.contact_language_of(pseudonym)
        )
        contact_gone = (
            bool(stored and under)
            and not any(self._given_with_contact(record) for record in feedback)
            and complete
            and not await self._stored(self.store.load_draft(pseudonym, self.clock()))
            and await self.store.delete_contact(pseudonym)
        )
        if discarded or (stored and under):
            await self.store.flush_deletions()
        if stored and under:
            text = t.ngettext(
                "Your consent to “{purpose}” has been withdrawn, and the feedback you gave "
                "with it has been erased. New feedback of this kind needs your consent again.",
                "Your consent to “{purpose}” has been withdrawn, and the {count} feedbacks you "
                "gave with it have been erased. New feedback of this kind needs your consent "
                "again.",
                len(under),
            ).format(purpose=name, count=t.number(len(under)))
        elif discarded.answered and complete:
            # Not "you have not given any feedback" to whoever had just typed a comment
            # (found by a customer walk-through): those answers, unfinished, are what went
            text = t.gettext(
                "Your consent to “{purpose}” has been withdrawn, and your unfinished answers "
                "were discarded; no finished feedback was stored under it. New feedback of "
                "this kind needs your consent again."
            ).format(purpose=name)
        else:
            text = t.gettext(
                "Your consent to “{purpose}” has been withdrawn. You have not given any "
                "feedback under it. New feedback of this kind needs your consent again."
            ).format(purpose=name)
        if stored and deliveries:
            text += "\n\n" + t.gettext(
                "Everyone we had passed that feedback to has been asked to delete it."
            )
        if stored and under and self._quotable(r for r in withdrawn if r.id in under):
            text += "\n\n" + self._digests_stay(t)
        if not complete:
            text += "\n\n" + t.gettext(
                "Some of your stored feedback could not be read, so it was not erased; it is "
                "no longer evaluated and goes on its deletion date, or now if you erase "
                "everything."
            )
        if contact_gone:
            if language:  # kept with the chat id (see _withdrawn_optional)
                gone = t.gettext(
                    "The chat ID and the language stored for contacting you about that "
                    "feedback were erased too."
                )
            else:
                gone = t.gettext(
                    "The chat ID stored for contacting you about that feedback was erased too."
                )
            text += "\n\n" + gone
            if await self._end_contact_consents(pseudonym):
                # Else still shown in force, and offered by /withdraw, with nothing behind
                # it (found by review).
                text += " " + t.gettext("Your consent to be contacted about it ended with it.")
        if discarded.answered and stored and under:
            text += "\n\n" + t.gettext("Your unfinished answers were discarded.")
        elif discarded and not discarded.answered:
            text += "\n\n" + t.gettext("The survey you had started has ended.")
        held = await self._held(pseudonym, (feedback, unreadable))
        question = (
            self._what_is_erased(t, len(feedback), held.draft, held.answered)
            if complete
            else self._erase_all(t)
        )
        # Offered, not asked for: said so (found by a customer walk-through: having chosen to
        # keep the other purpose, "Do you want to erase all data?" came unexplained).
        question = t.gettext("The rest of your data stays stored. {question}").format(
            question=question
        )
        # What an erasure would keep, as /delete says it (found by a DPO's review: proof
        # of consent kept, unsaid, on the way PRIVACY.md C7 sends people)
        until = await self._proof_until(pseudonym, held)
        audited = await self._audited(staff, actor)
        also = self._also_erased(t, held)
        also.append(self._note_kept(t, until, only=not audited))
        if audited:  # (found by review: said at /delete, not here)
            also.append(_staff_note(t, self.config.audit_retention))
        question = "\n\n".join((question, *also))
        erase = self._erase_question(t, question, pseudonym, held, after_withdrawal=True)
        return Outcome(
            replies=(Reply(text), erase), close_keyboard=True, question_gone=bool(discarded)
        )

    @staticmethod
    def _erase_all(t: Translator) -> str:
        return t.gettext(
            "Do you want to erase all data stored about you? That is your feedback, your "
            "consents and any unfinished answers. This cannot be undone."
        )

    async def _kinds_in_force(self, pseudonym: str, purpose_id: str) -> set[bool | None]:
        """How the person's consents in force for this purpose were given: as a condition
        of taking part (True), on their own (False), or not recorded (None: older ones)."""
        try:
            records = await self.store.consents(pseudonym)
        except DecryptionFailed:
            return {None}
        return {c.required for c in records if c.purpose == purpose_id and c.in_force}

    def _was_required(
        self, purpose_id: str, kinds: set[bool | None], feedback: list[FeedbackRecord]
    ) -> bool:
        """For a purpose no loaded flow declares any more (a flow removed, a purpose
        renamed): as its consent records say; for older ones, required where it was a
        feedback's first purpose, or one of a flow still loaded that no longer declares
        it (renamed there: better restricted once too often)."""
        if True in kinds or False in kinds:
            return True in kinds
        return any(
            purpose_id in needed_consents(r, self.catalog)
            or (purpose_id in r.purposes and r.flow_id in self.catalog.flows)
            for r in feedback
        )

    async def _readable_feedback(self, pseudonym: str) -> tuple[list[FeedbackRecord], int]:
        """The person's feedback that can be read, and how many more cannot: a damaged
        row must not keep anyone from withdrawing."""
        feedback, unreadable = await self.store.readable_feedback_of(pseudonym, self.clock())
        if unreadable:
            log.warning("feedback unreadable at a withdrawal", extra={"records": unreadable})
        return feedback, unreadable

    @staticmethod
    async def _stored(read: Awaitable[object | None]) -> bool:
        """Whether anything is stored (not None, not empty), readable or not: erasure
        removes either."""
        try:
            return bool(await read)
        except DecryptionFailed:
            return True

    def _given_with_contact(self, record: FeedbackRecord) -> bool:
        """Whether a contact chat id may have been given with `record`: a consent to be
        contacted among its purposes, or a purpose no loaded flow declares any more
        (which may have been one: better kept until the purge than erased too soon)."""
        purposes = (self._purposes.get(p) for p in record.purposes)
        return any(purpose is None or purpose.stores_contact for purpose in purposes)

    async def _end_contact_consents(self, pseudonym: str) -> bool:
        """The person's consents to be contacted, ended with the last feedback they were
        given for (not withdrawn: /meinedaten says so); whether there were any."""
        ended = 0
        for record in await self.store.consents(pseudonym):
            purpose = self._purposes.get(record.purpose)
            if record.in_force and purpose is not None and purpose.stores_contact:
                try:
                    ended += await self.store.withdraw_consent(
                        pseudonym, record.purpose, self.clock(), redraw_alerts=True, ended=True
                    )
                except StorageFull:  # in force as before; the chat id is gone
                    log.warning("contact consent not ended: no space")
        return ended > 0

    async def _withdrawn_optional(
        self, t: Translator, purpose_id: str, pseudonym: str, erased: bool
    ) -> str:
        """What goes with an optional consent (a contact chat id nothing keeps any more;
        the answers were erased with the withdrawal), and the answer saying so."""
        purpose = self._purposes.get(purpose_id)
        contact = await self._contact_served(purpose, pseudonym)
        # The language to write in, kept with the chat id, goes with it and is named
        # (found by a customer walk-through: the consent text names both, the answer the
        # chat id alone)
        language = contact and await self._stored(self.store.contact_language_of(pseudonym))
        if contact:
            await self.store.delete_contact(pseudonym)
        if contact or erased:
            await self.store.flush_deletions()
        if language and erased:
            text = t.gettext(
                "Your consent to “{purpose}” has been withdrawn; the chat ID and the language "
                "stored for contacting you and the answers you gave for it were erased. The "
                "rest of your feedback is not affected."
            )
        elif language:
            text = t.gettext(
                "Your consent to “{purpose}” has been withdrawn and the chat ID and the "
                "language stored for contacting you were erased. Your feedback is not affected."
            )
        elif contact and erased:
            text = t.gettext(
                "Your consent to “{purpose}” has been withdrawn; the chat ID stored for contacting "
                "you and the answers you gave for it were erased. The rest of your feedback is "
                "not affected."
            )
        elif contact:
            text = t.gettext(
                "Your consent to “{purpose}” has been withdrawn and the chat ID stored for "
                "contacting you was erased. Your feedback is not affected."
            )
        elif erased:
            text = t.gettext(
                "Your consent to “{purpose}” has been withdrawn, and the answers you gave for "
                "it were erased. The rest of your feedback is not affected."
            )
        else:
            text = t.gettext("Your consent to “{purpose}” has been withdrawn.")
        return text.format(purpose=self._label(t, purpose_id))

    async def _draft_state(self, pseudonym: str) -> tuple[Draft, ConversationState] | None:
        """The conversation under way; None also when its draft cannot be read (it is then
        no help to anyone, and goes at its idle time)."""
        try:
            draft = await self.store.load_draft(pseudonym, self.clock())
        except DecryptionFailed:
            return None
        if draft is None:
            return None
        return draft, ConversationState.model_validate(draft.payload)

    async def _withdraw_from_draft(self, pseudonym: str, purpose_id: str) -> _DraftWithdrawal:
        """The consent, if given in the conversation under way, marked refused there and
        the answers collected for it dropped (the engine keeps no answer to its questions
        from now on). On a full disk the unfinished answers go instead."""
        found = await self._draft_state(pseudonym)
        if found is None:
            return _DraftWithdrawal()
        draft, state = found
        if not any(c.purpose == purpose_id and c.granted for c in state.consents):
            return _DraftWithdrawal()
        flow = self.catalog.flows.get(state.flow_id)
        collected = set(flow.collected_for(purpose_id)) if flow else set()
        answers = {k: v for k, v in state.answers.items() if k not in collected}
        now = self.clock()
        consents = [
            c.model_copy(update={"granted": False, "at": now}) if c.purpose == purpose_id else c
            for c in state.consents
        ]
        update: dict[str, object] = {"answers": answers, "consents": consents}
        if state.step_id in collected:  # ticks of an open multiple choice for it go too,
            update["selected"] = []  # and the start of a text refused there (review)
            update["long_text"] = None
        withdrawn = state.model_copy(update=update)
        payload = withdrawn.model_dump(mode="json")
        try:
            # under a new key: the answers taken out go with the old one
            kept = draft.model_copy(update={"payload": payload})
            await self.store.save_draft(pseudonym, kept, fresh=True)
        except StorageFull:  # deleting needs no room
            await self.store.delete_draft(pseudonym)
            return _DraftWithdrawal(given=True, discarded=True)
        return _DraftWithdrawal(
            given=True,
            erased=len(answers) < len(state.answers),
            open_question=state.step_id in collected,
        )

    async def _discard_draft_needing(self, pseudonym: str, purpose_id: str) -> _Discarded:
        """Drop unfinished answers whose flow needs the withdrawn purpose; those of a
        flow that does not (product feedback, say, when the general consent goes) stay.
        One that cannot be read cannot tell, and is no use to anyone: it goes too."""
        try:
            draft = await self.store.load_draft(pseudonym, self.clock())
        except DecryptionFailed:
            return _Discarded(await self.store.delete_draft(pseudonym), answered=True)
        if draft is None:
            return _Discarded(False)
        state = ConversationState.model_validate(draft.payload)
        flow = self.catalog.flows.get(state.flow_id)
        if flow is not None and purpose_id not in {p.id for p in flow.required_purposes}:
            return _Discarded(False)
        # Consent given a moment ago and nothing answered yet: no answers to speak of
        # (found by a customer walk-through: "your unfinished answers were discarded").
        return _Discarded(await self.store.delete_draft(pseudonym), answered=state.holds_answers)

    async def _contact_served(self, purpose: Purpose | None, pseudonym: str) -> bool:
        """Whether a contact chat id is stored that nothing keeps any more, now that this
        (optional) purpose is withdrawn: it goes unless another consent in force to being
        contacted keeps it. Asked again on a second press, so that a withdrawal cut short
        after the consent went does not leave the chat id for good. For a purpose no flow
        declares any more, the chat id goes too (better erased once too often than kept)."""
        if purpose is not None and not purpose.stores_contact:
            return False
        for record in await self.store.consents(pseudonym):
            kept_for = self._purposes.get(record.purpose)
            if record.in_force and kept_for is not None and kept_for.stores_contact:
                return False
        try:
            return await self.store.contact_of(pseudonym) is not None
        except DecryptionFailed:  # unreadable, but still there: it goes too
            return True

    def _label(self, t: Translator, purpose_id: str) -> str:
        purpose: Purpose | None = self._purposes.get(purpose_id)
        if purpose is None:
            return t.gettext("{purpose} (no longer asked)").format(purpose=purpose_id)
        return render_text(purpose.label or purpose.description, t)


__all__ = ["DataRights"]


def _granted_in(state: ConversationState | None) -> set[str]:
    """The optional consents given in the conversation under way (`state`): they are kept
    with its unfinished answers until the feedback is sent, and withdrawable meanwhile, as
    the consent question says."""
    return set() if state is None else {c.purpose for c in state.consents if c.granted}


def _out_of_date(t: Translator) -> str:
    return t.gettext(
        "This question is out of date, so nothing was withdrawn: your consents or your "
        "feedback have changed since it was shown. If you want to withdraw a consent, send "
        "/withdraw again: it shows what is in force now."
    )


def _withdrawal_mark(
    purpose_id: str,
    consents: Iterable[ConsentRecord],
    feedback: Iterable[FeedbackRecord],
    state: ConversationState | None,
) -> str:
    """What a withdrawal of `purpose_id` would act on, in eight characters for its button:
    the consents to it in force, the feedback given under it and a consent to it in the
    survey under way (`state`). Pressed when any differs, the button is out of date. Empty
    where no consent to it is in force: a press then is said to find none (and finishes a
    withdrawal cut short, see `DataRights.withdraw`)."""
    draft = state.token if state is not None and purpose_id in _granted_in(state) else ""
    given = sorted(c.id for c in consents if c.purpose == purpose_id and c.in_force)
    if not given and not draft:
        return ""
    under = sorted(r.id for r in feedback if purpose_id in r.purposes)
    held = "\n".join((*given, "|", *under, "|", draft)).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(held).digest())[:8].decode()


def _kept(state: ConversationState, flow: FlowDefinition | None) -> dict[str, object]:
    """Everything an unfinished conversation holds, as answers: those given, the options
    ticked so far at a multiple choice, the start of a text refused as too long (kept for
    the button that keeps it), and optional consents answered on the way ("y", "n", by
    the step that asked; stored with the feedback once it is complete)."""
    answers: dict[str, object] = dict(state.answers)
    if state.selected:
        answers[state.step_id] = list(state.selected)
    if state.long_text:
        answers[state.step_id] = state.long_text
    asked = {s.purpose: s.id for s in (flow.steps if flow else []) if isinstance(s, ConsentStep)}
    for consent in state.consents:
        step = asked.get(consent.purpose, f"consent:{consent.purpose}")
        answers[step] = "y" if consent.granted else "n"
    return answers


def _staff_note(t: Translator, kept: timedelta) -> str:
    return t.gettext(
        "From your work as staff: the audit trail also keeps, encrypted, when you used the "
        "staff commands, as proof of how feedback was handled; it is not erased here, and each "
        "entry is deleted {period} after it was made."
    ).format(period=t.duration(kept))


_NOTED = {
    "erasure": N_("you had your data erased"),
    "withdrawal": N_("you withdrew a consent"),
    "objection": N_("you objected to storing your language choice"),
}
"""What a note of the erasure ledger is of, as /mydata says it (see `_what_was_noted`)."""


def _note_about(noted: LedgerNote | None) -> list[Literal["erasure", "withdrawal", "objection"]]:
    """The kinds of the ledger's entries about the person, as the copy names them."""
    return [] if noted is None else list(noted.about)


def _what_was_noted(t: Translator, about: Iterable[str]) -> str:
    """What took place ("you had your data erased and you withdrew a consent"), not all it
    could have been (found by customer walk-throughs: "erased, withdrew or objected" to
    whoever had only withdrawn)."""
    return format_list([t.gettext(_NOTED[kind]) for kind in about], locale=t.locale)
