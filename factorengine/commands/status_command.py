"""`factorengine status`: a run's progress, failures and top programs; safe while the run is going."""
from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path
from typing import Mapping

from factorengine.config import RunConfig
from factorengine.errors import FactorEngineError
from factorengine.harvest import HARVEST_DIR, RESULTS
from factorengine.harvest.figures import SHARP_DROP, tuning_summary
from factorengine.harvest.generalization import TOP, Generalization, generalization
from factorengine.segments import describe_segments
from factorengine.store import (RUN_DATABASE, Duplicate, LLMFallback, Migration, ModelPull, NodeRow, ProposalFailed,
                                Store, TrialRow, TuningRow)
from factorengine.store.recorded import recorded_config, recorded_seeds, recorded_segments
from factorengine.store.rows import NEIGHBOURS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `status`."""
    parser.description = ("Summarize a run: iterations done, failures, scores of seeds and searched programs, "
                          "tuning, LLM use, islands, and the top programs by valid FS. Reads the run only, so "
                          "it is safe while the run is going.")
    parser.add_argument("run_dir", type=Path, help="the run's directory (holding run.db)")
    parser.add_argument("--top", type=int, default=10, help="how many top programs to list")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the summary and the top programs by valid FS."""
    try:
        with Store.open(args.run_dir / RUN_DATABASE, read_only=True) as store:
            lines = summary_lines(store, args.top)
    except FactorEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    print(next_step(args.run_dir))
    return 0


def next_step(run_dir: Path) -> str:
    """What to run after `status`: the report once the run is harvested, else harvest (or resume)."""
    if (run_dir / HARVEST_DIR / RESULTS).exists():
        return f"next: factorengine report {run_dir}"
    return f"next: factorengine harvest {run_dir} (factorengine resume {run_dir} continues an unfinished search)"


def summary_lines(store: Store, top: int) -> list[str]:
    """The status report as lines of text."""
    info, nodes = store.run_info(), store.nodes()
    tunings = {t.node_id: t for t in store.tunings()}
    scores = _scores(store, nodes)
    data = info.config.get("data", {}).get("path") or "synthetic market"
    seeds = [n for n in nodes if n.kind == "seed"]
    searched = [n for n in nodes if n.kind not in ("seed", "migrant")]
    failures = store.count_failures_by_kind()
    ranges = recorded_segments(store)
    lines = [f"data: {data} (fingerprint {info.fingerprint})",
             describe_segments(ranges) if ranges else "segments: not recorded (the run began before runs recorded "
                                                      "them; factorengine harvest names them)",
             _iterations_line(store, recorded_config(store)),
             f"nodes: {len(nodes)} ({sum(n.failed for n in nodes)} failed: "
             + (", ".join(f"{k} {v}" for k, v in sorted(failures.items())) or "none") + ")",
             f"duplicates skipped: {len(store.events(Duplicate))}; "
             f"proposals that failed: {len(store.events(ProposalFailed))}",
             f"valid FS, best / mean: seeds {_best_mean(scores, seeds)}; searched programs "
             f"{_best_mean(scores, searched)}; all {_best_mean(scores, nodes)}",
             *_generalization_lines(generalization(store)), *_tuning_lines(tunings, store.trials()),
             *_llm_lines(store, nodes), *_island_lines(store, nodes, scores),
             ""]
    ranked = store.top_nodes(top, by="valid")
    width = max([5, *(len(str(n.node_id)) for n in ranked)])
    lines.append(f"{'node':>{width}} {'depth':>5} {'kind':<14} {'train FS':>9} {'valid FS':>9} {'drop':>5}  idea")
    for node in ranked:
        train, valid, _ = scores[node.node_id]
        tuning = tunings.get(node.node_id)
        drop = f"{tuning.neighbour_drop:>5.2f}" if tuning and not math.isnan(tuning.neighbour_drop) else f"{'-':>5}"
        lines.append(f"{node.node_id:>{width}} {node.depth:>5} {node.kind:<14} {train:>9.4f} {valid:>9.4f} {drop}  "
                     f"{node.idea[:80]}")
    return lines


def _iterations_line(store: Store, config: RunConfig) -> str:
    """Iterations the islands committed, of the run's recorded seeds plus each island's search iterations."""
    n_seeds, n_islands = len(recorded_seeds(store)), config.islands.n_islands
    done = sum(store.progress(island) + 1 for island in range(n_islands))
    if n_islands == 1:
        return f"iterations done: {done} of {n_seeds} seeds + {config.search.iterations} search"
    dealt = "dealt out" if config.islands.split_seeds else "on every island"
    return (f"iterations done: {done} of {n_seeds} seeds {dealt} + {config.search.iterations} search on each of "
            f"{n_islands} islands")


def _scores(store: Store, nodes: list[NodeRow]) -> dict[int, tuple[float, float, float]]:
    """(train, valid, test) FS per node; NaN where not scored."""
    scores = {}
    for node in nodes:
        evaluation = store.evaluation(node.node_id, include_test=True)
        scores[node.node_id] = tuple(evaluation.fs(s) if evaluation else math.nan for s in ("train", "valid", "test"))
    return scores


