"""The generic flow engine: pure and transport-free.

Given a flow definition, a person's conversation state and one input, it returns the
new state and the translated replies. It never touches the store; the service applies
what it decides (saving the draft, storing a completed feedback).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from flows.consent import optional_consent_text, sha256_hex
from flows.i18n import SUPPORTED_LOCALES, Translator, translator
from flows.models import (
    DONE,
    MAX_TEXT_STEP_LENGTH,
    SKIP,
    TOKEN_LENGTH,
    AskingStep,
    ChoiceStep,
    ConsentStep,
    FlowDefinition,
    MultipleChoiceStep,
    RatingStep,
    Step,
    TextStep,
    ThanksStep,
    render_text,
)
from flows.processing import Recipient
from flows.redaction import SERVING_ROLES, holds_contact_details, strip_personal
from flows.replies import Button, Keyboard, Outcome, Reply, headed

CHECKED, UNCHECKED = "☑", "☐"
Answer = int | str | list[str] | None


class PendingConsent(BaseModel):
    """An optional consent answered during the conversation, stored with the feedback."""

    model_config = ConfigDict(frozen=True)

    purpose: str
    granted: bool
    text_sha256: str
    at: datetime


class ConversationState(BaseModel):
    """Where a person is in a flow. Kept encrypted in the store as the person's draft."""

    model_config = ConfigDict(frozen=True)

    flow_id: str
    step_id: str
    token: str
    answers: dict[str, Answer] = {}
    consents: list[PendingConsent] = []
    selected: list[str] = []
    """The options toggled on so far at a multiple-choice step."""
    started_at: datetime
    locale: str | None = None
    """The language it began in and keeps (a person's devices may report different
    ones); None in drafts from before it was kept."""
    long_text_at: datetime | None = None
    """When the last text refused as too long at this step was sent: Telegram splits a
    text over 4,096 characters into several messages, sent within a second or two, and
    the rest of a refused text must not be taken as the answer."""
    long_text: str | None = None
    """The start of the text refused as too long at this step, as much as fits: kept
    until the person sends a shorter one or keeps it with the button under the refusal
    (found by a customer walk-through: the text was lost, and the apology typed after it
    stored as the comment)."""
    answered: str | None = None
    """The step answered last, and when: a second tap on its buttons before they were
    taken away is the same answer again, not a lost reply to make up for."""
    answered_at: datetime | None = None
    added: str | None = None
    """The message last added to the text answer just given, in drafts from before
    `additions` was kept."""
    additions: list[str] = []
    """Every message added to the text answer just given, oldest first (see
    `_more_of_text`), each to take out again with its own Undo button."""
    interrupted: bool = False
    """Whether another survey's request or question was shown since the last answer: a
    text now is no more of that answer, nor a skipped one's (see `_more_of_text`)."""
    shape: str | None = None
    """What the question asked now took as an answer when it was asked (`shape_of`): one
    changed since (a scale of 0-10 for 1-5, options replaced) is asked again rather than
    taking a press on its old buttons. None in drafts from before it was kept."""
    scales: dict[str, list[int]] = {}
    """The scale each rating was given on, as the question was when answered (found by
    review: a rating given before the scale changed was stored on the new one). Not in
    drafts from before it was kept."""
    notice_version: str | None = None
    """The version of the consent request agreed to for these answers: one changed since
    (a longer retention, alerts turned on, a purpose added) is asked again before they go
    on. None in drafts from before it was kept."""

    @property
    def holds_answers(self) -> bool:
        """Whether any question was answered yet (an option ticked counts): a survey just
        begun has no answers to speak of when it ends."""
        return bool(self.answers or self.selected or self.long_text)


@dataclass(frozen=True)
class Press:
    data: str


@dataclass(frozen=True)
class TextInput:
    text: str
    sent_at: datetime | None = None  # as Telegram dates the message
    quoted: str | None = None  # the text of the bot's message it replies to


FORWARDED = "forwarded"
"""The kind of an OtherInput that is a forwarded message (text or not)."""
VIA_BOT = "via_bot"
"""The kind of an OtherInput that is a text sent through an inline bot (its text)."""
CAPTIONED = "captioned"
"""The kind of an OtherInput that is a photo, video or file with words written under it."""
SPOKEN = frozenset({"Voice", "VideoNote"})
"""The kinds of an OtherInput that are spoken: a voice message, a round video message."""
# The parts of a text Telegram splits are sent within a second or two of each other.
SPLIT_TEXT_WINDOW = timedelta(seconds=2)
# People write a comment in bursts ("Hallo," and the matter a few seconds later).
BURST_WINDOW = timedelta(seconds=20)
AS_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
"""Umlauts and "ß" as typed on a keyboard without them."""


def typed_forms(words: set[str] | frozenset[str]) -> frozenset[str]:
    """Words as typed, also with "ae", "oe", "ue", "ss" for "ä", "ö", "ü", "ß" (a keyboard
    without umlauts: "moechte", "ueberspringen", found by a German customer's review)."""
    return frozenset(words) | {word.translate(AS_ASCII) for word in words}


# What is typed to answer a question of buttons, not more of a comment.
SHORT_REPLIES = typed_forms(
    frozenset(
        "ja nein yes no ok okay jo jep jup nö nä ne nee nope nah yep yup yeah gerne klar sure "
        "danke thanks thx j n y".split()
    )
)
ANSWER_WORDS = SHORT_REPLIES | typed_forms(
    frozenset(
        "einverstanden lieber nicht kein keine keinen bitte nie niemals agree disagree not never "
        "please rather don't don’t dont".split()
    )
)
"""Words of a few typed at a consent question that answer it rather than go on with the
comment before it (see `_more_of_text`)."""
DECLINES = typed_forms(
    {
        "nein", "no", "ne", "nee", "nö", "nä", "nope", "n", "nein danke", "no thanks",
        "no thank you", "lieber nicht", "nein lieber nicht", "bitte nicht", "rather not",
        "no rather not", "nicht einverstanden", "i do not agree", "i don't agree",
        # a no in more words (found by review: "nah" and "Don't contact me" were joined
        # to the comment before the question, which staff then read)
        "nah", "nah thanks", "nö danke", "nee danke", "nein bitte nicht", "nein danke nicht",
        "möchte ich nicht", "nein möchte ich nicht", "will ich nicht", "nein will ich nicht",
        "ich möchte das nicht", "nein ich möchte das nicht", "das möchte ich nicht",
        "nicht nötig", "nein nicht nötig", "kein kontakt", "keinen kontakt",
        "bitte keinen kontakt", "nein keinen kontakt", "nicht kontaktieren",
        "bitte nicht kontaktieren", "nein bitte nicht kontaktieren", "please don't",
        "no please don't", "i'd rather not", "i would rather not", "no i'd rather not",
        "i don't want that", "no i don't want that", "no i don't", "no need",
        "not necessary", "no contact", "don't contact me", "do not contact me",
        "please don't contact me", "please do not contact me", "no don't contact me",
        "nein danke schönen tag noch", "passt schon", "nein passt schon", "nö passt",
        # found by a review of customers' phrasing: pointed to the buttons, or in a burst
        # joined to the comment staff read
        "kein bedarf", "kein interesse", "not interested", "kein kontakt erwünscht",
        "keine kontaktaufnahme", "keine kontaktaufnahme erwünscht", "auf keinen fall",
        "möchte nicht kontaktiert werden", "ich möchte nicht kontaktiert werden",
        "will nicht kontaktiert werden", "ich will nicht kontaktiert werden",
        "i don't want to be contacted", "i do not want to be contacted", "absolutely not",
        "definitely not",
        # a refusal in a short sentence of its own (found by a review of customers'
        # phrasing: pointed to the buttons); more of them after a no (see REFUSAL_AFTER_A_NO)
        "ich möchte nicht", "ich will nicht", "i'd prefer not", "i would prefer not",
        "i'd prefer not to", "i would prefer not to",
    }
)  # fmt: skip
"""A consent question answered no by typing (see `_declined`)."""
_ADDING = re.compile(
    r"(?:noch (?:etwas|was|eine sache|eins|was vergessen)|eine sache noch|nachtrag|ps|p s|"
    r"ausserdem|ach ja|ach und|uebrigens|und noch|zusaetzlich|ergaenzung|ergaenzend|"
    r"was ich noch sagen wollte|ich wollte noch sagen|ich habe vergessen|hab vergessen|"
    r"ich habe noch|hab noch|actually|one more thing|also|oh and|and also|by the way|btw|"
    r"i forgot|forgot to mention|in addition|addendum|another thing|i also|p s)\b"
)
"""How a message begins that says it is more of the comment before ("Noch etwas: …",
"Actually, one more thing: …"; see `Engine._adds_later`). As `bare_words`, in ASCII."""
_ADDING_TOO = re.compile(r"^(?:und|and) |\b(?:auch|ebenfalls|too|as well|either)\b")
"""A message that is more of the comment by its words: begun with "und", or with "auch"
or "too" in it (see `Engine._adds_later`). As `bare_words`, in ASCII."""
_OF_CONTACT = re.compile(
    r"\b(?:kontakt\w*|anruf\w*|rufen|ruft|zurueckruf\w*|rueckruf\w*|(?:ge)?melde\w*|anschreiben"
    r"|erreich\w*|rueckmeldung|contact\w*|call\w*|reach|ring|e ?mail|mail|reply|answer"
    r"|get back|hear back|hear from|telefon\w*|handy|phone|whatsapp|sms|signal|telegram)\b"
)
"""Words about being contacted: a message with them at the contact question answers it,
in words ("Ich möchte auch nicht kontaktiert werden"), rather than adding to the comment."""
_OF_ONESELF = re.compile(
    r"\b(?:ich|mich|mir|i|me|i'm|i'd|i'll|bin|wohne|wohnen|heisse|heiße|name|live"
    # a yes in other words ("Das wäre auch super, gerne": found by review)
    r"|gerne?|einverstanden|okay|ok|klar|sure|gladly|fine)\b"
)
"""Words of oneself, or a yes: a message with them at the contact question may answer it, or
say who one is, rather than add to the comment by "auch" or "too"."""


def _maybe_more(text: str, words: str) -> bool:
    """Whether `text` (`words`: its `bare_words` in ASCII), typed at a consent question,
    may be more of the comment: no yes or no first, no question, nothing of being
    contacted."""
    return not (
        words.split()[0] in _YES_OR_NO_FIRST
        or text.rstrip().endswith("?")
        or _OF_CONTACT.search(words) is not None
        or typed_no(text)
    )


_YES_OR_NO_FIRST = typed_forms(
    frozenset(
        "ja nein yes no jo jep jup nö nä ne nee nope nah yep yup yeah gerne klar sure okay ok "
        "gern natürlich absolutely".split()
    )
)
"""The first word of a message at a consent question that may answer it ("Ja, aber …")."""
UNDECIDED = typed_forms(
    {
        "thats fine", "that's fine", "that is fine", "its fine", "it's fine", "fine",
        "fine by me", "all good", "whatever", "never mind", "nevermind", "no matter",
        "doesn't matter", "i don't mind", "i dont mind", "don't mind", "up to you",
        "schon gut", "alles gut", "egal", "ist egal", "mir egal", "ist mir egal",
        "geht schon", "schon ok", "schon okay", "wie sie wollen", "wie du willst",
        "von mir aus", "meinetwegen",
        # not decided yet (found by a customer walk-through: after a skipped comment,
        # "maybe later" was taken as that comment)
        "maybe", "maybe later", "perhaps later", "not sure", "i'm not sure", "im not sure",
        "i'll think about it", "ill think about it", "let me think about it", "depends",
        "it depends", "only if needed", "only if necessary", "if needed", "if necessary",
        "vielleicht", "vielleicht später", "weiß nicht", "weiss nicht", "ich weiß nicht",
        "ich weiss nicht", "mal sehen", "mal schauen", "kommt drauf an", "kommt darauf an",
        "nur wenn nötig", "nur falls nötig", "falls nötig", "wenn nötig",
        "ich überlege es mir", "ich überleg es mir", "muss ich mir überlegen",
    }
)  # fmt: skip
"""Typed at a consent question, may mean yes or no ("thats fine", "egal", "von mir aus"):
not more of the comment right before it (found by a customer walk-through), nor taken as
an answer; the buttons say which."""
AFTER_A_NO = typed_forms(
    {
        "i'm good", "im good", "all good", "alles gut", "schon gut", "lass mal", "lass ma",
        "passt scho", "passt", "lass stecken",
    }
)  # fmt: skip
"""Said after a no, a no all the same ("Nah I'm good", "Ne lass mal"), not alone."""
# Compared as `bare_words`, "ä", "ö", "ü" as "ae", "oe", "ue"; each part at most once
# (no repeat within a repeat), so a text of any length is read in one pass.
_NICHT = r"(?:(?:wirklich|echt|gar|ueberhaupt) )?nicht?"
REFUSAL_AFTER_A_NO = re.compile(
    r"(?:das |es )?(?:will|moechte|brauch|brauche) ich (?:das |es )?" + _NICHT
    + r"|ich (?:will|moechte|brauch|brauche) (?:das |es )?" + _NICHT
    + r"|(?:(?:ich )?(?:hab|habe) )?(?:kein|keinen) (?:interesse|bedarf)"
    + r"|(?:lieber|eher) nicht?|(?:ich bin |bin )?nicht interessiert"
    + r"|(?:i'd |id |i would )?(?:prefer|rather) not(?: to)?"
    + r"|i (?:really )?(?:don't|dont|do not) (?:really )?(?:want|need)(?: to| that| it)?"
    + r"|(?:i'm |im |i am )?not interested"
)  # fmt: skip
"""A short refusal after a no, a no all the same ("Nein, das will ich nicht", "Nee, brauch
ich nicht", "No, I don't want to": found by a review of customers' phrasing, pointed to
the buttons); a closed list, so that a no about a thing is not one ("Nein, die App stürzt
ständig ab", "No, I don't want to pay that much"). Not alone: "brauch ich nicht" after
the comment may be more of it."""
FAREWELLS = typed_forms(
    {
        "schönen tag", "schönen tag noch", "einen schönen tag", "einen schönen tag noch",
        "schönen abend", "schönen abend noch", "schönes wochenende", "tschüss", "tschüs",
        "tschau", "ciao", "auf wiedersehen", "bye", "bye bye", "goodbye", "good bye",
        "have a nice day", "have a good day", "have a great day", "nice day",
        # (found by a customer walk-through: told "not stored" after the thanks)
        "have a nice evening", "have a good evening", "have a good one", "see you", "see ya",
        "bis bald", "bis dann", "bis zum nächsten mal", "schönen feierabend",
    }
)  # fmt: skip
"""Said at the end of a no, a no all the same ("Nein danke, schönen Tag", "nope, bye":
found by a review of 257 real-life messages, pointed to the buttons or joined to the
comment staff read); not alone, which says no more than goodbye."""
POLITE = typed_forms(frozenset("danke dankeschön thanks thx ty bitte please pls plz schön".split()))
"""Words of politeness around a no ("no thx", "ne danke", "No contact please")."""
_LEADING_NO = re.compile(r"^(?:nein+|no+|nö+|nä+|nae|ne+|nope|nah+)\b ?")
NO_WORDS = typed_forms(frozenset("nein nö nä ne nee no nope nah stop stopp".split()))
"""The words a no begins with (see `ABOUT_THE_QUESTION`)."""
ABOUT_THE_QUESTION = ANSWER_WORDS | typed_forms(
    frozenset(
        "i i'd i'm ich me mich mir you sie want möchte will wollen that this das es it it's now "
        "jetzt later später maybe vielleicht then dann contact kontakt kontaktieren kontaktiert "
        "werden be contacted do thank danke really wirklich eher gern need nötig necessary anyway "
        "trotzdem lassen leave alone in ruhe to call calls calling anrufen anruf rufen an "
        "rückruf rückmeldung melden brauche brauchen interested interessiert ist is schon "
        "okay ok us uns prefer would möchten würde lust interesse interest bedarf sorry "
        "leider".split()
    )
)
"""Words a no may go on with and still answer a consent question, not go on with the
comment before it: "No, I don't want that", "Nein, ich will das wirklich nicht" (found by
review), but not "No, the food was cold" (found by the review of that change)."""
ALONE_NO_ANSWER = typed_forms(
    frozenset("stop stopp skip überspringen hm hmm hmmm hmmmm ähm äh ähh öhm uh um umm erm".split())
)
"""Typed alone at a question, no more of the comment ("Stop the loud music" is)."""
NO_COMMENT = typed_forms(
    {
        "nichts", "nix", "kein kommentar", "keine kommentare", "keine anmerkung",
        "keine anmerkungen",
        "nichts weiter", "nichts mehr", "no comment", "no comments", "nothing", "none",
        "nothing else", "n a", "überspringen", "skip",
        # everyday ways to say it (found by an English customer's review: stored)
        "nothing to add", "nothing more to add", "nothing else to add", "nothing further",
        "nothing to say", "nothing more to say", "nothing else to say", "nothing really",
        "nothing thanks", "nothing else thanks", "nothing thank you", "nothing else thank you",
        "pass", "i pass", "i'll pass", "next", "skip this", "skip it", "skip this question",
        "please skip", "skip please", "no comment thanks", "no comments thanks",
        "nichts hinzuzufügen", "nichts weiter hinzuzufügen", "nichts mehr hinzuzufügen",
        "nichts zu sagen", "nichts weiter zu sagen", "nichts mehr zu sagen", "nichts danke",
        "nichts weiter danke", "keine weiteren anmerkungen", "kein weiterer kommentar",
        "keine weiteren kommentare", "bitte überspringen", "überspringen bitte", "weiter",
        # as forms say it (found by a customer walk-through: "keine Angabe", "k.A." stored)
        "keine angabe", "keine angaben", "k a", "ohne angabe", "ohne kommentar",
        "no answer", "not applicable", "nothing to report", "nichts zu berichten",
        # not knowing what to say (found by a customer walk-through: the comment)
        "weiß nicht", "ich weiß nicht", "ich weiß es nicht", "keine ahnung",
        "ich weiß nicht was ich schreiben soll", "weiß nicht was ich schreiben soll",
        "mir fällt nichts ein", "i don't know", "don't know", "dunno", "no idea",
        "i don't know what to write", "i don't know what to say",
        # not wanting to write (found by a customer walk-through: "Ich möchte lieber nichts
        # schreiben" was the comment; "lieber", "da" and such are let go, see _FILLERS)
        "ich möchte nichts schreiben", "ich will nichts schreiben", "möchte nichts schreiben",
        "ich möchte keinen kommentar abgeben", "ich möchte keinen kommentar schreiben",
        "ich schreibe nichts", "i don't want to write anything", "i'd rather not write anything",
        "i'd rather not say", "i'd rather not comment", "i don't want to comment",
    }
)  # fmt: skip
"""Typed at a question one may skip: no comment (found by a German customer's review:
"kein Kommentar", "nichts", "-" were stored as the comment). A sign alone too (see
`_no_comment`). Not a no ("Nein", "no thanks", "nope"): sent again as its reply did not
show, taken as a skip it would answer the next question, unread (see `_declined`)."""
_FILLERS = typed_forms(
    frozenset("da denn hier jetzt eigentlich genau halt nun lieber eher really actually".split())
)
"""Words that change nothing in a message that only says there is no comment or asks what
to write ("Ich weiß nicht, was ich da schreiben soll", "Was soll ich denn hier schreiben?":
found by a customer walk-through, the comment)."""


_SORRY = r"(?:oh|ups|oops|sorry|entschuldigung|verzeihung|tut mir leid|my bad|pardon)"
_TOO_LONG = (
    r"(?:(?:das|that|it|mein text|my text|der text|the text) )?(?:(?:war|was|is|ist) )?"
    # ("das war wohl zu lang", found by a customer walk-through: the comment, the text lost)
    r"(?:(?:wohl|doch|echt|ja|leider|halt|wirklich|really|probably|viel|much|way|etwas"
    r"|ein bisschen|bisschen|a bit|a little|so|very|sehr) ){0,2}(?:(?:zu|too) )?"
    r"(?:lang|lange|viel|much|long)"
    r"|(?:for|fuer) (?:the|den|meinen|my) (?:long |langen )?(?:text|message|nachricht)"
)
_APOLOGY = re.compile(
    rf"(?:{_SORRY} )*(?:{_SORRY}(?: (?:{_TOO_LONG}))?|(?:{_TOO_LONG}))"
    rf"(?: {_SORRY})*"  # and after it: "Oh, zu lang. Sorry!"
)
"""An apology after a text refused as too long ("Entschuldigung, das war zu lang", "sorry
for the long text", "Tut mir leid"): no comment (see `Engine._too_long`; found by a customer
walk-through, and its review: each stored as the comment, the long text lost)."""


def apologises(text: str) -> bool:
    words = " ".join(bare_words(text).translate(AS_ASCII).split())
    return bool(words) and len(words.split()) <= 9 and _APOLOGY.fullmatch(words) is not None


_PAUSE = re.compile(
    r"(?:(?:einen |ein )?(?:moment|augenblick|sekunde|minute)(?: mal)?(?: bitte)?"
    r"|(?:warte|warten sie|wartet)(?: (?:kurz|mal|bitte|einen moment))*"
    r"|(?:one|a|just a|one more) (?:moment|sec|second|minute)(?: please)?|hold on(?: please)?"
    r"|wait(?: a (?:moment|sec|second|minute))?(?: please)?|brb|be right back"
    r"|(?:ich )?bin gleich (?:zurueck|wieder da)|gleich zurueck)"
    # with what keeps them, said after it: "Moment, ich muss meine Brille holen", not "Moment,
    # ich muss sagen, das Personal war toll" (found by review: not stored)
    r"(?: (?:(?:ich )?muss (?:\w+ ){0,4}(?:holen|suchen|nachsehen|nachschauen|nachgucken"
    r"|schauen|gucken|finden|telefonieren|aufmachen|weg|los|raus)"
    # one's own things ("ich hole meine Brille", not "ich hole den Chef", "ich suche noch den
    # Kellner": found by review, a complaint not stored)
    r"|(?:ich )?hole (?:kurz |schnell )?(?:meine|meinen|mein)(?: \w+){1,2}"
    r"|i (?:need|have|must) to (?:get|grab|find|fetch) my(?: \w+){1,2}"
    r"|i (?:need|have|must) to (?:go|answer the door)"
    r"|let me (?:get|grab|find|fetch) my(?: \w+){1,2}"
    r"|i'll get my(?: \w+){1,2}))?"
)


def pauses(text: str) -> bool:
    """Whether `text` asks the bot to wait ("Moment bitte", "Einen Moment, ich muss meine
    Brille holen", "hold on", "brb"): no answer (not "Moment mal, das Essen war kalt")."""
    words = bare_words(text).translate(AS_ASCII)
    return bool(words) and _PAUSE.fullmatch(words) is not None


def _without_fillers(words: str) -> str:
    return " ".join(word for word in words.split() if word not in _FILLERS)


_DECLINED_COMMENT = (
    r"(?:(?:actually|eigentlich|please|bitte|sorry|und|and|danke|thanks) )*"
    r"(?:(?:ich )?(?:moechte|will) (?:nur|bloss) (?:bewerten|(?:eine |die )?bewertung abgeben"
    r"|sterne geben)"
    r"|nur (?:die |meine )?bewertung(?: (?:speichern|behalten|abgeben|geben))?"
    r"|(?:den |meinen |diesen )?kommentar (?:bitte )?(?:nicht speichern|nicht behalten"
    r"|loeschen|weglassen|streichen)"
    r"|(?:i )?(?:only|just) want to (?:give|leave) (?:the|a|my) rating"
    r"|(?:only|just) (?:store|keep|save) (?:my|the) rating|(?:only|just) (?:my|the) rating"
    r"|not (?:my|the) comment"
    r"|(?:don't|dont|do not) (?:store|keep|save) (?:my|the|that|this) comment)"
    r"(?: (?:(?:actually|please|bitte|und|and|danke|thanks) )*"
    r"(?:nur (?:die |meine )?bewertung(?: (?:speichern|behalten|abgeben|geben))?"
    r"|(?:den |meinen )?kommentar (?:bitte )?(?:nicht speichern|loeschen|weglassen)"
    r"|(?:only|just) (?:store|keep|save) (?:my|the) rating|(?:only|just) (?:my|the) rating"
    r"|not (?:my|the) comment|(?:don't|dont|do not) (?:store|keep|save) (?:my|the|that|this)"
    r" comment|please|bitte|danke|thanks))*"
)
"""Asking that only the rating be kept, no comment ("Den Kommentar bitte löschen, nur die
Bewertung speichern", "I only want to give the rating, please don't store my comment",
"Please only store my rating, not my comment": found by a customer walk-through, each the
comment, or added to it). At the comment's question it skips it; after the comment it
takes the comment back (see TAKE_BACK)."""


def declines_comment(text: str) -> bool:
    """Whether `text` asks that no comment be kept (see _DECLINED_COMMENT)."""
    words = bare_words(text).translate(AS_ASCII)
    return bool(words) and re.fullmatch(_DECLINED_COMMENT, words) is not None


CLOSING = typed_forms(
    {
        "nein", "nein danke", "nee", "nee danke", "nö", "nö danke", "ne danke", "keine",
        "keiner", "fertig", "ende", "das war's", "das wars", "das war es", "das ist alles",
        "das wäre alles", "das wars schon", "mehr nicht", "sonst nichts", "no", "no thanks",
        "no thank you", "nope", "nah", "done", "finished", "i'm done", "im done", "all done",
        "that's all", "thats all", "that is all", "that's it", "thats it", "nothing more",
    }
)  # fmt: skip
"""Typed at a question one may skip, a no or an end ("Nein", "Fertig", "that's all"):
no comment, but for a no or a "Fertig" sent again to the question before (see NO_COMMENT),
which comes within a double tap."""
ABOUT_ONES_DATA = typed_forms(
    {
        "löschen", "bitte löschen", "daten löschen", "meine daten löschen",
        "bitte meine daten löschen", "löschen sie meine daten", "bitte löschen sie meine daten",
        "ich möchte meine daten löschen", "alles löschen", "abbrechen", "stopp", "stop",
        "delete", "delete my data", "please delete my data", "cancel", "please cancel",
        "widerrufen", "widerruf", "withdraw",
    }
)  # fmt: skip
"""Typed at a text question: a request about one's answers or data, not an answer (found
by a German customer's review: "Bitte löschen Sie meine Daten" was stored as the comment
and kept for the retention). More of them in other words: see `typed_request`."""
AGREES = typed_forms(
    {
        "ja", "yes", "einverstanden", "ja einverstanden", "ja gerne", "ja bitte",
        "ich willige ein", "ja ich willige ein", "ich stimme zu", "ja ich stimme zu",
        "zustimmen", "agree", "i agree", "yes i agree", "agreed", "yes please",
        # in a sentence (found by a customer walk-through: "Ja gut, ich bin einverstanden"
        # was told that feedback needs consent first, three times)
        "ich bin einverstanden", "ja ich bin einverstanden", "bin einverstanden",
        "ich bin damit einverstanden", "ja ich bin damit einverstanden", "ja gut",
        "ich stimme dem zu", "ich akzeptiere", "akzeptiert", "i consent", "yes i consent",
        "i accept", "yes i accept", "i'm fine with that", "ok ich bin einverstanden",
        # (found by the next: "ja mach ich", "Ja, da mache ich gerne mit.", "yeah ok", "sure
        # why not" were told that feedback needs consent first)
        "mach ich", "mache ich", "ich mache mit", "ich mach mit", "ich mache gerne mit",
        "da mache ich mit", "da mache ich gerne mit", "da mach ich mit", "gerne mache ich mit",
        "yeah ok", "yeah okay", "yes ok", "sure why not", "why not", "ok sure", "okay sure",
    }
)  # fmt: skip
"""A typed yes to a consent request (which is given with its button): words that agree
and nothing else, not an acknowledgement ("Ok, schade" after declining: review)."""
YESES = AGREES | typed_forms(
    {
        "ok", "okay", "sure", "yes sure", "sure thing", "of course", "yes of course", "yeah",
        "yep", "yup", "y", "yes you can", "yes you may", "yes you can contact me",
        "you can contact me", "yes please contact me", "please contact me", "contact me",
        "yes contact me", "sure call me", "yes call me", "ja gerne", "ja gern", "gerne", "gern",
        "klar", "ja klar", "natürlich", "ja natürlich", "ja bitte", "j", "jo",
        "kontaktieren sie mich", "ja kontaktieren sie mich", "bitte kontaktieren sie mich",
        "sie können mich kontaktieren", "ja sie können mich kontaktieren",
        "sie dürfen mich kontaktieren", "ja sie dürfen mich kontaktieren",
        # found by a review of 257 real-life messages: joined to the comment staff read
        "joa", "jawohl", "ja jawohl", "jep", "jup", "klar doch", "ja klar doch", "na klar",
        "aber klar",
    }
)  # fmt: skip
"""A yes typed at a consent question within a survey (given with its button alone):
pointed to the button, not "please answer with one of the buttons" (found by an English
customer's review: "Yes please", "sure", "ok" were refused without a reason)."""
UNDO = "u-"  # with a step id of 40 characters, 60 of the 64 bytes Telegram allows
"""The value of the Undo button under a message added to a text answer, before the
message's mark (see `_mark`)."""
KEEP_START = "k-"
"""The value of the button under a text refused as too long that keeps its start, before
that start's mark (see `_mark`): an older refusal's button keeps nothing newer."""
# A second tap on an answered question's buttons comes within a second or two, before
# the removal of its buttons reaches the person's phone.
DOUBLE_TAP_WINDOW = timedelta(seconds=3)
# Telegram dates a message to the second: one sent just after a button was pressed may be
# dated before the press was handled.
DATE_ROUNDING = timedelta(seconds=1)


@dataclass(frozen=True)
class OtherInput:
    """A sticker, photo, voice message, location, a forwarded message... anything that is
    not text the person wrote."""

    kind: str


Input = Press | TextInput | OtherInput


@dataclass(frozen=True)
class Completion:
    flow_id: str
    answers: dict[str, Answer]
    consents: list[PendingConsent]
    expires_at: datetime
    scales: dict[str, list[int]] = field(default_factory=dict)
    """The scale each rating was given on (see ConversationState.scales)."""


@dataclass(frozen=True)
class Turn:
    """The engine's answer: the new state (None when the conversation is over)."""

    state: ConversationState | None
    outcome: Outcome
    completion: Completion | None = None
    changed: bool = False
    taken_out: bool = False
    """Something given was taken out (Undo): the rest is to be saved under a new key, so
    that copies of the data made before no longer open it (see Store.save_draft)."""


