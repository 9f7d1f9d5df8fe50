"""Checking flow definitions: every problem with its file, line and a hint to fix it.

`check_text` runs what loading runs (the TOML syntax, the shape of every part, the rules
of `flows.rules`) but collects every problem instead of stopping at the first, and
finds the line of each. `feedbackbot check` prints the result; `flows.catalog` refuses
to load a definition with errors.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from flows.durations import InvalidDuration, parse_duration
from flows.i18n import SUPPORTED_LOCALES, Translator
from flows.models import (
    IDENT_LENGTH,
    LONGEST_RETENTION,
    RECIPIENT_FIELD_IDS,
    RESERVED_STEP_IDS,
    STEP_TYPES,
    FlowDefinition,
    Option,
    Purpose,
    Rule,
)
from flows.rules import Where, flow_problems, raw_step_problems
from flows.toml_lines import TomlLines, loads

TEXT_KEYS = frozenset(
    {"title", "intro", "description", "prompt", "label", "low_label", "high_label"}
)
_LISTS: dict[str, type[BaseModel]] = {"purposes": Purpose, "options": Option, "next": Rule}


@dataclass(frozen=True)
class Finding:
    """One problem in one file."""

    source: str
    line: int
    """0 for a finding about the file as a whole (one that does not exist): no line."""
    message: str
    hint: str = ""
    warning: bool = False


@dataclass(frozen=True)
class Report:
    """What checking one definition found; `flow` is None when it cannot be loaded at all."""

    source: str
    findings: tuple[Finding, ...]
    flow: FlowDefinition | None = None
    id_line: int = 1
    complete: bool = True
    """False when parts of the wrong shape kept the rules of the flow as a whole (paths,
    loops, consent, buttons, translations) from being checked."""
    purpose_lines: Mapping[str, int] = field(default_factory=dict)
    """The line of each purpose (its first, for an id used twice)."""
    file: bool = True
    """False for a finding about a setting (FEEDBACKBOT_SHIPPED_FLOWS), not about a file:
    it has no line, and is not counted as a file checked."""
    shipped: bool = False
    """A flow shipped in the installed package, not the operator's own."""

    def purpose_line(self, purpose_id: str) -> int:
        """Where the purpose is declared, for a finding about it (else the flow's id)."""
        return self.purpose_lines.get(purpose_id, self.id_line)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if not f.warning]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.warning]


_UNCLOSED = re.compile(r"Unclosed (?:inline table|array)")


def check_text(text: str, source: str, t: Translator) -> Report:
    """Every problem of one definition, errors and warnings, in the order of the file."""
    single = _single_brackets(text)
    try:
        data = loads(text)
    except tomllib.TOMLDecodeError as error:
        if single:
            return Report(source, tuple(_single_bracket_finding(source, *s, t) for s in single))
        reason = str(error)
        match = re.search(r"\(at line (\d+)", reason)
        return Report(
            source,
            (
                Finding(
                    source,
                    int(match[1]) if match else 1,
                    t.gettext("not valid TOML: {reason}").format(reason=t.reason(error)),
                    # A comma left out between entries is said by tomllib as a list or { … }
                    # not closed, at the next entry (found by a flow author's review).
                    t.gettext(
                        "Is a comma missing just before this point, or at the end of the line "
                        "above? The entries of [ … ] and { … } are separated by commas. Else check "
                        "the quotes on the line and the closing bracket."
                    )
                    if _UNCLOSED.search(reason)
                    else t.gettext("Check quotes, brackets and the = between key and value."),
                ),
            ),
        )
    # Read as a table, not inside a multi-line text: the line was a table's header.
    single = [(line, key) for line, key in single if isinstance(data.get(key), dict)]
    if single:
        return Report(source, tuple(_single_bracket_finding(source, *s, t) for s in single))
    other = _another_kind(data, t)
    if other is not None:
        return Report(source, (Finding(source, 1, *other),))
    lines = TomlLines(text)
    try:
        flow = FlowDefinition.model_validate(data)
    except ValidationError as error:
        findings = [
            Finding(source, lines.line(where), message, hint)
            for where, message, hint in _shape_problems(error, data, t)
        ]
        # What needs no valid definition is checked all the same (review: a typo hid a
        # branch to a missing step); the rest once these are fixed, as `check` says.
        findings += [
            Finding(source, lines.line(p.where), p.message, p.hint, p.warning)
            for p in raw_step_problems(data, t)
        ]
        findings.sort(key=lambda f: f.line)
        return Report(source, tuple(findings), complete=False)
    findings = [
        Finding(source, lines.line(p.where), p.message, p.hint, p.warning)
        for p in flow_problems(flow, t)
    ]
    findings.sort(key=lambda f: f.line)
    purpose_lines: dict[str, int] = {}
    for k, purpose in enumerate(flow.purposes):
        purpose_lines.setdefault(purpose.id, lines.line(("purposes", k, "id")))
    return Report(source, tuple(findings), flow, lines.line(("id",)), purpose_lines=purpose_lines)


