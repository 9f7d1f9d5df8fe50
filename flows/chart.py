"""A PNG chart of ratings per day, rendered headless with Pillow."""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

from flows.i18n import Translator

WIDTH, HEIGHT = 900, 420
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60, 20, 50, 60
BACKGROUND, AXIS, BAR, TEXT = "white", "#555555", "#3b7dd8", "#222222"
# DejaVu Sans cut down to Latin-1, Latin Extended-A, dashes, quotes and € (flows/fonts/README.md):
# Pillow's own default font has no ä, ö, ü or ß and draws boxes for them.
FONT_FILE = "DejaVuSans-subset.ttf"
TITLE_SIZE, LABEL_SIZE = 14, 11
LABEL_GAP = 8  # pixels at least between two date labels

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def chart_font(size: int, name: str = FONT_FILE) -> Font:
    """The shipped font `name` at `size` pixels, read once per size from the installed package.

    Falls back to Pillow's default font (ASCII only) if the file is missing, so that a broken
    install still draws a chart, only with boxes for umlauts.
    """
    try:
        data = resources.files("flows.fonts").joinpath(name).read_bytes()
    except FileNotFoundError:
        return ImageFont.load_default()
    return ImageFont.truetype(io.BytesIO(data), size)


def ratings_chart(
    t: Translator,
    per_day: dict[date, Counter[int]],
    start: date,
    end: date,
    k: int,
    scale_max: int = 5,
    together: bool = False,
) -> bytes:
    """Bars of the average rating per day from `start` to `end` (inclusive), with counts;
    `together` says that they are of several questions.

    A day with fewer than `k` ratings gets no bar, only a "<k" mark, so that no single
    person's rating can be read off the chart.
    """
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = chart_font(LABEL_SIZE)
    if together:
        title = t.gettext(
            "Average of all 1–5 questions per group of days, on its last day (ratings above "
            "each bar)"
        )
    else:
        title = t.gettext(
            "Average rating per group of days, on its last day (ratings above each bar)"
        )
    draw.text((MARGIN_LEFT, 15), title, fill=TEXT, font=chart_font(TITLE_SIZE))
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    bottom = MARGIN_TOP + plot_h
    draw.line((MARGIN_LEFT, MARGIN_TOP, MARGIN_LEFT, bottom), fill=AXIS)
    draw.line((MARGIN_LEFT, bottom, WIDTH - MARGIN_RIGHT, bottom), fill=AXIS)
    for level in range(0, scale_max + 1):
        y = bottom - plot_h * level / scale_max
        draw.line((MARGIN_LEFT - 4, y, MARGIN_LEFT, y), fill=AXIS)
        draw.text((MARGIN_LEFT - 20, y - 6), str(level), fill=TEXT, font=font)
    slot = plot_w / max(1, len(days))
    labels = {
        index: (x, label)
        for index, x, label in label_places(
            [t.short_date(day) for day in days], font.getlength, MARGIN_LEFT, slot
        )
    }
    for index, day in enumerate(days):
        x0 = MARGIN_LEFT + index * slot + slot * 0.15
        x1 = MARGIN_LEFT + (index + 1) * slot - slot * 0.15
        counts = per_day.get(day, Counter())
        answers = sum(counts.values())
        if 0 < answers < k:
            draw.text((x0, bottom - 16), f"<{k}", fill=AXIS, font=font)
        elif answers:
            average = sum(v * n for v, n in counts.items()) / answers
            top = bottom - plot_h * average / scale_max
            draw.rectangle((x0, top, x1, bottom - 1), fill=BAR)
            draw.text((x0, top - 14), str(answers), fill=TEXT, font=font)
        if index in labels:
            x, label = labels[index]
            middle = MARGIN_LEFT + (index + 0.5) * slot
            draw.line((middle, bottom, middle, bottom + 4), fill=AXIS)  # the day's tick
            draw.text((x, bottom + 8), label, fill=TEXT, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def label_places(
    labels: list[str], width_of: Callable[[str], float], left: float, slot: float
) -> list[tuple[int, float, str]]:
    """(index, x, label) of the date labels drawn under days of `slot` pixels from
    `left`: every n-th day, so that neighbouring labels never run into each other, each
    centred under its day (found by review: starting at its day's left edge, a label
    about two days wide stood under the bar of the day before as much as under its
    own; a tick marks the day), moved in to stay in the picture and clear of the
    scale's numbers left of `left`, or left out where it would run into the one before."""
    widest = max((width_of(label) for label in labels), default=0.0)
    every = max(1, len(labels) // 10, math.ceil((widest + LABEL_GAP) / slot))
    places = []
    free_from = 0.0  # where the next label may start
    for index in range(0, len(labels), every):
        label = labels[index]
        width = width_of(label)
        middle = left + (index + 0.5) * slot
        x = min(max(left - LABEL_GAP / 2, middle - width / 2), WIDTH - 2 - width)
        if x >= free_from:
            places.append((index, x, label))
            free_from = x + width + LABEL_GAP
    return places
