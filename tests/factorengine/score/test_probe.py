"""The lookahead probe's comparison: cut points, first differing cell, and the refusal it reports."""
import numpy as np

from factorengine.score.probe import Lookahead, cut_rows, first_difference, probe_lookahead

DATES = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + 100)
SYMBOLS = np.array(["AAA", "BBB", "CCC"])


def test_cut_rows_keeps_35_60_and_85_percent_of_the_days():
    assert cut_rows(100) == (35, 60, 85)


def test_cut_rows_never_keeps_all_or_no_days():
    assert cut_rows(3, (0.0, 0.5, 1.0)) == (1, 2)


def test_first_difference_treats_nan_as_equal_to_nan():
    full = np.array([[np.nan, 1.0], [2.0, 3.0], [4.0, 5.0]])
    assert first_difference(full, full[:2].copy()) is None


def test_first_difference_finds_the_earliest_changed_cell():
    full = np.arange(12.0).reshape(4, 3)
    cut = full[:3].copy()
    cut[1, 2] = -1.0
    cut[2, 0] = -1.0
    assert first_difference(full, cut) == (1, 2)


def test_probe_lookahead_accepts_a_causal_program():
    full = np.cumsum(np.ones((100, 3)), axis=0)
    assert probe_lookahead(full, {rows: full[:rows].copy() for rows in cut_rows(100)}, DATES, SYMBOLS) is None


def test_probe_lookahead_names_the_first_date_and_stock_that_changed():
    full = np.cumsum(np.ones((100, 3)), axis=0)
    verdict = probe_lookahead(full, {rows: full[:rows] / full[rows - 1, 0] for rows in (35, 60)}, DATES, SYMBOLS)
    assert isinstance(verdict, Lookahead)
    assert (verdict.date, verdict.symbol, verdict.cut_date) == ("2020-01-01", "AAA", "2020-02-04")
    assert verdict.reason.startswith("lookahead: the value on 2020-01-01 for AAA is 1 on the full panel "
                                     "but 0.0285714 when the data end on 2020-02-04")


def test_probe_lookahead_passes_a_failing_cut_run_through():
    full = np.ones((100, 3))
    assert probe_lookahead(full, {35: full[:35], 60: "crashed"}, DATES, SYMBOLS) == "crashed"