# `[steps]` for `[[steps]]`, a flow author's commonest slip (found by their review): tomllib
# says "declared twice" or "a key given twice" at the next step, the shape check "Write a
# list: [ ... ]"; none of it says to write two brackets.
_SINGLE_BRACKETS = re.compile(r"[ \t]*\[[ \t]*(steps|purposes)[ \t]*\][ \t]*(?:#.*)?")


def _single_brackets(text: str) -> list[tuple[int, str]]:
    """(line, key) of each `[steps]` or `[purposes]` header written with single brackets."""
    rows = text.removeprefix("\ufeff").splitlines()
    return [
        (n, match[1]) for n, row in enumerate(rows, 1) if (match := _SINGLE_BRACKETS.fullmatch(row))
    ]


def _another_kind(data: dict[str, Any], t: Translator) -> tuple[str, str] | None:
    """The message and hint for a file of the bot's other settings put among the flows:
    the recipients file or the staff rules (found reading the session-65 note: a recipients
    file in FEEDBACKBOT_FLOWS_DIR got six errors of keys a flow misses); None for any other
    file, a flow with mistakes among them."""
    if "steps" in data or "purposes" in data:
        return None
    if "recipients" in data:
        return (
            t.gettext("this is a recipients file, not a flow"),
            t.gettext(
                "Move it out of the flows folder (FEEDBACKBOT_FLOWS_DIR), which holds flows "
                "only, and name it in FEEDBACKBOT_RECIPIENTS_FILE."
            ),
        )
    if data and set(data) <= {"de", "en"} and all(isinstance(v, str) for v in data.values()):
        return (
            t.gettext("this looks like a staff rules file, not a flow"),
            t.gettext(
                "Move it out of the flows folder (FEEDBACKBOT_FLOWS_DIR), which holds flows "
                "only, and name it in FEEDBACKBOT_STAFF_RULES_FILE."
            ),
        )
    return None


def _single_bracket_finding(source: str, line: int, key: str, t: Translator) -> Finding:
    if key == "steps":
        message = t.gettext("[steps] with single brackets: each step begins with [[steps]]")
        hint = t.gettext("Write [[steps]], with two brackets on each side, above every step.")
    else:
        message = t.gettext(
            "[purposes] with single brackets: each purpose begins with [[purposes]]"
        )
        hint = t.gettext("Write [[purposes]], with two brackets on each side, above every purpose.")
    return Finding(source, line, message, hint)


def flow_files(folder: Path) -> list[Path]:
    """The flow definitions of a folder: its files ending in ".toml", hidden ones aside
    (found by a flow author's walk-through: an editor's lock file ".#survey.toml", a link
    to nowhere, or a macOS copy's "._survey.toml" stopped the bot from starting)."""
    return sorted(path for path in folder.glob("*.toml") if not path.name.startswith("."))


