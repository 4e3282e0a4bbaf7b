"""The numbers behind the report's figures and the dashboard's: FS per node, each island's FS curves, the top
programs, code diffs and the tuning's gains. No plotting and no data libraries here (numpy and the store only), so
the dashboard serves them without loading matplotlib or pandas."""
from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from factorengine.store import OK, NodeRow, Store, TrialRow, TuningRow

Shown = Literal["train", "valid"]
SHOWN: tuple[Shown, ...] = ("train", "valid")
SHARP_DROP = 0.5  # a best trial whose neighbours lose more than half its train FS sits on a spike


@dataclass(frozen=True, eq=False)
class Curve:
    """One island's FS on one segment over its iterations: the best so far and the running mean of its scored
    programs (migrant copies included), taken after each iteration's last node. Arrays share one length."""

    island: int
    segment: Shown
    iterations: np.ndarray  # int, ascending, unique
    best: np.ndarray
    mean: np.ndarray


@dataclass(frozen=True)
class TuningSummary:
    """What the tuning did over a run: trials, knobs lifted, gains in train FS over the proposed defaults, and how
    sharp the optima are (a best trial's relative fall to its nearest trials; see `TuningRow.neighbour_drop`)."""

    programs: int
    trials: int
    failed_trials: int
    repeats: int  # trials not rerun, since an earlier trial had the same parameters
    lifted: int  # programs whose literal knobs were lifted into parameters
    gains: tuple[tuple[int, float], ...]  # (node_id, best train FS minus the defaults'), where both are known
    drops: tuple[tuple[int, float], ...]  # (node_id, neighbour drop), where known
    sharp: tuple[int, ...]  # the nodes whose optimum is sharp: their neighbours lose over SHARP_DROP of its train FS


def node_scores(store: Store, nodes: Iterable[NodeRow], *, include_test: bool = False) -> dict[int, dict[str, float]]:
    """Train and valid FS per node (and test with `include_test`, for harvested runs only); NaN where not scored."""
    segments = (*SHOWN, "test") if include_test else SHOWN
    scores = {}
    for node in nodes:
        evaluation = store.evaluation(node.node_id, include_test=include_test)
        scores[node.node_id] = {s: evaluation.fs(s) if evaluation else math.nan for s in segments}
    return scores


def islands(nodes: Iterable[NodeRow]) -> list[int]:
    """The islands that have nodes, in order."""
    return sorted({n.island for n in nodes})


def fs_curves(nodes: Sequence[NodeRow], scores: dict[int, dict[str, float]]) -> list[Curve]:
    """Each island's best-so-far and running-mean FS per segment (islands in order, train before valid); an island
    with no scored program on a segment has no curve there."""
    curves = []
    for island in islands(nodes):
        for segment in SHOWN:
            own = [(n.iteration, scores[n.node_id][segment]) for n in nodes if n.island == island]
            own = [(i, v) for i, v in own if not math.isnan(v)]
            if not own:
                continue
            iterations, values = map(np.asarray, zip(*own))
            last = np.r_[iterations[1:] != iterations[:-1], True]  # the last node of each iteration
            best = np.maximum.accumulate(values)
            mean = np.cumsum(values) / np.arange(1, len(values) + 1)
            curves.append(Curve(island, segment, iterations[last], best[last], mean[last]))
    return curves


def top_programs(store: Store, nodes: Sequence[NodeRow], top: int) -> list[NodeRow]:
    """The `top` best of a run's `nodes` by valid FS, migrant copies left out (they repeat their source)."""
    return [n for n in store.top_nodes(len(nodes), by="valid") if n.kind != "migrant"][:top]


def code_diff(before: str, after: str, old_name: str, new_name: str) -> list[str]:
    """The unified diff of two programs' code, line by line, headed by the names given; empty when equal."""
    return list(difflib.unified_diff(before.splitlines(), after.splitlines(), old_name, new_name, lineterm=""))


def tuning_summary(tunings: Iterable[TuningRow], trials: Sequence[TrialRow]) -> TuningSummary:
    """Summarize every node's tuning record and the trial ledger."""
    tunings = list(tunings)
    gains = tuple((t.node_id, t.best_fs - t.default_fs) for t in tunings
                  if not math.isnan(t.best_fs - t.default_fs))
    drops = tuple((t.node_id, t.neighbour_drop) for t in tunings if not math.isnan(t.neighbour_drop))
    return TuningSummary(len(tunings), len(trials), sum(t.status != OK for t in trials),
                         sum(t.repeat_of is not None for t in trials), sum(bool(t.lifted) for t in tunings),
                         gains, drops, tuple(node_id for node_id, drop in drops if drop > SHARP_DROP))
