"""`feedbackbot docs`: the processing record and the website privacy notice, as Markdown.

Both are generated from the same description of the processing that the bot's own
notices use (flows.processing), with the same settings and flow definitions. No token,
store or master key is needed; the controller's name and contact are, because both
documents are meant to be published or handed over as they are.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import service_config
from bot.operator import operator_translator
from bot.settings import ConfigurationError, Settings, load_settings
from flows.catalog import FlowCatalog
from flows.i18n import N_, SUPPORTED_LOCALES, Translator, translator
from flows.privacy import privacy_notice_markdown
from flows.processing import Operations, ProcessingRecord
from flows.record import processing_record

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
        N_("write the full privacy notice that /datenschutz shows, for the company website"),
        N_("Write the full privacy notice that /datenschutz shows, for the company website."),
    ),
}


def register(subparsers: Any, t: Translator) -> None:
    docs: argparse.ArgumentParser = subparsers.add_parser(
        "docs",
        help=t.gettext("write the processing record or the privacy notice as Markdown"),
        description=t.gettext(
            "Write a document generated from the settings and the flow definitions, "
            "from the same source as what the bot tells people. Needs "
            "FEEDBACKBOT_CONTROLLER_NAME and FEEDBACKBOT_CONTROLLER_CONTACT, not the token."
        ),
    )
    documents = docs.add_subparsers(dest="document", required=True, metavar=t.gettext("DOCUMENT"))
    for name, (_, help_text, description) in DOCUMENTS.items():
        parser = documents.add_parser(
            name, help=t.gettext(help_text), description=t.gettext(description)
        )
        parser.add_argument(
            "--lang",
            choices=SUPPORTED_LOCALES,
            help=t.gettext("only this language (default: German and English, German first)"),
        )
        parser.add_argument(
            "--output",
            type=Path,
            metavar="FILE",
            help=t.gettext(
                "write to FILE instead of standard output; a FILE name containing {lang} "
                "gets one file per language"
            ),
        )
        parser.set_defaults(handler=run_docs)


def run_docs(args: argparse.Namespace) -> int:
    record = processing_record_of(load_settings())
    locales = (args.lang,) if args.lang else SUPPORTED_LOCALES
    texts = {locale: render_document(args.document, locale, record) for locale in locales}
    output: Path | None = args.output
    if output is None:
        sys.stdout.write(LANGUAGE_SEPARATOR.join(texts.values()))
        return 0
    if "{lang}" in output.name:
        files = {output.with_name(output.name.replace("{lang}", k)): v for k, v in texts.items()}
    else:
        files = {output: LANGUAGE_SEPARATOR.join(texts.values())}
    for path, text in files.items():
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            cannot = operator_translator().gettext("cannot write {path}: {reason}")
            reason = cannot.format(path=path, reason=operator_translator().reason(error))
            print(f"feedbackbot: {reason}", file=sys.stderr)
            return 1
        print(operator_translator().gettext("wrote {path}").format(path=path))
    return 0


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
    catalog = FlowCatalog.load(settings.flows_dir, operator_translator(), settings.shipped_flows)
    return ProcessingRecord(
        processing=service_config(settings, catalog).processing(catalog),
        operations=Operations(
            purge_interval=settings.purge_interval,
            min_group_size=settings.min_group_size,
            staff_members=len(settings.staff_ids),
            audit_retention=settings.audit_retention,
        ),
    )
