"""The operator changes a survey's purposes after people gave feedback to it: what was
given stays under the consents it was given under (found by review)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.test_optional_answers import (
    CALLBACK_FLOW,
    ISSUE,
    answer_the_callback_survey,
    copy_of_the_data,
)
from tests.fakes.botapi import FakeBotApi
from tests.harness import Clock, Harness, make_settings, texts

ADDED = """
[[purposes]]
id = "callback_analysis"
required = true
label = { de = "Auswertung durch Dritte", en = "Analysis by a third party" }
description = { de = "Weitergabe an ein Analyseinstitut", en = "Passing to an institute" }
"""


@pytest.mark.parametrize("change", ["renamed", "added"])
async def test_feedback_stays_evaluated_when_a_required_purpose_is_renamed_or_added(
    api: FakeBotApi, clock: Clock, tmp_path: Path, change: str
) -> None:
    """Erika's consent to the purpose she gave her feedback under is in force: the copy
    of her data must not call it "no longer evaluated" (as after a withdrawal) because
    the survey's required purpose was renamed, or another one added, since."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    flows.mkdir()
    (flows / "callback.toml").write_text(CALLBACK_FLOW, encoding="utf-8")
    harness = Harness(api, make_settings(data, flows_dir=flows), clock)
    await harness.start()
    await answer_the_callback_survey(harness)
    await harness.stop()
    if change == "renamed":
        changed = CALLBACK_FLOW.replace('"callback_feedback"', '"callback_storage"')
    else:
        changed = CALLBACK_FLOW.replace("[[steps]]", ADDED + "\n[[steps]]", 1)
    (flows / "callback.toml").write_text(changed, encoding="utf-8")
    harness = Harness(api, make_settings(data, flows_dir=flows), clock)
    await harness.start()
    try:
        copy = copy_of_the_data(await harness.customer().send("/meinedaten"))
        in_force = {c["purpose"] for c in copy["consents"] if c["status"] == "in_force"}
        assert "callback_feedback" in in_force
        [feedback] = copy["feedback"]
        assert feedback["evaluated"]
    finally:
        await harness.stop()


@pytest.mark.parametrize("change", ["renamed", "retired"])
async def test_withdrawing_an_optional_consent_renamed_or_retired_since_erases_its_answers(
    api: FakeBotApi, clock: Clock, tmp_path: Path, change: str
) -> None:
    """Erika answered the question asked for the optional purpose "followup"; the
    operator then renamed the purpose, or retired the survey. /widerruf lists "followup
    (no longer asked)": withdrawing it erases her answer, as the README promises (it
    stayed, as no loaded flow said which answers were collected for it), and the rest of
    her feedback stays."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    flows.mkdir()
    (flows / "callback.toml").write_text(CALLBACK_FLOW, encoding="utf-8")
    harness = Harness(api, make_settings(data, flows_dir=flows), clock)
    await harness.start()
    await answer_the_callback_survey(harness)
    await harness.stop()
    if change == "renamed":
        renamed = CALLBACK_FLOW.replace('"followup"', '"follow_up"')
        (flows / "callback.toml").write_text(renamed, encoding="utf-8")
        settings = make_settings(data, flows_dir=flows)
    else:
        settings = make_settings(data)  # the shipped flows only
    harness = Harness(api, settings, clock)
    await harness.start()
    try:
        erika = harness.customer()
        await erika.send("/widerruf")
        said = texts(await erika.press("followup (wird nicht mehr erfragt)"))
        assert "widerrufen" in said
        assert ISSUE not in texts(await erika.send("/meinedaten"))
        [feedback] = copy_of_the_data(await erika.send("/meinedaten"))["feedback"]
        assert {a["step"]: a["answer"] for a in feedback["answers"]} == {"rating": 2}
    finally:
        await harness.stop()


SCALED = """
id = "scaled"
title = { de = "Bewertung", en = "Rating" }
intro = { de = "Kurz.", en = "Short." }

[[purposes]]
id = "scaled_feedback"
required = true
label = { de = "Speicherung", en = "Storing" }
description = { de = "Feedback speichern und auswerten", en = "Storing and evaluating feedback" }

[[steps]]
id = "rating"
type = "rating"
min = 1
max = 5
prompt = { de = "Wie zufrieden?", en = "How satisfied?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thanks!" }
"""


async def test_a_stored_rating_is_shown_on_the_scale_it_was_given_on(
    api: FakeBotApi, clock: Clock, tmp_path: Path
) -> None:
    """Erika gave 5 of 5; the operator made the question 0-10 since: her copy says 5 / 5,
    not 5 / 10 (found by review)."""
    data, flows = tmp_path / "data", tmp_path / "flows"
    flows.mkdir()
    (flows / "scaled.toml").write_text(SCALED, encoding="utf-8")
    harness = Harness(api, make_settings(data, flows_dir=flows), clock)
    await harness.start()
    erika = harness.customer()
    await erika.send("/start scaled")
    await erika.press("Ja, ich willige ein")
    assert "Danke!" in texts(await erika.press("5"))
    await harness.stop()
    ten = SCALED.replace("min = 1\nmax = 5", "min = 0\nmax = 10")
    (flows / "scaled.toml").write_text(ten, encoding="utf-8")
    harness = Harness(api, make_settings(data, flows_dir=flows), clock)
    await harness.start()
    try:
        [feedback] = copy_of_the_data(await harness.customer().send("/meinedaten"))["feedback"]
        [rating] = feedback["answers"]
        assert (rating["answer"], rating["answer_label"]) == (5, "5 / 5")
    finally:
        await harness.stop()
