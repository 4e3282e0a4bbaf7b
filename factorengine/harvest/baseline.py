"""The baseline's features: the run's scored seeds, filled as any harvest stage computes their values."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import numpy as np

from factorengine.harvest.features import Features
from factorengine.store import NodeRow, Store


class SeedFeatures:
    """The scored seeds' oriented values as features, named as the seeds, in the store's order.

    A seed's ranks are stored in a background thread while the caller goes on (to run the next program in the
    sandbox); one seed at a time, so at most one seed's values wait. Read `features` after the `with` block.
    """

    def __init__(self, store: Store, shape: tuple[int, int]) -> None:
        seeds = [(node, store.evaluation(node.node_id)) for node in store.nodes()
                 if node.kind == "seed" and not node.failed]
        seeds = [(node, evaluation) for node, evaluation in seeds if evaluation is not None]
        self.features = Features.empty([node.idea.removeprefix("seed ") for node, _ in seeds], shape)
        self._columns = {node.node_id: (k, evaluation.orientation) for k, (node, evaluation) in enumerate(seeds)}
        self._missing = {node.node_id: node for node, _ in seeds}
        self._filler = ThreadPoolExecutor(max_workers=1)
        self._pending: Future | None = None

    def put(self, node: NodeRow, values: np.ndarray) -> None:
        """Store a node's (unoriented) values [T, N] if it is a scored seed; other nodes are ignored."""
        if node.node_id in self._columns:
            k, orientation = self._columns[node.node_id]
            self._wait()
            self._pending = self._filler.submit(self.features.put, k, orientation * values)
            self._missing.pop(node.node_id, None)

    def missing(self) -> list[NodeRow]:
        """The seeds whose values no stage has computed yet."""
        return list(self._missing.values())

    def fill(self, values: Callable[[NodeRow], np.ndarray], on_progress: Callable[[int, int], None]) -> None:
        """Compute the missing seeds' values with `values` (whose computations come back through `put`)."""
        missing = self.missing()
        for done, node in enumerate(missing, start=1):
            values(node)
            on_progress(done, len(missing))

    def _wait(self) -> None:
        """Wait until the seed being stored is stored (raising what storing it raised)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def __enter__(self) -> SeedFeatures:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._wait()
        finally:
            self._filler.shutdown()
