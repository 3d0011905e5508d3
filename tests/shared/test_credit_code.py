from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.credit_code import ALPHABET, check_character, normalise, problem

VALID = ["91350100611300758B", "9144030071526726XG", "91350000158142711F", "91110000100018988F"]


@pytest.mark.parametrize("code", VALID)
def test_it_accepts_valid_codes(code: str) -> None:
    assert problem(code) is None
    assert check_character(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("91350100611300758A", "校验位"),
        ("9135010061130075", "18 位"),
        ("91350100611300758I", "不允许的字符"),
        ("9A350100611300758B", "前 8 位"),
    ],
)
def test_it_names_what_is_wrong(code: str, words: str) -> None:
    assert words in (problem(code) or "")


def test_it_folds_full_width_lower_case_and_spaces() -> None:
    assert normalise(" ９１３５０１００６１１３００７５８ｂ ") == "91350100611300758B"
    assert problem(normalise("91350100 611300758b")) is None


# positions 1 to 8 (authority, category, region) are digits; 9 to 17 the organisation code
body = st.builds(
    lambda head, rest: head + rest,
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
)


@given(body)
def test_it_accepts_every_code_with_its_check_character(first17: str) -> None:
    assert problem(first17 + check_character(first17)) is None


@given(body, st.integers(min_value=0, max_value=16), st.sampled_from(ALPHABET))
def test_it_refuses_a_code_with_one_character_changed(first17: str, position: int, replacement: str) -> None:
    code = first17 + check_character(first17)
    changed = code[:position] + replacement + code[position + 1 :]
    if changed != code:
        assert problem(changed) is not None


@given(st.text(max_size=40))
def test_it_never_crashes_on_any_text(text: str) -> None:
    result = problem(normalise(text))
    assert result is None or isinstance(result, str)
