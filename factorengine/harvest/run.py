"""Harvest a run: choose and export its elites, combine them (and, as the baseline, its seeds) with LightGBM and
by their average rank, judge the elites' models against the seeds' on test (the verdict), backtest the elites'
LightGBM on test, and save the results the report reads."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

from factorengine.data import SEGMENTS, Dataset
from factorengine.harvest.backtest import PortfolioResult, quantile_returns, topk_dropout
from factorengine.harvest.baseline import SeedFeatures
from factorengine.harvest.elites import Elite, Harvest, Requirements, export, harvest, rejection
from factorengine.harvest.features import Features, rank_features
from factorengine.harvest.generalization import judged_nodes
from factorengine.harvest.judge import judge
from factorengine.harvest.model import ROUNDS, ModelResult, combine
from factorengine.harvest.results import (BacktestResult, EliteResult, Factors, HarvestResults, ModelKey,
                                          ModelSummary, save)
from factorengine.harvest.stability import yearly_means
from factorengine.harvest.values import ProgramValues
from factorengine.harvest.verdict import verdict
from factorengine.score.evaluate import Evaluator
from factorengine.store import NodeRow, Store

COSTS_BPS = (0.0, 10.0, 20.0, 50.0)  # trading costs the backtest is also run at, to show its cost sensitivity


@dataclass(frozen=True)
class Settings:
    """What an elite must show, and the TopkDropout portfolio the elites' model is backtested in."""

    needs: Requirements = Requirements()
    k: int = 50  # stocks held
    n_drop: int = 5  # stocks replaced per day
    cost_bps: float = 10.0  # trading cost per unit traded


@dataclass(frozen=True, eq=False)
class HarvestRun:
    """A finished harvest: how the elites were chosen and what their combination did."""

    harvest: Harvest
    results: HarvestResults


def harvest_run(store: Store, dataset: Dataset, settings: Settings, out_dir: Path, run_dir: Path,
                on_stage: Callable[[str], None] = lambda stage: None,
                on_progress: Callable[[int, int], None] = lambda done, total: None) -> HarvestRun | None:
    """Harvest the run in `store` into `out_dir` (elites, manifest.json, results.json); None when no elite is chosen.

    `on_stage` is called with a few words as each stage starts, `on_progress` with (done, total) within a stage
    (for a progress line). Each program is run once: a stage's values fill the seeds' features as they come, and
    the judged programs that may be elites are held for the choice of elites.
    """
    _release_arrow_buffers()  # those of reading the panel
    with SeedFeatures(store, dataset.panel.shape) as seeds, Evaluator(dataset) as evaluator:
        values = ProgramValues(store, evaluator, on_computed=seeds.put)
        on_stage("judging the top programs on test")
        may_be_elite = _may_be_elite(store, settings.needs)
        judge(store, evaluator, judged_nodes(store), lambda node: values.get(node, hold=may_be_elite(node)),
              on_progress)  # the test FS that `status` and `report` show
        on_stage(f"choosing elites (valid FS >= {settings.needs.threshold}, |correlation| < "
                 f"{settings.needs.max_corr})")
        chosen = harvest(store, evaluator, settings.needs, values.get, on_progress)
        values.release()
        if not chosen.elites:
            return None
        on_stage(f"exporting {len(chosen.elites)} elite(s) to {out_dir}")
        export(chosen, dataset, out_dir, run_dir)
        elites = rank_features({f"node {e.node.node_id}": e.values for e in chosen.elites})
        elite_results = [_elite_result(elite, dataset) for elite in chosen.elites]
        chosen = chosen.without_values()  # exported and combined: 14 MB each need not wait for the seeds
        _release_arrow_buffers()  # those of writing the elites
        on_stage(f"computing the values of the {len(seeds.missing())} seed(s) no stage above ran (the baseline)")
        seeds.fill(values.get, on_progress)
    models = _models({"elites": elites, "seeds": seeds.features}, dataset, on_stage, on_progress)
    on_stage(f"backtesting TopkDropout(k={settings.k}, n_drop={settings.n_drop}) on test at "
             f"{', '.join(f'{c:g}' for c in _costs(settings))} bps")
    results = _results(chosen, elite_results, models, dataset, settings)
    save(results, out_dir)
    return HarvestRun(chosen, results)


