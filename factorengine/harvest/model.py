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
from factorengine.harvest.features import Features
from factorengine.harvest.results import Combiner
from factorengine.score.fitness import daily_series, segment_metrics
from factorengine.score.metrics import SegmentMetrics

PARAMS: Mapping[str, object] = {
    "objective": "regression", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 1000,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 10.0,
    "deterministic": True, "force_row_wise": True, "num_threads": 2, "verbose": -1,
}
ROUNDS = 150


@dataclass(frozen=True)
class ModelResult:
    """A combination: predictions [T, N] (NaN where no factor has a value), their daily RankIC [T] and metrics per
    segment.

    `trees` and `importance` (feature name -> total gain) are LightGBM's; 0 and empty for the rank average.
    """

    predictions: np.ndarray
    daily_rank_ic: np.ndarray
    metrics: Mapping[str, SegmentMetrics]
    trees: int
    importance: Mapping[str, float]
    booster: lgb.Booster | None


def fit_model(features: Features, label: Label, splits: Splits, *, seed: int = 0,
              on_round: Callable[[int], None] = lambda done: None) -> ModelResult:
    """Fit LightGBM for ROUNDS rounds on train days alone and predict all days; valid and test are never read.

    `on_round` is called with the rounds done after each round.
    """
    train = splits.days("train")
    rows = label.known[train] & features.any_value(train)
    data = lgb.Dataset(_train_matrix(features, train, rows), label.ranks[train][rows] - 0.5,
                       feature_name=list(features.names), free_raw_data=True)  # its float64 rows go once built
    booster = lgb.train({**PARAMS, "seed": seed}, data, num_boost_round=ROUNDS,
                        callbacks=[lambda env: on_round(env.iteration + 1)])
    importance = dict(zip(features.names, booster.feature_importance(importance_type="gain").tolist()))
    return _result(predict(booster, features), label, splits, booster.num_trees(), importance, booster)


def rank_average(features: Features, label: Label, splits: Splits) -> ModelResult:
    """Each day's mean over factors of their percentile ranks, over the factors with a value; nothing is fitted."""
    predictions = np.empty(features.shape[:2])
    for days in features.blocks():
        x = features.ranks(days)
        present = ~np.isnan(x)
        with np.errstate(invalid="ignore"):
            predictions[days] = np.where(present, x, 0.0).sum(axis=-1) / present.sum(axis=-1)
    return _result(predictions, label, splits, 0, {}, None)


def combine(features: Features, label: Label, splits: Splits,
            on_round: Callable[[int], None] = lambda done: None) -> dict[Combiner, ModelResult]:
    """The features combined by LightGBM and by the rank average (`on_round`: LightGBM's rounds done)."""
    return {"LightGBM": fit_model(features, label, splits, on_round=on_round),
            "rank average": rank_average(features, label, splits)}


def predict(booster: lgb.Booster, features: Features) -> np.ndarray:
    """Predictions [T, N] from the features; NaN where every feature is missing."""
    out = np.full(features.shape[:2], np.nan)
    for days in features.blocks():
        flat = features.ranks(days).reshape(-1, features.shape[-1])
        known = ~np.isnan(flat).all(axis=1)
        if known.any():
            out[days].reshape(-1)[known] = booster.predict(flat[known])
    return out


def _result(predictions: np.ndarray, label: Label, splits: Splits, trees: int, importance: Mapping[str, float],
            booster: lgb.Booster | None) -> ModelResult:
    series = daily_series(predictions, label)
    metrics = {segment: segment_metrics(series, splits.days(segment)) for segment in SEGMENTS}
    return ModelResult(predictions, series.rank_ic, metrics, trees, importance, booster)


def _train_matrix(features: Features, days: slice, rows: np.ndarray) -> np.ndarray:
    """The float64 features [rows, K] of the cells `rows` [days, N], filled a block of days at a time."""
    x = np.empty((np.count_nonzero(rows), features.shape[-1]))
    filled = 0
    for block in features.blocks(days):
        chosen = rows[block.start - days.start:block.stop - days.start]
        n = np.count_nonzero(chosen)
        if n:
            x[filled:filled + n] = features.ranks(block)[chosen]
            filled += n
    return x
