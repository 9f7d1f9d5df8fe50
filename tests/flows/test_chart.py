"""The ratings chart draws German text with the shipped font: umlauts as letters, not boxes."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta
from itertools import pairwise

import pytest
from PIL import Image, ImageDraw

from flows.chart import (
    BACKGROUND,
    HEIGHT,
    LABEL_GAP,
    LABEL_SIZE,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_TOP,
    TEXT,
    TITLE_SIZE,
    WIDTH,
    Font,
    chart_font,
    label_places,
    ratings_chart,
)
from flows.i18n import translator

DE = translator("de")
START = date(2026, 11, 1)
# What German and English texts use beyond ASCII; all of it must be in the shipped subset.
NEEDED = "äöüÄÖÜßéèà–—„“”‘’‚…•€«»·°"
NOT_A_CHARACTER = "\uffff"  # in no font's cmap: drawn with the missing-glyph box (.notdef)


def drawn(font: Font, text: str) -> Image.Image:
    """`text` drawn white on black, at a fixed origin so that two drawings compare."""
    image = Image.new("L", (80, 60), 0)
    ImageDraw.Draw(image).text((20, 10), text, fill=255, font=font)
    return image


def per_day(days: int) -> dict[date, Counter[int]]:
    return {START + timedelta(days=n): Counter({1 + n % 5: 3, 4: n % 3}) for n in range(days)}


def png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


@pytest.mark.parametrize("size", [LABEL_SIZE, TITLE_SIZE])
def test_the_chart_font_is_the_shipped_dejavu_subset_read_once(size: int) -> None:
    font = chart_font(size)
    assert font.getname() == ("DejaVu Sans", "Book")
    assert chart_font(size) is font


@pytest.mark.parametrize("size", [LABEL_SIZE, TITLE_SIZE])
@pytest.mark.parametrize("character", NEEDED)
def test_german_letters_and_punctuation_are_glyphs_not_the_missing_glyph_box(
    size: int, character: str
) -> None:
    font = chart_font(size)
    box = drawn(font, NOT_A_CHARACTER)
    glyph = drawn(font, character)
    assert glyph.getbbox() is not None, "no ink at all"
    assert glyph.tobytes() != box.tobytes(), f"{character!r} is drawn as the missing-glyph box"


@pytest.mark.parametrize("size", [LABEL_SIZE, TITLE_SIZE])
def test_u_umlaut_is_the_u_with_dots_above_it(size: int) -> None:
    font = chart_font(size)
    u, umlaut = drawn(font, "u"), drawn(font, "ü")
    u_box, umlaut_box = u.getbbox(), umlaut.getbbox()
    assert u_box is not None and umlaut_box is not None
    left, x_height, right, baseline = u_box
    # Ink above the x-height (the dots), and the same letter below it.
    assert umlaut_box[1] < x_height - 1
    assert umlaut.crop((0, x_height, 80, 60)).tobytes() == u.crop((0, x_height, 80, 60)).tobytes()
    assert umlaut_box[2] - umlaut_box[0] <= right - left + 1
    assert umlaut_box[3] == baseline


def test_a_missing_font_file_falls_back_to_pillows_default_font() -> None:
    font = chart_font(LABEL_SIZE, "no-such-font.ttf")
    assert drawn(font, "u").getbbox() is not None


@pytest.mark.parametrize(
    ("together", "title"),
    [
        (
            False,
            "Durchschnittliche Bewertung je Gruppe von Tagen, an ihrem letzten Tag "
            "(Anzahl über dem Balken)",
        ),
        (
            True,
            "Durchschnitt aller Fragen mit Skala 1–5 je Gruppe von Tagen, an ihrem letzten Tag "
            "(Anzahl über dem Balken)",
        ),
    ],
)
def test_the_german_title_is_drawn_with_the_shipped_font(together: bool, title: str) -> None:
    """Also when the bars average several questions, which the title then says."""
    end = START + timedelta(days=6)
    chart = png(ratings_chart(DE, per_day(7), START, end, 3, together=together))
    expected = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    ImageDraw.Draw(expected).text((MARGIN_LEFT, 15), title, fill=TEXT, font=chart_font(TITLE_SIZE))
    band = (0, 0, WIDTH, MARGIN_TOP - 16)  # above the highest possible count over a bar
    assert chart.crop(band).getbbox() is not None
    assert chart.crop(band).tobytes() == expected.crop(band).tobytes()


@pytest.mark.parametrize("days", [7, 14, 19, 31, 90])
def test_date_labels_do_not_run_into_each_other(days: int) -> None:
    chart = png(ratings_chart(DE, per_day(days), START, START + timedelta(days=days - 1), 3))
    bottom = HEIGHT - MARGIN_BOTTOM
    strip = chart.crop((0, bottom + 2, WIDTH, HEIGHT)).convert("L")
    inked = [any(strip.getpixel((x, y)) != 255 for y in range(strip.height)) for x in range(WIDTH)]
    labels: list[list[int]] = []  # [first, last] inked column of each label
    for x, ink in enumerate(inked):
        if not ink:
            continue
        if labels and x - labels[-1][1] <= LABEL_GAP // 2:
            labels[-1][1] = x
        else:
            labels.append([x, x])
    widest = max(
        chart_font(LABEL_SIZE).getlength(DE.short_date(START + timedelta(n))) for n in range(days)
    )
    assert len(labels) >= min(days, 5)
    assert all(last - first <= widest for first, last in labels), labels
    assert labels[-1][1] < WIDTH - 2, "the last label runs off the edge"


@pytest.mark.parametrize("days", [1, 7, 14, 19, 31, 90])
def test_a_date_label_stands_under_its_own_day(days: int) -> None:
    """Found by review: a label began at its day's left edge and, two days wide, stood
    as much under the bar of the day before; the 29 Nov bar read as 28 Nov."""
    font = chart_font(LABEL_SIZE)
    labels = [DE.short_date(START + timedelta(n)) for n in range(days)]
    slot = (WIDTH - MARGIN_LEFT - 20) / days
    places = label_places(labels, font.getlength, MARGIN_LEFT, slot)
    assert places and places[0][0] == 0
    for index, x, label in places:
        middle = x + font.getlength(label) / 2
        if MARGIN_LEFT - LABEL_GAP / 2 < x < WIDTH - 3 - font.getlength(label):  # not moved in
            assert abs(middle - (MARGIN_LEFT + (index + 0.5) * slot)) < 1, (index, label)
        assert label == labels[index]
    for (_, x, label), (_, after, _) in pairwise(places):
        assert x + font.getlength(label) + LABEL_GAP <= after
