"""Harvest a run: choose and export its elites, combine them (and, as the baseline, its seeds) with LightGBM,
backtest the elites' model on test, and save the results the report reads."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from factorengine.data import SEGMENTS, Dataset
from factorengine.harvest.backtest import quantile_returns, topk_dropout
from factorengine.harvest.elites import Harvest, Requirements, export, harvest
from factorengine.harvest.generalization import judged_nodes
from factorengine.harvest.judge import judge
from factorengine.harvest.model import ModelResult, fit_model
from factorengine.harvest.results import BacktestResult, EliteResult, HarvestResults, ModelSummary, save
from factorengine.program import parse_program
from factorengine.score.evaluate import Evaluator
from factorengine.score.fitness import daily_series
from factorengine.store import Store


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


def harvest_run(store: Store, dataset: Dataset, settings: Settings, out_dir: Path, run_dir: Path) -> HarvestRun | None:
    """Harvest the run in `store` into `out_dir` (elites, manifest.json, results.json); None when no elite is chosen."""
    with Evaluator(dataset) as evaluator:
        judge(store, evaluator, judged_nodes(store))  # the test FS that `status` and `report` show
        chosen = harvest(store, evaluator, settings.needs)
        if not chosen.elites:
            return None
        export(chosen, dataset, out_dir, run_dir)
        seeds = seed_factors(store, evaluator)
    models = {"elites": fit_model({f"node {e.node.node_id}": e.values for e in chosen.elites},
                                  dataset.label, dataset.splits),
              "seeds": fit_model(seeds, dataset.label, dataset.splits)}
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


def _results(chosen: Harvest, models: dict[str, ModelResult], dataset: Dataset, settings: Settings) -> HarvestResults:
    """Everything the report plots."""
    label, splits = dataset.label, dataset.splits
    test = splits.days("test")
    predictions = np.full_like(label.values, np.nan)
    predictions[test] = models["elites"].predictions[test]
    portfolio = topk_dropout(predictions[test], label.values[test], k=settings.k, n_drop=settings.n_drop,
                             cost_bps=settings.cost_bps)
    elites = []
    for elite in chosen.elites:
        quantiles = quantile_returns(elite.values[test], label.values[test])
        elites.append(EliteResult(elite.node.node_id, elite.metrics, elite.stability, elite.significance,
                                  daily_series(elite.values, label).rank_ic, quantiles.annual,
                                  quantiles.long_short_annual))
    return HarvestResults(
        dates=tuple(str(d) for d in dataset.panel.dates),
        splits={s: getattr(splits, s) for s in SEGMENTS}, elites=tuple(elites),
        models={name: ModelSummary(model.metrics, model.best_iteration, model.importance)
                for name, model in models.items()},
        backtest=BacktestResult(settings.k, settings.n_drop, settings.cost_bps, portfolio.metrics(), portfolio.net,
                                portfolio.benchmark, portfolio.turnover))
