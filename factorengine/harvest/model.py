"""Combine factors two ways: LightGBM fitted on train days alone, and an average of ranks with no fitted weights.

Features are the factors' cross-sectional percentile ranks per day (so a prediction for day t reads only day
t's factor values, which are causal); LightGBM's target is the label's daily percentile rank (robust to the fat
tails of raw returns). Neither combiner re-orients its prediction: test metrics are of the prediction as it is.

The combination is nested: the elites were chosen on the valid days, so a combiner early-stopped or tuned on
those days would learn the luck that got them chosen (the seeds carry no such bias, so the comparison would be
skewed). LightGBM therefore reads train days only and runs a fixed ROUNDS rounds at learning rate 0.05 with strong
regularization (15 leaves of at least 1,000 rows, two days of a 500-stock panel; an L2 penalty; 80 % row and
feature subsampling): at a daily RankIC near 0.01 the data support only a smooth, gentle tilt of the ranks, which
150 small steps reach without overfitting far enough to need a stopping rule chosen on held-out days.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import lightgbm as lgb
import numpy as np

from factorengine.data import SEGMENTS, Splits
from factorengine.data.label import Label
from factorengine.harvest.results import Combiner
from factorengine.ops import rank
from factorengine.score.fitness import SegmentMetrics, daily_series, segment_metrics

PARAMS: Mapping[str, object] = {
    "objective": "regression", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 1000,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 10.0,
    "deterministic": True, "force_row_wise": True, "num_threads": 2, "verbose": -1,
}
ROUNDS = 150


@dataclass(frozen=True)
class ModelResult:
    """A combination: predictions [T, N] (NaN where no factor has a value) and metrics per segment.

    `trees` and `importance` (feature name -> total gain) are LightGBM's; 0 and empty for the rank average.
    """

    predictions: np.ndarray
    metrics: Mapping[str, SegmentMetrics]
    trees: int
    importance: Mapping[str, float]
    booster: lgb.Booster | None


def features(factors: Mapping[str, np.ndarray]) -> np.ndarray:
    """Stack factor values [T, N] as ranked features [T, N, K]."""
    return np.stack([rank(values) for values in factors.values()], axis=-1)


def fit_model(factors: Mapping[str, np.ndarray], label: Label, splits: Splits, *, seed: int = 0) -> ModelResult:
    """Fit LightGBM for ROUNDS rounds on train days alone and predict all days; valid and test are never read."""
    x = features(factors)
    train = splits.days("train")
    rows = _rows(x, label, train)
    data = lgb.Dataset(x[train][rows], label.ranks[train][rows] - 0.5, feature_name=list(factors),
                       free_raw_data=True)
    booster = lgb.train({**PARAMS, "seed": seed}, data, num_boost_round=ROUNDS)
    importance = dict(zip(factors, booster.feature_importance(importance_type="gain").tolist()))
    return _result(predict(booster, x), label, splits, booster.num_trees(), importance, booster)


def rank_average(factors: Mapping[str, np.ndarray], label: Label, splits: Splits) -> ModelResult:
    """Each day's mean over factors of their percentile ranks, over the factors with a value; nothing is fitted."""
    x = features(factors)
    present = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        predictions = np.where(present, x, 0.0).sum(axis=-1) / present.sum(axis=-1)
    return _result(predictions, label, splits, 0, {}, None)


COMBINERS: Mapping[Combiner, Callable[[Mapping[str, np.ndarray], Label, Splits], ModelResult]] = {
    "LightGBM": fit_model, "rank average": rank_average}


def combine(factors: Mapping[str, np.ndarray], label: Label, splits: Splits) -> dict[Combiner, ModelResult]:
    """The factors combined by each of COMBINERS."""
    return {combiner: fit(factors, label, splits) for combiner, fit in COMBINERS.items()}


def predict(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """Predictions [T, N] from ranked features [T, N, K]; NaN where every feature is missing."""
    flat = x.reshape(-1, x.shape[-1])
    known = ~np.isnan(flat).all(axis=1)
    out = np.full(len(flat), np.nan)
    out[known] = booster.predict(flat[known])
    return out.reshape(x.shape[:2])


def _result(predictions: np.ndarray, label: Label, splits: Splits, trees: int, importance: Mapping[str, float],
            booster: lgb.Booster | None) -> ModelResult:
    series = daily_series(predictions, label)
    metrics = {segment: segment_metrics(series, splits.days(segment)) for segment in SEGMENTS}
    return ModelResult(predictions, metrics, trees, importance, booster)


def _rows(x: np.ndarray, label: Label, days: slice) -> np.ndarray:
    """Cells of `days` with a known label and at least one factor value."""
    return label.known[days] & ~np.isnan(x[days]).all(axis=-1)