def check_paths(paths: Sequence[Path], t: Translator) -> list[Report]:
    """Check files (a folder stands for its ``*.toml``), and that no two share a flow id."""
    reports = []
    for path in paths:
        files = flow_files(path) if path.is_dir() else [path]
        if not files:  # a wrong folder must not pass a CI check as "no problems"
            message = t.gettext("holds no flow definitions (*.toml)")
            reports.append(Report(str(path), (Finding(str(path), 1, message),)))
        reports += [check_file(file, t) for file in files]
    return _with_duplicate_ids(_with_purpose_conflicts(reports, t), t)


def check_loaded(
    flows_dir: Path | None, shipped: Sequence[str] | None, t: Translator
) -> list[Report]:
    """The flows the bot loads, checked: those of `flows_dir`, and the shipped ones (those
    named in `shipped`, when given) that no flow of the folder replaces."""
    reports = []
    if flows_dir is not None:
        reports += [check_file(file, t) for file in flow_files(flows_dir)]
        reports += _not_loaded(flows_dir, t, shipped_run=shipped is None or bool(shipped))
    replaced = {r.flow.id for r in reports if r.flow is not None}
    for source, text in shipped_definitions():
        report = check_text(text, source, t)
        flow_id = report.flow.id if report.flow is not None else None
        if flow_id not in replaced and (shipped is None or flow_id in shipped):
            reports.append(replace(report, shipped=True))
    return _with_duplicate_ids(_with_purpose_conflicts(reports, t), t)


def _not_loaded(flows_dir: Path, t: Translator, shipped_run: bool = True) -> list[Report]:
    """A warning for each file of the flows folder the bot does not load, its name not
    ending in ".toml" (found by an operator's walk-through: "survey.yaml" and "Mine.TOML"
    went without a word); hidden files and folders aside."""
    try:
        entries = sorted(p for p in flows_dir.iterdir() if not p.name.startswith("."))
        # Folders in it holding flows, not loaded either (found by a flow author's
        # walk-through: "flows/sub/kantine.toml" went without a word)
        folders = [p for p in entries if p.is_dir() and flow_files(p)]
    except OSError:
        return []
    message = t.gettext("not loaded: the bot loads only the files ending in .toml of this folder")
    reports = [
        Report(str(path), (Finding(str(path), 0, message, warning=True),))
        for path in entries
        if path.is_file() and path.suffix != ".toml"
    ]
    inside = t.gettext(
        "not loaded: the bot loads only the flows of the folder itself, not of folders in it"
    )
    reports += [
        Report(str(path), (Finding(str(path), 0, inside, warning=True),)) for path in folders
    ]
    if shipped_run and not flow_files(flows_dir):  # (mistyped or empty: the shipped alone;
        # with none shipped, that no flow loads is an error of its own: review)
        none = t.gettext(
            "FEEDBACKBOT_FLOWS_DIR holds no flow definitions (*.toml), so the bot runs the "
            "shipped flows only"
        )
        reports.append(Report(str(flows_dir), (Finding(str(flows_dir), 0, none, warning=True),)))
    return reports


