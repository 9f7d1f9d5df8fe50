"""Flow definitions: pydantic models for the TOML files in ``flows/definitions``.

These models describe the shape of a definition. The rules that concern a flow as a
whole (every branch leads somewhere, no loops, no answer before its consent, buttons
that fit Telegram) are in `flows.rules`; `flows.catalog.load_flow` applies both, so a
flow that breaks one never reaches a customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from flows.durations import InvalidDuration, NotPositive, parse_duration
from flows.i18n import SUPPORTED_LOCALES, Translator

IDENT_LENGTH = 40
IDENT = rf"^[a-z][a-z0-9_]{{0,{IDENT_LENGTH - 1}}}$"
# Longest callback data the engine builds: "a:" + 8-char token + ":" + step + ":" + value.
CALLBACK_LIMIT = 64
TOKEN_LENGTH = 8
# Button values that are no answer themselves; option ids cannot start with "~".
LONGEST_RETENTION = timedelta(days=3660)
"""Ten years: longer than any feedback needs keeping (and past that, dates overflow)."""

SKIP = "~skip"
DONE = "~done"


def _known_languages(text: str | dict[str, str]) -> str | dict[str, str]:
    if isinstance(text, str):
        if not text.strip():
            raise PydanticCustomError("empty_text", "the text is empty")
        return text
    if not text:
        raise PydanticCustomError("no_language", "give the text in at least one language")
    for language, value in text.items():
        if language not in SUPPORTED_LOCALES:
            raise PydanticCustomError(
                "unsupported_language",
                "unsupported language {language!r}; texts can be given in {supported}",
                {"language": language, "supported": ", ".join(SUPPORTED_LOCALES)},
            )
        if not value.strip():
            raise PydanticCustomError(
                "empty_text", "the {language} text is empty", {"language": language}
            )
    return text


Text = Annotated[str | dict[str, str], AfterValidator(_known_languages)]
"""A catalog message id (translated with gettext), or texts per language {de = ..., en = ...}."""


def render_text(text: str | dict[str, str], t: Translator, fallback_locale: str = "de") -> str:
    """The text in `t`'s language; a language missing inline falls back to the default locale."""
    if isinstance(text, str):
        return t.gettext(text)
    return text.get(t.locale) or text.get(fallback_locale) or next(iter(text.values()))


