"""Flow definitions: pydantic models for the TOML files in ``flows/definitions``.

A definition is checked as a whole when it is loaded, so that a flow which would ask
for answers before the consent they need never reaches a customer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flows.durations import parse_duration
from flows.i18n import Translator

IDENT = r"^[a-z][a-z0-9_]{0,19}$"
# Longest callback data the engine builds: "a:" + 8-char token + ":" + step + ":" + value.
CALLBACK_LIMIT = 64
TOKEN_LENGTH = 8

Text = str | dict[str, str]
"""A catalog message id (translated with gettext), or texts per language {de = ..., en = ...}."""


def render_text(text: Text, t: Translator, fallback_locale: str = "de") -> str:
    if isinstance(text, str):
        return t.gettext(text)
    return text.get(t.locale) or text.get(fallback_locale) or next(iter(text.values()))


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Purpose(_Model):
    """One purpose of processing that a person consents to on its own (Art. 6(1)(a), 7(2))."""

    id: str = Field(pattern=IDENT)
    description: Text
    label: Text | None = None
    """A short name for buttons and lists; the description when not given."""
    required: bool = False
    retention: timedelta | None = None
    stores_contact: bool = False
    """Granting this purpose stores the chat id (encrypted) so the controller can write back."""

    @field_validator("retention", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return None if value is None else parse_duration(value)  # type: ignore[arg-type]


class _Step(_Model):
    id: str = Field(pattern=IDENT)
    prompt: Text
    purpose: str | None = None
    """The purpose the answer is collected for; None means the flow's required purpose."""


class RatingStep(_Step):
    type: Literal["rating"]
    min: Literal[0, 1] = 1
    max: Literal[5, 10] = 5
    low_label: Text | None = None
    high_label: Text | None = None

    @model_validator(mode="after")
    def _scale(self) -> RatingStep:
        if (self.min, self.max) not in {(1, 5), (0, 10)}:
            raise ValueError(
                "a rating is either 1–5 (min = 1, max = 5) or 0–10 (min = 0, max = 10)"
            )
        return self


class Option(_Model):
    id: str = Field(pattern=IDENT)
    label: Text


class ChoiceStep(_Step):
    type: Literal["choice"]
    options: list[Option] = Field(min_length=2, max_length=12)


class TextStep(_Step):
    type: Literal["text"]
    max_length: int = Field(default=2000, ge=1, le=4000)
    skippable: bool = True


class ConsentStep(_Step):
    """Asks for one optional purpose, at the point in the flow where it is needed."""

    type: Literal["consent"]
    purpose: str


class ThanksStep(_Step):
    type: Literal["thanks"]


Step = Annotated[
    RatingStep | ChoiceStep | TextStep | ConsentStep | ThanksStep, Field(discriminator="type")
]
CollectingStep = RatingStep | ChoiceStep | TextStep


class FlowDefinition(_Model):
    id: str = Field(pattern=IDENT)
    title: Text
    intro: Text
    purposes: list[Purpose] = Field(min_length=1)
    steps: list[Step] = Field(min_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> FlowDefinition:
        _check_purposes(self)
        _check_steps(self)
        return self

    def purpose(self, purpose_id: str) -> Purpose:
        return next(p for p in self.purposes if p.id == purpose_id)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def next_step(self, step_id: str) -> Step | None:
        ids = [s.id for s in self.steps]
        position = ids.index(step_id) + 1
        return self.steps[position] if position < len(ids) else None

    @property
    def required_purposes(self) -> list[Purpose]:
        return [p for p in self.purposes if p.required]

    def retention(self, default: timedelta) -> timedelta:
        """How long a feedback of this flow is kept: the shortest of its required purposes."""
        return min(p.retention or default for p in self.required_purposes)


def _check_purposes(flow: FlowDefinition) -> None:
    ids = [p.id for p in flow.purposes]
    if len(set(ids)) != len(ids):
        raise ValueError(f"purpose ids must be unique, got {ids}")
    if not flow.required_purposes:
        raise ValueError("a flow needs at least one purpose with required = true")
    for purpose in flow.purposes:
        if purpose.stores_contact and purpose.required:
            raise ValueError(f"purpose {purpose.id!r}: being contacted can only be optional")


def _check_steps(flow: FlowDefinition) -> None:
    ids = [s.id for s in flow.steps]
    if len(set(ids)) != len(ids):
        raise ValueError(f"step ids must be unique, got {ids}")
    if not isinstance(flow.steps[-1], ThanksStep) or any(
        isinstance(s, ThanksStep) for s in flow.steps[:-1]
    ):
        raise ValueError("the last step, and only the last, must be of type 'thanks'")
    purposes = {p.id: p for p in flow.purposes}
    consented: set[str] = {p.id for p in flow.required_purposes}
    for step in flow.steps:
        if step.purpose is not None and step.purpose not in purposes:
            raise ValueError(f"step {step.id!r} names unknown purpose {step.purpose!r}")
        if isinstance(step, ConsentStep):
            if purposes[step.purpose].required:
                raise ValueError(
                    f"step {step.id!r} asks for purpose {step.purpose!r}, which is already "
                    "asked before the first question (required = true); make it optional"
                )
            consented.add(step.purpose)
        elif step.purpose is not None and step.purpose not in consented:
            raise ValueError(
                f"step {step.id!r} collects answers for purpose {step.purpose!r} before its "
                "consent is asked; put a step of type 'consent' for that purpose before it"
            )
        _check_callback_size(step)


def _check_callback_size(step: Step) -> None:
    values = ["~skip", "y", "n"]
    if isinstance(step, RatingStep):
        values.append(str(step.max))
    if isinstance(step, ChoiceStep):
        values.extend(o.id for o in step.options)
    longest = max(len(f"a:{'x' * TOKEN_LENGTH}:{step.id}:{v}".encode()) for v in values)
    if longest > CALLBACK_LIMIT:
        raise ValueError(f"step {step.id!r}: button data would exceed Telegram's 64 bytes")
