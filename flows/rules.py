"""The rules a flow definition must follow as a whole, beyond the shape of its parts.

`flow_problems` lists every broken rule with where it is in the definition (a path
like ``("steps", 2, "next", 0, "goto")``) and a hint to fix it. Errors keep a flow from
loading; warnings (a missing translation, a consent nothing needs) do not. Messages are
in the language of the given Translator.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Any

from flows.i18n import SUPPORTED_LOCALES, Translator, translator
from flows.models import (
    CALLBACK_LIMIT,
    COMPARISONS,
    TOKEN_LENGTH,
    ChoiceStep,
    Condition,
    ConsentStep,
    FlowDefinition,
    MultipleChoiceStep,
    RatingStep,
    Rule,
    Step,
    TextStep,
    ThanksStep,
    button_values,
    render_text,
)

Where = tuple[str | int, ...]
BUTTON_TEXT_SHOWN = 40
"""About as many characters as a phone shows on a button of a row of its own."""


@dataclass(frozen=True)
class Problem:
    where: Where
    message: str
    hint: str = ""
    warning: bool = False


def flow_problems(flow: FlowDefinition, t: Translator) -> list[Problem]:
    """Every broken rule of `flow`, errors and warnings (`flows.check` adds their lines)."""
    problems = [
        *_purpose_problems(flow, t),
        *_step_problems(flow, t),
        *_button_problems(flow, t),
        *_translation_problems(flow, t),
    ]
    ids = [step.id for step in flow.steps]
    if len(set(ids)) < len(ids):
        return problems  # paths make no sense until every step has its own id
    never = _never_taken(flow)
    paths = _Paths(flow, never.keys())
    # Only warned of: the paths keep these branches, so what they lead to is not refused
    # as never asked on the strength of an answer being certain.
    answered = _never_taken_once_answered(flow, paths, never)
    return [
        *problems,
        *_branch_problems(flow, paths, never | answered, t),
        *_condition_problems(flow, paths, never.keys(), t),
        *_consent_problems(flow, paths, t),
    ]


def _did_you_mean(t: Translator, wrong: str, known: Iterable[str]) -> str:
    choices = list(known)
    close = difflib.get_close_matches(wrong, choices, n=1)
    if close:
        return t.gettext("Did you mean '{suggestion}'?").format(suggestion=close[0])
    return t.gettext("Known ids: {ids}.").format(ids=", ".join(choices))


class _Paths:
    """The steps as a graph: which step can follow which, for some answers (a branch no
    answer takes leads nowhere: `never`, by (step position, branch position))."""

    def __init__(self, flow: FlowDefinition, never: Set[tuple[int, int]] = frozenset()) -> None:
        self.index: dict[str, int] = {}
        for position, step in enumerate(flow.steps):
            self.index.setdefault(step.id, position)
        self.steps = {step_id: flow.steps[i] for step_id, i in self.index.items()}
        self.edges = {
            step_id: [s for s in _taken(flow, i, never) if s in self.index]
            for step_id, i in self.index.items()
        }
        self.first = flow.steps[0].id
        self.reachable = self.reach(self.first, self.edges)

    @staticmethod
    def reach(start: str, edges: dict[str, list[str]]) -> set[str]:
        seen, queue = {start}, deque([start])
        while queue:
            for following in edges.get(queue.popleft(), []):
                if following not in seen:
                    seen.add(following)
                    queue.append(following)
        return seen

    def before(self, step_id: str) -> set[str]:
        """The steps that can come before `step_id` on some path from the first step."""
        reverse: dict[str, list[str]] = {}
        for source, targets in self.edges.items():
            for target in targets:
                reverse.setdefault(target, []).append(source)
        return (self.reach(step_id, reverse) - {step_id}) & self.reachable

    def after(self, step_id: str) -> set[str]:
        """The steps that can come after `step_id`."""
        return self.reach(step_id, self.edges) - {step_id}

    def path(self, to: str, avoiding: Set[str] = frozenset()) -> list[str]:
        """A shortest path from the first step to `to` through no step in `avoiding`."""
        came_from: dict[str, str | None] = {self.first: None}
        queue = deque([self.first])
        while queue:
            current = queue.popleft()
            if current == to:
                path = [current]
                while (previous := came_from[path[-1]]) is not None:
                    path.append(previous)
                return path[::-1]
            if current in avoiding:
                continue
            for following in self.edges[current]:
                if following not in came_from:
                    came_from[following] = current
                    queue.append(following)
        return []

    def loops(self) -> Iterator[tuple[str, str, list[str]]]:
        """(from, to, loop) for each branch that leads back to a step already on the way."""
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        stack: list[str] = []

        def visit(step_id: str) -> Iterator[tuple[str, str, list[str]]]:
            state[step_id] = 1
            stack.append(step_id)
            for following in self.edges[step_id]:
                if state.get(following) == 1:
                    loop = [*stack[stack.index(following) :], following]
                    yield step_id, following, loop
                elif following not in state:
                    yield from visit(following)
            stack.pop()
            state[step_id] = 2

        for step_id in self.index:
            if step_id not in state:
                yield from visit(step_id)


# --- purposes and steps on their own ----------------------------------------------------


def _purpose_problems(flow: FlowDefinition, t: Translator) -> Iterator[Problem]:
    seen: set[str] = set()
    for k, purpose in enumerate(flow.purposes):
        if purpose.id in seen:
            yield Problem(
                ("purposes", k, "id"),
                t.gettext("the purpose id '{id}' is used twice").format(id=purpose.id),
                t.gettext("Give every purpose its own id."),
            )
        seen.add(purpose.id)
        for key in ("description", "label"):
            text = getattr(purpose, key)
            texts = text.values() if isinstance(text, dict) else [text] if text else []
            if any(value.rstrip().endswith(".") for value in texts):
                yield Problem(
                    ("purposes", k, key),
                    t.gettext("purpose '{id}': the {key} ends with a full stop").format(
                        id=purpose.id, key=key
                    ),
                    t.gettext(
                        "The notices put it into sentences of their own (“Purpose: ….”); "
                        "leave the full stop out."
                    ),
                    warning=True,
                )
        if purpose.shares_feedback and purpose.required:
            yield Problem(
                ("purposes", k, "shares_feedback"),
                t.gettext(
                    "purpose '{id}': passing feedback to a third party can only be optional"
                ).format(id=purpose.id),
                t.gettext(
                    "Set required = false and ask for it with a step of type 'consent': taking "
                    "part must not depend on it (Art. 7(4) GDPR)."
                ),
            )
        if not purpose.required and not flow.asks(purpose.id):
            yield Problem(
                ("purposes", k, "id"),
                t.gettext(
                    "the optional purpose '{id}' is never asked: no step of type 'consent' "
                    "asks for it"
                ).format(id=purpose.id),
                t.gettext(
                    "Add a consent step for it where it is needed, or remove it; the notices "
                    "leave it out until then."
                ),
                warning=True,
            )
        if purpose.retention is not None and not purpose.required:
            yield Problem(
                ("purposes", k, "retention"),
                t.gettext("purpose '{id}': an optional purpose has no retention of its own").format(
                    id=purpose.id
                ),
                t.gettext(
                    "What it collects is kept as long as the feedback it comes with (the "
                    "retention of the required purposes); leave it out, or shorten theirs."
                ),
                warning=True,
            )
        if purpose.stores_contact and purpose.required:
            yield Problem(
                ("purposes", k, "stores_contact"),
                t.gettext("purpose '{id}': being contacted can only be optional").format(
                    id=purpose.id
                ),
                t.gettext("Set required = false and ask for it with a step of type 'consent'."),
            )
    required = [k for k, purpose in enumerate(flow.purposes) if purpose.required]
    if len(required) > 1:
        # Found by a DPO's walk-through: "store" and "marketing" both required were agreed
        # to with one Yes, and withdrawing the marketing erased the feedback.
        yield Problem(
            ("purposes", required[1], "required"),
            t.gettext(
                "purposes {ids} are all required: one Yes agrees to them together, and "
                "withdrawing any of them erases the feedback"
            ).format(ids=", ".join(f"'{flow.purposes[k].id}'" for k in required)),
            t.gettext(
                "Consent is given per purpose (Art. 7(2), 7(4) GDPR): keep required = true for "
                "what taking part needs (storing the feedback), and ask for each other purpose "
                "with required = false and a step of type 'consent'."
            ),
            warning=True,
        )
    if not flow.required_purposes:
        yield Problem(
            ("purposes",),
            t.gettext("a flow needs at least one purpose with required = true"),
            t.gettext(
                "The required purposes are what a person agrees to before the first question."
            ),
        )


def _step_problems(flow: FlowDefinition, t: Translator) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, step in enumerate(flow.steps):
        if step.id in seen:
            yield Problem(
                ("steps", i, "id"),
                t.gettext("the step id '{id}' is used twice").format(id=step.id),
                t.gettext("Give every step its own id; answers are stored under it."),
            )
        seen.add(step.id)
        if isinstance(step, RatingStep) and (step.min, step.max) not in {(1, 5), (0, 10)}:
            yield Problem(
                ("steps", i, "max"),
                t.gettext("a rating is either 1–5 (min = 1, max = 5) or 0–10 (min = 0, max = 10)"),
                t.gettext("Use min = 1 with max = 5 for stars, min = 0 with max = 10 for NPS."),
            )
        if isinstance(step, RatingStep) and (step.low_label is None) != (step.high_label is None):
            yield Problem(
                ("steps", i, "low_label" if step.low_label else "high_label"),
                t.gettext("the labels of a rating are shown only when both are given"),
                t.gettext("Give both low_label and high_label, or neither."),
                warning=True,
            )
        if isinstance(step, ChoiceStep | MultipleChoiceStep):
            yield from _option_problems(step, i, t)
        if isinstance(step, TextStep) and _asks_for_contact(step):
            yield Problem(
                ("steps", i, "prompt"),
                t.gettext(
                    "question '{id}' seems to ask for contact details or a name: the bot asks "
                    "people to leave them out, and staff see them removed"
                ).format(id=step.id),
                t.gettext(
                    "To answer people, ask for consent to a purpose with stores_contact = true "
                    "(as the shipped feedback flow does): staff then reply in the chat. Else "
                    "reword the question."
                ),
                warning=True,
            )
    last = len(flow.steps) - 1
    if not isinstance(flow.steps[last], ThanksStep):
        yield Problem(
            ("steps", last, "type"),
            t.gettext("the last step must be of type 'thanks'"),
            t.gettext("End the file with a thanks step, so that every path ends with one."),
        )


def _option_problems(
    step: ChoiceStep | MultipleChoiceStep, i: int, t: Translator
) -> Iterator[Problem]:
    seen: set[str] = set()
    for k, option in enumerate(step.options):
        if option.id in seen:
            yield Problem(
                ("steps", i, "options", k, "id"),
                t.gettext("step '{step}' offers the option id '{id}' twice").format(
                    step=step.id, id=option.id
                ),
                t.gettext("Give every option of a step its own id."),
            )
        seen.add(option.id)
    if not isinstance(step, MultipleChoiceStep):
        return
    count = len(step.options)
    if step.min_selected > count:
        yield Problem(
            ("steps", i, "min_selected"),
            t.gettext(
                "step '{step}' asks for at least {min} choices but offers only {count} options"
            ).format(step=step.id, min=step.min_selected, count=count),
            t.gettext("Lower min_selected or add options."),
        )
    # Found by review: "must be between 3 and 2" for min_selected = 3, max_selected = 2.
    if step.max_selected is not None and step.max_selected < step.min_selected:
        yield Problem(
            ("steps", i, "max_selected"),
            t.gettext(
                "step '{step}': max_selected = {max} is less than min_selected = {min}"
            ).format(step=step.id, max=step.max_selected, min=step.min_selected),
            t.gettext("Make max_selected at least min_selected, or lower min_selected."),
        )
    elif step.max_selected is not None and step.max_selected > count:
        yield Problem(
            ("steps", i, "max_selected"),
            t.gettext(
                "step '{step}': max_selected = {max} is more than the {count} options it offers"
            ).format(step=step.id, max=step.max_selected, count=count),
            t.gettext("Leave max_selected out to allow every option."),
        )


# --- branches and paths -------------------------------------------------------------------


def _taken(flow: FlowDefinition, i: int, never: Set[tuple[int, int]]) -> list[str]:
    """The ids of the steps that can follow step `i`: the targets of its branches that
    some answer takes, and the next in the file unless a branch always applies."""
    step = flow.steps[i]
    if isinstance(step, ThanksStep):
        return []
    targets = [rule.goto for j, rule in enumerate(step.next) if (i, j) not in never]
    if all(rule.when is not None for rule in step.next):
        after = flow.in_file_after(step)
        if after is not None:
            targets.append(after.id)
    return list(dict.fromkeys(targets))


@dataclass(frozen=True)
class _NeverTaken:
    """Why a branch is never taken: one before it always applies (`always`), no answer
    matches its condition (`covering` empty), or branches before it (`covering`, their
    conditions) take every answer it matches."""

    always: bool = False
    covering: tuple[Condition, ...] = ()
    answered: tuple[Condition, ...] = ()
    """Branches before it whose conditions together hold for every answer to a question
    answered on every way to the step."""


def _never_taken(flow: FlowDefinition) -> dict[tuple[int, int], _NeverTaken]:
    """The branches no answer takes, by (step position, branch position), found by trying
    every answer the tested question can be given (a rating's scale, a choice's options,
    the sets of options of a multiple choice): found by review, branches in the wrong
    order (“r <= 3” before “r <= 2”) passed."""
    never: dict[tuple[int, int], _NeverTaken] = {}
    for i, step in enumerate(flow.steps):
        if isinstance(step, ThanksStep):
            continue
        matched: list[tuple[Condition, frozenset[Any]]] = []
        always = False
        for j, rule in enumerate(step.next):
            if always:
                never[(i, j)] = _NeverTaken(always=True)
                continue
            if rule.when is None:
                always = True
                continue
            answers = _possible_answers(flow, rule.when)
            if answers is None:  # a condition check reports as wrong, or not decidable
                continue
            matches = frozenset(
                a for a in answers if rule.when.holds({rule.when.step: _as_answer(a)})
            )
            earlier = [(c, m) for c, m in matched if c.step == rule.when.step]
            if matches <= frozenset().union(*(m for _, m in earlier)):
                covering = tuple(c for c, m in earlier if m & matches) if matches else ()
                never[(i, j)] = _NeverTaken(covering=covering)
            matched.append((rule.when, matches))
    return never


def _never_taken_once_answered(
    flow: FlowDefinition, paths: _Paths, never: Mapping[tuple[int, int], _NeverTaken]
) -> dict[tuple[int, int], _NeverTaken]:
    """The branches after ones that together hold for every answer to a question that is
    certainly answered when they are tried: found by a flow author's review, a branch
    after “food <= 5” (on 1–5, food always asked) passed, as did one after “food <= 2”
    and “food >= 3”. `_never_taken` does not need the answer given; this does."""
    found: dict[tuple[int, int], _NeverTaken] = {}
    for i, step in enumerate(flow.steps):
        if isinstance(step, ThanksStep) or step.id not in paths.reachable:
            continue
        taken: dict[str, tuple[frozenset[Any], tuple[Condition, ...]]] = {}
        every: tuple[Condition, ...] = ()
        for j, rule in enumerate(step.next):
            if (i, j) in never:
                continue  # said already, and it takes no answer
            if every:
                found[(i, j)] = _NeverTaken(answered=every)
                continue
            if rule.when is None:
                break  # `_never_taken` has the branches after it
            covered = _holding(flow, rule.when)
            if covered is None or not _always_answered(flow, paths, rule.when.step, step.id):
                continue
            holds, answers = covered
            before, conditions = taken.get(rule.when.step, (frozenset(), ()))
            union, conditions = before | holds, (*conditions, rule.when) if holds else conditions
            taken[rule.when.step] = (union, conditions)
            if union == answers:
                every = conditions
    return found


def _holding(
    flow: FlowDefinition, condition: Condition
) -> tuple[frozenset[Any], frozenset[Any]] | None:
    """(the answers `condition` holds for, every answer its question can be given), or
    None where that cannot be told."""
    answers = _possible_answers(flow, condition)
    if not answers:
        return None
    holds = [a for a in answers if condition.holds({condition.step: _as_answer(a)})]
    return frozenset(holds), frozenset(answers)


def _always_answered(flow: FlowDefinition, paths: _Paths, tested: str, here: str) -> bool:
    """Whether question `tested` has an answer on every way to `here` (`here` itself: once
    it is answered): asked of everyone, never skipped, collected for a required purpose
    (one declined skips its questions)."""
    step = flow.step(tested)
    if step is None or isinstance(step, ThanksStep) or step.skip_if is not None:
        return False
    purpose = next((p for p in flow.purposes if p.id == step.purpose), None)
    if step.purpose is not None and (purpose is None or not purpose.required):
        return False
    if tested == here:
        return True
    return tested in paths.reachable and not paths.path(here, avoiding={tested})


def _as_answer(answer: Any) -> Any:
    """An answer as the engine stores it (the options of a multiple choice in a list)."""
    return list(answer) if isinstance(answer, tuple) else answer


def _possible_answers(flow: FlowDefinition, condition: Condition) -> list[Any] | None:
    """Every answer the question `condition` tests can be given (a multiple choice's as a
    tuple), or None where the condition cannot test it (reported by `_condition_problem`)."""
    tested = flow.step(condition.step)
    if isinstance(tested, RatingStep) and condition.op in COMPARISONS:
        if not isinstance(condition.value, int) or not tested.min <= condition.value <= tested.max:
            return None
        return list(range(tested.min, tested.max + 1))
    options = (
        [o.id for o in tested.options]
        if isinstance(tested, ChoiceStep | MultipleChoiceStep)
        else []
    )
    if condition.value not in options:
        return None
    if isinstance(tested, ChoiceStep) and condition.op in {"==", "!="}:
        return options
    if isinstance(tested, MultipleChoiceStep) and condition.op == "has":
        most = min(tested.max_selected or len(options), len(options))
        return [
            chosen
            for size in range(tested.min_selected, most + 1)
            for chosen in itertools.combinations(options, size)
        ]
    return None


def _branch_problems(
    flow: FlowDefinition,
    paths: _Paths,
    never: dict[tuple[int, int], _NeverTaken],
    t: Translator,
) -> Iterator[Problem]:
    for i, step in enumerate(flow.steps):
        if isinstance(step, ThanksStep):
            continue
        for j, rule in enumerate(step.next):
            why = never.get((i, j))
            if why is not None:
                yield Problem(
                    ("steps", i, "next", j),
                    t.gettext("this branch of step '{step}' is never taken").format(step=step.id),
                    _never_taken_hint(flow, rule, why, t),
                    warning=True,
                )
            if rule.goto not in paths.index:
                yield Problem(
                    ("steps", i, "next", j, "goto"),
                    t.gettext(
                        "step '{step}' branches to '{goto}', but there is no such step"
                    ).format(step=step.id, goto=rule.goto),
                    _did_you_mean(t, rule.goto, paths.index),
                )
    for source, target, loop in paths.loops():
        i = paths.index[source]
        gotos = _gotos(flow.steps[i])
        where: Where = ("steps", i)
        if target in gotos:
            where = ("steps", i, "next", gotos.index(target), "goto")
        yield Problem(
            where,
            t.gettext("a loop: {loop}").format(loop=" → ".join(loop)),
            t.gettext(
                "A flow must always move on; let step '{step}' branch to a step further on."
            ).format(step=source),
        )
    if any(r.goto not in paths.index for s in flow.steps for r in _rules(s)):
        return  # which steps are reachable depends on where the broken branch should go
    for i, step in enumerate(flow.steps):
        if step.id in paths.reachable:
            continue
        # Only branches no answer takes lead to it: said so, they have their warnings.
        from_never = [
            flow.steps[k].id
            for k, j in never
            if _rules(flow.steps[k])[j].goto == step.id and flow.steps[k].id in paths.reachable
        ]
        yield Problem(
            ("steps", i),
            t.gettext("step '{step}' is never asked: no path leads to it").format(step=step.id),
            t.gettext(
                "The branches to it from '{steps}' are never taken (see their warnings): "
                "change their conditions or their order."
            ).format(steps="', '".join(dict.fromkeys(from_never)))
            if from_never
            else t.gettext("Branch to it from an earlier step with next = ..., or remove it."),
        )


def _never_taken_hint(flow: FlowDefinition, rule: Rule, why: _NeverTaken, t: Translator) -> str:
    if why.always:
        return t.gettext("The branch before it has no condition and always applies.")
    if why.answered:
        asked = why.answered[0].step
        if len(why.answered) == 1:
            return t.gettext(
                "The branch before it (“{condition}”) holds for every answer, and '{tested}' "
                "is answered on every way here: change its condition, or remove this branch."
            ).format(condition=why.answered[0], tested=asked)
        return t.gettext(
            "The branches before it ({conditions}) together hold for every answer, and "
            "'{tested}' is answered on every way here: change their conditions, or remove "
            "this branch."
        ).format(conditions=", ".join(str(c) for c in why.answered), tested=asked)
    condition = rule.when
    assert condition is not None  # only an unconditional branch is never taken otherwise
    if why.covering:
        return t.gettext(
            "Every answer it matches is taken by a branch before it ({conditions}): put it "
            "before them, or change its condition."
        ).format(conditions=", ".join(str(c) for c in why.covering))
    tested = flow.step(condition.step)
    if isinstance(tested, RatingStep):
        return t.gettext(
            "“{condition}” holds for no rating from {min} to {max}: change the condition, or "
            "remove the branch."
        ).format(condition=condition, min=tested.min, max=tested.max)
    return t.gettext(
        "“{condition}” holds for no answer '{step}' can be given: change the condition, or "
        "remove the branch."
    ).format(condition=condition, step=condition.step)


# What a question asking for a way to reach the person says (a bakery's "Ihre
# Telefonnummer?", found by review); not "Kontakt" or "address" alone, which mean more,
# nor "unsere telefonische Beratung", "our phone support", "unser E-Mail-Newsletter",
# "die neue Adresse unserer Filiale" (found by a review of the change: warned of).
_ASKS_FOR_CONTACT = re.compile(
    r"telefonnummer|handynummer|mobilnummer|rufnummer|(?:phone|mobile|contact) number"
    r"|e-?mail-?adresse|e-?mail address|anschrift|(?:postal|home) address"
    # "Ihre E-Mail?", "Your address:", not "delivered to your address on time", "Kam Ihre
    # E-Mail-Bestätigung an?", "the app on your phone?" (found by a review of the change)
    r"|\b(?:ihre|your) (?:e-?mail|adresse|address)[ \t]*(?:[?:(]|$)"
    r"|\bihr(?:en)? (?:vor|nach|voll)?namen?\b|wie heißen sie"
    r"|\byour (?:first |last |full )?name[ \t]*(?:[?:(]|$)"
    r"|\bwhat(?:'s| is) your (?:first |last |full )?name"
    r"|erreichen wir sie|how (?:can|may|should|do) we (?:reach|contact) you",
    re.IGNORECASE,
)


def _asks_for_contact(step: TextStep) -> bool:
    return any(
        _ASKS_FOR_CONTACT.search(render_text(step.prompt, translator(code)))
        for code in SUPPORTED_LOCALES
    )


def _rules(step: Step) -> list[Rule]:
    return [] if isinstance(step, ThanksStep) else step.next


def _gotos(step: Step) -> list[str]:
    return [rule.goto for rule in _rules(step)]


def _condition_problems(
    flow: FlowDefinition, paths: _Paths, never: Set[tuple[int, int]], t: Translator
) -> Iterator[Problem]:
    for i, step in enumerate(flow.steps):
        if isinstance(step, ThanksStep) or step.id not in paths.reachable:
            continue
        before = paths.before(step.id)
        for j, rule in enumerate(step.next):
            if rule.when is not None:
                problem = _condition_problem(
                    flow, rule.when, step.id, before | {step.id}, ("steps", i, "next", j, "if"), t
                )
                if problem is not None:
                    yield problem
        if step.skip_if is not None:
            where: Where = ("steps", i, "skip_if")
            problem = _condition_problem(flow, step.skip_if, step.id, before, where, t)
            if problem is None:
                problem = _skip_problem(flow, step.id, step.skip_if, where, t)
            if problem is None:
                problem = _skipped_on_every_way(flow, paths, never, i, step.skip_if, t)
            if problem is not None:
                yield problem


def _skip_problem(
    flow: FlowDefinition, here: str, condition: Condition, where: Where, t: Translator
) -> Problem | None:
    """A warning for a skip_if that holds for no answer (the step is never skipped) or for
    every one (it is asked only on paths that do not ask the question tested): found by
    review, "r < 1" on a scale from 1 passed as quietly as "r <= 2"."""
    covered = _holding(flow, condition)
    if covered is None:
        return None
    holds, answers = covered
    if 0 < len(holds) < len(answers):
        return None
    tested = flow.step(condition.step)
    if holds:
        message = t.gettext(
            "step '{step}' is skipped whenever '{tested}' is answered: “{condition}” holds "
            "for every answer"
        )
    elif isinstance(tested, RatingStep):
        message = t.gettext(
            "step '{step}' is never skipped: “{condition}” holds for no rating from {min} to {max}"
        )
    else:
        message = t.gettext(
            "step '{step}' is never skipped: “{condition}” holds for no answer '{tested}' can "
            "be given"
        )
    return Problem(
        where,
        message.format(
            step=here,
            tested=condition.step,
            condition=condition,
            min=getattr(tested, "min", ""),
            max=getattr(tested, "max", ""),
        ),
        t.gettext("Change the condition, or remove skip_if."),
        warning=True,
    )


def _skipped_on_every_way(
    flow: FlowDefinition,
    paths: _Paths,
    never: Set[tuple[int, int]],
    i: int,
    condition: Condition,
    t: Translator,
) -> Problem | None:
    """A warning for a skip_if that holds for every answer of the branches that lead to the
    step, all on the question it tests (found by a flow author's review: a step reached by
    “r <= 2” alone, skipped if “r <= 3”, was never asked and passed). A branch taken means
    its question was answered so: no path analysis beyond the branches into the step."""
    here = flow.steps[i]
    covered = _holding(flow, condition)
    if covered is None or i == 0:
        return None
    holds = covered[0]
    leading: list[Condition] = []
    for k, step in enumerate(flow.steps):
        if isinstance(step, ThanksStep) or step.id not in paths.reachable:
            continue
        rules = [rule for j, rule in enumerate(step.next) if (k, j) not in never]
        after = flow.in_file_after(step)
        if all(r.when is not None for r in step.next) and after is here:
            return None  # the next in the file: any answer may lead here
        taken: frozenset[Any] = frozenset()  # by the branches before, on the same question
        for rule in rules:
            when = rule.when
            matched = _holding(flow, when) if when is not None else None
            if rule.goto == here.id:
                if when is None or when.step != condition.step or matched is None:
                    return None
                if not matched[0] - taken <= holds:
                    return None
                leading.append(when)
            if when is not None and when.step == condition.step and matched is not None:
                taken |= matched[0]
    if not leading:
        return None
    return Problem(
        ("steps", i, "skip_if"),
        t.gettext(
            "step '{step}' is skipped on every way to it: “{condition}” holds for every answer "
            "the branches to it take ({conditions})"
        ).format(step=here.id, condition=condition, conditions=", ".join(str(c) for c in leading)),
        t.gettext("Change the condition, or remove skip_if."),
        warning=True,
    )


def _condition_problem(
    flow: FlowDefinition,
    condition: Condition,
    here: str,
    asked_before: set[str],
    where: Where,
    t: Translator,
) -> Problem | None:
    shown = str(condition)
    tested = flow.step(condition.step)
    if tested is None:
        return Problem(
            where,
            t.gettext(
                "the condition “{condition}” tests '{step}', but there is no such step"
            ).format(condition=shown, step=condition.step),
            _did_you_mean(t, condition.step, [s.id for s in flow.steps]),
        )
    if condition.step not in asked_before:
        return Problem(
            where,
            t.gettext(
                "the condition “{condition}” tests '{step}', which is never asked before '{here}'"
            ).format(condition=shown, step=condition.step, here=here),
            t.gettext("A condition can only test answers given earlier on the way to its step."),
        )
    how = t.gettext(
        "Ratings are compared with <, <=, ==, !=, >= or >; choices with == or !=; "
        "multiple choices with has."
    )
    if isinstance(tested, RatingStep) and condition.op in COMPARISONS:
        if isinstance(condition.value, int) and tested.min <= condition.value <= tested.max:
            return None
        return Problem(
            where,
            t.gettext(
                "the condition “{condition}” compares with {value}, but '{step}' is rated "
                "from {min} to {max}"
            ).format(
                condition=shown,
                value=condition.value,
                step=condition.step,
                min=tested.min,
                max=tested.max,
            ),
            t.gettext("Compare with a number of the scale."),
        )
    choice_ops = {"==", "!="} if isinstance(tested, ChoiceStep) else {"has"}
    if isinstance(tested, ChoiceStep | MultipleChoiceStep) and condition.op in choice_ops:
        options = [o.id for o in tested.options]
        if condition.value in options:
            return None
        return Problem(
            where,
            t.gettext(
                "the condition “{condition}” names the option '{value}', which '{step}' "
                "does not offer"
            ).format(condition=shown, value=condition.value, step=condition.step),
            _did_you_mean(t, str(condition.value), options),
        )
    return Problem(
        where,
        t.gettext("the condition “{condition}” cannot test step '{step}' of type '{type}'").format(
            condition=shown, step=condition.step, type=tested.type
        ),
        how,
    )


# --- consent ---------------------------------------------------------------------------------


def _consent_problems(flow: FlowDefinition, paths: _Paths, t: Translator) -> Iterator[Problem]:
    purposes = {p.id: p for p in flow.purposes}
    for i, step in enumerate(flow.steps):
        if isinstance(step, ThanksStep) or step.purpose is None:
            continue
        if step.purpose not in purposes:
            yield Problem(
                ("steps", i, "purpose"),
                t.gettext(
                    "step '{step}' names the purpose '{purpose}', which is not declared"
                ).format(step=step.id, purpose=step.purpose),
                _did_you_mean(t, step.purpose, purposes),
            )
        elif isinstance(step, ConsentStep) and purposes[step.purpose].required:
            yield Problem(
                ("steps", i, "purpose"),
                t.gettext(
                    "step '{step}' asks for purpose '{purpose}', which is already asked before "
                    "the first question (required = true)"
                ).format(step=step.id, purpose=step.purpose),
                t.gettext("Make the purpose optional (required = false), or remove this step."),
            )
    asked = _asked_on_every_path(flow, paths)
    for i, step in enumerate(flow.steps):
        purpose = purposes.get(_purpose_of(step) or "")
        if purpose is None or purpose.required or step.id not in paths.reachable:
            continue
        if isinstance(step, ConsentStep):
            again = sorted(
                s
                for s in paths.after(step.id)
                if isinstance(later := paths.steps[s], ConsentStep) and later.purpose == purpose.id
            )
            if again:  # (found by a flow author's walk-through: asked twice)
                yield Problem(
                    ("steps", i, "purpose"),
                    t.gettext(
                        "'{later}' can come after '{step}' and asks for purpose '{purpose}' "
                        "again: it is passed over where the person has answered '{step}'"
                    ).format(later=again[0], step=step.id, purpose=purpose.id),
                    t.gettext(
                        "Ask for a purpose once on each path: remove one of the two steps, or "
                        "branch so that a path passes only one of them."
                    ),
                    warning=True,
                )
            if not purpose.is_the_point and not any(
                _collects_for(paths.steps[s], purpose.id) for s in paths.after(step.id)
            ):
                yield Problem(
                    ("steps", i, "purpose"),
                    t.gettext(
                        "no step after '{step}' collects answers for purpose '{purpose}', so "
                        "this consent is never asked"
                    ).format(step=step.id, purpose=purpose.id),
                    t.gettext(
                        "Set purpose = '{purpose}' on the questions it is for, or remove the step."
                    ).format(purpose=purpose.id),
                    warning=True,
                )
            continue
        if purpose.id not in asked[step.id]:
            granting = {s for s, st in paths.steps.items() if _grants(st, purpose.id)}
            path = paths.path(step.id, avoiding=granting)
            skippable = [
                s
                for s in path
                if isinstance(consent := paths.steps[s], ConsentStep)
                and consent.purpose == purpose.id
            ]
            # Found by review: "may be skipped while this question is not" was said of a
            # question skipped on the very same condition.
            alike = [
                s for s in skippable if _skip_condition(paths.steps[s]) == _skip_condition(step)
            ]
            if skippable and len(alike) == len(skippable):
                hint = t.gettext(
                    "'{consent}' is skipped on the same condition as this question, but only a "
                    "consent step without skip_if counts as asked: branch around both with "
                    "next instead of skip_if."
                ).format(consent=skippable[0])
            elif skippable:
                unlike = next(s for s in skippable if s not in alike)
                hint = t.gettext(
                    "'{consent}' may be skipped (skip_if) while this question is not: branch "
                    "around both with next instead of skip_if."
                ).format(consent=unlike)
            else:
                hint = t.gettext(
                    "Put a step of type 'consent' for '{purpose}' before it on every path "
                    "(without skip_if)."
                ).format(purpose=purpose.id)
            yield Problem(
                ("steps", i, "purpose"),
                t.gettext(
                    "step '{step}' collects answers for purpose '{purpose}' before its consent "
                    "is asked, on the path {path}"
                ).format(step=step.id, purpose=purpose.id, path=" → ".join(path)),
                hint,
            )


def _skip_condition(step: Step) -> Condition | None:
    return None if isinstance(step, ThanksStep) else step.skip_if


def _purpose_of(step: Step) -> str | None:
    return None if isinstance(step, ThanksStep) else step.purpose


def _grants(step: Step, purpose: str) -> bool:
    """Whether passing `step` always means the consent for `purpose` was asked."""
    return isinstance(step, ConsentStep) and step.purpose == purpose and step.skip_if is None


def _collects_for(step: Step, purpose: str) -> bool:
    return not isinstance(step, ConsentStep) and _purpose_of(step) == purpose


def _asked_on_every_path(flow: FlowDefinition, paths: _Paths) -> dict[str, frozenset[str]]:
    """Per step, the optional purposes whose consent is asked on every path to it."""
    everything = frozenset(p.id for p in flow.purposes)
    into = {step_id: everything for step_id in paths.index}
    into[paths.first] = frozenset()
    changed = True
    while changed:
        changed = False
        for step_id in paths.reachable:
            step = paths.steps[step_id]
            given = (
                {step.purpose} if isinstance(step, ConsentStep) and step.skip_if is None else set()
            )
            out = into[step_id] | given
            for following in paths.edges[step_id]:
                narrowed = into[following] & out
                if narrowed != into[following]:
                    into[following] = narrowed
                    changed = True
    return into


# --- buttons ---------------------------------------------------------------------------------


def _button_problems(flow: FlowDefinition, t: Translator) -> Iterator[Problem]:
    for j, purpose in enumerate(flow.purposes):
        # Its label, else its description, is the button /widerruf offers it on (found by
        # a flow author's walk-through: a long one went unwarned and was cut on a phone).
        key = "label" if purpose.label is not None else "description"
        named = purpose.label or purpose.description
        length = max(len(render_text(named, translator(code))) for code in SUPPORTED_LOCALES)
        if length > BUTTON_TEXT_SHOWN:
            yield Problem(
                ("purposes", j, key),
                t.gettext(
                    "the {key} of purpose '{purpose}' has {count} characters, and /withdraw "
                    "shows it on a button; a phone shows about {limit} and cuts the rest"
                ).format(key=key, purpose=purpose.id, count=length, limit=BUTTON_TEXT_SHOWN),
                t.gettext('Give the purpose a short label, label = "...".'),
                warning=True,
            )
    for i, step in enumerate(flow.steps):
        options = step.options if isinstance(step, ChoiceStep | MultipleChoiceStep) else []
        labelled: dict[tuple[str, str], str] = {}  # (language, label) → the first option's id
        for k, option in enumerate(options):
            # As shown in each language: a catalog id, a table, one falling back to another.
            shown = [
                (code, render_text(option.label, translator(code))) for code in SUPPORTED_LOCALES
            ]
            twin = next(
                (labelled[(lang, text)] for lang, text in shown if (lang, text) in labelled), None
            )
            for lang, text in shown:
                labelled.setdefault((lang, text), option.id)
            if twin is not None:  # a line copied and left as it was (found by review)
                yield Problem(
                    ("steps", i, "options", k, "label"),
                    t.gettext("options '{first}' and '{option}' have the same label").format(
                        first=twin, option=option.id
                    ),
                    t.gettext("People could not tell their buttons apart: give each its own."),
                    warning=True,
                )
            length = max(len(text) for _, text in shown)  # (a catalog id's text, not its id)
            if length > BUTTON_TEXT_SHOWN:
                yield Problem(
                    ("steps", i, "options", k, "label"),
                    t.gettext(
                        "the label of option '{option}' has {count} characters; a phone shows "
                        "about {limit} on a button and cuts the rest"
                    ).format(option=option.id, count=length, limit=BUTTON_TEXT_SHOWN),
                    t.gettext("Keep button texts short; say more in the question."),
                    warning=True,
                )
        values = button_values(step)
        if not values:
            continue
        longest = max(len(f"a:{'x' * TOKEN_LENGTH}:{step.id}:{v}".encode()) for v in values)
        if longest > CALLBACK_LIMIT:
            room = CALLBACK_LIMIT - len(f"a:{'x' * TOKEN_LENGTH}::")
            yield Problem(
                ("steps", i, "id"),
                t.gettext(
                    "the buttons of step '{step}' would carry {size} bytes, more than the "
                    "{limit} Telegram allows"
                ).format(step=step.id, size=longest, limit=CALLBACK_LIMIT),
                t.gettext(
                    "Shorten the step id or the option ids: together at most {room} characters."
                ).format(room=room),
            )


# --- translations ----------------------------------------------------------------------------


def _texts(flow: FlowDefinition) -> Iterator[tuple[Where, str | dict[str, str]]]:
    yield ("title",), flow.title
    yield ("intro",), flow.intro
    for k, purpose in enumerate(flow.purposes):
        yield ("purposes", k, "description"), purpose.description
        if purpose.label is not None:
            yield ("purposes", k, "label"), purpose.label
    for i, step in enumerate(flow.steps):
        yield ("steps", i, "prompt"), step.prompt
        if isinstance(step, RatingStep):
            for key in ("low_label", "high_label"):
                label = getattr(step, key)
                if label is not None:
                    yield ("steps", i, key), label
        if isinstance(step, ChoiceStep | MultipleChoiceStep):
            for k, option in enumerate(step.options):
                yield ("steps", i, "options", k, "label"), option.label


def _languages(text: str | dict[str, str]) -> frozenset[str]:
    """The languages a text has: those written in its table, or those whose catalog
    translates it."""
    if isinstance(text, dict):
        return frozenset(code for code in SUPPORTED_LOCALES if code in text)
    return frozenset(code for code in SUPPORTED_LOCALES if translator(code).knows(text))


def _translation_problems(flow: FlowDefinition, t: Translator) -> Iterator[Problem]:
    """A text lacking a language, each where it is; but a flow written in one language on
    purpose (a bakery's survey in German alone) once, at its title: a warning on every
    text of it buried the others (found by a flow author's review). Its purposes may
    still have every language, as they must where they are the shipped flows' (the
    contact purpose's catalog texts). A text without a letter ("1" to "12" as options,
    "👍") reads alike in every language: twelve warnings for a scale's options drowned
    the rest (found by a flow author's walk-through)."""
    texts = [
        (where, text)
        for where, text in _texts(flow)
        if isinstance(text, dict) or any(char.isalpha() for char in text)
    ]
    lacking = {
        where: frozenset(SUPPORTED_LOCALES) - _languages(text)
        for where, text in texts
        if _languages(text) != frozenset(SUPPORTED_LOCALES)
    }
    own = [where for where, _ in texts if where[0] != "purposes"]
    common = frozenset.intersection(*lacking.values()) if lacking else frozenset()
    if common and all(where in lacking for where in own):
        yield _one_language(flow, t, lacking, common)
        return
    for where, text in texts:
        if isinstance(text, dict):
            missing = [code for code in SUPPORTED_LOCALES if code not in text]
            for code in missing:
                yield Problem(
                    where,
                    t.gettext("no {language} text; {fallback} is shown instead").format(
                        language=t.language(code), fallback=t.language(next(iter(text)))
                    ),
                    t.gettext('Add {code} = "..." to this text.').format(code=code),
                    warning=True,
                )
            continue
        unknown = [code for code in SUPPORTED_LOCALES if not translator(code).knows(text)]
        if len(unknown) == len(SUPPORTED_LOCALES):
            yield Problem(
                where,
                t.gettext(
                    "“{text}” is not in the translation catalogs, so it is shown as written "
                    "in every language"
                ).format(text=_shorten(text)),
                t.gettext('Give it per language: { de = "...", en = "..." }.'),
                warning=True,
            )
        for code in unknown if len(unknown) < len(SUPPORTED_LOCALES) else []:
            yield Problem(
                where,
                t.gettext("“{text}” has no {language} translation in the catalogs").format(
                    text=_shorten(text), language=t.language(code)
                ),
                t.gettext(
                    "Run make extract-messages and translate it, or give the text per language."
                ),
                warning=True,
            )


def _one_language(
    flow: FlowDefinition,
    t: Translator,
    lacking: Mapping[Where, frozenset[str]],
    common: frozenset[str],
) -> Problem:
    """The one warning for a flow whose own texts all lack the languages `common`."""
    count = len(lacking)
    present = sorted(set(SUPPORTED_LOCALES) - common)
    hint = t.gettext(
        "Fine if everyone who answers it, and your staff, read that language; else give "
        'each text per language: { de = "...", en = "..." }.'
    )
    if not present:  # plain texts the catalogs do not know: shown as written
        message = t.ngettext(
            "the flow is written in one language: {count} of its texts is neither given "
            "per language nor in the translation catalogs, so everyone reads it as written",
            "the flow is written in one language: {count} of its texts are neither given "
            "per language nor in the translation catalogs, so everyone reads them as written",
            count,
        ).format(count=count)
        return Problem(("title",), message, hint, warning=True)
    message = t.ngettext(
        "the flow is written in {present} only: {count} of its texts has no {missing} "
        "version, so customers and staff who read {missing} see it in {present}",
        "the flow is written in {present} only: {count} of its texts have no {missing} "
        "version, so customers and staff who read {missing} see them in {present}",
        count,
    ).format(
        count=count,
        present=", ".join(t.language(code) for code in present),
        missing=", ".join(t.language(code) for code in sorted(common)),
    )
    return Problem(("title",), message, hint, warning=True)


def _shorten(text: str, limit: int = 40) -> str:
    """`text` on one line (a line break shown as ⏎: found by review, a multi-line intro
    broke the one line a finding has), at most `limit` characters."""
    text = "⏎".join(line.strip() for line in text.strip().splitlines())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- what can be checked on a definition of the wrong shape -------------------------------


def raw_step_problems(data: dict[str, Any], t: Translator) -> Iterator[Problem]:
    """The checks on step ids and branch targets that need no valid definition, run on the
    TOML as read when a part has the wrong shape (found by review: a typo hid a branch to
    a missing step until it was fixed). The rules of the flow as a whole wait for a valid
    definition: `flows.check` says so."""
    steps = data.get("steps")
    if not isinstance(steps, list):
        return
    ids: list[str] = []
    for i, step in enumerate(steps):
        step_id = step.get("id") if isinstance(step, dict) else None
        if not isinstance(step_id, str):
            continue
        if step_id in ids:
            yield Problem(
                ("steps", i, "id"),
                t.gettext("the step id '{id}' is used twice").format(id=step_id),
                t.gettext("Give every step its own id; answers are stored under it."),
            )
        ids.append(step_id)
    for i, step in enumerate(steps):
        rules = step.get("next") if isinstance(step, dict) else None
        rules = [{"goto": rules}] if isinstance(rules, str) else rules
        for j, rule in enumerate(rules if isinstance(rules, list) else []):
            goto = rule.get("goto") if isinstance(rule, dict) else None
            if isinstance(goto, str) and goto not in ids:
                yield Problem(
                    ("steps", i, "next", j, "goto"),
                    t.gettext(
                        "step '{step}' branches to '{goto}', but there is no such step"
                    ).format(step=step.get("id"), goto=goto),
                    _did_you_mean(t, goto, dict.fromkeys(ids)),  # each once (review)
                )
