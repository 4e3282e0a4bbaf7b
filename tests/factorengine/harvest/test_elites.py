"""Harvest on the synthetic market: elites exported and re-evaluating to their metrics; the search sees no test
data."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from factorengine.cli import main
from factorengine.config import EvaluationConfig, RunConfig, SearchConfig, TuningConfig
from factorengine.data import make_dataset, synthetic_panel
from factorengine.data.label import Label, make_label
from factorengine.harvest import elites, results
from factorengine.harvest.stability import Stability
from factorengine.proposers.mutate import MutationProposer
from factorengine.score.evaluate import Evaluator
from factorengine.score.fitness import daily_series
from factorengine.search.island import Island, Seed
from factorengine.store import Store
from factorengine.store.recorded import open_run
from tests.factorengine.runs import ROOT, SEEDS, copy_seeds, evolve_args

pytestmark = pytest.mark.usefixtures("synthetic_default")


@pytest.fixture(scope="module")
def harvested(tmp_path_factory) -> Path:
    """A small synthetic run, harvested with a threshold some programs clear."""
    run_dir = tmp_path_factory.mktemp("harvest") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FACTORENGINE_DATA", raising=False)
        seeds = copy_seeds(tmp_path_factory.mktemp("seeds"))
        assert main(evolve_args(run_dir, seeds, 12, trials=4)) == 0
        assert main(["harvest", str(run_dir), "--threshold", "0.2", "--k", "10", "--n-drop", "2"]) == 0
    return run_dir / "harvest"


def test_elites_are_exported_with_a_manifest_and_long_format_values(harvested):
    manifest = json.loads((harvested / "manifest.json").read_text())
    assert manifest["elites"] and manifest["cleared_threshold"] >= len(manifest["elites"])
    for entry in manifest["elites"]:
        assert entry["metrics"]["valid"]["fs"] >= 0.2 and entry["metrics"]["valid"]["rank_ic"] > 0
        values = pd.read_parquet(harvested / entry["values"])
        assert list(values.columns) == ["date", "symbol", "factor"] and len(values) > 10_000
        assert values["factor"].notna().all()


def test_each_exported_program_reevaluates_to_its_recorded_metrics(harvested, capsys):
    manifest = json.loads((harvested / "manifest.json").read_text())
    for entry in manifest["elites"]:
        capsys.readouterr()
        assert main(["eval", str(harvested / entry["file"]), "--include-test", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        for segment in ("train", "valid", "test"):
            assert result[segment]["fs"] == pytest.approx(entry["metrics"][segment]["fs"], rel=1e-12, nan_ok=True)
        source = (harvested / entry["file"]).read_text()
        assert f"content id {entry['program_id']}" in source and "Lineage (seed first):" in source


def test_a_program_without_a_scored_year_is_rejected_in_words_not_nan(harvested, monkeypatch):
    no_year = Stability({}, math.nan, None, math.nan)  # what yearly_stability says when no year has enough days
    monkeypatch.setattr(elites, "yearly_stability", lambda daily, dataset: no_year)
    store, dataset = open_run(harvested.parent)
    with store, Evaluator(dataset) as evaluator:
        chosen = elites.harvest(store, evaluator, elites.Requirements(threshold=0.2))
    reasons = [why for _, why in chosen.rejected]
    assert chosen.elites == () and reasons.count("no train or valid year with enough scored days") >= 1
    assert not any("nan" in why for why in reasons)


def test_an_elite_carries_the_daily_rank_ic_of_its_values_which_can_be_dropped_once_used(harvested):
    store, dataset = open_run(harvested.parent)
    with store, Evaluator(dataset) as evaluator:
        chosen = elites.harvest(store, evaluator, elites.Requirements(threshold=0.2))
    assert chosen.elites
    for elite in chosen.elites:
        np.testing.assert_array_equal(elite.daily_rank_ic, daily_series(elite.values, dataset.label).rank_ic)
    dropped = chosen.without_values()
    assert [e.values for e in dropped.elites] == [None] * len(chosen.elites)
    assert [(e.node, e.metrics) for e in dropped.elites] == [(e.node, e.metrics) for e in chosen.elites]


def test_harvest_results_hold_the_model_table_and_the_backtest(harvested):
    results = json.loads((harvested / "results.json").read_text())
    assert [(m["factors"], m["combiner"]) for m in results["models"]] == [
        ("elites", "LightGBM"), ("elites", "rank average"), ("seeds", "LightGBM"), ("seeds", "rank average")]
    test_days = results["splits"]["test"][1] - results["splits"]["test"][0]
    assert len(results["backtest"]["net"]) == test_days
    assert results["backtest"]["metrics"]["max_drawdown"] <= 0


def _with(label: Label, days: slice, value: float) -> Label:
    values = label.values.copy()
    values[days] = value
    return make_label(values)


def test_test_data_never_reach_the_search(tmp_path):
    dataset = make_dataset(synthetic_panel(n_days=400, n_stocks=50))
    blind = replace(dataset, label=_with(dataset.label, dataset.splits.days("test"), np.nan))
    config = RunConfig(search=SearchConfig(iterations=6), tuning=TuningConfig(n_trials=3),
                       evaluation=EvaluationConfig(n_workers=1))
    seeds = [Seed(name, (ROOT / "seeds" / f"{name}.py").read_text()) for name in SEEDS]
    trees = []
    for name, data in (("seen", dataset), ("blind", blind)):
        with Store.create(tmp_path / f"{name}.db", config={}, fingerprint="f", seed=0) as store, \
                Evaluator(data, config.evaluation) as evaluator:
            for _ in Island(config=config, store=store, evaluator=evaluator, proposer=MutationProposer(),
                            seeds=seeds).run():
                pass
            trees.append([(n.node_id, n.parent_id, n.program_id, n.params, store.evaluation(n.node_id).train,
                           store.evaluation(n.node_id).valid)
                          for n in store.nodes()])
    assert trees[0] == trees[1] and len(trees[0]) >= 7


def test_our_daily_rank_ic_matches_alphalens(market):
    performance = pytest.importorskip("alphalens.performance", reason="alphalens-reloaded is in the test extra")
    dataset, factors = market
    values, label = factors["signal"] + factors["noise"], dataset.label
    ours = daily_series(values, label).rank_ic
    both = np.isfinite(values) & np.isfinite(label.values)
    days, stocks = np.nonzero(both)
    frame = pd.DataFrame({"date": pd.DatetimeIndex(dataset.panel.dates[days]), "asset": stocks,
                          "factor": values[days, stocks], "1D": label.values[days, stocks]})
    theirs = performance.factor_information_coefficient(frame.set_index(["date", "asset"]))["1D"]
    scored = ~np.isnan(ours)
    np.testing.assert_allclose(ours[scored], theirs.loc[pd.DatetimeIndex(dataset.panel.dates[scored])].to_numpy(),
                               rtol=0, atol=1e-9)
    assert scored.sum() > 400


def test_the_backtest_is_rerun_at_each_cost_and_earns_less_the_more_trading_costs(harvested):
    backtest = results.load(harvested).backtest
    assert list(backtest.by_cost) == [0.0, 10.0, 20.0, 50.0]
    assert backtest.by_cost[10.0] == backtest.metrics  # the harvest's own cost, --cost-bps 10
    annual = [m.annual_return for m in backtest.by_cost.values()]
    assert annual == sorted(annual, reverse=True) and annual[0] > annual[-1]


def test_the_models_test_rankic_per_year_covers_the_test_years(harvested):
    harvest = results.load(harvested)
    start, stop = harvest.splits["test"]
    years = {int(day[:4]) for day in harvest.dates[start:stop]}
    for model in harvest.models.values():
        assert model.test_years and set(model.test_years) <= years
        assert all(-1 <= ic <= 1 for ic in model.test_years.values())
    assert harvest.correlations.shape == (len(harvest.elites),) * 2
    assert np.allclose(np.diag(harvest.correlations), 1.0)
