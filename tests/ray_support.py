"""Ray for the tests of the Ray backend: skipped with a reason when it is not installed, unless required."""
from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import pytest

REQUIRE_RAY_ENV = "FACTORENGINE_REQUIRE_RAY"


def import_ray() -> ModuleType:
    """The `ray` module; skips the test without it, or fails it when FACTORENGINE_REQUIRE_RAY is set."""
    reason = 'Ray is not installed (pip install -e ".[ray]")'
    if os.environ.get(REQUIRE_RAY_ENV) and importlib.util.find_spec("ray") is None:
        pytest.fail(f"{reason}; {REQUIRE_RAY_ENV} is set, so the Ray tests must run")
    return pytest.importorskip("ray", reason=reason)
