"""A run's train, valid and test as dates, and in words: pure Python, so reading the segments a run recorded
(`factorengine status`) needs no data libraries; `factorengine.data.segment_ranges` cuts them from a panel."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

SEGMENTS = ("train", "valid", "test")  # in time order


@dataclass(frozen=True)
class SegmentRange:
    """One segment's first and last day (YYYY-MM-DD), its number of days and its walk-forward folds (0 if none)."""

    segment: str
    first: str
    last: str
    days: int
    folds: int = 0

    def __str__(self) -> str:
        folds = f", {self.folds} folds" if self.folds else ""
        return f"{self.segment} {self.first}..{self.last} ({self.days} days{folds})"


def describe_segments(ranges: Sequence[SegmentRange]) -> str:
    """The segments in one line: 'segments: train 2010-01-04..2017-06-30 (1880 days, 5 folds); valid ...'."""
    return "segments: " + "; ".join(map(str, ranges))