def new_token() -> str:
    return secrets.token_hex(TOKEN_LENGTH // 2)


def button_data(token: str, step_id: str, value: str) -> str:
    return f"a:{token}:{step_id}:{value}"


def _takes(step: Step, given: Answer) -> bool:
    """Whether `step`, as it is now, can take `given` as given (a skip always): not an
    option it no longer has, nor an answer of another kind (a choice made a rating since,
    found by review: "delivery" was stored as a rating)."""
    if given is None:
        return True
    if isinstance(step, ChoiceStep | MultipleChoiceStep):
        chosen = given if isinstance(given, list) else [given]
        return all(value in {o.id for o in step.options} for value in chosen)
    if isinstance(step, RatingStep):
        return isinstance(given, int) and not isinstance(given, bool)
    if isinstance(step, TextStep):
        return isinstance(given, str)
    return True


def shape_of(step: Step) -> str:
    """A short fingerprint of what `step` takes as an answer (its kind, scale, options,
    purpose), not of its wording: a change of it between two runs asks the question
    again (found by review: a 5 pressed on a 1-5 keyboard counted as 5 of 10)."""
    parts: list[object] = [step.type, getattr(step, "purpose", None)]
    if isinstance(step, RatingStep):
        parts += [step.min, step.max]
    if isinstance(step, ChoiceStep | MultipleChoiceStep):
        parts += [o.id for o in step.options]
    if isinstance(step, MultipleChoiceStep):
        parts += [step.min_selected, step.max_selected]
    return sha256_hex(repr(parts))[:8]


@dataclass(frozen=True)
class Engine:
    flow: FlowDefinition
    t: Translator
    now: datetime
    retention: timedelta
    timezone: str = "Europe/Berlin"  # of the dates the person is told
    start: str = "/start"
    """The command that begins this survey again: `/start product` where it is not the
    one plain /start runs (found by a customer walk-through: told to send /cancel and then
    /start to change an answer in the product survey, they were asked to consent to the
    general one)."""
    idle: timedelta = timedelta(minutes=30)
    """How long unfinished answers are kept after the last message (the service's
    draft_idle)."""
    recipients: tuple[Recipient, ...] = ()
    """Whom the notices name (`Processing.recipients`): a consent question names those of
    its purpose, and with alerts on the one to be contacted says staff then see it."""
    sent: datetime | None = None
    """When the person sent the text being handled, by Telegram's date (to the second).
    The windows that tell a double tap, a message sent again or more of a comment from an
    answer are measured between messages as sent, not as handled (found by a review of
    races: a reply held back by flood control made the second part of a comment, sent
    2 s after the first, miss the 20 s; after a restart, a "no" typed 5 minutes after
    the comment was taken for a double tap)."""

    @property
    def _moment(self) -> datetime:
        """When the input being handled was made: a text as Telegram dates it, a press
        (which Telegram does not date) now."""
        return self.sent if self.sent is not None and self.sent <= self.now else self.now

    def _within(self, state: ConversationState, window: timedelta) -> bool:
        """Whether the input being handled came within `window` of the answer before. Not
        when the clock was set back since (found by a review of races: the windows stayed
        open until it caught up, and text minutes later was joined to the comment)."""
        if state.answered_at is None:
            return False
        elapsed = self._moment - state.answered_at
        return -DATE_ROUNDING <= elapsed <= window

    def _consent_text(self, step: ConsentStep, t: Translator) -> str:
        return optional_consent_text(self.flow, step, t, self.retention, self.recipients)

    def begin(self, token: str | None = None) -> Turn:
        first = self.flow.steps[0]
        state = ConversationState(
            flow_id=self.flow.id,
            step_id=first.id,
            token=token or new_token(),
            started_at=self.now,
            locale=self.t.locale,
            shape=shape_of(first),
        )
        return Turn(state, Outcome(replies=(self.ask(state, first),)), changed=True)

    def current_step(self, state: ConversationState) -> Step:
        step = self.flow.step(state.step_id)
        # A definition changed under a running conversation: start its flow over.
        return step if step is not None else self.flow.steps[0]

    def asks_for_help(self, state: ConversationState, event: TextInput) -> bool:
        """Whether `event`, typed in the survey, asks for help as /hilfe does ("Hilfe",
        "help me please": see `typed_help`), not an option of the open question so named,
        nor more of a text answer just given ("Ich brauche Hilfe" seconds after the comment:
        see `_more_of_text`). Found by a customer walk-through: at a rating told to tap a
        number, at a comment not stored, and neither named how to stop or what else to do."""
        text = event.text
        sent = replace(self, sent=event.sent_at) if event.sent_at is not None else self
        if not typed_help(text) or (sent._just_gave_text(state) and len(text.split()) > 1):
            return False
        step = self.current_step(state)
        if isinstance(step, ChoiceStep | MultipleChoiceStep):
            return all(_bare(render_text(o.label, self.t)) != _bare(text) for o in step.options)
        # Not at a consent question: "Ich brauche Hilfe" under "May our support contact you
        # to help you?" asks for the help offered (found by review: the command list)
        return not isinstance(step, ConsentStep)

    def realign(self, state: ConversationState) -> Turn | None:
        """The flow was edited under the answers under way (between two runs of the bot):
        the question they are at is gone, or takes other answers now. Then it is asked
        as it is now, saying so (found by review: the first question came back without a
        word, and a press on a replaced option got a pop-up only); else None."""
        step = self.flow.step(state.step_id)
        if step is None:
            # Afresh, keeping nothing of the first go (found by review: a complaint written
            # on another branch was stored all the same).
            step = self.flow.steps[0]
            note = self.t.gettext(
                "This survey has been changed since you began, so it starts again from its "
                "first question."
            )
            moved = ConversationState(
                flow_id=state.flow_id,
                step_id=step.id,
                token=state.token,
                started_at=state.started_at,
                locale=state.locale,
                shape=shape_of(step),
                notice_version=state.notice_version,
            )
        elif (stale := self._stale_answer(state)) is not None:
            # An answer given earlier names an option the question no longer has (found by
            # a flow author's walk-through: "salat", renamed, was stored and shown as its id):
            # back at that question, keeping only what was answered on the way to it, as the
            # way on may depend on it (review: by the file's order, an answer of a branch
            # then not taken was kept).
            step, before = stale
            note = self.t.gettext(
                "A question you answered earlier has been changed since; please answer it "
                "again. The questions after it follow once more."
            )
            asked = {s.purpose for s in self.flow.steps if isinstance(s, ConsentStep)}
            asked_before = {
                s.purpose for s in self.flow.steps if isinstance(s, ConsentStep) and s.id in before
            }
            moved = state.model_copy(
                update={
                    "step_id": step.id,
                    "shape": shape_of(step),
                    "answers": {k: v for k, v in state.answers.items() if k in before},
                    "scales": {k: v for k, v in state.scales.items() if k in before},
                    "consents": [
                        c
                        for c in state.consents
                        if c.purpose in asked_before or c.purpose not in asked
                    ],
                    "selected": [],
                    "added": None,
                    "additions": [],
                    "answered": None,
                    "answered_at": None,
                }
            )
        elif state.shape is not None and state.shape != shape_of(step):
            note = self.t.gettext(
                "This question has been changed since it was asked; please answer it again."
            )
            moved = state.model_copy(
                update={"shape": shape_of(step), "selected": [], "added": None, "additions": []}
            )
        else:
            return None
        question = self.ask(moved, step)
        return Turn(
            moved, Outcome(replies=(Reply(note), question), close_keyboard=True), changed=True
        )

    def _stale_answer(self, state: ConversationState) -> tuple[Step, set[str]] | None:
        """The first question on the way the answers took whose answer it cannot take now
        (an option it no longer has; a choice made a rating since), with the ids of the
        steps before it on that way; None where there is none before the open question."""
        granted = {c.purpose for c in state.consents if c.granted}
        step: Step | None = self.flow.steps[0]
        before: set[str] = set()
        for _ in self.flow.steps:
            if step is None or step.id == state.step_id or isinstance(step, ThanksStep):
                return None
            if step.id in state.answers and not _takes(step, state.answers[step.id]):
                return step, before
            before.add(step.id)
            # As `_next`, but through the consent steps answered on the way (`_next` passes
            # over one whose purpose is answered: here, by that very step)
            step = self.flow.following(step, state.answers)
            while step is not None and self._skipped(step, state.answers, granted):
                step = self.flow.following(step, state.answers)
        return None

    def without_outdated_consents(self, state: ConversationState) -> ConversationState | None:
        """The answers under way without the optional consents given to a wording that
        has changed since (an operator's edit between two runs; alerts turned on, say),
        nor the answers collected for them, back at the first such consent question to
        ask it as it reads now; None where every consent given stands."""
        outdated = [
            step
            for step in self.flow.steps
            if isinstance(step, ConsentStep)
            and any(
                c.purpose == step.purpose
                and c.granted
                and c.text_sha256 != sha256_hex(self._consent_text(step, self.t))
                for c in state.consents
            )
        ]
        if not outdated:
            return None
        purposes = {step.purpose for step in outdated}
        collected = {s for purpose in purposes for s in self.flow.collected_for(purpose)}
        return state.model_copy(
            update={
                "step_id": outdated[0].id,
                "shape": shape_of(outdated[0]),
                "consents": [c for c in state.consents if c.purpose not in purposes],
                "answers": {k: v for k, v in state.answers.items() if k not in collected},
                "selected": [],
                "added": None,
                "additions": [],
            }
        )

    def reask(self, state: ConversationState, note: str | None = None) -> Turn:
        """`note` and the open question again: below another survey's request now, so no
        longer `interrupted` (see `_taken_over_another`)."""
        question = self.ask(state, self.current_step(state))
        if state.interrupted:
            state = state.model_copy(update={"interrupted": False})
        return Turn(state, Outcome(replies=headed((note,) if note else (), (question,))))

    def _at_question(self, state: ConversationState, note: str, pointed: bool = False) -> Turn:
        """`note` in answer to a message sent at the open question, and the question again;
        not a consent question, whose buttons stay on it just above: pointed to them instead
        (found by an older customer's review: its 900 characters, some 29 lines on a phone,
        sent again after every message typed at it). Its proof is unchanged: a consent is
        given with a button under the text it hashes. `pointed`: `note` says so itself."""
        if not isinstance(self.current_step(state), ConsentStep):
            return self.reask(state, note)
        if not pointed:
            note = f"{note} {self._buttons_above()}"
        above = self.ask(state, self.current_step(state))
        if state.interrupted:
            # The message above is another survey's request, with buttons of other words
            # (found by a customer walk-through: "tap “Yes, agree” or “No” under the
            # question above", under "Yes, I agree" and "No, thanks"): the question is
            # asked again first, and the pointer is to it.
            back = state.model_copy(update={"interrupted": False})
            return Turn(back, Outcome(replies=(above, Reply(note))))
        return Turn(state, Outcome(replies=(Reply(note),), question_above=above))

    def _taken_over_another(self, state: ConversationState, turn: Turn) -> Turn:
        """`turn`, which answered a question typed at after another survey's request was
        shown below it (`state.interrupted`), saying which survey took the answer (found by
        a customer walk-through: "/start product", then a complaint typed under its request
        went silently to the other survey's open comment, and its next question followed
        with nothing to say whose). A yes or a no is not taken then (see `_yes_or_no`)."""
        if not state.interrupted or isinstance(self.current_step(state), ConsentStep):
            return turn
        after = turn.state
        went_on = after is not None and not after.interrupted and after.step_id != state.step_id
        survey = render_text(self.flow.title, self.t)
        if turn.completion is not None:
            note = self.t.gettext(
                "This went to the survey you had begun, “{survey}”, which is now complete."
            ).format(survey=survey)
        elif went_on:
            note = self.t.gettext(
                "This went to the survey you had begun, “{survey}”, which goes on below. To "
                "take the other survey instead, use its button above: that discards these "
                "answers."
            ).format(survey=survey)
        else:
            return turn  # nothing taken: asked again, or pointed to (see `reask`)
        outcome = replace(turn.outcome, replies=headed((note,), turn.outcome.replies))
        return replace(turn, outcome=outcome)

    @staticmethod
    def _yes_or_no(text: str) -> bool:
        """Whether `text` is a yes or a no alone, which a request with buttons above may be
        what it answers ("fertig", "done" answer none: review of the change)."""
        return bare_words(text) in YESES or typed_no(text)

    def _not_for_the_request_below(self) -> str:
        """Said of a no typed under another survey's request, which it may answer."""
        return self.t.gettext(
            "I did not take this as an answer: if it was meant for the other survey's "
            "request above, please use its buttons. The survey you had begun, “{survey}”, "
            "is still open; here is its question again."
        ).format(survey=render_text(self.flow.title, self.t))

    def _buttons_above(self) -> str:
        """Where to answer a consent question, its buttons named: "one of the buttons" said
        which to a screen reader user nothing, who hears each button as its label (found by
        an accessibility review)."""
        t = self.t
        return t.gettext("Please tap “{yes}” or “{no}” under the question above.").format(
            yes=t.gettext("Yes, agree"), no=t.gettext("No")
        )

    def handle(self, state: ConversationState, event: Input) -> Turn:
        step = self.current_step(state)
        if isinstance(event, Press):
            return self._press(state, step, event.data)
        if isinstance(event, TextInput):
            sent = replace(self, sent=event.sent_at) if event.sent_at is not None else self
            return sent._taken_over_another(state, sent._text(state, step, event))
        if event.kind == FORWARDED:
            note = self.t.gettext(
                "Please write your answer yourself: a forwarded message is not taken as an "
                "answer (it may hold someone else's words and name)."
            )
            return self._at_question(state, note)
        if event.kind == VIA_BOT:
            note = self.t.gettext(
                "Please write your answer yourself: a message sent through another bot is not "
                "taken as an answer (it holds that bot's words, perhaps about someone else)."
            )
            return self._at_question(state, note)
        if event.kind == CAPTIONED:
            note = self.t.gettext(
                "I can only read text and buttons here: neither the picture or file nor the "
                "words written under it were kept. Please send your answer as a text message "
                "on its own."
            )
            return self._at_question(state, note)
        if event.kind in SPOKEN:  # said why (found by an English customer's review)
            note = self.t.gettext(
                "I cannot listen to voice or video messages, so this one was not kept. "
                "Please answer with a text message or the buttons."
            )
            return self._at_question(state, note)
        not_kept = self.t.gettext(
            "I can only read text and buttons here, so I did not keep what you sent."
        )
        return self._at_question(state, not_kept)

    # --- inputs -------------------------------------------------------------------
    def _press(self, state: ConversationState, step: Step, data: str) -> Turn:
        parts = data.split(":")
        if len(parts) != 4 or parts[0] != "a":
            return self._stale(state, self.t.gettext("This button is not valid."))
        _, token, step_id, value = parts
        if token != state.token:
            return self._stale(state, self.t.gettext("This button belongs to an earlier survey."))
        if value.startswith(UNDO) and isinstance(self.flow.step(step_id), TextStep):
            return self._undo(state, step_id, value.removeprefix(UNDO))
        if value.startswith(KEEP_START):
            if (
                step_id != step.id
                or not isinstance(step, TextStep)
                or not state.long_text
                or value.removeprefix(KEEP_START) != _mark(state.long_text)
            ):  # (an older refusal's button: not the newer text, found by review)
                return self._stale(state, self.t.gettext("This button is not valid."))
            kept = cut_at_a_word(state.long_text, step.max_length)
            return self._pointing(self._advance(state, step, kept), kept)
        if step_id != step.id:
            if self._tapped_again(state, step_id, value):
                return self._stale(
                    state, self.t.gettext("Your answer to this question has already been taken.")
                )
            if self._tapped_soon_after(state, step_id):
                # Another button of the question just answered, tapped before its buttons
                # went: a change of mind, the next question on its way (found by review:
                # it was sent twice, with "belongs to an earlier question").
                return self._stale(
                    state,
                    self._restarting(
                        self.t.gettext(
                            "Your first tap was taken. To change your answers, send /cancel and "
                            "then /start."
                        )
                    ),
                )
            # Often the reply to the earlier press got lost: show where the person is now.
            toast = self.t.gettext("This button belongs to an earlier question.")
            if isinstance(step, ConsentStep):
                # Its long text not again where it is known shown, as for text typed at it
                # (see `_at_question`; found by a customer walk-through: an old rating
                # pressed at the contact question sent all of it again)
                return Turn(state, Outcome(toast=toast, question_above=self.ask(state, step)))
            return Turn(state, Outcome(replies=(self.ask(state, step),), toast=toast))
        valid, answer = self._button_answer(step, value)
        if not valid:
            return self._stale(state, self.t.gettext("This button is not valid."))
        if isinstance(step, MultipleChoiceStep):
            return self._toggle(state, step, value)
        if isinstance(step, ConsentStep):
            return self._advance(state, step, None, granted=value == "y")
        return self._advance(state, step, answer)

    def _text(self, state: ConversationState, step: Step, event: TextInput) -> Turn:
        text = event.text
        if asks_how_long(text):
            # Not the comment staff read, nor added to it (found by customer walk-throughs).
            return self._at_question(state, self._how_much_is_left(state, step))
        if pauses(text):
            # "Moment, ich muss meine Brille holen" (found by a customer walk-through: the
            # comment): the question waits, for as long as unfinished answers are kept
            note = self.t.gettext(
                "I did not store this message. Take your time: your answers so far are kept "
                "for {idle} after your last message, and the question below waits for you."
            ).format(idle=self.t.duration(self.idle))
            return self._at_question(state, note)
        if state.interrupted and self._yes_or_no(text):
            # "Nein, danke" or "sure" under another survey's request, which they may answer
            # (found by a customer walk-through: the no skipped this survey's comment, the
            # yes was pointed to this survey's contact question, whose Yes would have given
            # a consent not meant)
            return self.reask(state, self._not_for_the_request_below())
        if self._answers_earlier_question(state, step, event):
            note = self._restarting(
                self.t.gettext(
                    "That answers an earlier question, which you have answered already, so it "
                    "was not stored. To give your answers again, send /cancel and then /start."
                )
            )
            return self._at_question(state, note)
        again = self._rating_typed_again(state, step, event)
        if again is not None and again[0] == again[1]:
            return self._at_question(state, self._taken_already())
        if again is not None:
            # a change of mind seconds after the tap (found by a customer's review: a 4
            # tapped, a "5" typed 3 s later): the rating is the one typed
            return self._rating_changed(state, again[1])
        if isinstance(step, TextStep):
            cleaned = text.strip()
            if self._rest_of_long_text(state, event):
                note = self.t.gettext(
                    "This looks like the rest of your long text, so it was not taken either. "
                    "Please shorten the whole text and send it again."
                )
                refused = state.model_copy(update={"long_text_at": event.sent_at})
                return Turn(refused, Outcome(replies=(Reply(note),)), changed=True)
            if not visible(cleaned):
                return self.reask(
                    state, self.t.gettext("Your message looks empty. Please write your answer.")
                )
            if state.long_text and apologises(cleaned):
                # "sorry that was long" after the refusal: no comment (found by a customer
                # walk-through: stored as it, the long text lost); the way on said again
                return self._too_long(state, step, state.long_text, event.sent_at, again=True)
            if len(cleaned) > step.max_length:
                return self._too_long(state, step, cleaned, event.sent_at)
            previous, _ = self._answer_before(state)
            if isinstance(previous, RatingStep | ChoiceStep | MultipleChoiceStep) and (
                (changed := self._change_of_answer(state, cleaned)) is not None
                or (asks_rectification(cleaned) == RECTIFY and is_correction(cleaned))
            ):
                # "Ich habe mich verklickt", "sorry, meant 5" right after a rating (found by
                # a customer walk-through: stored as the comment under the rating it
                # disowns, and the person believed it corrected): changed, or asked again;
                # a longer one told how (a comment that speaks of a slip is the comment)
                if changed is not None:
                    return changed
                return self.reask(
                    state,
                    self._restarting(
                        self.t.gettext(
                            "I did not store this message as your answer. Your answers so far "
                            "are kept as you gave them and cannot be changed here: to change "
                            "them, send /cancel and then /start. Otherwise, please answer the "
                            "question below."
                        )
                    ),
                )
            if step.skippable and (
                _bare(cleaned) in _skip_words()
                or _no_comment(cleaned)
                # "Nein", "Fertig", "that's all": not the same word sent again to the
                # question before, which comes within a double tap (see NO_COMMENT; found
                # by a customer walk-through: stored as the comment, paced like a person)
                or (bare_words(cleaned) in CLOSING and not self._within(state, DOUBLE_TAP_WINDOW))
            ):
                # The question says "or skip this question": whoever types rather than
                # taps types the word, which is no comment.
                return self._advance(state, step, None)
            if step.skippable and declines_comment(cleaned):
                return self._advance(state, step, None)  # "nur die Bewertung speichern"
            if (kind := typed_request(cleaned)) in _POINTED_TO:
                return self._request(state, cleaned, kind)
            if asks_if_erased(cleaned):
                # Asked of the bot, not told to staff (found by a customer walk-through:
                # "habt ihr wirklich alles gelöscht?" stored as the comment); the question
                # follows again.
                note = self.t.gettext(
                    "I did not store this message. To see what is stored about you, please "
                    "send /mydata."
                )
                return self.reask(state, note)
            if (about_privacy(cleaned) or only_privacy_questions(cleaned)) and kind != SEE:
                # Asked of the bot, not told to staff (found by a customer walk-through: "Is
                # this anonymous?" was stored as the comment); the question follows again.
                # (A request to see one's data is stored, pointed to /mydata: see `_pointer`.)
                return self.reask(state, privacy_pointer(self.t))
            if asks_if_required(cleaned):  # "Muss ich das machen?" (a customer walk-through)
                return self.reask(state, voluntary_note(self.t, skippable=step.skippable))
            if (
                _puzzled(cleaned)
                or bare_words(cleaned) in GREETINGS
                or typed_help(cleaned)
                or typed_start(cleaned)
            ):
                # Not the comment staff read (found by a customer walk-through: a lone "?"
                # was stored as the feedback, and so were "Hallo", the complaint after it
                # refused at the next question, "Hilfe" and "start"): what the question
                # wants, and how to skip it; a greeting greeted back (found by a customer
                # walk-through: "Hallo" alone got "not stored", which read cold)
                said = self._in_own_words(step)
                if bare_words(cleaned) in GREETINGS:
                    said = self.t.gettext("Hello!") + " " + said
                return self.reask(state, said)
            return self._pointing(self._advance(state, step, cleaned), cleaned)
        if isinstance(step, ChoiceStep):
            # An option's label typed instead of pressed ("billing", "Rechnung."), where it
            # can mean that option alone: not labels of emoji or signs only ("👍", "?"),
            # nor two that differ in signs only ("C#", "C++").
            word = _bare(text)
            meant = [
                o.id for o in step.options if word and _bare(render_text(o.label, self.t)) == word
            ]
            if not meant and word:  # "Too slow" in a German chat (see `_option_labels`)
                labels = self._option_labels(step)
                other = labels.get(word) or _label_with_slips(word, labels, in_part=False)
                meant = [other] if other is not None else []
            if len(meant) == 1:
                return self._advance(state, step, meant[0])
        if isinstance(step, MultipleChoiceStep) and (named := self._typed_options(step, text)):
            return self._select_typed(state, step, named)
        if isinstance(step, MultipleChoiceStep) and bare_words(text) in _done_words():
            # The hint says to tap "Done"; whoever types the word means the button (review).
            if len(state.selected) < step.min_selected:
                return self.reask(state, self._too_few(step))
            return self._toggle(state, step, DONE)
        if isinstance(step, RatingStep):
            typed = typed_rating(text, step, self.t)
            if typed is not None:
                return self._advance(state, step, typed)
            if _rating_with_words(text, step, self.t):
                return self._rating_and_words(state)
        if (
            isinstance(step, ConsentStep)
            and not state.interrupted  # "Nein" may answer the other survey's request below
            and self._declined(state, step, event)
        ):
            # Typed as most people answer in a chat (found by review: refused); a no gives
            # no consent, so taking it is safe. A yes is given with the button alone. Said
            # how it was taken (found by a customer walk-through: "passt schon" went on to
            # the thanks, whoever meant "fine, go ahead" not told otherwise).
            turn = self._advance(state, step, None, granted=False)
            purpose = self.flow.purpose(step.purpose)
            note = self.t.gettext("Understood: “{no}” to “{purpose}”.").format(
                no=self.t.gettext("No"),
                purpose=render_text(purpose.label or purpose.description, self.t),
            )
            outcome = replace(turn.outcome, replies=headed((note,), turn.outcome.replies))
            return replace(turn, outcome=outcome)
        if self._text_sent_again(state, event):
            return self._at_question(state, self._taken_already())
        asked = questions_only(text) if isinstance(step, ConsentStep) else []
        if (
            isinstance(step, ConsentStep)
            and self._asks_contact(step)
            and (
                asks_another_way(text)
                or offers_contact_details(text)
                # "Können Sie mich anrufen? Rufen Sie mich bald an?" (found by a customer
                # walk-through: added to the comment, the question unanswered); each of them
                # (a review: "Können Sie mich anrufen? Warum war das Essen kalt?" is more)
                or (bool(asked) and all(asks_another_way(q.rstrip("?")) for q in asked))
            )
        ):
            # Not joined to the comment staff read, with the number or address in it, nor
            # only pointed to the buttons (found by a review of 257 real-life messages:
            # "lieber per Mail", "call me instead"): nobody can call or write from here. So
            # too a yes with an address or a number ("Ja gerne, meine Mail ist …", found by a
            # DPO check: typed right after the comment, it was added to it); not more of
            # the comment with a number in it ("Ihre Hotline 030 … war nie erreichbar").
            note = self.t.gettext(
                "I did not store this message. We can contact you only here in this chat: "
                "our staff cannot call you or send you an e-mail through this bot. If you would "
                "like us to contact you here, please tap “{yes}” under the question above."
            ).format(yes=self.t.gettext("Yes, agree"))
            return self._at_question(state, note, pointed=True)
        if given := self._rating_typed_later(state, step, event):
            # Not joined to the comment staff read (found by a review of 257 real-life
            # messages: "4/5", "doch nur 3 Sterne" typed after it). Where it may be meant for
            # either of two ratings, neither is named (review of the change: "(7)" to whoever
            # meant the other).
            if len(given) > 1:
                note = self._restarting(
                    self.t.gettext(
                        "Your ratings are kept as you gave them and cannot be changed here, so "
                        "this message was not stored. To change your answers, send /cancel and "
                        "then /start."
                    )
                )
            else:
                note = self._restarting(
                    self.t.gettext(
                        "Your rating ({rating}) is kept as you gave it and cannot be changed here, "
                        "so this message was not stored. To change your answers, send /cancel and "
                        "then /start."
                    ).format(rating=self.t.number(given[0]))
                )
            return self._at_question(state, note)
        if (
            state.answers
            and not (
                isinstance(step, ConsentStep)
                and self._asks_contact(step)
                and asks_rectification_of_contact(text)
            )
            and (
                (changed := self._change_of_answer(state, text)) is not None
                or (asks_rectification(text) == RECTIFY and is_correction(text))
            )
        ):
            # "Kann ich meine Bewertung ändern?" at the contact question (found by a review:
            # added to the comment staff read): the way to change answers, as to a rating
            # typed again; the question just answered changed, or asked again.
            if changed is not None:
                return changed
            note = self._restarting(
                self.t.gettext(
                    "Your answers so far are kept as you gave them and cannot be changed here, "
                    "so this message was not stored. To change them, send /cancel and then /start."
                )
            )
            return self._at_question(state, note)
        kind = typed_request(text)
        if kind is None and asks_if_erased(text):
            kind = SEE  # "Ist jetzt alles weg?": what is stored is shown by /mydata
        if kind is None and not isinstance(step, ConsentStep) and demands_erasure(text):
            kind = ERASE  # at a rating or a choice, where the text is no answer anyway
        if kind in _POINTED_TO:
            # Not "please tap a button" to whoever wants to stop (found by an English
            # customer's review: asked again and again to press one); a no typed at a
            # consent question declined it above.
            return self._request(state, text, kind)
        if not isinstance(step, ConsentStep) and kind != SEE and about_privacy(text):
            # At a rating or a choice, or after the comment (found by a customer
            # walk-through: "Ist das anonym?" got "please tap a button" alone).
            return self._at_question(state, privacy_pointer(self.t))
        if kind == SEE and not isinstance(step, ConsentStep) and not self._just_gave_text(state):
            # At a rating or a choice (found by a customer walk-through:
            # "can I get a copy of my data as a file?" was told to tap a button); right
            # after a comment it may be more of it, see `_more_of_text`.
            note = self.t.gettext(
                "I did not store this message. To see what is stored about you, please send "
                "/mydata."
            )
            return self._at_question(state, note)
        if not isinstance(step, ConsentStep) and asks_if_required(text):
            return self._at_question(state, voluntary_note(self.t, skippable=False))
        if sees_no_buttons(text):
            # the question again, its buttons under it (at a consent request too, for it
            # is given with them alone)
            return self.reask(state, buttons_note(self.t))
        if (
            isinstance(step, ConsentStep)
            and kind != SEE
            and (
                about_the_consent(text)
                or about_privacy(text)
                # "Ich verstehe die Frage nicht", "I don't understand" (found by a customer
                # walk-through: told to resend it beginning with "PS:" to add it to the
                # comment, or only to tap a button)
                or _without_fillers(bare_words(text)) in PUZZLED_ALONE
                # ("Was heißt das, kontaktieren? Rufen Sie mich dann an?": a walk-through;
                # every question of them, see above)
                or (
                    bool(asked)
                    and all(
                        about_the_consent(q) or about_privacy(q) or asks_how_contacted(q)
                        for q in asked
                    )
                    and any(about_the_consent(q) or about_privacy(q) for q in asked)
                )
            )
        ):
            # Answered, not joined to the comment staff read nor only pointed to the
            # buttons (found by a review of customers' phrasing: "Wer sieht das?",
            # "why do you need my ID?"). Right after the comment, said not to be joined to
            # it: a follow-up such as "Wann meldet sich jemand?" went unsaid (diff review).
            note = self._consent_explained()
            if self._just_gave_text(state):
                note = self.t.gettext("I did not store this message. {how}").format(how=note)
            return self._at_question(state, note)
        if isinstance(step, ConsentStep) and kind == SEE and not self._just_gave_text(state):
            # Right after the comment it is more of it, pointed to /mydata (see
            # `_more_of_text`); later, the same pointer (found by the same review: "What do
            # you know about me?" was only pointed to the buttons).
            note = self.t.gettext("To see what is stored about you, please send /mydata.")
            return self._at_question(state, note)
        if isinstance(step, ConsentStep) and bare_words(text) in self._yeses(state, step):
            # With the reason (found by an English customer's review: "Yes please" got
            # "Please answer with one of the buttons."), and right after a text answer, that
            # it was not added to it either.
            stored = not self._just_gave_text(state)
            return self._at_question(
                state, self._not_an_answer(step, stored, yes=True), pointed=True
            )
        added = self._more_of_text(state, step, event, kind)
        if added is not None:
            return added
        how = self._not_an_answer(step)
        if isinstance(step, (RatingStep, ChoiceStep, MultipleChoiceStep)) and _no_comment(text):
            # "skip", "weiß nicht" at a question without a Skip button (found by a customer
            # walk-through: "please tap a button" alone, never that it cannot be skipped)
            return self._at_question(
                state,
                self.t.gettext(
                    "I did not store this message. This question cannot be skipped: please "
                    "answer it, or send /cancel to stop the survey."
                ),
                pointed=True,
            )
        if isinstance(step, RatingStep) and (two := typed_two_ratings(text, step)):
            return self._at_question(
                state,
                self.t.gettext(
                    "I did not store this message: please give one number only, {first} or "
                    "{second}. Tap its button, or type it."
                ).format(first=self.t.number(two[0]), second=self.t.number(two[1])),
                pointed=True,
            )
        if isinstance(step, RatingStep) and typed_in_between(text, step):
            return self._at_question(
                state,
                self.t.gettext(
                    "I did not store this message: only whole numbers can be given here. "
                    "Please tap a button, or type a number from {low} to {high}."
                ).format(low=self.t.number(step.min), high=self.t.number(step.max)),
                pointed=True,
            )
        if (
            isinstance(step, (RatingStep, ChoiceStep, MultipleChoiceStep))
            and len(text.split()) >= 3
            and _has_letters(text)
            and not text.lstrip("+-– ")[:1].isdigit()  # a rating meant ("1- sehr gut")
        ):
            # A sentence at a rating (found by a customer walk-through: "The service was
            # awful, …" got "please tap a button" alone, and the person did not know it
            # was lost), or at a choice ("The app crashes when I upload photos", found by
            # the next). Where it can go is said only where every answer here leads to a
            # text question (found by a customer walk-through: "it keeps crashing when I
            # open the settings page" at "What went wrong?", whose next question asks for
            # exactly that); elsewhere it depends on answers still to come (review).
            how = self.t.gettext("I did not store this message. {how}").format(how=how)
            ahead = self._asked_next(state, step)
            if ahead and all(isinstance(s, TextStep) for s in ahead):
                how += " " + self.t.gettext(
                    "The question after this one asks for your own words: please write this there."
                )
        if isinstance(step, ConsentStep):
            # Said not kept (found by a review of customers' phrasing: more of the comment,
            # or a phone number, typed minutes later went with "please tap Yes or No" alone).
            how = self.t.gettext("I did not store this message. {how}").format(how=how)
            if self._could_add(state, text):
                # and how it is kept, if it was more (found by a customer walk-through: a
                # second complaint typed half a minute later was lost without a way)
                how += " " + self.t.gettext(
                    "Should it belong to your previous answer, send it again beginning with “PS:”."
                )
        return self._at_question(state, how, pointed=True)

    def _could_add(self, state: ConversationState, text: str) -> bool:
        """Whether `text`, typed at a consent question right after a text answer, is a
        sentence that may be more of it: four words or more, no question, no contact
        details (which the comment asks to leave out)."""
        previous, given = self._answer_before(state)
        words = bare_words(text).translate(AS_ASCII)
        return (
            isinstance(previous, TextStep)
            and isinstance(given, str)
            and not state.interrupted
            and len(words.split()) >= 4
            and _maybe_more(text, words)
            and not offers_contact_details(text)
        )

    def _how_much_is_left(self, state: ConversationState, step: Step) -> str:
        """The answer to a question how much of the survey is left (see `asks_how_long`):
        how many questions may follow the open one, by what is known of the answers."""
        fewest, most = self._questions_after(state, step)
        t = self.t
        if most == 0:
            left = t.gettext("This is the last question.")
        elif fewest == most:
            left = t.ngettext(
                "After this question, one more follows.",
                "After this question, {n} more follow.",
                most,
            ).format(n=t.number(most))
        elif fewest == 0:
            left = t.ngettext(
                "After this question, at most one more follows, depending on your answers.",
                "After this question, at most {n} more follow, depending on your answers.",
                most,
            ).format(n=t.number(most))
        else:
            left = t.gettext(
                "After this question, {fewest} to {most} more follow, depending on your answers."
            ).format(fewest=t.number(fewest), most=t.number(most))
        return t.gettext("I did not store this message. {how}").format(how=left)

    def _questions_after(self, state: ConversationState, step: Step) -> tuple[int, int]:
        """The fewest and the most questions that can follow `step`: by the branches and
        conditions on answers given, both ways where they depend on answers still to come
        (a question skipped by a condition, or asked only after an optional consent, counts
        in the most only)."""
        spans: dict[tuple[str, frozenset[str]], tuple[int, int]] = {}

        def after(asked: AskingStep, purposes: frozenset[str]) -> tuple[int, int]:
            found = [span(step_id, purposes) for step_id in self._onward(state, asked, step)]
            return min(f[0] for f in found), max(f[1] for f in found)

        def span(step_id: str, purposes: frozenset[str]) -> tuple[int, int]:
            # `purposes`: those a consent step before on this way asks for, so that a
            # second step for one of them, passed over when reached, is not counted
            if (step_id, purposes) not in spans:
                asked = self.flow.step(step_id)
                if asked is None or isinstance(asked, ThanksStep):
                    spans[step_id, purposes] = (0, 0)
                elif isinstance(asked, ConsentStep) and asked.purpose in purposes:
                    spans[step_id, purposes] = after(asked, purposes)
                else:
                    here = self._asked(state, asked)
                    onward = purposes
                    if isinstance(asked, ConsentStep) and here[1]:
                        onward = purposes | {asked.purpose}
                    rest = after(asked, onward)
                    spans[step_id, purposes] = (here[0] + rest[0], here[1] + rest[1])
            return spans[step_id, purposes]

        if isinstance(step, ThanksStep):
            return 0, 0
        # (the request open now asks for its purpose too: found by review, "1 to 3" at it)
        return after(step, frozenset({step.purpose} if isinstance(step, ConsentStep) else ()))

    def _asked_next(self, state: ConversationState, step: AskingStep) -> list[Step]:
        """Every step that may come right after `step` (see `_questions_after`): past the
        questions skipped for sure, both a question that may be skipped and what follows it."""
        found: dict[str, Step] = {}
        todo = self._onward(state, step, step)
        while todo:
            step_id = todo.pop()
            asked = self.flow.step(step_id)
            if asked is None or step_id in found:
                continue
            if isinstance(asked, ThanksStep):
                found[step_id] = asked
                continue
            fewest, most = self._asked(state, asked)
            if most:
                found[step_id] = asked
            if not fewest:
                todo.extend(self._onward(state, asked, step))
        return list(found.values())

    def _asked(self, state: ConversationState, asked: AskingStep) -> tuple[int, int]:
        """Whether `asked` is asked when reached, (1, 1), skipped, (0, 0), or either, (0, 1),
        by the answers and consents given (see `_next`)."""
        if asked.skip_if is not None:
            if asked.skip_if.step not in state.answers:
                return 0, 1
            if asked.skip_if.holds(state.answers):
                return 0, 0
        if isinstance(asked, ConsentStep):
            answered = {c.purpose for c in state.consents}  # (passed over: see `_skipped`)
            return (1, 1) if self._needed(asked) and asked.purpose not in answered else (0, 0)
        granted = {c.purpose for c in state.consents if c.granted}
        if not self._not_granted(asked, granted):
            return 1, 1
        # declined in this survey: never asked (found by review: "1 to 2 more" where 1)
        declined = {c.purpose for c in state.consents if not c.granted}
        return (0, 0) if asked.purpose in declined else (0, 1)

    def _onward(self, state: ConversationState, asked: AskingStep, open_step: Step) -> list[str]:
        """The ids of the steps that may follow `asked`: the one its branches choose where
        they test answers given, every one they may choose where they test `open_step`'s or
        one still to come."""
        if asked.id != open_step.id and all(
            rule.when is None or rule.when.step in state.answers for rule in asked.next
        ):
            following = self.flow.following(asked, state.answers)
            return [following.id] if following is not None else []
        return self.flow.successors(asked)

    def _in_own_words(self, step: TextStep) -> str:
        """The answer to a question mark typed at `step`'s question (see `_puzzled`)."""
        if step.skippable:
            return self.t.gettext(
                "I did not store this message. Please write in your own words whatever you "
                "would like to tell us about this question; if you have nothing to add, tap "
                "“{skip}”."
            ).format(skip=self.t.gettext("Skip"))
        return self.t.gettext(
            "I did not store this message. Please write in your own words whatever you would "
            "like to tell us about this question."
        )

    def _consent_explained(self) -> str:
        """The answer to a question about the consent question asked (see
        `about_the_consent`): where its answers are, and that it is the person's choice."""
        return self.t.gettext(
            "The question above says what you would agree to, what would be stored and for "
            "how long; /privacy tells more, also who sees what. It is up to you: your feedback "
            "is kept either way, and a consent can be withdrawn at any time with /withdraw."
        )

    def _rating_and_words(self, state: ConversationState) -> Turn:
        """A rating typed with its reason in one message ("4 – gut, aber laut"): nothing
        taken, and said so, with how to give them (found by a customer's review: refused
        with "type a number", the words lost unsaid). Not both taken: "1 – sehr gut" is a
        German school grade, and would have been a 1 of 5 with an alert, and a message
        sent twice was added to the comment (review of a version that took both)."""
        note = self.t.gettext(
            "I did not store this message. Please give just the rating (tap a number); you "
            "can write the rest as a comment when the survey asks for one."
        )
        return self.reask(state, note)

    def _request(self, state: ConversationState, text: str, kind: str | None) -> Turn:
        """A request typed within the survey (see `typed_request`): the text answer just
        given taken out, where it asks for that; otherwise the way to stop or erase, and
        to a withdrawal or an objection the way to withdraw (found by a diff review: told
        only to cancel, and lose the answers, or to erase everything). `kind`: what
        `typed_request` made of `text`."""
        if kind == TAKE_BACK and state.long_text:
            # "Bitte löschen Sie das" after a text refused as too long: its start goes too
            # (found by review: kept, and shown by /mydata)
            dropped = state.model_copy(update={"long_text": None})
            note = self.t.gettext("Your long text is no longer kept.")
            return replace(self.reask(dropped, note), changed=True)
        taken = self._taken_back(state, text) if _takes_out(text, kind) else None
        if taken is None and declines_comment(text):
            # "nur die Bewertung bitte" at a question of buttons: as before (review)
            return self._at_question(state, self._not_an_answer(self.current_step(state)))
        if taken is None and kind == WITHDRAW:
            note = self.t.gettext(
                "I did not take this message as your answer. To withdraw a consent, send "
                "/withdraw; to discard your unfinished answers, /cancel; to erase all your "
                "data, /delete."
            )
            return self._at_question(state, note)
        return taken or self._at_question(state, self._pointed_to_commands())

    def _taken_back(self, state: ConversationState, text: str) -> Turn | None:
        """The text answer given last taken out of the answers, at the request typed
        right after it ("Delete that", "Lösch das wieder", "wrong chat"), and its question
        asked again (found by review: the comment stayed, and the person was pointed to
        /cancel, which discards every answer, and /delete, which erases everything). None
        where the answer before was no text. After a message added to it, that message
        alone, as its Undo button takes it (found by a diff review: the whole comment went
        for "Lösch das" about the message just added); not where `text` names the comment
        or the messages ("Delete my comment": found by a second diff review, the first
        message was stored and shown to staff)."""
        previous, given = self._answer_before(state)
        if not isinstance(previous, TextStep) or not isinstance(given, str):
            return None
        additions = _additions(state)
        if additions and not _NAMES_ALL_OF_IT.search(bare_words(text).translate(AS_ASCII)):
            undone = self._undo(state, previous.id, _mark(additions[-1]))
            if undone.taken_out and undone.state is not None:
                note = self.t.gettext("Taken out of your previous answer again.")
                return replace(undone, outcome=self._at_question(undone.state, note).outcome)
        back = state.model_copy(
            update={
                "step_id": previous.id,
                "shape": shape_of(previous),
                "answers": {k: v for k, v in state.answers.items() if k != previous.id},
                "selected": [],
                "long_text_at": None,
                "long_text": None,
                "answered": None,
                "answered_at": None,
                "added": None,
                "additions": [],
            }
        )
        note = self.t.gettext(
            "I have taken your previous answer out: it will not be stored. Here is its "
            "question once more."
        )
        replies = self.reask(back, note).outcome.replies
        # The buttons of the question that was open go: it comes again after this one.
        outcome = Outcome(replies=replies, close_keyboard=True)
        return Turn(back, outcome, changed=True, taken_out=True)

    def _pointing(self, turn: Turn, text: str) -> Turn:
        """`turn`, which stored the text answer `text`, with the command that does what its
        last sentence asks, if it asks to erase, to withdraw or to see one's data (found by a
        hostile customer's review: "Das Essen war kalt. Bitte löschen Sie meine Daten." was
        stored, as it should be, but the person was left believing staff would erase it)."""
        note = self._pointer(turn.state, text)
        if note is None:
            return turn
        # On the question asked next: after "Added to your previous answer.", which it is
        # about, not before it.
        replies = turn.outcome.replies
        replies = (*replies[:-1], *headed((note,), replies[-1:]))
        return replace(turn, outcome=replace(turn.outcome, replies=replies))

    def _pointer(
        self, state: ConversationState | None, text: str, above: bool = False
    ) -> str | None:
        """What `_pointing` says of the stored text answer `text`, if anything; `above`:
        with the open question above, not asked again (see `_at_question`)."""
        kind = request_at_the_end(text)
        if kind == ERASE:
            note = self.t.gettext(
                "To have your data erased, please send /delete: a request written in an "
                "answer erases nothing."
            )
        elif kind == WITHDRAW:
            note = self.t.gettext(
                "To withdraw your consent, please send /withdraw: a request written in an "
                "answer withdraws nothing."
            )
        elif kind == SEE:
            note = self.t.gettext("To see what is stored about you, please send /mydata.")
        elif holds_contact_details(text):
            # Left for a call back, which nobody can make: staff see comments redacted
            # (found by an older customer's review: name and number, and no word of it).
            note = self.t.gettext(
                "Your answer is stored as you wrote it, but our staff see comments without "
                "phone numbers, e-mail addresses and usernames, so they cannot reach you "
                "through them."
            )
            current = self.flow.step(state.step_id) if state is not None else None
            if above and isinstance(current, ConsentStep) and self._asks_contact(current):
                note += " " + self._agree_above()
            elif state is not None and self._contact_asked_later(state):
                note += " " + self.t.gettext(
                    "If you would like us to contact you, please agree to that in this chat "
                    "when the survey asks."
                )
        elif asks_about_privacy_within(text):
            # Stored, as a comment should be, and the question answered too (found by a
            # customer walk-through: "Is this anonymous? The manager was rude to me." was
            # stored and the question left as if staff would answer it).
            note = self.t.gettext(
                "About your question: /privacy explains what is stored, for what and for how "
                "long; /mydata shows what is stored about you, and /delete erases it."
            )
        else:
            return None
        return note

    def _contact_asked_later(self, state: ConversationState) -> bool:
        """Whether a question about being contacted may still come: the one asked next or
        one after it, not answered yet (its answer is kept with the consents, not among the
        answers) nor skipped by its condition (found by a review of the change: "agree when
        the survey asks" after it was answered, or where it never comes)."""
        current = self.flow.step(state.step_id)
        if current is None:
            return False
        answered = {c.purpose for c in state.consents}
        granted = {c.purpose for c in state.consents if c.granted}
        return any(
            isinstance(step, ConsentStep)
            and self._asks_contact(step)
            and step.purpose not in answered
            and not self._skipped(step, dict(state.answers), granted, answered)
            for step in (current, *self.flow.steps_after(current))
        )

    def _agree_above(self) -> str:
        return self.t.gettext(
            "If you would like us to contact you, please agree to that with the question above."
        )

    def _asks_contact(self, step: ConsentStep) -> bool:
        return self.flow.purpose(step.purpose).stores_contact

    def _pointed_to_commands(self) -> str:
        return self.t.gettext(
            "I did not take this message as your answer. To discard your unfinished "
            "answers, send /cancel; to erase all your data, send /delete."
        )

    def _restarting(self, said: str) -> str:
        """`said`, its pointer to "/start" (the last) naming this survey's (see `start`)."""
        at = said.rfind("/start")
        if at < 0 or self.start == "/start":
            return said
        return f"{said[:at]}{self.start}{said[at + len('/start') :]}"

    def _taken_already(self) -> str:
        # Of the previous question (found by review: "this question" read as the one
        # below it, whose "Nein" seemed taken).
        return self.t.gettext(
            "That is your answer to the previous question again; it has already been taken."
        )

    def _yeses(self, state: ConversationState, step: ConsentStep) -> frozenset[str]:
        """A yes typed at the consent question `step`: its button's words, or YESES."""
        labels = [b for row in self._question(state, step).buttons for b in row]
        return YESES | {bare_words(b.label) for b in labels if b.data.endswith(":y")}

    def _just_gave_text(self, state: ConversationState) -> bool:
        """Whether the answer before was a text (not skipped), given within a burst's time:
        a message now may be more of it (see `_more_of_text`)."""
        previous, given = self._answer_before(state)
        return (
            isinstance(previous, TextStep)
            and isinstance(given, str)
            and self._within(state, BURST_WINDOW)
            and not state.interrupted
        )

    def _adds_later(self, state: ConversationState, step: Step, text: str) -> bool:
        """Whether `text`, typed at a consent question after a burst's time, says it is
        more of the text answer just before ("Noch etwas: das Fitnessstudio war zu",
        "Actually, one more thing: …"; found by a customer walk-through: refused as no
        answer, and only /cancel and the survey again could add it). Not a no to being
        contacted ("Actually, please don't contact me")."""
        previous, given = self._answer_before(state)
        words = bare_words(text).translate(AS_ASCII)
        if len(words.split()) < 4:
            return False
        begun = _ADDING.match(words)
        if begun is not None:
            rest = words[begun.end() :].strip()
        elif (  # "Und das Zimmer war laut", "Das Zimmer war auch laut", "… too" (found by a
            # customer walk-through: refused, the second complaint lost); not of oneself or
            # the business ("Das würde mich auch freuen", "I would like that too", "Ich bin
            # Erika und wohne auch in Berlin": a yes, or personal data, found by review)
            _ADDING_TOO.search(words) is None
            or not _maybe_more(text, words)
            or _OF_ONESELF.search(words) is not None
        ):
            return False
        else:
            rest = words
        return (
            isinstance(step, ConsentStep)
            and isinstance(previous, TextStep)
            and isinstance(given, str)
            and not state.interrupted
            and not asks_not_to_be_contacted(text)
            and not typed_no(text)
            and not typed_no(rest)  # "Also nein danke, kein Kontakt"
            and bool(rest)
            and rest.split()[0] not in NO_WORDS | NEGATING
        )

    def _skipped_text(self, state: ConversationState) -> TextStep | None:
        """The text question answered last where it was skipped, the one before the open
        question: a text now that answers no button of that may be meant for it (see
        `_more_of_text`). (No way on depends on it: a condition cannot test a text.)"""
        previous, given = self._answer_before(state)
        if not isinstance(previous, TextStep) or given is not None or state.interrupted:
            return None
        return previous if previous.id in state.answers else None

    def _text_sent_again(self, state: ConversationState, event: TextInput) -> bool:
        """Whether `event` is the text answer just given, sent again within the time of a
        burst, as its reply did not show (a lost connection)."""
        _, given = self._answer_before(state)
        again = event.text.strip()
        return (
            self._just_gave_text(state)
            and isinstance(given, str)
            and visible(again)
            and (given == again or given.endswith("\n" + again))
        )

    def _rating_typed_again(
        self, state: ConversationState, step: Step, event: TextInput
    ) -> tuple[int, int] | None:
        """The rating just given and the one `event` types, where it types one in figures
        or stars within the time of a burst at a question it cannot answer: the same one
        sent again, as the reply was slow (found by an English customer's review: the "5"
        became the comment, and the comment question went by unseen), or another, a change
        of mind (found by a customer's review: a 4 tapped, a "5" typed 3 s later stored as
        the comment under the 4). Not at a rating or choice question: there it may be its
        answer."""
        previous, given = self._answer_before(state)
        if (
            not isinstance(previous, RatingStep)
            or isinstance(step, RatingStep | ChoiceStep | MultipleChoiceStep)
            or not isinstance(given, int)
            or not self._within(state, BURST_WINDOW)
        ):
            return None
        typed = _typed_number(event.text, previous)
        # ("five stars", "fünf Sterne": found by review, the comment)
        number, *stars = _bare(event.text).replace("ü", "ue").split() or [""]
        worded = _NUMBER_WORDS.get(number) if stars in ([], ["sterne"], ["stars"]) else None
        if typed is None and worded is not None and previous.min <= worded <= previous.max:
            # the rating in words, the same again ("four" after a 4, "drei" after a 3: found
            # by a customer walk-through, stored as the comment) or another, a change of
            # mind as in figures ("five" after a 4: found by a customer walk-through, stored
            # as the comment, the rating left at 4 without a word)
            return given, worded
        return (given, typed) if typed is not None else None

    def _rating_typed_later(
        self, state: ConversationState, step: Step, event: TextInput
    ) -> list[int]:
        """The ratings given in this survey that `event` types one for in figures or stars at
        a consent question, also hedged ("eher 3", "doch nur 3 Sterne"): a change of mind
        that no question open can take (see `_rating_typed_again` for one typed right after
        the rating). Each whose scale takes it ("4/5" is not one of 0 to 10)."""
        if not isinstance(step, ConsentStep):
            return []
        typed = _HEDGED.sub("", unicodedata.normalize("NFKC", event.text).strip())
        return [
            given
            for step_id, given in state.answers.items()
            if isinstance(rated := self.flow.step(step_id), RatingStep)
            and isinstance(given, int)
            and _typed_number(typed, rated) is not None
        ]

    def _answer_before(self, state: ConversationState) -> tuple[Step | None, Answer | None]:
        """The step answered last, and its answer (None: skipped, or none yet)."""
        previous = self.flow.step(state.answered) if state.answered else None
        return previous, state.answers.get(previous.id) if previous is not None else None

    def _change_of_answer(self, state: ConversationState, text: str) -> Turn | None:
        """A correction of the question answered just before, if it has buttons, read as a
        whole message (see `read_correction`): the rating it names in figures taken at once
        ("ich meinte 4", "I meant to give 5 stars not 1"), a question whether it can be
        changed answered with how, and a slip or a way back ("Ich habe mich verklickt",
        "wrong button", "Zurück") that question asked again, its answer taken back. Found
        by customer walk-throughs: told to send /cancel and /start, which threw away every
        answer, they gave up. None for anything else, and where the question before has
        none of this (a consent, a text, or none: after going back once, the one before
        it is not known)."""
        previous, given = self._answer_before(state)
        if not isinstance(previous, RatingStep | ChoiceStep | MultipleChoiceStep):
            return None
        kind, meant, said_given, of, slipped, loose, of_rating = read_correction(text)
        if said_given and (not isinstance(given, int) or any(g != given for g in said_given)):
            return None  # "Versehentlich 5 statt 2 gegeben" after a 4: of something else
        if of_rating and not isinstance(previous, RatingStep):
            return None  # "Zurück zur Bewertung" after a choice: not the one before
        if loose and (meant == given or not isinstance(self.current_step(state), TextStep)):
            # "Oops 5" after a 5 is a comment; at a rating it may answer that one
            return None
        if kind == CHANGE:
            if not isinstance(previous, RatingStep) or not isinstance(given, int):
                return None
            if meant is None or not previous.min <= meant <= previous.max:
                return None  # "Oh, meant 12": not of this scale
            if of is not None and of != previous.max:
                return None  # "meinte 3 von 10" on a scale of 5
            if meant != given:
                return self._rating_changed(state, meant)
            kind = BACK  # the one given: the question again, to choose
        if kind == ASK_HOW:
            return self._at_question(
                state,
                self._restarting(
                    self.t.gettext(
                        "You can answer the previous question again: send “{back}”. Answers "
                        "given before it cannot be changed here; to change them, send /cancel "
                        "and then /start."
                    )
                ).format(back=self.t.gettext("back")),
            )
        if kind != BACK:
            return None
        if slipped and isinstance(self.current_step(state), MultipleChoiceStep) and state.selected:
            return None  # options ticked here are not thrown away by a slip (review)
        answers = {k: v for k, v in state.answers.items() if k != previous.id}
        back = state.model_copy(
            update={
                "step_id": previous.id,
                "shape": shape_of(previous),
                "answers": answers,
                "scales": {k: v for k, v in state.scales.items() if k != previous.id},
                # the options chosen stay chosen, to change one or two of them
                "selected": list(given) if isinstance(given, list) else [],
                "long_text_at": None,
                "long_text": None,
                "answered": None,
                "answered_at": None,
                "interrupted": False,
                "added": None,
                "additions": [],
            }
        )
        note = self.t.gettext(
            "Here is the previous question again. Your answer to it was taken back: please "
            "answer it again."
        )
        replies = headed((note,), (self.ask(back, previous),))
        # saved under a new key, as an answer undone (see Turn.taken_out)
        return Turn(
            back, Outcome(replies=replies, close_keyboard=True), changed=True, taken_out=True
        )

    def _rating_changed(self, state: ConversationState, meant: int) -> Turn:
        """The rating just given changed to `meant`, and the question that follows it
        asked: which one may change with it (the product survey asks what went wrong of a
        2, what pleased of a 5)."""
        previous, given = self._answer_before(state)
        assert isinstance(previous, RatingStep) and isinstance(given, int)
        turn = replace(self._advance(state, previous, meant), taken_out=True)
        note = self.t.gettext("Changed: your rating is now {rating} instead of {before}.").format(
            rating=self.t.number(meant), before=self.t.number(given)
        )
        if (
            turn.state is not None
            and turn.state.step_id == state.step_id
            and isinstance(self.current_step(state), ConsentStep)
        ):
            # the consent question that follows is the one open: pointed to, not sent again
            # (see `_at_question`), its buttons kept
            return replace(self._at_question(turn.state, note), changed=True, taken_out=True)
        return replace(
            turn, outcome=replace(turn.outcome, replies=headed((note,), turn.outcome.replies))
        )

    def _answers_earlier_question(
        self, state: ConversationState, step: Step, event: TextInput
    ) -> bool:
        """Whether typed text is a reply to an earlier question's message that answers it:
        a rating or an option's label swiped onto the rating question once at the comment
        (found by review: "5" in reply to the rating was stored as the comment, the 2
        tapped before kept, and the person never told)."""
        if not event.quoted:
            return False
        for earlier in self.flow.steps:
            if earlier.id == step.id or earlier.id not in state.answers:
                continue
            if render_text(earlier.prompt, self.t) not in event.quoted:
                continue
            if isinstance(earlier, RatingStep):
                return typed_rating(event.text, earlier, self.t) is not None
            if isinstance(earlier, ChoiceStep):
                word = _bare(event.text)
                return any(_bare(render_text(o.label, self.t)) == word for o in earlier.options)
            return False
        return False

    def _not_an_answer(self, step: Step, stored: bool = True, yes: bool = False) -> str:
        """How to answer `step`; not `stored`: said of a message right after a text answer,
        which might have been more of it; `yes`: of a yes typed at a consent question."""
        if yes:
            note = self.t.gettext(
                "To agree, please tap “{yes}” under the question above; typing is not enough."
            ).format(yes=self.t.gettext("Yes, agree"))
        elif isinstance(step, RatingStep):
            note = self.t.gettext(
                "Please tap a button, or type a number from {low} to {high}."
            ).format(low=self.t.number(step.min), high=self.t.number(step.max))
        elif isinstance(step, ConsentStep):  # not asked again (see `_at_question`)
            note = self._buttons_above()
        elif isinstance(step, MultipleChoiceStep):
            # The way on named (found by a customer walk-through: "Danke" typed after two
            # options were ticked got "answer with one of the buttons", which they had).
            note = self.t.gettext("Please choose with the buttons, then tap “{done}”.").format(
                done=self.t.gettext("Done")
            )
        else:
            note = self.t.gettext("Please answer with one of the buttons.")
        if stored:
            return note
        return self.t.gettext(
            "I did not store this message, neither as an answer to this question nor as "
            "part of your previous answer. {how}"
        ).format(how=note)

    def _declined(self, state: ConversationState, step: ConsentStep, event: TextInput) -> bool:
        """Whether typed text answers the consent question `step` no: not when it came
        within a double tap's time of the answer before, whose text it may be sent again
        (a comment "Nein", a choice typed "No"; found by review: it declined a question
        the person had not read)."""
        if self._within(state, DOUBLE_TAP_WINDOW):
            return False
        _, given = self._answer_before(state)
        if (  # the text answer before, sent again as its reply did not show
            isinstance(given, str)
            and self._within(state, BURST_WINDOW)
            and bare_words(given.split("\n")[-1]) == bare_words(event.text)
        ):
            return False
        labels = [b for row in self._question(state, step).buttons for b in row]
        no = {_bare(b.label) for b in labels if b.data.endswith(":n")}
        # Not to be contacted, said as to withdraw ("Bitte nicht mehr kontaktieren", "I
        # don't want to be contacted"): a no here (found by review: pointed to /cancel).
        # Not an objection or a withdrawal that names no contact ("Ich widerspreche der
        # Verarbeitung meiner Daten"): thanked for the feedback, it went unheard (found
        # by a review of customers' phrasing).
        return (
            typed_no(event.text)
            or _bare(event.text) in no
            # "also pls dont contact me, thx" (found by a customer walk-through: added to
            # the comment seconds before, the question left open)
            or (self._asks_contact(step) and asks_not_to_be_contacted(event.text))
            or (
                typed_request(event.text) == WITHDRAW
                and _NAMES_CONTACT.search(bare_words(event.text).translate(AS_ASCII)) is not None
            )
        )

    def _more_of_text(
        self, state: ConversationState, step: Step, event: TextInput, kind: str | None = None
    ) -> Turn | None:
        """Text that answers no button of `step`, sent right after a text answer: more of
        that answer, written in a second message as people do in chats, added to it, said
        so, with a button to take it out again (found by review: "Hallo," was stored as
        the comment, and the complaint sent seconds later refused with "please use the
        buttons"). Not what is typed to answer `step`: a button's label, a yes or no, a
        few words at a consent question, a number at a rating; nor the rest of a text
        too long to take (found by review of the change). None where it is not more of a
        text answer."""
        previous, given = self._answer_before(state)
        skipped = self._skipped_text(state)
        later = self._adds_later(state, step, event.text)
        if not (self._just_gave_text(state) or later) and skipped is None:
            return None
        assert isinstance(previous, TextStep) and (given is None or isinstance(given, str))
        addition = event.text.strip()
        if not visible(addition) or (skipped and not _for_a_skipped_answer(addition, step)):
            return None
        if self._rest_of_long_text(state, event):
            note = self.t.gettext(
                "This looks like the rest of your long text, so it was not taken either. "
                "Please shorten the whole text and send it again."
            )
            return self._refused_as_long(state, event, note)
        if given is not None and (given == addition or given.endswith("\n" + addition)):
            # The same text again (see `_text_sent_again`, asked before this).
            return self._at_question(state, self._taken_already())
        words = addition.split()
        buttons = {_bare(b.label) for row in self._question(state, step).buttons for b in row}
        # A question about one's data (`kind`, read by the caller) is more of the comment,
        # with the pointer to /mydata, as at the comment's own question: not refused for
        # its "bitte" ("Datenauskunft bitte", found by a review of customers' phrasing).
        if (
            kind != SEE
            and (
                _bare(addition) in buttons
                or (  # "Nein, danke", but not "No toilets" (see `_of_a_thing`)
                    len(words) <= 3
                    and _bare(words[0]) in SHORT_REPLIES
                    and not _of_a_thing(words, 0)
                )
                or (  # "Lieber nicht", but not "das Essen war kalt" (review), nor "remove the
                    # fee please", one word of four about the question (found by a review of
                    # customers' phrasing: refused, and the person could not add it any more)
                    isinstance(step, ConsentStep)
                    and len(words) <= 4
                    and any(
                        _bare(word) in ANSWER_WORDS and not _of_a_thing(words, i)
                        for i, word in enumerate(words)
                    )
                    and 2
                    * sum(
                        _word(word) in ABOUT_THE_QUESTION and not _of_a_thing(words, i)
                        for i, word in enumerate(words)
                    )
                    >= len(words)
                )
                or _bare(addition) in ALONE_NO_ANSWER  # at any question (review of the change)
                # "help", "Hilfe" alone, a request, not more of the comment ("Ich brauche
                # Hilfe" is): found by a customer walk-through, joined to the comment; and
                # after the comment was skipped, "I need help" too (found by a customer
                # walk-through: stored as the comment, not the help asked for)
                or ((len(words) == 1 or given is None) and typed_help(addition))
                or (  # "Warum wollen Sie das wissen?" (found by a customer walk-through)
                    isinstance(step, ConsentStep) and about_the_consent(addition)
                )
                or (  # "👍", "👎", "🙂": an answer, not more of the comment (walk-through)
                    isinstance(step, ConsentStep) and not any(ch.isalnum() for ch in addition)
                )
                or (  # "thats fine", "egal": an answer, yes or no (found by a walk-through)
                    isinstance(step, ConsentStep)
                    and _without_politeness(bare_words(addition)) in UNDECIDED
                )
                or (  # "No, I don't want that", "Nein, ich will das wirklich nicht" (review)
                    isinstance(step, ConsentStep)
                    and len(words) <= 8
                    and _bare(words[0]) in NO_WORDS
                    and all(_word(word) in ABOUT_THE_QUESTION for word in words[1:])
                )
                or (  # "8 von 10", but not "die Lieferung kam 3 Tage zu spät" (review)
                    isinstance(step, RatingStep)
                    and len(words) <= 3
                    and any(c.isdigit() for c in addition)
                )
                or (  # "9", "0", "3-4" at a yes or no (found by a customer walk-through:
                    # added to the comment before it)
                    not isinstance(step, TextStep) and _A_NUMBER_ALONE.fullmatch(addition)
                )
            )
        ):
            # No answer to `step` either: said not to be stored (found by review: "please
            # use the buttons" alone, and the person believed their words were taken); after
            # a skip, as any other message that answers nothing.
            if given is None:
                return None
            return self._at_question(state, self._not_an_answer(step, stored=False), pointed=True)
        combined = addition if given is None else f"{given}\n{addition}"
        if len(combined) > previous.max_length and given is None:
            note = self.t.gettext(
                "This message was not taken as your answer to the previous question, which you "
                "skipped: it is longer than the {limit} characters that fit there. It was not "
                "stored."
            ).format(limit=self.t.number(previous.max_length))
            return self._refused_as_long(state, event, note)
        if len(combined) > previous.max_length:
            note = self.t.gettext(
                "This message was not added to your previous answer: together they would be "
                "longer than the {limit} characters that fit. It was not stored."
            ).format(limit=self.t.number(previous.max_length))
            return self._refused_as_long(state, event, note)
        added = state.model_copy(
            update={
                "answers": {**state.answers, previous.id: combined},
                "answered_at": self._moment,
                "added": None,
                "additions": [*_additions(state), addition],
            }
        )
        data = button_data(state.token, previous.id, UNDO + _mark(addition))
        undo = Button(self.t.gettext("Undo"), data)
        said = Reply(self.t.gettext("Added to your previous answer."), ((undo,),), lapses=True)
        if given is None:
            # The question before was skipped (found by a customer walk-through: the comment
            # typed at the next question was refused as no answer to it, and could not be
            # given any more): taken as its answer, with Undo as an addition has.
            taken = self.t.gettext(
                "Taken as your answer to the previous question, which you skipped."
            )
            said = replace(said, text=taken)
        if isinstance(step, ConsentStep):  # its buttons are above (see `_at_question`)
            told = self._pointer(added, addition, above=True)
            # One pointer to the buttons above, not two (the contact question's own, if so).
            pointer = None if told and self._agree_above() in told else self._buttons_above()
            first = _bare(addition.split()[0]) if addition.split() else ""
            if pointer is not None and given is not None and first in _YES_OR_NO_FIRST:
                # "Ja, aber erst nächste Woche", "sure, I'm in room 214": an answer with more
                # to it, or more of the comment ("Ja, und das Zimmer war kalt"); kept, and
                # said how to make it the answer (found by a customer walk-through)
                pointer = self.t.gettext(
                    "If this was your answer to the question above, tap “{undo}” and then "
                    "“{yes}” or “{no}” under the question."
                ).format(
                    undo=self.t.gettext("Undo"),
                    yes=self.t.gettext("Yes, agree"),
                    no=self.t.gettext("No"),
                )
            said = replace(said, text="\n\n".join(n for n in (said.text, told, pointer) if n))
            above = self.ask(added, step)
            return Turn(added, Outcome(replies=(said,), question_above=above), changed=True)
        turn = Turn(added, Outcome(replies=(said, self.ask(added, step))), changed=True)
        return self._pointing(turn, addition)

    def _refused_as_long(self, state: ConversationState, event: TextInput, note: str) -> Turn:
        """`note` and the open question again; the rest of the text, should Telegram have
        split it, is refused too (see `_rest_of_long_text`)."""
        refused = state.model_copy(update={"long_text_at": event.sent_at})
        turn = self._at_question(refused, note)
        return Turn(refused, turn.outcome, changed=event.sent_at is not None)

    def _undo(self, state: ConversationState, step_id: str, mark: str) -> Turn:
        """Undo under "Added to your previous answer": that message taken out again, also
        under an earlier one of several added (found by review: it said "Nothing to
        undo." and the message stayed in the answer); the open question stays as it is."""
        given = state.answers.get(step_id)
        additions = _additions(state)
        # The first message taken for a question skipped (see `_more_of_text`): its answer
        # is the messages alone (a text given first comes before them).
        skipped = bool(additions) and given == "\n".join(additions)
        base = given if isinstance(given, str) and not skipped else None
        for addition in () if skipped else reversed(additions):  # what the first message was
            if base is None or not base.endswith("\n" + addition):
                base = None
                break
            base = base.removesuffix("\n" + addition)
        taken = [n for n, addition in enumerate(additions) if _mark(addition) == mark]
        if (base is None and not skipped) or not taken:
            return Turn(
                state, Outcome(toast=self.t.gettext("Nothing to undo."), close_keyboard=True)
            )
        kept = [a for n, a in enumerate(additions) if n != taken[-1]]
        rest = "\n".join(kept) if base is None else "\n".join([base, *kept])
        answers = {**state.answers, step_id: rest or None}
        undone = state.model_copy(update={"answers": answers, "added": None, "additions": kept})
        toast = self.t.gettext("Taken out of your previous answer again.")
        return Turn(undone, Outcome(toast=toast, close_keyboard=True), changed=True, taken_out=True)

    def _too_long(
        self,
        state: ConversationState,
        step: TextStep,
        text: str,
        sent_at: datetime | None,
        again: bool = False,
    ) -> Turn:
        """The refusal of a text longer than the question takes, with a button that keeps
        as much of its start as fits (found by a customer walk-through: the text was lost
        unless shortened and sent again). `again`: said once more, to an apology after it."""
        limit = self.t.number(step.max_length)
        if again:
            note = self.t.gettext(
                "No problem. Please send a shorter text, or keep the first {limit} characters "
                "of the long one with the button below."
            ).format(limit=limit)
        elif len(text) > MAX_TEXT_STEP_LENGTH:  # likely the first part of a longer text
            note = self.t.gettext(
                "Your text is longer than the {limit} characters that fit here. Please "
                "shorten it and send it again, or keep its first {limit} characters with the "
                "button below."
            ).format(limit=limit)
        else:
            note = self.t.gettext(
                "Your text has {count} characters, but at most {limit} fit. Please shorten it "
                "and send it again, or keep its first {limit} characters with the button below."
            ).format(count=self.t.number(len(text)), limit=limit)
        start = text[: step.max_length]
        keep = Button(
            self.t.gettext("Keep the first {limit} characters").format(limit=limit),
            button_data(state.token, step.id, KEEP_START + _mark(start)),
        )
        update: dict[str, object] = {"long_text": start}
        if not again:
            update["long_text_at"] = sent_at
        refused = state.model_copy(update=update)
        reply = Reply(note, ((keep,),), lapses=True)
        return Turn(refused, Outcome(replies=(reply,)), changed=True)

    @staticmethod
    def _rest_of_long_text(state: ConversationState, event: TextInput) -> bool:
        """Whether `event` came right after a text refused as too long, as the further
        parts of one text do (no one shortens a text that fast)."""
        if state.long_text_at is None or event.sent_at is None:
            return False
        return abs(event.sent_at - state.long_text_at) <= SPLIT_TEXT_WINDOW

    def _button_answer(self, step: Step, value: str) -> tuple[bool, Answer]:
        """(whether `value` is a button this step shows, the answer it stands for)."""
        if isinstance(step, RatingStep):
            number = cleaned_int(value)
            return number in range(step.min, step.max + 1), number
        if isinstance(step, ChoiceStep):
            return value in {o.id for o in step.options}, value
        if isinstance(step, MultipleChoiceStep):
            return value in {o.id for o in step.options} | {DONE}, value
        if isinstance(step, TextStep):
            return value == SKIP and step.skippable, None
        if isinstance(step, ConsentStep):
            return value in {"y", "n"}, value
        return False, None

    def _stale(self, state: ConversationState, toast: str) -> Turn:
        return Turn(state, Outcome(toast=toast))

    def _tapped_soon_after(self, state: ConversationState, step_id: str) -> bool:
        """Whether a button of the question just answered was pressed so soon after that
        its buttons were still showing."""
        return step_id == state.answered and self._within(state, DOUBLE_TAP_WINDOW)

    def _tapped_again(self, state: ConversationState, step_id: str, value: str) -> bool:
        """The same answer pressed again on the question just answered, so soon that its
        buttons were still showing: the next question is on its way, asking it twice would
        only confuse. (Another answer there is a change of mind, told the first was taken;
        a list of options or a skip counts as the same.)"""
        if not self._tapped_soon_after(state, step_id):
            return False
        given = state.answers.get(step_id, value)  # a consent step keeps no answer here
        return given is None or isinstance(given, list) or str(given) == value

    def _too_few(self, step: MultipleChoiceStep) -> str:
        return self.t.ngettext(
            "Please choose at least one option.",
            "Please choose at least {count} options.",
            step.min_selected,
        ).format(count=step.min_selected)

    def _typed_options(self, step: MultipleChoiceStep, text: str) -> list[str]:
        """The options whose labels `text` types, one or several ("zu langsam", "Too slow,
        too expensive", "Schnell und der Preis"), each a whole label as a single choice's
        typed label is taken; none where any part is not a label (then it is no choice, but
        perhaps a comment: see `_text`). Found by a customer walk-through: refused, with
        "please choose with the buttons"."""
        if len(text) > 300:
            return []
        labels = self._option_labels(step)
        named: list[str] = []
        for chunk in _OPTION_LIST.split(text):
            if not chunk.strip():
                continue
            parts = _labels_in(_OPTION_AND.split(chunk), labels)
            if parts is None:
                return []
            named += [p for i, p in enumerate(parts) if p not in named + parts[:i]]
        return named

    def _option_labels(self, step: ChoiceStep | MultipleChoiceStep) -> dict[str, str]:
        """The options of `step` by their labels as typed: in the chat's language first,
        then in the others the bot speaks ("Too slow" in a German chat, found by a customer
        walk-through: refused, where a person with an English phone reads the buttons
        and types what they mean). A label that names another option in the chat's
        language keeps that meaning."""
        labels: dict[str, str] = {}
        for t in (self.t, *(translator(locale) for locale in SUPPORTED_LOCALES)):
            for option in step.options:
                label = _bare(render_text(option.label, t))
                if label:
                    labels.setdefault(label, option.id)
        return labels

    def _select_typed(
        self, state: ConversationState, step: MultipleChoiceStep, named: list[str]
    ) -> Turn:
        """The options typed, selected (none deselected: typing one means wanting it),
        and the question again with its buttons, which say what is selected now."""
        t = self.t
        selected = [*state.selected, *(n for n in named if n not in state.selected)]
        if step.max_selected is not None and len(selected) > step.max_selected:
            note = t.ngettext(
                "I did not select this: you can choose at most one option. To choose "
                "another, first tap the one selected to take it out.",
                "I did not select this: you can choose at most {count} options. To choose "
                "another, first tap one of those selected to take it out.",
                step.max_selected,
            ).format(count=step.max_selected)
            return self.reask(state, note)
        changed = selected != state.selected  # (all selected already: nothing to save)
        if changed:
            state = state.model_copy(update={"selected": selected})
        chosen = ", ".join(render_text(o.label, t) for o in step.options if o.id in selected)
        note = t.gettext(
            "Selected: {options}. Choose more with the buttons if you like, then tap “{done}”."
        ).format(options=chosen, done=t.gettext("Done"))
        if step.max_selected is not None and len(selected) == step.max_selected:
            # not "choose more" where no more can be (found by a customer walk-through)
            note = t.gettext(
                "Selected: {options}. That is as many as you can choose: tap “{done}”."
            ).format(options=chosen, done=t.gettext("Done"))
        asked = self.reask(state, note)  # (no longer `interrupted`: review of the change)
        return Turn(asked.state, asked.outcome, changed=changed or state.interrupted)

    def _toggle(self, state: ConversationState, step: MultipleChoiceStep, value: str) -> Turn:
        """An option toggled on or off (the buttons are redrawn), or the done button."""
        t = self.t
        if value == DONE:
            if len(state.selected) < step.min_selected:
                return self._stale(state, self._too_few(step))
            chosen = [o.id for o in step.options if o.id in state.selected]
            return self._advance(state, step, chosen)
        label = next(render_text(o.label, t) for o in step.options if o.id == value)
        if value in state.selected:
            selected = [v for v in state.selected if v != value]
            # Said in words: a screen reader does not announce a redrawn button, and "☐"
            # and "☑" are told apart by sight (found by an accessibility review).
            toast = t.gettext("No longer selected: {option}").format(option=label)
        elif step.max_selected is not None and len(state.selected) >= step.max_selected:
            toast = t.ngettext(
                "You can choose at most one option.",
                "You can choose at most {count} options.",
                step.max_selected,
            ).format(count=step.max_selected)
            return self._stale(state, toast)
        else:
            selected = [*state.selected, value]
            toast = t.gettext("Selected: {option}").format(option=label)
        state = state.model_copy(update={"selected": selected})
        keyboard = self.ask(state, step).buttons
        return Turn(state, Outcome(replace_keyboard=keyboard, toast=toast), changed=True)

    # --- moving on ----------------------------------------------------------------
    def _advance(
        self,
        state: ConversationState,
        step: Step,
        answer: Answer,
        *,
        granted: bool | None = None,
    ) -> Turn:
        answers = dict(state.answers)
        consents = list(state.consents)
        if isinstance(step, ConsentStep):
            shown = self._consent_text(step, self.t)
            consents = [c for c in consents if c.purpose != step.purpose]
            consents.append(
                PendingConsent(
                    purpose=step.purpose,
                    granted=bool(granted),
                    text_sha256=sha256_hex(shown),
                    at=self.now,
                )
            )
        elif not self._refused(step, consents):
            answers[step.id] = answer
        scales = dict(state.scales)
        if isinstance(step, RatingStep) and step.id in answers:
            scales[step.id] = [step.min, step.max]
        following = self._next(step, answers, consents)
        state = state.model_copy(
            update={
                "step_id": following.id,
                "shape": shape_of(following),
                "answers": answers,
                "scales": scales,
                "consents": consents,
                "selected": [],
                "long_text_at": None,
                "long_text": None,
                "answered": step.id,
                "answered_at": self._moment,
                "interrupted": False,
                "added": None,
                "additions": [],
            }
        )
        if isinstance(following, ThanksStep):
            completion = Completion(
                flow_id=self.flow.id,
                answers=answers,
                consents=consents,
                expires_at=self.now + self.retention,
                scales=scales,
            )
            # The answered question's buttons go, whether pressed or answered by typing.
            outcome = Outcome(replies=(self.thanks(following, completion),), close_keyboard=True)
            return Turn(None, outcome, completion, changed=True)
        outcome = Outcome(replies=(self.ask(state, following),), close_keyboard=True)
        return Turn(state, outcome, changed=True)

    def _next(self, step: Step, answers: dict[str, Answer], consents: list[PendingConsent]) -> Step:
        """The next step to ask: by the branches, past every step skipped by its condition
        and every question for an optional purpose the person did not agree to."""
        granted = {c.purpose for c in consents if c.granted}
        asked = {c.purpose for c in consents}
        following = self.flow.following(step, answers)
        # Validated flows have no loops and end every path with a thanks step.
        for _ in self.flow.steps:
            assert following is not None, "validated flows end every path with a thanks step"
            if not self._skipped(following, answers, granted, asked):
                return following
            following = self.flow.following(following, answers)
        raise AssertionError("validated flows have no loops")

    def _skipped(
        self,
        step: Step,
        answers: dict[str, Answer],
        granted: set[str],
        asked: Collection[str] = (),
    ) -> bool:
        """Whether `step` is passed over. A consent step is where it has no use, or where
        its purpose was `asked` for already in this survey (found by a flow author's
        walk-through: a flow asking twice on one path asked the person twice, and a "No"
        the second time undid the "Yes")."""
        if isinstance(step, ThanksStep):
            return False
        if step.skip_if is not None and step.skip_if.holds(answers):
            return True
        if isinstance(step, ConsentStep):
            return step.purpose in asked or not self._needed(step)
        return self._not_granted(step, granted)

    def _refused(self, step: Step, consents: list[PendingConsent]) -> bool:
        """A question for an optional purpose whose consent was withdrawn while it was
        open (/widerruf): its answer moves the conversation on but is not kept."""
        if isinstance(step, ConsentStep | ThanksStep):
            return False
        return self._not_granted(step, {c.purpose for c in consents if c.granted})

    def _not_granted(self, step: Step, granted: set[str]) -> bool:
        """A question for an optional purpose the person has not agreed to."""
        if isinstance(step, ThanksStep) or step.purpose is None:
            return False
        return not self.flow.purpose(step.purpose).required and step.purpose not in granted

    def _needed(self, step: ConsentStep) -> bool:
        """A further consent is asked only if it is the point (being contacted) or a later
        question collects answers for it."""
        if self.flow.purpose(step.purpose).is_the_point:
            return True
        return any(
            not isinstance(s, ConsentStep | ThanksStep) and s.purpose == step.purpose
            for s in self.flow.steps_after(step)
        )

    # --- what the person sees -----------------------------------------------------
    def ask(self, state: ConversationState, step: Step) -> Reply:
        """The question of `step`, with its buttons."""
        return replace(self._question(state, step), question=True)

    def _question(self, state: ConversationState, step: Step) -> Reply:
        t = self.t
        prompt = render_text(step.prompt, t)

        def button(label: str, value: str) -> Button:
            return Button(label, button_data(state.token, step.id, value))

        if isinstance(step, RatingStep):
            values = range(step.min, step.max + 1)
            rows = [values] if step.max == 5 else [range(0, 6), range(6, 11)]
            if step.low_label and step.high_label:
                prompt += "\n" + t.gettext("({low} = {low_label}, {high} = {high_label})").format(
                    low=step.min,
                    high=step.max,
                    low_label=render_text(step.low_label, t),
                    high_label=render_text(step.high_label, t),
                )
            keyboard = tuple(tuple(button(str(v), str(v)) for v in row) for row in rows)
            return Reply(prompt, keyboard)
        if isinstance(step, ChoiceStep):
            return Reply(
                prompt, tuple((button(render_text(o.label, t), o.id),) for o in step.options)
            )
        if isinstance(step, MultipleChoiceStep):
            return Reply(f"{prompt}\n{self._choose_hint(step)}", self._toggles(state, step))
        if isinstance(step, TextStep):
            # Privacy by default (Art. 25): what is not written needs no redaction, and
            # health data would need a consent of its own (Art. 9).
            hint = t.gettext(
                "(up to {limit} characters; please leave out names, contact details and "
                "health information)"
            ).format(limit=t.number(step.max_length))
            skip = ((button(t.gettext("Skip"), SKIP),),) if step.skippable else ()
            return Reply(f"{prompt}\n{hint}", skip)
        if isinstance(step, ConsentStep):
            text = self._consent_text(step, t)
            return Reply(
                text,
                ((button(t.gettext("Yes, agree"), "y"), button(t.gettext("No"), "n")),),
                proof=True,
            )
        return Reply(prompt)

    def _toggles(self, state: ConversationState, step: MultipleChoiceStep) -> Keyboard:
        t = self.t
        rows = [
            (
                Button(
                    f"{CHECKED if o.id in state.selected else UNCHECKED} {render_text(o.label, t)}",
                    button_data(state.token, step.id, o.id),
                ),
            )
            for o in step.options
        ]
        done = Button(t.gettext("Done"), button_data(state.token, step.id, DONE))
        return (*rows, (done,))

    def _choose_hint(self, step: MultipleChoiceStep) -> str:
        t, low, high = self.t, step.min_selected, step.max_selected
        done = t.gettext("Done")
        if high is not None:
            if low == high:  # (found by review: "choose 1 to 1")
                text = t.ngettext(
                    "(choose one, then tap “{done}”)", "(choose {high}, then tap “{done}”)", high
                )
            elif low == 0:
                text = t.gettext("(choose up to {high}, then tap “{done}”)")
            else:
                text = t.gettext("(choose {low} to {high}, then tap “{done}”)")
        elif low == 0:
            text = t.gettext("(choose all that apply, or none, then tap “{done}”)")
        elif low == 1:
            text = t.gettext("(choose one or more, then tap “{done}”)")
        else:
            text = t.gettext("(choose at least {low}, then tap “{done}”)")
        return text.format(low=low, high=high, done=done)

    def thanks(self, step: ThanksStep, completion: Completion) -> Reply:
        t = self.t
        lines = [
            render_text(step.prompt, t),
            "",
            t.gettext("Your feedback will be deleted automatically on {date}.").format(
                date=t.date(completion.expires_at, self.timezone)
            ),
            t.gettext("/mydata shows what is stored at any time; /delete erases all your data."),
        ]
        if any(c.granted for c in completion.consents if c.purpose in self._contact_purposes()):
            lines.append(
                t.gettext(
                    "You have agreed that we may contact you in this chat about your feedback."
                )
            )
        return Reply("\n".join(lines))

    def _contact_purposes(self) -> set[str]:
        return {p.id for p in self.flow.purposes if p.stores_contact}


# Letters and symbols that draw nothing (fillers, a blank braille cell): a comment of
# only these, spaces, control or format characters (zero-width space, soft hyphen) and
# lone combining marks shows as nothing, to the person's data export and to staff alike.
_BLANK = frozenset("\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
_UNSEEN_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"})


def visible(text: str) -> bool:
    """Whether `text` shows anything at all when displayed."""
    return any(c not in _BLANK and unicodedata.category(c) not in _UNSEEN_CATEGORIES for c in text)


@cache
def _skip_words() -> frozenset[str]:
    """The Skip button's label in every language the bot speaks, typed instead of pressed."""
    return frozenset(_bare(translator(locale).gettext("Skip")) for locale in SUPPORTED_LOCALES)


@cache
def _done_words() -> frozenset[str]:
    """The Done button's label in every language the bot speaks, typed instead of pressed,
    and the short sentences that say the same ("bin fertig", "I’m done": found by a
    customer walk-through, refused and told to be written at the next question)."""
    labels = {bare_words(translator(locale).gettext("Done")) for locale in SUPPORTED_LOCALES}
    return frozenset(labels) | typed_forms(
        {
            "bin fertig", "ich bin fertig", "fertig bitte", "das war's", "das wars",
            "das ist alles", "i'm done", "im done", "i am done", "all done", "finished",
            "that's all", "thats all", "that's it", "thats it",
            # (found by the next: "weiter" was told the question cannot be skipped)
            "weiter", "next", "continue", "das war alles", "done thx", "done thanks",
            "fertig danke",
        }
    )  # fmt: skip


_NUMBER_WORDS = {
    **dict.fromkeys(("null", "zero"), 0), **dict.fromkeys(("eins", "one"), 1),
    **dict.fromkeys(("zwei", "two"), 2), **dict.fromkeys(("drei", "three"), 3),
    **dict.fromkeys(("vier", "four"), 4), **dict.fromkeys(("fünf", "fuenf", "five"), 5),
    **dict.fromkeys(("sechs", "six"), 6), **dict.fromkeys(("sieben", "seven"), 7),
    **dict.fromkeys(("acht", "eight"), 8), **dict.fromkeys(("neun", "nine"), 9),
    **dict.fromkeys(("zehn", "ten"), 10),
}  # fmt: skip
_A_ONE = frozenset(("ein", "einen", "a"))
_A_NUMBER = r"\d{1,3}|[^\W\d_]+"
_TYPED_RATING = re.compile(
    # said as a sentence too: "Ich gebe eine 7", "I'd give it a 7", "würde ich 8 geben"
    # (found by a customer walk-through: joined to the comment, the rating not taken)
    # (in German a 1 to 6 so said is a school grade, "eine 1" very good: see typed_rating)
    r"(?:(?:(?P<de>ich gebe|ich geb|ich würde|ich wuerde|würde ich|wuerde ich|ich vergebe"
    r"|meine bewertung ist|meine wertung:?)|i'?d give|i would give|i give|i'?ll give|i rate"
    r"|my rating is|i'?d say|i would say)"
    r"(?:\s+(?:it|dem|der|euch|ihnen|this|that))?\s+(?:(?:eine|ein|einen|a|an)\s+)?"
    # the button named ("die 4 bitte", "ich nehme die 4", "the 4"), or a correction before
    # the answer ("nein warte, doch 3", "oh, actually 4"): found by a customer walk-through,
    # told to write a number, which they had
    r"|(?:ich nehme |ich wähle |ich waehle |nehme |i'?ll take |i take |i choose )?"
    r"(?:die|the|nummer|number)\s+"
    r"|(?:(?:nein|no|oh|oops|ups|sorry),?\s+)?(?:(?:warte|wait|moment),?\s+)?"
    r"(?:doch|actually|make it)\s+)?"  # (not a hedge: "eher 3", a mutation audit)
    rf"(?P<n>{_A_NUMBER})[.!]?"
    rf"(?:\s*(?:/|von|of|out of)\s*(?P<top>{_A_NUMBER}))?"
    r"(?:\s*(?P<unit>stern(?:e|en)?|stars?|punkt(?:e|en)?|points?))?"
    r"(?:\s+(?:geben|sagen))?(?:,?\s+(?:bitte|please|pls|danke|thanks))?"
)
_STARS = re.compile(r"[★⭐🌟\ufe0f\s]*[☆\s]*")
_SMILEY = re.compile(r"\s*[:;]-?[)dp]$")
_RATING_LONGEST = 60
"""Characters a typed rating has at most ("vier von fünf Sternen 👍👍"): a longer text is
none, and is not looked at further (a smiley stripped at a time from 4,096 would take a
while)."""


def _rating_words(text: str) -> str:
    """`text` as a typed rating is read: in compatible form and lower case, without an
    ending "!" or ".", an emoji or a smiley ("Fünf!!", "5 Sterne 👍", "4 :)"), but with
    any other sign kept, which makes it no rating: "1+" and "1-" are German school grades
    (very good), "+1" is agreement, "<3" a heart (found by review: taken as ratings of 1,
    stored as the worst with an alert, and 3)."""
    words = unicodedata.normalize("NFKC", text).casefold().strip()
    while words:
        smiley = _SMILEY.search(words)
        if smiley is not None:
            words = words[: smiley.start()]
        elif words[-1] in ".!" or unicodedata.category(words[-1]) in {"So", "Sk", "Mn", "Me", "Cf"}:
            words = words[:-1].rstrip()
        else:
            break
    return _WHOLE_DECIMAL.sub(r"\1", " ".join(words.split()))


_A_NUMBER_ALONE = re.compile(r"[-+–]?\d(?:\s*[-–/]\s*\d)?[.!]?")
"""A digit with nothing else ("9", "0", "3-4"): more of no comment, sent at a question with
buttons. Not a longer number, which may be ("Zimmernummer" and then "214", a time, a price:
found by review, refused)."""

_WHOLE_DECIMAL = re.compile(
    r"(?<![\d.,])(\d{1,2})(?:\.00?|,00?(?=\s*(?:/|von |of |out of |stern|star|punkt|point)))"
    r"(?![\d.,])"
)
"""A whole number with its decimals, "3.0", "4,0/5", "4,0 von 5": the number (found by a
customer walk-through: "3.0" was told that only whole numbers can be given). With a comma
only before the scale's top or unit: "1,0" alone is a German school grade, very good (found
by review: stored as the worst rating)."""


def typed_rating(text: str, step: RatingStep, t: Translator | None = None) -> int | None:
    """A rating typed instead of pressed: "4", "4.", "4/5" (out of the scale's top), "4 von
    5", "vier", "5 Sterne", "4 von 5 Sternen", "five stars", "★★★★" (found by a German
    customer's review: "5 Sterne", "fünf" and stars were refused), in any digits Unicode
    has ("４"); with `t`, also the scale's labels in its language ("sehr zufrieden", found
    by review: refused though the question shows them); None for anything else or out of
    the scale."""
    stars = text.strip()
    if len(stars) > _RATING_LONGEST:
        return None
    if stars and _STARS.fullmatch(stars):
        filled = sum(stars.count(star) for star in "★⭐🌟")
        empty = stars.count("☆")
        if filled and (not empty or filled + empty == step.max):
            return filled if step.min <= filled <= step.max else None
        return None
    if t is not None and step.low_label and step.high_label:
        typed = bare_words(text)
        if typed == bare_words(render_text(step.low_label, t)):
            return step.min
        if typed == bare_words(render_text(step.high_label, t)):
            return step.max
    found = _TYPED_RATING.fullmatch(_rating_words(text))
    if found is None:
        return None
    one = found["n"] in _A_ONE and found["unit"] is not None  # "ein Stern", not "ein"
    rating = 1 if one else _number(found["n"])
    if found["de"] is not None and found["unit"] is None and rating is not None and rating <= 6:
        # "Ich gebe euch eine 1!" is the school grade, very good (found by review: stored
        # as the worst rating): a sentence in German only from 7 on, or with its unit ("Ich
        # würde 1 sagen" is one too, found by the review of a version that took it)
        return None
    if found["top"] is not None and _number(found["top"]) != step.max:
        return None
    return rating if rating is not None and step.min <= rating <= step.max else None


_AFTER_RATING = re.compile(
    r"\s*[,;:]\s*|\s+[–—−-]\s+|\s*\n\s*|(?<=!)\s+"
    r"|\s+(?:but|aber|and|und|because|weil|da|though|however|jedoch|allerdings)\s+"
)
"""What parts a rating from its reason: a dash with a space either side only ("1- sehr
gut" is the school grade, very good); a "but", "aber", "because" after it ("4 stars but
slow": found by a customer walk-through, told to type a number)."""


_IN_BETWEEN = re.compile(
    r"(?P<n>\d{1,2})(?:[.,]\d{1,2}|\s*1⁄2)"  # "½" in compatible form
    r"(?:\s*(?:/|von|of|out of)\s*(?P<top>\d{1,3}))?"
    r"(?:\s*(?:stern(?:e|en)?|stars?|punkt(?:e|en)?|points?))?"
)


def typed_in_between(text: str, step: RatingStep) -> bool:
    """Whether `text` is a rating between two of the scale's whole numbers ("3.5", "3,5",
    "4½", "4,5 von 5 Sternen"; found by a customer walk-through: told to type a number
    from 1 to 5, which 3.5 is)."""
    if len(text) > _RATING_LONGEST:
        return False
    found = _IN_BETWEEN.fullmatch(_rating_words(text))
    if found is None or (found["top"] is not None and int(found["top"]) != step.max):
        return False
    return step.min <= int(found["n"]) < step.max


_TWO_RATINGS = re.compile(
    r"(?:(?:zwischen|between|so|eher|etwa|ungefähr|about|maybe|vielleicht)\s+)?"
    r"(?P<a>\d{1,2})\s*(?:oder|or|bis|to|und|and|[-–—]|\.\.\.?|…)\s*(?P<b>\d{1,2})"
    r"(?:\s*(?:stern(?:e|en)?|stars?|punkt(?:e|en)?|points?))?"
)


def typed_two_ratings(text: str, step: RatingStep) -> tuple[int, int] | None:
    """The two ratings of the scale that `text` gives, where it gives two ("3 oder 4", "3-4",
    "zwischen 3 und 4", "4 or 5": found by a customer walk-through, told only to type a
    number from 1 to 5, which both are); None otherwise."""
    if len(text) > _RATING_LONGEST:
        return None
    found = _TWO_RATINGS.fullmatch(_rating_words(text))
    if found is None:
        return None
    first, second = int(found["a"]), int(found["b"])
    if first == second or not all(step.min <= n <= step.max for n in (first, second)):
        return None
    return first, second


def _rating_with_words(text: str, step: RatingStep, t: Translator) -> bool:
    """Whether `text` is a rating typed with words after it in one message, apart by a
    comma, a dash, a colon or a line ("4 – gut, aber laut", "5 stars, great food", "2,
    Essen kalt"); not when the words begin with no letter ("4,5", "1-2 Wochen", the grade
    "1-, sehr gut"), or the text begins with no rating. Not after a dot: "1. Lieferung zu
    spät 2. …" is a list."""
    for apart in _AFTER_RATING.finditer(text):
        if apart.start() > _RATING_LONGEST:
            return False
        if typed_rating(text[: apart.start()], step, t) is not None:
            words = text[apart.end() :].strip()
            return bool(words) and (words[0].isalpha() or words[0] in "\"'„“‚‘«»")
    return False


def _typed_number(text: str, step: RatingStep) -> int | None:
    """A rating typed in figures or stars ("5", "5 Sterne", "★★★"), at a question after
    the rating (see `Engine._rating_typed_again`): not in words alone, which may be a comment
    ("eins", "one": found by the tests)."""
    if not any(c.isdigit() or c in "★⭐🌟☆" for c in text):
        return None
    return typed_rating(text, step)


_CORRECTION_WORDS = 10
"""At most this many words in a request to correct that is told how to change the answers
when it is more than `read_correction` acts on and has no "ich" or "I" before the slip
(see `is_correction`); a longer one is a comment that speaks of a slip."""


def is_correction(text: str) -> bool:
    """Whether `text`, which asks to correct (see `asks_rectification`) but is more than a
    correction `read_correction` acts on, is said of one's own answers, to be told how to
    change them, rather than a comment that speaks of a slip or a meaning: short and begun
    with a slip, a sorry or oneself, or naming the rating ("Sorry, ich meinte 5 Sterne,
    nicht 4. Das Essen war toll!"), or with "ich" or "I" before the slip ("Hi, sorry, I
    pressed the wrong button on the rating, I meant to give 5 stars not 1"). Not where a
    number counts something or another meant it ("Die Bedienung meinte 2 Minuten",
    "Versehentlich wurde mir 1 Kaffee zu viel berechnet", "Man verklickt sich ständig in
    der App": found by reviews, refused as the comment)."""
    words = bare_words(text)
    if _COUNTED_AFTER.search(text) or _someone_else_meant(words):
        return False
    ascii_words = words.translate(AS_ASCII)
    short = (
        len(words.split()) <= _CORRECTION_WORDS
        and not any(len(sentence.split()) > 2 for sentence in _sentences(text)[1:])
        and (_LEAD.match(ascii_words) is not None or _OWN_ANSWER.search(ascii_words) is not None)
    )
    return short or _I_SLIPPED.search(ascii_words) is not None


_OWN_ANSWER = re.compile(
    r"^(?:ich|i)\b|\b(?:meine|my) (?:bewertung|rating|antwort|answer)\b"
    r"|^(?:zurueck|back|go back)\b|^(?:kann|darf) ich\b|^can i\b"
)


_I_SLIPPED = re.compile(
    r"\b(?:ich|i)\b(?: \w+){0,3} (?:meinte|meant|wollte|wanted|pressed|tapped|clicked|hit"
    r"|gedrueckt|getippt|geklickt|verklickt|vertippt|verdrueckt|misclicked|mistapped)\b"
)


def _sentences(text: str) -> list[str]:
    return [sentence for sentence in _SENTENCE_END.split(text.strip()) if sentence]


_COUNTED_AFTER = re.compile(
    r"\d+\s*(?:x|mal|minuten|min|std|stunden|h|tage|tagen|wochen|euro|eur|€|\$|%|leute"
    r"|personen|tische|kellner|gäste|gaeste|minutes|mins|hours|days|weeks|times|people|persons"
    r"|tables|euros|dollars|pounds|£)(?!\w)",
    re.IGNORECASE,
)
_MEANT_AFTER = re.compile(r"(\w+) (?:meinte|meant)\b")
_ONESELF_OR_SORRY = frozenset(
    "ich i sorry sry oops ups oh ach mist nein no nee eigentlich actually doch".split()
)


def _someone_else_meant(words: str) -> bool:
    """Whether "meinte" or "meant" follows another word than "ich", "I" or a sorry, with no
    "ich" or "I" in the message ("Der Chef meinte 3 Tische"; not "meinte 4", "Sorry, meant
    5", "I misclicked the rating, meant 5")."""
    if _I_OR_ICH.search(words):
        return False
    return any(m.group(1) not in _ONESELF_OR_SORRY for m in _MEANT_AFTER.finditer(words))


_I_OR_ICH = re.compile(r"\b(?:ich|i)\b")


CHANGE, BACK, ASK_HOW = "change", "back", "ask how"
"""What a message typed right after a question with buttons asks of its answer (see
`read_correction`)."""

_INTERJECTION = (
    r"(?:sorry|sry|oops|oopsie|whoops|ups|upps|uups|hups|oh no|oh nein|oh|ach so|ach|mist"
    r"|hoppla|huch|ugh|nein|no wait|no|nee|noe|nope|entschuldigung|pardon|my bad|my mistake"
    r"|mein fehler|eigentlich|eigtl|eig|actually|wait|moment|halt|typo|oh shit)"
)
_SLIP = (
    r"(?:(?:ich )?(?:habe|hab) mich (?:verklickt|vertippt|verdrueckt|vertan)|verklickt"
    r"|vertippt|verdrueckt|daneben getippt|falsch (?:gedrueckt|getippt|geklickt)"
    r"|falsche (?:taste|bewertung|zahl|sterne|knopf)|falscher knopf|(?:i )?misclicked"
    r"|(?:i )?mistapped|misclick|fat finger(?:ed)?|wrong (?:button|star|stars|number|rating|one)"
    r"|(?:i )?(?:pressed|tapped|clicked|hit) the wrong (?:button|star|number|one)"
    r"|meine bewertung (?:war|ist) falsch|my rating (?:was|is) wrong"
    # the figure tapped by mistake ("Oops, I accidentally pressed 2", "aus Versehen 2
    # gedrückt"), said without the one meant
    r"|(?:i )?(?:accidentally|by mistake) (?:pressed|tapped|clicked|hit|gave)(?: (?:the|a|an))?"
    r" \d{1,2}(?: stars?)?|(?:ich )?(?:habe |hab )?(?:aus versehen|versehentlich)(?: die| eine)?"
    r" \d{1,2}(?: sterne?)? (?:gedrueckt|getippt|geklickt|gegeben))"
)
_LEAD = re.compile(rf"(?:{_INTERJECTION}|{_SLIP})(?: |$)")
_LEAD_OF_A_CORRECTION = re.compile(
    r"(?P<slip>falsch)(?: |$)|(?:bitte|please|pls|lol|korrektur|correction|mistake)(?: |$)"
)
"""More words before a correction read as a whole message (see `read_correction`), not
before a longer one (see `is_correction`: "Bitte …" and "Falsch …" begin comments): "falsch"
is said of the tap with the figure meant or after a sorry ("Falsch, 5", "Ups, falsch"),
alone it may be the comment ("Falsch!", "Nein, falsch": a review), and "Falsch abgerechnet,
2 Getränke zu viel" is no correction as a whole."""
_NO_SLIP_ALONE = frozenset(("nein", "no", "nee", "noe", "nope"))
_NOT_BEFORE_A_FIGURE = frozenset(("bitte", "please", "pls", "lol"))
_TAIL = re.compile(
    r" (?:sorry|danke|thanks|thx|bitte|please|pls|natuerlich|klar|of course|obviously|lol)$"
)
_PRESSED = re.compile(
    r"(?:(?:ich )?(?:habe |hab )?(?:die |eine )?\d{1,2}(?: sterne?)? (?:gedrueckt|getippt"
    r"|geklickt|gegeben)|(?:i )?(?:pressed|tapped|clicked|hit|gave)(?: (?:a|the))? \d{1,2}"
    r"(?: stars?)?)(?: (?:aber|but))?(?: |$)"
)
"""The figure tapped, said before the one meant ("Hab 2 gedrückt, meinte 5", "I pressed 2
but meant 5"): alone, it says what was done, not that it was a slip; nor is a figure alone
after it ("Hab 2 gegeben und 1": a review)."""
_GO_BACK = re.compile(
    r"(?:(?:bitte|please|kann ich|can i) )?(?:zurueck|back|go back|eine frage zurueck"
    r"|zur vorherigen frage|vorherige frage|previous question|to the previous question"
    r"|go back to the previous question|zurueck zur frage davor|back one question"
    r"|one question back"
    # (not "Zur Bewertung:", which begins a comment: a review)
    r"|zurueck zur (?P<rating>bewertung)|zur (?P<rating_de>bewertung) zurueck"
    r"|(?:go )?back to (?:the |my )?(?P<rating_en>rating))"
    r"(?: (?:gehen|bitte|please))?"
)
"""A way back (the rating named: "Zurück zur Bewertung", only where the rating is the
question before)."""
_RATING_MEANT = re.compile(
    r"(?:(?:ich )?(?:meinte|wollte)(?: (?:eigentlich|natuerlich|doch|aber))?"
    r"(?: (?:eine|die|ne))? (?P<a>\d{1,2})(?: sterne?)?(?: (?:geben|druecken|tippen|vergeben))?"
    r"|(?:i )?(?:meant|ment)(?: to (?:give|press|tap|click|rate|hit|select|choose))?"
    r"(?: (?:it|a|an))? (?P<b>\d{1,2})(?: stars?)?"
    r"|(?:i )?wanted(?: to (?:give|press|tap|click|rate))?(?: it)? (?P<c>\d{1,2})(?: stars?)?"
    r"|(?:it(?:'s| is) |that was )?(?:supposed|meant) to be(?: (?:a|an))? (?P<m>\d{1,2})"
    r"(?: stars?)?"
    r"|make (?:it|that) (?P<n>\d{1,2})(?: stars?)?"
    r"|mach(?:e)?(?: (?:eine|ne))? (?P<o>\d{1,2}) (?:draus|daraus)"
    # the one given, then the one meant ("Nicht 2, sondern 5", "Not 2 but 5")
    r"|(?:nicht|not) (?P<was3>\d{1,2})(?: (?:sondern|but))? (?P<p>\d{1,2})(?: sterne?| stars?)?"
    r"|(?:die |eine )?(?P<g>\d{1,2})(?: sterne?)? (?:meinte|wollte) ich|(?P<h>\d{1,2}) gemeint"
    # said as what it should be ("Sollte eine 5 sein", "Should be 5", "that should've been
    # a 5"): not of minutes or euros, which a comment says ("Should be 5 minutes")
    r"|(?:es |das |sie )?sollte(?: (?:eigentlich|natuerlich))?(?: (?:eine|die))? (?P<i>\d{1,2})"
    r"(?: sterne?)? sein|(?:it |that )?(?:should(?: have)? be(?:en)?|should've been)"
    r"(?: (?:a|an))? (?P<j>\d{1,2})(?: stars?)?"
    r"|(?:(?:aus versehen|versehentlich|accidentally|by mistake)(?: (?:die|the))? )?"
    r"(?P<was>\d{1,2})(?: sterne?| stars?)? (?:statt|anstatt|instead of)(?: (?:der|die|the))?"
    r" (?P<d>\d{1,2})(?: sterne?| stars?)? (?:gedrueckt|getippt|geklickt|gegeben|pressed"
    r"|tapped|clicked)"
    r"|(?:aus versehen|versehentlich|accidentally|by mistake)(?: (?:die|the))? (?P<was2>\d{1,2})"
    r"(?: sterne?| stars?)? (?:statt|anstatt|instead of)(?: (?:der|die|the))? (?P<dd>\d{1,2})"
    r"(?: sterne?| stars?)?"
    r"|(?:kann ich |can i |bitte )?(?:(?:change|aendere|set) )?(?:(?:meine|die|my|the) )?"
    r"(?:bewertung|rating) (?:auf|to) (?P<e>\d{1,2})(?: (?:aendern|aendern bitte|change"
    r"|aendern lassen))?"
    # "Kann ich das auf 5 ändern?", "Bitte auf 5 ändern", "Can I change it to 5?"
    # (not "Bitte auf 2 stellen", of a setting: a review)
    r"|(?:(?:kann|darf) ich )?(?:(?:das|es|sie) )?auf (?P<k>\d{1,2})(?: sterne?)? (?:aendern"
    r"|korrigieren)"
    r"|(?:(?:can|could) (?:i|you|u) )?(?:change|set|correct|update|make)(?: (?:it|that|this))?"
    r" (?:to|a) (?P<l>\d{1,2})(?: stars?)?"
    # (a figure alone: not "eine 1", a school's mark, "Eigentlich eine 1!": a review)
    r"|(?:(?:die|the) )?(?P<f>\d{1,2})(?: sterne?| stars?)?)"
    r"(?: (?:von|of|out of) (?P<of>\d{1,2}))?(?: (?:not|nicht|statt|instead of|anstatt"
    r"|und nicht|and not) (?P<not>\d{1,2})(?: sterne?| stars?)?)?"
)
_CAN_I_CHANGE = re.compile(
    r"(?:kann|darf) ich (?:das|es|die|diese)(?: \w+){0,3} (?:aendern|korrigieren|bearbeiten"
    r"|anpassen)|can i (?:change|edit|correct|update) (?:it|this|that|them)"
    r"(?: (?:later|afterwards|again|still))?(?: please)?"
)


class Correction(NamedTuple):
    """What a message typed right after a question with buttons asks of its answer (see
    `read_correction`): `kind` (CHANGE, BACK, ASK_HOW or None), the figure `meant`, the
    figures it says were given (`given`: tapped by mistake, or "not"/"statt" one), the
    scale it names (`of`: "4/5", "4 von 5"), whether a slip was said, whether the figure
    came after a word alone (`loose`: "Eigentlich 5", "Oops 5", a correction only where it
    differs from the answer given), and whether it names the rating (`of_rating`: "Zurück
    zur Bewertung")."""

    kind: str | None
    meant: int | None = None
    given: tuple[int, ...] = ()
    of: int | None = None
    slipped: bool = False
    loose: bool = False
    of_rating: bool = False


def read_correction(text: str) -> Correction:
    """What `text`, typed right after a question with buttons, asks of that answer, read
    strictly as a whole message: CHANGE with the rating meant in figures or number words
    ("ich meinte 4", "Verklickt, meinte 4", "aus Versehen 2 statt 5 gedrückt", "I meant to
    give 5 stars not 1", "oops, meant 4/5", "Sollte eine 5 sein", "Hab 2 gedrückt, meinte
    5", "Can I change it to 5?", "ich meinte vier", a figure after a slip: "Mist,
    verklickt. 4", or after a word alone: "Eigentlich 5"), BACK for a slip or a way back
    alone ("Ich habe mich verklickt", "wrong button", "Zurück", "Zurück zur Bewertung"),
    ASK_HOW for whether it can be changed ("Kann ich das später noch ändern?"). None for
    anything more: a comment that speaks of a slip, of what someone meant or of a number
    ("Versehentlich wurde mir 1 Kaffee zu viel berechnet", "Die Bedienung meinte 2
    Minuten", "Der Automat hat sich verklickt", "Should be 5 minutes": found by two reviews
    of a first version that read any request to correct so, and changed the rating or went
    back, the comment lost). The figures it says were given are for the caller to hold
    against the answer ("Versehentlich 5 statt 2 gegeben" after a 4 is no correction of
    it: a third review)."""
    words = _GREETING.sub("", bare_words(text.replace("/", " von ")).translate(AS_ASCII))
    if len(words.split()) > _RECTIFY_WORDS:
        return Correction(None)  # no longer than a request to correct (see `asks_rectification`)
    slipped = lead_said = pressed = said_oops = said_wrong = False
    given: list[int] = []
    while True:
        lead = _LEAD.match(words) or _LEAD_OF_A_CORRECTION.match(words)
        tail = _TAIL.search(words)
        tapped = _PRESSED.match(words)
        if lead and lead.end() > 0:
            said = lead.group().strip()
            if lead.re is _LEAD:
                slipped = slipped or not _INTERJECTION_ONLY.fullmatch(said)
                said_oops = said_oops or (
                    _INTERJECTION_ONLY.fullmatch(said) is not None and said not in _NO_SLIP_ALONE
                )
            else:
                said_wrong = said_wrong or lead["slip"] is not None
            # (a figure alone after "bitte" or "lol" is none: "Please, 1", a review)
            lead_said = lead_said or said not in _NOT_BEFORE_A_FIGURE
            given += [int(figure) for figure in re.findall(r"\d{1,2}", lead.group())]
            words = words[lead.end() :]
        elif tapped and not pressed:
            # the figure tapped, then the one meant: a correction only with the one meant
            pressed = True
            given += [int(figure) for figure in re.findall(r"\d{1,2}", tapped.group())]
            words = words[tapped.end() :]
        elif tail:
            words = words[: tail.start()]
        else:
            break
    words = words.strip()
    # "falsch" is a slip with the figure meant after it, or after a sorry (see
    # _LEAD_OF_A_CORRECTION)
    slipped = slipped or (said_wrong and (bool(words) or said_oops))
    in_figures = any(c.isdigit() for c in words)
    words = _NUMBER_WORD.sub(lambda word: str(_NUMBER_WORDS[word.group()]), words)
    if not words:
        if slipped:
            return Correction(BACK, given=tuple(given), slipped=True)
        return Correction(None)
    if back := _GO_BACK.fullmatch(words):
        if pressed:
            return Correction(None)
        of_rating = any(back[g] is not None for g in ("rating", "rating_de", "rating_en"))
        return Correction(BACK, given=tuple(given), slipped=slipped, of_rating=of_rating)
    meant = _RATING_MEANT.fullmatch(words)
    if _CAN_I_CHANGE.fullmatch(words) and meant is None and text.rstrip().endswith("?"):
        return Correction(ASK_HOW, slipped=slipped)
    if meant is None or (pressed and meant["f"] is not None):
        return Correction(None, slipped=slipped)
    # a figure alone only after a slip, a word before it or the one it is not ("5 nicht 2")
    loose = meant["f"] is not None and not slipped
    if (
        loose
        and meant["not"] is None
        and (
            not lead_said
            # in figures, not a school's mark nor "number one" ("Eigentlich 1+", "No. 1!", "Nein,
            # zwei": a review)
            or not in_figures
            or _MARK.search(text)
            or _NUMBER_ONE.match(text)
        )
    ):
        return Correction(None, slipped=slipped)
    figure = next(meant[g] for g in _MEANT_GROUPS if meant[g] is not None)
    given += [int(meant[g]) for g in ("was", "was2", "was3", "not") if meant[g] is not None]
    if pressed and int(figure) in given:
        return Correction(None, slipped=slipped)  # "I gave 2 but meant 2"
    return Correction(
        CHANGE,
        int(figure),
        tuple(given),
        int(meant["of"]) if meant["of"] is not None else None,
        slipped,
        loose=loose and meant["not"] is None,
    )


_MARK = re.compile(r"\d[+-](?!\d)")
_NUMBER_ONE = re.compile(r"\W*(?i:no|nr)\.?\s*\d")
_MEANT_GROUPS = tuple("a b c d dd e f g h i j k l m n o p".split())
"""The groups of `_RATING_MEANT` that hold the figure meant."""
_NUMBER_WORD = re.compile(
    rf"\b(?:{'|'.join(word for word, figure in _NUMBER_WORDS.items() if figure >= 2)})\b"
)
"""A figure in words, in a correction ("ich meinte vier", "I meant five stars"); not "eins"
or "one", which say other things ("No one", "It should be one", "Ach eins:": a review)."""


_INTERJECTION_ONLY = re.compile(_INTERJECTION)


_HEDGED = re.compile(
    r"^(?:(?:eher|doch|nur|eigentlich|lieber|vielleicht|also|ich gebe|ich geb|rather|actually|"
    r"only|just|maybe|more like|make it|make that|i give|i'd give|i would give)[\s,]+)+",
    re.IGNORECASE,
)
"""Words before a rating typed again ("eher 3", "doch nur 3 Sterne", "make it 4")."""


def _number(word: str) -> int | None:
    return int(word) if word.isdecimal() else _NUMBER_WORDS.get(word)


def cleaned_int(text: str) -> int | None:
    stripped = text.strip()
    return int(stripped) if stripped.isdecimal() and len(stripped) <= 3 else None


_AROUND = re.compile(r"^[\W_]+|[\W_]+$")


def _additions(state: ConversationState) -> list[str]:
    """The messages added to the text answer just given (a draft from before they were
    all kept has the last one only)."""
    if state.additions:
        return list(state.additions)
    return [state.added] if state.added is not None else []


def cut_at_a_word(text: str, limit: int) -> str:
    """The start of a text too long, as kept by its button: cut before the last word that
    does not fit whole, and "…" put where it was cut, so that no word is cut in two (an
    e-mail address cut at its domain went past redaction, found by review) and staff see
    that more was written. Within `limit` characters, the mark included."""
    room = limit - 1
    space = max(text.rfind(" ", 0, room + 1), text.rfind("\n", 0, room + 1))
    end = space if space > room - 200 else room
    return text[:end].rstrip() + "…"


def _mark(text: str) -> str:
    """A short mark of a message added to a text answer, for its Undo button (64 bytes of
    button data in all): that button undoes that message only."""
    return hashlib.sha256(text.encode()).hexdigest()[:6]


_WORDS = re.compile(r"[\w']+")


PUZZLED = typed_forms(
    {"", "was", "wie", "wie bitte", "hm", "hmm", "what", "pardon", "sorry"}
)  # fmt: skip
"""Bare words of a text question's answer that asks what to write with a question mark
("?", "Wie bitte?"): without one, an answer ("Was", "sorry")."""
PUZZLED_ALONE = typed_forms(
    {
        "hä", "häh", "huh",
        "was soll ich schreiben", "was soll ich da schreiben", "was soll ich hier schreiben",
        "was soll ich sagen", "was meinen sie", "was meinen sie damit", "was meinst du",
        "wie meinen sie das", "was ist gemeint", "ich verstehe nicht", "ich verstehe das nicht",
        "verstehe ich nicht", "versteh ich nicht", "ich verstehe die frage nicht",
        "what should i write", "what should i say", "what do i write", "what do you mean",
        "what do you want to know", "what is meant", "i don't understand", "i dont understand",
        "i do not understand", "i don't understand the question",
        # found by a customer walk-through (stored as the comment)
        "was genau meinen sie", "was genau ist gemeint", "muss ich hier was schreiben",
        "muss ich was schreiben", "muss ich etwas schreiben", "muss ich hier etwas schreiben",
        "was für ein kommentar", "was für einen kommentar", "do i have to write something",
        "do i have to write anything", "do i need to write something", "what kind of comment",
        "what exactly do you mean", "what should i comment on",
        # what it is for, asked of the question (found by a customer walk-through: the comment)
        "wozu brauchen sie das", "wofür brauchen sie das", "wozu ist das", "wofür ist das",
        "wozu", "what is this for", "why do you need this", "what do you need this for",
        "was wollen sie wissen", "was möchten sie wissen", "worüber soll ich schreiben",
    }
)  # fmt: skip
"""Bare words that ask what to write with or without a question mark ("Hä", "What do you
mean", found by a customer walk-through: stored as the comment without one)."""


def _puzzled(text: str) -> bool:
    """Whether `text`, typed at a text question, only asks what is wanted (see PUZZLED)."""
    if len(text) > 50:
        return False
    words = bare_words(text)
    return (
        words in PUZZLED_ALONE
        or _without_fillers(words) in PUZZLED_ALONE
        or (text.rstrip("!").endswith("?") and words in PUZZLED)
    )


GREETINGS = typed_forms(
    {
        "hallo", "hallo zusammen", "hallöchen", "hello", "hello there", "hi", "hi there",
        "hey", "hey there", "moin", "moin moin", "servus", "grüezi", "grüß gott",
        "guten tag", "guten morgen", "guten abend", "good morning", "good afternoon",
        "good evening", "liebes team", "dear team", "hallo liebes team", "hi team",
        "hello team",
    }
)  # fmt: skip
"""A greeting alone, which answers no text question (see `Engine._text`)."""


ASKS_FOR_HELP = typed_forms(
    {
        "hilfe", "help", "help me", "hilf mir", "helfen sie mir", "können sie mir helfen",
        "kannst du mir helfen", "can you help me", "ich brauche hilfe", "i need help",
        "hilfe hilfe", "help help", "hilfe menü", "help menu", "menü", "menu", "befehle",
        "commands", "was kannst du", "was kannst du alles", "was können sie", "was kann der bot",
        "what can you do", "what can i do here", "was kann ich hier machen",
        "was soll ich hier machen", "was soll ich hier tun", "was soll ich tun",
        "was mache ich hier", "what do i do here", "what am i supposed to do",
        "what should i do", "what should i do here",
        "wie funktioniert das", "wie funktioniert das hier", "how does this work",
        "how does it work",
        # who the bot is for: the help says first (found by a customer walk-through: "wer
        # sind Sie überhaupt?" was told that feedback needs consent)
        "wer sind sie", "wer sind sie überhaupt", "wer seid ihr", "wer seid ihr überhaupt",
        "wer bist du", "mit wem spreche ich", "mit wem schreibe ich", "mit wem schreibe ich hier",
        "mit wem spreche ich hier", "wer schreibt mir da", "was ist das hier für ein chat",
        "was ist das für ein chat", "was ist das hier für ein programm", "who are you",
        "who am i talking to", "who am i talking with", "what is this chat", "what is this bot",
    }
)  # fmt: skip
"""Whole messages that ask for the bot's help, as a person types /help without its slash
("Hilfe", "help me", "Was kannst du?": found by a customer walk-through, stored as the
comment at a text question and refused as feedback before consent)."""


_OF_THE_REST = (
    r"(?: (?:kommen|kommt|sind|gibt|es|noch|das|die|umfrage|jetzt|denn|insgesamt|eigentlich|"
    r"fehlen|bleiben|uebrig|hat|habt|haben|sie|ihr|folgen|are|there|left|to|go|remain|"
    r"remaining|still|more|in|total|the|survey|this|does|have|has|it|you|do|is)){0,5}"
)
"""The words after "wie viele Fragen", "how many questions" (see _HOW_LONG)."""
_HOW_LONG = re.compile(
    r"(?:und |also |sorry |entschuldigung |aeh |aehm |hm |and |so |um |uh )?(?:"
    + "|".join(
        (
            r"wie ?viele (?:fragen|schritte|seiten)" + _OF_THE_REST,
            r"wie lange (?:noch|dauert (?:das|es|die umfrage|der fragebogen)(?: jetzt)?"
            r"(?: noch)?|geht (?:das|die umfrage) noch|brauche ich noch)",
            r"dauert (?:das|es|die umfrage) (?:noch )?lange",
            r"(?:ist|war) (?:das|dies) (?:jetzt )?(?:die )?letzte(?: frage)?",
            r"kommt (?:da )?(?:jetzt )?noch (?:was|mehr|viel|etwas)",
            r"kommen (?:jetzt )?noch (?:mehr |viele |weitere )?fragen",
            r"noch (?:viele|mehr|weitere) fragen",
            r"(?:sind|bin) (?:wir|ich) (?:jetzt )?(?:bald|gleich|schon) fertig",
            r"wann (?:ist (?:das|die umfrage) (?:vorbei|zu ende|fertig)|bin ich fertig)",
            r"how many (?:more )?(?:questions|steps)" + _OF_THE_REST,
            r"how many (?:more|left|to go)",
            r"how (?:much )?long(?:er)?(?: (?:does|will|is) (?:this|it|the survey)"
            r"(?: (?:take|last|going to take|gonna take))?)?(?: still)?",
            r"is (?:this|that) the last(?: question| one)?",
            r"(?:are|am) (?:we|i) (?:almost |nearly )?(?:done|finished)(?: yet| soon)?",
            r"(?:any|are there any|are there) more questions",
            r"(?:is|will) (?:this|it) (?:going to |gonna )?take (?:long|much longer|a while)",
        )
    )
    + ")"
)
"""A question how much of the survey is left ("Wie viele Fragen kommen noch?", "Wie lange
dauert das noch?", "Is this the last question?": found by customer walk-throughs, stored
as the comment staff read, or added to it at the contact question)."""


def asks_how_long(text: str) -> bool:
    """Whether short `text` asks only how much of the survey is left (see _HOW_LONG)."""
    return len(text) <= 60 and bool(
        _HOW_LONG.fullmatch(_without_politeness(bare_words(text)).translate(AS_ASCII))
    )


def typed_help(text: str) -> bool:
    """Whether `text` asks for help as a whole (see ASKS_FOR_HELP), also politely ("Hilfe
    bitte", "help me please"); not a message that says with what ("Hilfe, die App stürzt
    ab"), a comment."""
    return _said_alone(text, ASKS_FOR_HELP)


def _said_alone(text: str, phrases: frozenset[str]) -> bool:
    """Whether short `text` is one of `phrases`, words of politeness around it let go."""
    return len(text) <= 40 and _without_politeness(bare_words(text)) in phrases


ASKS_TO_START = typed_forms(
    {
        "start", "starten", "neu starten", "neustart", "restart", "start again", "begin",
        "beginnen", "los", "los gehts", "los geht's", "let's go", "lets go",
        "feedback geben", "give feedback", "ich möchte feedback geben",
        "i want to give feedback", "i'd like to give feedback", "umfrage starten",
        "start survey", "start the survey", "die umfrage starten",
    }
)  # fmt: skip
"""Whole messages that ask for a survey, as a person types /start without its slash
("Start", "Feedback geben": found by a session's own walk-through, told outside a survey
to send /start)."""


def typed_start(text: str) -> bool:
    """Whether `text` asks to begin, as a whole (see ASKS_TO_START), also politely."""
    return _said_alone(text, ASKS_TO_START)


NOT_FOR_A_SKIPPED_ANSWER = GREETINGS | typed_forms(
    {
        "thank you", "thanks", "thank you very much",
        "thanks a lot", "vielen dank", "danke", "danke schön", "dankeschön", "good", "gut",
        "ok", "okay", "super", "great", "fine", "cool", "help", "hilfe",
        "that's all", "thats all", "that is all", "das war's", "das wars", "das war es",
        "das wäre alles", "all good", "alles gut", "passt", "passt schon", "absolutely",
    }
)  # fmt: skip
"""A greeting, a thanks or an acknowledgement typed at the question after a skipped text
question: no answer to it (found by a customer walk-through: "Hello", "thank you!" were
taken as the skipped comment). A no, "undo" and the like are read before (`typed_no`,
`typed_request`)."""


def _has_letters(text: str) -> bool:
    return any(character.isalpha() for character in text)


def _for_a_skipped_answer(text: str, step: Step) -> bool:
    """Whether `text`, typed at `step` right after a text question was skipped, may be
    meant as that question's answer (see `_more_of_text`): words, not a greeting, a thanks
    or a goodbye (NOT_FOR_A_SKIPPED_ANSWER, FAREWELLS), no comment said again, a yes or a
    no, a short question ("Is this anonymous?", "What happens now?"), a question about
    what to write, about being contacted or asking for another way ("Please call me
    back"), nor contact details (which the comment asks to leave out, and which answer
    the contact question); at a rating, nothing that may be meant as the rating (a number,
    "very likely", "eher nicht"): a sentence of four words or more (found by a customer
    walk-through and a review of the change: each was taken as the skipped comment)."""
    words = bare_words(text)
    short_question = text.rstrip("!").endswith("?") and len(text.split()) <= 5
    return (
        _has_letters(text)
        and words not in NOT_FOR_A_SKIPPED_ANSWER
        and words not in FAREWELLS
        and words not in YESES
        and not _no_comment(text)  # (the Skip button's word too)
        and not typed_no(text)
        and _without_politeness(words) not in UNDECIDED
        and not short_question
        and not _puzzled(text)
        and not about_the_consent(text)
        and not asks_another_way(text)
        and not holds_contact_details(text)
        and not (
            isinstance(step, RatingStep)
            and (len(text.split()) < 4 or any(character.isdigit() for character in text))
        )
    )


def _no_comment(text: str) -> bool:
    """Typed to say there is no comment: "kein Kommentar", "nichts", or a dash alone."""
    words = bare_words(text)
    return (
        words in NO_COMMENT
        or _without_fillers(words) in NO_COMMENT
        or text.strip() in {"-", "--", "–", "—", ".", "..."}
    )


def bare_words(text: str) -> str:
    """The words of `text` as compared (see `_bare`), one space between them."""
    return " ".join(_WORDS.findall(_word(text)))


NEGATING = typed_forms(frozenset("kein keine keinen keinerlei no".split()))
NO_THING = typed_forms(frozenset("way worries problem problems chance pls plz ty".split()))
"""Words after a "no" that make it a no (or a yes: "No problem"), not a thing missed:
"No way", "No worries" (found by review: joined to the comment staff read)."""
_AFTER_AN_ANSWER = (",", ";", ":", ".", "!", "?", "-", "–", "—")


def _of_a_thing(words: list[str], i: int) -> bool:
    """Whether `words[i]` is a "kein" or "no" that goes with the word after it, not an
    answer of its own: "Keine Toiletten", "No parking" sent after a comment at the
    contact question are more of the comment (found by a returning customer's review:
    refused as no answer, and lost), "Kein Interesse", "No, sorry" answer it."""
    word = words[i]
    return (
        _bare(word) in NEGATING
        and i + 1 < len(words)
        and not word.endswith(_AFTER_AN_ANSWER)
        and bool(_bare(words[i + 1]))  # "No - never": a dash is no thing (mutation audit)
        and _word(words[i + 1]) not in ABOUT_THE_QUESTION
        and _word(words[i + 1]) not in NO_THING
    )


ASKING = typed_forms(
    frozenset(
        "was wer wie wozu warum wieso weshalb wann welche muss ist kriegt bekommt "
        "what who how why when which does do is will can huh häh hä".split()
    )
)
"""The words a question about the consent question begins with (see `about_the_consent`)."""
OF_THE_CONSENT = ASKING | typed_forms(
    frozenset(
        "ich sie ihr das es ist dann heißt bedeutet meint meinen sieht sehen kriegen bekommen "
        "meine meinen mein daten nummer id pflicht nötig freiwillig lange gespeichert "
        "speichern passiert mit wird werden würden würde sich melden meldet kontaktieren "
        "kontakt brauchen braucht kostet damit dazu jemand überhaupt genau denn "
        "meiner meinem antwort antworten kommentar "
        "i you that this it mean means see sees happens happen if say yes no required "
        "optional have to long keep kept store stored data my number id would need "
        "contact me with get gets for exactly anyway someone then "
        "chat telegram user answer answers comment share call details "
        # whether someone will answer, or speak with them (found by a customer walk-through:
        # "Werden Sie mich kontaktieren?", "Can I talk to a human?" joined to the comment)
        "mich mir bei ein eine einen einem bekomme kriege ruft anrufen an kann können "
        "mensch menschen person mitarbeiter mitarbeiterin sprechen reden schreibt schreiben "
        "zurück rückmeldung persönlich "
        "reply a an talk speak to human person real anyone agent staff back hear from "
        "will can i'll calls".split()
    )
)
"""Every word of a question about the consent question ("Wer sieht das?", "Wie lange
wird das gespeichert?", "why do you need my ID?"), not about a thing ("Warum dauert das
Laden so lange?", which is more of a comment). With the words of the contact question's own
text ("why do you need my chat ID?", "who can see my answers?": found by an English
customer's review, only pointed to the buttons)."""


PRIVACY_CUES = typed_forms(
    frozenset(
        "anonym anonyme anonymisiert anonymous anonymously privat private vertraulich "
        "confidential datenschutz privacy liest lesen gelesen read reads sieht sehen gesehen "
        "see sees seen gespeichert speichert speichern aufbewahrt store stores stored saved "
        "kept daten data weitergegeben weitergeben geteilt share shared passed verschlüsselt "
        "encrypted gelöscht löschen deleted delete erfährt erfahren know knows passiert "
        "happens happen bekommt erhält gets receives antworten answers "
        # found by a customer walk-through: stored as the comment
        "weitergeleitet geschickt going goes sent forwarded "
        # ("was ist consent", "Was passiert mit meiner Telefonnummer?": found by the next)
        "consent einwilligung zustimmung dsgvo gdpr".split()
    )
)
"""What a question about one's answers asks after (see `about_privacy`)."""
OF_PRIVACY = (
    OF_THE_CONSENT
    | PRIVACY_CUES
    | typed_forms(
        frozenset(
            "eigentlich wirklich auch nur wo wohin wem an von über mir uns wir euch ihre eure "
            "der die den dem ein eine alles hier bot umfrage feedback kommentare jemand später "
            "danach bleibt bleiben werden wurde kann können könnt darf dürfen team firma "
            "mitarbeiter und oder bin sicher diese dies chef chefin filialleiter filialleiterin "
            "vorgesetzter vorgesetzte geschrieben hat tut macht "
            # found by a customer walk-through: stored as the comment
            "ich das zu wieder wird mein meine meinen name namen hotel rezeption "
            "rezeptionist rezeptionistin personal inhaber geschäft laden "
            # (not "Mail", "Adresse", "phone" alone: "Wurde meine Mail weitergeleitet?", "What
            # happens with my phone?" are comments, found by review)
            "telefonnummer handynummer nummer angaben infos informationen meiner "
            "emailadresse parties party "
            # to whom else ("Werden die Daten an Dritte weitergegeben?", "Do you sell my
            # data?": found by a customer walk-through, told that feedback needs consent
            # first); words of a question about one's data, no cue alone ("Wird das hier
            # auch verkauft?" asks the shop: the review)
            "dritte dritten third verkauft verkaufen sell sold info gebt geben gibt weiter u "
            # whether staff still see it ("Can your staff still see my comment?": found by
            # a customer walk-through, after withdrawing told feedback needs consent)
            "still noch immer anymore "
            "really actually also just only where whom to at of about from your the a an all "
            "everything here bot survey feedback responses comments anyone anybody someone "
            "later afterwards stays stay be being is are can may will does do staff team "
            "company and or am i safe secure these those boss manager written wrote has does "
            "lol haha my name hotel reception receptionist shop owner employees "
            "hotelleitung leitung geschäftsführung geschäftsleitung direktor direktorin "
            "management director this that geht gehen "
            # ("Was passiert mit meinen Daten, wenn ich das hier schreibe?", "Sieht der Chef,
            # dass ich das war?": found by a customer walk-through, the comment)
            "wenn schreibe schreiben sieht sehen dass erfährt erfaehrt if write see sees "
            "know knows war "
            # ("Wie lange bewahren Sie das auf?", with "lange": see `about_privacy`)
            "aufbewahren aufbewahrt bewahren bewahrt behalten behaltet behält behaelt heben "
            "hebt retain hold "
            # ("Was passiert mit meinen Daten, wenn ich hier mitmache?": found by a customer
            # walk-through; not "on", "davon", "weiß": "What is going on?", "Was ist davon
            # passiert?", "Weiß der Chef, was hier passiert?" are complaints, found by review)
            "mitmache mitmachen teilnehme teilnehmen participate bleibe".split()
        )
    )
)
"""Every word of a question about what happens to one's answers (see `about_privacy`)."""


def privacy_pointer(t: Translator) -> str:
    """The answer to a question about what happens to one's answers (see `about_privacy`):
    where it is answered."""
    return t.gettext(
        "I did not store this message. /privacy explains what is stored, for what and for "
        "how long; /mydata shows what is stored about you, and /delete erases it."
    )


_REQUIRED = re.compile(
    r"(?:muss (?:ich|man)(?: (?:das|die umfrage|hier|das hier|die fragen?|alles))?"
    r"(?: (?:machen|ausfuellen|beantworten|antworten|mitmachen|tun))?"
    r"|(?:ist|sind) (?:das|die umfrage|die fragen?|es) (?:eine )?(?:pflicht|noetig|notwendig|"
    r"verpflichtend|freiwillig)"
    r"|do i (?:have|need) to(?: (?:do|answer|fill(?: in| out)?|complete) (?:this|it|that)"
    r"(?: (?:in|out))?| answer)?"
    r"|(?:is|are) (?:this|it|the survey|these questions) (?:required|mandatory|compulsory|"
    r"optional|necessary)|must i(?: answer)?(?: (?:this|it))?)"
)


_KNOPF = r"(?:knopf|knoepfe|schaltflaeche|schaltflaechen|button|buttons|taste|tasten)"
_NO_BUTTONS = re.compile(
    rf"(?:(?:hilfe|help|aber|doch|hier|leider|ich) )*(?:ich )?(?:sehe|finde|seh)"
    rf"(?: hier| leider| aber)* (?:keinen|keine|kein) {_KNOPF}"
    r"(?: (?:hier|mehr|unten|oben|dazu|dafuer))?"
    rf"|(?:ich )?(?:sehe|finde) (?:die|den) {_KNOPF} nicht"
    rf"|(?:da|hier) (?:sind|ist) (?:keine|kein|keinen) {_KNOPF}"
    rf"|bei mir (?:werden|wird) (?:keine|kein|keinen) {_KNOPF} (?:angezeigt|gezeigt)"
    rf"|wo (?:ist|sind) (?:denn )?(?:der|die|den) {_KNOPF}(?: denn)?|wo soll ich (?:denn )?druecken"
    r"|welchen knopf|welche knoepfe|what buttons?"
    r"|(?:but )?i (?:cant|can't|cannot|dont|don't|do not) see (?:any|the) buttons?(?: here)?"
    r"|where (?:is|are) the buttons?|(?:there(?:'s| is| are|s) )?no buttons?(?: here)?"
)
_AROUND_NO_BUTTONS = re.compile(
    r"wie soll ich das (?:denn )?machen|was soll ich (?:denn )?(?:tun|machen)|ich sehe nichts"
    r"|i (?:cant|can't|cannot|dont|don't|do not) see anything|hilfe|help"
)


def sees_no_buttons(text: str) -> bool:
    """Whether `text` says the buttons cannot be seen ("Ich sehe keinen Knopf", "Wo sind
    die Knöpfe?", "I don't see any buttons": found by a customer walk-through, an older
    customer who typed every answer was told again and again to tap one). Each sentence of
    a short message about the buttons or asking what to do ("Wie soll ich das denn machen?
    Ich sehe keinen Knopf."), not a comment that names a button ("Ich finde keinen Button
    zum Abmelden": a review)."""
    if len(text) > 120:
        return False
    said = [
        _GREETING.sub("", bare_words(sentence).translate(AS_ASCII)) for sentence in _sentences(text)
    ]
    # every sentence of it (not "Wo ist denn der Knopf? Der Wasserkocher geht nicht an",
    # a comment: the review)
    return any(_NO_BUTTONS.fullmatch(words) for words in said) and all(
        not words or _NO_BUTTONS.fullmatch(words) or _AROUND_NO_BUTTONS.fullmatch(words)
        for words in said
    )


def buttons_note(t: Translator) -> str:
    """Where the buttons are, to whoever cannot see them (see `sees_no_buttons`)."""
    return t.gettext(
        "The buttons are right under the question, at the end of its message; you may have "
        "to scroll down to see them. If your Telegram app shows none, please update it."
    )


def asks_if_required(text: str) -> bool:
    """Whether `text` asks whether one has to take part or answer ("Muss ich das machen?",
    "Do I have to answer this?"): found by a customer walk-through, stored as the comment."""
    return bool(_REQUIRED.fullmatch(bare_words(text).translate(AS_ASCII)))


def voluntary_note(t: Translator, *, skippable: bool) -> str:
    """The answer to `asks_if_required` in a survey."""
    if skippable:
        return t.gettext(
            "I did not store this message. No, taking part is voluntary: you can skip this "
            "question with its button, or end the survey with /cancel, which keeps none of "
            "your answers."
        )
    return t.gettext(
        "I did not store this message. No, taking part is voluntary: /cancel ends the survey "
        "and keeps none of your answers."
    )


_WHY_WORDS = frozenset(("warum", "wieso", "weshalb", "why"))
_DONE_OR_NOT = frozenset(("wurde", "wurden", "was", "were", "hat", "has", "nicht", "not", "kein"))
"""With a why, what makes a question a complaint ("Warum wurde meine Mail gelöscht?", "Why
was my address deleted?"), not one about privacy ("Why do you store my data?")."""
_CONTACT_DETAILS = (
    (re.compile(r"\b(?:phone|mobile|cell) number\b"), "telefonnummer"),
    (re.compile(r"\b(?:e ?mail|mail) (?:address|adresse)\b"), "emailadresse"),
)
"""One's contact details named in two words, as one (a phone or an e-mail alone may be a
device or a letter to the business: "What happens with my phone?")."""


# A data-rights command named in a short message: "Ich will /loeschen", "How does /delete
# work?", "Was macht /meinedaten?" (found by a hostile customer's walk-through: stored as
# the comment, which staff read as feedback).
_NAMES_A_RIGHTS_COMMAND = re.compile(
    r"(?<![\w/])/(?:meinedaten|mydata|loeschen|löschen|delete|widerruf|withdraw|datenschutz"
    r"|privacy)(?:@\w+)?(?![\w/])",
    re.IGNORECASE,
)


def about_privacy(text: str) -> bool:
    """Whether `text` is a short question about what happens to one's answers: "Ist das
    anonym?", "Wer liest das eigentlich?", "Is this anonymous?", "Who reads this?", "What
    happens to my data?" (found by a customer walk-through: stored as the comment staff
    read, or added to it). Begun with a question word or ended with a question mark, of
    OF_PRIVACY's words only, one of them PRIVACY_CUES' (or "geht … an": "Geht das an den
    Chef?"): not "Warum werden meine Daten nicht gelöscht?", a complaint, nor "Wer hat das
    Essen gekocht?"."""
    return _asks_about_a_command(text) or _about_privacy(text)


def _asks_about_a_command(text: str) -> bool:
    """Whether `text`, one sentence, names a data-rights command with a few words around
    it, a few more in a question: "Ich will /loeschen", "What does /mydata do?" (see the
    pattern); not "I like that /delete works instantly", a comment on it to store, nor a
    comment before such a question ("Der Kellner war unfreundlich. Was macht
    /meinedaten?": found by review, not stored)."""
    if not _NAMES_A_RIGHTS_COMMAND.search(text):  # (first: on every text answered)
        return False
    text = _GREETED.sub("", text, count=1) or text  # "Hallo! Was macht /meinedaten?"
    if _SENTENCE_GOES_ON.search(text.strip()):
        return False
    around = len(bare_words(_NAMES_A_RIGHTS_COMMAND.sub(" ", text)).split())
    return around <= (6 if "?" in text else 3)


_SENTENCE_GOES_ON = re.compile(r"[.!?;]\s+\S")


def _about_privacy(text: str) -> bool:
    """`about_privacy` but for a command named (see `_asks_about_a_command`)."""
    greeted = _GREETED.sub("", text, count=1)
    if greeted:  # "Hallo! Ist das anonym?" (a customer walk-through)
        text = greeted
    asked = questions_only(text)
    if asked:  # each of several ("Wo war das Personal? Wer hat das gesehen?" is no: review)
        # or one who serves asked after ("Und wer liest das? Der Apotheker?": found by a
        # customer walk-through, stored as the comment)
        return _about_privacy(asked[0]) and all(
            _about_privacy(question) or _names_who_serves(question) for question in asked[1:]
        )
    joined = unslanged(bare_words(text))
    for pattern, word in _CONTACT_DETAILS:  # "What happens to my phone number?" (review)
        joined = pattern.sub(word, joined)
    # "How long do you hold on to my data?", "… if I take part?" (a customer walk-through;
    # not "on" alone: "What is going on?", "keep me on hold", found by review)
    joined = _HOLD_ON_TO.sub("hold", _TAKE_PART.sub("participate", joined))
    if _GIVE_MY_NAME.fullmatch(joined.translate(AS_ASCII)):
        return True  # "Muss ich meinen Namen angeben?" (a customer walk-through: the comment)
    seen = _ROLE_SEES.fullmatch(joined.translate(AS_ASCII))
    role = seen and (
        seen["de"]
        or seen["modal"]
        or seen["en"]
        or seen["knows"]
        or seen["learns"]
        or seen["after"]
    )
    if role and "?" in text and _serves(role):
        return True  # "Sieht die Verkäuferin meinen Namen?" (a customer walk-through)
    if re.search(r"\b(?:bewahr|heb)\w*\b", joined):  # "Wie lange heben Sie das auf?"
        joined = re.sub(r" auf$", "", joined)  # ("auf" alone is no word of privacy: review)
    if _ONES_OWN.search(joined):
        # "Was passiert jetzt mit meinen Daten?", "Ist das jetzt anonym?" (a customer
        # walk-through), not "Was passiert jetzt mit dem Chef?" (review)
        joined = _NOW.sub("", joined)
    # (up to twelve words: "Was passiert denn mit meinen Daten, wenn ich hier was
    # schreibe?", found by a customer walk-through)
    words = _short_question(joined + ("?" if text.strip().endswith("?") else ""), OF_PRIVACY, 12)
    if any(word in _WHY_WORDS for word in words) and any(w in _DONE_OR_NOT for w in words):
        return False  # a complaint: "Warum wurde meine Mail gelöscht?" (review)
    return bool(words) and (
        any(word in PRIVACY_CUES for word in words)
        or ("an" in words and any(word in {"geht", "gehen"} for word in words))
        # whether the boss sees who wrote ("Sieht der Chef, dass ich das war?": found by a
        # customer walk-through, the comment)
        or (any(word in _SEEING for word in words) and any(word in _WHO_READS for word in words))
        # how long one's answers are kept ("How long do you keep it?": found by a customer
        # walk-through, told that feedback needs consent first; not "Can you keep it for
        # me?", found by review; nor keeping a thing oneself, "How long can I keep it?",
        # nor a thing keeping, "How long does it keep?": asked of whoever keeps it, review)
        or (
            any(word in _KEEP for word in words)
            and any(word in _LONG for word in words)
            and any(word in _ADDRESSED for word in words)
            and not _FOR_ME.search(joined)  # "Wie lange heben Sie mir das auf?" (review)
        )
    )


_KEEP = frozenset(
    "keep keeps retain hold aufbewahren bewahren bewahrt behalten behaltet behält behaelt heben "
    "hebt".split()
)
_ADDRESSED = frozenset(("you", "sie", "ihr"))
_ONES_OWN = re.compile(
    r"\b(?:meine[nmr]?|my) (?:daten|antworten|angaben|kommentar|feedback|data|answers|comment)\b"
    r"|\banonym|\b(?:das|dies|es|damit|it|this)\b"  # "Wer sieht das jetzt?" (review)
)
_FOR_ME = re.compile(r"\b(?:for me|fuer mich|für mich|mir)\b")
_NOW = re.compile(r"\b(?:jetzt|nun|now) ?")
_ROLES = frozenset(
    # whoever serves or leads, who might see who wrote (see `_ROLE_SEES`), as the redaction
    # knows them ("Sieht der Arzt das?", "Does the nurse see this?": a review of a shorter
    # list); not a thing, a pet or one's family ("Kann die App das lesen?", "Bekommt mein
    # Sohn das?": review)
    {role.replace("[ \t]+", " ").translate(AS_ASCII) for role in SERVING_ROLES}
    | set(
        "personal team rezeption vorgesetzter vorgesetzte staff boss seller employees "
        "reception owner inhaber besitzer eigentuemer server host".split()
    )
    | {"front desk", "head waiter"}
)


def _names_who_serves(question: str) -> bool:
    """Whether `question` only names one who serves ("Der Apotheker?", "Mein Chef?", "The
    manager?")."""
    words = bare_words(question).translate(AS_ASCII).split()
    if words and words[0] in ("auch", "also", "or", "oder", "und", "and"):
        words = words[1:]
    return 1 <= len(words) <= 2 and _serves(words[-1]) and (len(words) == 1 or words[0] in _OWNERS)


_OWNERS = frozenset("der die das mein meine unser unsere the my our".split())


def _serves(role: str) -> bool:
    """Whether `role` (one word or two, in ASCII) names one who serves or leads (see
    `_ROLES`), also as a woman's or in the plural ("Kellnerinnen", "waiters")."""
    ends = ("innen", "in", "en", "n", "s", "e")
    return role in _ROLES or any(role.endswith(end) and role[: -len(end)] in _ROLES for end in ends)


_LONG = frozenset(("long", "lange"))
_OBJECT_SEEN = (
    r"(?:das|es|dies|meinen namen|meinen kommentar|mein feedback|meine antworten?|"
    r"wer ich bin|dass ich das (?:war|geschrieben habe)|von wem das ist"
    r"|wer das (?:hier )?(?:geschrieben|geschickt) hat)"
)
_WHO_WROTE = (
    r"(?:wer ich bin|wer das (?:hier )?(?:geschrieben|geschickt) hat|dass ich das war"
    r"|von wem das ist)"
)
_ARTICLE = r"(?:die|der|das|mein|meine|unser|unsere)"
_ROLE_SEES = re.compile(
    # "Sieht die Verkäuferin meinen Namen?", "Kann der Kellner das lesen?", "Does the
    # waiter see my name?": whoever serves, seeing one's answers (found by a customer
    # walk-through: the comment). A role before an object of one's own only: "Hat jemand
    # die Bedienung gesehen?" is a complaint (review of a first version).
    rf"(?:(?:sieht|liest|erfaehrt|bekommt) {_ARTICLE} (?P<de>\w+)"
    rf"(?: auch)? {_OBJECT_SEEN}(?: auch)?(?: zu sehen| zu lesen)?"
    # knowing who wrote, and learning of it ("Weiß die Bedienung, dass ich das war?",
    # "Erfährt mein Chef davon?": a customer walk-through); not knowing what goes on ("Weiß
    # der Chef, was hier passiert?", "Weiß der Chef davon?": complaints, found by review)
    rf"|(?:weiss|wissen) {_ARTICLE} (?P<knows>\w+) {_WHO_WROTE}"
    rf"|erfaehrt {_ARTICLE} (?P<learns>\w+) davon"
    # the role after ("Sieht das mein Apotheker?": found by a customer walk-through)
    rf"|(?:sieht|liest|bekommt) {_OBJECT_SEEN} (?:auch )?{_ARTICLE} (?P<after>\w+)(?: auch)?"
    r"|(?:kann|wird|darf|koennen|werden) (?:die|der|mein|meine|unser|unsere) (?P<modal>\w+)"
    rf"(?: auch)? (?:{_OBJECT_SEEN} (?:sehen|lesen|erfahren)"
    rf"|(?:sehen|erfahren|wissen) {_WHO_WROTE})"
    # ("Kann die Bedienung sehen, wer das geschrieben hat?": found by a customer walk-through)
    r"|(?:will|does|can|would|do|could) (?:the|my|our) (?P<en>\w+(?: \w+)?) "
    r"(?:(?:see|read) |(?:know|find out)(?: |$))(?:this|that|it|my name|my comment|my feedback|"
    r"my answers?|who i am|who wrote (?:this|it)|(?:that )?it was me)?)"
)


_GREETED = re.compile(
    r"^(?:\s*(?i:hallo|hallöchen|hello|hi|hey|moin|servus|grüezi|gruezi|grüß gott|gruess gott"
    r"|guten (?:tag|morgen|abend)|good (?:morning|afternoon|evening|day)|morning|liebes team"
    r"|dear team)(?: (?i:zusammen|there|all|everyone|team|guys|nochmal|again))?"
    r"\s*(?:[,!.]+\s*|\s+))+"
)
"""Greetings opening a message, and what sets them off (as many as there are, at once: one
at a time, "hi hi hi …" ran out of stack, found by review)."""


_GIVE_MY_NAME = re.compile(
    r"(?:muss|muessen|soll|sollen) (?:ich|wir) (?:(?:da|hier|denn|wirklich|auch|dann) )*"
    r"(?:meinen namen|unseren namen|meine (?:telefonnummer|nummer|adresse|e mail|email|mail)"
    r"|(?:meine )?kontaktdaten) (?:angeben|nennen|sagen|schreiben|hinterlassen)"
    r"|do (?:i|we) (?:have|need) to (?:give|provide|enter|share|leave|tell you) (?:you )?"
    r"(?:my|our) (?:name|number|phone number|email|email address|address|contact details)"
    r"(?: here)?"
)
"""Whether one must name oneself: a question about one's data, not a comment."""
_HOLD_ON_TO = re.compile(r"\b(?:hold|hang) (?:on to|onto)\b")
_TAKE_PART = re.compile(r"\btake part\b")
_SEEING = frozenset("sieht sehen erfährt erfaehrt liest lesen see sees read reads".split())
_WHO_READS = frozenset(
    "chef chefin vorgesetzter vorgesetzte filialleiter filialleiterin inhaber team "
    "mitarbeiter personal boss manager owner staff employees".split()
)


def questions_only(text: str) -> list[str]:
    """The sentences of `text` where it is two questions or more and nothing else ("Ist das
    anonym? Sieht der Chef, dass ich das war?"); none otherwise."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    if len(sentences) < 2 or not all(s.rstrip().endswith("?") for s in sentences):
        return []
    return sentences


_HOW_CONTACTED = re.compile(
    r"(?:rufen sie mich|ruft ihr mich|rufst du mich|ruft (?:mich )?(?:dann )?(?:jemand|wer) "
    r"(?:mich )?)(?: \w+){0,2} an|(?:will|would|do|does) (?:you|someone|anyone) (?:then )?"
    r"(?:call|phone|ring) me(?: \w+){0,2}|(?:meldet sich|melden sie sich) (?:dann )?"
    r"(?:jemand|wer|bei mir)(?: \w+){0,2}|will someone (?:get in touch|contact me)(?: \w+){0,2}"
)


def asks_how_contacted(question: str) -> bool:
    """Whether a question asks how contact would happen ("Rufen Sie mich dann an?", "Will
    you call me?"): with a question about the consent, answered by it (see `Engine._text`)."""
    return _HOW_CONTACTED.fullmatch(bare_words(question).translate(AS_ASCII)) is not None


def only_privacy_questions(text: str) -> bool:
    """Whether `text` is questions only, each `about_privacy` ("Ist das anonym? Sieht der
    Chef, dass ich das war?": found by a customer walk-through, stored as the comment with
    a pointer); not with a complaint among them ("Ist das anonym? Warum war das Essen
    kalt?" is stored, with the pointer: review)."""
    asked = questions_only(text)
    return bool(asked) and all(about_privacy(question) for question in asked)


def asks_about_privacy_within(text: str) -> bool:
    """Whether one sentence of the longer `text` is a question `about_privacy` ("Ist das
    anonym? Der Kellner war unfreundlich."): the text is a comment, stored, with the
    question in it."""
    sentences = _sentences(text)
    return len(sentences) > 1 and any(about_privacy(sentence) for sentence in sentences)


def about_the_consent(text: str) -> bool:
    """Whether `text` typed at a consent question asks about it: a question mark alone, a
    short question of OF_THE_CONSENT's words, begun with a question word or ended with a
    question mark, or why it is asked (WHY_ASKED)."""
    if not bare_words(text):
        return text.strip().endswith("?")
    return bool(_short_question(text, OF_THE_CONSENT, 8)) or _said_alone(text, WHY_ASKED)


WHY_ASKED = typed_forms(
    {
        "warum wollen sie das wissen", "wieso wollen sie das wissen", "wozu wollen sie das wissen",
        "was wollen sie wissen", "was wollen sie von mir", "warum fragen sie das",
        "wieso fragen sie das", "was ist das hier", "was soll das hier",
        "why do you want to know", "why do you want to know that", "what do you want to know",
        "why are you asking", "why do you ask", "what is this for",
    }
)  # fmt: skip
"""Asking why the question is asked (found by a customer walk-through: "Warum wollen Sie
das wissen?" joined to the comment); phrases whole, not their words: "Wissen Sie, wer das
ist?" is more of a comment (review of a version that took the words)."""


def _short_question(text: str, vocabulary: frozenset[str], most: int) -> list[str]:
    """The words of `text` where it is a question of at most `most` words, all of
    `vocabulary`, begun with a question word (ASKING) or ended with a question mark; none
    otherwise."""
    words = [_word(word) for word in bare_words(text).split()]
    if not 0 < len(words) <= most or not all(word in vocabulary for word in words):
        return []
    return words if text.strip().endswith("?") or words[0] in ASKING else []


def typed_no(text: str) -> bool:
    """Whether `text` says no (DECLINES), also with words of politeness around it ("no
    thx", "ne danke", "No, please don't contact me", "Nein danke, nicht nötig") and as a
    no drawn out ("nooo", "Nöö"): found by a review of customers' phrasing, pointed to the
    buttons or, right after the comment, joined to it. Also said again ("no no no", "nein
    nein") and with a goodbye ("nope, bye"; see FAREWELLS), or with a short refusal after
    it ("Nein, das will ich nicht"; see REFUSAL_AFTER_A_NO). Not a no about a thing ("No,
    the food was cold", "no no, the food was cold")."""
    words = bare_words(text)
    core = _without_politeness(words)
    if words in DECLINES or core in DECLINES:
        return True
    rest = core
    for _ in range(_NO_SAID_AGAIN):  # no further: each round reads the rest anew (review)
        shorter = _without_politeness(_LEADING_NO.sub("", rest, count=1))
        if shorter == rest:
            break
        rest = _without_farewell(shorter)
        if not rest or rest in AFTER_A_NO or rest in DECLINES:
            return True
        if REFUSAL_AFTER_A_NO.fullmatch(rest.translate(AS_ASCII)):
            return True
    return False


_NO_SAID_AGAIN = 6
"""How often a no said again is read as one ("no no no", "nein, nein, danke")."""


def _without_farewell(words: str) -> str:
    """`words` (see `bare_words`) without a goodbye at the end (see FAREWELLS), nor the
    words of politeness before it ("danke, tschüss")."""
    farewell = _farewell_of(words)
    if not farewell:
        return words
    return _without_politeness(words.removesuffix(farewell).strip())


THANKS = typed_forms(
    {
        "danke", "dankeschön", "danke schön", "danke sehr", "vielen dank", "vielen lieben dank",
        "herzlichen dank", "besten dank", "tausend dank", "danke euch", "danke ihnen",
        "ok danke", "okay danke", "super danke", "alles klar danke", "prima danke", "merci",
        "thanks", "thank you", "thanks a lot", "thank you very much", "many thanks", "thx",
        "ty", "cheers", "ok thanks", "okay thanks", "great thanks", "thanks again",
        "thank you so much", "thanks so much", "danke dir", "danke vielmals", "vielen vielen dank",
    }
)  # fmt: skip
"""A thank-you alone, which needs no storing."""
ACKNOWLEDGEMENTS = typed_forms(
    {
        "ok", "okay", "oki", "alles klar", "super", "prima", "perfekt", "top", "gut", "schön",
        "gerne", "gern", "gern geschehen", "great", "perfect", "cool", "fine", "good", "nice",
        "you're welcome", "no problem", "kein problem", "ok cool", "cool thanks", "alles gut",
    }
)  # fmt: skip
"""An acknowledgement alone ("ok", "super", "alles klar")."""
_KIND_EMOJI = frozenset(
    "👍👌🙏❤♥😊🙂☺😀😃😄🥰🤗✌💪🌞☀🙋\ufe0f\u200d\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff "
)


def thanks_or_goodbye(text: str) -> str | None:
    """ "thanks" where `text` only thanks ("Danke!", "Vielen Dank, tschüss", "thanks 🙏"),
    "ok" where it only acknowledges or says goodbye ("ok", "Alles klar", "Tschüss", "👍");
    None where it says more (found by a customer walk-through: "thanks!" after the
    survey's thanks was told that no question was open and it had not been stored)."""
    if len(text) > 60 or text.rstrip().endswith("?"):  # "Alles gut?" asks (review)
        return None
    words = bare_words(text)
    if not words:
        kind = text.strip() and all(ch in _KIND_EMOJI for ch in text.strip())
        return "ok" if kind else None
    rest = _without_farewell(words)
    said = words if rest == words else words.removesuffix(_farewell_of(words)).strip()
    # joined by "und" ("Vielen Dank und einen schönen Tag noch": found by a customer
    # walk-through, told that no question was open)
    # ("Danke und", but not "Und" alone nor "Gut und": review)
    unjoined = re.sub(r" (?:und|and|u)$", "", said).strip()
    rest = re.sub(r"^(?:und|and|u)$", "", rest) if rest != words else rest
    if said in THANKS or unjoined in THANKS or rest in THANKS:
        return "thanks"
    if not rest or rest in ACKNOWLEDGEMENTS:
        return "ok"
    return None


def _farewell_of(words: str) -> str:
    """The goodbye `words` end with (see FAREWELLS), or ""."""
    for farewell in sorted(FAREWELLS, key=len, reverse=True):
        if words == farewell or words.endswith(" " + farewell):
            return farewell
    return ""


def _without_politeness(words: str) -> str:
    """`words` (see `bare_words`) without the words of politeness at either end."""
    parts = words.replace("thank you", "thanks").replace("vielen dank", "danke").split()
    while parts and parts[0] in POLITE:
        parts.pop(0)
    while parts and parts[-1] in POLITE:
        parts.pop()
    return " ".join(parts)


def _word(text: str) -> str:
    """A typed word as compared with a list of words: a phone's "don’t" as "don't"."""
    return _bare(text).replace("’", "'")


_OPTION_LIST = re.compile(r"\s*[,;\n]\s*")
_OPTION_AND = re.compile(r"(\s+(?:und|and|sowie|&|\+)\s+)", re.IGNORECASE)
"""What parts options typed in one message: a list's signs, then within a part "und",
"and" (kept, as a label may hold one: "Fehler und Abstürze und zu langsam")."""


def _labels_in(pieces: list[str], labels: dict[str, str]) -> list[str] | None:
    """The options whose labels `pieces` (words, and the "und"s between them, as
    `_OPTION_AND` splits) make up, in order; None where they make up no labels."""
    if not pieces:
        return []
    for end in range(1, len(pieces) + 1, 2):
        typed = _bare("".join(pieces[:end]))
        option = (
            labels.get(typed)
            or _label_with_words(typed, labels)
            or _label_with_slips(typed, labels)
        )
        if option is not None:
            rest = _labels_in(pieces[end + 1 :], labels)
            if rest is not None:
                return [option, *rest]
    return None


def _label_with_words(typed: str, labels: dict[str, str]) -> str | None:
    """The one option whose label holds every word of `typed`, a word or two of it
    ("bugs" for "Bugs and crashes", "langsam" for "Zu langsam"; found by a customer
    walk-through); None where none or several do."""
    words = set(_WORDS.findall(typed))
    if not words or len(words) > 2 or words & _NO_LABEL_WORDS:
        return None
    holding = {option for label, option in labels.items() if words <= set(_WORDS.findall(label))}
    return holding.pop() if len(holding) == 1 else None


_NO_LABEL_WORDS = frozenset("der die das the a an und and zu too to of von".split())
"""Words too common to tell an option by ("der" of "Der Preis")."""


def _label_with_slips(typed: str, labels: dict[str, str], *, in_part: bool = True) -> str | None:
    """The one option whose label `typed` is, word by word, but for a slip in a long word
    ("Fehler und Abstürtze", "Schwer zu bedinen", "bugs and crashs": found by a customer
    walk-through, refused and told to be written at the next question), or whose words
    one or two typed words are with such a slip ("crashs"; not with `in_part` false, for
    a single choice, which takes whole labels only). Never where a word denies
    ("Keine Funktion fehlt" is not "Eine Funktion fehlt") or a short word differs ("Too
    low" is not "Too slow"); None where no option or several are that near."""
    words = _WORDS.findall(typed.translate(AS_ASCII))  # "Abstuerze" (review)
    if not words or any(w in _DENYING for w in words):
        return None
    near = set()
    for label, option in labels.items():
        label_words = _WORDS.findall(label.translate(AS_ASCII))
        if len(words) == len(label_words):
            if all(_alike(w, lw) for w, lw in zip(words, label_words, strict=True)):
                near.add(option)
        elif in_part and len(words) <= 2 and not set(words) & _NO_LABEL_WORDS:
            if all(any(_near_in_part(w, lw) for lw in label_words) for w in words):
                near.add(option)
    return near.pop() if len(near) == 1 else None


def _near_in_part(typed: str, word: str) -> bool:
    """Whether `typed`, alone, is `word` of a label with a slip (see `_alike`), beginning
    with its letter; a word of five letters only with an "s", "e" or "n" added ("Preise",
    "crashs"). Found by review: "Pricey" chose "The price", "Feuer" and "Steuer" "Zu
    teuer", "Kissing" "A feature is missing"."""
    if typed == word:
        return True
    if not _alike(typed, word):
        return False
    return len(word) >= 6 or (typed[:-1] == word and typed[-1] in "sen")


def _alike(typed: str, word: str) -> bool:
    """Whether `typed` is `word`, or `word` of five letters or more with one slip (see
    `one_slip`: "Abstürtze", "bedinen", "crashs", "Fehelr"), but its first letter ("Der
    Kreis" is not "Der Preis": review). A letter changed for another is a slip only where
    the keys are neighbours or the letters sound alike ("Fehlet", "expencive": see
    `_KEYS_NEAR`): "Fehlen" is no "Fehler", nor "Clashes" "Crashes" (found by a review:
    each chose the option of bugs)."""
    if typed == word:
        return True
    if min(len(typed), len(word)) < 5 or typed[0] != word[0] or not one_slip(typed, word):
        return False
    if len(typed) != len(word):
        return True
    changed = [(a, b) for a, b in zip(typed, word, strict=True) if a != b]
    return len(changed) == 2 or changed[0][1] in _KEYS_NEAR.get(changed[0][0], "")


def _keys_near(rows: tuple[str, str, str]) -> dict[str, set[str]]:
    """The keys next to each key of a keyboard's three rows of letters (the rows set off
    to the right, each from the one above)."""
    near: dict[str, set[str]] = {}
    top, middle, bottom = rows

    def join(a: str, b: str) -> None:
        near.setdefault(a, set()).add(b)
        near.setdefault(b, set()).add(a)

    for row in rows:
        for left, right in itertools.pairwise(row):
            join(left, right)
    for upper, lower in ((top, middle), (middle, bottom)):
        for i, key in enumerate(lower):
            for j in (i, i + 1):
                if j < len(upper):
                    join(key, upper[j])
    return near


_GERMAN_KEYS = _keys_near(("qwertzuiopü", "asdfghjklöä", "yxcvbnm"))
_ENGLISH_KEYS = _keys_near(("qwertyuiop", "asdfghjkl", "zxcvbnm"))
_SOUNDS_ALIKE = ("csz", "ck", "iey", "uo", "oa", "yz")
"""Letters written for one another as they sound ("expencive", "The prize", "craches"), or
next to each other before an umlaut is written out ("Abstörze": ü, ö, ä), or where the
German and the English keyboard swap them ("Abstürye"): found by review."""
_KEYS_NEAR = {
    key: "".join(
        sorted(
            _GERMAN_KEYS.get(key, set())
            | _ENGLISH_KEYS.get(key, set())
            | {other for group in _SOUNDS_ALIKE if key in group for other in group if other != key}
        )
    )
    for key in _GERMAN_KEYS.keys() | _ENGLISH_KEYS.keys()
}
"""The keys next to each, on a German keyboard or an English one, and the letters that
sound alike."""


def one_slip(typed: str, word: str) -> bool:
    """Whether `typed` is `word` with one letter left out, added or changed, or two next to
    each other swapped."""
    if typed == word or abs(len(typed) - len(word)) > 1:
        return False
    if len(typed) == len(word):
        apart = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
        return len(apart) == 1 or (
            len(apart) == 2
            and apart[1] == apart[0] + 1
            and typed[apart[0]] == word[apart[1]]
            and typed[apart[1]] == word[apart[0]]
        )
    shorter, longer = sorted((typed, word), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


_DENYING = frozenset(
    "kein keine keinen keinem keiner keines nicht nichts nie no not none never nothing".split()
)
"""Words that deny: a label typed with one of them is never taken as a near label."""


def _bare(text: str) -> str:
    """`text` as one compares a typed word: in compatible, composed form (full-width
    letters, an "ü" typed as "u" and a dot), in lower case, without what is not a letter
    or digit around it ("(Skip?)", "skip…", a zero-width space)."""
    return _AROUND.sub("", unicodedata.normalize("NFKC", text).casefold())


# --- requests typed instead of sent as commands -------------------------------------
STOP, ERASE, WITHDRAW, SEE = "stop", "erase", "withdraw", "see"
TAKE_BACK = "take back"
"""What a request typed instead of a command asks for (see `typed_request`): to stop
the survey (/cancel), to erase one's data (/delete), to withdraw a consent (/withdraw),
to see what is stored (/mydata), to take back what one just wrote ("Delete that", "Oops
wrong chat": /cancel in a survey, /delete after it)."""

# Compared as `bare_words`, "ä", "ö", "ü" as "ae", "oe", "ue" ("ß" is "ss" already).
_EN_ASK = (
    r"(?:please|pls|plz|kindly|just|(?:can|could|would|will) (?:you|u)(?: please)?|"
    r"i (?:want|wish|need|would like)(?: you)? to|i'd like(?: you)? to|i ask you to|"
    r"you (?:can|may|should|must)|let me)"
)
_EN_ASK_TO_STOP = (
    r"(?:please|pls|plz|kindly|just|(?:can|could|would|will) (?:you|u)(?: please)?|"
    r"i (?:want|wish|need|would like) to|i'd like to|let me)"
)
"""Asking to stop (not "You should stop", advice to the business: found by review)."""
_EN_TAIL = (
    r"(?:please|pls|plz|now|right now|immediately|asap|thanks|thank you|thx|completely|"
    r"permanently|entirely|for good|too|as well|then|straight away|already)"
)
_EN_DATA = (
    r"(?:(?:all )?(?:of )?(?:my|the|any) |all )?(?:personal )?"
    r"(?:data|details|info|information|answers?|responses?|feedback)"
)
"""One's data here; not an "account", "records" or "entries", which are the business's
(found by review: "Please delete my account" was refused, as a request to /delete)."""
_EN_MINE = r"(?:my |the |this |that )?(?:last )?(?:comments?|reviews?|messages?|ratings?)"
"""What one just wrote here, to take back ("Delete my comment")."""
_EN_ABOUT_ME = r"(?:(?:you have |you hold |you know |you store |stored )?(?:about|on|of) me)"
_EN_SURVEY = r"(?:the whole thing|(?:the |this |my )?(?:survey|questionnaire|feedback))"
_EN_STOPPED = rf"(?:it|this|that|now|all|everything|all this|here|{_EN_SURVEY})"
_DE_TAIL = r"(?:bitte|danke|sofort|jetzt|endlich|komplett|vollstaendig|umgehend)"
_DE_DATA = (
    r"(?:alles|mich|(?:(?:alle|all|saemtliche) )?(?:(?:meine|die) )?(?:persoenlichen )?"
    r"(?:daten|angaben|antworten|eintraege|feedbacks|bewertungen)"
    # the bot's own word, as English "my feedback" (found by a customer's walk-through:
    # "Bitte mein Feedback löschen" was stored as the comment, or told that it stays)
    r"|(?:(?:mein|das|dieses|mein ganzes|das ganze|mein gesamtes|das gesamte) )?feedback)"
    r"(?: (?:ueber mich|von mir|was (?:sie|ihr|du) (?:ueber mich|von mir) "
    r"(?:haben|habt|hast|wissen|wisst|weisst|gespeichert haben|speichern)))?"
)
_DE_MINE = (
    r"(?:(?:meinen|den|diesen|meinen letzten|den letzten) )?kommentar|"
    r"(?:(?:meine|die|diese|meine letzte|die letzte) )?(?:nachricht|bewertung)"
)
"""What one just wrote here, to take back ("Bitte meinen Kommentar löschen")."""
_DE_ERASE = r"(?:l(?:oe|o)schen|entfernen|vernichten)"
_DE_WHEN = r"(?:(?:bitte|sofort|danach|dann|anschliessend|auch|gleich|umgehend) )*"
_DE_FILL = r"(?:(?:bitte|wieder|auch|einfach|doch|mal|gleich|sofort) )*"
"""Words said between ("Können Sie meine Angaben wieder löschen?", "… bitte auch meine
Daten löschen": found by a customer walk-through, stored as the comment)."""
_DE_FROM_SYSTEM = (
    r"(?: (?:bitte )?aus (?:ihrem|eurem|dem) system| (?:bitte )?aus (?:ihrer|eurer|der) datenbank)"
)
"""Where one's data is ("Löschen Sie mich aus Ihrem System"); not a list or newsletter,
which are the business's ("Bitte entfernen Sie mich von der Warteliste" is a comment)."""
_DE_CONTACT = r"(?: (?:zum|zur|fuer den|fuer die) (?:kontakt|kontaktaufnahme))"
_DE_SURVEY = r"(?:(?:die |diese )?(?:umfrage|befragung) )"
_DE_YOU = (
    r"(?:(?:koennen|konnen|koennten|konnten|wuerden|wurden) sie|"
    r"(?:koennt|konnt|koenntet|konntet|wuerdet|wurdet) ihr|"
    r"(?:kannst|koenntest|konntest|wuerdest|wurdest) du)"
)
"""Asked in the Sie, ihr or du form (found by a German customer's review: "Könnt ihr
meine Daten löschen?" was stored as the comment)."""
_OOPS = r"(?:(?:oops|ops|whoops|sorry|sry|ups|hoppla|oh|entschuldigung|pardon) )"
_MISTAKE = (
    rf"{_OOPS}*(?:(?:das war |war |this was |that was |it was )?(?:ein |a )?"
    r"(?:versehen|mistake) |(?:das war |war |this was |that was |it was )(?:falsch|wrong) )?"
)
"""Said before asking to take back what one just wrote ("Das war ein Versehen, bitte
löschen", "Das war falsch, bitte löschen")."""
_WHY = r"(?: (?:das |es )?war (?:ein |mein )?(?:versehen|fehler)| (?:das war |war )?falscher chat)"
"""Said after it ("Lösch das bitte wieder, war ein Versehen")."""


def _under_the_gdpr(article: int) -> str:
    """A reference to the GDPR, or to its `article`, written with a request ("nach Art.
    15 DSGVO", "DSGVO", "under Article 17 GDPR"), compared as `bare_words`."""
    gdpr = r"(?:eu )?(?:dsgvo|ds gvo|gdpr)"
    named = rf"(?:art|artikel|article) {article}(?: (?:abs|absatz|para) \d+)?"
    return (
        r"(?:(?:nach|gemaess|gem|laut|under|per|pursuant to|according to) )?"
        rf"(?:(?:der |the )?{gdpr}|{named}(?: (?:der |of the )?{gdpr})?|{gdpr} {named})"
    )


_ACCESS, _ERASURE, _OBJECTION = _under_the_gdpr(15), _under_the_gdpr(17), _under_the_gdpr(21)
_DE_PROCESSING = (
    r"(?:verarbeitung|nutzung|speicherung)"
    r"(?: (?:meiner|der) (?:persoenlichen |personenbezogenen )?daten)?"
)
_EN_PROCESSING = r"(?:processing|use|storage)(?: of my (?:personal )?data)?"
_ERASED_YET = re.compile(
    r"(?:(?:und|also|ok|okay|aber|so|jetzt) )*(?:ist|sind|wurde|wurden|habt|haben|hast|hat)"
    r"(?: (?:ihr|sie|du|jetzt|nun|wirklich|echt|denn|dann|auch|tatsaechlich|damit))* (?:alles"
    r"|alle (?:meine )?daten|meine daten|die daten|mein kommentar|meinen kommentar"
    r"|meine bewertung|mein feedback|meine antworten)"
    r"(?: (?:jetzt|nun|wirklich|auch|komplett|vollstaendig|endgueltig|ueberall))*"
    r" (?:weg|geloescht|entfernt)(?: (?:jetzt|nun))?"
    r"|(?:(?:und|also|ok|okay|jetzt) )*alles (?:weg|geloescht)(?: (?:jetzt|nun))?"
    r"|hat (?:das|es) (?:mit dem loeschen (?:geklappt|funktioniert)|(?:geklappt|funktioniert)"
    r" mit dem loeschen)"
    r"|(?:(?:so|and|ok|okay) )*(?:is|are|was|were|has|have)(?: (?:really|now|actually))*"
    r" (?:everything|it all|all my data|my data|my comment|my feedback|my rating|my answers)"
    r"(?: (?:really|now|actually|completely|all))* (?:gone|deleted|erased|removed)"
    r"(?: now)?"
    r"|(?:(?:so|and|ok|okay) )*(?:did|have) (?:you|u)(?: (?:really|actually))* (?:delete|deleted"
    r"|erase|erased|remove|removed) (?:everything|it all|all my data|my data|my comment"
    r"|my feedback|all of it)(?: (?:now|for real|really))?"
    r"|(?:(?:so|and|ok|okay) )*(?:has|have) (?:everything|all my data|my data|my comment"
    r"|my feedback)(?: (?:really|now|actually))? been (?:deleted|erased|removed)(?: now)?"
    r"|everything (?:gone|deleted|erased)(?: now)?"
)
"""A question whether one's data was erased: "Ist jetzt alles weg?", "Habt ihr wirklich
alles gelöscht?", "Is everything gone now?", "Did you really delete everything?" (found by a
customer walk-through: after /loeschen told to agree to the consent request, and in a
survey begun again stored as the comment)."""


_REQUESTS = {
    ERASE: (
        rf"(?:{_EN_ASK} )*(?:delete|erase|remove|wipe|clear|purge|destroy|forget(?: about)?)"
        rf" (?:{_EN_DATA}|everything|all(?: of it)?|it all|me)(?: {_EN_ABOUT_ME})?"
        r"(?: from (?:your|the) (?:database|system|files|servers?))?"
        rf"(?: {_ERASURE})?(?: {_EN_TAIL})*",
        rf"(?:{_EN_ASK} )*(?:(?:i want|i'd like|i would like|i need|please have|have) )?"
        rf"(?:{_EN_DATA}|everything) (?:(?:to be|should be|must be|be) )?"
        rf"(?:deleted|erased|removed|wiped|forgotten)(?: {_EN_TAIL})*",
        rf"(?:{_EN_ASK} )*(?:data )?(?:deletion|erasure)(?: request)?"
        rf"(?: of (?:all )?my data)?(?: {_ERASURE})?(?: {_EN_TAIL})*",
        # the right named as the law names it (found by a hostile customer's review:
        # "Recht auf Vergessenwerden", "Löschung nach Art. 17 DSGVO" were the comment)
        rf"(?:{_EN_ASK} )*(?:i (?:hereby )?(?:request|invoke|exercise|claim) )?(?:my )?"
        rf"right to (?:be forgotten|erasure)(?: {_ERASURE})?(?: {_EN_TAIL})*",
        r"(?:ich (?:beantrage|verlange|fordere|mache) (?:hiermit )?|(?:ich )?bitte um )?"
        r"(?:mein |das )?recht auf (?:vergessenwerden|vergessen werden|l(?:oe|o)schung)"
        rf"(?: {_ERASURE})?(?: geltend)?(?: {_DE_TAIL})*",
        rf"{_ERASURE} (?:daten)?l(?:oe|o)schung(?: {_DE_TAIL})*",
        rf"{_DE_FILL}{_DE_DATA} {_DE_FILL}(?:{_DE_ERASE})(?: lassen)?(?: {_DE_TAIL})*",
        # "danach", "dann" as said after a comment (found by a second review of customers'
        # phrasing: "Zimmer war dreckig. Bitte löschen Sie danach meine Daten." no pointer)
        rf"(?:bitte )?(?:{_DE_ERASE}|vergessen) sie {_DE_WHEN}{_DE_DATA}"
        rf"{_DE_FROM_SYSTEM}?(?: {_DE_TAIL})*",
        rf"{_DE_YOU} {_DE_FILL}{_DE_DATA} {_DE_FILL}{_DE_ERASE}(?: {_DE_TAIL})*",
        r"(?:bitte )?(?:l(?:oe|o)sche?|l(?:oe|o)scht|entferne|vergiss|vergesst) "
        rf"{_DE_WHEN}{_DE_DATA}{_DE_FROM_SYSTEM}?(?: {_DE_TAIL})*",
        r"bitte l(?:oe|o)schen",
        r"ich (?:moechte|will|wuerde|haette|bitte sie|bitte)(?: gerne?)?(?: dass(?: sie)?)? "
        rf"{_DE_DATA}{_DE_FROM_SYSTEM}? (?:bitte )?"
        rf"(?:{_DE_ERASE}(?: lassen)?|(?:geloescht|entfernt)(?: (?:haben|werden|wissen))?)"
        rf"(?: {_DE_TAIL})*",
        # in the ihr or du form (found by a review of customers' phrasing: the comment)
        r"ich (?:moechte|will|wuerde gerne?|haette gerne?) dass (?:ihr|du) "
        rf"{_DE_DATA}{_DE_FROM_SYSTEM}? (?:bitte )?"
        rf"(?:l(?:oe|o)scht|l(?:oe|o)schst|entfernt|entfernst)(?: {_DE_TAIL})*",
        r"(?:ich bitte um |bitte |ich (?:beantrage|verlange) |antrag auf )?(?:die )?"
        r"(?:daten)?l(?:oe|o)schung(?: (?:meiner|aller|der) (?:daten|angaben))?"
        rf"(?: {_ERASURE})?(?: {_DE_TAIL})*",
    ),
    WITHDRAW: (
        rf"(?:{_EN_ASK} )*(?:i (?:hereby )?)?(?:withdraw|revoke|retract|take back)"
        r"(?: (?:all of |all )?(?:(?:my|the) )?(?:consents?|permission|agreement)"
        rf"(?: to (?:be contacted|contact me|contacting me))?)?(?: {_EN_TAIL})*",
        rf"(?:{_EN_ASK} )*cancel (?:all of |all )?(?:my|the) consents?(?: {_EN_TAIL})*",
        r"(?:ich )?(?:moechte |will )?(?:(?:meine|die) )?einwilligung(?:en)?"
        rf"{_DE_CONTACT}? (?:widerrufen|zurueckziehen)(?: {_DE_TAIL})*",
        r"(?:ich )?widerrufe (?:hiermit )?(?:(?:meine|die) )?einwilligung(?:en)?"
        rf"{_DE_CONTACT}?(?: {_DE_TAIL})*",
        r"ich widerrufe(?: hiermit)?(?: alles)?",
        rf"ich ziehe (?:meine|die) einwilligung(?:en)?{_DE_CONTACT}? zurueck",
        # not to be contacted any more, after agreeing (found by a German customer's
        # review: "Bitte nicht mehr kontaktieren" got the general reply)
        rf"(?:bitte )?(?:nicht mehr kontaktieren|kein(?:en)? kontakt mehr)(?: {_DE_TAIL})*",
        # and not to be written to (found by a customer walk-through: "Hört auf, mir zu
        # schreiben", "stop messaging me" got "Send /start to give feedback again")
        rf"(?:bitte )?(?:hoert|hoeren sie|hoer) (?:bitte )?auf(?: damit)? mir zu schreiben"
        rf"(?: {_DE_TAIL})*",
        rf"(?:bitte )?(?:schreiben sie|schreibt|schreib) mir (?:bitte )?(?:nicht mehr|nie "
        rf"wieder)(?: {_DE_TAIL})*",
        rf"(?:bitte )?nicht mehr (?:anschreiben|schreiben|kontaktieren)(?: {_DE_TAIL})*",
        r"ich (?:moechte|will) (?:bitte )?(?:von (?:euch|ihnen|dir) )?nicht mehr "
        r"(?:von (?:euch|ihnen|dir) )?(?:angeschrieben|kontaktiert|angerufen) werden"
        rf"(?: {_DE_TAIL})*",
        rf"(?:{_EN_ASK} )*stop (?:contacting|messaging|texting|writing to|bothering) me"
        rf"(?: (?:again|anymore|any more))?(?: {_EN_TAIL})*",
        r"(?:please )?(?:don't|dont|do not) (?:message|text|write to|write) me"
        rf"(?: (?:again|anymore|any more))?(?: {_EN_TAIL})*",
        r"i (?:don't|dont|do not) want (?:to be (?:messaged|written to)|to hear from you|any "
        rf"more messages)(?: (?:again|anymore|any more))?(?: {_EN_TAIL})*",
        rf"(?:bitte )?kontaktieren sie mich (?:bitte )?nicht mehr(?: {_DE_TAIL})*",
        rf"ich (?:moechte|will) (?:bitte )?nicht mehr kontaktiert werden(?: {_DE_TAIL})*",
        r"(?:please )?(?:don't|dont|do not) contact me(?: (?:again|anymore|any more))?"
        rf"(?: {_EN_TAIL})*",
        r"i (?:don't|dont|do not) want to be contacted(?: (?:again|anymore|any more))?"
        rf"(?: {_EN_TAIL})*",
        rf"(?:bitte )?widerruf(?:en)?(?: {_DE_TAIL})*",
        # as a noun (found by a review of customers' phrasing: the comment, shown to staff)
        r"(?:(?:ich erklaere |hiermit |bitte )*(?:den )?)?widerruf (?:meiner|der|aller) "
        rf"(?:(?:erteilten|gegebenen) )?einwilligung(?:en)?{_DE_CONTACT}?(?: {_DE_TAIL})*",
        # an objection (Art. 21), which ends the processing as a withdrawal does (found
        # by a hostile customer's review: "Ich widerspreche der Verarbeitung meiner
        # Daten" was the comment, and staff read it)
        r"(?:(?:ich (?:lege|erhebe)|hiermit (?:lege|erhebe) ich) (?:hiermit )?)?"
        r"widerspruch(?: gegen (?:die )?"
        rf"{_DE_PROCESSING})?(?: {_OBJECTION})?(?: ein)?(?: {_DE_TAIL})*",
        r"(?:(?:ich )?widerspreche|hiermit widerspreche ich)(?: hiermit)?"
        rf"(?: der {_DE_PROCESSING})?(?: {_OBJECTION})?(?: {_DE_TAIL})*",
        rf"ich (?:moechte|will) (?:hiermit )?der {_DE_PROCESSING} widersprechen",
        rf"i (?:hereby )?object(?: to (?:the )?{_EN_PROCESSING})?(?: {_OBJECTION})?"
        rf"(?: {_EN_TAIL})*",
        rf"(?:my )?objection (?:to (?:the )?{_EN_PROCESSING}(?: {_OBJECTION})?|{_OBJECTION})",
    ),
    STOP: (
        # not "unsubscribe", "opt out", "I want to cancel", said of a newsletter or an
        # order as well (found by review: refused, the customer told to send /cancel)
        r"(?:(?:please|pls|plz|kindly|just) )*(?:cancel|stop|quit|exit|abort|end)"
        rf"(?: {_EN_STOPPED})?(?: {_EN_TAIL})*",
        rf"(?:{_EN_ASK_TO_STOP} )+(?:stop|quit|exit|abort)(?: {_EN_STOPPED})?(?: {_EN_TAIL})*",
        rf"(?:{_EN_ASK_TO_STOP} )+(?:cancel|end) (?:this|{_EN_SURVEY})(?: {_EN_TAIL})*",
        # (after a change of mind: "actually no, don't store it", "I changed my mind, I don't
        # want you to keep my feedback", found by a customer walk-through: added to it)
        r"(?:(?:actually|no|nope|wait|sorry|oh|hmm|i(?: have|ve)? changed my mind) )*"
        r"(?:please )?(?:don't|dont|do not) (?:store|save|keep|record) (?:this|that|it|"
        rf"anything|my (?:data|answers?|feedback|comment|details))(?: {_EN_TAIL})*",
        r"(?:(?:actually|no|nope|wait|sorry|oh|i(?: have|ve)? changed my mind) )*"
        r"i (?:don't|dont|do not) want (?:you )?to (?:store|save|keep|record) (?:this|that|it|"
        rf"anything|my (?:data|answers?|feedback|comment|details))(?: {_EN_TAIL})*",
        r"i (?:don't|dont|do not) want to (?:continue|go on|do this|take part|participate|"
        r"answer|do the survey)(?: (?:anymore|any more|after all|thanks|thank you))*",
        # after "keine Lust mehr" (found by a second review of customers' phrasing: the
        # comment); not that alone, which may be about the shop ("keine Lust mehr auf …")
        rf"(?:(?:ich )?(?:habe |hab )?keine lust mehr )?(?:bitte )?{_DE_SURVEY}?"
        rf"(?:abbrechen|beenden|stoppen|aufhoeren)(?: {_DE_TAIL})*",
        rf"(?:bitte )?(?:stopp|stop|abbruch|hoer auf|hoeren sie auf)(?: {_DE_TAIL})*",
        r"(?:bitte )?(?:brechen|beenden|stoppen) sie (?:bitte )?"
        rf"(?:(?:die |diese )?(?:umfrage|befragung)|das|es)?(?: ab)?(?: {_DE_TAIL})*",
        r"ich (?:moechte|will|wuerde|mag)(?: gerne?)? (?:(?:die |diese )?(?:umfrage|befragung) )?"
        rf"(?:abbrechen|beenden|aufhoeren|stoppen)(?: {_DE_TAIL})*",
        r"ich (?:will|moechte|mag) (?:doch )?nicht mehr"
        rf"(?: (?:mitmachen|teilnehmen|weitermachen|antworten))?(?: {_DE_TAIL})*",
        rf"ich (?:will|moechte|mag) (?:doch )?nicht (?:mitmachen|teilnehmen)(?: {_DE_TAIL})*",
        # a change of mind (found by a customer walk-through: stored as the comment staff
        # read, with a low rating sent on as an alert)
        r"(?:(?:ach|also|nein|nee|sorry|actually|oh) )*(?:i(?: have|ve)? changed my mind|"
        r"i(?: have|ve)? changed my mind i (?:don't|dont|do not) want to (?:do this|continue)|"
        r"(?:just )?forget (?:it|about it)|never ?mind forget it|"
        r"ich (?:habe|hab) (?:(?:es|mir|das|doch) )+anders ueberlegt|"
        r"(?:vergessen sie es|vergiss es|vergessen wir das|schon gut vergessen sie es))"
        rf"(?: {_DE_TAIL}| {_EN_TAIL})*",
        rf"(?:bitte )*(?:nicht|nichts|das nicht|das bitte nicht) speichern(?: {_DE_TAIL})*",
        # as "don't store my comment" (found by a hostile customer's review: "Bitte meinen
        # Kommentar nicht speichern" was stored as the comment, and staff saw it)
        rf"(?:bitte )?(?:{_DE_MINE}|meine (?:daten|antworten)) (?:bitte )?nicht speichern"
        rf"(?: {_DE_TAIL})*",
        rf"(?:bitte )?speichern sie (?:das |dies |meine daten |(?:{_DE_MINE}) )?(?:bitte )?nicht",
    ),
    SEE: (
        rf"(?:{_EN_ASK} )*(?:show|send|give|tell)(?: me)? (?:all |a copy of )?(?:my|the) "
        r"(?:personal )?(?:data|information|info)(?: (?:you (?:have|hold|store|keep)|stored))?"
        rf"(?: (?:about|on|of) me)?(?: {_EN_TAIL})*",
        r"(?:what|which) (?:personal )?(?:data|information|info) (?:do|did) you "
        r"(?:have|hold|store|keep|save|collect)(?: (?:about|on|of) me)?",
        r"what (?:do you|did you|have you) (?:know|have|store|stored|keep|hold|collected)"
        r" (?:about|on) me",
        r"what (?:is|have you) stored (?:about|on) me",
        # what was stored, and a copy of it (found by a customer walk-through: "can u send
        # me a copy of what u stored?" got no word of /mydata)
        rf"(?:{_EN_ASK} )*(?:show|send|give|tell)(?: me)? (?:a copy of )?(?:what|everything)"
        r" (?:you|u) (?:have )?(?:stored|saved|store|keep|hold)(?: (?:about|on|of) me)?"
        rf"(?: {_EN_TAIL})*",
        r"what (?:did|have) (?:you|u) (?:stored?|saved?|kept)(?: (?:about|on|of) me)?",
        rf"(?:{_EN_ASK} )*(?:see|view|access|get|download|export) (?:all )?my "
        rf"(?:personal )?(?:data|information|info)(?: {_EN_TAIL})*",
        r"my data",
        # as a question, and as a file (found by a customer walk-through: "can I get a copy
        # of my data as a file?" got "please tap a button" alone)
        r"(?:can|could|may) i (?:please )?(?:get|have|see|download|export|access) (?:a copy of )?"
        r"(?:all )?my (?:personal )?(?:data|information|info)(?: (?:you (?:have|hold|store)|"
        r"stored))?(?: (?:as a file|as json|in a file|please))*",
        r"(?:kann|koennte|darf) ich (?:bitte )?(?:eine kopie )?(?:meiner|meine) (?:daten|angaben)"
        r"(?: (?:als datei|bitte))*(?: (?:bekommen|haben|sehen|herunterladen|einsehen))",
        r"welche (?:daten|informationen|angaben) (?:(?:haben|speichern|kennen|besitzen) sie|"
        r"(?:habt|speichert|kennt) ihr|(?:hast|speicherst|kennst) du)"
        r"(?: (?:ueber mich|von mir))?(?: gespeichert)?",
        r"was (?:(?:wissen|speichern|haben) sie|(?:wisst|speichert|habt) ihr|"
        r"(?:weisst|speicherst|hast) du) (?:ueber mich|von mir)(?: gespeichert)?",
        r"was ist (?:ueber mich|von mir) gespeichert",
        r"was (?:haben sie|habt ihr|hast du) (?:(?:ueber mich|von mir) )?gespeichert",
        r"(?:bitte )?(?:senden sie|schicken sie|schick|geben sie) mir (?:bitte )?eine kopie "
        r"(?:meiner daten|von meinen daten|davon|dessen was sie gespeichert haben)"
        rf"(?: {_DE_TAIL})*",
        r"(?:bitte )?(?:zeigen sie|zeig|senden sie|schicken sie) mir (?:bitte )?(?:alle )?"
        rf"(?:meine )?daten(?: {_DE_TAIL})*",
        r"(?:ich moechte |ich will )?meine daten(?: (?:anzeigen|sehen|zeigen|einsehen))?",
        r"(?:ich moechte |ich will |bitte um )?(?:daten)?auskunft(?: ueber meine daten)?",
        # the word that names one's data takes a "bitte" (found by a review of customers'
        # phrasing: the comment, without a pointer); "Auskunft bitte" may be about an order
        rf"(?:ich moechte |ich will |(?:ich )?bitte um )?datenauskunft(?: {_DE_TAIL})*",
        # as the law names it (found by a hostile customer's review: "Auskunft nach Art.
        # 15 DSGVO" was the comment)
        r"(?:ich (?:beantrage|verlange|fordere) (?:hiermit )?|(?:ich )?bitte um |antrag auf )?"
        r"(?:eine )?(?:daten)?auskunft(?:sersuchen|santrag)?(?: ueber meine (?:persoenlichen |"
        rf"personenbezogenen )?daten)? {_ACCESS}(?: {_DE_TAIL})*",
        rf"{_ACCESS} (?:daten)?auskunft(?:sersuchen|santrag)?(?: {_DE_TAIL})*",
        rf"(?:{_EN_ASK} )*(?:(?:data )?subject )?access request(?: {_ACCESS})?(?: {_EN_TAIL})*",
        rf"{_ACCESS} (?:data )?(?:subject )?access request",
        rf"(?:{_EN_ASK} )*(?:i (?:hereby )?(?:request|invoke|exercise|claim) )?(?:my )?"
        rf"right (?:of|to) access(?: {_ACCESS})?(?: {_EN_TAIL})*",
    ),
    TAKE_BACK: (
        # what one just wrote, asked to be taken back (found by a customer's review: "Delete
        # that" sent after the comment was added to it)
        rf"{_MISTAKE}(?:{_EN_ASK_TO_STOP} )*(?:delete|erase|remove|undo|cancel) "
        rf"(?:{_EN_MINE}|that|this|it|all (?:of )?(?:that|this)|what i (?:just )?wrote)"
        rf"(?: (?:again|too|as well))?(?: {_EN_TAIL})*",
        rf"{_MISTAKE}(?:bitte )?(?:{_DE_MINE}|das|dies|es) (?:(?:bitte|alles|wieder) )*"
        rf"(?:{_DE_ERASE}|zurueckziehen)(?: {_DE_TAIL})*",
        rf"{_MISTAKE}(?:bitte )?(?:{_DE_ERASE}|l(?:oe|o)sch[et]?|entferne) (?:sie |ihr )?"
        rf"(?:bitte )?(?:{_DE_MINE}|das|dies|es)(?: (?:bitte|wieder|sofort|alles|jetzt|endlich))*"
        rf"{_WHY}?",
        rf"{_DE_YOU} (?:bitte )?(?:{_DE_MINE}|das|dies|es) (?:bitte )?(?:alles )?(?:bitte )?"
        rf"(?:wieder )?{_DE_ERASE}",
        rf"ich (?:moechte|will|wuerde gerne?) (?:{_DE_MINE}|das) (?:alles )?(?:wieder )?"
        rf"(?:{_DE_ERASE}|zurueckziehen)(?: {_DE_TAIL})*",
        rf"{_MISTAKE}(?:bitte )?(?:l(?:oe|o)schen|entfernen)(?: {_DE_TAIL})*",
        rf"{_OOPS}*(?:(?:wrong|falscher) (?:chat|bot)|(?:das war |war )?(?:der )?falsche chat|"
        r"(?:this was |that was |it was )?(?:the )?wrong chat)(?: (?:sorry|entschuldigung))?",
        # in other words (found by a review of the first version: added to the comment)
        r"(?:bitte )?(?:l(?:oe|o)sche?|entferne|vergiss|streich) (?:das|dies|es)"
        r"(?: (?:bitte|wieder))*",
        rf"{_OOPS}*(?:das war |war )?(?:ein|mein) (?:versehen|fehler)"
        r"(?: (?:sorry|entschuldigung|bitte loeschen|bitte losch|bitte ignorieren))*",
        r"(?:oops|ops|whoops|ups|hoppla)",
        r"(?:scratch|ignore) (?:that|this|it)(?: (?:please|pls|plz|sorry|wrong chat|lol|haha))*",
        # in German (found by a second review of customers' phrasing: the comment)
        r"(?:bitte )?(?:(?:das|dies|meinen kommentar|meine (?:letzte )?nachricht) )?(?:bitte )?"
        rf"ignorieren(?: sie)?(?: (?:bitte|danke))*{_WHY}?",
        r"(?:bitte )?(?:ignorier|ignoriere|ignoriert|ignorieren sie) (?:bitte )?"
        rf"(?:das|dies|{_DE_MINE})(?: (?:bitte|danke))*{_WHY}?",
        # not to store, said of a slip: what one just wrote (not the survey as a whole)
        rf"(?:bitte )*(?:das )?(?:bitte )?nicht speichern{_WHY}",
        r"(?:wrong chat|my (?:mistake|bad))(?: (?:sorry|delete that|delete this|please"
        r" delete that|ignore that))*",
        rf"(?:please )?(?:delete|remove) my (?:previous|last) (?:comment|message|answer)"
        rf"(?: {_EN_TAIL})*",
        # forgetting, said of what one wrote (found by a second diff review: added to the
        # comment); not "forget it", a comment as often (an order, a complaint given up)
        rf"(?:please )?(?:forget|ignore|disregard) (?:about )?(?:my |the )?(?:previous |last )?"
        rf"(?:comment|message|answer)s?(?: {_EN_TAIL})*",
        r"(?:bitte )?(?:vergiss|vergesst|vergessen sie) (?:bitte )?(?:meinen|meine|den|die) "
        r"(?:letzten |letzte |vorigen |vorige )?(?:kommentar|nachricht|nachrichten|antwort)"
        r"(?: (?:bitte|wieder))*",
        # the Undo button's word typed, and the answer sent to the wrong question (found by
        # a customer walk-through: added to the comment they were to take out)
        r"(?:please )?undo(?: (?:please|pls|that|this|it))*",
        # a bare "delete" and a please (found by a customer walk-through: "delete pls" sent
        # after the comment was added to it)
        r"(?:please |pls |plz )?(?:delete|remove|erase)(?: (?:please|pls|plz|it|that|this))+",
        r"(?:bitte )?(?:rueckgaengig|ruckgangig)(?: machen)?(?: bitte)?",
        r"(?:bitte )?streichen sie (?:bitte )?(?:das|dies|es)(?: bitte)?",
        rf"{_OOPS}*(?:(?:that was |this was |das war )?(?:the |die )?"
        r"(?:wrong question|falsche frage))(?: (?:sorry|entschuldigung))?",
        # only the rating to be kept (see declines_comment)
        _DECLINED_COMMENT,
    ),
}
_REQUEST_PATTERNS = {
    kind: re.compile("|".join(f"(?:{p})" for p in patterns)) for kind, patterns in _REQUESTS.items()
}
_REQUEST_WORDS = 14  # a request is short; a longer message is a comment
_GREETING = re.compile(
    r"^(?:(?:hallo|hello|hi|hey|moin|servus|grue?ezi|grue?ss gott|guten (?:tag|morgen|abend)|"
    r"good (?:morning|afternoon|evening)|liebes team|dear team)"
    r"(?: (?:zusammen|there|all|everyone|team))? )+"
)
"""A greeting before a request, as a chat message begins ("Hallo, bitte meine Daten
löschen", "Grüezi, …": found by a review of customers' phrasing, stored as the comment)."""


_YES_FIRST = re.compile(r"^(?:ja|jawohl|doch|yes|yeah|yep|ok|okay)(?: (?:bitte|please))? (?=\w)")


_SLANG = {"u": "you", "ya": "you", "ur": "your", "pls": "please", "plz": "please", "k": "ok"}


def unslanged(words: str) -> str:
    """`words` (see `bare_words`) with a chat's short forms written out: "can u delete all
    that", "what do u do with my data?" (found by a customer walk-through: the comment)."""
    return " ".join(_SLANG.get(word, word) for word in words.split())


def asks_if_erased(text: str) -> bool:
    """Whether `text`, as a whole, asks whether one's data was erased (see `_ERASED_YET`):
    a question ("Jetzt ist alles weg 😭" tells of something lost: the review), also after a
    yes ("Ja, ist jetzt alles weg?")."""
    words = _YES_FIRST.sub("", _GREETING.sub("", unslanged(bare_words(text)).translate(AS_ASCII)))
    if "?" not in text and not _ASKED_BY_ITS_VERB.match(words):
        return False  # (a question by its first word: "ist jetzt alles gelöscht", a re-check)
    return len(words.split()) <= _REQUEST_WORDS and _ERASED_YET.fullmatch(words) is not None


_ASKED_BY_ITS_VERB = re.compile(
    r"(?:ist|sind|wurde|wurden|habt|haben|hast|hat|is|are|was|were|has|have|did) "
)


def typed_request(text: str) -> str | None:
    """What `text` typed in the chat asks for, as a whole message, instead of the command:
    STOP, ERASE, WITHDRAW or SEE; None when it is no such request (found by an English
    customer's review: "please erase everything", "forget me", "Stop the survey" were
    stored as the comment). The whole message, not a word in it: "Please remove the
    onions", "Stop the loud music" are comments, and a comment taken for a request could
    not be given at all."""
    greeted = _GREETING.sub("", unslanged(bare_words(text)).translate(AS_ASCII))
    # and after a yes, as said to the erase question above ("Ja, alles löschen": found by
    # a review of customers' phrasing, stored as the comment of the survey asked again)
    for words in dict.fromkeys((greeted, _YES_FIRST.sub("", greeted))):
        if words in ABOUT_ONES_DATA:  # the phrases known before, as they were
            return _ALONE.get(words, ERASE)
        if not words or len(words.split()) > _REQUEST_WORDS:
            continue
        for kind, pattern in _REQUEST_PATTERNS.items():
            if pattern.fullmatch(words):
                return kind
    return None


def demands_erasure(text: str) -> bool:
    """Whether `text`, one sentence, demands in words of one's own that one's data be
    erased: "Ich will, dass Sie alle meine Daten sofort löschen!", "Ich verlange die
    sofortige Löschung meiner Daten", "Weg mit meinen Daten!", "Löschen Sie alles, was Sie
    über mich gespeichert haben, und zwar SOFORT" (found by a customer walk-through: stored
    as the comment, no word of /loeschen). Not read as a request that keeps a text answer
    from being stored (a review of a version that did: "Nach dem Update sind alle meine
    Daten weg", "Die App löscht meine Einträge, bitte beheben" were lost), only pointed to
    /loeschen (see `request_at_the_end`). The erasing word as one asks for it (not "löscht",
    "gelöscht"), one's data within a few words of it, and a demand; not denied, asked how,
    where or why, told of as done, nor of an app, a booking, a card or a list of the
    business's, which staff are to act on."""
    words = _GREETING.sub("", unslanged(bare_words(text)).translate(AS_ASCII))
    if _WANTS_IT_ERASED.fullmatch(words):
        return True  # "Ich möchte, dass das alles wieder gelöscht wird", "I want it deleted"
    if not 0 < len(words.split()) <= _DEMAND_WORDS or _NOT_A_DEMAND.search(words):
        return False
    if _DATA_GONE.fullmatch(words) or _AWAY_WITH.search(words):
        return True  # "Meine Daten sofort weg!", "Weg mit meinen Daten!"
    near = _ERASING_NEAR_DATA.search(words) or _SAID_TO_THEM.search(words)
    return near is not None and (
        _DEMANDING.search(words) is not None or _ERASING.match(words) is not None
    )


_DEMAND_WORDS = 20
_WANTS_IT_ERASED = re.compile(
    # wanting it erased, said as whom it is done by ("Ich möchte, dass das alles wieder
    # gelöscht wird": found by a customer walk-through, after the survey, with no word of
    # /loeschen); one's answers or data only, not denied
    r"(?:(?:bitte|also|und|so|please|and) )*"
    r"(?:(?:ich (?:moechte|will|verlange)|wir (?:moechten|wollen))(?: (?:bitte|jetzt|auch))* "
    r"dass (?:sie |ihr )?(?:das|es|alles|das alles|alle meine daten|meine daten|meine angaben"
    r"|alles von mir|alles ueber mich|mein feedback|mein kommentar|meine antworten)"
    r"(?: (?:wieder|sofort|umgehend|bitte|komplett|vollstaendig|jetzt|auch))* "
    r"(?:geloescht|entfernt|vernichtet) (?:wird|werden)"
    r"|i (?:want|would like|d like|need|demand) (?:it|this|that|everything|all of (?:this|it)"
    r"|all this|all that|my data|all my data|all of my data|my details|my info|my information"
    r"|everything about me"
    r"|my feedback|my comment|my answers)(?: (?:all|now|please|immediately))* (?:to be )?"
    r"(?:deleted|removed|erased|wiped))"
    r"(?: (?:bitte|sofort|jetzt|danke|please|now|immediately|asap|thanks))*"
)
_ERASING = re.compile(
    r"\b(?:l(?:oe|o)schen|l(?:oe|o)sche|l(?:oe|o)sch|l(?:oe|o)schung|entfernen|entferne"
    r"|entfernung|vernichten|vernichtung|delete|deletion|erase|erasure|remove|removal|wipe"
    r"|purge|get rid of)\b"
)
_ONES_DATA_WORDS = (
    r"(?:(?:alle |all |saemtliche |all of )?(?:meine|meiner|meinen|my) (?:\w+ )?(?:daten|data"
    r"|angaben|details|informationen|information|info|infos)"
    r"|(?:alles|everything|all) (?:(?:was|that|what) )?(?:(?:sie|ihr|du|you) )?(?:\w+ )?"
    r"(?:ueber|von|about|on) (?:mir|mich|me))"
)
# "dass ihr alles von mir löscht": a demand, said to them
_SAID_TO_THEM = re.compile(
    rf"\b(?:dass|das) (?:ihr|sie) (?:\w+ )?{_ONES_DATA_WORDS} (?:\w+ ){{0,2}}"
    r"l(?:oe|o)sch(?:t|en)\b"
)
_ERASING_NEAR_DATA = re.compile(
    rf"(?:{_ERASING.pattern})(?: \w+){{0,5}} {_ONES_DATA_WORDS}\b"
    rf"|\b{_ONES_DATA_WORDS}(?: \w+){{0,5}} (?:{_ERASING.pattern})"
)
_DATA_GONE = re.compile(
    r"(?:bitte )?(?:alle )?(?:meine|my) (?:daten|data) (?:(?:sofort|bitte|endlich|jetzt|now) )*"
    r"weg(?: (?:bitte|sofort|jetzt))*"
)
_AWAY_WITH = re.compile(r"^(?:(?:bitte|und|also|so) )*weg mit (?:allen )?meinen daten\b")
_DEMANDING = re.compile(
    r"\b(?:bitte|sofort|umgehend|unverzueglich|endlich|gefaelligst|will|moechte|verlange"
    r"|fordere|bestehe|sofortige|umgehende|zackig|please|now|immediately|asap|want|demand"
    r"|require|insist|hereby)\b"
)
_NOT_A_DEMAND = re.compile(
    r"\b(?:nicht|nie|niemals|kein|keine|not|never|don't|dont|do not|can't|cant|cannot"
    r"|warum|wieso|weshalb|why|wo|wie|where|how|ob|whether|wurde|wurden|sind|ist|war|waren"
    r"|were|been|hat|geloescht|deleted|erased|removed|wiped|kopie|copy|zettel"
    # of something else than this chat's answers, which staff are to act on
    r"|app|update|buchung|booking|bestellung|order|karte|card|bank|konto|kundenkonto|account"
    r"|system|programm|program|profil|profile|website|portal|warteliste|waitlist|liste|list"
    r"|mailing|newsletter|verteiler|werbung|marketing|fingerprint|praxis|foto|fotos|photo"
    r"|photos|bild|bilder|kamera|camera|video|shop|cloud|handy|phone|computer|pc|laptop)\b"
)


RECTIFY, RESTRICT = "rectify", "restrict"
"""What a request to correct one's answers (Art. 16 GDPR) or to restrict their processing
(Art. 18) asks for (see `asks_rectification`): neither has a command, both a route the
privacy notice names."""

_ANSWER_NOUN = (
    r"(?:bewertung|bewertungen|sterne|antwort|antworten|kommentar|feedback|rating|"
    r"ratings|score|stars|answer|answers|comment|review)"
)
_MY_ANSWERS = (
    r"(?:(?:mein|meine|meinen|meiner|meines|die|der|den|my|the) (?:\w+ )?)?"
    rf"(?<!your )(?<!ihr )(?<!ihre )(?<!eure )(?<!euer ){_ANSWER_NOUN}"
)
"""One's answers, as named in a request to change them ("die Bewertung", "rating"). Not
one's data or details, which a customer's account or booking has too ("The hotel changed
my booking details", "Ihr habt meine Daten falsch eingegeben": found by a review)."""
_MINE = rf"(?:mein|meine|meinen|meiner|meines|my) (?:\w+ )?{_ANSWER_NOUN}"
"""One's own answers said wrong ("Meine Bewertung war falsch"): not "the answer", which
may be the hotline's ("Die Antwort der Hotline war falsch")."""
_CHANGING = (
    r"(?:korrigier|aender|abaender|bearbeit|anpass|erhoeh|hochsetz|correct|chang|edit|fix|"
    r"amend|updat|modif|rais)\w*"
)
_MY_DATA = r"(?:meine|meiner|my) (?:personenbezogenen |persoenlichen |personal )?(?:daten|data)"
_ONE_PART = r"(?:kommentar|bewertung|antwort|comment|rating|review|answer)"
"""One of one's answers, to be erased alone (singular: "Löschen Sie nur die Bewertungen, die
Ihnen nicht passen?" asks about the business's: a re-check)."""
_AFTER_THE_PART = (
    r"(?:bitte|please|und|and|die|the|meine|my|keep|but|aber|behalten|lassen|sie|nicht|not)"
)
"""What may follow the part to be erased ("…, die Bewertung dürfen Sie behalten", "…, keep
the rating")."""
_RECTIFY = re.compile(
    "|".join(
        (
            rf"\b{_CHANGING}\b.*\b{_MY_ANSWERS}\b",
            rf"\b{_MY_ANSWERS}\b.*\b{_CHANGING}\b",
            # in the law's words, of one's data too ("meine Daten berichtigen lassen")
            rf"\b(?:berichtig|rectif)\w*\b.*\b(?:{_MY_DATA}|{_MY_ANSWERS})\b",
            rf"\b(?:{_MY_DATA}|{_MY_ANSWERS})\b.*\b(?:berichtig|rectif)\w*\b",
            r"\b(?:recht auf berichtigung|right (?:to|of) rectification|berichtigung)\b",
            r"\bart(?:ikel|icle)? 16\b",
            # a part of one's answers erased ("Bitte löschen Sie nur meinen Kommentar, die
            # Bewertung dürfen Sie behalten", "Please delete only my comment": found by a
            # customer walk-through, told no survey was open): /delete takes all of it
            # (asked of the bot, as a whole: not "Nur meine Bewertung auf Booking wurde
            # entfernt", "Please remove only the comment card from the table": the review)
            rf"^(?:(?:bitte|please) )?(?:loeschen|entfernen|delete|erase|remove)(?: sie)?"
            rf"(?: (?:bitte|please))? (?:nur|only|just) (?:meine[nmr]?|my|den|die|das|the)"
            rf" {_ONE_PART}(?: {_AFTER_THE_PART}\b(?: \w+){{0,5}})?$",
            rf"^(?:(?:kann ich|kann man|koennen sie|koennt ihr|koennten sie|can you|could you"
            rf"|can i|would you|bitte|please|ich moechte|ich will|ich wuerde gerne?|i want to"
            rf"|i d like to|i would like to)(?: (?:bitte|please))? )?(?:nur|only|just) "
            rf"(?:meine[nmr]?|my|den|die|das|the) {_ONE_PART} (?:loeschen|entfernen|delete"
            rf"|erase|remove)\b(?: {_AFTER_THE_PART}\b(?: \w+){{0,5}})?$",
            # ("just" or "only" before or after the verb: "delete my comment" alone takes
            # back the answer just given, see TAKE_BACK)
            rf"^(?:(?:can|could|would) (?:you|i) )?(?:please )?(?:(?:just|only) (?:delete|erase"
            rf"|remove)|(?:delete|erase|remove) (?:just|only)) (?:my|the) {_ONE_PART}"
            rf"(?: {_AFTER_THE_PART}\b(?: \w+){{0,5}})?$",
            # whether they can be changed ("Kann ich das später noch ändern?", "Can I edit
            # it later?": found by a customer walk-through, stored as the comment)
            # (the whole message: "…, kann man das ändern?" asks the hotel, review)
            r"^(?:kann|darf) ich (?:das|es|die|diese)"
            r"(?: (?:spaeter|noch|nachher|danach|hinterher|wieder|nochmal|jetzt|auch|bitte"
            r"|irgendwann|trotzdem)){0,3} (?:aendern|korrigieren|bearbeiten|anpassen)$",
            r"^can i (?:change|edit|correct|update) (?:it|this|that|them)"
            r"(?: (?:later|afterwards|again|still))?(?: please)?$",
            # said wrong ("Meine Bewertung war falsch", "I gave the wrong rating")
            rf"\b(?:falsch\w*|wrong|mistaken|incorrect)\b.*\b{_MINE}\b",
            rf"\b{_MINE}\b.*\b(?:falsch\w*|wrong|mistaken|incorrect)\b",
            r"\b(?:wrong|falsche[nr]?) (?:button|star|stars|rating|knopf|taste|bewertung)\b",
            r"\bfalsch (?:bewertet|gedrueckt|getippt|geklickt)\b",
            # a slip of the finger ("Ich habe mich verklickt", "Sorry, misclicked")
            r"\b(?:verklickt|vertippt|verdrueckt|mis ?click\w*|mis ?tapp?\w*|fat ?finger\w*)\b",
            r"\bmich(?: \w+){0,3} vertan\b",
            r"\b(?:aus versehen|versehentlich|accidentally|by (?:mistake|accident))\b.*"
            r"\b(?:\d+|sterne?|stars?|bewertet|gedrueckt|getippt|geklickt|pressed|tapped|"
            r"clicked|gave)\b",
            # the rating meant ("ich meinte 4", "I meant 5", "wollte eigentlich 4 geben")
            r"\b(?:i )?meant(?: to (?:give|press|tap|click|rate))?(?: (?:it|a|an))? \d+\b",
            r"\bmeinte (?:eigentlich |natuerlich )?(?:die |eine )?\d+\b",
            r"\bwollte (?:eigentlich |natuerlich )?(?:die |eine )?\d+(?: \w+)? "
            r"(?:geben|druecken|tippen|vergeben)\b",
            # back to the question before, as a whole message (found by a customer
            # walk-through: "Zurück", "go back" were stored as the comment)
            r"^(?:(?:bitte|please|kann ich|can i|wie komme ich) )?(?:zurueck|eine frage zurueck|"
            r"zur vorherigen frage|vorherige frage|back|go back|previous question|"
            r"to the previous question|go back to the previous question|zurueck zur bewertung"
            r"|zur bewertung zurueck|(?:go )?back to (?:the |my )?rating)"
            r"(?: gehen| bitte| please)?$",
        )
    )
)
_RESTRICT = re.compile(
    "|".join(
        (
            rf"\b(?:einschraenk\w*|eingeschraenkt|schraenken|schraenkt|restrict\w*)\b"
            rf".*\b(?:verarbeitung|processing|{_MY_DATA})\b",
            rf"\b(?:verarbeitung|processing|{_MY_DATA})\b.*"
            r"\b(?:einschraenk\w*|eingeschraenkt|restrict\w*)\b",
            # "limit" of the processing only ("My data limit was reached" is the wifi's)
            r"\blimit\w* (?:the )?processing\b|\bprocessing\b.*\blimit\w*\b",
            rf"\b(?:sperr\w*)\b.*\b{_MY_DATA}\b|\b{_MY_DATA}\b.*\bsperr\w*\b",
            rf"\b(?:stop|pause|halt)\w* (?:the )?processing(?: (?:of )?{_MY_DATA})?",
            r"\bart(?:ikel|icle)? 18\b",
        )
    )
)
_RECTIFY_WORDS = 25
"""Longer than a typed request (see `_REQUEST_WORDS`): a greeting, a sorry and the rating
meant come with it ("Hi, sorry, I pressed the wrong button on the rating, I meant to give
5 stars not 1", found by a review)."""


def asks_rectification(text: str) -> str | None:
    """RECTIFY or RESTRICT where `text`, a short message, asks to correct one's answers
    ("Bitte berichtigen Sie meine Bewertung auf 4", "Can I change my rating?", "Ich habe
    mich verklickt") or to restrict their processing ("Schränken Sie bitte die Verarbeitung
    ein"); None otherwise, as for a complaint about a wrong booking or a restricted car park
    (found by a review of the first version). Found by a DPO check: typed after the survey,
    told "/start to give feedback again", as if the feedback given could be changed so."""
    words = _GREETING.sub("", bare_words(text).translate(AS_ASCII))
    if not words or len(words.split()) > _RECTIFY_WORDS:
        return None
    if _RESTRICT.search(words):
        return RESTRICT
    if _RECTIFY.search(words):
        return RECTIFY
    return None


def asks_rectification_of_contact(text: str) -> bool:
    """A correction that is about the contact question ("Oops, I pressed the wrong button,
    I do want you to contact me"): its route is the contact's, not an erasure."""
    return _NAMES_CONTACT.search(bare_words(text).translate(AS_ASCII)) is not None


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s*\n\s*")
_ACTED_ON_BY_COMMAND = frozenset({ERASE, WITHDRAW, SEE})
_WORD_ALONE = re.compile(
    r"(?:bitte |please )?(?:l(?:oe|o)schen|delete|widerruf(?:en)?|withdraw|widerspruch|auskunft)"
    r"|(?:ich |hiermit )*(?:widerspreche|(?:lege|erhebe)(?: ich)?(?: hiermit)? widerspruch)"
    r"(?: ich)?(?: hiermit)?(?: ein)?|i (?:hereby )?object"
    r"|(?:ich (?:moechte|will) |(?:ich )?bitte um )auskunft"
)
"""A request that names nothing: after other sentences, about what they name ("Das Foto
zeigt mich. Bitte löschen.", "Falsche Ware. Widerruf!", which withdraws from the order,
"Die Rechnung ist falsch. Ich widerspreche.", "Wo bleibt mein Paket? Bitte um Auskunft")."""


def request_anywhere(text: str) -> str | None:
    """ERASE, WITHDRAW or SEE where any sentence of `text` is such a request, or demands
    erasure (see `typed_request`, `demands_erasure`): where nothing is stored, after the
    survey ("Ich möchte, dass das alles wieder gelöscht wird. Ich trau dem Internet
    nicht.", "can u send me a copy of what u stored? need it for my records": found by a
    customer walk-through, with no word of the commands). A word alone after another
    sentence is about what that names ("Falsche Ware. Widerruf!": see `_WORD_ALONE`)."""
    sentences = _sentences(text)
    for n, sentence in enumerate(sentences):
        alone = _YES_FIRST.sub("", bare_words(sentence).translate(AS_ASCII))
        if n > 0 and _WORD_ALONE.fullmatch(alone):
            continue
        kind = typed_request(sentence) or (ERASE if demands_erasure(sentence) else None)
        if kind in _ACTED_ON_BY_COMMAND:
            return kind
    return None


def request_at_the_end(text: str) -> str | None:
    """ERASE, WITHDRAW or SEE where the last sentence of the answer `text` is such a
    request (see `typed_request`): "Cold food. Please delete my data." The sentences
    before it are taken with it where its start was cut off at an abbreviation's dot
    ("… Auskunft nach Art. 15 DSGVO"); None for any other text."""
    sentences = _sentences(text)
    for start in reversed(range(len(sentences))):
        tail = " ".join(sentences[start:])
        if len(bare_words(tail).split()) > _REQUEST_WORDS:
            break
        # a demand in words of one's own too (see `demands_erasure`), the last sentence
        kind = typed_request(tail) or (
            ERASE if start == len(sentences) - 1 and demands_erasure(tail) else None
        )
        # also after a yes, as typed_request reads it ("Falsche Ware. Ja, Widerruf!")
        alone = _YES_FIRST.sub("", bare_words(tail).translate(AS_ASCII))
        if start > 0 and _WORD_ALONE.fullmatch(alone):
            continue
        if kind in _ACTED_ON_BY_COMMAND:
            return kind
    return None


_TAKES_OUT = re.compile(
    r"\b(?:delete|erase|remove|undo|cancel|scratch|ignore|l(?:oe|o)sch\w*|entfern\w*|"
    r"streich\w*|zurueckziehen|ignorier\w*|nicht speichern|(?:wrong|falscher?) (?:chat|bot)|"
    r"rueckgaengig|ruckgangig|wrong question|falsche frage)\b"
)
"""A request to take back what was just written that says so: not "oops" or "mein
Fehler" alone, which may be about a typo, and would lose a long comment; nor "Vergiss
es", "forget it", which is as often a no to the question asked next."""
_NAMES_CONTACT = re.compile(r"\b(?:kontakt\w*|contact\w*)\b")
"""A withdrawal that is about being contacted ("Bitte nicht mehr kontaktieren"): at the
contact question, a no to it."""
_NAMES_THE_COMMENT = re.compile(r"\b(?:kommentar|comment|nachricht|message)\b")
"""A request not to store that names the comment ("Bitte meinen Kommentar nicht
speichern", "don't store my comment"): right after it, about that one."""
_NAMES_THE_MESSAGES = r"kommentare?|comments?|nachrichten|messages"
_NAMES_ALL_OF_IT = re.compile(
    rf"\b(?:{_NAMES_THE_MESSAGES}|alles|all (?:of )?(?:that|this)|everything|what i wrote"
    r"|was ich geschrieben habe)\b"
)
"""A take-back that names the comment or the messages, or all of it, not the message just
added to it ("Delete my comment", "Lösch meine Nachrichten", "can u delete all that" (found
by review: the first message of the comment stayed); not "Lösch die Nachricht")."""


_DE_BY = r"(?:e mail|email|mail|telefon|handy|sms|whatsapp|signal|post|brief)"
_EN_BY = r"(?:e mail|email|mail|phone|telephone|sms|whatsapp|signal|post|letter)"
_DE_SOFT = (
    r"(?:bitte|doch|mal|kurz|gerne?|einfach|lieber|besser|stattdessen|vielleicht|eher|"
    r"zurueck|danke|unter|an|auf)"
)
_EN_SOFT = r"(?:please|pls|plz|instead|rather|just|back|later|asap|thanks|thank you|at|on)"
_ANOTHER_WAY = re.compile(
    "|".join(
        (
            # "lieber per Mail", "Ja, aber telefonisch", "bitte um Rückruf"
            rf"(?:(?:ja|gerne?|ok|okay) )?(?:(?:aber|dann|nur|bitte|lieber|besser|eher) )*"
            rf"(?:(?:per|ueber|via) (?:eine?n? )?{_DE_BY}|telefonisch)(?: {_DE_SOFT})*",
            rf"(?:(?:bitte|lieber|besser|eher) )+(?:eine?n? )?(?:anruf|rueckruf|telefonat|"
            rf"e mail|email|mail|sms)(?: {_DE_SOFT})*",
            r"(?:ich )?(?:bitte )?um (?:einen )?(?:rueckruf|anruf)(?: bitte)?|"
            r"rueckruf(?: (?:bitte|erwuenscht|erbeten))?",
            # "Rufen Sie mich bitte an", "Schreiben Sie mir eine E-Mail"
            rf"(?:(?:ja|bitte) )*(?:rufen sie|ruf|ruft) mich(?: {_DE_SOFT})* (?:an|zurueck)"
            rf"(?: {_DE_SOFT})*",
            rf"(?:(?:ja|bitte) )*(?:schreiben sie|schreib|schicken sie|senden sie) mir"
            rf"(?: {_DE_SOFT})* (?:eine |ne )?(?:e mail|email|mail|sms)(?: {_DE_SOFT})*",
            rf"(?:(?:ja|bitte) )*(?:kontaktieren|erreichen) sie mich(?: {_DE_SOFT})* "
            rf"(?:(?:per|ueber|via) {_DE_BY}|telefonisch|unter)(?: {_DE_SOFT})*",
            rf"(?:(?:ja|bitte) )*(?:lieber |bitte )*(?:anrufen|zurueckrufen)(?: {_DE_SOFT})*",
            # "Können Sie mich anrufen?", "Könnten Sie mir eine Mail schreiben?"
            rf"(?:koennen|koennten|wuerden|koennt|koenntet|kannst|koenntest) (?:sie|ihr|du) "
            rf"(?:mich(?: {_DE_SOFT})* (?:anrufen|zurueckrufen|(?:(?:per|ueber|via) {_DE_BY}|"
            rf"telefonisch|unter) (?:kontaktieren|erreichen|anschreiben))|mir(?: {_DE_SOFT})* "
            rf"(?:eine |ne )?(?:e mail|email|mail|sms) (?:schreiben|schicken|senden))",
            r"ich (?:haette|moechte|will|wuerde) (?:(?:lieber|gerne?|bitte) )*(?:(?:einen |eine )?"
            r"(?:anruf|rueckruf|telefonat|e mail|email|mail)(?: haben)?|angerufen werden)",
            # "call me instead", "please email me", "can you phone me?", "by email please"
            rf"(?:(?:yes|yeah|sure|ok|okay) )?(?:(?:but|rather|preferably|please|only|just) )*"
            rf"(?:by|via|through|over) (?:an? )?{_EN_BY}(?: {_EN_SOFT})*",
            rf"(?:(?:yes|yeah|sure|ok|okay) )?(?:(?:please|pls|plz|just|rather|but) )*"
            rf"(?:call|phone|ring|email|e mail|mail) me(?: up)?(?: {_EN_SOFT})*",
            rf"(?:can|could|would|will) (?:you|u|someone|somebody|anyone)(?: {_EN_SOFT})* "
            rf"(?:call|phone|ring|email|e mail|mail) me(?: up)?(?: {_EN_SOFT})*",
            rf"(?:(?:can|could|would|will) (?:you|u) )?(?:(?:please|pls|plz|just) )*"
            rf"(?:send|drop|write) me an? (?:e mail|email|mail)(?: {_EN_SOFT})*",
            rf"(?:(?:yes|sure|ok|okay|please|you can|you may) )*(?:contact|reach) me "
            rf"(?:(?:by|via|through|over) (?:an? )?{_EN_BY}|at|on)(?: {_EN_SOFT})*",
            rf"(?:i'd|i would|i) (?:rather|prefer|prefer to|would prefer|like)(?: to)? "
            rf"(?:have |get |receive )?(?:an? )?(?:call|phone call|email|e mail|mail)"
            rf"(?: {_EN_SOFT})*|(?:i'd|i would) (?:rather|prefer to) be (?:called|emailed|phoned)",
        )
    )
)
"""Asking to be contacted another way than in this chat, where the contact question asks
("lieber per Mail", "Rufen Sie mich bitte an", "please email me", "can you phone me?"),
as a whole message, a phone number or e-mail address in it left out; not asking to be
contacted ("Kontaktieren Sie mich gerne"), which the yes button gives."""


_LEFT_OF_A_NUMBER = frozenset(
    {
        "tel", "telefon", "telefonnummer", "handy", "handynummer", "mobil", "mobilnummer",
        "nummer", "nr", "adresse", "mailadresse", "e mail adresse", "email adresse", "phone",
        "phone number", "number", "mobile", "cell", "address", "email address",
        "e mail address", "mein", "meine", "meiner", "my",
    }
)  # fmt: skip
"""What stays of a number or an address once blanked out: its label at the end ("Tel.:",
"meine Adresse:", "phone number")."""


def asks_another_way(text: str) -> bool:
    """Whether `text` typed at the contact question asks to be called or e-mailed instead
    (see `_ANOTHER_WAY`). The number or address in it left out, also where blanking it
    leaves digits ("+49 (0) 151 …", "0151 23 45 67 8") or its label ("Tel.:"): found by a
    review of the change, such a request was joined to the comment, the number with it."""
    bare = bare_words(strip_personal(text)).translate(AS_ASCII)
    kept = [word for word in bare.split() if not any(c.isdigit() for c in word)]
    while kept:  # a word at a time from the end: a pattern here backtracked without end
        size = next((n for n in (3, 2, 1) if " ".join(kept[-n:]) in _LEFT_OF_A_NUMBER), 0)
        if not size:
            break
        del kept[-size:]
    words = _NO_FIRST.sub("", _GREETING.sub("", " ".join(kept)))
    # after a yes too ("Ja, gerne. Bitte rufen Sie mich zurück.": found by a customer
    # walk-through, added to the comment, and the older customer asked to tap Undo)
    return any(
        _ANOTHER_WAY.fullmatch(said) is not None for said in (words, _YES_LEAD.sub("", words))
    )


_YES_LEAD = re.compile(r"^(?:(?:ja|jawohl|doch|yes|yeah|yep|ok|okay|gerne?|sure|klar) )+")


_OFFERING = frozenset(
    """ja jo jawohl gerne gern bitte klar okay ok yes yeah yep sure please of course
    meine mein meiner my mail email e adresse mailadresse emailadresse nummer
    telefonnummer handynummer handy mobil mobilnummer tel telefon phone number mobile cell
    address whatsapp telegram signal username benutzername kontakt contact details
    kontaktdaten ist lautet is here hier unter at on via per ueber auf bin ich i am me
    mich mir you sie can koennen kann reach erreichen erreichbar call anrufen rufen an
    schreiben write text mailen oder or und and du dann einfach so the die der den a as
    auch also this das it s m ab uhr after from bis until abends morgens evening morning
    tagsueber""".split()
)
"""The words that come with contact details offered ("Ja gerne, meine Mail ist …", "You
can reach me on …", "Ja, unter … ab 18 Uhr")."""


def offers_contact_details(text: str) -> bool:
    """Whether `text` offers a phone number, an e-mail address or a username to be
    contacted by: it holds one, and no word besides a yes, its label or how to reach it
    (found by a review: "Ihre Hotline 030 … war nie erreichbar", "I emailed support@… twice"
    are more of the comment, and were refused at the contact question)."""
    if not holds_contact_details(text):
        return False
    words = bare_words(strip_personal(text)).translate(AS_ASCII).split()
    return all(word in _OFFERING or any(c.isdigit() for c in word) for word in words)


_CONTACT_ME = re.compile(
    "|".join(
        (
            # "Doch, Sie dürfen mich kontaktieren", "Kontaktieren Sie mich bitte",
            # "Melden Sie sich bei mir", "Ich möchte doch kontaktiert werden"
            r"(?:(?:doch|ja|ok|okay|gerne?|bitte|na gut|also|dann|jetzt) )*"
            r"(?:sie duerfen|ihr duerft|du darfst|sie koennen|ihr koennt|du kannst) mich"
            rf"(?: (?:doch|gerne?|ruhig|bitte|jetzt|nun))* (?:kontaktieren|anschreiben|"
            rf"zurueckrufen|anrufen)(?: {_DE_SOFT})*",
            r"(?:(?:doch|ja|ok|okay|gerne?|bitte|dann) )*(?:kontaktieren sie mich|kontaktiert "
            r"mich|kontaktier mich|melden sie sich(?: bei mir)?|meldet euch(?: bei mir)?|"
            rf"meld dich(?: bei mir)?)(?: {_DE_SOFT})*(?: (?:bei mir|hier|im chat))?"
            rf"(?: {_DE_SOFT})*",
            r"ich (?:moechte|will|wuerde gerne?|haette gerne?) (?:doch |gerne? |lieber )*"
            r"(?:kontaktiert werden|eine antwort|eine rueckmeldung|dass sie mich kontaktieren|"
            rf"dass sie sich (?:bei mir )?melden)(?: {_DE_SOFT})*",
            # "Actually yes, please contact me", "you may contact me after all",
            # "I'd like to be contacted", "please get back to me"
            r"(?:(?:actually|yes|yeah|ok|okay|sure|please|pls|on second thought|then|now) )*"
            r"(?:(?:you can|you may|feel free to|i want you to|i'd like you to|i would like "
            r"you to) )?(?:please )?(?:contact|message|reach) me"
            r"(?: (?:after all|please|here|in this chat|about (?:it|this|my feedback)|then|"
            r"back|thanks|thank you))*",
            r"(?:(?:actually|yes|please) )*i (?:want|would like|'d like|wish) (?:to be contacted|"
            r"a reply|an answer|someone to contact me|you to get back to me)"
            r"(?: (?:after all|please|thanks))*",
            r"(?:please )?get (?:back )?(?:in touch with me|back to me|in touch)"
            r"(?: (?:please|thanks|asap))*",
        )
    )
)
"""Asking to be contacted here (see `asks_to_be_contacted`), as a whole message."""


_NO_CONTACT = re.compile(
    # (also after "also", "und", "btw": "also pls dont contact me, thx", found by a customer
    # walk-through: added to the comment, the question left open)
    r"(?:(?:actually|please|pls|plz|no|nein|doch|bitte|lieber|also|and|und|oh|btw|ps|ach) )*(?:"
    r"(?:don't|dont|do not) (?:contact|call|email|e mail|message) me"
    r"(?: (?:again|anymore|any more|after all|please|thanks|thank you))*|"
    r"(?:kontaktieren sie|kontaktiert|kontaktier|rufen sie|ruft) mich (?:bitte |doch )*"
    r"(?:nicht|nicht mehr|nie wieder)(?: an)?(?: (?:bitte|danke))*|"
    r"ich (?:moechte|will|mag) (?:doch |bitte |lieber )*nicht (?:mehr )?"
    r"(?:kontaktiert|angeschrieben|angerufen) werden(?: (?:bitte|danke))*|"
    # found by a customer walk-through: pointed to every command, /withdraw among them
    r"i (?:don't|dont|do not) (?:want|wish) to be (?:contacted|called|messaged)"
    r"(?: (?:again|anymore|any more|after all|please|thanks|thank you))*|"
    r"nicht (?:mehr )?(?:kontaktieren|anrufen|anschreiben)(?: (?:bitte|danke))*|"
    r"(?:no|keine) (?:more |further |weitere )?(?:contact|kontaktaufnahme|kontakt)"
    r"(?: (?:please|bitte|thanks|danke|mehr))*)"
    r"(?: (?:thx|thanks|thank you|ty|pls|plz|please|bitte|danke))*"
)
"""Asking not to be contacted, as a whole message (see `asks_not_to_be_contacted`)."""


def asks_not_to_be_contacted(text: str) -> bool:
    """Whether `text` asks not to be contacted: "Bitte kontaktieren Sie mich nicht", "Ich
    möchte nicht kontaktiert werden", "Actually, do not contact me" (found by a customer
    walk-through: typed after agreeing, answered "no question is open")."""
    words = _GREETING.sub("", bare_words(text).translate(AS_ASCII))
    return _NO_CONTACT.fullmatch(words) is not None


_WHETHER_CONTACTED = OF_THE_CONSENT | typed_forms(
    frozenset(
        "hat noch niemand gemeldet schon bald jemals when will soon yet hear back anyone "
        "somebody me".split()
    )
)


def asks_whether_contacted(text: str) -> bool:
    """Whether `text` is a short question whether or when one is contacted ("Will you
    contact me?", "Wann meldet sich jemand?", "Hat sich noch niemand gemeldet?"): found by a
    customer walk-through, after the survey told that no question was open."""
    words = _short_question(text, _WHETHER_CONTACTED, 10)
    return bool(words) and _OF_CONTACT.search(" ".join(words).translate(AS_ASCII)) is not None


def asks_to_be_contacted(text: str) -> bool:
    """Whether `text` asks to be contacted, here or another way (see `asks_another_way`):
    "Doch, Sie dürfen mich kontaktieren", "Actually yes, please contact me", "Rufen Sie
    mich an" (found by a customer walk-through: typed after the survey, told to send
    /start, believing someone would get in touch)."""
    words = _NO_FIRST.sub("", _GREETING.sub("", bare_words(text).translate(AS_ASCII)))
    return _CONTACT_ME.fullmatch(words) is not None or asks_another_way(text)


_NO_FIRST = re.compile(r"^(?:nein|noe|nae|nee|ne|nope|nah|no)(?: (?:danke|thanks|thank you|thx))? ")
"""A no before the request ("Nein, lieber per Mail", "No, call me instead": found by a
review of the change, joined to the comment with the number in it)."""


_NAMES_MESSAGES = re.compile(rf"\b(?:{_NAMES_THE_MESSAGES})\b")
"""A take-back that names the comment or the messages, which says it takes out: not "all"
alone ("Vergiss das alles" is as often a no to the question asked next: review)."""


def _takes_out(text: str, kind: str | None) -> bool:
    """Whether `text`, a request of `kind`, asks to take out the text answer just given."""
    words = bare_words(text).translate(AS_ASCII)
    return (
        kind == TAKE_BACK
        and (
            _TAKES_OUT.search(words) is not None
            or _NAMES_MESSAGES.search(words) is not None
            or declines_comment(text)  # "nur die Bewertung bitte" (review)
        )
    ) or (kind == STOP and _NAMES_THE_COMMENT.search(words) is not None)


_POINTED_TO = frozenset({STOP, ERASE, WITHDRAW, TAKE_BACK})
"""The requests answered within a survey with the way to stop it or erase one's data (a
question about one's data may be the comment)."""
_ALONE = {
    "abbrechen": STOP, "stopp": STOP, "stop": STOP, "cancel": STOP, "please cancel": STOP,
    "widerrufen": WITHDRAW, "widerruf": WITHDRAW, "withdraw": WITHDRAW,
}  # fmt: skip
