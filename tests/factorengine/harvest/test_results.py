"""The harvest's results file: one writer, one reader, and what a round trip keeps."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from factorengine.harvest.backtest import PortfolioMetrics
from factorengine.harvest.chance import Significance
from factorengine.harvest.results import RESULTS, BacktestResult, EliteResult, HarvestResults, ModelSummary, load, save
from factorengine.harvest.stability import Stability
from factorengine.score.fitness import SegmentMetrics


def _results() -> HarvestResults:
    metrics = SegmentMetrics(0.01, 0.1, 0.02, 0.2, 0.3, 0.9, 0.1, 20)
    elite = EliteResult(7, {"train": {"fs": 0.5}, "valid": {"fs": 0.4}, "test": {}},
                        Stability({2019: 0.02, 2020: -0.01}, 0.5, 2020, -0.01), Significance(3.0, 2.0, 0.02),
                        np.array([np.nan, 0.1, np.inf, -0.2]), np.array([-0.1, 0.0, 0.1, 0.2, np.nan]), math.nan)
    portfolio = PortfolioMetrics(0.1, 0.2, 0.5, 0.01, 0.1, -0.05, 0.1)
    return HarvestResults(("2020-01-01", "2020-01-02", "2020-01-03", "2020-01-06"),
                          {"train": (0, 2), "valid": (2, 3), "test": (3, 4)}, (elite,),
                          {"elites": ModelSummary({"test": metrics}, 12, {"node 7": 1.5}, {2020: 0.03})},
                          BacktestResult(50, 5, 10.0, portfolio, np.array([0.01]), np.array([np.nan]),
                                         np.array([0.5]), np.array([np.nan]), {0.0: portfolio, 12.5: portfolio}),
                          0.4, 3, np.array([[1.0]]))


def test_a_saved_result_loads_back_and_saves_to_the_same_bytes(tmp_path):
    first = save(_results(), tmp_path).read_bytes()
    loaded = load(tmp_path)
    assert save(loaded, tmp_path).read_bytes() == first
    elite = loaded.elites[0]
    np.testing.assert_array_equal(elite.daily_rank_ic, [np.nan, 0.1, np.nan, -0.2])  # +-inf is stored as unknown
    assert math.isnan(elite.long_short_annual) and elite.stability.years == {2019: 0.02, 2020: -0.01}
    assert loaded.splits["test"] == (3, 4) and loaded.models["elites"].metrics["test"].rank_ic == 0.02
    assert loaded.models["elites"].test_years == {2020: 0.03} and list(loaded.backtest.by_cost) == [0.0, 12.5]
    assert loaded.cleared == 3 and loaded.correlations.tolist() == [[1.0]]
    assert json.loads(first)["elites"][0]["daily_rank_ic"] == [None, 0.1, None, -0.2]


def test_results_written_before_stability_and_significance_load_without_them(tmp_path):
    save(_results(), tmp_path)
    plain = json.loads((tmp_path / RESULTS).read_text())
    for elite in plain["elites"]:
        del elite["stability"], elite["significance"]
    (tmp_path / RESULTS).write_text(json.dumps(plain, allow_nan=True))
    [elite] = load(tmp_path).elites
    assert elite.stability is None and elite.significance is None


def test_a_harvest_directory_without_results_loads_as_none(tmp_path):
    assert load(tmp_path) is None


def test_results_written_before_the_cost_sensitivity_are_refused_with_the_fix(tmp_path):
    save(_results(), tmp_path)
    plain = json.loads((tmp_path / RESULTS).read_text())
    del plain["backtest"]["by_cost"]
    (tmp_path / RESULTS).write_text(json.dumps(plain, allow_nan=True))
    with pytest.raises(ValueError, match="no field 'by_cost'.*run `factorengine harvest` again"):
        load(tmp_path)
