"""What a person must never read on a page, as pure checks over the page's visible text: a code where a
word belongs, a district code without its name, a time in UTC, a message in the other language."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# A token as a code is written: letters, digits, "_" and "-", not inside an address or a file name.
TOKEN = re.compile(r"(?<![\w@./:=?&%-])[A-Za-z0-9][\w-]*(?![\w@/:=-]|\.\w)")
WORD = re.compile(r"(?<![\w@./:=?&%-])[A-Za-z][A-Za-z']+(?![\w@/:=-]|\.\w)")
ADDRESS = re.compile(r"\S+@\S+|\w+://\S+|\S+\.(?:pdf|png|jpe?g|xlsx|docx|csv)\b", re.IGNORECASE)
MOMENT = re.compile(r"\b(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})\b")
# Latin words a Chinese page may show: names of formats and things with no Chinese word in use.
LATIN_ON_CHINESE = frozenset(
    {"pdf", "excel", "api", "url", "xlsx", "csv", "json", "word", "jpg", "png", "kb", "mb", "id",
     "wecom", "dingtalk", "feishu", "webhook", "email", "smtp", "token", "bearer", "http",
     "https", "openapi", "pilotwatch", "ip", "z"}
)  # fmt: skip
# A code's shape on an English page, where a one-word code ("open", "form") reads as an English word
# and is caught on the Chinese page instead.
CODE_SHAPE = re.compile(r"[_\d-]")
# The language switch names the other language in that language.
LANGUAGE_NAMES = ("中文", "English")


def without(text: str, data: Iterable[str]) -> str:
    """The text with every piece of the office's own data (unit names, typed notes) taken out."""
    for piece in sorted({d for d in data if d and len(d) > 1}, key=len, reverse=True):
        text = text.replace(piece, " ")
    return text


def codes_shown(text: str, vocabulary: Iterable[str], locale: str) -> list[str]:
    """Codes printed as words. On an English page a code that is also an English word counts only
    when it has a code's shape (an underscore, a hyphen or a digit)."""
    known = set(vocabulary)
    found = []
    for token in TOKEN.findall(ADDRESS.sub(" ", text)):
        if token not in known:
            continue
        if locale == "en" and not CODE_SHAPE.search(token):
            continue
        found.append(token)
    return sorted(set(found))


def districts_without_names(text: str, districts: Mapping[str, Iterable[str]]) -> list[str]:
    """District (and zone) codes shown with none of the district's names within a few characters."""
    found = []
    for code, names in districts.items():
        for match in re.finditer(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text):
            near = text[max(0, match.start() - 40) : match.end() + 40]
            if not any(name and name in near for name in names):
                found.append(code)
    return sorted(set(found))


def utc_times_shown(text: str, stored: Iterable[datetime], zone: str) -> list[str]:
    """Times shown as UTC renderings of stored times where the office's time zone reads otherwise."""
    tz = ZoneInfo(zone)
    utc, local = set(), set()
    for moment in stored:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        utc.add(aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))
        local.add(aware.astimezone(tz).strftime("%Y-%m-%d %H:%M"))
    wrong = utc - local
    return sorted({f"{d} {t}" for d, t in MOMENT.findall(text) if f"{d} {t}" in wrong})


def other_language(text: str, locale: str, allowed: Iterable[str] = ()) -> list[str]:
    """Chinese on an English page, or Latin words on a Chinese page (outside `allowed` words and the
    usual names of formats), each with a little of its context."""
    text = ADDRESS.sub(" ", without(text, LANGUAGE_NAMES))
    found = []
    if locale == "en":
        found = re.findall(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+", text)
        return sorted(set(found))
    extra = {a.lower() for a in allowed}
    for word in WORD.findall(text):
        if word.lower() not in LATIN_ON_CHINESE and word.lower() not in extra:
            found.append(word)
    return sorted(set(found))
