"""The words a person reads for each code the system keeps: one label function per kind of code,
used alike by the pages, the exports, the spreadsheets and the alerts. Chinese first, English second;
the code itself is shown only where a person needs it (a credit code, a rule's code in a tooltip)."""

from __future__ import annotations

from shared.rules.progress import half_of

Words = dict[str, tuple[str, str]]

SEVERITIES: Words = {
    "critical": ("重大问题", "Major problem"),
    "error": ("数据错误", "Data error"),
    "warning": ("一般问题", "Problem"),
    "info": ("提示", "Advice"),
}
FINDING_STATUSES: Words = {
    "open": ("待整改", "To rectify"),
    "acknowledged": ("已确认", "Acknowledged"),
    "rectification_reported": ("整改待核实", "Rectification to verify"),
    "returned": ("已退回", "Returned"),
    "explained": ("情况说明待认定", "Explanation to decide"),
    "closed": ("已销号", "Closed"),
    "resolved": ("重报后已消除", "Cleared by a new report"),
    "waived": ("已认定不适用", "Accepted as not applying"),
    "recorded": ("已记录", "Recorded"),
}
LIGHTS: Words = {
    "red": ("红灯", "Red"),
    "yellow": ("黄灯", "Yellow"),
    "green": ("绿灯", "Green"),
}
LIGHT_MEANINGS: Words = {
    "red": ("已超过整改期限", "past its deadline"),
    "yellow": ("临近整改期限", "deadline close"),
    "green": ("在整改期限内", "within its deadline"),
}
UNIT_KINDS: Words = {"enterprise": ("企业", "Enterprise"), "institution": ("事业单位", "Institution")}
HALVES = {1: ("上半年", "first half"), 2: ("下半年", "second half")}


def word(table: Words, code: str | None, locale: str = "zh") -> str:
    """The label of `code` in `table` in the language asked for; an unknown code is shown as it is."""
    if not code:
        return ""
    pair = table.get(code)
    if pair is None:
        return code
    return pair[1] if locale == "en" else pair[0]


def severity(code: str, locale: str = "zh") -> str:
    return word(SEVERITIES, code, locale)


def finding_status(code: str, locale: str = "zh") -> str:
    return word(FINDING_STATUSES, code, locale)


def light(code: str, locale: str = "zh") -> str:
    return word(LIGHTS, code, locale)


def unit_kind(code: str, locale: str = "zh") -> str:
    return word(UNIT_KINDS, code, locale)


def round_name(code: str, locale: str = "zh") -> str:
    """A round as an office writes it: 2026H2 → 2026年下半年 (2026 second half); other codes as they are."""
    half = half_of(code)
    if half is None:
        return code
    year, part = half
    return f"{year} {HALVES[part][1]}" if locale == "en" else f"{year}年{HALVES[part][0]}"


# --- the office's own work: visits, cases, documents ---------------------------------------------

VISIT_METHODS: Words = {
    "site": ("实地查看", "On-site inspection"),
    "interview": ("座谈访谈", "Interviews"),
    "documents": ("查阅资料", "Records reviewed"),
    "other": ("其他", "Other"),
}
CASE_STATUSES: Words = {
    "draft": ("草稿", "Draft"),
    "recommended": ("已推荐，待审核", "Recommended, to review"),
    "returned": ("退回修改", "Returned for changes"),
    "selected": ("已入选", "Selected"),
}
CASE_HINT_REASONS: Words = {
    "high_score": ("得分高且有成效突出举措", "High score with exemplary measures"),
    "growth": ("指标增长明显", "Strong indicator growth"),
}
DOCUMENT_KINDS: Words = {
    "bulletin": ("督导通报", "Supervision bulletin"),
    "problem_list": ("问题清单（整改交办单）", "Problem list (rectification notice)"),
    "cases": ("典型案例汇编", "Case compilation"),
}
JOB_STATES: Words = {
    "queued": ("排队中", "Queued"),
    "running": ("生成中", "Generating"),
    "done": ("已生成", "Ready"),
    "failed": ("生成失败", "Failed"),
}


def visit_method(code: str, locale: str = "zh") -> str:
    return word(VISIT_METHODS, code, locale)


def case_status(code: str, locale: str = "zh") -> str:
    return word(CASE_STATUSES, code, locale)


def document_kind(code: str, locale: str = "zh") -> str:
    return word(DOCUMENT_KINDS, code, locale)


def job_state(code: str, locale: str = "zh") -> str:
    return word(JOB_STATES, code, locale)


ORDINALS_ZH = "一二三四五六七八九十"


def aspect_ordinal(position: int, locale: str = "zh") -> str:
    """The n-th of the catalogue's aspects as the office numbers them: 第一方面 (Aspect 1)."""
    if locale == "en" or not 1 <= position <= len(ORDINALS_ZH):
        return f"Aspect {position}" if locale == "en" else f"第{position}方面"
    return f"第{ORDINALS_ZH[position - 1]}方面"


# --- spreadsheets ----------------------------------------------------------------------------------

YES_NO: Words = {"true": ("是", "Yes"), "false": ("否", "No")}


def yes_no(value: bool, locale: str = "zh") -> str:
    return word(YES_NO, "true" if value else "false", locale)


SHEET_IMPORT_STATES: Words = {
    "queued": ("排队等候校验", "Waiting to be checked"),
    "running": ("正在校验", "Checking"),
    "done": ("已导入", "Imported"),
    "refused": ("校验未通过", "Problems found"),
    "failed": ("未能导入", "Not imported"),
}


def sheet_import_state(code: str, locale: str = "zh") -> str:
    return word(SHEET_IMPORT_STATES, code, locale)
