"""What the browser tests need: Debian's Chromium, and skipping (or, in CI, failing) when it is missing."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_BROWSER_ENV = "FACTORENGINE_REQUIRE_BROWSER"


def skip_without_browser(reason: str) -> None:
    """Skip a browser test for `reason`, or fail it when FACTORENGINE_REQUIRE_BROWSER is set (as in CI)."""
    if os.environ.get(REQUIRE_BROWSER_ENV):
        pytest.fail(f"{reason}; {REQUIRE_BROWSER_ENV} is set, so the browser tests must run")
    pytest.skip(reason)
