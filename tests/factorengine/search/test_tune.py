"""Tuning: TPE finds a planted optimum, writes it back, repeats itself for a seed, and survives failed trials."""
import math

import pytest

from factorengine.config import EvaluationConfig, TuningConfig
from factorengine.program import load_factor, parse_program
from factorengine.score.evaluate import Evaluation, Evaluator
from factorengine.score.fitness import Fitness, score
from factorengine.score.metrics import SegmentMetrics
from factorengine.search.tune import Trial, Tuner, neighbour_drop, sample_stride, search_space

REVERSAL = '''"""Short-term reversal over a window to tune."""
from factorengine.ops import ts_mean

SEARCH_SPACE = {"window": (2, 60)}


def factor(d, window=30):
    return -ts_mean(d.returns, window)
'''
FRAGILE = '''"""Raises for long windows, spins for short ones."""
from factorengine.ops import ts_mean


def factor(d, window=10, scale=1.0):
    spins = 0
    while window < 5:
        spins += 1
    if window > 30:
        raise ValueError("window too long")
    return -scale * ts_mean(d.returns, window)
'''


@pytest.fixture(scope="module")
def evaluator(synthetic_dataset):
    with Evaluator(synthetic_dataset, EvaluationConfig(timeout_s=1.0, memory_mb=1024)) as evaluator:
        yield evaluator


def _train_fs(dataset, source: str, **params) -> float:
    values = load_factor(source)(dataset.panel, **params)
    return score(values, dataset.label, dataset.splits, segments=("train",)).train.fs


def test_tpe_finds_the_planted_reversal_window_within_the_budget(evaluator, synthetic_dataset):
    grid = {window: _train_fs(synthetic_dataset, REVERSAL, window=window) for window in range(2, 61)}
    optimum = max(grid, key=grid.get)
    tuned = Tuner(evaluator, TuningConfig(n_trials=32, patience=0)).tune(parse_program(REVERSAL), seed=1)
    assert optimum == 5  # the synthetic market plants a 5-day reversal
    assert tuned.best.params == {"window": optimum}
    assert tuned.best.train_fs == pytest.approx(grid[optimum], rel=1e-9)
    assert tuned.trials[0].params == {"window": 30} and len(tuned.trials) == 32


def test_the_written_back_program_has_the_tuned_defaults_and_reevaluates_to_them(evaluator):
    tuned = Tuner(evaluator, TuningConfig(n_trials=12)).tune(parse_program(REVERSAL), seed=2)
    assert tuned.program.defaults == tuned.best.params != {"window": 30}
    assert f"def factor(d, window={tuned.best.params['window']}):" in tuned.program.source
    [again] = evaluator.evaluate(tuned.program, [tuned.program.defaults], segments=("train",))
    assert again.fitness.train.fs == tuned.best.train_fs


@pytest.mark.parametrize("trial_stocks", [0, 40], ids=["every stock", "every 2nd stock"])
def test_the_same_seed_gives_the_same_trials_and_another_seed_others(evaluator, trial_stocks):
    tuner = Tuner(evaluator, TuningConfig(n_trials=16, patience=0, trial_stocks=trial_stocks))
    runs = [tuner.tune(parse_program(FRAGILE.replace("while window < 5", "while window < 0")), seed)
            for seed in (7, 7, 8)]
    trials = [[(t.params, t.train_fs) for t in run.trials] for run in runs]
    assert trials[0] == trials[1] != trials[2]


def test_trials_that_raise_or_time_out_are_failed_and_the_study_goes_on(evaluator):
    tuned = Tuner(evaluator, TuningConfig(n_trials=24, patience=0)).tune(parse_program(FRAGILE), seed=3)
    statuses = {t.evaluation.failure or "ok" for t in tuned.trials if t.repeat_of is None}
    assert {"ok", "raised", "timeout"} <= statuses
    assert len(tuned.trials) == 24 and tuned.stop == "budget"
    assert 5 <= tuned.best.params["window"] <= 30 and not math.isnan(tuned.best.train_fs)
    failed = [t for t in tuned.trials if t.evaluation.failure]
    assert all(math.isnan(t.train_fs) for t in failed)


