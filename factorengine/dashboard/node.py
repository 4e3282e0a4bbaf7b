"""One node as the dashboard opens it: its code and diff against what it came from, idea, metrics per segment and
fold, tuning ledger, experience, lineage and children. Test metrics only for a harvested run."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from factorengine.harvest.figures import code_diff
from factorengine.score.metrics import SegmentMetrics
from factorengine.search.migration import lineage, migration_origins
from factorengine.store import EvaluationRow, ExperienceRow, NodeRow, Store, TrialRow, TuningRow


@dataclass(frozen=True)
class Relative:
    """Another node named from this one: an ancestor on its lineage, or a child."""

    node_id: int
    island: int
    kind: str
    idea: str


@dataclass(frozen=True)
class NodeView:
    """A node opened: `diff` is against `diff_from` (its parent, or a migrant's source), empty for a seed.

    `metrics` holds train and valid (and test once harvested); `lineage` runs from the seed down to the node.
    """

    node: NodeRow
    code: str
    diff_from: int | None
    diff: tuple[str, ...]
    status: str | None  # "ok" or a failure kind; None when the node was never evaluated
    failure_reason: str | None
    metrics: Mapping[str, SegmentMetrics]
    experience: ExperienceRow | None
    tuning: TuningRow | None
    trials: tuple[TrialRow, ...]
    lineage: tuple[Relative, ...]
    children: tuple[Relative, ...]


def read_node(store: Store, node_id: int, *, harvested: bool) -> NodeView | None:
    """Read node `node_id` from one commit of the store; None when there is no such node."""
    with store.snapshot():
        nodes = {n.node_id: n for n in store.nodes()}
        if node_id not in nodes:
            return None
        node, origins = nodes[node_id], migration_origins(store)
        chain = lineage(node_id, nodes, origins)
        came_from = chain[-2] if len(chain) > 1 else None
        code = store.program(node.program_id) or ""
        diff = () if came_from is None else tuple(code_diff(store.program(came_from.program_id) or "", code,
                                                            f"node {came_from.node_id}", f"node {node_id}"))
        evaluation = store.evaluation(node_id, include_test=harvested)
        children = [n for n in nodes.values() if n.parent_id == node_id or origins.get(n.node_id) == node_id]
        return NodeView(node, code, came_from and came_from.node_id, diff, evaluation and evaluation.status,
                        evaluation and evaluation.failure_reason, _metrics(evaluation), store.experience(node_id),
                        store.tuning(node_id), tuple(store.trials(node_id)), tuple(map(_relative, chain)),
                        tuple(map(_relative, children)))


def _metrics(evaluation: EvaluationRow | None) -> dict[str, SegmentMetrics]:
    if evaluation is None:
        return {}
    segments = {"train": evaluation.train, "valid": evaluation.valid, "test": evaluation.test}
    return {segment: metrics for segment, metrics in segments.items() if metrics is not None}


def _relative(node: NodeRow) -> Relative:
    return Relative(node.node_id, node.island, node.kind, node.idea)