# Below Telegram's 4,096 characters a message: a longer text arrives in parts.
MAX_TEXT_STEP_LENGTH = 4000


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
    shares_feedback: bool = False
    """Granting this purpose lets the feedback go to the recipients configured for it."""

    @property
    def is_the_point(self) -> bool:
        """Consent that matters by itself, whether or not a later question collects for it."""
        return self.stores_contact or self.shares_feedback

    @field_validator("retention", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return None if value is None else flow_retention_of(value)


SHORTEST_FLOW_RETENTION = timedelta(days=1)


def flow_retention_of(value: object) -> timedelta:
    """A purpose's retention in a flow file: as `retention_of`, but not a plain number,
    which counts seconds (`retention = 90` meant as days kept feedback ninety seconds,
    found by review), and at least a day."""
    plain = isinstance(value, int | float) and not isinstance(value, bool)
    if plain or (isinstance(value, str) and re.fullmatch(r"\s*\d+(?:\.\d+)?\s*", value)):
        raise PydanticCustomError(
            "plain_number", "a plain number counts seconds", {"value": str(value).strip()[:40]}
        )
    period = retention_of(value)
    if period < SHORTEST_FLOW_RETENTION:
        raise PydanticCustomError(
            "retention_too_short",
            "a retention must be at least a day",
            {"value": str(value).strip()[:40]},
        )
    return period


def retention_of(value: object) -> timedelta:
    """A retention period as written in a flow file or the settings: a duration of at
    most ten years."""
    try:
        period = parse_duration(value)  # type: ignore[arg-type]
    except NotPositive:
        raise PydanticCustomError("not_positive", "must be longer than zero") from None
    except InvalidDuration:
        raise PydanticCustomError(
            "duration",
            # (no "12h": a flow's retention is a day at least; "6M" is refused as months or
            # minutes, found by a flow author's review)
            "'{value}' is not a duration; use e.g. 90d, 180d or P180D (months in days)",
            {"value": str(value)[:40]},
        ) from None
    if period > LONGEST_RETENTION:
        raise PydanticCustomError(
            "retention_too_long",
            "a retention can be at most {days} days",
            {"days": LONGEST_RETENTION.days},
        )
    return period


# --- conditions and branches ----------------------------------------------------------

_CONDITION = re.compile(
    r"^\s*(?P<step>[a-z][a-z0-9_]*)\s*(?P<op>==|!=|<=|>=|<|>|\bhas\b)\s*"
    r"(?P<value>-?\d+|[a-z][a-z0-9_]*|\"[a-z][a-z0-9_]*\")\s*$"
)
Operator = Literal["==", "!=", "<", "<=", ">", ">=", "has"]
COMPARISONS: frozenset[str] = frozenset({"==", "!=", "<", "<=", ">", ">="})


class Condition(_Model):
    """A test on an earlier answer, written ``"rating <= 2"``, ``"topic == billing"`` or
    ``"liked has support"``. A question that was not asked (or was skipped) makes it false."""

    step: str
    op: Operator
    value: int | str

    @classmethod
    def from_text(cls, source: object) -> object:
        """The fields of a condition written as text (other values pass through)."""
        if not isinstance(source, str):
            return source
        match = _CONDITION.match(source)
        if match is None:
            raise PydanticCustomError(
                "condition_syntax",
                "cannot read the condition {condition!r}",
                {"condition": source},
            )
        raw = match["value"].strip('"')
        value: int | str = int(raw) if re.fullmatch(r"-?\d+", raw) else raw
        return {"step": match["step"], "op": match["op"], "value": value}

    def holds(self, answers: Mapping[str, object]) -> bool:
        answer = answers.get(self.step)
        if self.op == "has":
            return isinstance(answer, list) and self.value in answer
        if answer is None or isinstance(answer, list):
            return False
        if self.op in {"==", "!="}:
            return (answer == self.value) == (self.op == "==")
        if not isinstance(answer, int) or not isinstance(self.value, int):
            return False
        return {
            "<": answer < self.value,
            "<=": answer <= self.value,
            ">": answer > self.value,
            ">=": answer >= self.value,
        }[self.op]

    def __str__(self) -> str:
        return f"{self.step} {self.op} {self.value}"


class Rule(_Model):
    """One branch: go to step `goto` if the condition holds (always, without one)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    when: Condition | None = Field(default=None, alias="if")
    goto: str

    @field_validator("when", mode="before")
    @classmethod
    def _condition(cls, value: object) -> object:
        return Condition.from_text(value)


def _rules(value: object) -> object:
    """``next = "step"`` is short for ``next = [{ goto = "step" }]``."""
    return [{"goto": value}] if isinstance(value, str) else value


# --- steps ------------------------------------------------------------------------------


RESERVED_STEP_IDS = ("date", "flow", "delete_by")
"""Names of the export's own columns (see flows.staff.export_rows): a question of one of
these ids would have its answers overwritten there (found by review)."""

RECIPIENT_FIELD_IDS = ("feedback_id", "given_at")
"""Names a recipient's `fields` take for what it receives besides the answers (see
flows.sharing.META_FIELDS; `flow` is an export column too): a question of one of these ids
was named to the person as passed on, and its answer never was (found by review)."""


class _Step(_Model):
    id: str = Field(pattern=IDENT)
    prompt: Text

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_STEP_IDS:
            raise PydanticCustomError(
                "reserved_id",
                "{value!r} names a column of the export of its own",
                {"value": value},
            )
        if value in RECIPIENT_FIELD_IDS:
            raise PydanticCustomError(
                "recipient_field_id",
                "{value!r} names what a recipient receives besides the answers",
                {"value": value},
            )
        return value


class _Asking(_Step):
    """A step that asks something; it can branch on the answer and be skipped."""

    purpose: str | None = None
    """The purpose the answer is collected for; None means the flow's required purpose."""
    next: list[Rule] = []
    """Branches, tried in order; when none applies, the next step in the file follows."""
    skip_if: Condition | None = None
    """Skip this step when the condition holds; its branches still decide what follows."""

    @field_validator("next", mode="before")
    @classmethod
    def _next(cls, value: object) -> object:
        return _rules(value)

    @field_validator("skip_if", mode="before")
    @classmethod
    def _skip_if(cls, value: object) -> object:
        return Condition.from_text(value)


class RatingStep(_Asking):
    type: Literal["rating"]
    min: Literal[0, 1] = 1
    max: Literal[5, 10] = 5
    low_label: Text | None = None
    high_label: Text | None = None


class Option(_Model):
    id: str = Field(pattern=IDENT)
    label: Text


class ChoiceStep(_Asking):
    type: Literal["choice"]
    options: list[Option] = Field(min_length=2, max_length=12)


class MultipleChoiceStep(_Asking):
    """Options toggled on and off, then a done button; the answer is the chosen option ids."""

    type: Literal["multiple_choice"]
    options: list[Option] = Field(min_length=2, max_length=12)
    min_selected: int = Field(default=1, ge=0)
    max_selected: int | None = Field(default=None, ge=1)


class TextStep(_Asking):
    type: Literal["text"]
    max_length: int = Field(default=2000, ge=1, le=MAX_TEXT_STEP_LENGTH)
    skippable: bool = True


class ConsentStep(_Asking):
    """Asks for one optional purpose, at the point in the flow where it is needed."""

    type: Literal["consent"]
    purpose: str


class ThanksStep(_Step):
    """Ends the flow; a flow may have several (one per ending), the last step is one."""

    type: Literal["thanks"]


