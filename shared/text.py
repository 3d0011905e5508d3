"""Person-facing text written outside a request (the ledger, credit codes, channel URLs, the rule
preview), in both languages; the page, the API or the alert that shows it picks the language.

A `Text` reads as its Chinese (the source language) wherever it is stored or logged, so a comment
kept in the database stays Chinese; `say()` shows a Text, or such a stored Chinese text, in the
language asked for."""

from __future__ import annotations

from typing import Any

# Every Text made, by its Chinese, so that a stored copy can be shown in English again.
_KNOWN: dict[str, Text] = {}


class Text(str):
    """A message in Chinese (its value as a string) with its English."""

    en: str

    def __new__(cls, zh: str, en: str, known: bool = True) -> Text:
        made = super().__new__(cls, zh)
        made.en = en
        if known:  # a fixed message, not one filled with values (those are many)
            _KNOWN.setdefault(zh, made)
        return made

    def format(self, *args: Any, **kwargs: Any) -> Text:  # type: ignore[override]
        """Both languages filled with the same values."""
        return Text(str.format(self, *args, **kwargs), self.en.format(*args, **kwargs), known=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Text, (str(self), self.en, False))


def say(value: object, locale: str) -> str:
    """The text in `locale`: a Text's own English, a stored copy of a known Text's, else as it is."""
    if value is None:
        return ""
    if locale != "en":
        return str(value)
    if isinstance(value, Text):
        return value.en
    known = _KNOWN.get(str(value))
    return known.en if known is not None else str(value)
