"""Daily IC / RankIC of a factor against forward returns, and the fitness score per segment.

FS = (10 * IC + ICIR + 10 * RankIC + RankICIR) / 4 on the factor oriented by the sign of its train RankIC;
ICIR is the mean over the standard deviation (ddof=1) of the daily series, not annualized.
A segment scored on fewer than `Splits.min_coverage` of its days has no FS (NaN): a program scored on a few
lucky days must not lead anything. Train also gets an FS per walk-forward fold (`Splits.folds`), from the same
daily series, and the search ranks programs by their mean less its standard error (`robust_fs`), so a
program that wins on one lucky stretch ranks below one that wins on most.
A day is scored when at least MIN_STOCKS stocks have a value and a label, and at least MIN_STOCKS of them differ
from the value most of them share: a near-constant factor's IC comes from the handful of stocks that differ.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Sequence

import bottleneck as bn
import numpy as np

from factorengine.data.label import Label
from factorengine.data.split import SEGMENTS, Splits
from factorengine.ops import rank
from factorengine.score.metrics import SegmentMetrics

MIN_STOCKS = 30
TRAIN_VALID = ("train", "valid")  # what the search may see; test is scored only when asked


@dataclass(frozen=True)
class Fitness:
    """Metrics per scored segment of a factor oriented by `orientation` (+1 or -1, the sign of train RankIC).

    Train is always scored; valid is None only for a tuning trial (scored on train alone), test unless asked.
    """

    orientation: int
    train: SegmentMetrics
    valid: SegmentMetrics | None = None
    test: SegmentMetrics | None = None


@dataclass(frozen=True)
class DailySeries:
    """Per-day statistics [T] of an unoriented factor; NaN on days that were not scored."""

    ic: np.ndarray
    rank_ic: np.ndarray
    rank_autocorr: np.ndarray
    coverage: np.ndarray


def daily_series(values: np.ndarray, label: Label, min_stocks: int = MIN_STOCKS) -> DailySeries:
    """Daily Pearson IC, Spearman RankIC (average ranks), rank autocorrelation and coverage of `values`."""
    values, ranks, label_ranks, scored = _ranked(values, label, min_stocks)
    autocorr = np.full(len(values), np.nan)
    autocorr[1:] = daily_correlation(ranks[1:], ranks[:-1], min_stocks)
    listed = np.maximum(label.known.sum(axis=1), 1)
    return DailySeries(ic=daily_correlation(values, label.values, min_stocks),
                       rank_ic=daily_correlation(ranks, label_ranks, min_stocks),
                       rank_autocorr=autocorr, coverage=scored.sum(axis=1) / listed)


def daily_rank_ic(values: np.ndarray, label: Label, min_stocks: int = MIN_STOCKS) -> np.ndarray:
    """Daily Spearman RankIC [T] of `values` (average ranks); NaN on days not scored (see the module)."""
    _, ranks, label_ranks, _ = _ranked(values, label, min_stocks)
    return daily_correlation(ranks, label_ranks, min_stocks)


def _ranked(values: np.ndarray, label: Label, min_stocks: int) -> tuple[np.ndarray, ...]:
    """Finite values, their daily ranks and the label's, both over the stocks scored that day, and that mask.

    Near-constant days are blanked. Pearson correlation of percentile ranks equals Spearman correlation,
    since it ignores each day's scale.
    """
    values = np.where(np.isfinite(values), values, np.nan)
    scored = ~np.isnan(values) & label.known
    ranks = rank(np.where(scored, values, np.nan))
    flat = near_constant_days(ranks, min_stocks)
    values[flat], ranks[flat], scored[flat] = np.nan, np.nan, False
    label_ranks = label.ranks.copy()
    label_ranks[flat] = np.nan
    narrower = ~(scored == label.known).all(axis=1) & ~flat  # days where some labelled stock has no value
    label_ranks[narrower] = rank(np.where(scored[narrower], label.values[narrower], np.nan))
    return values, ranks, label_ranks, scored


def near_constant_days(ranks: np.ndarray, min_stocks: int = MIN_STOCKS) -> np.ndarray:
    """Days [T] on which fewer than `min_stocks` ranked stocks differ from the value most of them share.

    `ranks` are daily percentile ranks with ties averaged, so the stocks sharing a value share its rank.
    """
    count = np.count_nonzero(~np.isnan(ranks), axis=1)
    # One value held by more than half the stocks takes > 12 % of the rank variance an untied day has,
    # so only days keeping < 90 % of it (cheap to find) need the exact count around their median.
    with np.errstate(divide="ignore", invalid="ignore"):
        untied = (count.astype(float) ** 2 - 1) / (12 * count.astype(float) ** 2)
        tied = bn.nanvar(ranks, axis=1) < 0.9 * untied
    flat = np.zeros(len(ranks), dtype=bool)
    if tied.any():
        candidates = ranks[tied]
        shared = np.count_nonzero(candidates == bn.nanmedian(candidates, axis=1)[:, None], axis=1)
        flat[tied] = (2 * shared > count[tied]) & (count[tied] - shared < min_stocks)
    return flat


def daily_correlation(x: np.ndarray, y: np.ndarray, min_stocks: int = MIN_STOCKS) -> np.ndarray:
    """Per-row Pearson correlation [T] over cells finite in both; NaN for rows with < min_stocks such cells."""
    both = ~(np.isnan(x) | np.isnan(y))
    count = np.count_nonzero(both, axis=1)
    safe = np.maximum(count, 1)
    xc, yc = np.where(both, x, 0.0), np.where(both, y, 0.0)  # centred in place below: few passes, few copies
    xc -= (xc.sum(axis=1) / safe)[:, None]
    yc -= (yc.sum(axis=1) / safe)[:, None]
    xc *= both
    yc *= both
    denominator = np.sqrt(np.einsum("ij,ij->i", xc, xc) * np.einsum("ij,ij->i", yc, yc))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.einsum("ij,ij->i", xc, yc) / denominator
    corr[(count < min_stocks) | (denominator == 0)] = np.nan
    return corr


def score(values: np.ndarray, label: Label, splits: Splits, *, segments: Sequence[str] = TRAIN_VALID,
          min_stocks: int = MIN_STOCKS) -> Fitness:
    """Score a factor [T, N] against `label` on train and `segments`, oriented by its train RankIC.

    Days after the last asked segment are not scored at all (a train-only score reads 60 % of the panel).
    """
    unknown = sorted(set(segments) - set(SEGMENTS))
    if unknown:
        raise ValueError(f"unknown segments {unknown}; choose from {SEGMENTS}")
    end = max(splits.days(segment).stop for segment in ("train", *segments))
    series = daily_series(values[:end], Label(label.values[:end], label.ranks[:end], label.known[:end]),
                          min_stocks)
    train_rank_ic = np.nanmean(series.rank_ic[splits.days("train")]) if _n(series, splits, "train") else 0.0
    orientation = -1 if train_rank_ic < 0 else 1
    metrics = {segment: segment_metrics(series, splits.days(segment), orientation, splits.min_coverage)
               for segment in SEGMENTS if segment == "train" or segment in segments}
    folds = tuple(segment_metrics(series, slice(*fold), orientation, splits.min_coverage).fs for fold in splits.folds)
    metrics["train"] = dataclasses.replace(metrics["train"], folds=folds)
    return Fitness(orientation=orientation, **metrics)


def _n(series: DailySeries, splits: Splits, segment: str) -> int:
    return int(np.count_nonzero(~np.isnan(series.rank_ic[splits.days(segment)])))


def segment_metrics(series: DailySeries, days: slice, orientation: int = 1,
                    min_coverage: float = 0.0) -> SegmentMetrics:
    """Aggregate the daily series over `days` for a factor multiplied by `orientation`; no FS (NaN) when fewer
    than `min_coverage` of the days were scored."""
    ic, icir = _mean_ir(orientation * series.ic[days])
    rank_ic, rank_icir = _mean_ir(orientation * series.rank_ic[days])
    with np.errstate(invalid="ignore"):
        turnover = 1.0 - np.nanmean(series.rank_autocorr[days]) if _any(series.rank_autocorr[days]) else np.nan
    n_days = int(np.count_nonzero(~np.isnan(series.rank_ic[days])))
    covered = n_days >= min_coverage * len(series.rank_ic[days])
    return SegmentMetrics(ic=ic, icir=icir, rank_ic=rank_ic, rank_icir=rank_icir,
                          fs=(10 * ic + icir + 10 * rank_ic + rank_icir) / 4 if covered else math.nan,
                          coverage=float(np.mean(series.coverage[days])), turnover=float(turnover), n_days=n_days)


def _any(x: np.ndarray) -> bool:
    return bool(np.any(~np.isnan(x)))


def _mean_ir(daily: np.ndarray) -> tuple[float, float]:
    daily = daily[~np.isnan(daily)]
    if len(daily) < 2:
        return np.nan, np.nan
    std = daily.std(ddof=1)
    return float(daily.mean()), float(daily.mean() / std) if std > 0 else np.nan
