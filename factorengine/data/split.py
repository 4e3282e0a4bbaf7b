"""Split days into train / valid / test segments by time, with a gap of the label horizon, and cut train into
walk-forward folds purged the same way."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from factorengine.config import DataConfig
from factorengine.data.load import DataError
from factorengine.segments import SEGMENTS, SegmentRange


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
    folds: tuple[tuple[int, int], ...]
    min_coverage: float

    def days(self, segment: str) -> slice:
        """Return the day slice of 'train', 'valid' or 'test'."""
        start, stop = getattr(self, segment)
        return slice(start, stop)


def split_days(dates: np.ndarray, data: DataConfig = DataConfig()) -> Splits:
    """Split `dates` [T] into train/valid/test at `data`'s start dates, or by its fractions of days where empty.

    A label at day t uses closes up to t + 1 + horizon, so `horizon` days are dropped before valid and
    before test (and at each cut between train's folds): no label of an earlier range overlaps the returns
    of a later one. DataError, naming the [data] setting, for a date outside `dates`, valid not before test,
    or a segment or fold of fewer than 2 days.
    """
    for key in ("valid_start", "test_start"):
        _check_within(dates, key, getattr(data, key))
    train_end = _boundary(dates, data.valid_start, data.train_fraction)
    valid_end = _boundary(dates, data.test_start, data.train_fraction + data.valid_fraction)
    if valid_end <= train_end:
        raise DataError(f"[data] {_cuts(data)}: valid would begin on {_day(dates, train_end)}, not before test on "
                        f"{_day(dates, valid_end)}; valid must begin before test")
    gap = data.horizon
    splits = Splits(train=(0, train_end), valid=(train_end + gap, valid_end), test=(valid_end + gap, len(dates)),
                    gap=gap, folds=walk_forward_folds(train_end, data.folds, gap), min_coverage=data.min_coverage)
    _check_lengths(dates, data, splits)
    return splits


def walk_forward_folds(n_days: int, folds: int, gap: int) -> tuple[tuple[int, int], ...]:
    """`folds` contiguous ranges covering days [0, n_days), each after the first starting `gap` days later."""
    edges = np.linspace(0, n_days, folds + 1).round().astype(int)
    return tuple((int(start) + (gap if k else 0), int(stop))
                 for k, (start, stop) in enumerate(zip(edges[:-1], edges[1:])))


def segment_ranges(dates: np.ndarray, splits: Splits) -> tuple[SegmentRange, ...]:
    """The date range of train, valid and test, in that order; train carries the number of its folds."""
    return tuple(SegmentRange(segment, _day(dates, start), _day(dates, stop - 1), stop - start,
                              len(splits.folds) if segment == "train" else 0)
                 for segment, (start, stop) in ((s, getattr(splits, s)) for s in SEGMENTS))


def _check_within(dates: np.ndarray, key: str, start: str) -> None:
    if not start:
        return
    first, last = _day(dates, 0), _day(dates, len(dates) - 1)
    where = ("before the data's first day " + first if start < first else
             "after the data's last day " + last if start > last else "")
    if where:
        raise DataError(f"[data] {key} = {start} is {where}; choose a date between {first} and {last}")


def _cuts(data: DataConfig) -> str:
    """The [data] settings that place the first days of valid and test."""
    valid = f"valid_start = {data.valid_start}" if data.valid_start else f"train_fraction = {data.train_fraction}"
    test = f"test_start = {data.test_start}" if data.test_start else f"valid_fraction = {data.valid_fraction}"
    return f"{valid}, {test}"


def _check_lengths(dates: np.ndarray, data: DataConfig, splits: Splits) -> None:
    """DataError unless every segment and every fold of train has 2 days or more."""
    for segment in SEGMENTS:
        start, stop = getattr(splits, segment)
        if stop - start < 2:
            raise DataError(f"[data] {_cuts(data)}: the {segment} segment would have {max(stop - start, 0)} of the "
                            f"data's {len(dates)} days ({_day(dates, 0)}..{_day(dates, len(dates) - 1)}); it needs "
                            "2 or more: choose other dates or fractions, or use more data")
    shortest = min(stop - start for start, stop in splits.folds)
    if shortest < 2:
        raise DataError(f"[data] folds = {data.folds}: train's {splits.train[1]} days make a fold of "
                        f"{max(shortest, 0)} days; each needs 2 or more: choose fewer folds")


def _boundary(dates: np.ndarray, start: str, fraction: float) -> int:
    if not start:
        return int(round(len(dates) * fraction))
    return int(np.searchsorted(dates, np.datetime64(start, "D")))


def _day(dates: np.ndarray, index: int) -> str:
    return str(np.datetime_as_string(dates[index], unit="D"))
