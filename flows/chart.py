"""A PNG chart of ratings per day, rendered headless with Pillow."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta

from PIL import Image, ImageDraw, ImageFont

from flows.i18n import Translator

WIDTH, HEIGHT = 900, 420
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60, 20, 50, 60
BACKGROUND, AXIS, BAR, TEXT = "white", "#555555", "#3b7dd8", "#222222"


def ratings_chart(
    t: Translator,
    per_day: dict[date, Counter[int]],
    start: date,
    end: date,
    k: int,
    scale_max: int = 5,
) -> bytes:
    """Bars of the average rating per day from `start` to `end` (inclusive), with counts.

    A day with fewer than `k` ratings gets no bar, only a "<k" mark, so that no single
    person's rating can be read off the chart.
    """
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    title = t.gettext("Average rating per day (number of ratings above each bar)")
    draw.text((MARGIN_LEFT, 15), title, fill=TEXT, font=font)
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
    label_every = max(1, len(days) // 10)
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
            draw.text((x0, bottom + 8), t.short_date(day), fill=TEXT, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
