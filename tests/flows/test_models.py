"""Flow definitions are validated when loaded; mistakes are load errors with a clear message."""

from __future__ import annotations

import pytest

from flows.catalog import FlowCatalog, FlowDefinitionError, load_flow, shipped_flow_ids

HEAD = """
id = "t"
title = "T"
intro = "Hi"
[[purposes]]
id = "feedback"
required = true
description = "Feedback"
[[purposes]]
id = "contact"
description = "Contact"
stores_contact = true
"""


def test_shipped_default_flow_loads() -> None:
    catalog = FlowCatalog.load()
    assert catalog.default.id == "feedback"
    assert [s.type for s in catalog.default.steps] == ["rating", "text", "consent", "thanks"]


def test_answer_before_its_consent_is_a_load_error() -> None:
    text = (
        HEAD
        + """
[[steps]]
id = "phone"
type = "text"
purpose = "contact"
prompt = "Your phone?"
[[steps]]
id = "ask"
type = "consent"
purpose = "contact"
prompt = "May we?"
[[steps]]
id = "bye"
type = "thanks"
prompt = "Bye"
"""
    )
    with pytest.raises(
        FlowDefinitionError, match="'phone' collects answers for purpose 'contact' before"
    ):
        load_flow(text, "bad.toml")


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ('[[steps]]\nid="r"\ntype="rating"\nmin=1\nmax=10\nprompt="?"\n', "1–5"),
        ('[[steps]]\nid="r"\ntype="dance"\nprompt="?"\n', "dance"),
        ('[[steps]]\nid="r"\ntype="text"\nprompt="?"\n', "thanks"),
        ('[[steps]]\nid="Bad Id"\ntype="text"\nprompt="?"\n', "not a valid id"),
    ],
)
def test_invalid_definitions_name_the_file_and_problem(steps: str, message: str) -> None:
    text = HEAD + steps + '[[steps]]\nid="bye"\ntype="thanks"\nprompt="Bye"\n'
    if message == "thanks":
        text = HEAD + steps + steps.replace('id="r"', 'id="s"')
    with pytest.raises(FlowDefinitionError, match=message) as error:
        load_flow(text, "x.toml")
    assert str(error.value).startswith("x.toml:")


def test_not_toml_is_reported() -> None:
    with pytest.raises(FlowDefinitionError, match="not valid TOML"):
        load_flow("id = ", "broken.toml")


def test_shipped_flows_can_be_left_out_but_plain_start_needs_a_flow() -> None:
    assert shipped_flow_ids() == ("feedback", "product")
    assert list(FlowCatalog.load(shipped=("feedback",)).flows) == ["feedback"]
    with pytest.raises(FlowDefinitionError, match="FEEDBACKBOT_SHIPPED_FLOWS"):
        FlowCatalog.load(shipped=())


def test_a_question_is_asked_of_everyone_only_where_no_branch_or_condition_avoids_it() -> None:
    """What a comment is shown under in summaries: a question asked only after some
    answers tells them."""
    flows = FlowCatalog.load().flows
    product, feedback = flows["product"], flows["feedback"]
    asked = {step.id for step in product.steps if product.asked_of_everyone(step)}
    assert asked == {"satisfaction", "recommend", "thanks"}
    assert all(feedback.asked_of_everyone(step) for step in feedback.steps)
