"""Bar charts drawn as SVG: every label fits the column beside its bar."""

from __future__ import annotations

import re
from html import unescape

from services.intake import charts

LONG_EN = "Fuzhou Economic and Technological Development Zone"


def drawn(svg: str) -> tuple[int, list[list[str]]]:
    """The x where the bars start, and each label as drawn: its lines."""
    left = int(re.search(r'<rect x="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    labels = re.findall(r'<text [^>]*text-anchor="end"[^>]*>(.*?)</text>', svg)
    out = []
    for label in labels:
        label = re.sub(r"<title>.*?</title>", "", label)
        out.append([unescape(line) for line in re.findall(r"<tspan[^>]*>([^<]*)</tspan>", label) or [label]])
    return left, out


def test_the_label_column_is_as_wide_as_the_longest_label_needs() -> None:
    left, shown = drawn(charts.hbars([("Gulou District", 60.0), ("Minhou County", 70.0)], "Participation"))
    assert shown == [["Gulou District"], ["Minhou County"]] and left == 130
    left, shown = drawn(
        charts.hbars([("Cangshan District", 1.0), ("Workers' congress held on time", 2.0)], "x")
    )
    assert shown[1] == ["Workers' congress held on time"]
    assert left - 10 >= charts.text_width(shown[1][0], 12)  # the label ends left of the bar


def test_a_long_label_goes_on_two_lines_within_the_column() -> None:
    left, shown = drawn(charts.hbars([("Gulou District", 60.0), (LONG_EN, 88.9)], "Participation"))
    assert left == charts.WIDEST_LABEL
    assert shown[1] == ["Fuzhou Economic and Technological", "Development Zone"]
    assert all(charts.text_width(line, 11) <= left - 10 for line in shown[1])


def test_short_chinese_labels_keep_the_narrow_column() -> None:
    left, shown = drawn(charts.hbars([("鼓楼区", 60.0), ("福州经济技术开发区", 70.0)], "报送率"))
    assert left == 130 and shown == [["鼓楼区"], ["福州经济技术开发区"]]


def test_a_label_too_long_for_two_lines_is_shortened_and_whole_on_hover() -> None:
    label = "Share of the education fund spent on frontline workers' skills training, by district and by pilot batch"
    svg = charts.hbars([(label, 3.0)], "Problems by kind", maximum=10, label_width=220)
    left, shown = drawn(svg)
    first, second = shown[0]
    assert second.endswith("…") and label.startswith(f"{first} {second[:-1]}")
    assert all(charts.text_width(line, 11) <= left - 10 for line in shown[0])
    assert "<title>Share of the education fund" in svg


def test_a_chinese_character_counts_a_full_em_and_a_latin_letter_about_half() -> None:
    assert charts.text_width("鼓楼区", 12) == 36
    assert charts.text_width("Gulou", 12) < 36
    assert charts.fitted("鼓楼区", 36, 12) == "鼓楼区"
    assert charts.fitted("鼓楼区产改", 36, 12) == "鼓楼…"
