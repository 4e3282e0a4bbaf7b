"""The baseline's features: the scored seeds, oriented, filled by whichever stage computes them, each once."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from factorengine.harvest.baseline import SeedFeatures
from factorengine.ops import rank
from factorengine.store import NodeRow

SHAPE = (4, 5)


def _node(node_id: int, kind: str = "seed", failed: bool = False) -> NodeRow:
    return NodeRow(node_id, None, 0, node_id, 1, f"p{node_id}", {}, f"seed s{node_id}", kind, 0.0, failed)


def _store() -> SimpleNamespace:
    """Seeds 1 (oriented -1) and 2, a failed seed 3, an unscored seed 4 and a search node 5."""
    nodes = [_node(1), _node(2), _node(3, failed=True), _node(4), _node(5, kind="mutate")]
    orientation = {1: -1, 2: 1, 3: 1, 5: 1}
    return SimpleNamespace(nodes=lambda: nodes, evaluation=lambda node_id: (
        SimpleNamespace(orientation=orientation[node_id]) if node_id in orientation else None))


def _values(node: NodeRow) -> np.ndarray:
    return np.arange(20.0).reshape(SHAPE) * node.node_id


def test_the_scored_seeds_are_the_features_named_as_the_seeds():
    with SeedFeatures(_store(), SHAPE) as seeds:
        assert seeds.features.names == ("s1", "s2") and [n.node_id for n in seeds.missing()] == [1, 2]


def test_a_seed_is_stored_oriented_and_other_nodes_are_ignored():
    store = _store()
    with SeedFeatures(store, SHAPE) as seeds:
        seeds.put(store.nodes()[4], _values(store.nodes()[4]))
        seeds.put(store.nodes()[0], _values(store.nodes()[0]))
    assert [n.node_id for n in seeds.missing()] == [2]
    np.testing.assert_array_equal(seeds.features.ranks(slice(0, 4))[..., 0], rank(-_values(store.nodes()[0])))
    assert seeds.features.counts[1].sum() == 0  # seed 2 not computed yet


def test_fill_computes_only_the_seeds_no_stage_computed():
    store = _store()
    asked, progress = [], []

    def values(node: NodeRow) -> np.ndarray:
        asked.append(node.node_id)
        seeds.put(node, _values(node))
        return _values(node)

    with SeedFeatures(store, SHAPE) as seeds:
        seeds.put(store.nodes()[0], _values(store.nodes()[0]))
        seeds.fill(values, lambda done, total: progress.append((done, total)))
    assert asked == [2] and progress == [(1, 1)] and seeds.missing() == []
    np.testing.assert_array_equal(seeds.features.ranks(slice(0, 4))[..., 1], rank(_values(store.nodes()[1])))
