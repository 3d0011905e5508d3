"""The crawler's checks of a page's text, on their own (tests/e2e/test_every_page.py uses them)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support import page_checks

CODES = {"warning", "open", "form", "fund_extraction", "P1-M4", "in_progress", "mailto", "apprentices"}


@pytest.mark.parametrize(
    ("text", "locale", "found"),
    [
        ("级别 warning · 状态 open", "zh", ["open", "warning"]),
        ("方式 form", "zh", ["form"]),
        ("fund_extraction 12", "zh", ["fund_extraction"]),
        ("P1-M4 · 职代会决议.pdf", "zh", ["P1-M4"]),
        ("Status: in_progress", "en", ["in_progress"]),
        ("The round is open; fill in the form. Apprentices", "en", []),
        ("mailto://127.0.0.1?to=a@b.org", "zh", []),
        ("一般问题 · 待整改", "zh", []),
    ],
)
def test_it_finds_codes_shown_as_words(text: str, locale: str, found: list[str]) -> None:
    assert page_checks.codes_shown(text, CODES, locale) == found


def test_it_finds_a_district_code_without_its_name() -> None:
    names = {"350102": ["鼓楼区", "Gulou"], "fz-hitech": ["福州高新区", "Fuzhou Hi-tech Zone"]}
    assert page_checks.districts_without_names("县（市）区 350102", names) == ["350102"]
    assert page_checks.districts_without_names("鼓楼区（350102）", names) == []
    assert page_checks.districts_without_names("单位 fz-hitech", names) == ["fz-hitech"]
    assert page_checks.districts_without_names("福州高新区", names) == []


def test_it_finds_a_time_shown_in_utc() -> None:
    stored = [datetime(2026, 12, 2, 15, 54, tzinfo=UTC)]
    zone = "Asia/Shanghai"
    assert page_checks.utc_times_shown("报送于 2026-12-02 15:54", stored, zone) == ["2026-12-02 15:54"]
    assert page_checks.utc_times_shown("报送于 2026-12-02 23:54", stored, zone) == []


def test_it_does_not_take_a_china_time_for_utc_when_another_time_reads_the_same() -> None:
    stored = [datetime(2026, 12, 2, 15, 54, tzinfo=UTC), datetime(2026, 12, 2, 7, 54, tzinfo=UTC)]
    assert page_checks.utc_times_shown("2026-12-02 15:54", stored, "Asia/Shanghai") == []


@pytest.mark.parametrize(
    ("text", "locale", "found"),
    [
        ("Delivery log 投递记录", "en", ["投递记录"]),
        ("Evidence： none", "en", ["："]),
        ("Language 中文", "en", []),
        ("投递记录 Delivery log", "zh", ["Delivery", "log"]),
        ("导入 Excel 或 PDF，切换到 English", "zh", []),
        ("统一社会信用代码 9144030071526726XG，见 https://example.org/a", "zh", []),
        ("佐证 职代会决议.pdf", "zh", []),
    ],
)
def test_it_finds_the_other_language(text: str, locale: str, found: list[str]) -> None:
    assert page_checks.other_language(text, locale) == found


def test_it_leaves_the_office_data_out() -> None:
    text = "Unit 福州闽江机械有限公司 · note 已按方案落实"
    rest = page_checks.without(text, ["福州闽江机械有限公司", "已按方案落实"])
    assert page_checks.other_language(rest, "en") == []
