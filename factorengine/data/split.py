"""Split days into train / valid / test segments by time, with a gap of the label horizon, and cut train into
walk-forward folds purged the same way."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEGMENTS = ("train", "valid", "test")
FOLDS = 5
MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class Splits:
    """Day-index ranges [start, stop) of each segment; segments are separated by `gap` unused days.

    `folds` cut train into contiguous ranges with `gap` days dropped at each cut. A segment or fold scored on
    fewer than `min_coverage` of its days has no FS there.
    """

    train: tuple[int, int]
    valid: tuple[int, int]
    test: tuple[int, int]
    gap: int
    folds: tuple[tuple[int, int], ...] = ()
    min_coverage: float = MIN_COVERAGE

    def days(self, segment: str) -> slice:
        """Return the day slice of 'train', 'valid' or 'test'."""
        start, stop = getattr(self, segment)
        return slice(start, stop)


def split_days(dates: np.ndarray, horizon: int = 1, fractions: tuple[float, float] = (0.6, 0.2),
               valid_start: str | None = None, test_start: str | None = None, folds: int = FOLDS,
               min_coverage: float = MIN_COVERAGE) -> Splits:
    """Split `dates` [T] into train/valid/test by fractions of days, or at explicit start dates.

    A label at day t uses closes up to t + 1 + horizon, so `horizon` days are dropped before valid and
    before test (and at each cut between train's folds): no label of an earlier range overlaps the returns
    of a later one.
    """
    n_days = len(dates)
    train_end = _boundary(dates, valid_start, fractions[0])
    valid_end = _boundary(dates, test_start, fractions[0] + fractions[1])
    splits = Splits(train=(0, train_end), valid=(train_end + horizon, valid_end),
                    test=(valid_end + horizon, n_days), gap=horizon,
                    folds=walk_forward_folds(train_end, folds, horizon), min_coverage=min_coverage)
    for segment in SEGMENTS:
        start, stop = getattr(splits, segment)
        if stop - start < 2:
            raise ValueError(f"the {segment} segment has {max(stop - start, 0)} days out of {n_days}; "
                             "use more data, other fractions or other split dates")
    return splits


def walk_forward_folds(n_days: int, folds: int, gap: int) -> tuple[tuple[int, int], ...]:
    """`folds` contiguous ranges covering days [0, n_days), each after the first starting `gap` days later."""
    edges = np.linspace(0, n_days, folds + 1).round().astype(int)
    return tuple((int(start) + (gap if k else 0), int(stop))
                 for k, (start, stop) in enumerate(zip(edges[:-1], edges[1:])))


def _boundary(dates: np.ndarray, start: str | None, fraction: float) -> int:
    if start is None:
        return int(round(len(dates) * fraction))
    return int(np.searchsorted(dates, np.datetime64(start, "D")))
