"""The product flow through the real Application: deep link, branches, multiple choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Customer, Harness, files_contain, labels, make_settings, texts

CANARY = "Absturz-Kanarie-91c2 beim Speichern"


async def agree_to_product_feedback(erika: Customer) -> None:
    [notice] = await erika.send("/start product")
    assert "Wie gefällt Ihnen unser Produkt?" in notice["text"]
    assert "um unser Produkt zu verbessern" in notice["text"]
    await erika.press("Ja, ich willige ein")


async def test_low_rating_branch_with_multiple_choice_end_to_end(harness: Harness) -> None:
    erika = harness.customer()
    await agree_to_product_feedback(erika)
    [question] = await erika.press("2")
    assert question["text"].startswith("Was lief schief?")
    assert labels(question)[-1] == ["Fertig"]

    assert await erika.press("☐ Zu langsam") == [], "a toggle sends nothing new"
    assert await erika.press("☐ Zu teuer") == []
    redrawn = erika.last()
    assert redrawn["message_id"] == question["message_id"] and redrawn["edited"]
    assert ["☑ Zu langsam"] in labels(redrawn) and ["☑ Zu teuer"] in labels(redrawn)
    assert ["☐ Fehler und Abstürze"] in labels(redrawn)

    [details] = await erika.press("Fertig")
    assert details["text"].startswith("Erzählen Sie uns mehr")
    pressed = next(
        m for m in harness.api.messages(erika.chat_id) if m["message_id"] == question["message_id"]
    )
    assert pressed["buttons"] == [], "the choices cannot be pressed twice"

    [recommend] = await erika.send(CANARY)
    assert labels(recommend) == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
    [offer] = await erika.press("8")
    assert "Darf unser Support Sie in diesem Chat kontaktieren" in offer["text"]
    answer = await erika.press("Nein")
    assert "Vielen Dank für Ihr Produktfeedback!" in texts(answer)

    export = json.loads(
        next(m for m in await erika.send("/meinedaten") if m["document"])["document"]["bytes"]
    )
    [feedback] = export["feedback"]
    assert feedback["flow"] == "product" and feedback["flow_title"] == "Produktfeedback"
    answers = {a["step"]: (a["answer"], a["answer_label"]) for a in feedback["answers"]}
    assert answers == {
        "satisfaction": (2, "2 / 5"),
        "problems": (["slow", "price"], "Zu langsam, Zu teuer"),
        "problem_details": (CANARY, None),
        "recommend": (8, "8 / 10"),
    }
    assert not files_contain(harness.settings.data_dir, CANARY.encode())


async def test_a_toggle_is_confirmed_in_words_on_the_pressed_button(harness: Harness) -> None:
    """What a screen reader announces after a toggle: the notice on the button, in the
    person's language (the redrawn "☑" is not read out by itself)."""
    erika = harness.customer()
    await agree_to_product_feedback(erika)
    await erika.press("2")
    await erika.press("☐ Zu langsam")
    assert erika.last_toast() == "Ausgewählt: Zu langsam"
    await erika.press("☑ Zu langsam")
    assert erika.last_toast() == "Nicht mehr ausgewählt: Zu langsam"


async def test_high_rating_branch_skips_the_offer_of_help(harness: Harness) -> None:
    john = harness.customer(1001, language_code="en")
    [notice] = await john.send("/start product")
    assert "How do you like our product?" in notice["text"]
    await john.press("Yes, I agree")
    [liked] = await john.press("5")
    assert liked["text"].startswith("What do you like most?")
    await john.press("☐ The support")
    await john.press("Done")
    answer = await john.press("10")
    assert "Thank you for your product feedback!" in texts(answer)
    assert "contact you" not in texts(answer)


async def test_middling_rating_asks_what_would_be_better(harness: Harness) -> None:
    erika = harness.customer()
    await agree_to_product_feedback(erika)
    [improve] = await erika.press("3")
    assert improve["text"].startswith("Was würde unser Produkt für Sie besser machen?")


async def test_a_toggle_survives_a_restart(harness: Harness) -> None:
    erika = harness.customer()
    await agree_to_product_feedback(erika)
    await erika.press("1")
    await erika.press("☐ Fehler und Abstürze")
    await harness.restart()
    [*_, again] = await erika.send("/start product")
    assert ["☑ Fehler und Abstürze"] in labels(again), "the choice is kept in the draft"


async def test_plain_start_still_runs_the_default_flow(harness: Harness) -> None:
    [notice] = await harness.customer().send("/start")
    assert "wie zufrieden Sie mit unserem Service sind" in notice["text"]


