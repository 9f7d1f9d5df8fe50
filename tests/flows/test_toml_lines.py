"""Line numbers of TOML values, which `feedbackbot check` shows with every problem."""

from __future__ import annotations

from flows.toml_lines import TomlLines

TEXT = '''\
id = "t"  # a comment with "quotes" and [brackets]
intro = """several
lines with = and [[steps]] inside
"""

[[steps]]
id = "a"
next = [
  { if = "a <= 2", goto = "b" },
  { goto = "c" },
]

[[steps.options]]
id = "first"

[[steps.options]]
id = "second"
label = { de = 'ein "Zitat"', en = "a \\"quote\\"" }

[[steps]]
id = "b"
options = [{ id = "x" }, { id = "y" }]
'''


def test_lines_of_tables_keys_and_inline_values() -> None:
    lines = TomlLines(TEXT)
    assert lines.line(("id",)) == 1
    assert lines.line(("intro",)) == 2
    assert lines.line(("steps", 0)) == 6
    assert lines.line(("steps", 0, "next", 0, "goto")) == 9
    assert lines.line(("steps", 0, "next", 1, "goto")) == 10
    assert lines.line(("steps", 0, "options", 1, "id")) == 17
    assert lines.line(("steps", 0, "options", 1, "label", "en")) == 18
    assert lines.line(("steps", 1)) == 20
    assert lines.line(("steps", 1, "options", 1, "id")) == 22


def test_an_unknown_path_falls_back_to_what_encloses_it() -> None:
    lines = TomlLines(TEXT)
    assert lines.line(("steps", 1, "prompt")) == 20
    assert lines.line(("purposes", 0)) == 1


def test_a_text_cut_short_still_gives_what_was_found() -> None:
    lines = TomlLines('id = "t"\n[[steps]]\nid = "a"\nnext = [{ goto = "b"')
    assert lines.line(("steps", 0, "id")) == 3
