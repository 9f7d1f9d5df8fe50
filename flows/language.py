"""/sprache (/language): the language a person chooses, remembered and looked up per update.

Without a choice the bot follows the language the Telegram app reports. A choice is
personal data like any other: stored encrypted under the person's key, deleted
automatically the feedback retention after the person's last update (a choice in use
does not lapse: its deletion date moves on, at most once a day), at once when the
person goes back to "like my Telegram app", and with everything else at /loeschen.

Every update needs the person's language, so choices are cached in memory by pseudonym
(also the absence of one). The cache is dropped for a person when they choose or are
erased, and an entry is not used past the choice's deletion date, which is when the
purge deletes it: the cache never answers with a choice the store no longer holds.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flows.engine import AS_ASCII
from flows.i18n import SUPPORTED_LOCALES, Translator, translator
from flows.replies import Button, Outcome, Reply, headed
from flows.service import FeedbackService, Person
from storage.interface import LanguageChoice, StorageFull, Store, StoreError

log = logging.getLogger("flows.language")

APP = "app"
"""The choice that stores nothing: follow the Telegram app's language."""
CACHE_SIZE = 50_000
"""People whose choice (or its absence) is kept in memory; the least recent are forgotten."""
RENEWAL_STEP = timedelta(days=1)
"""How often at most a choice in use gets a new deletion date (a write to the store)."""

# What may follow /sprache: language codes and names in either language.
_ARGUMENTS = {
    "de": "de",
    "deutsch": "de",
    "german": "de",
    "en": "en",
    "english": "en",
    "englisch": "en",
    "app": APP,
    "telegram": APP,
    "auto": APP,
    # back to the app's (found by an English customer's review: "I cannot write in that
    # language")
    "default": APP,
    "reset": APP,
    "standard": APP,
    "zurücksetzen": APP,
    "zuruecksetzen": APP,
}

# Around a language typed in answer to the question which: "Englisch bitte", "auf Deutsch",
# "English please"; and the greeting before a wish ("Hello, do you speak English?": found by
# a customer walk-through, told in German that feedback needs consent first).
_AROUND = frozenset(
    "bitte please pls auf in lieber gerne danke thanks hello hi hey hallo moin servus sorry "
    "excuse entschuldigung actually eigentlich doch".split()
)
_WORD = re.compile(r"[\w-]+")
_WORDS_WITH_APOSTROPHES = re.compile(r"[\w'-]+")  # "don't"
ASKED_FOR = timedelta(minutes=10)
"""How long after /sprache asked which language a language typed alone answers it."""

_Cached = tuple[str, datetime] | None

_EN, _DE = r"(?:english|englisch|engl)", r"(?:deutsch|german|germany)"
_YOU_SPEAK = (
    # ("Can we do this in English please?": found by a customer walk-through, the comment)
    r"(?:(?:can|could|do|will) (?:you|u|we) |you )?(?:speak|write|talk|use|"
    r"(?:do|continue)(?: this| it| that)?|continue in|switch to|change to|answer in)|"
    r"(?:sprechen|schreiben|koennen) sie(?: auch)?|"
    r"(?:sprichst|schreibst|kannst) du(?: auch)?|(?:sprecht|schreibt|koennt) ihr(?: auch)?"
)
# Someone beside the person who reads along ("mein Mann versteht kein Deutsch", "my mother
# can't read German"): found by a customer walk-through, stored as the comment.
_SOMEONE_DE = r"(?:mein|meine|meiner|unser|unsere) \w+"
_SOMEONE_EN = r"(?:my|our) \w+"
_WISHES = {
    "en": re.compile(
        rf"{_EN}(?: language| version| pls| plz)?|(?:{_YOU_SPEAK}) {_EN}|"
        rf"(?:switch|change)(?: the)?(?: language)? (?:to|into) {_EN}|"
        rf"i (?:don't|dont|do not|can't|cant|cannot) (?:speak|read|understand) {_DE}|"
        rf"no {_DE}|not in {_DE}|(?:ich )?(?:spreche|verstehe|kann) kein {_DE}|nicht auf {_DE}|"
        rf"(?:{_EN} )?(?:{_SOMEONE_DE}) (?:versteht|spricht|liest|kann) (?:kein|kaum) {_DE}"
        rf"(?: {_EN})?|"
        rf"(?:{_EN} )?(?:{_SOMEONE_EN}) (?:doesn't|doesnt|does not|can't|cant|cannot) "
        rf"(?:speak|read|understand) {_DE}(?: {_EN})?"
    ),
    "de": re.compile(
        rf"{_DE}(?: sprache| version)?|(?:{_YOU_SPEAK}) {_DE}|"
        rf"(?:switch|change)(?: the)?(?: language)? (?:to|into) {_DE}|"
        rf"(?:sprache|umstellen) (?:auf )?{_DE}|"
        rf"(?:ich )?(?:spreche|verstehe|kann) (?:kein|kaum|nicht) {_EN}|nicht auf {_EN}|"
        rf"(?:{_DE} )?(?:{_SOMEONE_DE}) (?:versteht|spricht|liest|kann) (?:kein|kaum) {_EN}"
        rf"(?: {_DE})?"
    ),
}
"""A language asked for in words, as a whole message once `_AROUND`'s words are gone
("English please", "Can you speak English?", "Ich spreche kein Englisch", "auf Deutsch
bitte", "Bitte auf Englisch, mein Mann versteht kein Deutsch"; see `wished_for`)."""


