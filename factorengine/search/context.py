"""What the search knows of a stored node, and the proposer's view of the tree built from it."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from factorengine.proposers.base import Context, Step
from factorengine.score.metrics import SegmentMetrics
from factorengine.search.tree import ROOT, NodeRecord, Tree
from factorengine.store import EvaluationRow, ExperienceRow, ModelPull, NodeRow, Store

RECENT_FAILURES = 3  # failed programs and rejected proposals shown to the proposer


@dataclass(frozen=True)
class NodeView:
    """A stored node with what the search reads of it: code, train/robust train/valid FS, failure reason and
    experience."""

    row: NodeRow
    code: str
    train_fs: float
    robust_fs: float  # what the search ranks programs by (SegmentMetrics.robust_fs of train)
    valid_fs: float
    failure_reason: str | None
    outcome: str = ""
    lesson: str = ""
    train: SegmentMetrics | None = None
    valid: SegmentMetrics | None = None

    @property
    def record(self) -> NodeRecord:
        """The node as the tree holds it."""
        row = self.row
        return NodeRecord(node_id=row.node_id, parent_id=row.parent_id or ROOT, reward=row.reward,
                          failed=row.failed, score=math.nan if row.failed else row.reward)

    @property
    def step(self) -> Step:
        """The node as a proposer is shown it."""
        return Step(code=self.code, idea=self.row.idea, train_fs=_nan_to_none(self.train_fs),
                    robust_fs=_nan_to_none(self.robust_fs), valid_fs=_nan_to_none(self.valid_fs),
                    failure=self.failure_reason, outcome=self.outcome, lesson=self.lesson, train=self.train,
                    valid=self.valid)


@dataclass(frozen=True)
class Rejected:
    """A proposal the island did not evaluate: at which iteration, why, and the node it repeated (if any)."""

    iteration: int
    reason: str
    repeats: int | None = None


def node_view(row: NodeRow, code: str, evaluation: EvaluationRow | None, experience: ExperienceRow | None) -> NodeView:
    """A node's view from its rows."""
    return NodeView(row, code, *fs_of(evaluation), evaluation.failure_reason if evaluation else None,
                    experience.outcome if experience else "", experience.lesson if experience else "",
                    evaluation.train if evaluation else None, evaluation.valid if evaluation else None)


def load_view(store: Store, row: NodeRow) -> NodeView:
    """A stored node's view, read from its evaluation and experience rows."""
    return node_view(row, store.program(row.program_id) or "", store.evaluation(row.node_id),
                     store.experience(row.node_id))


def proposer_context(tree: Tree, nodes: Mapping[int, NodeView], rejections: Sequence[Rejected], parent: int,
                     paths: int, rng: np.random.Generator, pulls: Sequence[ModelPull] = ()) -> Context | None:
    """The proposer's view: the parent program (a random live seed when the root expands) and its lineage, the
    best `paths`
    paths, the recent failures (failed programs and rejected proposals), the island's best program, the one the
    latest of those rejections repeated, and the island's LLM proposals by model (`pulls`); None when no program ran
    yet."""
    if parent == ROOT:
        live = [n for n in tree.children(ROOT) if not tree.record(n).failed]
        if not live:
            return None
        parent = int(live[rng.integers(len(live))])
    chain = tuple(tuple(nodes[n].step for n in path) for path in tree.best_paths(parent, k=paths))
    failed = [(v.row.iteration, v.step) for v in nodes.values() if v.row.failed]
    rejected = [(r.iteration, Step(code="", idea="a rejected proposal", outcome=r.reason))
                for r in rejections]
    recent = sorted(failed + rejected, key=lambda item: item[0])[-RECENT_FAILURES:]
    shown = {i for i, _ in recent}
    repeated = [r.repeats for r in rejections if r.iteration in shown and r.repeats in nodes]
    scored = [(v.robust_fs, -n) for n, v in nodes.items() if not math.isnan(v.robust_fs)]
    best = nodes[-max(scored)[1]].step if scored else None
    return Context(parent=nodes[parent].step, chain=chain, failures=tuple(step for _, step in recent), best=best,
                   repeated=nodes[repeated[-1]].step if repeated else None, pulls=tuple(pulls),
                   lineage=tuple(nodes[n].step for n in tree.path(parent)[:-1]))


def fs_of(evaluation: EvaluationRow | None) -> tuple[float, float, float]:
    """(train FS, robust train FS, valid FS) of a stored evaluation; NaN where it has none."""
    if evaluation is None or evaluation.train is None:
        return math.nan, math.nan, math.nan
    return evaluation.fs("train"), evaluation.train.robust_fs, evaluation.fs("valid")


def _nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else value
