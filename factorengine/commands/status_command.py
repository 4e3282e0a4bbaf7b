"""`factorengine status`: a run's progress, failures and top programs; safe while the run is going."""
from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

from factorengine.store import RUN_DATABASE, Store, StoreError, TrialRow, TuningRow
from factorengine.tune import NEIGHBOURS

SHARP_DROP = 0.5  # a best trial whose neighbours lose more than half its train FS sits on a spike


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register `status`."""
    parser = commands.add_parser("status", help="show a run's progress and top programs")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--top", type=int, default=10, help="how many top programs to list")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the summary and the top programs by valid FS."""
    try:
        store = Store.open(args.run_dir / RUN_DATABASE, read_only=True)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with store:
        print("\n".join(summary_lines(store, args.top)))
    return 0


def summary_lines(store: Store, top: int) -> list[str]:
    """The status report as lines of text."""
    info, nodes = store.run_info(), store.nodes()
    tunings = {t.node_id: t for t in store.tunings()}
    data = info.config.get("data", {}).get("path") or "synthetic market"
    seeds = [n for n in nodes if n.kind == "seed"]
    failures = store.count_failures_by_kind()
    lines = [f"data: {data} (fingerprint {info.fingerprint})",
             f"iterations done: {store.progress(0) + 1} of {len(seeds)} seeds + "
             f"{info.config.get('search', {}).get('iterations')} search",
             f"nodes: {len(nodes)} ({sum(n.failed for n in nodes)} failed: "
             + (", ".join(f"{k} {v}" for k, v in sorted(failures.items())) or "none") + ")",
             f"duplicates skipped: {len(store.events('duplicate'))}; "
             f"proposals that failed: {len(store.events('proposal_failed'))}",
             f"best valid FS: seeds {_best(store, seeds)}, all programs {_best(store, nodes)}",
             *_tuning_lines(tunings, store.trials()), "",
             f"{'node':>5} {'depth':>5} {'kind':<14} {'train FS':>9} {'valid FS':>9} {'drop':>5}  idea"]
    for node in store.top_nodes(top, by="valid"):
        segments = store.evaluation(node.node_id).metrics
        tuning = tunings.get(node.node_id)
        drop = f"{tuning.neighbour_drop:>5.2f}" if tuning and not math.isnan(tuning.neighbour_drop) else f"{'-':>5}"
        lines.append(f"{node.node_id:>5} {node.depth:>5} {node.kind:<14} {segments['train']['fs']:>9.4f} "
                     f"{segments['valid']['fs']:>9.4f} {drop}  {node.idea[:80]}")
    return lines


def _tuning_lines(tunings: dict[int, TuningRow], trials: list[TrialRow]) -> list[str]:
    """Tuning at a glance: trials, gains over the proposed defaults, lifted knobs, sharpness of optima."""
    if not tunings:
        return ["tuning: off"]
    failed = sum(t.status != "ok" for t in trials)
    repeats = sum(t.repeat_of is not None for t in trials)
    gains = [t.best_fs - t.default_fs for t in tunings.values() if not math.isnan(t.best_fs - t.default_fs)]
    drops = [t.neighbour_drop for t in tunings.values() if not math.isnan(t.neighbour_drop)]
    lifted = sum(bool(t.lifted) for t in tunings.values())
    lines = [f"tuning: {len(tunings)} programs, {len(trials)} trials ({failed} failed, {repeats} repeats not rerun); "
             f"knobs lifted in {lifted} programs",
             "tuning gain in train FS over the proposed defaults: " +
             (f"median {statistics.median(gains):+.4f}, mean {statistics.fmean(gains):+.4f}" if gains else "n/a")]
    if drops:
        sharp = sum(d > SHARP_DROP for d in drops)
        lines.append(f"robustness (relative train FS fall from the best trial to its {NEIGHBOURS} nearest): median "
                     f"{statistics.median(drops):.2f}; sharp optima (fall > {SHARP_DROP:.0%}): {sharp} of {len(drops)}")
    return lines


def _best(store: Store, nodes: list) -> str:
    scores = [store.evaluation(n.node_id).metrics.get("valid", {}).get("fs", math.nan) for n in nodes]
    scores = [s for s in scores if not math.isnan(s)]
    return f"{max(scores):.4f}" if scores else "n/a"
