"""The benchmark suites compare equal things (the references agree with us), count budgets exactly, and report
each target as met or not; on the synthetic market, so they stay fast."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from alphalens.performance import factor_information_coefficient

from factorengine.bench.measure import Ratio, Target, Timing
from factorengine.bench.operators import CASES, REFERENCES, agree, as_panel, make_inputs
from factorengine.bench.scoring import long_frame, pandas_rank_ic
from factorengine.bench.search import RANDOM, TREE, Found, SearchOutcome, engine_search
from factorengine.cli import main
from factorengine.data import synthetic_panel
from factorengine.score.fitness import daily_rank_ic
from factorengine.search.island import Seed
from tests.factorengine.runs import ROOT, SEEDS, write_panel


@pytest.fixture(scope="module")
def inputs(synthetic_dataset):
    fields = synthetic_dataset.panel.fields
    return make_inputs(fields["returns"], (fields["high"] - fields["low"]) / fields["close"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_operator_agrees_with_each_reference_it_is_timed_against(case, inputs):
    ours = case.ours(inputs)
    for reference, step in zip(REFERENCES, (case.long, case.wide, case.bottleneck)):
        if step is not None:
            assert agree(ours, as_panel(step(inputs), ours.shape)), reference


def test_agreement_fails_on_another_value_or_another_missing_cell():
    ours = np.array([[1.0, np.nan], [2.0, 3.0]])
    assert agree(ours, ours * (1 + 1e-7))
    assert not agree(ours, ours * (1 + 1e-3))
    assert not agree(ours, np.array([[1.0, 0.0], [2.0, 3.0]]))


def test_a_long_result_is_put_back_in_day_by_stock_order():
    index = pd.MultiIndex.from_arrays([[1, 0, 1, 0], [0, 0, 1, 1]], names=["stock", "day"])
    series = pd.Series([10.0, 1.0, 11.0, 2.0], index=index)  # rows out of (stock, day) order on purpose
    np.testing.assert_array_equal(as_panel(series, (2, 2)), [[1.0, 10.0], [2.0, 11.0]])


def test_pandas_and_alphalens_daily_rank_ic_equal_ours(synthetic_dataset):
    values = -synthetic_dataset.panel.fields["returns"]
    frame = long_frame(values, synthetic_dataset.label.values, synthetic_dataset.panel.dates)
    ours = daily_rank_ic(values, synthetic_dataset.label)
    scored = ~np.isnan(ours)
    dates = pd.DatetimeIndex(synthetic_dataset.panel.dates)
    assert scored.sum() > 500
    for theirs in (pandas_rank_ic(frame), factor_information_coefficient(frame)["1D"]):
        np.testing.assert_allclose(theirs.reindex(dates).to_numpy()[scored], ours[scored], rtol=1e-9)


def test_a_ratio_pairs_runs_and_a_target_is_met_at_its_threshold():
    ratio = Ratio("x", Timing("slow", (4.0, 6.0, 9.0)), Timing("fast", (2.0, 2.0, 3.0)))
    assert ratio.values == (2.0, 3.0, 3.0) and ratio.median == 3.0
    assert Target("t", 1.8, 1.8).met and not Target("t", 1.79, 1.8).met


def test_the_top_programs_test_rank_ic_counts_an_undefined_one_as_zero():
    outcome = SearchOutcome("m", 0, 10, 1.0, (Found(0.3, 0.02), Found(0.2, math.nan)))
    assert outcome.best_valid_fs == 0.3 and outcome.best_test_rank_ic == 0.02
    assert outcome.top_valid_fs == pytest.approx(0.25) and outcome.top_test_rank_ic == pytest.approx(0.01)


@pytest.mark.parametrize("selection", ["uct", "random"])
def test_a_search_run_stops_at_its_budget_and_ranks_what_it_found(synthetic_dataset, selection):
    seeds = [Seed(name, (ROOT / "seeds" / f"{name}.py").read_text()) for name in SEEDS]
    outcome = engine_search(synthetic_dataset, seeds, selection, budget=24, seed=0, trials=2)
    assert outcome.method == (TREE if selection == "uct" else RANDOM)
    assert 24 <= outcome.evaluations < 24 + 2
    valid = [f.valid_fs for f in outcome.found]
    assert len(valid) >= 8 and valid == sorted(valid, reverse=True)


def test_bench_writes_a_report_stating_each_target(tmp_path, capsys):
    data, out = tmp_path / "panel.csv", tmp_path / "bench.md"
    write_panel(synthetic_panel(n_days=300, n_stocks=60), data)
    assert main(["bench", "--data", str(data), "--suite", "fitness", "--repeat", "1",
                 "--seeds", str(ROOT / "seeds"), "--out", str(out)]) == 0
    report = out.read_text()
    assert "Command: `factorengine bench --data" in report and " cores; " in report
    targets = [line for line in report.splitlines() if line.startswith(("| RankIC within", "| RankIC >="))]
    assert len(targets) == 2 and all(" | met |" in line or "not met: " in line for line in targets)
    assert "| our daily RankIC (fitness.daily_rank_ic) |" in report


def test_bench_without_a_panel_is_an_error(capsys, monkeypatch):
    monkeypatch.delenv("FACTORENGINE_DATA", raising=False)
    assert main(["bench", "--suite", "ops"]) == 2
    assert "bench needs a real panel" in capsys.readouterr().err
