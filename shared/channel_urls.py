"""Channel URLs carry secrets (robot keys, tokens, passwords): how any page, log or listing shows one."""

from __future__ import annotations

import apprise


def mask(url: str) -> str:
    """The URL with its secrets hidden, as Apprise's privacy mode writes it; unparsable ones show
    their scheme only."""
    plugin = apprise.Apprise.instantiate(url.strip(), suppress_exceptions=True)
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        return f"{scheme}://***"
    return plugin.url(privacy=True)
