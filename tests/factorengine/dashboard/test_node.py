"""A node opened: code, the diff against its parent (or a migrant's source), metrics, tuning, lineage, children."""
from dataclasses import replace

import pytest

from factorengine.dashboard.node import read_node
from factorengine.harvest.figures import code_diff
from factorengine.store import RUN_DATABASE, Migration, Store
from tests.factorengine.store.sample import CODE, create, node, ok


def _searched(store):
    """A node made by the search (not a seed) whose parent is on the tree."""
    return next(n for n in store.nodes() if n.parent_id is not None and n.kind != "migrant")


def test_a_searched_node_opens_with_its_code_and_its_diff_against_its_parent(run_dir):
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        child = _searched(store)
        parent = next(n for n in store.nodes() if n.node_id == child.parent_id)
        view = read_node(store, child.node_id, harvested=False)
        code, before = store.program(child.program_id), store.program(parent.program_id)
    assert view.code == code and view.diff_from == parent.node_id
    assert list(view.diff) == code_diff(before, code, f"node {parent.node_id}", f"node {child.node_id}")
    assert view.diff[0] == f"--- node {parent.node_id}" and view.diff[1] == f"+++ node {child.node_id}"
    assert [r.node_id for r in view.lineage][-2:] == [parent.node_id, child.node_id]
    assert view.lineage[0].kind == "seed"


def test_a_node_shows_train_and_valid_metrics_with_folds_its_tuning_ledger_and_its_children(run_dir):
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        child = _searched(store)
        view = read_node(store, child.parent_id, harvested=False)
        trials = store.trials(child.parent_id)
    assert set(view.metrics) == {"train", "valid"} and view.metrics["train"].folds
    assert view.tuning is not None and view.trials == tuple(trials) and len(trials) == 2
    assert child.node_id in [r.node_id for r in view.children]


@pytest.mark.slow  # the harvest
def test_test_metrics_of_a_node_show_only_once_harvested(harvested_dir):
    with Store.open(harvested_dir / RUN_DATABASE, read_only=True) as store:
        node_id = store.top_nodes(1)[0].node_id
        assert set(read_node(store, node_id, harvested=False).metrics) == {"train", "valid"}
        assert set(read_node(store, node_id, harvested=True).metrics) == {"train", "valid", "test"}


def _commit(store, row, code):
    with store.transaction():
        store.add_program(row.program_id, code)
        store.add_node(row)
        store.add_evaluation(ok(row.node_id))


def test_a_migrant_diffs_against_the_node_it_was_copied_from_and_is_its_child(tmp_path):
    edited = CODE.replace("window=5", "window=9")
    with create(tmp_path / "run.db") as store:
        _commit(store, node(1), CODE)
        _commit(store, node(2, parent_id=1, iteration=1, program_id="p-edited"), edited)
        _commit(store, replace(node(30, island=1, program_id="p-edited"), kind="migrant"), edited)
        with store.transaction():
            store.add_event(Migration(1, ((0, 2, 30),)), island=1, iteration=1)
        migrant = read_node(store, 30, harvested=False)
        source = read_node(store, 2, harvested=False)
    assert migrant.diff_from == 2 and migrant.diff == ()  # the same code: nothing changed on the way
    assert [r.node_id for r in migrant.lineage] == [1, 2, 30]
    assert [r.node_id for r in source.children] == [30]
    assert source.diff_from == 1 and "-def factor(d, window=5):" in source.diff


def test_a_seed_has_nothing_to_diff_against_and_an_unknown_node_is_none(run_dir):
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        seed = next(n for n in store.nodes() if n.kind == "seed")
        view = read_node(store, seed.node_id, harvested=False)
        assert (view.diff_from, view.diff, len(view.lineage)) == (None, (), 1)
        assert read_node(store, 10**12, harvested=False) is None
