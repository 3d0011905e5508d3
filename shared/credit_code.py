"""Unified social credit codes (统一社会信用代码, GB 32100-2015)."""

from __future__ import annotations

import unicodedata

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def normalise(value: str) -> str:
    """Trim, fold full-width characters to ASCII and upper-case, as a clerk's input needs."""
    return unicodedata.normalize("NFKC", value).strip().replace(" ", "").upper()


def problem(value: str) -> str | None:
    """Why a (normalised) code is invalid, in Chinese, or None when it is valid."""
    if len(value) == 18 and not value[:8].isdigit():
        return "统一社会信用代码前 8 位（登记管理部门、机构类别、行政区划）应为数字"
    try:
        uscc.validate(value)
    except InvalidLength:
        return "统一社会信用代码应为 18 位"
    except InvalidChecksum:
        return "统一社会信用代码校验位不正确"
    except InvalidFormat:
        return "统一社会信用代码含有不允许的字符（不得使用 I、O、S、V、Z）"
    except ValidationError:
        return "统一社会信用代码无效"
    return None


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (used to make demo codes)."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]
