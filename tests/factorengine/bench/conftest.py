"""The input the suites measure in tests: the shipped seeds on a small synthetic panel."""
from __future__ import annotations

from pathlib import Path

import pytest

from factorengine.bench.runtime import BenchInput
from factorengine.data import make_dataset, synthetic_panel
from factorengine.program import parse_program
from tests.factorengine.runs import ROOT, SEEDS


@pytest.fixture(scope="module")
def bench() -> BenchInput:
    """Four seeds on 300 days x 60 stocks, one timed run per step."""
    programs = {name: parse_program((ROOT / "seeds" / f"{name}.py").read_text()) for name in SEEDS}
    return BenchInput(Path("synthetic"), make_dataset(synthetic_panel(n_days=300, n_stocks=60)), programs, repeat=1)
