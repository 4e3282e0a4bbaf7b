"""Time splits: 60/20/20 by default, explicit dates on request, a label-horizon gap between segments."""
import numpy as np
import pytest

from factorengine.data import split_days

DATES = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + 100)


def test_split_days_cuts_60_20_20_by_time_with_a_horizon_gap():
    splits = split_days(DATES, horizon=1)
    assert (splits.train, splits.valid, splits.test) == ((0, 60), (61, 80), (81, 100))


def test_split_days_gap_grows_with_the_horizon():
    splits = split_days(DATES, horizon=5)
    assert splits.valid[0] - splits.train[1] == 5 and splits.test[0] - splits.valid[1] == 5


def test_split_days_starts_segments_at_explicit_dates():
    splits = split_days(DATES, horizon=1, valid_start="2020-02-10", test_start="2020-03-01")
    assert splits.train == (0, 40) and splits.valid == (41, 60) and splits.test == (61, 100)


def test_split_days_labels_of_one_segment_never_reach_the_next():
    horizon = 3
    splits = split_days(DATES, horizon=horizon)
    last_train_label_day = splits.train[1] - 1 + 1 + horizon
    first_valid_return_day = splits.valid[0] + 1
    assert last_train_label_day <= first_valid_return_day


def test_split_days_refuses_a_segment_too_short():
    with pytest.raises(ValueError, match="the test segment has"):
        split_days(DATES[:10], horizon=1, fractions=(0.6, 0.38))
