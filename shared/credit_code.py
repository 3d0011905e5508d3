"""Unified social credit codes (统一社会信用代码, GB 32100-2015)."""

from __future__ import annotations

import unicodedata

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

from shared.text import Text

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def normalise(value: str) -> str:
    """Trim, fold full-width characters to ASCII and upper-case, as a clerk's input needs."""
    return unicodedata.normalize("NFKC", value).strip().replace(" ", "").upper()


def problem(value: str) -> str | None:
    """Why a (normalised) code is invalid, in Chinese, or None when it is valid."""
    if len(value) == 18 and not value[:8].isdigit():
        return Text(
            "统一社会信用代码前 8 位（登记管理部门、机构类别、行政区划）应为数字",
            "The first 8 characters of the credit code (authority, category, region) must be digits",
        )
    try:
        uscc.validate(value)
    except InvalidLength:
        return Text("统一社会信用代码应为 18 位", "The credit code must have 18 characters")
    except InvalidChecksum:
        return Text("统一社会信用代码校验位不正确", "The credit code's check character is wrong")
    except InvalidFormat:
        return Text(
            "统一社会信用代码含有不允许的字符（不得使用 I、O、S、V、Z）",
            "The credit code holds a character it may not (I, O, S, V and Z are not used)",
        )
    except ValidationError:
        return Text("统一社会信用代码无效", "The credit code is not valid")
    return None


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (used to make demo codes)."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]
