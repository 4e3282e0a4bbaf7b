"""The metrics of one scored segment, as the store keeps them and the reports read them: numpy only, so reading
a run (`factorengine status`) needs none of the scoring's libraries."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SegmentMetrics:
    """Oriented metrics of one segment; NaN when fewer than two days could be scored."""

    ic: float
    icir: float
    rank_ic: float
    rank_icir: float
    fs: float
    coverage: float
    turnover: float
    n_days: int
    folds: tuple[float, ...] = ()  # FS per walk-forward fold (train only), NaN where a fold is not covered

    @property
    def robust_fs(self) -> float:
        """Mean fold FS less its standard error, an uncovered fold counting as 0; the FS when there are no folds."""
        if not self.folds or math.isnan(self.fs):
            return self.fs
        folds = np.nan_to_num(np.asarray(self.folds, dtype=float), nan=0.0)
        return float(folds.mean() - folds.std(ddof=1) / math.sqrt(len(folds))) if len(folds) > 1 else float(folds[0])
