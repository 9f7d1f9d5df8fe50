"""The recipients file: whatever is wrong with it is one RecipientsError naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.catalog import FlowCatalog
from flows.sharing import RecipientsError, load_recipients


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'recipients = [{ id = "crm", url = "https://crm.example/\xfc" }]\n', "utf-8"),
        (b"recipients = " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b"recipients = [", "recipients.toml"),
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


def test_an_empty_recipients_file_means_no_recipients(tmp_path: Path) -> None:
    path = tmp_path / "recipients.toml"
    path.write_text("\ufeff# nobody yet\n")
    assert load_recipients(path, FlowCatalog.load()) == []
