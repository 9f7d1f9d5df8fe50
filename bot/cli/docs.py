"""`feedbackbot docs`: the processing record, the website privacy notice and the archived
consent texts, as Markdown.

The first two are generated from the same description of the processing that the bot's
own notices use (flows.processing), with the same settings and flow definitions. No
token, store or master key is needed; the controller's name and contact are, because both
documents are meant to be published or handed over as they are. The consent texts are
read from the store, where the bot archives them at start: they show what a consent
record's hash stands for, whatever the settings and the version are today.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.cli.common import (
    output_file,
    quiet_flow_warnings,
    refuse_the_bots_files,
    short_retention,
    with_store,
    written_in_place,
)
from bot.config import service_config
from bot.operator import operator_translator
from bot.settings import ConfigurationError, Settings, load_settings
from flows.catalog import FlowCatalog
from flows.consent_archive import consent_archive_markdown
from flows.export import json_schema
from flows.i18n import N_, SUPPORTED_LOCALES, Translator, translator
from flows.privacy import privacy_notice_markdown
from flows.processing import Operations, ProcessingRecord
from flows.record import processing_record
from storage import ArchivedConsentText, SQLiteStore
from storage.masterkey import MASTER_KEY_FILE

LANGUAGE_SEPARATOR = "\n---\n\n"
"""Between the languages when one file holds several (a Markdown thematic break)."""


def _record(t: Translator, record: ProcessingRecord) -> str:
    return processing_record(t, record)


def _notice(t: Translator, record: ProcessingRecord) -> str:
    return privacy_notice_markdown(t, record.processing)


DOCUMENTS: dict[str, tuple[Callable[[Translator, ProcessingRecord], str], str, str]] = {
    "processing-record": (
        _record,
        N_("write the record of processing activities (Art. 30(1) GDPR)"),
        N_("Write the record of processing activities (Art. 30(1) GDPR)."),
    ),
    "privacy-notice": (
        _notice,
        N_(
            "write the full privacy notice that /privacy (/datenschutz) shows, for the "
            "company website"
        ),
        N_(
            "Write the full privacy notice that /privacy (/datenschutz) shows, for the "
            "company website."
        ),
    ),
}


def register(subparsers: Any, t: Translator) -> None:
    docs: argparse.ArgumentParser = subparsers.add_parser(
        "docs",
        help=t.gettext(
            "write the processing record, the privacy notice or the archived consent texts "
            "as Markdown, or the JSON schema of the copy /mydata sends"
        ),
        description=t.gettext(
            "Write a document for the controller. The processing record and the privacy "
            "notice are generated from the settings and the flow definitions, from the same "
            "source as what the bot tells people, and need FEEDBACKBOT_CONTROLLER_NAME and "
            "FEEDBACKBOT_CONTROLLER_CONTACT, not the token. The consent texts are read from "
            "the store."
        ),
    )
    documents = docs.add_subparsers(dest="document", required=True, metavar=t.gettext("DOCUMENT"))
    for name, (_, help_text, description) in DOCUMENTS.items():
        parser = documents.add_parser(
            name, help=t.gettext(help_text), description=t.gettext(description)
        )
        _language_and_output(parser, t)
        parser.set_defaults(handler=run_docs)
    archive = documents.add_parser(
        "consent-notice",
        help=t.gettext("write the consent texts the bot has shown, as archived in the store"),
        description=t.gettext(
            "Write the consent texts the bot has shown, as it archived them when it "
            "started: each with its version, SHA-256, language, survey and when it "
            "was first shown, so that the hash in a consent record can be shown as the "
            "wording it stands for after any change of settings or version. Reads the store "
            "(FEEDBACKBOT_DATA_DIR and the master key), also while the bot runs; no token "
            "needed."
        ),
    )
    archive.add_argument(
        "--version",
        dest="notice_version",
        type=_notice_version,
        metavar="VERSION",
        help=t.gettext(
            "only the texts of this consent request version (12 hexadecimal digits, as a "
            "consent record names it)"
        ),
    )
    archive.add_argument(
        "--sha256",
        type=_sha256,
        metavar="SHA256",
        help=t.gettext(
            "only the text with this SHA-256 (64 hexadecimal digits, as a consent record names it)"
        ),
    )
    _language_and_output(archive, t)
    archive.set_defaults(handler=run_consent_notice)
    # The schema was in the source tree alone (docs/export.schema.json): installed, an
    # operator asked what the JSON copy holds had none (found by an operator walk-through).
    schema = documents.add_parser(
        "export-schema",
        help=t.gettext("write the JSON schema of the copy /mydata (/meinedaten) sends"),
        description=t.gettext(
            "Write the JSON schema of the copy of their data that /mydata (/meinedaten) "
            "sends a person as a file (Art. 15(3) and 20 GDPR): what each field holds. "
            "Needs no settings."
        ),
    )
    schema.add_argument(
        "--output",
        type=output_file,
        metavar="FILE",
        help=t.gettext("write to FILE instead of standard output (-)"),
    )
    schema.set_defaults(handler=run_export_schema)


def _language_and_output(parser: argparse.ArgumentParser, t: Translator) -> None:
    parser.add_argument(
        "--lang",
        choices=SUPPORTED_LOCALES,
        help=t.gettext("only this language (default: German and English, German first)"),
    )
    parser.add_argument(
        "--output",
        type=output_file,
        metavar="FILE",
        help=t.gettext(
            "write to FILE instead of standard output (-); a FILE name containing {lang} "
            "gets one file per language"
        ),
    )


def _hexadecimal(text: str, digits: int, message: str) -> str:
    value = text.strip().lower()
    if not re.fullmatch(rf"[0-9a-f]{{{digits}}}", value):
        raise argparse.ArgumentTypeError(
            operator_translator().gettext(message).format(text=repr(text[:80]))
        )
    return value


def _notice_version(text: str) -> str:
    return _hexadecimal(
        text, 12, N_("{text} is not a consent request version; it has 12 hexadecimal digits")
    )


def _sha256(text: str) -> str:
    return _hexadecimal(text, 64, N_("{text} is not a SHA-256; it has 64 hexadecimal digits"))


def run_docs(args: argparse.Namespace) -> int:
    settings = load_settings()
    short = short_retention(settings, operator_translator())
    if short is not None:  # the notice states it as the retention customers are told
        print(f"feedbackbot: FEEDBACKBOT_RETENTION: {short}", file=sys.stderr)
    record = processing_record_of(settings)
    locales = (args.lang,) if args.lang else SUPPORTED_LOCALES
    texts = {locale: render_document(args.document, locale, record) for locale in locales}
    return write_documents(texts, args.output)


def run_export_schema(args: argparse.Namespace) -> int:
    return write_documents({"": json_schema()}, args.output)


def run_consent_notice(args: argparse.Namespace) -> int:
    """The archived consent texts, in each language asked for that has any; exit code 1,
    and what the archive lacks, when none matches."""
    version: str | None = args.notice_version
    sha256: str | None = args.sha256

    async def read(store: SQLiteStore, settings: Settings) -> list[ArchivedConsentText]:
        return await store.consent_texts(version, sha256)

    archived = with_store(read)
    locales = (args.lang,) if args.lang else SUPPORTED_LOCALES
    chosen = {locale: [text for text in archived if text.language == locale] for locale in locales}
    documents = {
        locale: consent_archive_markdown(translator(locale), texts)
        for locale, texts in chosen.items()
        if texts
    }
    if not documents:
        print(f"feedbackbot: {_not_archived(archived, version, sha256)}", file=sys.stderr)
        return 1
    return write_documents(documents, args.output)


def _not_archived(
    archived: list[ArchivedConsentText], version: str | None, sha256: str | None
) -> str:
    """Why nothing is printed, in the operator's language."""
    t = operator_translator()
    if archived:  # only in a language not asked for
        languages = ", ".join(dict.fromkeys(t.language(text.language) for text in archived))
        return t.gettext(
            "the archived consent texts that match are in another language: {languages}"
        ).format(languages=languages)
    before = t.gettext(
        "consents recorded before the bot ran a version that archives its consent texts "
        "have none there, and neither do texts of settings no bot has started with"
    )
    if version is not None and sha256 is not None:
        missing = t.gettext(
            "no consent text of version {version} with SHA-256 {sha256} is archived"
        )
    elif version is not None:
        missing = t.gettext("no consent text of version {version} is archived")
    elif sha256 is not None:
        missing = t.gettext("no consent text with SHA-256 {sha256} is archived")
    else:
        missing = t.gettext(
            "no consent texts are archived yet: `feedbackbot run` archives them when it starts"
        )
    return missing.format(version=version, sha256=sha256) + "; " + before


