"""Score programs on the test segment, for people: harvest, reports and benchmarks ask; the search never does.

A node's test metrics are computed once, oriented by its train RankIC as every stored metric is, and kept in
the store's test column, so `status` and `report` show them after a harvest.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from factorengine.data import SEGMENTS
from factorengine.harvest.values import ProgramValues
from factorengine.program import ProgramError
from factorengine.score.evaluate import Evaluator
from factorengine.score.fitness import score
from factorengine.score.metrics import SegmentMetrics
from factorengine.store import NodeRow, Store


def judge(store: Store, evaluator: Evaluator, nodes: Sequence[NodeRow],
          values: Callable[[NodeRow], np.ndarray] | None = None,
          on_progress: Callable[[int, int], None] = lambda done, total: None) -> dict[int, SegmentMetrics]:
    """The test metrics of `nodes` that ran: read where the store has them, else scored and recorded.

    `values` gives a node's program values (default: run by `evaluator`); a program that fails now is not judged.
    `on_progress` is called with (programs scored, programs to score) as each is scored.
    """
    values = values or ProgramValues(store, evaluator).get
    label, splits = evaluator.dataset.label, evaluator.dataset.splits
    judged, unjudged = {}, []
    for node in nodes:
        evaluation = store.evaluation(node.node_id, include_test=True)
        if evaluation is not None and evaluation.train is not None:
            if evaluation.test is None:
                unjudged.append(node)
            else:
                judged[node.node_id] = evaluation.test
    fresh = {}
    for done, node in enumerate(unjudged, start=1):
        try:
            fresh[node.node_id] = score(values(node), label, splits, segments=SEGMENTS).test
        except ProgramError:  # it ran when the search scored it; a failure now (a timeout, say) leaves it unjudged
            pass
        on_progress(done, len(unjudged))
    if fresh:
        with store.transaction():
            for node_id, metrics in fresh.items():
                store.set_test(node_id, metrics)
    both = judged | fresh
    return {node.node_id: both[node.node_id] for node in nodes if node.node_id in both}
