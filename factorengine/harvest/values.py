"""Nodes' factor values for harvest's stages, computed in the sandbox once each.

A node's values [T, N] float64 take 14 MB on the real panel, so they are not cached for the whole harvest: a
stage that knows a later one asks for the same node holds them (`get(node, hold=True)`), the later stage takes them
over, and whatever was computed is shown to `on_computed` as it comes (so the seeds' features are filled from the
values other stages asked for).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from factorengine.program import parse_program
from factorengine.score.evaluate import Evaluator
from factorengine.store import NodeRow, Store


class ProgramValues:
    """The stored programs' values, computed by `evaluator` with each node's parameters."""

    def __init__(self, store: Store, evaluator: Evaluator,
                 on_computed: Callable[[NodeRow, np.ndarray], None] = lambda node, values: None) -> None:
        self.store, self.evaluator, self.on_computed = store, evaluator, on_computed
        self.computed = 0  # programs run so far
        self._held: dict[int, np.ndarray] = {}

    def get(self, node: NodeRow, *, hold: bool = False) -> np.ndarray:
        """The node's program values (unoriented), held ones handed over; ProgramError when the program fails.

        `hold`: keep them for the next `get` of this node.
        """
        values = self._held.pop(node.node_id, None)
        if values is None:
            program = parse_program(self.store.program(node.program_id))
            values = self.evaluator.values(program, node.params)
            self.computed += 1
            self.on_computed(node, values)
        if hold:
            self._held[node.node_id] = values
        return values

    def release(self) -> None:
        """Drop every held value."""
        self._held.clear()