def write_documents(texts: dict[str, str], output: Path | None) -> int:
    """Markdown per language to standard output, one file, or (a FILE name containing
    {lang}) one file per language; exit code 1, with one line, when a file cannot be
    written."""
    if output is None:
        sys.stdout.write(LANGUAGE_SEPARATOR.join(texts.values()))
        return 0
    if "{lang}" in output.name:
        files = {output.with_name(output.name.replace("{lang}", k)): v for k, v in texts.items()}
    else:
        files = {output: LANGUAGE_SEPARATOR.join(texts.values())}
    for path in files:  # every one before any is written
        refuse_the_bots_files(path)
    for path, text in files.items():
        try:
            _replace(path, text.encode())
        except OSError as error:
            cannot = operator_translator().gettext("cannot write {path}: {reason}")
            reason = cannot.format(path=path, reason=operator_translator().reason(error))
            print(f"feedbackbot: {reason}", file=sys.stderr)
            return 1
        print(operator_translator().gettext("wrote {path}").format(path=path))
    return 0


def _replace(path: Path, content: bytes) -> None:
    """`content` to `path` through a new file of its own renamed over it: written in place,
    a link planted under the name in a shared folder (/tmp) was followed and whatever it
    pointed to overwritten (security review). The mode is what the umask gives a new file,
    as before. A pipe or a terminal (/dev/stdout) is written to in place."""
    if written_in_place(path):
        with open(path, "wb") as device:
            device.write(content)
        return
    umask = os.umask(0o022)
    os.umask(umask)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as partial:
            os.fchmod(partial.fileno(), 0o666 & ~umask)
            partial.write(content)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def render_document(document: str, locale: str, record: ProcessingRecord) -> str:
    """One document (a key of DOCUMENTS) in one language."""
    render = DOCUMENTS[document][0]
    return render(translator(locale), record)


