"""Combine factors with LightGBM: fit on train, stop early on valid, predict every day, score test.

Features are the factors' cross-sectional percentile ranks per day (so a prediction for day t reads only day
t's factor values, which are causal); the target is the label's daily percentile rank (robust to the fat tails
of raw returns). The model never re-orients its prediction: test metrics are of the prediction as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import lightgbm as lgb
import numpy as np

from factorengine.data import SEGMENTS, Splits
from factorengine.data.label import Label
from factorengine.ops import rank
from factorengine.score.fitness import SegmentMetrics, daily_series, segment_metrics

PARAMS: Mapping[str, object] = {
    "objective": "regression", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 200,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "deterministic": True, "force_row_wise": True, "num_threads": 2, "verbose": -1,
}
MAX_ROUNDS = 1000
EARLY_STOPPING_ROUNDS = 50


@dataclass(frozen=True)
class ModelResult:
    """A fitted combination: predictions [T, N] (NaN where no factor has a value) and metrics per segment."""

    predictions: np.ndarray
    metrics: Mapping[str, SegmentMetrics]
    best_iteration: int
    importance: Mapping[str, float]  # feature name -> total gain
    booster: lgb.Booster


def features(factors: Mapping[str, np.ndarray]) -> np.ndarray:
    """Stack factor values [T, N] as ranked features [T, N, K]."""
    return np.stack([rank(values) for values in factors.values()], axis=-1)


def fit_model(factors: Mapping[str, np.ndarray], label: Label, splits: Splits, *, seed: int = 0) -> ModelResult:
    """Fit on train days, stop early on valid days, predict all days; test is never used for fitting."""
    x = features(factors)
    target = label.ranks - 0.5
    datasets = {}
    for segment in ("train", "valid"):
        rows = _rows(x, label, splits.days(segment))
        datasets[segment] = (x[splits.days(segment)][rows], target[splits.days(segment)][rows])
    train = lgb.Dataset(*datasets["train"], feature_name=list(factors), free_raw_data=True)
    valid = lgb.Dataset(*datasets["valid"], reference=train)
    booster = lgb.train({**PARAMS, "seed": seed}, train, num_boost_round=MAX_ROUNDS, valid_sets=[valid],
                        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)])
    predictions = predict(booster, x)
    series = daily_series(predictions, label)
    metrics = {segment: segment_metrics(series, splits.days(segment)) for segment in SEGMENTS}
    importance = dict(zip(factors, booster.feature_importance(importance_type="gain").tolist()))
    return ModelResult(predictions, metrics, booster.best_iteration, importance, booster)


def predict(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """Predictions [T, N] from ranked features [T, N, K]; NaN where every feature is missing."""
    flat = x.reshape(-1, x.shape[-1])
    known = ~np.isnan(flat).all(axis=1)
    out = np.full(len(flat), np.nan)
    out[known] = booster.predict(flat[known], num_iteration=booster.best_iteration)
    return out.reshape(x.shape[:2])


def _rows(x: np.ndarray, label: Label, days: slice) -> np.ndarray:
    """Cells of `days` with a known label and at least one factor value."""
    return label.known[days] & ~np.isnan(x[days]).all(axis=-1)


def compare(results: Mapping[str, ModelResult], segment: str = "test") -> list[dict[str, float | str]]:
    """Rows of IC, ICIR, RankIC, RankICIR on `segment` for each named model (for the report's table)."""
    return [{"model": name, "ic": r.metrics[segment].ic, "icir": r.metrics[segment].icir,
             "rank_ic": r.metrics[segment].rank_ic, "rank_icir": r.metrics[segment].rank_icir,
             "fs": r.metrics[segment].fs} for name, r in results.items()]
