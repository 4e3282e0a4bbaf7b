"""Generalization: what the novelty gate kept out, read from the run's duplicate events."""
from __future__ import annotations

from factorengine.harvest.generalization import generalization
from factorengine.store import Duplicate, Store


def test_duplicates_by_value_are_those_that_cost_evaluations_and_code_duplicates_are_not(tmp_path):
    with Store.create(tmp_path / "run.db", config={}, fingerprint="f", seed=0) as store:
        with store.transaction():
            store.add_event(Duplicate("duplicate of node 3 (the same code up to its parameters)", 0),
                            island=0, iteration=5)
            store.add_event(Duplicate("duplicate of node 4 by its values (|rank correlation| 0.991 on the sample "
                                      "days)", 3), island=0, iteration=6)
        g = generalization(store)
    assert (g.value_duplicates, g.duplicate_evaluations, g.evaluations) == (1, 3, 3)
