"""The generated documents against what the bot says (D1): the processing record and the
website privacy notice must state the same retention, purposes, recipients and controller
as /datenschutz, the consent notice and the data copy — also after the settings change."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.catalog import FlowCatalog
from flows.consent import Controller, consent_notice, notice_version
from flows.i18n import translator
from flows.models import render_text
from flows.privacy import privacy_notice_markdown
from flows.processing import (
    DEFAULT_RECIPIENTS,
    STAFF_CHAT_ALERTS,
    DataCategory,
    Operations,
    ProcessingRecord,
)
from flows.record import processing_record
from flows.rights import DataRights
from flows.service import FeedbackService, Person, ServiceConfig
from storage.interface import ConsentGrant, NewFeedback
from storage.memory import MemoryStore

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

# A flow whose purpose keeps feedback shorter than the configured retention.
EVENT_FLOW = """
id = "event"
title = { de = "Veranstaltungsfeedback", en = "Event feedback" }
intro = { de = "Wie war die Veranstaltung?", en = "How was the event?" }

[[purposes]]
id = "event_feedback"
required = true
retention = "30d"
label = { de = "Speicherung Ihres Veranstaltungsfeedbacks", en = "Storing your event feedback" }
description.de = "Auswerten Ihres Feedbacks zur Veranstaltung"
description.en = "Evaluating your feedback on the event"

[[steps]]
id = "rating"
type = "rating"
prompt = { de = "Wie hat es Ihnen gefallen?", en = "How did you like it?" }

[[steps]]
id = "thanks"
type = "thanks"
prompt = { de = "Danke!", en = "Thank you!" }
"""


class Bot:
    """The service and the rights over one in-memory store, as the transport uses them."""

    def __init__(self, catalog: FlowCatalog, config: ServiceConfig) -> None:
        self.store = MemoryStore()
        self.service = FeedbackService(self.store, catalog, config, clock=lambda: NOW)
        self.rights = DataRights(self.store, catalog, config, lambda: NOW)
        self.record = ProcessingRecord(
            processing=config.processing(catalog),
            operations=Operations(
                purge_interval=timedelta(hours=1),
                min_group_size=5,
                staff_members=0,
                audit_retention=timedelta(days=1095),
            ),
        )

    async def consent_notice(self, flow_id: str, locale: str) -> str:
        outcome = await self.service.start(Person("tg-user:1", 1, locale), flow_id)
        return outcome.replies[-1].text

    def privacy(self, locale: str) -> str:
        return self.rights.privacy(locale).replies[0].text


async def make_bot(tmp_path: Path, retention: timedelta, dpo: str | None = None) -> Bot:
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "event.toml").write_text(EVENT_FLOW, encoding="utf-8")
    config = ServiceConfig(
        controller=Controller(name="Beispiel GmbH", contact="datenschutz@beispiel.de", dpo=dpo),
        retention=retention,
    )
    bot = Bot(FlowCatalog.load(flows), config)
    await bot.store.open()
    return bot


def section(markdown: str, heading_start: str) -> str:
    """The text of the `## ` section whose heading starts with `heading_start`."""
    parts = re.split(r"^## ", markdown, flags=re.MULTILINE)
    [found] = [p for p in parts if p.startswith(heading_start)]
    return found


def as_chat_lines(markdown: str) -> list[str]:
    """The website notice in the chat's form: no Markdown, no website introduction."""
    blocks = markdown.strip().split("\n\n")
    del blocks[1]  # the introduction that points website readers to the bot
    lines = []
    for line in "\n".join(blocks).splitlines():
        line = re.sub(r"^#+ ", "", line)
        line = re.sub(r"^- ", "• ", line)
        lines.append(re.sub(r"\\(.)", r"\1", line))
    return lines


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("retention_days", [180, 90])
async def test_website_notice_is_what_datenschutz_shows(
    tmp_path: Path, locale: str, retention_days: int
) -> None:
    bot = await make_bot(tmp_path, timedelta(days=retention_days), dpo="dsb@beispiel.de")
    website = privacy_notice_markdown(translator(locale), bot.record.processing)
    in_chat = [line for line in bot.privacy(locale).splitlines() if line]
    assert as_chat_lines(website) == in_chat


