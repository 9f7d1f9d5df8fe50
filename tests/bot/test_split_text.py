"""Long replies split into Telegram-sized messages without tearing an answer from its question."""

from __future__ import annotations

import pytest

from bot.render import fit_toast, split_text
from tests.harness import Harness


def export_like(items: int, answer_length: int) -> str:
    blocks = [
        f"• Feedback {n}\n  Wie zufrieden sind Sie?\n  → {n % 5 + 1} / 5\n"
        f"  Was sollten wir wissen?\n  → {'wort ' * (answer_length // 5)}"
        for n in range(items)
    ]
    return "\n".join(blocks)


def test_no_piece_ends_with_a_question_whose_answer_is_in_the_next() -> None:
    for answer_length in (300, 900, 1900):
        text = export_like(12, answer_length)
        pieces = split_text(text, 4096)
        assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
        for piece in pieces[1:]:
            assert not piece.lstrip(" ").startswith("→"), piece[:60]
        assert "".join(pieces).replace("\n", "") == text.replace("\n", ""), "nothing lost"


def test_items_are_kept_whole_when_one_fits() -> None:
    pieces = split_text(export_like(12, 900), 4096)
    assert all(piece.startswith("• Feedback") for piece in pieces)


def test_one_long_line_is_cut_at_spaces_and_a_word_without_any_hard() -> None:
    words = "wort " * 2000
    assert all(len(p) <= 4096 for p in split_text(words, 4096))
    assert [len(p) for p in split_text("x" * 5000, 4096)] == [4096, 904]


def test_a_buttons_answer_fits_what_telegram_takes() -> None:
    """ "Selected: <option>" of an option with a long label (a warning of `check`, not an
    error) was refused by Telegram past 200 characters: the button kept spinning and the
    choice was not said (review of the accessibility change)."""
    assert fit_toast(None) is None
    assert fit_toast("Ausgewählt: Zu langsam") == "Ausgewählt: Zu langsam"
    long = "Selected: " + "very long option " * 20
    fitted = fit_toast(long)
    assert fitted is not None and len(fitted) <= 200 and fitted.endswith("…")
    assert fitted.startswith("Selected: very long option")
    assert fit_toast("x" * 200) == "x" * 200


@pytest.mark.parametrize(("language", "command"), [("de", "/datenschutz"), ("en", "/privacy")])
async def test_the_privacy_notice_is_cut_between_its_sections(
    harness: Harness, language: str, command: str
) -> None:
    """Found by a customer walk-through: the notice's second message began with a list's
    item ("• Telegram, …", "• Restriction of processing …"), cut off from its heading."""
    person = harness.customer(language_code=language)
    messages = [str(m["text"]) for m in await person.send(command)]
    assert len(messages) > 1, "long enough to be cut"
    for later in messages[1:]:
        assert not later.startswith("•"), later[:80]
    assert all(len(m) <= 4096 for m in messages)
