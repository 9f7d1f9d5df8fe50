"""`feedbackbot check FILE...`: validate flow definitions; every problem with file and line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import sys
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.app import refuse_cutting_short
from bot.cli.common import (
    KEY_FILE_CHANGEABLE,
    KEY_FILE_READABLE,
    PREDICTABLE_KEY,
    READABLE_BY_OTHERS,
    env_file_open,
    open_existing_store,
    quiet_flow_warnings,
    recipients_file_open,
    retentions,
    short_retention,
)
from bot.config import audit_kept, catalog_retentions, unanswered_contact_flows
from bot.operator import operator_locale
from bot.settings import (
    ENV_FILE,
    MALFORMED_TOKEN,
    SHORT_RETENTION,
    ConfigurationError,
    Settings,
    env_file_secrets_open_to_others,
    load_settings,
    overridden_in_env_file,
    unknown_said_elsewhere,
)
from flows.catalog import FlowCatalog, FlowDefinitionError
from flows.check import Finding, Report, check_loaded, check_paths
from flows.i18n import SUPPORTED_LOCALES, Translator, translator
from flows.models import FlowDefinition, RatingStep, render_text
from flows.sharing import RecipientsError, load_recipients
from storage import SQLiteStore, StoreError, StoreOutdated, resolve_master_key
from storage.crypto import predictable_key
from storage.masterkey import MASTER_KEY_FILE
from storage.sqlite import (
    DATA_FILE,
    KEY_STORE_FILE,
    damaged_files,
    lost_ledger,
    stray_databases,
    unwritable_files,
)
from storage.sqlite_ledger import LEDGER_FILE


def register(subparsers: Any, t: Translator) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help=t.gettext("check flow definitions (TOML) for mistakes"),
        description=t.gettext(
            "Check flow definitions: syntax, step types, branches, loops, consent "
            "before answers, button sizes and translations. Exits with 1 when there are "
            "errors; warnings alone exit with 0."
        ),
    )
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help=t.gettext(
            "a definition, or a folder of them (default: the flows the bot loads, those of "
            "FEEDBACKBOT_FLOWS_DIR and the shipped ones)"
        ),
    )
    parser.add_argument(
        "--recipients",
        type=Path,
        metavar="FILE",
        help=t.gettext(
            "the recipients file to check, and to check purposes that pass feedback on "
            "against (default: FEEDBACKBOT_RECIPIENTS_FILE)"
        ),
    )
    parser.add_argument(
        "--lang",
        choices=SUPPORTED_LOCALES,
        help=t.gettext("language of the messages (default: the terminal's, else German)"),
    )
    parser.set_defaults(handler=check)


def check(args: argparse.Namespace) -> int:
    """Print every problem; the exit code is 1 if any is an error."""
    t = translator(operator_locale(args.lang, SUPPORTED_LOCALES[0]))
    settings = None
    if args.files:
        reports = check_paths(args.files, t)
    else:  # found by review: `check --recipients FILE` asked for flow files
        unknown = unknown_said_elsewhere()  # counted below, not said on stderr too
        try:  # the settings say which flows; unreadable, they name none (review)
            settings = load_settings()
        except ConfigurationError as error:
            print(f"feedbackbot: {error}", file=sys.stderr)
            return 1
        reports = _loaded(settings, t) + _unknown(unknown, t)
    from_env = os.environ.get("FEEDBACKBOT_RECIPIENTS_FILE")
    # The settings say which flows the bot loads besides (a recipient's fields name their
    # answers) and where its recipients file is.
    if settings is None and (
        args.recipients
        or from_env
        or any(p.shares_feedback for r in reports if r.flow for p in r.flow.purposes)
    ):
        settings = _bot_settings()
    named = args.recipients or (settings.recipients_file if settings else None)
    if named is None and from_env:
        named = Path(from_env)
    reports = _with_recipients(reports, named, settings, t)
    if not args.files:  # found by review: it did not say which flows it had checked
        _print_loaded(reports, t, sys.stdout)
        if settings is not None:
            _print_data_folder(settings, t, sys.stdout)
    print_reports(reports, t, sys.stdout)
    return 1 if any(report.errors for report in reports) else 0


def _loaded(settings: Settings, t: Translator) -> list[Report]:
    """The flows `settings` have the bot load, checked; and what the bot would refuse
    of them as a whole (no flow for plain /start: review), as an error."""
    reports = check_loaded(settings.flows_dir, settings.shipped_flows, t)
    if not any(report.errors for report in reports):
        try:
            with quiet_flow_warnings():  # printed by check already, with hints
                catalog = FlowCatalog.load(settings.flows_dir, t, settings.shipped_flows)
        except FlowDefinitionError as error:
            # About the settings, not a file: no line, not counted (review).
            source = "FEEDBACKBOT_SHIPPED_FLOWS"
            if settings.flows_dir is not None:
                source = f"FEEDBACKBOT_FLOWS_DIR={settings.flows_dir}, {source}"
            finding = Finding(source, 0, str(error))
            reports.append(Report(source, (finding,), file=False))
        else:
            reports += _settings_for_run(settings, catalog, t)
    return reports


def _settings_for_run(settings: Settings, catalog: FlowCatalog, t: Translator) -> list[Report]:
    """Warnings about the settings the flows are run with, as `run` refuses or warns at
    start (found by an operator's review: `check` said "No problems", then `run` refused
    for want of the controller's name). Warnings: the environment `check` runs in may
    lack the token that the bot's own has."""
    found = [
        Finding(name, 0, t.gettext("not set; feedbackbot run does not start without it"))
        for name in settings.missing_for_run()
    ]
    errors: list[Finding] = []
    if settings.token_malformed():  # found by an operator's walk-through: `run` refused it
        errors.append(Finding("FEEDBACKBOT_TOKEN", 0, t.gettext(MALFORMED_TOKEN)))
    for key in _master_key_findings(settings, t):
        (found if key.warning else errors).append(key)
    errors += _damaged(settings, t)
    lost = lost_ledger(settings.data_dir)
    if lost is not None:
        ledger = str(settings.data_dir / LEDGER_FILE)
        errors.append(Finding(ledger, 0, lost.said(t.gettext(lost.template), t.reason)))
    errors += _unwritable(settings, t)
    if not errors:
        errors += _retention_cuts_short(settings, catalog, t)
    short = short_retention(settings, t)
    if short is not None:
        found.append(Finding("FEEDBACKBOT_RETENTION", 0, short))
    for stray in stray_databases(settings.data_dir):
        found.append(
            Finding(
                str(stray),
                0,
                t.gettext(
                    "a database in the data folder that is none of the bot's files, beyond "
                    "erasure and the purge: move it elsewhere or delete it"
                ),
            )
        )
    early = _digest_before_the_day_ends(settings)
    if early is not None:
        found.append(
            Finding(
                "FEEDBACKBOT_DIGEST",
                0,
                t.gettext(
                    "a digest at {time} ({zone}) goes out before the day has ended in UTC, "
                    "by whose days summaries count: it counts the day before yesterday. Set "
                    "it to {later} or later"
                ).format(time=early[0].strftime("%H:%M"), zone=settings.timezone, later=early[1]),
            )
        )
    for name in overridden_in_env_file():
        found.append(
            Finding(
                name,
                0,
                t.gettext(
                    "set in the environment and, to another value, in {file}: the "
                    "environment's is used"
                ).format(file=ENV_FILE),
            )
        )
    mode, secrets = env_file_secrets_open_to_others()
    if secrets:  # as `run` says at start (found by an upgrade review: `check` said nothing)
        found.append(
            Finding(
                str(ENV_FILE),
                0,
                env_file_open(t, mode, secrets),
            )
        )
    if (open_recipients := recipients_file_open(settings, t)) is not None:
        found.append(Finding(str(settings.recipients_file), 0, open_recipients))
    for flow_title, prompt, top in _always_low(settings, catalog, t):
        # (found by a staff walk-through: a threshold of 6, for the 0-10 question, headed
        # every 5 of 5 "Low rating")
        found.append(
            Finding(
                "FEEDBACKBOT_ALERT_THRESHOLD",
                0,
                t.gettext(
                    "{threshold} is at or above the top of the scale of “{question}” in "
                    "“{survey}” ({top}): every answer to it raises an alert headed “low "
                    "rating”"
                ).format(
                    threshold=settings.alert_threshold,
                    question=prompt,
                    survey=flow_title,
                    top=top,
                ),
            )
        )
    asking = unanswered_contact_flows(settings, catalog)
    if asking:
        found.append(
            Finding(
                "FEEDBACKBOT_STAFF_CHAT_ID, FEEDBACKBOT_ALERT_THRESHOLD, FEEDBACKBOT_STAFF_IDS",
                0,
                t.gettext(
                    "a survey that asks for consent to be contacted ({flows}) needs all three "
                    "settings, or staff cannot answer anyone"
                ).format(flows=", ".join(asking)),
                # The shipped flows are in the installed package, not to be edited there
                # (found by an operator's walk through the README).
                t.gettext(
                    "Set all three, or remove the contact question from these flows (a shipped "
                    "one: leave it out with FEEDBACKBOT_SHIPPED_FLOWS, or put a copy of its file "
                    "without the question in FEEDBACKBOT_FLOWS_DIR, where it replaces it)."
                ),
            )
        )
    elif (
        settings.support_contact is None
        and settings.controller_contact
        and any(p.stores_contact for f in catalog.flows.values() for p in f.purposes)
    ):
        # Staff answer customers, whose replies reach no one: the answer names where to
        # write, by default the controller's contact (found by a staff walk-through: "Geht
        # Mittwoch?" went to the data protection mailbox)
        found.append(
            Finding(
                "FEEDBACKBOT_SUPPORT_CONTACT",
                0,
                t.gettext(
                    "not set: a customer answered by staff, or writing after the survey, is "
                    "told to write to the controller's contact ({contact}); if that is the "
                    "address for data protection, set this to where customer service is "
                    "reached"
                ).format(contact=settings.controller_contact),
            )
        )
    try:  # as `run` refuses it (see bot.config.audit_kept)
        audit_kept(settings, catalog_retentions(settings, catalog))
    except ConfigurationError as error:
        errors.append(Finding("FEEDBACKBOT_AUDIT_RETENTION", 0, str(error)))
    warned = [dataclasses.replace(f, warning=True) for f in found]
    return [Report(f.source, (f,), file=False) for f in (*errors, *warned)]


def _unknown(unknown: list[tuple[str, str | None]], t: Translator) -> list[Report]:
    """A warning for each FEEDBACKBOT_ name that is no setting (found by an operator
    walk-through: FEEDBACKBOT_RETENTION_DAY was said on stderr, "0 errors and 1 warning"
    after it, and feedback kept for the default 180 days)."""
    findings = []
    for name, meant in unknown:
        said = t.gettext("{name} is not a setting and is ignored").format(name=name)
        if meant:
            said += "; " + t.gettext("did you mean {name}?").format(name=meant)
        findings.append(Finding(name, 0, said, warning=True))
    return [Report(f.source, (f,), file=False) for f in findings]


def _print_data_folder(settings: Settings, t: Translator, out: TextIO) -> None:
    """Which data folder the bot would use, and whether a store is there (found by an
    operator walk-through: run from another directory, `check` said nothing of it, and
    `run` would have made a new, empty store there)."""
    folder = settings.data_dir.absolute()
    if (folder / KEY_STORE_FILE).exists() or (folder / DATA_FILE).exists():
        said = t.gettext("The data folder: {path} (it holds a store)")
    else:
        said = t.gettext(
            "The data folder: {path} (no store there yet: `feedbackbot run` makes one)"
        )
    print(said.format(path=folder), file=out)


def _unwritable(settings: Settings, t: Translator) -> list[Finding]:
    """An error for each file of the store this user cannot write, which `run` refuses
    (found by an operator walk-through: "0 errors" of a `chmod 400 feedback.db`)."""
    return [
        Finding(
            str(path),
            0,
            t.gettext(
                "read-only for this user: `feedbackbot run` cannot write there (check the "
                "owner and permissions)"
            ),
        )
        for path in unwritable_files(settings.data_dir)
    ]


def _retention_cuts_short(settings: Settings, catalog: FlowCatalog, t: Translator) -> list[Finding]:
    """An error where a retention under a day would delete feedback already stored, which
    `run` refuses to start with (found by an operator walk-through: only the warning of a
    short retention here, "0 errors"). The store is opened to count it only then."""
    each = retentions(settings, catalog)
    if all(period >= SHORT_RETENTION for period in each.values()):
        return []
    if not (settings.data_dir / KEY_STORE_FILE).exists():
        return []

    async def cut(store: SQLiteStore) -> None:
        await store.open()
        try:
            await refuse_cutting_short(store, each)
        finally:
            await store.close()

    try:
        asyncio.run(cut(open_existing_store(settings)))
    except StoreOutdated:  # `run` upgrades it first; nothing to say of its retention here
        return []
    except StoreError as error:
        if not error.template.startswith("a retention of only"):
            return []  # the key, the files: said by the other findings, or by `run`
        source = "FEEDBACKBOT_RETENTION"
        return [Finding(source, 0, error.said(t.gettext(error.template), t.reason))]
    return []


def _damaged(settings: Settings, t: Translator) -> list[Finding]:
    """An error for each of the store's files that SQLite finds damaged (found by testing
    with pages overwritten: "0 errors", and the bot's purge failing in the log on a
    damaged index). A backup of a damaged store cannot be relied on (VACUUM INTO fails on
    a damaged index), so the way is an earlier backup."""
    store = t.gettext(
        "damaged ({reason}): stop the bot and restore the newest backup (`feedbackbot "
        "restore DEST --keys KEYS_DEST`)"
    )
    ledger = t.gettext(
        "damaged ({reason}): stop the bot, move this file out of the data folder and restore "
        "the newest backup with the ledger's newest copy (`feedbackbot restore DEST --keys "
        "KEYS_DEST --ledger LEDGER_DEST`)"
    )
    return [
        Finding(str(path), 0, (ledger if path.name == LEDGER_FILE else store).format(reason=reason))
        for path, reason in damaged_files(settings.data_dir)
    ]


def _always_low(
    settings: Settings, catalog: FlowCatalog, t: Translator
) -> list[tuple[str, str, int]]:
    """The rating questions (survey title, prompt, top of the scale) of which every answer
    is at or below the alert threshold, in the operator's language."""
    threshold = settings.alert_threshold
    if threshold is None:
        return []
    return [
        (render_text(flow.title, t), render_text(step.prompt, t), step.max)
        for flow in catalog.flows.values()
        for step in flow.steps
        if isinstance(step, RatingStep) and step.max <= threshold
    ]


def _digest_before_the_day_ends(settings: Settings) -> tuple[time, str] | None:
    """The digest's time and the first local time that works, where the digest goes out
    in the hours of the local day before the UTC day has begun (found by a staff
    walk-through: "daily 00:30" in Berlin counted the day before yesterday, summaries
    counting whole UTC days)."""
    schedule = settings.digest_schedule
    if schedule is None:
        return None
    zone = ZoneInfo(settings.timezone)
    ahead = max(  # the zone's offset in winter and in summer
        datetime(2026, month, 15, 12, tzinfo=zone).utcoffset() or timedelta() for month in (1, 7)
    )
    at = schedule.at
    if ahead <= timedelta() or timedelta(hours=at.hour, minutes=at.minute) >= ahead:
        return None
    hours, rest = divmod(int(ahead.total_seconds()) // 60, 60)
    return at, f"{hours:02d}:{rest:02d}"


def _master_key_findings(settings: Settings, t: Translator) -> list[Finding]:
    """An error where the master key `run` would use cannot be read, is no key (found by
    an operator's walk-through: `check` said nothing of a key file `run` could not read),
    or does not open the key store there is (found by the next: "No problems", and `run`
    refused the key); a warning where it is not random, or its file is open to others, as
    every command that opens the store warns. Nothing is made or written: without any
    key given, `run` generates one, and there is nothing to check."""
    default = settings.data_dir / MASTER_KEY_FILE
    # Nothing given nor generated: where there is a store already, `run` refuses it (found
    # by an operator walk-through: "0 errors", and `run` refused, data/master.key moved)
    has_store = any((settings.data_dir / n).exists() for n in (KEY_STORE_FILE, DATA_FILE))
    if not (settings.master_key or settings.master_key_file or default.exists() or has_store):
        return []
    given = settings.master_key.get_secret_value() if settings.master_key else None
    if settings.master_key_file:
        source = "FEEDBACKBOT_MASTER_KEY_FILE"
    elif given:
        source = "FEEDBACKBOT_MASTER_KEY"
    else:  # the key file the bot generated: named (the finding said a variable unset)
        source = str(default)
    try:
        key, _, open_to_others = resolve_master_key(
            given, settings.master_key_file, settings.data_dir
        )
        SQLiteStore(settings.data_dir, key).check_master_key()
    except StoreError as error:
        return [Finding(source, 0, error.said(t.gettext(error.template), t.reason))]
    found = []
    if predictable_key(key):
        found.append(Finding(source, 0, t.gettext(PREDICTABLE_KEY), warning=True))
    if open_to_others is not None:
        path, mode = open_to_others
        said = t.gettext(
            KEY_FILE_READABLE if mode & READABLE_BY_OTHERS else KEY_FILE_CHANGEABLE
        ).format(path=path, mode=f"{mode:o}")
        found.append(Finding(source, 0, said, warning=True))
    return found


def _print_loaded(reports: Sequence[Report], t: Translator, out: TextIO) -> None:
    """The flows the bot loads, each with its file: what `check` without FILE checked. A
    shipped one is said to be, its file being in the installed package: to be copied to
    FEEDBACKBOT_FLOWS_DIR, not edited there."""
    flows = [
        (
            r.flow.id,
            t.gettext("shipped with feedbackbot: {file}").format(file=r.source)
            if r.shipped
            else r.source,
        )
        for r in reports
        if r.flow is not None
    ]
    if not flows:
        return
    print(t.gettext("The flows the bot loads:"), file=out)
    width = max(len(flow_id) for flow_id, _ in flows)
    for flow_id, source in flows:
        print(f"  {flow_id:<{width}}  {source}", file=out)


def _bot_settings() -> Settings | None:
    """The bot's settings, for the flows it loads and its recipients file; None where
    they cannot be read (the environment alone then, and the shipped flows)."""
    try:
        return load_settings()
    except ConfigurationError:
        return None


def _as_the_bot_loads(
    checked: dict[str, FlowDefinition], settings: Settings | None, t: Translator
) -> FlowCatalog:
    """The flows the bot would run: those its settings name (FEEDBACKBOT_FLOWS_DIR,
    FEEDBACKBOT_SHIPPED_FLOWS), the ones checked in place of any of the same id (found
    by review: another flow of the folder was left out)."""
    with quiet_flow_warnings():
        loaded = FlowCatalog.load(t=t).flows
        if settings is not None:
            with contextlib.suppress(FlowDefinitionError):  # check says what is wrong there
                loaded = FlowCatalog.load(settings.flows_dir, t, settings.shipped_flows).flows
    return FlowCatalog({**loaded, **checked})


def _with_recipients(
    reports: list[Report], path: Path | None, settings: Settings | None, t: Translator
) -> list[Report]:
    """The recipients file, where there is one, checked as the bot loads it, its problems
    reported against it whatever the flows declare (found by review: with no purpose
    passing feedback on, a file the bot refuses passed).

    A purpose that passes feedback on (shares_feedback) needs a recipient for it, or the
    bot does not start (flows.sharing.require_recipients): checked against the recipients
    file where there is one, else pointed out, as `check` alone cannot tell."""
    flows = {r.flow.id: r.flow for r in reports if r.flow is not None}
    received: set[str] | None = None
    problem = ""
    if path is not None:
        source = str(path)
        # Not against the flows where one did not load: its fields and purposes would be
        # said to be none (found by a flow author's walk-through: a typo in a flow gave two
        # errors in the recipients file, printed first).
        unloaded = sum(1 for r in reports if r.file and r.flow is None and r.errors)
        catalog = None if unloaded else _as_the_bot_loads(flows, settings, t)
        aside: tuple[Finding, ...] = ()
        if unloaded:
            aside = (
                Finding(
                    source,
                    0,
                    t.ngettext(
                        "not checked against the flows' fields and purposes, as {count} "
                        "flow file did not load",
                        "not checked against the flows' fields and purposes, as {count} "
                        "flow files did not load",
                        unloaded,
                    ).format(count=unloaded),
                    warning=True,
                ),
            )
        try:
            recipients = load_recipients(path, catalog, t)
            received = {r.purpose for r in recipients if r.purpose is not None}
            reports = [Report(source, aside), *reports]
        except RecipientsError as error:
            problem = t.gettext("{file} cannot be used; see its errors.").format(file=path)
            unusable = tuple(Finding(source, 1, message) for message in error.problems)
            reports = [Report(source, (*unusable, *aside)), *reports]
    if not any(p.shares_feedback for flow in flows.values() for p in flow.purposes):
        return reports
    changed = []
    for report in reports:
        found = []
        for purpose in report.flow.purposes if report.flow is not None else ():
            if not purpose.shares_feedback or (received is not None and purpose.id in received):
                continue
            if received is not None:
                message = t.gettext(
                    "the purpose '{purpose}' passes feedback on, but no recipient in {file} "
                    "names it"
                ).format(purpose=purpose.id, file=path)
                hint = t.gettext(
                    'Add a recipient with purpose = "{purpose}", or remove the purpose and '
                    "its consent step: the bot does not start like this."
                ).format(purpose=purpose.id)
                found.append(Finding(report.source, report.purpose_line(purpose.id), message, hint))
                continue
            message = t.gettext(
                "the purpose '{purpose}' passes feedback on: the bot starts only with a "
                "recipient for it in FEEDBACKBOT_RECIPIENTS_FILE"
            ).format(purpose=purpose.id)
            hint = problem or t.gettext(
                "Check against that file with --recipients FILE; `feedbackbot chat --flow "
                "FILE --recipients FILE` tries the flow with it."
            )
            # A file named that the bot could not use either: an error.
            line = report.purpose_line(purpose.id)
            found.append(Finding(report.source, line, message, hint, not problem))
        changed.append(dataclasses.replace(report, findings=(*report.findings, *found)))
    return changed


def print_reports(reports: Sequence[Report], t: Translator, out: TextIO) -> None:
    """``file:line: error: message`` and an indented hint per problem, then a summary."""
    for report in reports:
        for finding in sorted(report.findings, key=lambda f: (f.line, f.warning)):
            kind = t.gettext("warning") if finding.warning else t.gettext("error")
            lined = report.file and finding.line  # 0: about the file as a whole
            where = f"{finding.source}:{finding.line}" if lined else finding.source
            print(f"{where}: {kind}: {finding.message}", file=out)
            if finding.hint:
                print(f"    {finding.hint}", file=out)
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    count = sum(1 for r in reports if r.file)
    files = t.ngettext("{count} file", "{count} files", count).format(count=count)
    if not errors and not warnings:
        print(t.gettext("No problems in {files}.").format(files=files), file=out)
        return
    _print_summary(errors, warnings, files, t, out)
    for report in reports:
        if not report.complete:  # found by review: "every problem" was every problem of a kind
            print(
                t.gettext(
                    "{file}: paths, loops, consent, buttons and translations are checked once "
                    "the errors above in it are fixed."
                ).format(file=report.source),
                file=out,
            )


def _print_summary(errors: int, warnings: int, files: str, t: Translator, out: TextIO) -> None:
    print(
        t.gettext("{errors} and {warnings} in {files}.").format(
            errors=t.ngettext("{count} error", "{count} errors", errors).format(count=errors),
            warnings=t.ngettext("{count} warning", "{count} warnings", warnings).format(
                count=warnings
            ),
            files=files,
        ),
        file=out,
    )
