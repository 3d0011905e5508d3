"""Charts drawn on the server as SVG: no script, no font or library fetched by the browser."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

FONT = "font-family=\"'WenQuanYi Micro Hei','Microsoft YaHei','Noto Sans CJK SC',sans-serif\""
BAR = "#b91c1c"


def hbars(
    items: Sequence[tuple[str, float | None]],
    title: str,
    maximum: float = 100.0,
    highlight: str = "",
    label_width: int = 130,
) -> Markup:
    """Horizontal bars, one per labelled value; `highlight` marks one label."""
    row, left, width = 24, label_width, 300
    height = row * len(items) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 60} {height}" role="img" '
        f'aria-label="{escape(title)}" {FONT} font-size="12">'
    ]
    for i, (label, value) in enumerate(items):
        y = 20 + i * row
        length = 0 if value is None else max(0.0, min(value, maximum)) / maximum * width
        colour = "#1d4ed8" if label == highlight else BAR
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{row - 8}" fill="{colour}" rx="2"/>'
            f'<text x="{left + length + 4:.1f}" y="{y + 12}">{"—" if value is None else f"{round(value, 1):g}"}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


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
