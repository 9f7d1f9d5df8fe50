"""The archive of consent texts as Markdown, in one language: the wording behind the
notice version and SHA-256 that every consent record carries (Art. 7(1) GDPR), as
`feedbackbot docs consent-notice` writes it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC

from flows.i18n import Translator
from storage.interface import ArchivedConsentText


def consent_archive_markdown(t: Translator, texts: Sequence[ArchivedConsentText]) -> str:
    """Each text with its notice version, SHA-256, language, survey, purposes and when a
    bot first showed it, oldest first; the texts exactly as shown, each in a code block."""
    blocks = [
        "# " + t.gettext("Consent texts (Art. 7(1) GDPR)"),
        t.gettext(
            "The texts people were shown when they were asked for their consent, as the bot "
            "archived them when it started. A consent record names the version of the "
            "consent text and the SHA-256 of the text it was given to: the text with that "
            "SHA-256 is the one the person read. Written by `feedbackbot docs consent-notice`."
        ),
    ]
    for text in texts:
        blocks.append("## " + _heading(t, text))
        facts = [
            (t.gettext("Consent request version"), f"`{text.notice_version}`"),
            ("SHA-256", f"`{text.sha256}`"),
            (t.gettext("Language"), t.language(text.language)),
            (t.gettext("Survey"), f"`{text.flow_id}`"),
            (t.gettext("Purposes"), ", ".join(f"`{p}`" for p in text.purposes)),
            (t.gettext("First shown"), _utc(text)),
        ]
        blocks.append("\n".join(f"- {name}: {value}" for name, value in facts))
        blocks.append(_fenced(text.text))
    return "\n\n".join(blocks) + "\n"


def _heading(t: Translator, text: ArchivedConsentText) -> str:
    flow, version = f"`{text.flow_id}`", f"`{text.notice_version}`"
    if text.kind == "notice":
        heading = t.gettext("Consent notice of the survey {flow}, version {version}")
        return heading.format(flow=flow, version=version)
    heading = t.gettext("Optional consent ({purpose}) in the survey {flow}, version {version}")
    purposes = ", ".join(f"`{purpose}`" for purpose in text.purposes)
    return heading.format(purpose=purposes, flow=flow, version=version)


def _utc(text: ArchivedConsentText) -> str:
    return text.first_seen.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _fenced(text: str) -> str:
    """`text` verbatim in a fenced code block whose fence no line of it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"
