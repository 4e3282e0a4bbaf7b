"""Shared fixtures: the real data directory (skipped with a reason when absent) and synthetic datasets."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from factorengine.data import DATA_ENV, Dataset, load_panel, make_dataset, synthetic_panel

REQUIRE_DATA_ENV = "FACTORENGINE_REQUIRE_DATA"
_DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _real_data_dir() -> Path:
    configured = os.environ.get(DATA_ENV)
    path = Path(configured) if configured else _DEFAULT_DATA_DIR
    path = path if path.is_dir() else path.parent
    if not (path / "us_main_daily.parquet").exists():
        reason = (f"real data not found at {path} (set {DATA_ENV} to the directory holding "
                  "us_main_daily.parquet and small.parquet)")
        if os.environ.get(REQUIRE_DATA_ENV):
            pytest.fail(reason + f"; {REQUIRE_DATA_ENV} is set, so real-data tests must run")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The directory holding the real panels."""
    return _real_data_dir()


@pytest.fixture(scope="session")
def real_dataset(real_data_dir: Path) -> Dataset:
    """The main real panel (500 stocks x 3,523 days) with its horizon-1 label and splits."""
    return make_dataset(load_panel(real_data_dir / "us_main_daily.parquet"))


@pytest.fixture(scope="session")
def small_dataset(real_data_dir: Path) -> Dataset:
    """The small real fixture (50 stocks x 754 days)."""
    return make_dataset(load_panel(real_data_dir / "small.parquet"))


@pytest.fixture(scope="session")
def synthetic_dataset() -> Dataset:
    """The default synthetic market with its label and splits."""
    return make_dataset(synthetic_panel())
