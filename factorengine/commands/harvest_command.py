"""`factorengine harvest`: export a run's elites, combine them with LightGBM, and backtest the combination."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from factorengine.errors import FactorEngineError
from factorengine.harvest.backtest import quantile_returns, topk_dropout
from factorengine.data import Dataset
from factorengine.score.evaluate import Evaluator
from factorengine.score.fitness import daily_series
from factorengine.harvest.elites import Harvest, Requirements, export, harvest
from factorengine.harvest.model import ModelResult, fit_model
from factorengine.program.source import parse_program
from factorengine.store.recorded import open_run
from factorengine.store import Store

RESULTS = "results.json"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `harvest`."""
    parser = commands.add_parser("harvest", help="export elite factors, fit LightGBM on them, backtest it")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, help="output directory (default RUN_DIR/harvest)")
    needs = Requirements()
    parser.add_argument("--threshold", type=float, default=needs.threshold,
                        help=f"valid FS to clear (default {needs.threshold})")
    parser.add_argument("--max-corr", type=float, default=needs.max_corr,
                        help=f"largest |rank correlation| between two elites on valid (default {needs.max_corr})")
    parser.add_argument("--top", type=int, default=needs.top, help=f"elites taken when none clears (default {needs.top})")
    parser.add_argument("--allow-level-bets", action="store_true",
                        help="keep programs flagged as bets on price or volume levels")
    parser.add_argument("--min-stable-share", type=float, default=needs.min_stable_share,
                        help="share of train and valid years with a positive RankIC an elite needs "
                             f"(default {needs.min_stable_share})")
    parser.add_argument("--max-p", type=float, default=needs.max_p,
                        help="largest p-value of the valid RankIC deflated for the run's trials (default 1: any)")
    parser.add_argument("--k", type=int, default=50, help="stocks held by the TopkDropout portfolio")
    parser.add_argument("--n-drop", type=int, default=5, help="stocks replaced per day")
    parser.add_argument("--cost-bps", type=float, default=10.0, help="trading cost per unit traded, in bps")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Harvest, model, backtest; write the elites, manifest.json and results.json."""
    out = args.out or args.run_dir / "harvest"
    try:
        store, dataset = open_run(args.run_dir)
    except FactorEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with store, Evaluator(dataset) as evaluator:
        needs = Requirements(args.threshold, args.max_corr, args.top, args.allow_level_bets, args.min_stable_share,
                             args.max_p)
        result = harvest(store, evaluator, needs)
        if not result.elites:
            print("error: no program of this run was scored; nothing to harvest", file=sys.stderr)
            return 1
        export(result, dataset, out, args.run_dir)
        seeds = seed_factors(store, evaluator)
    models = {"elites": fit_model({f"node {e.node.node_id}": e.values for e in result.elites},
                                  dataset.label, dataset.splits),
              "seeds": fit_model(seeds, dataset.label, dataset.splits)}
    results = _results(result, models, dataset, args)
    (out / RESULTS).write_text(json.dumps(results, allow_nan=True) + "\n")
    print("\n".join(summary(result, results)))
    return 0


def seed_factors(store: Store, evaluator: Evaluator) -> dict[str, np.ndarray]:
    """The run's scored seeds as oriented factor values, by name (the baseline's features)."""
    factors = {}
    for node in store.nodes():
        evaluation = store.evaluation(node.node_id)
        if node.kind == "seed" and not node.failed and evaluation is not None:
            program = parse_program(store.program(node.program_id))
            factors[node.idea.removeprefix("seed ")] = evaluation.orientation * evaluator.values(program, node.params)
    return factors


def _results(result: Harvest, models: dict[str, ModelResult], dataset: Dataset, args: argparse.Namespace) -> dict:
    """Everything the report plots, as plain JSON."""
    label, splits = dataset.label, dataset.splits
    test = splits.days("test")
    predictions = np.full_like(label.values, np.nan)
    predictions[test] = models["elites"].predictions[test]
    portfolio = topk_dropout(predictions[test], label.values[test], k=args.k, n_drop=args.n_drop,
                             cost_bps=args.cost_bps)
    elites = []
    for elite in result.elites:
        quantiles = quantile_returns(elite.values[test], label.values[test])
        elites.append({"node_id": elite.node.node_id, "metrics": elite.metrics,
                       "stability": asdict(elite.stability), "significance": asdict(elite.significance),
                       "daily_rank_ic": _list(daily_series(elite.values, label).rank_ic),
                       "quantile_annual": _list(quantiles.annual),
                       "long_short_annual": quantiles.long_short_annual})
    return {"dates": [str(d) for d in dataset.panel.dates],
            "splits": {s: list(getattr(splits, s)) for s in ("train", "valid", "test")},
            "elites": elites,
            "models": {name: {"metrics": {s: asdict(m) for s, m in model.metrics.items()},
                              "best_iteration": model.best_iteration, "importance": dict(model.importance)}
                       for name, model in models.items()},
            "backtest": {"k": args.k, "n_drop": args.n_drop, "cost_bps": args.cost_bps,
                         "metrics": asdict(portfolio.metrics()), "net": _list(portfolio.net),
                         "benchmark": _list(portfolio.benchmark), "turnover": _list(portfolio.turnover)}}


def summary(result: Harvest, results: dict) -> list[str]:
    """The harvest in a few lines."""
    lines = [f"elites: {len(result.elites)} ({result.cleared} programs cleared valid FS {result.threshold}; "
             f"{len(result.rejected)} rejected)"]
    for name, model in results["models"].items():
        m = model["metrics"]["test"]
        lines.append(f"LightGBM on {name}: test IC {m['ic']:.4f} ICIR {m['icir']:.3f} RankIC {m['rank_ic']:.4f} "
                     f"RankICIR {m['rank_icir']:.3f}")
    b = results["backtest"]["metrics"]
    lines.append(f"TopkDropout(k={results['backtest']['k']}, n={results['backtest']['n_drop']}) on test: annual "
                 f"{b['annual_return']:.2%}, excess {b['excess_annual_return']:.2%}, Sharpe {b['sharpe']:.2f}, "
                 f"IR {b['information_ratio']:.2f}, max drawdown {b['max_drawdown']:.2%}, "
                 f"turnover {b['mean_turnover']:.2%}/day")
    return lines


def _list(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]
