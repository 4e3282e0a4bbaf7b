"""Rows of a small run for the store tests: a momentum program, its node, evaluations and one iteration."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from factorengine.score.failure import FailureKind
from factorengine.score.metrics import SegmentMetrics
from factorengine.store import OK, EvaluationRow, ExperienceRow, NodeRow, ProposalFailed, Store

CONFIG = {"search": {"c": 1.4142135623730951, "iterations": 40}, "data": {"path": "synthetic"}}
CODE = '''"""Momentum."""
from factorengine.ops import delay


def factor(d, window=5):
    return d.close / delay(d.close, window) - 1
'''
TRAIN = SegmentMetrics(ic=0.031, icir=0.42, rank_ic=0.035, rank_icir=0.47, fs=0.3545, coverage=0.98, turnover=0.3,
                       n_days=300, folds=(0.30, 0.41, 0.35))
VALID = SegmentMetrics(ic=0.022, icir=0.30, rank_ic=0.025, rank_icir=0.33, fs=0.2508, coverage=0.97, turnover=0.31,
                       n_days=100)
TEST = SegmentMetrics(ic=0.018, icir=0.25, rank_ic=0.02, rank_icir=0.27, fs=0.2, coverage=0.97, turnover=0.32,
                      n_days=100)
EXPERIENCE = ("swapped ts_mean for ts_ema", "faster decay", "fs +0.02")


class Clock:
    """A clock that ticks one second per reading."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def create(path: Path, **overrides) -> Store:
    """A new run store at `path` with the sample header and a ticking clock."""
    kwargs = {"config": CONFIG, "fingerprint": "sha256:abc123", "seed": 7, "clock": Clock()} | overrides
    return Store.create(path, **kwargs)


def node(node_id: int, parent_id=None, *, island=0, iteration=0, program_id="p-momentum", reward=0.5,
         failed=False) -> NodeRow:
    """A node of the momentum program: a seed without a parent, else an operator swap."""
    return NodeRow(node_id=node_id, parent_id=parent_id, island=island, iteration=iteration,
                   depth=0 if parent_id is None else 1, program_id=program_id, params={"window": 5},
                   idea="momentum over a week", kind="seed" if parent_id is None else "operator_swap",
                   reward=reward, failed=failed)


def ok(node_id: int, valid_fs: float = VALID.fs, train_fs: float = TRAIN.fs) -> EvaluationRow:
    """A scored evaluation with test metrics."""
    return EvaluationRow(node_id=node_id, status=OK, failure_reason=None, train=replace(TRAIN, fs=train_fs),
                         valid=replace(VALID, fs=valid_fs), test=TEST, orientation=1, seconds=0.25)


def failed(node_id: int, kind: FailureKind) -> EvaluationRow:
    """A failed evaluation of `kind`."""
    return EvaluationRow(node_id=node_id, status=kind, failure_reason=f"{kind}: details", train=None, valid=None,
                         test=None, orientation=None, seconds=3.0)


def iteration(store: Store, row: NodeRow, evaluation: EvaluationRow) -> None:
    """Commit one iteration: program, node, evaluation, experience, an event and the progress marker."""
    with store.transaction():
        store.add_program(row.program_id, CODE)
        store.add_node(row)
        store.add_evaluation(evaluation)
        store.add_experience(ExperienceRow(row.node_id, *EXPERIENCE))
        store.add_event(ProposalFailed(f"after node {row.node_id}"), island=row.island, iteration=row.iteration)
        store.set_progress(row.island, row.iteration)
