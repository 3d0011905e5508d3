"""Text from people (unit names, district names, rule messages) put into a robot's Markdown as text.

Each robot reads its own dialect, and none documents the same escapes: a unit named
`**[中奖](http://evil.example)**` or `# 通知` must arrive as those characters, not as a link or a
heading. A line break in such a text would start a new block, so it becomes a space everywhere, and
a bare web address is broken (`http：//`) so that no client turns it into a link.

- `commonmark`: a backslash before each punctuation character CommonMark gives a meaning to.
- `wecom`, `dingtalk`: their Markdown documents no escape, so the characters with a meaning are
  written as their full-width forms (＊ ［ ］ ＃ …), which read the same to a Chinese reader.
- `feishu` (and Lark): card Markdown takes HTML character references (`&#42;`, `&lt;`).
"""

from __future__ import annotations

import re

DIALECTS = ("commonmark", "wecom", "dingtalk", "feishu")
# Characters with a meaning anywhere in a line (the text never starts a line, so list and
# ordered-list markers such as "-", "+" and "1." need nothing).
SPECIAL = "\\`*_{}[]()#|<>~"
FULL_WIDTH = str.maketrans({ch: chr(ord(ch) + 0xFEE0) for ch in SPECIAL})
REFERENCES = str.maketrans({ch: f"&#{ord(ch)};" for ch in SPECIAL + "&"})
BACKSLASHED = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&@$])")
LINE = re.compile(r"\s+")
# Characters that would end or break a link target: written as %-escapes.
URL_ESCAPES = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "[": "%5B", "]": "%5D"}


def escape(text: object, dialect: str) -> str:
    """`text` as plain text inside the given dialect's Markdown, on one line."""
    # A bare address would still be made a link by the chat clients: "：//" keeps it readable, inert.
    flat = LINE.sub(" ", str(text)).strip().replace("://", "：//")
    if dialect == "commonmark":
        return BACKSLASHED.sub(r"\\\1", flat)
    if dialect == "feishu":
        return flat.translate(REFERENCES)
    return flat.translate(FULL_WIDTH)


def link_target(url: str) -> str:
    """A URL that stays one link target whatever it holds."""
    return "".join(URL_ESCAPES.get(ch, ch) for ch in LINE.sub("", url))