def _models(features: dict[Factors, Features], dataset: Dataset, on_stage: Callable[[str], None],
            on_progress: Callable[[int, int], None]) -> dict[ModelKey, ModelResult]:
    """Each set of features combined by each combiner."""
    models = {}
    for name, factors in features.items():
        on_stage(f"fitting LightGBM on the {factors.shape[-1]} {name[:-1]}(s) ({ROUNDS} rounds on train days) and "
                 "averaging their ranks")
        models |= {ModelKey(name, combiner): model for combiner, model in combine(
            factors, dataset.label, dataset.splits, on_round=lambda done: on_progress(done, ROUNDS)).items()}
    return models


def _release_arrow_buffers() -> None:
    """Give back the buffers pyarrow keeps for its own reuse: numpy and LightGBM cannot use them, so they would
    only add to harvest's peak memory."""
    pa.default_memory_pool().release_unused()


def _may_be_elite(store: Store, needs: Requirements) -> Callable[[NodeRow], bool]:
    """Whether `harvest` may ask for a node's values: it passes the gates the store alone can tell."""
    def may_be(node: NodeRow) -> bool:
        evaluation = store.evaluation(node.node_id, include_test=True)
        return evaluation is not None and rejection(store, node, evaluation, needs) is None
    return may_be


def _elite_result(elite: Elite, dataset: Dataset) -> EliteResult:
    """What the report shows of an elite: its metrics, daily RankIC and test returns by quantile of its values."""
    test = dataset.splits.days("test")
    quantiles = quantile_returns(elite.values[test], dataset.label.values[test])
    return EliteResult(elite.node.node_id, elite.metrics, elite.stability, elite.significance, elite.daily_rank_ic,
                       quantiles.annual, quantiles.long_short_annual)


def _results(chosen: Harvest, elites: list[EliteResult], models: dict[ModelKey, ModelResult], dataset: Dataset,
             settings: Settings) -> HarvestResults:
    """Everything the report plots."""
    label, test = dataset.label, dataset.splits.days("test")
    test_dates = dataset.panel.dates[test]
    daily = {key: model.daily_rank_ic[test] for key, model in models.items()}
    return HarvestResults(
        dates=tuple(str(d) for d in dataset.panel.dates),
        splits={s: getattr(dataset.splits, s) for s in SEGMENTS}, elites=tuple(elites),
        models={key: ModelSummary(model.metrics, model.trees, model.importance, yearly_means(daily[key], test_dates))
                for key, model in models.items()},
        backtest=_backtest(models["elites", "LightGBM"].predictions[test], label.values[test], settings),
        threshold=chosen.threshold, cleared=chosen.cleared, correlations=chosen.correlations,
        verdict=verdict(daily, test_dates))


def _backtest(scores: np.ndarray, forward: np.ndarray, settings: Settings) -> BacktestResult:
    """The model's TopkDropout portfolio on test [test days, N] at the settings' cost and at each of `_costs`."""
    def portfolio(cost_bps: float) -> PortfolioResult:
        return topk_dropout(scores, forward, k=settings.k, n_drop=settings.n_drop, cost_bps=cost_bps)

    chosen = portfolio(settings.cost_bps)
    quantiles = quantile_returns(scores, forward).daily
    return BacktestResult(settings.k, settings.n_drop, settings.cost_bps, chosen.metrics(), chosen.net,
                          chosen.benchmark, chosen.turnover, quantiles[:, -1] - quantiles[:, 0],
                          {cost: portfolio(cost).metrics() for cost in _costs(settings)})


def _costs(settings: Settings) -> list[float]:
    """The trading costs (bps) the backtest is run at: COSTS_BPS and the settings' own."""
    return sorted({*COSTS_BPS, settings.cost_bps})
