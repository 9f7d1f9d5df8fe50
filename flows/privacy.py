"""The privacy notice shown by /datenschutz (Art. 12, 13 GDPR), before and without consent."""

from __future__ import annotations

from datetime import timedelta

from flows.catalog import FlowCatalog
from flows.consent import Controller
from flows.i18n import Translator
from flows.models import Purpose, render_text


def purposes_of(catalog: FlowCatalog) -> list[Purpose]:
    """Every purpose any flow asks consent for, once each, in definition order."""
    seen: dict[str, Purpose] = {}
    for flow in catalog.flows.values():
        for purpose in flow.purposes:
            seen.setdefault(purpose.id, purpose)
    return list(seen.values())


def recipients(t: Translator) -> list[str]:
    return [
        t.gettext(
            "the hosting provider that runs this bot on our behalf (processor, Art. 28 GDPR)"
        ),
        t.gettext(
            "Telegram, the messenger you use: your messages pass through Telegram's servers. "
            "Chats with bots are not end-to-end encrypted, and your own chat history is "
            "outside our control; you can delete it in Telegram."
        ),
    ]


def retention_text(t: Translator, catalog: FlowCatalog, default: timedelta) -> str:
    """The retention of feedback, with any flow that keeps it for a different time."""
    lines = [
        t.gettext("Feedback is deleted automatically after {retention}.").format(
            retention=t.duration(default)
        )
    ]
    for flow in catalog.flows.values():
        own = flow.retention(default)
        if own != default:
            lines.append(
                t.gettext(
                    "Feedback in “{flow}” is deleted automatically after {retention}."
                ).format(flow=render_text(flow.title, t), retention=t.duration(own))
            )
    return " ".join(lines)


def privacy_notice(
    t: Translator,
    controller: Controller,
    catalog: FlowCatalog,
    retention: timedelta,
    draft_idle: timedelta,
) -> str:
    """The full notice, in the person's language; the same text serves the website."""
    lines = [t.gettext("Privacy notice"), "", t.gettext("Who is responsible")]
    lines.append(f"{controller.name}, {controller.contact}")
    if controller.dpo:
        lines.append(t.gettext("Data protection officer: {dpo}").format(dpo=controller.dpo))
    lines += ["", t.gettext("What we process and why")]
    for purpose in purposes_of(catalog):
        lines.append(
            t.gettext("• {purpose}: only with your consent (Art. 6(1)(a) GDPR).").format(
                purpose=render_text(purpose.description, t)
            )
        )
    lines.append(
        t.gettext(
            "We store your answers, the consents you gave and, only if you agree to be "
            "contacted, the chat in which we may write to you. Your Telegram name, username "
            "and user id are not stored: you are identified by a pseudonym, and everything "
            "about you is encrypted with a key of your own."
        )
    )
    lines += ["", t.gettext("How long we keep it"), retention_text(t, catalog, retention)]
    lines.append(
        t.gettext("Unfinished answers are deleted after {idle} without activity.").format(
            idle=t.duration(draft_idle)
        )
    )
    lines += ["", t.gettext("Who receives data")]
    lines += [f"• {recipient}" for recipient in recipients(t)]
    lines += ["", t.gettext("Your rights")]
    lines += [
        t.gettext("• Access and a copy of your data (Art. 15, 20 GDPR): /mydata"),
        t.gettext("• Erasure of all your data (Art. 17 GDPR): /delete"),
        t.gettext(
            "• Withdrawal of a consent at any time, without affecting what was done "
            "before (Art. 7(3) GDPR): /withdraw"
        ),
        t.gettext(
            "• Rectification (Art. 16), restriction (Art. 18) and objection (Art. 21 GDPR): "
            "write to {contact}"
        ).format(contact=controller.contact),
        t.gettext(
            "• You may lodge a complaint with a data protection supervisory authority "
            "(Art. 77 GDPR)."
        ),
    ]
    lines += [
        "",
        t.gettext(
            "Giving feedback is voluntary; not giving it has no consequences for you. "
            "There is no automated decision-making or profiling."
        ),
    ]
    return "\n".join(lines)
