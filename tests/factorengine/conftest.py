"""Fixtures of the end-to-end search tests."""
from __future__ import annotations

from pathlib import Path

import pytest

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
