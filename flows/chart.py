"""A PNG chart of ratings per day, rendered headless with Pillow."""

from __future__ import annotations

import io
import math
from collections import Counter
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
    # Every n-th day gets a date label, so that neighbouring labels never run into each other.
    widest_label = max((font.getlength(t.short_date(day)) for day in days), default=0.0)
    label_every = max(1, len(days) // 10, math.ceil((widest_label + LABEL_GAP) / slot))
    label_free_from = 0.0  # where the next date label may start
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
        if index % label_every == 0:
            label = t.short_date(day)
            width = font.getlength(label)
            # The last labels move left to stay in the picture, or are left out if they can't.
            x = min(x0, WIDTH - 2 - width)
            if x >= label_free_from:
                draw.text((x, bottom + 8), label, fill=TEXT, font=font)
                label_free_from = x + width + LABEL_GAP
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
