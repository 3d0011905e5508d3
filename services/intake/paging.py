"""Every list a page shows is cut into pages on the server: a count, then one page with limit and offset.
The pages, the API and the exports share the filters (services/intake/lists.py); only the pages cut."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

PAGE_SIZE = 50
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, which page it is (from 1) and how many rows the whole list has."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The position of the page's first row in the whole list (0 when the list is empty)."""
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.number * self.size, self.total)


def page_number(raw: str | None) -> int:
    """The page asked for in a query string; anything but a positive number is the first page."""
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 10**6 else 1


def clamp(number: int, total: int, size: int) -> int:
    """A page past the end shows the last page (after a filter shrank the list)."""
    return max(1, min(number, max(1, -(-total // size))))


def paginate(
    session: Session, query: Select[Any], number: int, size: int = PAGE_SIZE, past_end_shows_last: bool = True
) -> Page[Any]:
    """One page of `query` (which must be ordered, so that pages do not overlap), with the list's count.
    A page asked for past the end shows the last one; the API's callers get an empty page instead."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    if past_end_shows_last:
        number = clamp(number, total, size)
    items = list(session.scalars(query.limit(size).offset((number - 1) * size)))
    return Page(items, number, size, total)


def links(number: int, pages: int, around: int = 2) -> list[int | None]:
    """The page numbers to link to: the first, the last and a few around the current one; None is a gap."""
    shown = sorted({1, pages, *range(max(1, number - around), min(pages, number + around) + 1)})
    out: list[int | None] = []
    for previous, current in zip([0, *shown], shown, strict=False):
        if current - previous > 1:
            out.append(None)
        out.append(current)
    return out


def query_with(args: Mapping[str, str], **changes: Any) -> str:
    """The query string of the page with some parameters changed (None drops one); empty ones dropped."""
    values = {key: value for key, value in args.items() if value not in ("", None)}
    for key, value in changes.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = str(value)
    return urlencode(values)
