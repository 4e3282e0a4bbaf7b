"""Harvest's stages ask for programs' values: each computed once, handed over when held, shown as computed."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from factorengine.harvest.values import ProgramValues
from factorengine.store import NodeRow

SOURCE = "def factor(d, x=1):\n    return d.close * x\n"


class Sandboxed:
    """An evaluator stand-in: the values of parameter x are x everywhere; it counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    def values(self, program: object, params: dict) -> np.ndarray:
        self.runs += 1
        return np.full((2, 3), float(params["x"]))


def _node(node_id: int, x: int) -> NodeRow:
    return NodeRow(node_id, None, 0, node_id, 1, f"p{node_id}", {"x": x}, f"node {node_id}", "seed", 0.0, False)


def _values(shown: list) -> tuple[ProgramValues, Sandboxed]:
    evaluator = Sandboxed()
    store = SimpleNamespace(program=lambda program_id: SOURCE)
    return ProgramValues(store, evaluator, on_computed=lambda node, values: shown.append(node.node_id)), evaluator


def test_a_held_value_is_handed_over_once_then_computed_again():
    shown = []
    values, evaluator = _values(shown)
    first = values.get(_node(1, 2), hold=True)
    assert values.get(_node(1, 2)) is first and evaluator.runs == 1
    values.get(_node(1, 2))
    assert evaluator.runs == values.computed == 2 and shown == [1, 1]


def test_values_are_computed_with_each_node_s_parameters_and_shown_as_computed():
    shown = []
    values, _ = _values(shown)
    assert values.get(_node(1, 2))[0, 0] == 2.0 and values.get(_node(2, 5))[0, 0] == 5.0
    assert shown == [1, 2]


def test_released_values_are_no_longer_held():
    values, evaluator = _values([])
    values.get(_node(1, 2), hold=True)
    values.release()
    values.get(_node(1, 2))
    assert evaluator.runs == 2
