"""The gplearn baseline: budget, scores, determinism, no peeking at valid/test days, causal functions."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from gplearn.functions import _function_map

from factorengine.bench.gp import BUILTINS, FEATURES, GPRun, _features, _function_set, run_gp
from factorengine.data import Dataset
from factorengine.data.label import make_label
from factorengine.score.fitness import score

POPULATION = 30
EVALUATIONS = 70  # two generations of 30: the 10 left over do not make a generation


def _run(dataset: Dataset, seed: int = 0, n_jobs: int = 1) -> GPRun:
    return run_gp(dataset, EVALUATIONS, seed, population_size=POPULATION, keep=5, n_jobs=n_jobs)


@pytest.fixture(scope="module")
def gp_run(synthetic_dataset: Dataset) -> GPRun:
    return _run(synthetic_dataset)


def _execute(expression: str, dataset: Dataset) -> np.ndarray:
    """Values [T, N] of a printed gplearn expression, evaluated independently of gplearn's program."""
    features, missing = _features(dataset.panel)
    namespace = {name: _function_map[name] for name in BUILTINS}
    namespace |= {function.name: function for function in _function_set(missing)[len(BUILTINS):]}
    namespace |= dict(zip(FEATURES, features.T))
    return np.where(missing, np.nan, eval(expression, {"__builtins__": {}}, namespace).reshape(missing.shape))


def test_a_run_spends_whole_generations_and_sorts_its_programs_by_valid_fs(gp_run: GPRun) -> None:
    assert gp_run.evaluations == 60
    valid = [program.valid_fs for program in gp_run.programs]
    assert len(valid) >= 2 and not any(math.isnan(fs) for fs in valid)
    assert valid == sorted(valid, reverse=True)
    assert len({program.expression for program in gp_run.programs}) == len(gp_run.programs)


def test_each_program_carries_our_score_of_its_values(gp_run: GPRun, synthetic_dataset: Dataset) -> None:
    for program in gp_run.programs:
        fitness = score(_execute(program.expression, synthetic_dataset), synthetic_dataset.label,
                        synthetic_dataset.splits, segments=("valid", "test"))
        assert (program.train_fs, program.valid_fs, program.test_rank_ic) == pytest.approx(
            (fitness.train.fs, fitness.valid.fs, fitness.test.rank_ic), rel=1e-12)
    assert gp_run.programs[0].train_fs > 0.1  # the planted signals are found


def test_the_same_seed_gives_the_same_programs_in_parallel_too(gp_run: GPRun, synthetic_dataset: Dataset) -> None:
    again = _run(synthetic_dataset, n_jobs=2)
    assert again.programs == gp_run.programs
    other = _run(synthetic_dataset, seed=1)
    assert {p.expression for p in other.programs} != {p.expression for p in gp_run.programs}


def test_evolution_never_reads_the_label_of_valid_or_test_days(gp_run: GPRun, synthetic_dataset: Dataset) -> None:
    values = synthetic_dataset.label.values.copy()
    values[synthetic_dataset.splits.days("valid").start:] *= -1.0
    altered = {p.expression: p for p in _run(replace(synthetic_dataset, label=make_label(values))).programs}
    assert altered.keys() == {p.expression for p in gp_run.programs}
    for program in gp_run.programs:  # same train score, the flipped label is seen after evolution only
        assert altered[program.expression].train_fs == program.train_fs
        assert altered[program.expression].test_rank_ic == pytest.approx(-program.test_rank_ic)


def test_panel_functions_at_day_t_ignore_later_days() -> None:
    rng = np.random.default_rng(0)
    days, stocks, t = 60, 40, 35
    missing = rng.random((days, stocks)) < 0.05
    x, y = rng.normal(size=(2, days, stocks))
    later_x, later_y = x.copy(), y.copy()
    later_x[t + 1:], later_y[t + 1:] = rng.normal(size=(2, days - t - 1, stocks))
    for function in _function_set(missing)[len(BUILTINS):]:
        args, later_args = (x, y)[:function.arity], (later_x, later_y)[:function.arity]
        now = function(*(a.ravel() for a in args)).reshape(days, stocks)
        changed = function(*(a.ravel() for a in later_args)).reshape(days, stocks)
        assert np.array_equal(now[:t + 1], changed[:t + 1]), function.name
        assert not np.array_equal(now[t + 1:], changed[t + 1:]), function.name
