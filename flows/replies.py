"""Plain values that flows/ hands to a transport: text, buttons, documents. Already translated."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Button:
    label: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]
"""Rows of buttons."""


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: Keyboard = ()
    document: Document | None = None
    image: Document | None = None
    """A picture (PNG) sent as a photo, with its caption."""
    question: bool = False
    """The conversation's current question: once it is answered by typing, the transport
    removes its buttons (see `Outcome.close_keyboard`)."""
    proof: bool = False
    """A consent request: the proof of the consent hashes exactly this text, so nothing
    is put in front of it (see `headed`)."""
    lapses: bool = False
    """Its buttons act on the survey under way (Undo): the transport removes them once
    that is over (see `Outcome.survey_over`)."""


def headed(notes: tuple[str, ...], replies: tuple[Reply, ...]) -> tuple[Reply, ...]:
    """`replies` with short `notes` ("Let's continue where you left off.") at the head of
    the first message, which they are about: one message and one notification instead
    of several. A first reply that is a file, a picture or a consent request keeps them as
    messages of their own.
    """
    if not notes:
        return replies
    first = replies[0] if replies else None
    if first is None or first.document is not None or first.image is not None or first.proof:
        return (*(Reply(note) for note in notes), *replies)
    return (replace(first, text="\n\n".join((*notes, first.text))), *replies[1:])


@dataclass(frozen=True)
class Outcome:
    """Everything the bot should do in answer to one input.

    `toast` is the short notice shown on a pressed button; `close_keyboard` asks the
    transport to remove the buttons of the message that was pressed, so nobody can
    press them twice (after a typed answer: those of the question it answered);
    `replace_keyboard` redraws them instead (an option toggled on); `question_gone`, that
    the buttons of the conversation's open question go as well, its answers discarded
    (found by review: pressed after /abbrechen, they said the survey had expired);
    `survey_over`, that the survey was finished, so buttons that act on it go too (see
    `Reply.lapses`); `question_above`, the open question the replies point to rather than
    ask again, for the transport to send should it not know it shown (its send failed, or
    the bot restarted since).
    """

    replies: tuple[Reply, ...] = ()
    toast: str | None = None
    close_keyboard: bool = False
    replace_keyboard: Keyboard | None = None
    question_gone: bool = False
    survey_over: bool = False
    question_above: Reply | None = None

    @classmethod
    def say(cls, *texts: str) -> Outcome:
        return cls(replies=tuple(Reply(text) for text in texts))
