"""Fixtures of the end-to-end search tests, and the headless browser of the report's and the dashboard's."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.factorengine.browser import CHROMIUM, skip_without_browser
from tests.factorengine.runs import copy_seeds


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    """A directory with four of the shipped seeds."""
    directory = tmp_path / "seeds"
    directory.mkdir()
    return copy_seeds(directory)


@pytest.fixture
def synthetic_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs without --data search the synthetic market, whatever the environment says."""
    monkeypatch.delenv("FACTORENGINE_DATA", raising=False)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's headless Chromium; skipped when absent unless FACTORENGINE_REQUIRE_BROWSER is set (then failed)."""
    if not CHROMIUM.exists():
        skip_without_browser(f"headless Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM
