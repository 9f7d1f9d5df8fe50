"""A Babel extractor for flow definitions, so `pybabel extract` finds their catalog message ids.

Texts given per language inline ({de = ..., en = ...}) are not catalog entries and are skipped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

TEXT_KEYS = {"title", "intro", "description", "prompt", "label", "low_label", "high_label"}


def extract_flow_toml(
    fileobj: BinaryIO, keywords: object, comment_tags: object, options: Mapping[str, Any]
) -> Iterator[tuple[int, str, str, list[str]]]:
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()
    for message in _messages(tomllib.loads(text)):
        lineno = next((i + 1 for i, line in enumerate(lines) if message in line), 0)
        yield lineno, "gettext", message, []


def _messages(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                yield value
            else:
                yield from _messages(value)
    elif isinstance(node, list):
        for item in node:
            yield from _messages(item)
