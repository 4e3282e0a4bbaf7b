"""A genetic-programming baseline: gplearn's SymbolicTransformer with time-series functions and a RankIC fitness.

As in the alphagen line of work, gplearn evolves expressions over stationary features under a budget of
evaluated programs; its best programs are then scored with our fitness on the valid and test days.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from gplearn._program import _Program
from gplearn.fitness import _Fitness, make_fitness
from gplearn.functions import _Function, make_function
from gplearn.genetic import SymbolicTransformer

from factorengine import ops
from factorengine.data import Dataset, Panel
from factorengine.data.label import make_label
from factorengine.score.fitness import daily_rank_ic, score

FEATURES = ("returns", "open_close", "high_close", "low_close", "vwap_close", "volume_ratio")
BUILTINS = ("add", "sub", "mul", "div", "neg", "abs", "log", "sqrt")
WINDOWS = (5, 10, 20)
CORR_WINDOWS = (10, 20)
TS_OPS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "ts_mean": ops.ts_mean, "ts_std": ops.ts_std, "ts_min": ops.ts_min, "ts_max": ops.ts_max,
    "ts_rank": ops.ts_rank, "delta": ops.delta, "delay": ops.delay,
}


@dataclass(frozen=True)
class GPProgram:
    """One evolved expression and its scores on our fitness."""

    expression: str  # gplearn's str(program), with feature names
    train_fs: float
    valid_fs: float
    test_rank_ic: float  # oriented by the sign of train RankIC, like our FS


@dataclass(frozen=True)
class GPRun:
    """What one gplearn run found at a budget of evaluations."""

    programs: tuple[GPProgram, ...]  # the best distinct programs by train fitness, best valid FS first (NaN last)
    evaluations: int  # programs evaluated: population_size * generations
    seconds: float


def run_gp(dataset: Dataset, evaluations: int, seed: int, population_size: int = 200, keep: int = 50,
           n_jobs: int = 1) -> GPRun:
    """Evolve factors with gplearn's SymbolicTransformer under a budget of `evaluations` programs.

    The `keep` distinct programs of any generation with the best train fitness are scored with ours.
    """
    start = time.perf_counter()
    features, missing = _features(dataset.panel)
    transformer = SymbolicTransformer(
        population_size=population_size, generations=1, warm_start=True,
        # its own pick of a decorrelated hall of fame is not used: every generation's programs are kept below
        hall_of_fame=2, n_components=1,
        function_set=_function_set(missing), metric=_train_rank_ic(dataset, missing),
        # no random constants: gplearn prints them with 3 decimals, so the expression would not be the factor
        const_range=None, init_depth=(1, 4), parsimony_coefficient=0.001, max_samples=1.0,
        feature_names=list(FEATURES), random_state=seed, n_jobs=n_jobs, verbose=0)
    # Evolution sees the train days only; the ts functions are causal, so their train rows are unchanged.
    train_rows = dataset.splits.days("train").stop * missing.shape[1]
    label = np.nan_to_num(dataset.label.values).ravel()
    found: dict[str, _Program] = {}
    generations = max(1, evaluations // population_size)
    # One generation per fit: gplearn drops earlier programs that left no offspring; a warm start evolves
    # exactly as one fit of all the generations would (it skips the random draws already made).
    for generation in range(1, generations + 1):
        transformer.set_params(generations=generation)
        transformer.fit(features[:train_rows], label[:train_rows])
        for program in transformer._programs[-1]:
            found.setdefault(str(program), program)  # the population repeats expressions it has converged on
    best = sorted(found.values(), key=lambda program: -program.raw_fitness_)[:keep]
    programs = [_scored(program, features, missing, dataset) for program in best]
    programs.sort(key=lambda p: (math.isnan(p.valid_fs), -p.valid_fs))
    return GPRun(tuple(programs), population_size * generations, time.perf_counter() - start)


def _features(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """Return (X [T * N, features] day-major with non-finite cells as 0, missing [T, N]: any feature not finite).

    Only stationary features: price and volume levels encode the future in back-adjusted data.
    """
    fields = panel.fields
    close = fields["close"]
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = [fields["returns"], fields["open"] / close - 1, fields["high"] / close - 1,
                   fields["low"] / close - 1, fields["vwap"] / close - 1,
                   fields["volume"] / ops.ts_mean(fields["volume"], 20) - 1]
    stacked = np.stack(columns, axis=-1)
    finite = np.isfinite(stacked)
    return np.where(finite, stacked, 0.0).reshape(-1, len(columns)), ~finite.all(axis=-1)


def _function_set(missing: np.ndarray) -> list[str | _Function]:
    """gplearn's arithmetic built-ins and our panel operators on a panel whose `missing` cells are NaN."""
    functions: list[str | _Function] = list(BUILTINS)
    for name, op in TS_OPS.items():
        functions += [_panel_function(f"{name}_{window}", op, 1, missing, window) for window in WINDOWS]
    functions += [_panel_function(f"ts_corr_{window}", ops.ts_corr, 2, missing, window)
                  for window in CORR_WINDOWS]
    functions.append(_panel_function("rank", ops.rank, 1, missing))
    return functions


def _panel_function(name: str, op: Callable[..., np.ndarray], arity: int, missing: np.ndarray,
                    *args: int) -> _Function:
    """A gplearn function applying `op(*panels, *args)` to flat day-major vectors."""
    if arity == 1:
        def function(x):
            return _on_panel(op, args, missing, x)
    else:
        def function(x, y):
            return _on_panel(op, args, missing, x, y)
    return make_function(function=function, name=name, arity=arity)


def _on_panel(op: Callable[..., np.ndarray], args: tuple[int, ...], missing: np.ndarray,
              *flat: np.ndarray) -> np.ndarray:
    """Apply op to the first days of the panel, missing cells as NaN, and flatten back with NaN as 0.

    Vectors that are not whole days of the panel (make_function's checks on length 10) pass through.
    """
    days, rest = divmod(flat[0].size, missing.shape[1])
    if rest or not 0 < days <= len(missing):
        return np.asarray(flat[0], dtype=np.float64)
    mask = missing[:days]
    result = op(*(np.where(mask, np.nan, x.reshape(days, -1)) for x in flat), *args)
    return np.where(np.isfinite(result), result, 0.0).ravel()


def _train_rank_ic(dataset: Dataset, missing: np.ndarray) -> _Fitness:
    """gplearn fitness: |mean daily RankIC| over the train days; 0 if it is undefined."""
    days = dataset.splits.days("train").stop
    mask = missing[:days]
    # Unlabelled where the features are missing: daily_rank_ic then need not re-rank the label each call.
    label = make_label(np.where(mask, np.nan, dataset.label.values[:days]))

    def train_rank_ic(y, y_pred, sample_weight):
        if y_pred.size != mask.size:  # make_fitness's check on length 2
            return 0.0
        daily = daily_rank_ic(np.where(mask, np.nan, y_pred.reshape(mask.shape)), label)
        if np.isnan(daily).all():  # constant on every day
            return 0.0
        return abs(float(np.nanmean(daily)))

    return make_fitness(function=train_rank_ic, greater_is_better=True)


def _scored(program: _Program, features: np.ndarray, missing: np.ndarray, dataset: Dataset) -> GPProgram:
    """Execute an evolved program on the whole panel and score it on train, valid and test."""
    values = np.where(missing, np.nan, program.execute(features).reshape(missing.shape))
    fitness = score(values, dataset.label, dataset.splits, segments=("valid", "test"))
    return GPProgram(str(program), fitness.train.fs, fitness.valid.fs, fitness.test.rank_ic)
