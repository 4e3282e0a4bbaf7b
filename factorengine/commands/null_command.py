"""`factorengine null`: how high the run's best programs score on labels with no signal, and what survives."""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict
from pathlib import Path

from factorengine.errors import FactorEngineError
from factorengine.harvest.generalization import evaluations
from factorengine.store.recorded import open_run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `null`."""
    parser.description = ("Rerun the best programs by valid FS against labels shuffled across stocks within each "
                          "day, and deflate their significance for the number of trials the run tried.")
    parser.add_argument("run_dir", type=Path, help="the run's directory (holding run.db)")
    parser.add_argument("--top", type=int, default=10, help="programs to test, best valid FS first")
    parser.add_argument("--shuffles", type=int, default=50, help="shuffled labels per program")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffles")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the chance level and each program's standing against it; write RUN_DIR/null.json."""
    # the scoring, the sandbox and libcst load once the command runs, not for --help
    from factorengine.harvest.chance import NULL_RESULTS, chance_level, significance
    from factorengine.program import parse_program
    from factorengine.score.evaluate import Evaluator
    from factorengine.score.fitness import daily_series

    try:
        store, dataset = open_run(args.run_dir)
    except FactorEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with store, Evaluator(dataset) as evaluator:
        nodes = [n for n in store.top_nodes(len(store.nodes()), by="valid") if n.kind != "migrant"][:args.top]
        if not nodes:
            print("error: no program of this run was scored", file=sys.stderr)
            return 1
        recorded = {n.node_id: store.evaluation(n.node_id) for n in nodes}
        factors = {f"node {n.node_id}": recorded[n.node_id].orientation
                   * evaluator.values(parse_program(store.program(n.program_id)), n.params) for n in nodes}
        tries = evaluations(store)
    chance = chance_level(factors, dataset, tries, args.shuffles, args.seed)
    valid = dataset.splits.days("valid")
    rows = []
    for node in nodes:
        fs = recorded[node.node_id].valid.fs
        odds = significance(daily_series(factors[f"node {node.node_id}"], dataset.label).rank_ic[valid], tries)
        rows.append({"node_id": node.node_id, "idea": node.idea, "valid_fs": fs, "above_chance": fs - chance.level,
                     **asdict(odds), "significant": odds.significant})
    (args.run_dir / NULL_RESULTS).write_text(json.dumps({"chance": asdict(chance), "programs": rows},
                                                        allow_nan=True) + "\n")
    print(f"valid FS on shuffled labels: mean {chance.null_mean:.4f}, std {chance.null_std:.4f} ({len(nodes)} programs "
          f"x {args.shuffles} shuffles); the best of {tries} tries reaches {chance.level:.4f} by chance")
    print(f"{'node':>10} {'valid FS':>9} {'above':>8} {'t':>6} {'deflated t':>10} {'p':>6}  significant")
    for row in rows:
        print(f"{row['node_id']:>10} {row['valid_fs']:>9.4f} {row['above_chance']:>+8.4f} {_f(row['t'])} "
              f"{row['deflated_t']:>10.2f} {row['p']:>6.3f}  {'yes' if row['significant'] else 'no'}")
    return 0


def _f(value: float) -> str:
    return f"{'n/a':>6}" if math.isnan(value) else f"{value:>6.2f}"