async def test_a_question_asked_again_leaves_one_set_of_live_buttons(harness: Harness) -> None:
    """Ticks made on an older copy of a multiple choice would not show on the new one,
    yet "Done" there would record them: only the newest copy keeps its buttons."""
    erika = harness.customer()
    await agree_to_product_feedback(erika)
    [question] = await erika.press("2")
    await erika.press("☐ Zu langsam")
    [again] = await erika.sticker()
    assert "nur Text und Schaltflächen" in again["text"]
    [resumed] = await erika.send("/start product")
    assert "Machen wir dort weiter" in resumed["text"]
    assert ["☑ Zu langsam"] in labels(resumed), "the new copy shows the ticks made"
    shown = {m["message_id"]: m["buttons"] for m in harness.api.messages(erika.chat_id)}
    assert shown[question["message_id"]] == [] and shown[again["message_id"]] == []
    assert [m for m, buttons in shown.items() if buttons] == [resumed["message_id"]]


async def test_options_ticked_so_far_are_in_the_copy_of_the_data(harness: Harness) -> None:
    """They are stored in the draft, so /meinedaten must show them (Art. 15)."""
    erika = harness.customer()
    await agree_to_product_feedback(erika)
    await erika.press("2")
    await erika.press("☐ Zu langsam")
    answer = await erika.send("/meinedaten")
    [document] = [m["document"] for m in answer if m["document"]]
    [draft] = json.loads(document["bytes"].decode("utf-8"))["unfinished_feedback"]
    ticked = {a["step"]: a for a in draft["answers"]}["problems"]
    assert ticked["answer"] == ["slow"] and ticked["answer_label"] == "Zu langsam"
    assert "Zu langsam" in texts(answer), "in the readable summary too"


MID_FLOW = """
id = "mid"
title = { de = "Mitte", en = "Mid" }
intro = { de = "Kurze Umfrage.", en = "Short survey." }

[[purposes]]
id = "mid_feedback"
required = true
label = { de = "Speicherung", en = "Storing" }
description = { de = "Feedback speichern", en = "Storing feedback" }

[[purposes]]
id = "contact"
required = false
stores_contact = true
label = "Being contacted"
description = "Contacting you in this chat about your feedback"

[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie zufrieden?", en = "How satisfied?" }

[[steps]]
id = "contact"
type = "consent"
purpose = "contact"
prompt = { de = "Dürfen wir Sie kontaktieren?", en = "May we contact you?" }

[[steps]]
id = "comment"
type = "text"
prompt = { de = "Noch etwas?", en = "Anything else?" }
skippable = true

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""


async def test_a_consent_answered_mid_conversation_is_in_the_copy_of_the_data(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "mid.toml").write_text(MID_FLOW, encoding="utf-8")
    harness = Harness(api, make_settings(tmp_path / "data", flows_dir=flows), clock)
    await harness.start()
    try:
        erika = harness.customer()
        await erika.send("/start mid")
        await erika.press("Ja, ich willige ein")
        await erika.press("3")
        await erika.press("Ja, einverstanden")  # the comment is still to come
        answer = await erika.send("/meinedaten")
        [document] = [m["document"] for m in answer if m["document"]]
        [draft] = json.loads(document["bytes"].decode("utf-8"))["unfinished_feedback"]
        given = {a["step"]: a for a in draft["answers"]}
        assert given["contact"]["answer"] == "y"
        assert given["contact"]["answer_label"] == "Ja, einverstanden"
        assert given["contact"]["question"] == "Dürfen wir Sie kontaktieren?"
    finally:
        await harness.stop()


@pytest.mark.parametrize(("language", "done"), [("de", "Fertig"), ("en", "done.")])
async def test_typing_done_at_a_multiple_choice_question_finishes_it(
    harness: Harness, language: str, done: str
) -> None:
    """Found by review: the hint says to tap "Done" ("tippen" is to type as well), and the
    typed word was refused with "please answer with one of the buttons"."""
    de = language == "de"
    erika = harness.customer(language_code=language)
    await erika.send("/start product")
    await erika.press("Ja, ich willige ein" if de else "Yes, I agree")
    await erika.press("2")
    none_yet = texts(await erika.send(done))
    assert ("mindestens eine Option" if de else "at least one option") in none_yet, none_yet
    await erika.press("☐ " + ("Zu langsam" if de else "Too slow"))
    answer = await erika.send(done)
    assert ("Was ist passiert" if de else "what happened") in texts(answer), texts(answer)
    assert labels(answer[-1]) == [["Überspringen" if de else "Skip"]]
