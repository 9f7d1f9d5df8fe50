"""7. Long odd messages: 4096 characters (Telegram's most) of one unit said again and
again, each against a plain comment of the same length measured in the same run, and
against itself at half that length.

The units are what the bot's readers of typed text and the staff redaction look for:
every `unit` that the tests of TEST_MODULES run through at full length (collected from
their parameters, so a unit a new test adds is measured here too; the unit alone, not
text a test puts before it) and a few more of what people send (emoji, right-to-left
text, control characters, greetings, take-backs, demands to erase). The tests check only
that such a message comes out right; how long it takes is measured here. (A review once
found 4096 characters of "no no no …" taking about 40 ms to read at a consent request,
a hundred times the reading of another request in the same text: the rest split anew
for every word.)

Two parts:
- redaction: `redact` of each text for staff (what every alert, digest and summary
  runs over each comment), median of several runs each;
- conversation: each text typed by a new person at the consent request, at the rating
  question and as the comment (as much as the default flow's comment takes, 2000
  characters: a longer one is refused after a few checks, before the comment's readers),
  through the real Application over the encrypted SQLite store (what a person waits for).

Targets, in each part: the slowest text within 5× of the plain comment, and no text's
time growing more than 3× from half to full length (work that follows the length
doubles; work that follows its square grows 4×). The growth shows such work only once
it is most of a step's time (over twice the rest): smaller, it shows in the excess, the
time at full length beyond twice that at half, set against the plain comment's excess
and its time (reported, not judged: it is the difference of noisy figures). Every unit
that looks slow or steep in the first pass is measured again, three times as often, with
the plain comment beside it, and those figures stand.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks.common import (
    Options,
    Profiler,
    Report,
    count_errors,
    median,
    ms,
    parse_options,
    production_logging,
)
from benchmarks.driver import NO_CONTACT, RATING, YES_CONSENT, BotUnderTest, feedback_bot
from flows.catalog import FlowCatalog
from flows.i18n import translator
from flows.models import TextStep
from flows.redaction import compile_patterns, redact

LENGTH = 4096
TARGET_RATIO = 5.0
TARGET_GROWTH = 3.0
AGAIN_RATIO = 2.5  # a unit this much slower than plain in the first pass is measured again
AGAIN_GROWTH = 0.3  # and one whose growth is this much over the plain comment's
AGAIN_AT_LEAST = 5  # the steepest and the slowest this many of each part in any case
FIRST_USER = 3_100_000_000
TEST_MODULES = ("tests.flows.test_redaction", "tests.flows.test_engine")
PLAIN = (
    "Die Lieferung kam zwei Tage zu spät, und der Fahrer war unfreundlich, aber die Ware "
    "selbst ist gut und der Preis war fair. The app crashed twice while I paid. "
)
MORE_UNITS = (
    "👍🏽 ",
    "👨‍👩‍👧‍👦",
    "مرحبا بالعالم ",
    "\u202eabc\u200b\u0007 ",
    "hi ",
    "Hallo! ",
    "Danke, ",
    "Ist das anonym? ",
    "lösch das ",
    "delete all that ",
    "Ich will, dass Sie meine Daten löschen! ",
    "Fehler und Abstürtze, ",
    "0151 ",
    "@a ",
    "x@y.de ",
    "1 2 3 4 5 ",
    "nein ",
    "Ja, bitte rufen Sie mich an. ",
)
STEPS = ("consent request", "rating question", "comment")


def repeated(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def comment_length() -> int:
    """How much the default flow's comment takes (a longer one is refused)."""
    (comment,) = (s for s in FlowCatalog.load().default.steps if isinstance(s, TextStep))
    return comment.max_length


# --------------------------------------------------------------------------- the units


def units_of_the_tests() -> Iterator[str]:
    """Every `unit` that a test of TEST_MODULES is parametrized with: in a module's or a
    class's tests, named first or among others, by position or by keyword."""
    for name in TEST_MODULES:
        module = importlib.import_module(name)
        for test in _tests_in(module):
            marks = [*getattr(module, "pytestmark", ()), *getattr(test, "pytestmark", ())]
            for mark in marks:
                if mark.name == "parametrize":
                    yield from _values_of("unit", mark.args, mark.kwargs)


def _tests_in(module: ModuleType) -> Iterator[object]:
    for value in vars(module).values():
        if isinstance(value, type):
            yield from vars(value).values()
        else:
            yield value


