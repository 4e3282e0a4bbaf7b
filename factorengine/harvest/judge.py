"""Score programs on the test segment, for people: harvest, reports and benchmarks ask; the search never does.

A node's test metrics are computed once, oriented by its train RankIC as every stored metric is, and kept in
the store's test column, so `status` and `report` show them after a harvest.
"""
from __future__ import annotations

from typing import Sequence

from factorengine.data import SEGMENTS
from factorengine.program import parse_program
from factorengine.score.evaluate import Evaluator
from factorengine.score.metrics import SegmentMetrics
from factorengine.store import NodeRow, Store


def judge(store: Store, evaluator: Evaluator, nodes: Sequence[NodeRow]) -> dict[int, SegmentMetrics]:
    """The test metrics of `nodes` that ran: read where the store has them, else scored and recorded."""
    judged, fresh = {}, {}
    for node in nodes:
        evaluation = store.evaluation(node.node_id, include_test=True)
        if evaluation is None or evaluation.train is None:
            continue
        if evaluation.test is not None:
            judged[node.node_id] = evaluation.test
        else:
            [scored] = evaluator.evaluate(parse_program(store.program(node.program_id)), [dict(node.params)],
                                          segments=SEGMENTS, probe=False)  # probed when the search stored it
            if scored.fitness is not None:
                judged[node.node_id] = fresh[node.node_id] = scored.fitness.test
    if fresh:
        with store.transaction():
            for node_id, metrics in fresh.items():
                store.set_test(node_id, metrics)
    return judged
