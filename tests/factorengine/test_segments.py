"""Segment ranges in words: each segment's first and last day, its days, and train's walk-forward folds."""
from factorengine.segments import SegmentRange, describe_segments


def test_describe_segments_names_every_range_on_one_line():
    ranges = (SegmentRange("train", "2020-01-01", "2020-02-29", 60, 5), SegmentRange("valid", "2020-03-02",
              "2020-03-20", 19), SegmentRange("test", "2020-03-22", "2020-04-09", 19))
    assert describe_segments(ranges) == ("segments: train 2020-01-01..2020-02-29 (60 days, 5 folds); valid "
                                         "2020-03-02..2020-03-20 (19 days); test 2020-03-22..2020-04-09 (19 days)")