async def test_the_notice_says_who_reads_the_answers_and_what_they_see(tmp_path: Path) -> None:
    """Found by a customer walk-through: "Wer liest mein Feedback?" was pointed to
    /datenschutz, which named only the host and Telegram."""
    bot = await make_bot(tmp_path, timedelta(days=180), dpo="dsb@beispiel.de")
    assert "Unsere Mitarbeiterinnen und Mitarbeiter lesen Ihre Antworten" in bot.privacy("de")
    english = bot.privacy("en")
    assert "Our staff read your answers, one by one and in summaries" in english
    assert "without your name, Telegram user ID or pseudonym" in english
    assert "replaced by placeholders where they are recognised" in english


def retention_in_english(bot: Bot, flow_id: str, consent_notice: str) -> dict[str, str]:
    """What each text says about how long feedback of the flow is kept."""
    t = translator("en")
    title = render_text(bot.record.processing.flow(flow_id).title, t)
    record = processing_record(t, bot.record)
    notice = bot.privacy("en")
    [in_record] = re.findall(
        rf"Feedback in “{title}” \(`{flow_id}`\): deleted (.+?) after it is given", record
    )
    [in_consent] = re.findall(r"Retention period: (.+?);", consent_notice)
    own = re.findall(rf"Feedback in “{title}” is deleted automatically after (.+?)\.", notice)
    [default] = re.findall(r"Feedback is deleted automatically after (.+?)\.", notice)
    return {
        "record": in_record,
        "consent notice": in_consent,
        "/datenschutz": own[0] if own else default,
    }


@pytest.mark.parametrize(
    ("retention", "expected"),
    [(timedelta(days=180), "180 days"), (timedelta(days=90), "90 days")],
)
async def test_same_retention_everywhere_and_as_the_bot_deletes(
    tmp_path: Path, retention: timedelta, expected: str
) -> None:
    bot = await make_bot(tmp_path, retention)
    feedback_notice = await bot.consent_notice("feedback", "en")
    assert set(retention_in_english(bot, "feedback", feedback_notice).values()) == {expected}
    event_notice = await bot.consent_notice("event", "en")
    assert set(retention_in_english(bot, "event", event_notice).values()) == {"30 days"}

    # ... and the deletion date the bot actually sets is the one all of them state.
    person = Person("tg-user:2", 2, "en")
    agree = (await bot.service.start(person, "event")).replies[-1].buttons[0][0]
    asked = await bot.service.press(person, agree.data)
    rating = asked.replies[-1].buttons[0][3]
    await bot.service.press(person, rating.data)
    [stored] = await bot.store.feedback_of(bot.store.pseudonym(person.subject), NOW)
    assert stored.expires_at - stored.created_at == timedelta(days=30)
    # The data copy too (found by review: it gave the default alone).
    copy = (await bot.rights.access(person)).replies[1].document
    assert copy is not None
    kept = json.loads(copy.content)["retention"]
    assert f"Feedback is deleted automatically after {expected}." in kept
    assert "Feedback in “Event feedback” is deleted automatically after 30 days." in kept


async def test_a_survey_with_two_required_purposes_keeps_feedback_for_the_shorter(
    tmp_path: Path,
) -> None:
    """Feedback given for two purposes at once is kept no longer than the purpose with
    the shorter retention allows (Art. 5(1)(e)): here 30 days, not the 180 the other
    purpose (the configured default) would, as the consent notice says and the deletion
    date shows."""
    flows = tmp_path / "flows"
    flows.mkdir()
    planning = (
        '[[purposes]]\nid = "event_planning"\nrequired = true\n'
        'label = { de = "Planung", en = "Planning" }\n'
        'description.de = "Planung künftiger Veranstaltungen"\n'
        'description.en = "Planning future events"\n\n[[steps]]\nid = "rating"'
    )
    two = EVENT_FLOW.replace('[[steps]]\nid = "rating"', planning, 1)
    (flows / "event.toml").write_text(two, encoding="utf-8")
    config = ServiceConfig(
        controller=Controller(name="Beispiel GmbH", contact="datenschutz@beispiel.de"),
        retention=timedelta(days=180),
    )
    bot = Bot(FlowCatalog.load(flows), config)
    await bot.store.open()
    notice = await bot.consent_notice("event", "en")
    assert "Planning future events" in notice, "both purposes are asked for"
    assert set(retention_in_english(bot, "event", notice).values()) == {"30 days"}

    person = Person("tg-user:2", 2, "en")
    agree = (await bot.service.start(person, "event")).replies[-1].buttons[0][0]
    asked = await bot.service.press(person, agree.data)
    thanks = await bot.service.press(person, asked.replies[-1].buttons[0][3].data)
    assert "deleted automatically on 29 December 2026" in thanks.replies[-1].text
    [stored] = await bot.store.feedback_of(bot.store.pseudonym(person.subject), NOW)
    assert stored.purposes == ["event_feedback", "event_planning"]
    assert stored.expires_at - stored.created_at == timedelta(days=30)


