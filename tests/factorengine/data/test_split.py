"""Time splits: 60/20/20 by default, explicit dates on request, a label-horizon gap between segments; settings
that cannot be are refused naming the [data] key; each segment's date range."""
import numpy as np
import pytest

from factorengine.config import DataConfig
from factorengine.data import DataError, segment_ranges, split_days
from factorengine.segments import SegmentRange

DATES = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + 100)


def test_split_days_cuts_60_20_20_by_time_with_a_horizon_gap():
    splits = split_days(DATES)
    assert (splits.train, splits.valid, splits.test) == ((0, 60), (61, 80), (81, 100))


def test_split_days_gap_grows_with_the_horizon():
    splits = split_days(DATES, DataConfig(horizon=5))
    assert splits.valid[0] - splits.train[1] == 5 and splits.test[0] - splits.valid[1] == 5


def test_split_days_starts_segments_at_explicit_dates():
    splits = split_days(DATES, DataConfig(valid_start="2020-02-10", test_start="2020-03-01"))
    assert splits.train == (0, 40) and splits.valid == (41, 60) and splits.test == (61, 100)


def test_split_days_labels_of_one_segment_never_reach_the_next():
    horizon = 3
    splits = split_days(DATES, DataConfig(horizon=horizon))
    last_train_label_day = splits.train[1] - 1 + 1 + horizon
    first_valid_return_day = splits.valid[0] + 1
    assert last_train_label_day <= first_valid_return_day


def test_split_days_refuses_fractions_that_leave_test_empty():
    with pytest.raises(DataError) as error:
        split_days(DATES[:10], DataConfig(valid_fraction=0.38))
    assert str(error.value) == ("[data] train_fraction = 0.6, valid_fraction = 0.38: the test segment would have 0 of "
                                "the data's 10 days (2020-01-01..2020-01-10); it needs 2 or more: choose other dates "
                                "or fractions, or use more data")


def test_split_days_refuses_a_test_start_after_the_data_s_last_day():
    with pytest.raises(DataError) as error:
        split_days(DATES, DataConfig(test_start="2031-01-01"))
    assert str(error.value) == ("[data] test_start = 2031-01-01 is after the data's last day 2020-04-09; choose a "
                                "date between 2020-01-01 and 2020-04-09")


def test_split_days_refuses_a_valid_start_before_the_data_s_first_day():
    with pytest.raises(DataError) as error:
        split_days(DATES, DataConfig(valid_start="2019-12-31"))
    assert str(error.value).startswith("[data] valid_start = 2019-12-31 is before the data's first day 2020-01-01;")


def test_split_days_refuses_a_valid_start_not_before_the_test_start():
    with pytest.raises(DataError) as error:
        split_days(DATES, DataConfig(valid_start="2020-03-01", test_start="2020-02-10"))
    assert str(error.value) == ("[data] valid_start = 2020-03-01, test_start = 2020-02-10: valid would begin on "
                                "2020-03-01, not before test on 2020-02-10; valid must begin before test")


def test_split_days_refuses_dates_that_leave_valid_under_2_days():
    with pytest.raises(DataError) as error:
        split_days(DATES, DataConfig(valid_start="2020-02-10", test_start="2020-02-12"))
    assert str(error.value).startswith("[data] valid_start = 2020-02-10, test_start = 2020-02-12: the valid segment "
                                       "would have 1 of the data's 100 days")


def test_split_days_refuses_more_folds_than_train_can_hold():
    with pytest.raises(DataError) as error:
        split_days(DATES, DataConfig(folds=40))
    assert str(error.value) == ("[data] folds = 40: train's 60 days make a fold of 0 days; each needs 2 or more: "
                                "choose fewer folds")


def test_segment_ranges_give_each_segment_s_first_and_last_day_and_train_s_folds():
    ranges = segment_ranges(DATES, split_days(DATES, DataConfig(folds=3)))
    assert ranges == (SegmentRange("train", "2020-01-01", "2020-02-29", 60, 3),
                      SegmentRange("valid", "2020-03-02", "2020-03-20", 19),
                      SegmentRange("test", "2020-03-22", "2020-04-09", 19))
