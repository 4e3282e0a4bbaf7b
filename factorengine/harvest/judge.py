"""Score programs on the test segment, for people: harvest, reports and benchmarks ask; the search never does.

A node's test metrics are computed once, oriented by its train RankIC as every stored metric is, and kept in
the store's test column, so `status` and `report` show them after a harvest.
"""
from __future__ import annotations

from typing import Sequence

from factorengine.data import SEGMENTS
from factorengine.program import Program, ProgramError, parse_program
from factorengine.score.evaluate import Evaluator
from factorengine.score.fitness import SegmentMetrics, score
from factorengine.store import NodeRow, Store


def score_test(evaluator: Evaluator, program: Program, params: dict) -> SegmentMetrics | None:
    """The program's test metrics with `params`; None when it fails to run."""
    try:
        values = evaluator.values(program, params)
    except ProgramError:
        return None
    dataset = evaluator.dataset
    return score(values, dataset.label, dataset.splits, segments=SEGMENTS).test


def judge(store: Store, evaluator: Evaluator, nodes: Sequence[NodeRow]) -> dict[int, SegmentMetrics]:
    """The test metrics of `nodes` that ran: read where the store has them, else scored and recorded."""
    judged, fresh = {}, {}
    for node in nodes:
        evaluation = store.evaluation(node.node_id, include_test=True)
        if evaluation is None or evaluation.train is None:
            continue
        if evaluation.test is not None:
            judged[node.node_id] = evaluation.test
        elif (metrics := score_test(evaluator, parse_program(store.program(node.program_id)),
                                      dict(node.params))) is not None:
            judged[node.node_id] = fresh[node.node_id] = metrics
    if fresh:
        with store.transaction():
            for node_id, metrics in fresh.items():
                store.set_test(node_id, metrics)
    return judged