async def test_german_documents_state_the_changed_retention(tmp_path: Path) -> None:
    bot = await make_bot(tmp_path, timedelta(days=90))
    t = translator("de")
    record = processing_record(t, bot.record)
    limits = section(record, "f)")
    assert "90 Tage" in limits and "30 Tage" in limits and "180 Tage" not in limits
    assert "90 Tage" in await bot.consent_notice("feedback", "de")
    assert "30 Tage" in await bot.consent_notice("event", "de")
    assert "90 Tage" in bot.privacy("de") and "30 Tage" in bot.privacy("de")


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_same_purposes_recipients_and_controller(tmp_path: Path, locale: str) -> None:
    bot = await make_bot(tmp_path, timedelta(days=180), dpo="dsb@beispiel.de")
    t = translator(locale)
    catalog_purposes = {
        render_text(p.description, t)
        for flow in FlowCatalog.load(tmp_path / "flows").flows.values()
        for p in flow.purposes
    }
    record = processing_record(t, bot.record)
    notice = bot.privacy(locale)
    listed = re.findall(r"^• (.+?): [^:]*\(Art\. 6", notice, flags=re.MULTILINE)
    # and what is kept to prove consent and to carry erasure out again (a DPO's review)
    proof = t.gettext(
        "• Keeping proof of your consents, and a note of each erasure or withdrawal so "
        "that it holds should our data be restored from a backup: to meet our "
        "obligations under the GDPR (Art. 6(1)(c) with Art. 7(1), 17 GDPR)."
    )
    assert set(listed) == catalog_purposes | {proof.removeprefix("• ").split(":")[0]}
    purposes = section(record, "(b)" if locale == "en" else "b)")
    assert all(p in purposes for p in catalog_purposes)
    assert "Art. 6(1)(c)" in purposes or "Art. 6 Abs. 1 lit. c" in purposes
    for flow in bot.record.processing.flows:
        consent = await bot.consent_notice(flow.id, locale)
        assert all(render_text(p.description, t) in consent for p in flow.required_purposes)
        assert all(render_text(p.description, t) in purposes for p in flow.purposes)

    # Recipients: /datenschutz, the data copy and the record list the same ones.
    [receivers] = [b for b in notice.split("\n\n") if b.startswith(t.gettext("Who receives data"))]
    in_notice = receivers.splitlines()[1:]
    person = Person("tg-user:3", 3, locale)
    agree = (await bot.service.start(person)).replies[-1].buttons[0][0]
    await bot.service.press(person, agree.data)
    copy = (await bot.rights.access(person)).replies[1].document
    assert copy is not None
    assert [f"• {r}" for r in json.loads(copy.content)["recipients"]] == in_notice
    names = [render_text(r.name, t) for r in bot.record.processing.recipients]
    assert len(in_notice) == len(names) == 2
    for heading in ("(d)", "(e)") if locale == "en" else ("d)", "e)"):
        assert re.findall(r"^- \*\*(.+?)\*\*", section(record, heading), re.MULTILINE) == names

    # Controller and DPO
    responsible = section(record, "(a)" if locale == "en" else "a)")
    for text in (responsible, notice, await bot.consent_notice("feedback", locale)):
        assert "Beispiel GmbH" in text and "datenschutz@beispiel.de" in text
        assert "dsb@beispiel.de" in text


def test_contact_chat_id_only_under_the_contact_purpose() -> None:
    config = ServiceConfig(
        controller=Controller(name="Beispiel GmbH", contact="datenschutz@beispiel.de"),
        retention=timedelta(days=180),
    )
    processing = config.processing(FlowCatalog.load())
    by_id = {p.id: p for p in processing.purposes}
    assert by_id["contact"].data == (DataCategory.CONSENT_RECORDS, DataCategory.CONTACT_CHAT)
    feedback = by_id["feedback"].data
    assert DataCategory.CONTACT_CHAT not in feedback
    assert {DataCategory.RATINGS, DataCategory.FREE_TEXT} <= set(feedback)
    assert [p.id for p in by_id.values() if DataCategory.CONTACT_CHAT in p.data] == ["contact"]


