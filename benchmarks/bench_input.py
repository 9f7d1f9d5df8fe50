"""7. Long odd messages: 4096 characters (Telegram's most) of one unit said again and
again, each against a plain comment of the same length measured in the same run.

The units are what the bot's readers of typed text and the staff redaction look for:
every `unit` the tests run through at full length (collected from their parameters, so
a unit a new test adds is measured here too) and a few more of what people send (emoji,
right-to-left text, control characters, greetings, take-backs, demands to erase). The
tests only check that such a message comes out right; how long it takes is measured
here, where a pattern that went quadratic shows as a ratio (it once took 40 ms for
"no no no …" against 0.4 ms for a plain message: a hundred times).

Two parts:
- redaction: `redact` of each text for staff (what every alert, digest and summary
  runs over each comment), median of several runs each;
- conversation: each text typed by a new person at the consent request, at the rating
  question and as the comment (its first 2000 characters: a longer comment is refused
  before it is read), through the real Application over the encrypted SQLite store
  (what a person waits for).

Target: the slowest text within 5× of the plain comment in each part.
"""

from __future__ import annotations

import asyncio
import importlib
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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
from flows.i18n import translator
from flows.redaction import compile_patterns, redact

LENGTH = 4096
COMMENT_LENGTH = 2000  # the default flow's comment takes this much; a longer one is refused
TARGET_RATIO = 5.0
TARGET_GROWTH = 3.0
CONFIRMED = 5  # the steepest units of each part measured again
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


