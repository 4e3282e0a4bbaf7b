"""Segment metrics: the robust FS is the mean fold FS less its standard error, an uncovered fold counting as 0."""
import math

import pytest

from factorengine.score.metrics import SegmentMetrics


def _metrics(fs: float, folds: tuple[float, ...]) -> SegmentMetrics:
    return SegmentMetrics(ic=0.01, icir=0.1, rank_ic=0.02, rank_icir=0.2, fs=fs, coverage=1.0, turnover=0.1,
                          n_days=100, folds=folds)


def test_robust_fs_is_the_mean_fold_fs_less_its_standard_error():
    assert _metrics(0.3, (0.2, 0.4, math.nan)).robust_fs == pytest.approx(0.2 - 0.2 / math.sqrt(3))


def test_robust_fs_is_the_fs_without_folds_or_without_an_fs():
    assert _metrics(0.3, ()).robust_fs == 0.3
    assert math.isnan(_metrics(math.nan, (0.2, 0.4)).robust_fs)
