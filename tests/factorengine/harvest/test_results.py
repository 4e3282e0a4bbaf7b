"""The harvest's results file: one writer, one reader, and what a round trip keeps."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from factorengine.harvest.backtest import PortfolioMetrics
from factorengine.harvest.chance import Significance
from factorengine.harvest.results import BacktestResult, EliteResult, HarvestResults, ModelKey, ModelSummary, load, save
from factorengine.harvest.stability import Stability
from factorengine.harvest.verdict import Difference, Verdict
from factorengine.score.metrics import SegmentMetrics


def _results() -> HarvestResults:
    metrics = SegmentMetrics(0.01, 0.1, 0.02, 0.2, 0.3, 0.9, 0.1, 20)
    elite = EliteResult(7, {"train": {"fs": 0.5}, "valid": {"fs": 0.4}, "test": {}},
                        Stability({2019: 0.02, 2020: -0.01}, 0.5, 2020, -0.01), Significance(3.0, 2.0, 0.02),
                        np.array([np.nan, 0.1, np.inf, -0.2]), np.array([-0.1, 0.0, 0.1, 0.2, np.nan]), math.nan)
    portfolio = PortfolioMetrics(0.1, 0.2, 0.5, 0.01, 0.1, -0.05, 0.1)
    return HarvestResults(("2020-01-01", "2020-01-02", "2020-01-03", "2020-01-06"),
                          {"train": (0, 2), "valid": (2, 3), "test": (3, 4)}, (elite,),
                          {ModelKey("elites", "LightGBM"): ModelSummary({"test": metrics}, 12, {"node 7": 1.5},
                                                                        {2020: 0.03}),
                           ModelKey("elites", "rank average"): ModelSummary({"test": metrics}, 0, {}, {})},
                          BacktestResult(50, 5, 10.0, portfolio, np.array([0.01]), np.array([np.nan]),
                                         np.array([0.5]), np.array([np.nan]), {0.0: portfolio, 12.5: portfolio}),
                          0.4, 3, np.array([[1.0]]),
                          Verdict("2020-01-06", "2020-01-06", {"LightGBM": Difference(0.01, -0.02, 0.03, 1)}))


def test_a_saved_result_loads_back_and_saves_to_the_same_bytes(tmp_path):
    first = save(_results(), tmp_path).read_bytes()
    loaded = load(tmp_path)
    assert save(loaded, tmp_path).read_bytes() == first
    elite = loaded.elites[0]
    np.testing.assert_array_equal(elite.daily_rank_ic, [np.nan, 0.1, np.nan, -0.2])  # +-inf is stored as unknown
    assert math.isnan(elite.long_short_annual) and elite.stability.years == {2019: 0.02, 2020: -0.01}
    assert loaded.splits["test"] == (3, 4) and loaded.models["elites", "LightGBM"].metrics["test"].rank_ic == 0.02
    assert loaded.models["elites", "LightGBM"].test_years == {2020: 0.03}
    assert list(loaded.backtest.by_cost) == [0.0, 12.5]
    assert list(loaded.models) == [("elites", "LightGBM"), ("elites", "rank average")]
    assert loaded.verdict == _results().verdict
    assert loaded.cleared == 3 and loaded.correlations.tolist() == [[1.0]]
    assert json.loads(first)["elites"][0]["daily_rank_ic"] == [None, 0.1, None, -0.2]


def _saved_as_older(directory: Path, change: Callable[[dict], None]) -> None:
    """Save `_results()` in `directory`, then rewrite its JSON through `change` (as an older FactorEngine wrote it)."""
    path = save(_results(), directory)
    plain = json.loads(path.read_text())
    change(plain)
    path.write_text(json.dumps(plain, allow_nan=True))


def _without_stability(plain: dict) -> None:
    for elite in plain["elites"]:
        del elite["stability"], elite["significance"]


def _without_verdict_and_rank_average(plain: dict) -> None:
    del plain["verdict"]
    old = {key: value for key, value in plain["models"][0].items() if key not in ("factors", "combiner", "trees")}
    plain["models"] = {"elites": {**old, "best_iteration": 12}, "seeds": {**old, "best_iteration": 40}}


def test_results_written_before_stability_and_significance_load_without_them(tmp_path):
    _saved_as_older(tmp_path, _without_stability)
    [elite] = load(tmp_path).elites
    assert elite.stability is None and elite.significance is None


def test_results_written_before_the_verdict_and_the_rank_average_load_their_lightgbm_models(tmp_path):
    _saved_as_older(tmp_path, _without_verdict_and_rank_average)
    loaded = load(tmp_path)
    assert loaded.verdict is None
    assert {key: model.trees for key, model in loaded.models.items()} == {("elites", "LightGBM"): 12,
                                                                           ("seeds", "LightGBM"): 40}


def test_the_held_sign_share_counts_the_elites_with_a_positive_test_rank_ic():
    elite = _results().elites[0]
    elites = tuple(replace(elite, metrics={**elite.metrics, "test": {"rank_ic": ic}}) for ic in (0.01, -0.02, 0.0))
    results = replace(_results(), elites=elites)
    assert [e.held_sign for e in elites] == [True, False, False] and results.held_sign_share == 1 / 3
    assert not elite.held_sign  # no test RankIC


def test_a_harvest_directory_without_results_loads_as_none(tmp_path):
    assert load(tmp_path) is None


def test_results_written_before_the_cost_sensitivity_are_refused_with_the_fix(tmp_path):
    _saved_as_older(tmp_path, lambda plain: plain["backtest"].pop("by_cost"))
    with pytest.raises(ValueError, match="no field 'by_cost'.*run `factorengine harvest` again"):
        load(tmp_path)