def repeated(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def test_units() -> Iterator[str]:
    """Every `unit` that a test of TEST_MODULES is parametrized with."""
    for name in TEST_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            for mark in getattr(value, "pytestmark", ()):
                if mark.name != "parametrize":
                    continue
                names = mark.args[0]
                if isinstance(names, str):
                    names = [part.strip() for part in names.split(",")]
                if names[0] != "unit":
                    continue
                for case in mark.args[1]:
                    case = getattr(case, "values", case)  # pytest.param(...)
                    yield case[0] if isinstance(case, tuple | list) else case


def units(quick: bool) -> list[str]:
    unique = list(dict.fromkeys([*test_units(), *MORE_UNITS]))
    return unique[:: max(1, len(unique) // 6)] if quick else unique


def _timed(work: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return median(samples)


# A part's figures: for each unit, seconds at half and at full length (PLAIN first).
Timings = list[tuple[float, float]]


def _redaction(chosen: list[str], runs: int) -> Timings:
    english = translator("en")

    def timed(text: str) -> float:
        return _timed(lambda: redact(text, english), runs)

    return [
        (timed(repeated(unit, LENGTH // 2)), timed(repeated(unit))) for unit in (PLAIN, *chosen)
    ]


async def _typed_everywhere(bot: BotUnderTest, user_id: int, unit: str, half: bool) -> list[float]:
    """A new person types `unit` said again and again at the consent request, at the
    rating question and as the comment, pressing the button after each; the seconds each
    typed text took. The comment gets COMMENT_LENGTH characters, all it takes (a longer
    one is refused before it is read); with `half`, each text is half as long."""
    length, comment = (LENGTH // 2, COMMENT_LENGTH // 2) if half else (LENGTH, COMMENT_LENGTH)
    await bot.deliver(bot.message(user_id, "/start"))
    taken = [await bot.deliver(bot.message(user_id, repeated(unit, length)))]
    await bot.deliver(bot.press(user_id, YES_CONSENT))
    taken.append(await bot.deliver(bot.message(user_id, repeated(unit, length))))
    await bot.deliver(bot.press(user_id, RATING))
    taken.append(await bot.deliver(bot.message(user_id, repeated(unit, comment))))
    return taken


STEPS = ("consent request", "rating question", "comment")


async def _conversation(
    chosen: list[str], runs: int, work: Path, profiler: Profiler | None = None
) -> list[Timings]:
    """Per step, the timings of PLAIN and each unit (medians over `runs` new people)."""
    users = iter(range(FIRST_USER, FIRST_USER + 10_000_000))
    last = FIRST_USER

    async def median_of(bot: BotUnderTest, unit: str, half: bool) -> list[float]:
        nonlocal last
        samples = []
        for _ in range(runs):
            last = next(users)
            samples.append(await _typed_everywhere(bot, last, unit, half))
        return [median([sample[step] for sample in samples]) for step in range(len(STEPS))]

    async with feedback_bot(work) as bot:
        await median_of(bot, PLAIN, half=False)  # warm up: the first people pay for caches
        if NO_CONTACT not in bot.screens.view(last).buttons:
            # the plain comment must be taken as one (refused, it would measure nothing)
            raise AssertionError("the plain comment was not stored as the comment")
        halves, fulls = [], []
        with profiler or _nothing():
            for unit in (PLAIN, *chosen):
                halves.append(await median_of(bot, unit, half=True))
                fulls.append(await median_of(bot, unit, half=False))
    return [
        [(half[step], full[step]) for half, full in zip(halves, fulls, strict=True)]
        for step in range(len(STEPS))
    ]


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _label(unit: str) -> str:
    shown = unit.encode("unicode_escape").decode("ascii") if not unit.isprintable() else unit
    return shown if len(shown) <= 24 else shown[:23] + "…"


def _judge(report: Report, part: str, chosen: list[str], timings: Timings) -> dict[str, object]:
    (plain_half, plain), each = timings[0], timings[1:]
    full = [f for _, f in each]
    growth = [f / h for h, f in each]
    slowest = max(range(len(each)), key=full.__getitem__)
    steepest = max(range(len(each)), key=growth.__getitem__)
    ratio = full[slowest] / plain
    report.row(
        part=part,
        plain_ms=ms(plain),
        median_ms=ms(median(full)),
        slowest_ms=ms(full[slowest]),
        slowest_vs_plain=round(ratio, 2),
        slowest=_label(chosen[slowest]),
        plain_growth=round(plain / plain_half, 2),
        steepest_growth=round(growth[steepest], 2),
        steepest=_label(chosen[steepest]),
    )
    report.target(
        f"{part}: slowest / plain", f"<= {TARGET_RATIO:g}×", f"{ratio:.2f}×", ratio <= TARGET_RATIO
    )
    report.target(
        f"{part}: steepest growth, half to full length",
        f"<= {TARGET_GROWTH:g}×",
        f"{growth[steepest]:.2f}×",
        growth[steepest] <= TARGET_GROWTH,
    )
    by_time = sorted(range(len(each)), key=full.__getitem__, reverse=True)
    by_growth = sorted(range(len(each)), key=growth.__getitem__, reverse=True)
    return {
        "plain_ms": [ms(plain_half), ms(plain)],
        "median_ms": ms(median(full)),
        "slowest": [{"unit": chosen[k], "ms": ms(full[k])} for k in by_time[:5]],
        "steepest": [{"unit": chosen[k], "growth": round(growth[k], 3)} for k in by_growth[:5]],
    }


def _steepest(parts: dict[str, Timings], chosen: list[str]) -> list[str]:
    """The units of the CONFIRMED steepest growths in any part."""
    suspects: set[int] = set()
    for timings in parts.values():
        growth = [full / half for half, full in timings[1:]]
        suspects.update(sorted(range(len(growth)), key=growth.__getitem__)[-CONFIRMED:])
    return [chosen[k] for k in sorted(suspects)]


def _replace(
    parts: dict[str, Timings], chosen: list[str], again: dict[str, Timings], of: list[str]
) -> None:
    """The figures of `of` in `parts` replaced by those measured `again`."""
    for part, timings in again.items():
        for unit, figures in zip(of, timings[1:], strict=True):
            parts[part][1 + chosen.index(unit)] = figures


async def _measured(
    chosen: list[str], runs: int, work: Path, profiler: Profiler | None
) -> dict[str, Timings]:
    """Each part's timings of PLAIN and `chosen`: the redaction's medians over `runs` + 2
    runs (they are cheap), the conversation's over `runs` new people."""
    parts = {"redaction": _redaction(chosen, runs + 2)}
    steps = await _conversation(chosen, runs, work / "conversation", profiler)
    parts.update({f"typed at the {step}": steps[n] for n, step in enumerate(STEPS)})
    return parts


async def measure(options: Options) -> Report:
    report = Report("input", "Long odd messages against a plain one", options.quick)
    production_logging()
    errors = count_errors()
    compile_patterns()
    chosen = units(options.quick)
    runs = 1 if options.quick else 3
    with tempfile.TemporaryDirectory(prefix="feedbackbot-bench-") as tmp:
        profiler = Profiler(options, "input") if options.profile else None
        parts = await _measured(chosen, runs, Path(tmp), profiler)
        # One noisy sample can make a unit look steep: the steepest are measured again,
        # three times as often, and those figures stand.
        suspects = _steepest(parts, chosen)
        again = await _measured(suspects, runs * 3, Path(tmp) / "again", None)
        _replace(parts, chosen, again, suspects)
    if errors.count:
        raise AssertionError(f"{errors.count} errors were logged, first: {errors.first}")
    report.figures.update(
        units=len(chosen),
        lengths={"typed": [LENGTH // 2, LENGTH], "comment": [COMMENT_LENGTH // 2, COMMENT_LENGTH]},
        measured_again=suspects,
    )
    for part, timings in parts.items():
        report.figures[part] = _judge(report, part, chosen, timings)
    report.notes.append(
        f"{len(chosen)} units, each said again and again to {LENGTH} characters (the "
        f"comment {COMMENT_LENGTH}) and to half that; growth is the time at full length "
        "over the time at half: 2× for work that follows the length, 4× for its square; "
        f"the {len(suspects)} steepest measured again"
    )
    return report


def main() -> None:
    options = parse_options(__doc__ or "")
    asyncio.run(measure(options)).emit(options.out)


if __name__ == "__main__":
    main()
