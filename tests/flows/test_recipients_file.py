"""The recipients file: whatever is wrong with it is one RecipientsError naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.catalog import FlowCatalog
from flows.sharing import RecipientsError, load_recipients


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'recipients = [{ url = "https://crm.example/\xfc" }]\n', "not UTF-8 text (line 1)"),
        (b"recipients = " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b"recipients = [", "not valid TOML"),
    ],
)
def test_an_unreadable_recipients_file_is_one_error_naming_it(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "recipients.toml"
    path.write_bytes(content)
    with pytest.raises(RecipientsError) as caught:
        load_recipients(path, FlowCatalog.load())
    assert str(caught.value).startswith(str(path)) and says in str(caught.value)


def test_a_missing_recipients_file_is_named_once(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(RecipientsError) as caught:
        load_recipients(path, FlowCatalog.load())
    assert str(caught.value) == f"cannot read {path}: no such file or folder"


def test_an_empty_recipients_file_means_no_recipients(tmp_path: Path) -> None:
    path = tmp_path / "recipients.toml"
    path.write_text("\ufeff# nobody yet\n")
    assert load_recipients(path, FlowCatalog.load()) == []


GOOD = """
[[recipients]]
id = "crm"
name = "CRM"
url = "{url}"
secret = "{secret}"
internal = true
fields = {fields}
"""


def recipients_file(tmp_path: Path, **values: str) -> Path:
    given = {"url": "https://crm.example/hook", "secret": "s" * 16, "fields": '["rating"]'}
    path = tmp_path / "recipients.toml"
    path.write_text(GOOD.format(**{**given, **values}))
    return path


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"url": "http://crm.example/hook"}, "would send feedback unencrypted"),
        ({"url": "ftp://crm.example/hook"}, "is not an https:// URL"),
        ({"secret": "kurz"}, "recipient 'crm': secret: use at least 16 characters"),
        ({"fields": '["ratin"]'}, "lists fields no flow has: ratin"),
        # A consent step's answer is a consent, not feedback; a thanks step has none.
        ({"fields": '["rating", "contact"]'}, "lists fields no flow has: contact"),
        ({"fields": '["thanks"]'}, "lists fields no flow has: thanks"),
    ],
)
def test_a_recipient_that_would_leak_or_miss_data_is_refused(
    tmp_path: Path, values: dict[str, str], says: str
) -> None:
    with pytest.raises(RecipientsError) as caught:
        load_recipients(recipients_file(tmp_path, **values), FlowCatalog.load())
    assert says in str(caught.value)
    assert "kurz" not in str(caught.value), "never the secret itself"


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    path = recipients_file(tmp_path)
    path.write_text(path.read_text() + "retries = 3\n")
    with pytest.raises(RecipientsError, match="recipient 'crm': unknown key 'retries'"):
        load_recipients(path, FlowCatalog.load())


def test_plain_http_to_this_machine_is_allowed(tmp_path: Path) -> None:
    path = recipients_file(tmp_path, url="http://127.0.0.1:8080/hook")
    [recipient] = load_recipients(path, FlowCatalog.load())
    assert recipient.url == "http://127.0.0.1:8080/hook"


def test_free_text_of_a_flow_no_longer_loaded_is_redacted_all_the_same(tmp_path: Path) -> None:
    """A delivery kept over a restart whose flow was removed meanwhile: which answers are
    free text is unknown, so all are redacted (the comment went out in clear before)."""
    from datetime import UTC, datetime, timedelta

    from flows.sharing import feedback_payload
    from storage.interface import FeedbackRecord

    [crm] = load_recipients(
        recipients_file(tmp_path, fields='["rating", "comment"]'), FlowCatalog.load()
    )
    given = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    record = FeedbackRecord(
        id="f1",
        flow_id="removed-meanwhile",
        answers={"rating": 2, "comment": "Bitte melden: erika@example.org, Bestellung 4711123"},
        purposes=["feedback"],
        created_at=given,
        expires_at=given + timedelta(days=180),
    )
    payload = feedback_payload(crm, record, FlowCatalog.load(), "de")
    assert payload["answers"] == {
        "rating": 2,
        "comment": "Bitte melden: [E-Mail], Bestellung [Nummer]",
    }
    assert payload["delete_by"] == "2027-05-28T00:00:00+00:00"


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [("²", "sha256=x"), ("9" * 5000, "sha256=x"), ("{now}", "sha256=ä"), ("", ""), ("-5", "x")],
)
def test_verify_refuses_a_forged_header_instead_of_raising(timestamp: str, signature: str) -> None:
    from datetime import UTC, datetime

    from flows.sharing import verify

    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    stamp = timestamp.replace("{now}", str(int(now.timestamp())))
    assert verify("s" * 16, stamp, b"{}", signature, now) is False


def test_wrong_kinds_of_values_are_said_in_the_operators_language(tmp_path: Path) -> None:
    """pydantic's own English ("String should have at least 1 character") reached a
    German operator."""
    from flows.i18n import translator

    path = recipients_file(tmp_path, fields='"rating"')
    path.write_text(path.read_text().replace('id = "crm"', 'id = "Crm-1"'))
    with pytest.raises(RecipientsError) as caught:
        load_recipients(path, FlowCatalog.load(), translator("de"))
    said = str(caught.value)
    assert "Empfänger 'Crm-1': 'fields' muss eine Liste sein: [ ... ]" in said, said
    assert "'id' muss mit einem Kleinbuchstaben beginnen" in said, said
    assert "should" not in said


def test_a_url_is_repeated_without_its_path_or_user_part(tmp_path: Path) -> None:
    """Webhook URLs often carry a token in the path (or a password before the host);
    the error went to stderr and the service journal with all of it."""
    url = "http://user:geheim@crm.example/hook/t0ken-123"
    with pytest.raises(RecipientsError) as caught:
        load_recipients(recipients_file(tmp_path, url=url), FlowCatalog.load())
    said = str(caught.value)
    assert "crm.example" in said and "would send feedback unencrypted" in said
    assert "geheim" not in said and "t0ken" not in said and "user" not in said


def test_a_list_entry_is_named_by_its_list_and_position(tmp_path: Path) -> None:
    path = recipients_file(tmp_path, fields='["rating", 5]')
    with pytest.raises(RecipientsError) as caught:
        load_recipients(path, FlowCatalog.load())
    assert "'fields[2]' must be a text in quotes" in str(caught.value)


def test_an_answer_collected_for_an_optional_purpose_goes_to_its_recipients_only(
    tmp_path: Path,
) -> None:
    """Withdrawing that consent erases the answer: a copy at the CRM would outlive it."""
    from flows.catalog import load_flow
    from tests.flows.test_summary import FOLLOWUP_FLOW

    catalog = FlowCatalog(flows={**FlowCatalog.load().flows, "callback": FOLLOWUP_FLOW})
    with pytest.raises(RecipientsError) as caught:
        load_recipients(recipients_file(tmp_path, fields='["rating", "issue"]'), catalog)
    assert str(caught.value).endswith(
        "recipient 'crm' lists field 'issue', which is collected for the optional purpose "
        "'followup' alone; only a recipient of that purpose may receive it"
    )
    # Another flow asking "issue" under its required purpose: that flow's answer may go.
    other = load_flow(
        """
id = "repair"
title = "Repair"
intro = "Hi"
[[purposes]]
id = "repair_feedback"
required = true
description = "Repair feedback"
[[steps]]
id = "issue"
type = "text"
prompt = "What was it about?"
[[steps]]
id = "bye"
type = "thanks"
prompt = "Bye"
""",
        "repair.toml",
    )
    both = FlowCatalog(flows={**catalog.flows, "repair": other})
    [crm] = load_recipients(recipients_file(tmp_path, fields='["rating", "issue"]'), both)
    assert crm.fields == ["rating", "issue"]