def test_turning_alerts_on_changes_what_people_agree_to_and_so_the_notice_version(
    tmp_path: Path,
) -> None:
    """A low rating is posted on the survey's own consent: with alerts on, the consent
    request says so, and its new version asks everyone again (DPO review: it did not
    change for a flow without a contact question)."""
    (tmp_path / "event.toml").write_text(EVENT_FLOW, encoding="utf-8")
    catalog = FlowCatalog.load(tmp_path)
    flow = catalog.flows["event"]
    assert not any(step.type == "consent" for step in flow.steps), "no contact question"
    controller = Controller(name="Beispiel GmbH", contact="datenschutz@beispiel.de")
    shown = {}
    for recipients in (DEFAULT_RECIPIENTS, (*DEFAULT_RECIPIENTS, STAFF_CHAT_ALERTS)):
        config = ServiceConfig(
            controller=controller, retention=timedelta(days=180), recipients=recipients
        )
        processing = config.processing(catalog)
        text = consent_notice(flow, translator("en"), processing)
        shown[notice_version(flow, processing)] = text
    [without, with_alerts] = shown.values()
    assert "our staff see this feedback on its own" not in without
    assert "• With a low rating, our staff see this feedback on its own in their Telegram" in (
        with_alerts
    )


def test_the_staff_chat_in_the_record_shows_its_settings_as_code() -> None:
    """Only with a staff chat set: its description came out as \\`FEEDBACKBOT\\_STAFF...\\`,
    literal backslashes in the document handed to the DPO (operator audit)."""
    config = ServiceConfig(
        controller=Controller(name="Beispiel_GmbH *", contact="datenschutz@beispiel.de"),
        retention=timedelta(days=180),
        recipients=(*DEFAULT_RECIPIENTS, STAFF_CHAT_ALERTS),
    )
    record = ProcessingRecord(
        config.processing(FlowCatalog.load()),
        Operations(
            purge_interval=timedelta(hours=1),
            min_group_size=5,
            staff_members=1,
            audit_retention=timedelta(days=1461),
        ),
    )
    text = processing_record(translator("en"), record)
    assert "**Staff chat**: The staff chat (`FEEDBACKBOT_STAFF_CHAT_ID`): scheduled" in text
    assert "\\`" not in text
    # What an alert shows: every rating and the options chosen (DPO review: "the ratings").
    assert "an alert with all its ratings, the options chosen and the redacted comments" in text


def test_an_optional_purpose_no_step_asks_for_is_left_out_of_the_notices(tmp_path: Path) -> None:
    """Declared, but no consent step asks for it: the record said it was asked during
    the flow, the privacy notice listed it; `check` warns of it."""
    unasked = EVENT_FLOW.replace(
        "\n[[steps]]",
        '\n[[purposes]]\nid = "newsletter"\ndescription = { de = "Newsletter", en = "Newsletter" }'
        "\n\n[[steps]]",
        1,
    )
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "event.toml").write_text(unasked, encoding="utf-8")
    catalog = FlowCatalog.load(flows)
    assert [p.id for p in catalog.flows["event"].purposes] == ["event_feedback", "newsletter"]
    config = ServiceConfig(
        controller=Controller(name="Beispiel GmbH", contact="datenschutz@beispiel.de"),
        retention=timedelta(days=180),
    )
    processing = config.processing(catalog)
    assert "newsletter" not in {p.id for p in processing.purposes}
    assert "event_feedback" in {p.id for p in processing.purposes}