def wished_for(text: str) -> str | None:
    """The language `text` asks the bot to write in, typed rather than chosen with
    /sprache (found by customer walk-throughs: "English please" under a German question
    was stored as the comment, or told in German that feedback needs consent first)."""
    typed = text.casefold().replace("’", "'")
    words = [w for w in _WORDS_WITH_APOSTROPHES.findall(typed) if w not in _AROUND]
    said = " ".join(words).translate(AS_ASCII)
    if not said or len(words) > 8:
        return None
    for locale, wish in _WISHES.items():
        if wish.fullmatch(said):
            return locale
    return None


@dataclass(frozen=True)
class AppLanguage:
    """What the person's Telegram app reports: the language the bot uses without a choice
    (`locale`), and whether that is the app's own (`spoken`) or the bot's default because
    the app's is one the bot does not speak (or the app said none)."""

    locale: str
    spoken: bool
    reported: bool = True
    """Whether the app said which language it uses at all (Telegram may leave it out)."""


def _wanted(argument: str) -> str | None:
    """The choice an argument of /sprache names: a language's name or code ("English",
    "englisch", "en", "en-GB"), "app", or None when it names none the bot speaks."""
    word = argument.strip().lower()
    if word in _ARGUMENTS:
        return _ARGUMENTS[word]
    primary = word.replace("_", "-").split("-")[0]
    return primary if primary in SUPPORTED_LOCALES else None


def _named_alone(text: str) -> str | None:
    """The choice `text` names as its one word beside `_AROUND`'s ("Englisch bitte",
    "auf Englisch", "de."); None otherwise."""
    words = [w for w in _WORD.findall(text.casefold()) if w not in _AROUND]
    return _wanted(words[0]) if len(words) == 1 else None


