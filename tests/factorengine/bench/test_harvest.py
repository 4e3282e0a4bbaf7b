"""The harvest suite: a command's wall time and its process tree's peak memory, and the target they meet or not."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from factorengine.bench.harvest import ELITES, LIMIT_MB, CommandCost, harvest_suite, harvest_target, measure_command
from factorengine.bench.runtime import BenchInput
from factorengine.data import make_dataset, synthetic_panel
from factorengine.program import parse_program
from tests.factorengine.runs import ROOT, SEEDS, write_panel

CHILD = ("import subprocess, sys, time\n"
         "subprocess.run([sys.executable, '-c', 'import time; b = bytearray(300 * 2**20); time.sleep(1)'])\n")


def _mib(mb: float) -> float:
    return mb * 1e6 / 2**20


def test_a_command_s_peak_memory_counts_its_children():
    cost = measure_command([sys.executable, "-c", CHILD])
    assert cost.returncode == 0 and cost.seconds >= 1.0
    assert 300 <= cost.peak_mib < 600 and cost.peak_mb == pytest.approx(cost.peak_mib * 1.048576)


def test_the_target_is_met_under_both_limits_and_its_figure_is_the_smaller_headroom():
    target = harvest_target([CommandCost(15.0, _mib(1000), 0), CommandCost(25.0, _mib(750), 0)], ELITES)
    assert target.met and target.figure == pytest.approx(min(30 / 20, LIMIT_MB / 1000)) and target.why == ""


def test_a_missed_target_says_which_limit_and_why():
    slow = harvest_target([CommandCost(45.0, _mib(1200), 0), CommandCost(55.0, _mib(1300), 0)], ELITES)
    assert not slow.met and slow.why.startswith("it took 50 s: LightGBM") and "peaked" not in slow.why
    big = harvest_target([CommandCost(20.0, _mib(1600), 0), CommandCost(20.0, _mib(1400), 0)], 4)
    assert not big.met and big.why.startswith("it peaked at 1,600 MB") and big.why.endswith("gave 4 elites, not 10")


@pytest.mark.slow
def test_the_suite_harvests_its_own_run_twice_on_the_panel_file(tmp_path):
    data = tmp_path / "panel.csv"
    write_panel(synthetic_panel(n_days=300, n_stocks=60), data)
    programs = {name: parse_program((ROOT / "seeds" / f"{name}.py").read_text()) for name in SEEDS}
    result = harvest_suite(BenchInput(Path(data), make_dataset(synthetic_panel(n_days=300, n_stocks=60)), programs,
                                      repeat=1))
    [timing], [target], [table] = result.timings, result.targets, result.tables
    assert len(timing.seconds) == 2 and timing.name.startswith("harvest of ")
    assert target.name.startswith("harvest of 10 elites < 30 s and < 1.5 GB") and "not 10" in target.why
    assert table.count("\n| ") == 2 + 1