@pytest.mark.parametrize("locale", ["de", "en"])
def test_record_states_the_configured_measures_and_staff(locale: str) -> None:
    config = ServiceConfig(
        controller=Controller(name="Beispiel GmbH", contact="datenschutz@beispiel.de"),
        retention=timedelta(days=180),
    )
    processing = config.processing(FlowCatalog.load())
    t = translator(locale)
    staffed = processing_record(
        t,
        ProcessingRecord(
            processing,
            Operations(
                purge_interval=timedelta(hours=6),
                min_group_size=7,
                staff_members=2,
                audit_retention=timedelta(days=730),
            ),
        ),
    )
    measures = section(staffed, "(g)" if locale == "en" else "g)")
    assert t.duration(timedelta(hours=6)) in measures and " 7 " in measures
    assert "AES-256-GCM" in measures and "HMAC-SHA256" in measures
    assert "`FEEDBACKBOT_STAFF_IDS`" in measures
    assert ("(derzeit 2)" if locale == "de" else "(currently 2)") in measures
    subjects = section(staffed, "(c)" if locale == "en" else "c)")
    assert subjects.count("\n- ") >= 2 + len(processing.purposes)
    alone = processing_record(
        t,
        ProcessingRecord(
            processing,
            Operations(
                purge_interval=timedelta(hours=1),
                min_group_size=5,
                staff_members=0,
                audit_retention=timedelta(days=1095),
            ),
        ),
    )
    assert alone.count("FEEDBACKBOT_STAFF_IDS") < staffed.count("FEEDBACKBOT_STAFF_IDS")


async def test_a_contact_kept_without_a_language_is_told_so(tmp_path: Path) -> None:
    """Stores before the contact language kept the chat alone: its retention sentence
    names no language (review)."""
    bot = await make_bot(tmp_path, timedelta(days=180))
    person = Person("tg-user:5", 5, "en")
    pseudonym = bot.store.pseudonym(person.subject)
    grants = [
        ConsentGrant(
            purpose=p, notice_version="v", text_sha256="a" * 64, method="t", granted_at=NOW
        )
        for p in ("feedback", "contact")
    ]
    answers = {"rating": 4}
    new = NewFeedback(
        flow_id="feedback",
        answers=answers,
        purposes=["feedback", "contact"],
        created_at=NOW,
        expires_at=NOW + timedelta(days=180),
    )
    await bot.store.submit_feedback(pseudonym, new, grants, contact_chat_id=5)
    summary = (await bot.rights.access(person)).replies[0].text
    assert "The chat to write to is deleted when you withdraw" in summary
    assert "the language to write in" not in summary


def test_the_consent_request_names_the_options_chosen_only_where_an_alert_shows_some(
    tmp_path: Path,
) -> None:
    """An alert shows the options chosen for the survey, not those chosen for an optional
    purpose (found by review: the request named them for a survey whose only choice was
    asked for a follow-up)."""
    choice = (
        '\n[[steps]]\nid = "topic"\ntype = "choice"{purpose}\n'
        'prompt = { de = "Worum?", en = "About?" }\noptions = [\n'
        '  { id = "food", label = { de = "Essen", en = "Food" } },\n'
        '  { id = "staff", label = { de = "Personal", en = "Staff" } },\n]\n'
    )
    optional = (
        '\n[[purposes]]\nid = "followup"\nlabel = { de = "Rückfrage", en = "Follow-up" }\n'
        'description = { de = "Rückfragen", en = "Following up" }\n'
        '\n[[steps]]\nid = "ask"\ntype = "consent"\npurpose = "followup"\n'
        'prompt = { de = "Darf ich?", en = "May I?" }\n'
    )
    head, thanks = EVENT_FLOW.split('\n[[steps]]\nid = "thanks"')
    controller = Controller(name="Beispiel GmbH", contact="datenschutz@beispiel.de")
    config = ServiceConfig(
        controller=controller,
        retention=timedelta(days=180),
        recipients=(*DEFAULT_RECIPIENTS, STAFF_CHAT_ALERTS),
    )
    shown = {}
    for kind, purpose in (("survey", ""), ("follow-up", '\npurpose = "followup"')):
        flows = tmp_path / kind
        flows.mkdir()
        purposes, steps = head.split("\n[[steps]]", 1)
        text = (
            purposes
            + (optional if purpose else "")
            + "\n[[steps]]"
            + steps
            + choice.replace("{purpose}", purpose)
            + '\n[[steps]]\nid = "thanks"'
            + thanks
        )
        (flows / "event.toml").write_text(text, encoding="utf-8")
        catalog = FlowCatalog.load(flows)
        shown[kind] = consent_notice(
            catalog.flows["event"], translator("en"), config.processing(catalog)
        )
    assert "your ratings, the options you chose and your comments" in shown["survey"]
    assert "chat: your ratings and comments, with e-mail" in shown["follow-up"]
