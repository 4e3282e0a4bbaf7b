"""Fixtures of the store tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.factorengine.store.sample import create, iteration, node, ok


@pytest.fixture
def run_path(tmp_path: Path) -> Path:
    """A run database holding one committed iteration (node 1, scored)."""
    path = tmp_path / "run.db"
    with create(path) as store:
        iteration(store, node(1), ok(1))
    return path