def test_a_program_the_policy_refuses_costs_one_trial(evaluator):
    tuned = Tuner(evaluator, TuningConfig(n_trials=32)).tune(
        parse_program("import os\n\n\ndef factor(d, window=5):\n    return d.close\n"), seed=0)
    assert tuned.stop == "refused" and len(tuned.trials) == 1 and tuned.best is None
    assert tuned.trials[0].evaluation.failure == "policy"


def test_patience_stops_a_study_that_stopped_improving(evaluator):
    flat = REVERSAL.replace("-ts_mean(d.returns, window)", "-ts_mean(d.returns, 5) + 0 * window")
    tuned = Tuner(evaluator, TuningConfig(n_trials=32, n_parallel=2, patience=6)).tune(parse_program(flat), seed=0)
    # trial 0, six trials without a better one, and the batch of two already running when patience ran out
    assert tuned.stop == "patience" and len(tuned.trials) == 1 + 6 + 2 and tuned.best.number == 0


def test_repeated_parameters_are_not_run_again(evaluator):
    tuned = Tuner(evaluator, TuningConfig(n_trials=20, patience=0)).tune(parse_program(
        REVERSAL.replace('SEARCH_SPACE = {"window": (2, 60)}', 'SEARCH_SPACE = {"window": (3, 6)}')
        .replace("window=30", "window=4")), seed=0)
    distinct = [t for t in tuned.trials if t.repeat_of is None]
    assert sorted(t.params["window"] for t in distinct) == [3, 4, 5, 6]
    for trial in tuned.trials:
        if trial.repeat_of is not None:
            assert trial.train_fs == tuned.trials[trial.repeat_of].train_fs
            assert trial.params == tuned.trials[trial.repeat_of].params


def _trial(number: int, window: int, fs: float) -> Trial:
    if math.isnan(fs):
        return Trial(number, {"window": window}, Evaluation("p", "id", {"window": window}, None, "raised", "boom", 0))
    train = SegmentMetrics(ic=0.0, icir=0.0, rank_ic=0.0, rank_icir=0.0, fs=fs, coverage=1.0, turnover=0.0, n_days=9)
    return Trial(number, {"window": window}, Evaluation("p", "id", {"window": window}, Fitness(1, train), None, None, 0))


def test_neighbour_drop_is_near_zero_on_a_plateau_and_near_one_on_a_spike():
    space = search_space(parse_program(REVERSAL).params)
    plateau = [_trial(i, w, 0.30 - 0.001 * abs(w - 20)) for i, w in enumerate((20, 18, 22, 16, 24, 50))]
    spike = [_trial(i, w, 0.30 if w == 20 else 0.01) for i, w in enumerate((20, 18, 22, 16, 24, 50))]
    with_failures = [_trial(i, w, 0.30 if w == 20 else math.nan) for i, w in enumerate((20, 18, 22, 16, 24))]
    assert neighbour_drop(plateau, plateau[0], space) == pytest.approx((0.30 - 0.297) / 0.30)
    assert neighbour_drop(spike, spike[0], space) == pytest.approx(0.29 / 0.30)
    assert neighbour_drop(with_failures, with_failures[0], space) == pytest.approx(1.0)
    assert math.isnan(neighbour_drop(spike[:1], spike[0], space))


@pytest.mark.parametrize(("n_stocks", "trial_stocks", "stride"), [(500, 250, 2), (499, 250, 1), (5000, 250, 20),
                                                                  (500, 0, 1), (100, 250, 1)])
def test_trials_sample_every_kth_stock_keeping_at_least_trial_stocks(n_stocks, trial_stocks, stride):
    assert sample_stride(n_stocks, trial_stocks) == stride