def check_file(path: Path, t: Translator) -> Report:
    """`check_text` on a file; one that cannot be read is one error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        # Found by a flow author's review: "missing.toml:1: cannot be read" sent them
        # looking at a first line of a file that is not there.
        message = t.gettext("does not exist")
        hint = t.gettext(
            "Check the name and the folder: a relative path starts from the folder the "
            "command runs in."
        )
        return Report(str(path), (Finding(str(path), 0, message, hint),))
    except (OSError, UnicodeDecodeError) as error:
        reason = t.reason(error)
        message = t.gettext("cannot be read: {reason}").format(reason=reason)
        # On the line the message names, where an editor jumps to (review: "x.toml:1: ...
        # not UTF-8 text (line 32)").
        line = (
            error.object[: error.start].count(b"\n") + 1
            if isinstance(error, UnicodeDecodeError)
            else 1
        )
        return Report(str(path), (Finding(str(path), line, message),))
    return check_text(text, str(path), t)


def purpose_conflicts(
    flows: Sequence[FlowDefinition],
) -> list[tuple[FlowDefinition, str, FlowDefinition]]:
    """(later flow, purpose id, earlier flow) for every purpose id that two flows describe
    differently: the notices, /mydata and the processing record show one description per
    id, so the person would be told one thing and shown another."""
    first: dict[str, tuple[FlowDefinition, Purpose]] = {}
    conflicts = []
    for flow in flows:
        for purpose in flow.purposes:
            seen = first.setdefault(purpose.id, (flow, purpose))
            if seen[0] is not flow and _meaning(seen[1]) != _meaning(purpose):
                conflicts.append((flow, purpose.id, seen[0]))
    return conflicts


def _meaning(purpose: Purpose) -> dict[str, Any]:
    # Whether it is required too: a withdrawal restricts the feedback of a required
    # purpose and erases the answers of an optional one, and cannot do both for one id.
    return purpose.model_dump()


def _with_duplicate_ids(reports: list[Report], t: Translator) -> list[Report]:
    first: dict[str, str] = {}
    result = []
    for report in reports:
        flow = report.flow
        if flow is not None and flow.id in first:
            duplicate = Finding(
                report.source,
                report.id_line,
                t.gettext("the flow id '{id}' is also used by {other}").format(
                    id=flow.id, other=first[flow.id]
                ),
                t.gettext(
                    "A link names a flow by its id: the bot refuses to start with two of one "
                    "id (a copy left in the folder, say); give each its own."
                ),
            )
            report = replace(report, findings=(*report.findings, duplicate))
        elif flow is not None:
            first[flow.id] = report.source
        result.append(report)
    return result


def shipped_definitions() -> Iterator[tuple[str, str]]:
    """(source, text) of each flow definition shipped in the package, the bot always
    loads, beside those in FEEDBACKBOT_FLOWS_DIR; in file name order. The source is the
    file where it is installed: "flows/definitions/…", the path in a source clone, named
    nothing on a bot installed with pip (found walking the README), where an operator
    looks for the file to copy."""
    shipped = resources.files("flows").joinpath("definitions")
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            # (not a file of its own in a package imported from a zip)
            source = str(entry) if isinstance(entry, Path) else f"flows/definitions/{entry.name}"
            yield source, entry.read_text(encoding="utf-8")


def _shipped_flows(t: Translator) -> list[tuple[str, FlowDefinition]]:
    checked = (check_text(text, source, t) for source, text in shipped_definitions())
    return [(report.source, report.flow) for report in checked if report.flow is not None]


def _with_purpose_conflicts(reports: list[Report], t: Translator) -> list[Report]:
    """Purposes described differently by two flows, the shipped ones included: the bot
    loads those too (unless a checked flow of the same id replaces one), and refuses to
    start over such a conflict, so `check` must not pass it."""
    latest = {r.flow.id: r for r in reports if r.flow is not None}  # as the bot loads them
    shipped = [(s, f) for s, f in _shipped_flows(t) if f.id not in latest]
    sources = {id(r.flow): r.source for r in latest.values()}
    # A shipped file's path is inside the installed package: named by its flow instead.
    sources |= {
        id(flow): t.gettext("the shipped flow '{flow}'").format(flow=flow.id) for _, flow in shipped
    }
    flows = [flow for _, flow in shipped] + [r.flow for r in latest.values() if r.flow]
    found: dict[str, list[Finding]] = {}
    for flow, purpose_id, earlier in purpose_conflicts(flows):
        report = latest.get(flow.id)
        if report is None:  # two shipped flows: not the operator's to fix
            continue
        found.setdefault(report.source, []).append(
            Finding(
                report.source,
                report.purpose_line(purpose_id),
                t.gettext("the purpose '{purpose}' is described differently in {other}").format(
                    purpose=purpose_id, other=sources[id(earlier)]
                ),
                t.gettext(
                    "A purpose id means one thing in every flow: give it the same description, "
                    "label, retention and required there, or an id of its own."
                ),
            )
        )
    return [
        replace(r, findings=(*r.findings, *found[r.source])) if r.source in found else r
        for r in reports
    ]


# --- the shape of the parts: pydantic's errors, located and explained -------------------


def _shape_problems(
    error: ValidationError, data: dict[str, Any], t: Translator
) -> Iterator[tuple[Where, str, str]]:
    located = [(detail, *_locate(detail["loc"], data)) for detail in error.errors()]
    misspelt = {
        (where[:-1], str(where[-1]))
        for detail, where, _ in located
        if detail["type"] == "extra_forbidden" and where
    }
    seen: set[tuple[Where, str]] = set()
    for detail, where, unmatched in located:
        kind = detail["type"]
        if kind == "missing" and _misspelt(where, str(detail["loc"][-1]), misspelt):
            continue  # "promt" given and "prompt" missing: one mistake, reported as the first
        # A union reports one error per alternative (a text is a string or a table); every
        # key missing is one (found by review: one a run); a list of entries that should
        # be tables is one mistake, said once.
        key: tuple[Where, str] = (where, "union" if unmatched and kind != "missing" else kind)
        if kind == "missing":
            key = (where, f"missing {detail['loc'][-1]}")
        elif kind in _NOT_A_TABLE and where and isinstance(where[-1], int):
            key = (where[:-1], kind)
        if key in seen:
            continue
        seen.add(key)
        yield _explain(detail, where, unmatched, data, t)


_OTHER_NAMES = {
    **dict.fromkeys(("single_choice", "single", "radio", "select", "dropdown"), "choice"),
    **dict.fromkeys(("checkbox", "checkboxes", "multi", "multi_select"), "multiple_choice"),
    **dict.fromkeys(("free_text", "textarea", "comment", "open"), "text"),
    **dict.fromkeys(("stars", "scale", "nps", "score", "likert"), "rating"),
    **dict.fromkeys(("end", "finish", "done"), "thanks"),
}
_CONDITIONS = ("skip_if", "if")
_NOT_A_TABLE = {"model_type", "model_attributes_type", "dict_type"}


def _misspelt(container: Where, key: str, unknown: set[tuple[Where, str]]) -> bool:
    candidates = [name for where, name in unknown if where == container]
    return bool(difflib.get_close_matches(key, candidates, n=1))


def _locate(loc: tuple[int | str, ...], data: Any) -> tuple[Where, list[int | str]]:
    """The path of the error in the data, and the parts of `loc` not found there (the
    names pydantic gives union alternatives, or a missing key)."""
    where: list[int | str] = []
    unmatched: list[int | str] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            where.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            where.append(part)
        else:
            unmatched.append(part)
    return tuple(where), unmatched


# ISO 8601 months and years, which durations do not take (P6M is six months, PT6M six
# minutes); the rest is read as staff write a period (flows.staff.staff_period).
_ISO_MONTHS_OR_YEARS = re.compile(r"\s*P(\d{1,4})([MY])\s*")


def in_days(value: str) -> int | None:
    """A retention written in words or in ISO months or years, in days: "6 Monate" and
    "P6M" 180, "1 Jahr" 365 (found by a flow author's re-check: only the general example
    was given). None for anything else, and for a retention that is none (0, or longer than
    the longest)."""
    iso = _ISO_MONTHS_OR_YEARS.fullmatch(value)
    if iso:
        days = int(iso.group(1)) * (30 if iso.group(2) == "M" else 365)
    else:
        from flows.staff import staff_period  # (only for a value refused: a heavy module)

        try:
            length = parse_duration(staff_period(value))
        except InvalidDuration:
            return None
        if length % timedelta(days=1):
            return None  # "12 Stunden", "6m": no whole days
        days = length.days
    # (none that would be refused in turn: "0 Monate", "11 Jahre"; a review)
    return days if 1 <= days <= LONGEST_RETENTION.days else None


def _explain(
    detail: ErrorDetails, where: Where, unmatched: list[int | str], data: Any, t: Translator
) -> tuple[Where, str, str]:
    kind, ctx, value = detail["type"], detail.get("ctx", {}), detail["input"]
    field = str(where[-1]) if where else ""
    types = ", ".join(STEP_TYPES)
    if kind == "missing":
        name = str(detail["loc"][-1])
        return where, t.gettext("'{key}' is missing").format(key=name), _missing_hint(name, t)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(where[:-1], data)
        close = difflib.get_close_matches(field, allowed, n=1)
        hint = (
            t.gettext("Did you mean '{suggestion}'?").format(suggestion=close[0])
            if close
            else t.gettext("Allowed here: {keys}.").format(keys=", ".join(allowed))
        )
        return where, t.gettext("unknown key '{key}'").format(key=field), hint
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", ""))
        # What other survey tools call them, before what is spelt alike: "single_choice"
        # is a choice, not the multiple_choice difflib finds (found by review).
        meant = _OTHER_NAMES.get(re.sub(r"[\s-]+", "_", tag.strip().lower()))
        close = [meant] if meant else difflib.get_close_matches(tag, STEP_TYPES, n=1)
        return (
            (*where, "type"),
            t.gettext("unknown step type '{type}'").format(type=tag),
            t.gettext("Did you mean '{suggestion}'?").format(suggestion=close[0])
            if close
            else t.gettext("Use one of: {types}.").format(types=types),
        )
    if kind == "union_tag_not_found":
        return (
            where,
            t.gettext("this step has no type"),
            t.gettext('Add type = "..." with one of: {types}.').format(types=types),
        )
    if kind == "string_pattern_mismatch":
        return (
            where,
            t.gettext("“{value}” is not a valid id").format(value=value),
            t.gettext(
                "An id starts with a lowercase letter, followed by lowercase letters, digits "
                "or _, at most {length} characters."
            ).format(length=IDENT_LENGTH),
        )
    # A flow's only durations are retentions, of a day at the least: "12h" as an example
    # was refused in turn (found by a flow author's review), and "6M" was said to be no
    # duration without why.
    retentions = t.gettext('Write for example "90d", "180d" or "P180D".')
    if kind == "duration":
        value = str(ctx.get("value", ""))
        return (
            where,
            t.gettext("“{value}” is not a duration").format(value=value),
            t.gettext(
                'A capital M may mean months or minutes: write months in days, "180d" for '
                "six months."
            )
            if re.fullmatch(r"\s*\d+(?:\.\d+)?\s*M\s*", value)
            else t.gettext('For “{value}” write "{days}d".').format(
                value=value.strip(), days=in_words
            )
            if (in_words := in_days(value)) is not None
            else retentions,
        )
    if kind == "not_positive":
        return (
            where,
            t.gettext("'{key}' must be longer than zero").format(key=field),
            retentions,
        )
    if kind == "plain_number":
        days = str(ctx.get("value", ""))
        # "90" meant as days: said so; "-5", "0", "0.5" or 86400 would be refused next.
        as_days = days.isdigit() and 1 <= int(days) <= LONGEST_RETENTION.days
        return (
            where,
            t.gettext("'{key}' is a plain number, which counts seconds").format(key=field),
            t.gettext('For {value} days write "{value}d".').format(value=days)
            if as_days
            else t.gettext('Write for example "30d" or "P180D".'),
        )
    if kind in {"reserved_id", "recipient_field_id"}:
        return (
            where,
            t.gettext("“{id}” names a column of the export of its own").format(id=ctx.get("value"))
            if kind == "reserved_id"
            else t.gettext("“{id}” names what a recipient receives besides the answers").format(
                id=ctx.get("value")
            ),
            t.gettext("Choose another id; these are taken: {ids}.").format(
                ids=", ".join((*RESERVED_STEP_IDS, *RECIPIENT_FIELD_IDS))
            ),
        )
    if kind == "retention_too_short":
        value = str(ctx.get("value", ""))
        return (
            where,
            t.gettext("'{key}' must be at least a day").format(key=field),
            # "6m" meant as six months is six minutes (found by a re-check of the hints)
            t.gettext('“{value}” is minutes: write months in days, "180d" for six months.').format(
                value=value
            )
            if re.fullmatch(r"\s*\d+(?:\.\d+)?\s*m\s*", value)
            else t.gettext('Write for example "30d" or "P180D".'),
        )
    if kind == "retention_too_long":
        return (
            where,
            t.gettext("'{key}' can be at most {days} days").format(key=field, days=ctx.get("days")),
            t.gettext("Keep feedback only as long as it is needed; choose a shorter period."),
        )
    if kind == "condition_syntax":
        return (
            where,
            t.gettext("cannot read the condition “{condition}”").format(condition=value),
            t.gettext(
                "Write <step id> <operator> <value>, e.g. “rating <= 2”, "
                "“topic == billing” or “liked has support”."
            ),
        )
    if kind == "unsupported_language":
        return (
            where,
            t.gettext("unsupported language '{language}'").format(language=ctx.get("language")),
            t.gettext("Texts can be given in: {languages}.").format(
                languages=", ".join(SUPPORTED_LOCALES)
            ),
        )
    if kind in {"empty_text", "no_language"}:
        return (
            where,
            t.gettext("the text is empty"),
            t.gettext("Write the text, or leave the key out."),
        )
    if unmatched and field in TEXT_KEYS:
        return (
            where,
            t.gettext("'{key}' must be a text").format(key=field),
            t.gettext(
                'Write key = "..." (a catalog message id), or key = { de = "...", en = "..." }.'
            ),
        )
    if kind == "literal_error":
        # pydantic joins the choices in English ("0 or 1"): the last "or" is translated.
        first, joined, last = str(ctx.get("expected", "")).rpartition(" or ")
        choices = t.gettext("{first} or {last}").format(first=first, last=last) if joined else last
        hint = t.gettext("Expected {expected}.").format(expected=choices)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            # min = "1": the number is right, the quotes make it text.
            hint = t.gettext("Write the number without quotes: {key} = {number}.").format(
                key=field, number=value.strip()
            )
        return (
            where,
            t.gettext("{value} is not allowed here").format(value=_shown(value)),
            hint,
        )
    if kind == "too_short":
        least = int(ctx.get("min_length", 0))
        return (
            where,
            t.ngettext(
                "'{key}' needs at least {count} entry",
                "'{key}' needs at least {count} entries",
                least,
            ).format(key=field, count=least),
            _too_short_hint(field, t),
        )
    if kind == "too_long":
        most = int(ctx.get("max_length", 0))
        return (
            where,
            t.ngettext(
                "'{key}' can have at most {count} entry",
                "'{key}' can have at most {count} entries",
                most,
            ).format(key=field, count=most),
            "",
        )
    if kind in {"greater_than_equal", "less_than_equal"}:
        bound = ctx.get("ge", ctx.get("le"))
        message = (
            t.gettext("'{key}' must be at least {bound}")
            if kind == "greater_than_equal"
            else t.gettext("'{key}' must be at most {bound}")
        )
        return where, message.format(key=field, bound=bound), ""
    if kind in _NOT_A_TABLE:
        if field in _CONDITIONS or (where and where[-1] in _CONDITIONS):
            return (
                where,
                t.gettext("'{key}' must be a condition in quotes").format(key=where[-1]),
                t.gettext('Write it as a text, e.g. {key} = "rating <= 2".').format(key=where[-1]),
            )
        return _not_a_table(where, value, t)
    expected = {
        "string_type": t.gettext("Write a text in quotes."),
        "int_type": t.gettext("Write a whole number."),
        "int_parsing": t.gettext("Write a whole number."),
        "bool_type": t.gettext("Write true or false."),
        "bool_parsing": t.gettext("Write true or false."),
        "list_type": t.gettext("Write a list: [ ... ]."),
    }
    how = expected.get(kind)
    if how is None:  # rare enough to leave in pydantic's words
        return where, detail["msg"], ""
    message = t.gettext("'{key}' has a value of the wrong kind: {value}").format(
        key=field, value=_shown(value)
    )
    return where, message, how


def _not_a_table(where: Where, value: object, t: Translator) -> tuple[Where, str, str]:
    """An entry written as a text where a table belongs: `options = ["a", "b"]`,
    `next = ["end"]` (found by review: pydantic's English words, once per entry)."""
    named = [part for part in where if isinstance(part, str)]
    container = named[-1] if named else ""
    shown = where[:-1] if where and isinstance(where[-1], int) else where
    message = t.gettext("'{key}' holds {value} where a table belongs").format(
        key=container, value=_shown(value)
    )
    hints = {
        "options": t.gettext(
            'Each option is a table: { id = "...", label = { de = "...", en = "..." } }.'
        ),
        "next": t.gettext(
            'Write next = "<step id>", or rules as tables: [{ goto = "<step id>" }].'
        ),
    }
    return shown, message, hints.get(container, t.gettext("Write a table: { key = ... }."))


def _shown(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else f"“{value}”"
    return text if len(text) <= 40 else text[:39] + "…"


def _missing_hint(key: str, t: Translator) -> str:
    hints = {
        "id": t.gettext('Add id = "..." with an id of your choice.'),
        "prompt": t.gettext("Add prompt = ...: the question or text this step shows."),
        "type": t.gettext('Add type = "..." with one of: {types}.').format(
            types=", ".join(STEP_TYPES)
        ),
        "goto": t.gettext('Add goto = "..." with the id of the step to go to.'),
        "title": t.gettext('Add title = { de = "...", en = "..." }: the survey\'s name.'),
        "intro": t.gettext('Add intro = { de = "...", en = "..." }: what the survey is about.'),
        "purposes": t.gettext(
            "Add a [[purposes]] table: id, required = true, label and description."
        ),
        "steps": t.gettext('Add [[steps]] tables: the questions, the last of type = "thanks".'),
    }
    return hints.get(key, t.gettext("Add {key} = ... here.").format(key=key))


def _too_short_hint(key: str, t: Translator) -> str:
    """What to add to a list that is too short (found by a flow author's review: no hint,
    and the README's own example, without a thanks step, got it)."""
    hints = {
        "steps": t.gettext(
            'A flow has at least one question and, as its last step, one of type = "thanks": '
            "a [[steps]] table each."
        ),
        "options": t.gettext(
            'Offer at least two options, separated by commas: { id = "...", label = '
            '{ de = "...", en = "..." } }.'
        ),
    }
    return hints.get(key, _missing_hint(key, t))


def _allowed_keys(container: Where, data: Any) -> list[str]:
    """The keys the model at `container` accepts."""
    model: type[BaseModel] | None = FlowDefinition
    if len(container) >= 2 and isinstance(container[-1], int):
        name = container[-2]
        if name == "steps":
            step = data["steps"][container[-1]]
            model = STEP_TYPES.get(str(step.get("type"))) if isinstance(step, dict) else None
        else:
            model = _LISTS.get(str(name))
    elif container:
        model = None
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]
