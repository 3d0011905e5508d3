"""Messages made outside a request (the intake worker checking an upload) in the language asked for."""

from __future__ import annotations

from services.intake import speech
from shared.text import Text


def test_it_speaks_chinese_outside_a_request_and_english_when_asked() -> None:
    assert speech.gettext("不能为负数") == "不能为负数"
    with speech.speaking("en"):
        assert speech.gettext("不能为负数") == "Must not be negative"
        assert speech.gettext("不能大于 %(max)s", max="5") == "Must be at most 5"
        assert speech.say(Text("渠道已停用", "The channel is disabled")) == "The channel is disabled"
    assert speech.locale() == "zh"
