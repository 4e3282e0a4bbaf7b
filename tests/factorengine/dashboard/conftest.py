"""Fixtures of the dashboard tests: a small two-island run before and after harvest, a served dashboard, and a
Playwright page in Debian's Chromium."""
from __future__ import annotations

import contextlib
import io
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from factorengine.cli import main
from factorengine.dashboard.server import DashboardServer, open_dashboard
from tests.factorengine.browser import skip_without_browser
from tests.factorengine.runs import synthetic_run

ITERATIONS = 6


@pytest.fixture(scope="package")
def run_dir(tmp_path_factory) -> Path:
    """Two islands searching the synthetic market: seeds, ITERATIONS iterations, two trials a program."""
    return synthetic_run(tmp_path_factory.mktemp("dashboard"), ITERATIONS, trials=2, islands=2)


@pytest.fixture(scope="package")
def harvested_dir(run_dir, tmp_path_factory) -> Path:
    """A copy of the run, harvested."""
    copy = tmp_path_factory.mktemp("harvested") / "run"
    shutil.copytree(run_dir, copy)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FACTORENGINE_DATA", raising=False)
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["harvest", str(copy), "--threshold", "0.3"]) == 0
    return copy


@contextlib.contextmanager
def served(run_dir: Path) -> Iterator[DashboardServer]:
    """The dashboard of `run_dir` on a free port of 127.0.0.1, served from a thread until the block ends."""
    server = open_dashboard(run_dir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="package")
def browser(chromium):
    """Debian's Chromium driven by Playwright; skipped without Playwright unless FACTORENGINE_REQUIRE_BROWSER."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_without_browser("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page whose console errors and uncaught exceptions are collected in `page.errors`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()
