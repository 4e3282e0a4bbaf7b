"""Harvest a run: choose and export its elites, combine them (and, as the baseline, its seeds) with LightGBM and
by their average rank, judge the elites' models against the seeds' on test (the verdict), backtest the elites'
LightGBM on test, and save the results the report reads."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from factorengine.data import SEGMENTS, Dataset
from factorengine.harvest.backtest import PortfolioResult, quantile_returns, topk_dropout
from factorengine.harvest.elites import Harvest, Requirements, export, harvest
from factorengine.harvest.generalization import judged_nodes
from factorengine.harvest.judge import judge
from factorengine.harvest.model import ROUNDS, ModelResult, combine
from factorengine.harvest.results import BacktestResult, EliteResult, HarvestResults, ModelKey, ModelSummary, save
from factorengine.harvest.stability import yearly_means
from factorengine.harvest.verdict import verdict
from factorengine.program import parse_program
from factorengine.score.evaluate import Evaluator
from factorengine.score.fitness import daily_series
from factorengine.store import Store

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
                on_stage: Callable[[str], None] = lambda stage: None) -> HarvestRun | None:
    """Harvest the run in `store` into `out_dir` (elites, manifest.json, results.json); None when no elite is chosen.

    `on_stage` is called with a few words as each stage starts (for a progress line).
    """
    with Evaluator(dataset) as evaluator:
        on_stage("judging the top programs on test")
        judge(store, evaluator, judged_nodes(store))  # the test FS that `status` and `report` show
        on_stage(f"choosing elites (valid FS >= {settings.needs.threshold}, |correlation| < "
                 f"{settings.needs.max_corr})")
        chosen = harvest(store, evaluator, settings.needs)
        if not chosen.elites:
            return None
        on_stage(f"exporting {len(chosen.elites)} elite(s) to {out_dir}")
        export(chosen, dataset, out_dir, run_dir)
        on_stage("computing the seeds' values (the baseline)")
        seeds = seed_factors(store, evaluator)
    models = {}
    for name, noun, factors in (("elites", "elite", {f"node {e.node.node_id}": e.values for e in chosen.elites}),
                                ("seeds", "seed", seeds)):
        on_stage(f"fitting LightGBM on the {len(factors)} {noun}(s) ({ROUNDS} rounds on train days) and "
                 "averaging their ranks")
        models |= {ModelKey(name, combiner): model
                   for combiner, model in combine(factors, dataset.label, dataset.splits).items()}
    on_stage(f"backtesting TopkDropout(k={settings.k}, n_drop={settings.n_drop}) on test at "
             f"{', '.join(f'{c:g}' for c in _costs(settings))} bps")
    results = _results(chosen, models, dataset, settings)
    save(results, out_dir)
    return HarvestRun(chosen, results)


def seed_factors(store: Store, evaluator: Evaluator) -> dict[str, np.ndarray]:
    """The run's scored seeds as oriented factor values, by name (the baseline's features)."""
    factors = {}
    for node in store.nodes():
        evaluation = store.evaluation(node.node_id)
        if node.kind == "seed" and not node.failed and evaluation is not None:
            program = parse_program(store.program(node.program_id))
            factors[node.idea.removeprefix("seed ")] = evaluation.orientation * evaluator.values(program, node.params)
    return factors


def _results(chosen: Harvest, models: dict[ModelKey, ModelResult], dataset: Dataset,
             settings: Settings) -> HarvestResults:
    """Everything the report plots."""
    label, splits = dataset.label, dataset.splits
    test = splits.days("test")
    elites = []
    for elite in chosen.elites:
        quantiles = quantile_returns(elite.values[test], label.values[test])
        elites.append(EliteResult(elite.node.node_id, elite.metrics, elite.stability, elite.significance,
                                  daily_series(elite.values, label).rank_ic, quantiles.annual,
                                  quantiles.long_short_annual))
    test_dates = dataset.panel.dates[test]
    daily = {key: daily_series(model.predictions, label).rank_ic[test] for key, model in models.items()}
    return HarvestResults(
        dates=tuple(str(d) for d in dataset.panel.dates),
        splits={s: getattr(splits, s) for s in SEGMENTS}, elites=tuple(elites),
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
