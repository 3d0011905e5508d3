"""The words a person reads for each code the system keeps: one label function per kind of code,
used alike by the pages, the exports, the spreadsheets and the alerts. Chinese first, English second;
the code itself is shown only where a person needs it (a credit code, a rule's code in a tooltip)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

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


# --- people, rounds, reports and channels ---------------------------------------------------------

ROLES: Words = {
    "district": ("县（市）区填报人员", "District clerk"),
    "supervisor": ("市产改办督导人员", "Supervisor"),
    "admin": ("系统管理员", "Administrator"),
}
ROUND_STATUSES: Words = {"open": ("进行中", "Open"), "closed": ("已结束", "Closed")}
MEASURE_STATUSES: Words = {
    "not_started": ("未启动", "Not started"),
    "in_progress": ("推进中", "In progress"),
    "implemented": ("已落实", "Implemented"),
    "exemplary": ("成效突出", "Exemplary"),
}
# A unit's report in a round, as the home page adds them up: 已报送 = 无问题 + 存在待整改问题 + 评估中.
# Those that reported first, then the rest (未报送).
REPORT_STATES: Words = {
    "evaluated": ("无问题", "No problems"),
    "problems": ("存在待整改问题", "Problems to rectify"),
    "submitted": ("评估中", "Being evaluated"),
    "not_started": ("未报送", "Not reported"),
    "draft": ("草稿", "Draft"),
}
SUBMISSION_CHANNELS: Words = {
    "form": ("网页填报", "Web form"),
    "api": ("接口", "API"),
    "excel": ("Excel", "Excel"),
}
CHANNEL_KINDS: Words = {
    "mailto": ("电子邮件", "Email"),
    "mailtos": ("电子邮件", "Email"),
    "json": ("Webhook 接口", "Webhook"),
    "jsons": ("Webhook 接口", "Webhook"),
    "wecombot": ("企业微信群机器人", "WeCom robot"),
    "dingtalk": ("钉钉群机器人", "DingTalk robot"),
    "feishu": ("飞书群机器人", "Feishu robot"),
    "lark": ("飞书群机器人", "Lark robot"),
}
DELIVERY_STATUSES: Words = {
    "pending": ("待发送", "Pending"),
    "sending": ("发送中", "Sending"),
    "retrying": ("重试中", "Retrying"),
    "delivered": ("已送达", "Delivered"),
    "failed": ("失败（不再重试）", "Failed (no more tries)"),
    "dead": ("多次失败", "Failed after every try"),
}
DELIVERY_OUTCOMES: Words = {
    "delivered": ("已送达", "Delivered"),
    "retrying": ("失败，将重试", "Failed, will retry"),
    "failed": ("失败", "Failed"),
    "dead": ("多次失败，不再重试", "Failed, no more tries"),
    "interrupted": ("发送中断，将重试", "Interrupted, will retry"),
    "resend": ("已要求重新发送", "Resend requested"),
}
ALERT_KINDS: Words = {
    "opened": ("新发现问题", "New problems"),
    "digest": ("每日汇总", "Daily digest"),
    "reminder": ("整改提醒", "Rectification reminder"),
    "escalation": ("提请督办", "Escalation"),
    "due_soon": ("报送提醒", "Report reminder"),
    "resolved": ("问题已销号或消除", "Problems closed or cleared"),
    "returned": ("退回重改", "Returned to rectify again"),
    "extended": ("延期已批准", "Later deadline granted"),
    "extension_refused": ("延期未批准", "Later deadline refused"),
    "test": ("测试消息", "Test message"),
}
# A finding's category is written in Chinese in the catalogue (DOMAIN.md); these are its English words.
CATEGORIES: Words = {
    "完整性": ("完整性", "Completeness"),
    "数据一致性": ("数据一致性", "Data consistency"),
    "政策落实": ("政策落实", "Policy implementation"),
    "民主管理": ("民主管理", "Democratic management"),
    "推进情况": ("推进情况", "Progress"),
    "推进滞后": ("推进滞后", "Progress lagging"),
    "及时性": ("及时性", "Timeliness"),
    "数据核实": ("数据核实", "Data to verify"),
    "目标对照": ("目标对照", "Against the target"),
    "督导发现": ("督导发现", "Found by the supervisors"),
    "滞后单位": ("滞后单位", "Lagging unit"),
    "异常值": ("异常值", "Outlier"),
}
# Indicator units as the catalogue writes them (Chinese), with their English words.
INDICATOR_UNITS: Words = {
    "人": ("人", "persons"),
    "人次": ("人次", "person-times"),
    "万元": ("万元", "10,000 yuan"),
    "元": ("元", "yuan"),
    "条": ("条", "items"),
    "个": ("个", "units"),
    "场": ("场", "events"),
    "次": ("次", "times"),
    "项": ("项", "items"),
    "%": ("%", "%"),
}


def role(code: str, locale: str = "zh") -> str:
    return word(ROLES, code, locale)


def round_status(code: str, locale: str = "zh") -> str:
    return word(ROUND_STATUSES, code, locale)


def measure_status(code: str, locale: str = "zh") -> str:
    return word(MEASURE_STATUSES, code, locale)


def report_state(code: str, locale: str = "zh") -> str:
    return word(REPORT_STATES, code, locale)


def submission_channel(code: str, locale: str = "zh") -> str:
    return word(SUBMISSION_CHANNELS, code, locale)


def channel_kind(code: str, locale: str = "zh") -> str:
    return word(CHANNEL_KINDS, code, locale)


def delivery_status(code: str, locale: str = "zh") -> str:
    return word(DELIVERY_STATUSES, code, locale)


def delivery_outcome(code: str, locale: str = "zh") -> str:
    return word(DELIVERY_OUTCOMES, code, locale)


def alert_kind(code: str, locale: str = "zh") -> str:
    return word(ALERT_KINDS, code, locale)


def category(text: str, locale: str = "zh") -> str:
    """A finding's category (Chinese in the catalogue) in the language asked for."""
    return word(CATEGORIES, text, locale)


def indicator_unit(text: str, locale: str = "zh") -> str:
    return word(INDICATOR_UNITS, text, locale)


def district(code: str | None, names: dict[str, tuple[str, str]], locale: str = "zh") -> str:
    """A district (or zone) by its name; `names` maps codes to (Chinese, English) names."""
    return word(names, code, locale)


def moment(value: datetime | None, zone: str) -> str:
    """A stored (UTC) time as the office writes it, in its time zone: 2026-12-02 23:54."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


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