def _best_mean(scores: dict[int, tuple[float, float, float]], nodes: list[NodeRow]) -> str:
    valid = [scores[n.node_id][1] for n in nodes if not math.isnan(scores[n.node_id][1])]
    return f"{max(valid):.4f} / {statistics.fmean(valid):.4f} over {len(valid)}" if valid else "n/a"


def _generalization_lines(g: Generalization) -> list[str]:
    """Out-of-sample standing and the novelty gate's work, in words."""
    share = g.duplicate_evaluations / g.evaluations if g.evaluations else 0.0
    judged = (f"all programs {g.top_test_fs:.4f}, seeds {g.seeds_top_test_fs:.4f}" if not math.isnan(g.top_test_fs)
              else "not scored yet (`factorengine harvest` scores test; the search never does)")
    return [f"top {TOP} by valid FS, mean test FS (never shown to the search): {judged}",
            f"train -> valid over {g.programs} programs: mean FS {g.mean_train_fs:.4f} -> {g.mean_valid_fs:.4f} "
            f"(gap {g.gap:+.4f}), rank correlation {g.train_valid_corr:.2f}",
            f"novelty: {g.value_duplicates} duplicates by value; {g.duplicate_evaluations} of {g.evaluations} "
            f"evaluations ({share:.1%}) went to duplicates; {g.level_bets} level bets flagged"]


def _island_lines(store: Store, nodes: list[NodeRow], scores: dict[int, tuple[float, float, float]]) -> list[str]:
    """Per island (when there are several): iterations done, nodes, migrants received, best valid FS."""
    islands = sorted({n.island for n in nodes})
    if len(islands) < 2:
        return []
    migrations = store.events(Migration)
    lines = []
    for island in islands:
        own = [n for n in nodes if n.island == island]
        rounds = [e for e in migrations if e.island == island]
        received = sum(node_id is not None for e in rounds for _, _, node_id in e.payload.received)
        lines.append(f"island {island}: {store.progress(island) + 1} iterations, {len(own)} nodes, "
                     f"{len(rounds)} migrations ({received} migrants kept); "
                     f"valid FS best / mean {_best_mean(scores, own)}")
    return lines


def _llm_lines(store: Store, nodes: list[NodeRow]) -> list[str]:
    """LLM use: calls, tokens, cost, the share of repair calls, and how many proposals ran."""
    totals = store.llm_totals()
    if not totals.calls:
        return []
    from factorengine.proposers.llm import KIND as LLM_KIND, REJECTED  # the OpenAI client: only for LLM runs

    proposed = [n for n in nodes if n.kind == LLM_KIND]
    rejected = sum(e.payload.detail.startswith(REJECTED) for e in store.events(ProposalFailed))
    ran = sum(not n.failed for n in proposed)
    tried = len(proposed) + rejected
    rate = f"{ran / tried:.0%}" if tried else "n/a"
    return [f"llm: {totals.calls} calls ({totals.failed} failed), {totals.tokens:,} tokens, ${totals.cost_usd:.4f}; "
            f"debug share {totals.by_purpose.get('repair', 0) / totals.calls:.0%} (repair calls)",
            f"llm proposals: {ran} of {tried} ran ({rate} executable; {rejected} rejected after a repair, "
            f"{len(proposed) - ran} failed in the sandbox); fallbacks to mutate: {len(store.events(LLMFallback))}",
            *_model_lines(totals.by_model, [e.payload for e in store.events(ModelPull)])]


def _model_lines(by_model: Mapping[str, tuple[int, float]], pulls: list[ModelPull]) -> list[str]:
    """With several models: each one's calls, cost, proposals and robust train FS gained (the bandit's view)."""
    if len(by_model) < 2:
        return []
    parts = []
    for model, (calls, usd) in by_model.items():
        mine = [p for p in pulls if p.model == model]
        parts.append(f"{model} {calls} calls ${usd:.4f}, {len(mine)} proposals gained {sum(p.gain for p in mine):.4f}")
    return [f"llm models: {'; '.join(parts)}"]


def _tuning_lines(tunings: dict[int, TuningRow], trials: list[TrialRow]) -> list[str]:
    """Tuning at a glance: trials, gains over the proposed defaults, lifted knobs, sharpness of optima."""
    if not tunings:
        return ["tuning: off"]
    t = tuning_summary(tunings.values(), trials)
    gains = [gain for _, gain in t.gains]
    lines = [f"tuning: {t.programs} programs, {t.trials} trials ({t.failed_trials} failed, {t.repeats} repeats not "
             f"rerun); knobs lifted in {t.lifted} programs",
             "tuning gain in train FS over the proposed defaults: " +
             (f"median {statistics.median(gains):+.4f}, mean {statistics.fmean(gains):+.4f}" if gains else "n/a")]
    if t.drops:
        lines.append(f"robustness (relative train FS fall from the best trial to its {NEIGHBOURS} nearest): median "
                     f"{statistics.median(d for _, d in t.drops):.2f}; sharp optima (fall > {SHARP_DROP:.0%}): "
                     f"{len(t.sharp)} of {len(t.drops)}")
    return lines
