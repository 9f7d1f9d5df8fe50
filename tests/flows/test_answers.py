"""Reading an answer command and the alert it replies to (flows.answers)."""

from __future__ import annotations

import pytest

from flows.answers import command_parts, other_reference, reference_in
from flows.i18n import translator

REF = "3f9a1c20b7"


def alert(locale: str, reference: str, comment: str) -> str:
    t = translator(locale)
    last = t.gettext(
        "The customer agreed to be contacted about this feedback: answer with /reply and your "
        "text in reply to this message, or with /reply {reference} and your text."
    ).format(reference=reference)
    return "\n".join(["Low rating in “Customer feedback”", "Rating → 1 / 5", comment, "", last])


@pytest.mark.parametrize("locale", ["de", "en"])
def test_the_reference_comes_from_the_bots_own_last_line(locale: str) -> None:
    forged = f"Comment: /reply 0123456789 and /antworten abcdefabcd {REF[::-1]}"
    assert reference_in(alert(locale, REF, forged)) == REF
    # An alert without the line (no consent to be contacted) names none, whatever its
    # comment says; nor does a part of a split alert, nor the line quoted inside a comment.
    without = alert(locale, REF, forged).rpartition("\n")[0]
    assert reference_in(without) is None
    assert reference_in(without + "\nComment: " + alert(locale, REF, "").splitlines()[-1]) is None
    assert reference_in(None) is None and reference_in("") is None


ANSWERED_BEFORE = {
    "de": {
        1: "Dieses Feedback wurde bereits einmal beantwortet.",
        2: "Dieses Feedback wurde bereits zweimal beantwortet.",
        3: "Dieses Feedback wurde bereits 3-mal beantwortet.",
    },
    "en": {
        1: "This feedback had been answered once before.",
        2: "This feedback had been answered twice before.",
        3: "This feedback had been answered 3 times before.",
    },
}
"""What the bot adds to its word that an answer was sent; "2-mal", "2 times" were sent
before it said "twice", and a reply to such a message still finds its feedback."""
SAID_BEFORE = {
    "de": "Dieses Feedback wurde bereits 2-mal beantwortet.",
    "en": ("This feedback had been answered 2 times before."),
}


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("before", [0, 1, 2, 3, "2 earlier"])
def test_the_reference_comes_from_the_bots_word_that_an_answer_was_sent(
    locale: str, before: int | str
) -> None:
    """A second answer in reply to it (found by a staff review: refused as if the customer
    had withdrawn their consent); the whole message, never a line of one."""
    t = translator(locale)
    said = t.gettext("Your answer to {reference} was sent to the customer.").format(reference=REF)
    if isinstance(before, str):
        said += " " + SAID_BEFORE[locale]
    elif before:
        said += " " + ANSWERED_BEFORE[locale][before]
    assert reference_in(said) == REF
    assert reference_in(f"Comment: {said}") is None
    assert reference_in(f"Low rating\n{said}") is None
    assert reference_in(f"{said} Please call me back.") is None


@pytest.mark.parametrize(
    ("typed", "quoted", "parts"),
    [
        (f"/antworten {REF} Danke!\nZweite Zeile", None, (REF, "Danke!\nZweite Zeile", REF)),
        (f"/reply@feedback_bot {REF.upper()}\n\nHallo", None, (REF, "Hallo", REF)),
        ("/antworten", None, ("", "", None)),
        (f"/antworten {REF}", None, (REF, "", REF)),
        ("/antworten Hallo Welt", None, ("hallo", "Welt", None)),
        # In reply to the alert: everything after the command, less a reference typed as
        # well, which is returned so that another one than the alert's can be refused.
        ("/antworten Hallo Welt\nZeile", REF, (REF, "Hallo Welt\nZeile", None)),
        (f"/antworten {REF} Hallo", REF, (REF, "Hallo", REF)),
        ("/antworten 0123456789 Hallo", REF, (REF, "Hallo", "0123456789")),
        ("/antworten\nHallo", REF, (REF, "Hallo", None)),
        (f"/antworten {REF.upper()}: Hallo", REF, (REF, "Hallo", REF)),
        (f"/antworten #{REF} Hallo", None, (REF, "Hallo", REF)),
    ],
)
def test_an_answer_command_is_read_with_its_line_breaks(
    typed: str, quoted: str | None, parts: tuple[str, str, str | None]
) -> None:
    assert command_parts(typed, quoted) == parts


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("/antworten Danke, wir melden uns", None),
        (f"/antworten {REF} Danke", None),  # the alert's own
        (f"/antworten {REF.upper()}: Danke", None),
        ("/antworten 0123456789 Danke", "0123456789"),  # another, all digits
        ("/antworten abcdef0123: Danke", "abcdef0123"),
        ("/antworten #abcdef0123 Danke", "abcdef0123"),
        ("/antworten Kennung „abcdef0123“ Danke", "abcdef0123"),
        (f"/antworten {REF[:-1]} Danke", REF[:-1]),  # the alert's, a digit short
        (f"/antworten {REF}0 Danke", REF + "0"),  # a digit too many
        # Numbers that are no reference: a hotline, a date, an order, further on.
        ("/antworten Rufen Sie 030123456 an", None),
        ("/antworten Am 01.12.2026 kommt es", None),
        ("/antworten Danke für Ihre Geduld, Ihre Erstattung abcdef0123", None),
    ],
)
def test_another_reference_among_the_first_words_is_noticed(typed: str, found: str | None) -> None:
    assert other_reference(typed, REF) == found