class LanguageDesk:
    """Answers /sprache and its buttons, and tells the transport whose language is chosen."""

    def __init__(
        self, store: Store, service: FeedbackService, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.service = service
        self.clock = clock
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._asked: OrderedDict[str, datetime] = OrderedDict()
        """Whom /sprache asked which language, and when (see `typed`)."""

    # --- the lookup on every update ---------------------------------------------------------
    async def chosen(self, subject: str, renew: bool = True) -> str | None:
        """The language the person chose, or None to follow their app. With `renew` (the
        person is using the bot) a choice in use gets a new deletion date when due."""
        pseudonym = self.store.pseudonym(subject)
        now = self.clock()
        if pseudonym in self._cache:
            self._cache.move_to_end(pseudonym)
            cached = self._cache[pseudonym]
            if cached is None:
                return None
            if cached[1] > now and not (renew and self._renewal_due(cached[1], now)):
                return cached[0]
        choice = await self._stored(pseudonym, now)
        if renew and choice is not None and self._renewal_due(choice.expires_at, now):
            choice = await self._renewed(pseudonym, choice, now)
        self._remember(pseudonym, choice)
        return None if choice is None else choice.locale

    def _renewal_due(self, expires_at: datetime, now: datetime) -> bool:
        """Whether the choice's date was last moved on more than a renewal step ago."""
        retention = self.service.config.retention
        step = min(RENEWAL_STEP, retention / 10)
        return expires_at - now < retention - step

    async def _renewed(
        self, pseudonym: str, choice: LanguageChoice, now: datetime
    ) -> LanguageChoice:
        """The choice, kept for the retention from now; as it was if that cannot be saved
        (it then lapses at its date, as the person was told)."""
        renewed = choice.model_copy(update={"expires_at": now + self.service.config.retention})
        try:
            await self.store.save_language(pseudonym, renewed)
        except Exception as error:  # the choice read a moment ago still answers
            log.warning("language choice not renewed: %s", type(error).__name__)
            return choice
        return renewed

    async def _stored(self, pseudonym: str, now: datetime) -> LanguageChoice | None:
        try:
            choice = await self.store.language_of(pseudonym, now)
        except StoreError as error:
            # A row that does not open (tampered, restored without its key): the app's
            # language serves, and the next choice replaces the row.
            log.warning("language choice unreadable: %s", type(error).__name__)
            return None
        return choice if choice is not None and choice.locale in SUPPORTED_LOCALES else None

    def cached(self, subject: str) -> str | None:
        """The person's choice as far as memory knows it (no store read: for answering
        when the store has failed)."""
        cached = self._cache.get(self.store.pseudonym(subject))
        return cached[0] if cached is not None and cached[1] > self.clock() else None

    def forget(self, pseudonym: str) -> None:
        """The person's data was erased: their choice is gone from the store."""
        self._cache.pop(pseudonym, None)
        self._asked.pop(pseudonym, None)

    def _remember(self, pseudonym: str, choice: LanguageChoice | None) -> None:
        self._cache[pseudonym] = None if choice is None else (choice.locale, choice.expires_at)
        self._cache.move_to_end(pseudonym)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    # --- /sprache ---------------------------------------------------------------------------
    async def ask(self, person: Person, app: AppLanguage, argument: str | None) -> Outcome:
        """/sprache shows the choice; /sprache <language> makes it at once."""
        t = translator(person.locale)
        if argument is None:
            self._note_asked(person)
            return Outcome(replies=(await self._question(person, app, t),))
        wanted = _wanted(argument)
        if wanted is None:  # "englisch bitte", "Englisch.", "auf Englisch" (found by a
            # hostile customer's walk-through: "I cannot write in that language"), and
            # typed in words ("/language can you speak English")
            wanted = _named_alone(argument) or wished_for(argument)
        if wanted is None:
            self._note_asked(person)
            question = await self._question(person, app, t)
            lead = t.gettext("I cannot write in that language.")
            return Outcome(replies=(Reply(f"{lead}\n\n{question.text}", question.buttons),))
        return await self._choose(person, app, wanted)

    async def typed(self, person: Person, app: AppLanguage, text: str) -> Outcome | None:
        """A language typed alone ("Englisch bitte", "de", "reset") within ASKED_FOR of the
        question which: the choice made, as by its button; else None, and the text goes
        where it would have gone. Found by a customer walk-through: "Englisch bitte" under
        the question was kept as the comment of the survey asked again below it, and the
        language stayed; "reset" was told no question was open."""
        now = self.clock()
        while self._asked and now - next(iter(self._asked.values())) > ASKED_FOR:
            self._asked.popitem(last=False)  # the oldest first: kept in the order asked
        if not self._asked or self.store.pseudonym(person.subject) not in self._asked:
            # (nobody asked lately: no pseudonym worked out for every message)
            return await self._pointed(person, text)
        wanted = _named_alone(text)
        if wanted is None:
            return await self._pointed(person, text)
        return await self._choose(person, app, wanted)

    async def _pointed(self, person: Person, text: str) -> Outcome | None:
        """A language asked for in words (see `wished_for`) other than the one the bot
        writes in: how to choose it, in that language, and the open question of a survey
        under way again; None otherwise. Pointed to /language, not switched: a choice is
        stored, which /language says first."""
        wanted = wished_for(text)
        if wanted is None or wanted == person.locale:
            return None
        t = translator(wanted)
        said = t.gettext(
            "I did not store this message. To have me write in {language}, send /language "
            "and tap “{language}”."
        ).format(language=t.language(wanted))
        return await self.service.reminded(person, Outcome.say(said))

    def _note_asked(self, person: Person) -> None:
        pseudonym = self.store.pseudonym(person.subject)
        self._asked[pseudonym] = self.clock()
        self._asked.move_to_end(pseudonym)
        while len(self._asked) > CACHE_SIZE:
            self._asked.popitem(last=False)

    async def press(self, person: Person, app: AppLanguage, data: str) -> Outcome:
        """A button of the question: ``l:de``, ``l:en`` or ``l:app``."""
        t = translator(person.locale)
        wanted = data.removeprefix("l:")
        if not data.startswith("l:") or wanted not in (*SUPPORTED_LOCALES, APP):
            return Outcome(toast=t.gettext("This button is not valid."), close_keyboard=True)
        outcome = await self._choose(person, app, wanted)
        return Outcome(replies=outcome.replies, close_keyboard=True)

    async def _question(self, person: Person, app: AppLanguage, t: Translator) -> Reply:
        pseudonym = self.store.pseudonym(person.subject)
        choice = await self._stored(pseudonym, self.clock())
        if choice is not None:
            now = t.gettext("Now: {language}, as you chose.").format(
                language=t.language(choice.locale)
            )
        elif app.spoken:
            now = t.gettext("Now: {language}, the language of your Telegram app.").format(
                language=t.language(app.locale)
            )
        elif app.reported:
            now = t.gettext(
                "Now: {language}, my standard language (I do not speak the language of your "
                "Telegram app)."
            ).format(language=t.language(app.locale))
        else:
            now = t.gettext(
                "Now: {language}, my standard language (your Telegram app does not say which "
                "language it uses)."
            ).format(language=t.language(app.locale))
        text = "\n\n".join(
            (
                t.gettext("Which language shall I write to you in?"),
                now,
                t.gettext(
                    "A language you choose is stored, encrypted, and deleted {retention} after "
                    "you last use this chat; “Like my Telegram app” deletes it at once."
                ).format(retention=t.duration(self.service.config.retention)),
            )
        )
        languages = tuple(
            Button(translator(code).language(code), f"l:{code}") for code in SUPPORTED_LOCALES
        )
        return Reply(text, (languages, (Button(t.gettext("Like my Telegram app"), f"l:{APP}"),)))

    async def _choose(self, person: Person, app: AppLanguage, wanted: str) -> Outcome:
        pseudonym = self.store.pseudonym(person.subject)
        self._asked.pop(pseudonym, None)
        if wanted == APP:
            return await self._follow_app(person, app)
        now = self.clock()
        t = translator(wanted)
        choice = LanguageChoice(
            locale=wanted, chosen_at=now, expires_at=now + self.service.config.retention
        )
        try:
            await self.store.save_language(pseudonym, choice)
        except StorageFull:
            log.error("storage full: language choice not saved")
            kept = translator(person.locale)
            return Outcome.say(
                kept.gettext(
                    "Sorry, your choice could not be saved right now, so I keep writing in "
                    "{language}. Please try again later."
                ).format(language=kept.language(person.locale))
            )
        self._remember(pseudonym, choice)
        log.info("language chosen")
        said = t.gettext(
            "From now on I'll write to you in {language}. The choice is stored, encrypted, "
            "and deleted {retention} after you last use this chat; /language changes it, "
            "and /delete erases it with everything else."
        ).format(
            language=t.language(wanted),
            retention=t.duration(self.service.config.retention),
        )
        return await self._continued(person, wanted, said)

    async def _follow_app(self, person: Person, app: AppLanguage) -> Outcome:
        pseudonym = self.store.pseudonym(person.subject)
        t = translator(app.locale)
        deleted = await self.store.delete_language(pseudonym)
        self._remember(pseudonym, None)
        if deleted:
            await self.store.flush_deletions()
            log.info("language choice deleted")
        if app.spoken:
            following = t.gettext("I'll follow the language of your Telegram app ({language}).")
        elif app.reported:
            following = t.gettext(
                "I do not speak the language of your Telegram app, so I'll write in "
                "{language}, my standard language."
            )
        else:
            following = t.gettext(
                "Your Telegram app does not say which language it uses, so I'll write in "
                "{language}, my standard language."
            )
        if deleted:
            stored = t.gettext("The language you had chosen is no longer stored.")
        else:
            stored = t.gettext("No language choice is stored about you.")
        said = f"{following.format(language=t.language(app.locale))} {stored}"
        return await self._continued(person, app.locale, said)

    async def _continued(self, person: Person, locale: str, said: str) -> Outcome:
        """`said`, and the question of a feedback under way asked again in the new language;
        with none under way, where to go on (a consent request on the screen stays in the
        language it was shown in, its proof is of that text: /start shows it in the new
        one, which whoever has not agreed is told, found by a customer walk-through: told
        only "Send /start to give feedback", they pressed Yes under the German request)."""
        chosen = Person(person.subject, person.chat_id, locale)
        resumed = await self.service.relanguage(chosen)
        if resumed is None:
            t = translator(locale)
            if await self.service.asks_consent_first(chosen):
                pointer = t.gettext(
                    "Send /start to read the request for your consent in {language} and to "
                    "give feedback."
                ).format(language=t.language(locale))
            else:
                pointer = t.gettext("Send /start to give feedback.")
            return Outcome.say(f"{said}\n\n{pointer}")
        return Outcome(replies=headed((said,), resumed.replies))


__all__ = ["APP", "AppLanguage", "LanguageDesk"]