def processing_record_of(settings: Settings) -> ProcessingRecord:
    """What the bot processes with these settings; raises ConfigurationError without a
    controller, and FlowDefinitionError for an unusable flow definition."""
    missing = [
        f"FEEDBACKBOT_{name.upper()}"
        for name in ("controller_name", "controller_contact")
        if getattr(settings, name) is None
    ]
    if missing:
        raise ConfigurationError.missing(missing)
    with quiet_flow_warnings():  # `check`'s to print (see bot.cli.staff._desk)
        catalog = FlowCatalog.load(
            settings.flows_dir, operator_translator(), settings.shipped_flows
        )
    config = service_config(settings, catalog)
    return ProcessingRecord(
        processing=config.processing(catalog),
        operations=Operations(
            purge_interval=settings.purge_interval,
            min_group_size=settings.min_group_size,
            staff_members=len(settings.staff_ids),
            audit_retention=config.audit_retention,
            master_key_apart=_master_key_apart(settings),
        ),
    )


def _master_key_apart(settings: Settings) -> bool:
    """Whether the master key is kept outside the data folder (see resolve_master_key:
    without a setting it is `master.key` there; found by review: one generated there at
    the first start and left beside a setting made since is there all the same)."""
    data_dir = settings.data_dir.resolve()
    if (data_dir / MASTER_KEY_FILE).exists():
        return False
    if settings.master_key is not None:
        return True
    if settings.master_key_file is None:
        return False
    return data_dir not in settings.master_key_file.resolve().parents