def _values_of(argname: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[str]:
    names = kwargs.get("argnames", args[0] if args else ())
    values = kwargs.get("argvalues", args[1] if len(args) > 1 else ())
    if isinstance(names, str):
        names = [part.strip() for part in names.split(",") if part.strip()]
    names = list(names)
    if argname not in names:
        return
    at = names.index(argname)
    for case in values:
        if hasattr(case, "values"):  # pytest.param(...): its values, one for each name
            yield case.values[at]
        else:  # one name: the value itself; several: a tuple of them
            yield case if len(names) == 1 else case[at]


def units(quick: bool) -> list[str]:
    unique = list(dict.fromkeys([*units_of_the_tests(), *MORE_UNITS]))
    return unique[:: max(1, len(unique) // 6)] if quick else unique


# ------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Timing:
    """Seconds for a text at half and at full length, and the plain comment's at both
    lengths measured in the same pass."""

    half: float
    full: float
    plain_half: float
    plain_full: float

    @property
    def ratio(self) -> float:
        return self.full / self.plain_full

    @property
    def growth(self) -> float:
        return self.full / self.half

    @property
    def excess(self) -> float:
        """Seconds beyond linear growth, beyond the plain comment's own."""
        return (self.full - 2 * self.half) - (self.plain_full - 2 * self.plain_half)


Pass = dict[str, dict[str, tuple[float, float]]]
"""Per part, per unit (PLAIN among them), seconds at half and at full length."""


def _timed(work: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return median(samples)


def _redaction(chosen: list[str], runs: int) -> dict[str, tuple[float, float]]:
    english = translator("en")

    def timed(text: str) -> float:
        return _timed(lambda: redact(text, english), runs)

    return {unit: (timed(repeated(unit, LENGTH // 2)), timed(repeated(unit))) for unit in chosen}


async def _typed_everywhere(bot: BotUnderTest, user_id: int, unit: str, half: bool) -> list[float]:
    """A new person types `unit` said again and again at the consent request, at the
    rating question and as the comment, pressing the button after each; the seconds each
    typed text took. The comment gets as much as it takes; with `half`, each text is half
    as long."""
    length, comment = LENGTH, comment_length()
    if half:
        length, comment = length // 2, comment // 2
    await bot.deliver(bot.message(user_id, "/start"))
    taken = [await bot.deliver(bot.message(user_id, repeated(unit, length)))]
    await bot.deliver(bot.press(user_id, YES_CONSENT))
    taken.append(await bot.deliver(bot.message(user_id, repeated(unit, length))))
    await bot.deliver(bot.press(user_id, RATING))
    taken.append(await bot.deliver(bot.message(user_id, repeated(unit, comment))))
    return taken


async def _conversation(
    chosen: list[str], runs: int, work: Path, profiler: Profiler | None = None
) -> list[dict[str, tuple[float, float]]]:
    """Per step, each unit's seconds at half and full length (medians over `runs` new
    people, the lengths taken in turn)."""
    users = itertools.count(FIRST_USER)

    async def median_of(bot: BotUnderTest, unit: str, half: bool) -> list[float]:
        samples = [await _typed_everywhere(bot, next(users), unit, half) for _ in range(runs)]
        return [median([sample[step] for sample in samples]) for step in range(len(STEPS))]

    async with feedback_bot(work) as bot:
        warm_up = next(users)
        await _typed_everywhere(bot, warm_up, PLAIN, half=False)  # caches filled
        if NO_CONTACT not in bot.screens.view(warm_up).buttons:
            # the plain comment must reach the contact question (refused, it measures nothing)
            raise AssertionError("the plain comment did not lead to the contact question")
        figures: list[dict[str, tuple[float, float]]] = [{} for _ in STEPS]
        with profiler or nullcontext():
            for unit in chosen:
                half = await median_of(bot, unit, half=True)
                full = await median_of(bot, unit, half=False)
                for step in range(len(STEPS)):
                    figures[step][unit] = (half[step], full[step])
    return figures


async def _measured(
    chosen: list[str], runs: int, work: Path, profiler: Profiler | None = None
) -> Pass:
    """One pass over PLAIN and `chosen`: the redaction's medians over `runs` + 2 runs (it
    is cheap), the conversation's over `runs` new people."""
    everything = [PLAIN, *chosen]
    measured: Pass = {"redaction": _redaction(everything, runs + 2)}
    steps = await _conversation(everything, runs, work, profiler)
    measured.update({f"typed at the {step}": steps[n] for n, step in enumerate(STEPS)})
    return measured


def _timings(measured: Pass, part: str, chosen: list[str]) -> dict[str, Timing]:
    plain_half, plain_full = measured[part][PLAIN]
    return {
        unit: Timing(*measured[part][unit], plain_half, plain_full)
        for unit in chosen
        if unit in measured[part]
    }


def _suspects(measured: Pass, chosen: list[str]) -> list[str]:
    """The units of any part that look slow or steep: to measure again."""
    suspects: set[str] = set()
    for part in measured:
        timings = _timings(measured, part, chosen)
        plain = measured[part][PLAIN]
        steep = plain[1] / plain[0] + AGAIN_GROWTH
        by_growth = sorted(timings, key=lambda unit: timings[unit].growth)
        by_ratio = sorted(timings, key=lambda unit: timings[unit].ratio)
        suspects.update(by_growth[-AGAIN_AT_LEAST:] + by_ratio[-AGAIN_AT_LEAST:])
        suspects.update(u for u, t in timings.items() if t.growth > steep or t.ratio > AGAIN_RATIO)
    return [unit for unit in chosen if unit in suspects]


# ---------------------------------------------------------------------------- report


def _label(unit: str) -> str:
    shown = unit.encode("unicode_escape").decode("ascii") if not unit.isprintable() else unit
    return shown if len(shown) <= 24 else shown[:23] + "…"


def _judge(
    report: Report, part: str, plain: tuple[float, float], timings: dict[str, Timing]
) -> dict[str, object]:
    """The part's row and targets (`plain`: the first pass's seconds for the plain comment
    at half and full length); its figures for the JSON."""
    slowest = max(timings, key=lambda unit: timings[unit].ratio)
    steepest = max(timings, key=lambda unit: timings[unit].growth)
    most = max(timings, key=lambda unit: timings[unit].excess)
    excess = timings[most].excess / timings[most].plain_full
    report.row(
        part=part,
        plain_ms=ms(plain[1]),
        median_ms=ms(median([t.full for t in timings.values()])),
        slowest_ms=ms(timings[slowest].full),
        slowest_vs_plain=round(timings[slowest].ratio, 2),
        slowest=_label(slowest),
        plain_growth=round(plain[1] / plain[0], 2),
        steepest_growth=round(timings[steepest].growth, 2),
        steepest=_label(steepest),
        most_excess_vs_plain=round(excess, 2),
        most_excess=_label(most),
    )
    ratio, growth = timings[slowest].ratio, timings[steepest].growth
    report.target(
        f"{part}: slowest / plain", f"<= {TARGET_RATIO:g}×", f"{ratio:.2f}×", ratio <= TARGET_RATIO
    )
    report.target(
        f"{part}: steepest growth, half to full length",
        f"<= {TARGET_GROWTH:g}×",
        f"{growth:.2f}×",
        growth <= TARGET_GROWTH,
    )

    def top(
        key: Callable[[Timing], float], figure: str, shown: Callable[[float], float]
    ) -> list[dict[str, object]]:
        ranked = sorted(timings, key=lambda unit: key(timings[unit]), reverse=True)
        return [{"unit": unit, figure: shown(key(timings[unit]))} for unit in ranked[:5]]

    return {
        "plain_ms": [ms(plain[0]), ms(plain[1])],
        "median_ms": ms(median([t.full for t in timings.values()])),
        "slowest": top(lambda t: t.full, "ms", ms),
        "steepest": top(lambda t: t.growth, "growth", lambda g: round(g, 3)),
        "most_excess": top(lambda t: t.excess, "ms", ms),
    }


async def measure(options: Options) -> Report:
    report = Report("input", "Long odd messages against a plain one", options.quick)
    production_logging()
    errors = count_errors()
    compile_patterns()
    chosen = units(options.quick)
    runs = 1 if options.quick else 3
    with tempfile.TemporaryDirectory(prefix="feedbackbot-bench-") as tmp:
        profiler = Profiler(options, "input") if options.profile else None
        first = await _measured(chosen, runs, Path(tmp) / "first", profiler)
        # One noisy sample, or a busy minute over several units, can make a unit look
        # slow or steep: each that does is measured again, three times as often, with the
        # plain comment beside it, and those figures stand.
        suspects = _suspects(first, chosen)
        again = await _measured(suspects, runs * 3, Path(tmp) / "again")
    if errors.count:
        raise AssertionError(f"{errors.count} errors were logged, first: {errors.first}")
    report.figures.update(
        units=len(chosen),
        lengths={
            "typed": [LENGTH // 2, LENGTH],
            "comment": [comment_length() // 2, comment_length()],
        },
        measured_again=suspects,
    )
    for part in first:
        timings = {**_timings(first, part, chosen), **_timings(again, part, suspects)}
        report.figures[part] = _judge(report, part, first[part][PLAIN], timings)
    report.notes.append(
        f"{len(chosen)} units, each said again and again to {LENGTH} characters (the "
        f"comment {comment_length()}) and to half that; growth is the time at full length "
        "over that at half (2× for work that follows the length, 4× for its square, once "
        "that is most of the time); excess, the time at full length beyond twice that at "
        "half, beyond the plain comment's, over the plain comment's time; "
        f"{len(suspects)} units measured again"
    )
    return report


def main() -> None:
    options = parse_options(__doc__ or "")
    asyncio.run(measure(options)).emit(options.out)


if __name__ == "__main__":
    main()