AskingStep = RatingStep | ChoiceStep | MultipleChoiceStep | TextStep | ConsentStep
"""A step that asks something (every step but a thanks)."""

Step = Annotated[
    RatingStep | ChoiceStep | MultipleChoiceStep | TextStep | ConsentStep | ThanksStep,
    Field(discriminator="type"),
]
STEP_TYPES: dict[str, type[BaseModel]] = {
    "rating": RatingStep,
    "choice": ChoiceStep,
    "multiple_choice": MultipleChoiceStep,
    "text": TextStep,
    "consent": ConsentStep,
    "thanks": ThanksStep,
}


class FlowDefinition(_Model):
    id: str = Field(pattern=IDENT)
    title: Text
    intro: Text
    purposes: list[Purpose] = Field(min_length=1)
    steps: list[Step] = Field(min_length=2)

    def purpose(self, purpose_id: str) -> Purpose:
        return next(p for p in self.purposes if p.id == purpose_id)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def required_purposes(self) -> list[Purpose]:
        return [p for p in self.purposes if p.required]

    @cached_property  # read for every feedback a summary counts
    def evaluated_steps(self) -> list[Step]:
        """The steps whose answers serve the flow's required purposes, the only ones that
        summaries and statistics count: an answer collected for an optional purpose is
        used for that purpose alone (and erased when its consent is withdrawn)."""
        optional = {s for p in self.purposes if not p.required for s in self.collected_for(p.id)}
        return [s for s in self.steps if s.id not in optional]

    def asks(self, purpose_id: str) -> bool:
        """Whether a step of type 'consent' asks for this (optional) purpose."""
        return any(isinstance(s, ConsentStep) and s.purpose == purpose_id for s in self.steps)

    def collected_for(self, purpose_id: str) -> list[str]:
        """The ids of the questions whose answers are collected for this purpose."""
        return [
            s.id
            for s in self.steps
            if isinstance(s, _Asking) and not isinstance(s, ConsentStep) and s.purpose == purpose_id
        ]

    def retention(self, default: timedelta) -> timedelta:
        """How long a feedback of this flow is kept: the shortest of its required purposes."""
        return min(p.retention or default for p in self.required_purposes)

    def in_file_after(self, step: Step) -> Step | None:
        position = self.steps.index(step) + 1
        return self.steps[position] if position < len(self.steps) else None

    def following(self, step: Step, answers: Mapping[str, Any]) -> Step | None:
        """The step after `step`: the first branch whose condition holds, else the next in
        the file. None after a thanks step."""
        if isinstance(step, ThanksStep):
            return None
        for rule in step.next:
            if rule.when is None or rule.when.holds(answers):
                return self.step(rule.goto)
        return self.in_file_after(step)

    def steps_after(self, step: Step) -> list[Step]:
        """Every step that can come after `step` on some path, in file order."""
        seen: set[str] = set()
        todo = self.successors(step)
        while todo:
            step_id = todo.pop()
            following = self.step(step_id)
            if step_id not in seen and following is not None:
                seen.add(step_id)
                todo.extend(self.successors(following))
        return [s for s in self.steps if s.id in seen]

    def asked_of_everyone(self, step: Step) -> bool:
        """Whether every way through the flow asks `step`: no condition skips it and no
        branch leads around it. An answer to a question asked only after some answers
        (a low rating's "what went wrong?") tells those answers too."""
        if getattr(step, "skip_if", None) is not None:
            return False
        seen: set[str] = set()
        todo = [self.steps[0].id] if self.steps else []
        while todo:
            step_id = todo.pop()
            if step_id == step.id or step_id in seen:
                continue
            seen.add(step_id)
            current = self.step(step_id)
            if isinstance(current, ThanksStep):
                return False  # reached the end without it
            if current is not None:
                todo.extend(self.successors(current))
        return True

    def successors(self, step: Step) -> list[str]:
        """Every step id that can follow `step`, whatever the answers (for checking paths)."""
        if isinstance(step, ThanksStep):
            return []
        targets = []
        for rule in step.next:
            targets.append(rule.goto)
            if rule.when is None:  # the branches after it are never taken
                break
        if all(rule.when is not None for rule in step.next):
            after = self.in_file_after(step)
            if after is not None:
                targets.append(after.id)
        return list(dict.fromkeys(targets))


def button_values(step: Step) -> list[str]:
    """Every value a button of `step` can carry in its callback data."""
    if isinstance(step, RatingStep):
        return [str(v) for v in range(step.min, step.max + 1)]
    if isinstance(step, ChoiceStep):
        return [o.id for o in step.options]
    if isinstance(step, MultipleChoiceStep):
        return [*(o.id for o in step.options), DONE]
    if isinstance(step, TextStep):
        return [SKIP] if step.skippable else []
    if isinstance(step, ConsentStep):
        return ["y", "n"]
    return []
