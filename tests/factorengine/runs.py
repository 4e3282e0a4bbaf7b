"""Helpers for end-to-end search tests: the seeds they start from, the command line, and a run's tree."""
from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from factorengine.cli import main
from factorengine.data import Panel
from factorengine.store import Store

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ("close_location", "return_volatility", "turnover_change", "upper_shadow")


def copy_seeds(directory: Path) -> Path:
    """Copy four of the shipped seeds into `directory`."""
    for name in SEEDS:
        (directory / f"{name}.py").write_text((ROOT / "seeds" / f"{name}.py").read_text())
    return directory


def synthetic_run(directory: Path, iterations: int, trials: int = 4, islands: int = 1) -> Path:
    """Search the synthetic market from four seeds in `directory` (whatever the environment's data); the run's dir."""
    seeds = directory / "seeds"
    seeds.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FACTORENGINE_DATA", raising=False)
        assert main(evolve_args(directory / "run", copy_seeds(seeds), iterations, trials, islands)) == 0
    return directory / "run"


def evolve_args(run_dir: Path, seeds_dir: Path, iterations: int, trials: int = 4, islands: int = 1) -> list[str]:
    """The `evolve` command line of a small test run."""
    return ["evolve", "--run-dir", str(run_dir), "--seeds", str(seeds_dir), "--iterations", str(iterations),
            "--trials", str(trials), "--islands", str(islands)]


def write_panel(panel: Panel, path: Path) -> None:
    """Write a panel as the long CSV `--data` reads (one row per known stock-day)."""
    days, stocks = np.nonzero(~np.isnan(panel.close))
    frame = pd.DataFrame({"date": panel.dates[days], "symbol": panel.symbols[stocks]})
    for field in ("open", "high", "low", "close", "volume"):
        frame[field] = panel.fields[field][days, stocks]
    frame.to_csv(path, index=False)


def run_tree(run_dir: Path) -> list[tuple]:
    """Everything a run decided: node structure, code, parameters and metrics (not timings)."""
    with Store.open(run_dir / "run.db", read_only=True) as store:
        rows = []
        for node in store.nodes():
            evaluation = store.evaluation(node.node_id, include_test=True)
            rows.append((node.node_id, node.parent_id, node.island, node.iteration, node.kind, node.idea,
                         store.program(node.program_id), dict(node.params), _plain(node.reward),
                         evaluation.status, [_plain(asdict(m)) for m in (evaluation.train, evaluation.valid) if m]))
        return rows


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value
