"""Fixtures shared by every test module: one headless Chromium per test session.

Playwright's sync API allows one running instance per thread, so every test that needs a browser
(standalone HTML pages, the wheel test, JupyterLab in tests/browser/) shares this one.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Debian's chromium driven by Playwright through ``executable_path`` (nothing downloaded)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (scripts/dev.sh test installs it)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium")
    os.environ["XDG_CONFIG_HOME"] = str(profile / "config")
    os.environ["XDG_CACHE_HOME"] = str(profile / "cache")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_html(browser, path, *, viewport=(1100, 900)):
    """Open a standalone page written by ``Result.to_html`` and wait until the widget rendered.

    Returns the page; ``page.page_errors`` collects uncaught errors and console errors.
    """
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.page_errors = []
    page.on("pageerror", lambda e: page.page_errors.append(str(e)))
    page.on("console", lambda m: page.page_errors.append(m.text) if m.type == "error" else None)
    page.goto(Path(path).resolve().as_uri())
    page.wait_for_selector("#nbd-widget[data-rendered=true]", timeout=15_000)
    return page
