"""The browser tests here share tests/test_browser.py's Chromium."""

from tests.test_browser import chromium  # noqa: F401 (a fixture)
