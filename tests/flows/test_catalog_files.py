"""Which catalog file the translations come from: a .po edited after its .mo was
compiled (a checkout mid-edit) is the one read, for what is said and for what `check`
counts as translated alike."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from flows import i18n
from flows.i18n import translator


@pytest.fixture
def locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A `locales` package of its own, the caches cleared before and after."""
    folder = tmp_path / "locales" / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    monkeypatch.setattr(i18n.resources, "files", lambda package: tmp_path / package)
    i18n._translations.cache_clear()
    i18n._translated_ids.cache_clear()
    yield folder
    i18n._translations.cache_clear()
    i18n._translated_ids.cache_clear()


def _write(folder: Path, entries: dict[str, str], mtime: int) -> None:
    catalog = Catalog(locale="en")
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    (folder / "messages.mo").write_bytes(buffer.getvalue())
    os.utime(folder / "messages.mo", (mtime, mtime))


def test_a_po_edited_after_the_mo_is_read_for_knows_as_for_gettext(locales: Path) -> None:
    _write(locales, {"Old": "Old"}, mtime=1_000_000)
    catalog = Catalog(locale="en")
    catalog.add("Old", "Old")
    catalog.add("New message", "New message, translated")
    with open(locales / "messages.po", "wb") as po:
        write_po(po, catalog)
    os.utime(locales / "messages.po", (2_000_000, 2_000_000))
    english = translator("en")
    assert english.gettext("New message") == "New message, translated"
    assert english.knows("New message"), "check counted it untranslated (read the old .mo)"
    os.utime(locales / "messages.po", (500_000, 500_000))  # compiled since: the .mo
    i18n._translations.cache_clear()
    i18n._translated_ids.cache_clear()
    assert english.gettext("New message") == "New message"
    assert not english.knows("New message") and english.knows("Old")
