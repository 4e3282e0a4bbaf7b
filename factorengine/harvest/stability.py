"""How steady a factor is across years: its mean daily RankIC per calendar year of train and valid."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

if TYPE_CHECKING:
    from factorengine.data import Dataset

MIN_DAYS = 20  # a year with fewer scored days (the edges of a segment) is too short to judge


@dataclass(frozen=True)
class Stability:
    """Mean oriented RankIC per year (train and valid years), the share of years above 0, and the worst year."""

    years: Mapping[int, float]
    share: float
    worst_year: int | None
    worst: float


def yearly_stability(daily_rank_ic: np.ndarray, dataset: Dataset) -> Stability:
    """Per-year RankIC of an oriented factor over the train and valid days (test is never read)."""
    end = dataset.splits.days("valid").stop
    means = yearly_means(daily_rank_ic[:end], dataset.panel.dates[:end])
    if not means:
        return Stability({}, float("nan"), None, float("nan"))
    worst_year = min(means, key=means.get)
    return Stability(means, sum(v > 0 for v in means.values()) / len(means), worst_year, means[worst_year])


def yearly_means(daily: np.ndarray, dates: np.ndarray) -> dict[int, float]:
    """Mean of a daily series [T] per calendar year of `dates` [T], NaN days skipped; years under MIN_DAYS left out."""
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    means = {}
    for year in np.unique(years):
        scored = daily[(years == year) & ~np.isnan(daily)]
        if len(scored) >= MIN_DAYS:
            means[int(year)] = float(scored.mean())
    return means
