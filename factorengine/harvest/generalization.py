"""Whether a run's choices hold up: the test FS of its top programs by valid FS, the train-valid gap, and what
the novelty gate kept out. Test figures are computed here, for people; the search never reads them."""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from factorengine.store import OK, Duplicate, NodeRow, Store

TOP = 10


@dataclass(frozen=True)
class Generalization:
    """A run's out-of-sample standing (NaN where there is nothing to measure)."""

    top_test_fs: float  # mean test FS of the TOP programs by valid FS
    seeds_top_test_fs: float  # the same over the seeds alone
    mean_train_fs: float
    mean_valid_fs: float
    train_valid_corr: float  # Spearman correlation of train and valid FS across the programs
    programs: int  # scored programs (migrant copies aside)
    level_bets: int
    value_duplicates: int  # proposals found to rank stocks like an existing program
    duplicate_evaluations: int  # sandbox evaluations those cost
    evaluations: int  # sandbox evaluations of the run: tuning trials (or programs) and duplicates' trials

    @property
    def gap(self) -> float:
        """Mean train FS minus mean valid FS: how much of the fit does not carry over."""
        return self.mean_train_fs - self.mean_valid_fs


def generalization(store: Store, top: int = TOP) -> Generalization:
    """Measure a run's store; test figures are NaN until harvest has judged the programs they read."""
    fs, scored = _scored(store)
    # a duplicate by value was run to be found; a duplicate by code was not
    duplicates = [e for e in store.events(Duplicate) if e.payload.evaluations > 0]
    spent = sum(e.payload.evaluations for e in duplicates)
    total = evaluations(store)
    train = np.array([fs[n.node_id][0] for n in scored])
    valid = np.array([fs[n.node_id][1] for n in scored])
    return Generalization(
        _top_test(scored, fs, top), _top_test([n for n in scored if n.kind == "seed"], fs, top),
        _mean(train), _mean(valid), _spearman(train, valid), len(scored),
        sum(p.level_bet for p in store.profiles().values()), len(duplicates), spent, total)


def judged_nodes(store: Store, top: int = TOP) -> list[NodeRow]:
    """The programs whose test FS `generalization` reads: the `top` by valid FS, of all and of the seeds."""
    fs, scored = _scored(store)
    tops = _top(scored, fs, top) + _top([n for n in scored if n.kind == "seed"], fs, top)
    return list({n.node_id: n for n in tops}.values())


def evaluations(store: Store) -> int:
    """The sandbox evaluations a run spent: tuning trials (or programs, untuned) and screened duplicates' trials.

    It is the number of tries its best programs were chosen from, which their significance is deflated for.
    """
    screened = sum(e.payload.evaluations for e in store.events(Duplicate))
    return (len(store.trials()) or len(store.nodes())) + screened


def _fs(store: Store, node: NodeRow) -> tuple[float, float, float]:
    evaluation = store.evaluation(node.node_id, include_test=True)
    if evaluation is None or evaluation.status != OK:
        return math.nan, math.nan, math.nan
    return evaluation.train.fs, evaluation.valid.fs, evaluation.fs("test")


def _scored(store: Store) -> tuple[dict[int, tuple[float, float, float]], list[NodeRow]]:
    """(train, valid, test) FS of the run's own programs, and those of them with a valid FS."""
    nodes = [n for n in store.nodes() if not n.failed and n.kind != "migrant"]
    fs = {n.node_id: _fs(store, n) for n in nodes}
    return fs, [n for n in nodes if not math.isnan(fs[n.node_id][1])]


def _top(nodes: list[NodeRow], fs: dict[int, tuple[float, float, float]], top: int) -> list[NodeRow]:
    return sorted(nodes, key=lambda n: (-fs[n.node_id][1], n.node_id))[:top]


def _top_test(nodes: list[NodeRow], fs: dict[int, tuple[float, float, float]], top: int) -> float:
    return _mean(np.array([fs[n.node_id][2] for n in _top(nodes, fs, top)]))


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)] if len(values) else values
    return float(finite.mean()) if len(finite) else math.nan


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3:
        return math.nan
    rx, ry = (np.argsort(np.argsort(v[keep])) for v in (x, y))
    return float(statistics.correlation(rx.tolist(), ry.tolist()))
