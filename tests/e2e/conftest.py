"""Fixtures of the end-to-end tests."""

from tests.e2e.browser import browser  # noqa: F401  (the Playwright browser fixture)
