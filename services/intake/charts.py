"""Charts drawn on the server as SVG: no script, no font or library fetched by the browser."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

FONT = "font-family=\"'WenQuanYi Micro Hei','Microsoft YaHei','Noto Sans CJK SC',sans-serif\""
BAR = "#b91c1c"
WIDEST_LABEL = 220  # px of a bar chart's labels at most: a longer label goes on two lines


def text_width(text: str, size: float) -> float:
    """About how wide `text` is drawn at `size` px: a Chinese character takes a full em, a Latin letter
    or digit about 0.55 of one."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.55 * size for ch in text)


def lines(text: str, width: float, size: float) -> list[str]:
    """`text` on one line, or on two split between words when it is wider than `width` px (the second
    shortened with an ellipsis if it is still too wide)."""
    if text_width(text, size) <= width or " " not in text:
        return [fitted(text, width, size)]
    words = text.split(" ")
    first = words.pop(0)
    while words and text_width(f"{first} {words[0]}", size) <= width:
        first = f"{first} {words.pop(0)}"
    return [fitted(first, width, size), fitted(" ".join(words), width, size)] if words else [first]


def fitted(text: str, width: float, size: float) -> str:
    """`text`, shortened with an ellipsis when it would be drawn wider than `width` px."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def hbars(
    items: Sequence[tuple[str, float | None]],
    title: str,
    maximum: float = 100.0,
    highlight: str = "",
    label_width: int = 130,
) -> Markup:
    """Horizontal bars, one per labelled value; `highlight` marks one label. The labels' column is as
    wide as the longest label needs (at least `label_width`, at most WIDEST_LABEL px)."""
    row, width, size = 24, 300, 12
    left = round(min(WIDEST_LABEL, max([label_width, *(text_width(label, size) + 10 for label, _ in items)])))
    height = row * len(items) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 60} {height}" role="img" '
        f'aria-label="{escape(title)}" {FONT} font-size="{size}">'
    ]
    for i, (label, value) in enumerate(items):
        y = 20 + i * row
        length = 0 if value is None else max(0.0, min(value, maximum)) / maximum * width
        colour = "#1d4ed8" if label == highlight else BAR
        parts.append(_label(label, left - 6, y + 12, left - 10, size))
        parts.append(
            f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{row - 8}" fill="{colour}" rx="2"/>'
            f'<text x="{left + length + 4:.1f}" y="{y + 12}">{"—" if value is None else f"{round(value, 1):g}"}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _label(label: str, right: float, baseline: float, width: float, size: float) -> str:
    """A bar's label ending at `right`: on two smaller lines when one would not fit, shortened (and
    whole on hover) when two would not either."""
    shown, font = lines(label, width, size), size
    if len(shown) == 2:
        font = size - 1
        shown = lines(label, width, font)
    whole = f"<title>{escape(label)}</title>" if " ".join(shown) != label else ""
    smaller = f' font-size="{font}"' if font != size else ""
    start = f'<text x="{right}" y="{baseline}" text-anchor="end"{smaller}>{whole}'
    if len(shown) == 1:
        return f"{start}{escape(shown[0])}</text>"
    return (
        f'{start}<tspan x="{right}" dy="-0.45em">{escape(shown[0])}</tspan>'
        f'<tspan x="{right}" dy="1.1em">{escape(shown[1])}</tspan></text>'
    )


def columns(items: Sequence[tuple[str, float]], title: str) -> Markup:
    """Vertical columns, such as a histogram of scores or counts by rule."""
    width, height, base = 44, 160, 180
    items = list(items) + [("", 0.0)] * max(0, 10 - len(items))  # a few columns never fill the width
    top = max([v for _, v in items] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width * len(items) + 20} {base + 40}" '
        f'role="img" aria-label="{escape(title)}" {FONT} font-size="11">',
        f'<line x1="10" y1="{base}" x2="{width * len(items) + 10}" y2="{base}" stroke="#9ca3af"/>',
    ]
    for i, (label, value) in enumerate(items):
        if not label:
            continue
        h = value / top * height
        x = 14 + i * width
        parts.append(
            f'<rect x="{x}" y="{base - h:.1f}" width="{width - 8}" height="{h:.1f}" fill="{BAR}" rx="2"/>'
            f'<text x="{x + (width - 8) / 2}" y="{base - h - 4:.1f}" text-anchor="middle">{value:g}</text>'
            f'<text x="{x + (width - 8) / 2}" y="{base + 14}" text-anchor="middle">{escape(label[:8])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def histogram(scores: Sequence[float], step: int = 10) -> list[tuple[str, float]]:
    buckets = [0] * (100 // step)
    for score in scores:
        buckets[min(int(score // step), len(buckets) - 1)] += 1
    return [(f"{i * step}-{i * step + step}", n) for i, n in enumerate(buckets)]


def line(points: Sequence[tuple[str, float | None]], title: str, maximum: float = 100.0) -> Markup:
    """A line across rounds; missing values leave a gap."""
    step, height, base = 90, 140, 160
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {step * max(len(points), 6) + 40} {base + 30}" '
        f'role="img" aria-label="{escape(title)}" {FONT} font-size="11">',
        f'<line x1="20" y1="{base}" x2="{step * len(points) + 20}" y2="{base}" stroke="#9ca3af"/>',
    ]
    coords = []
    for i, (label, value) in enumerate(points):
        x = 40 + i * step
        parts.append(f'<text x="{x}" y="{base + 16}" text-anchor="middle">{escape(label)}</text>')
        if value is not None:
            y = base - min(value, maximum) / maximum * height
            coords.append(f"{x},{y:.1f}")
            parts.append(
                f'<circle cx="{x}" cy="{y:.1f}" r="4" fill="{BAR}"/>'
                f'<text x="{x}" y="{y - 8:.1f}" text-anchor="middle">{value:.1f}</text>'
            )
    if len(coords) > 1:
        parts.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="{BAR}" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
