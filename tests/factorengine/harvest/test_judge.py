"""Judging on test: scored on demand, oriented as on train, recorded once, for the nodes asked only."""
from __future__ import annotations

import math

import pytest

from factorengine.data import SEGMENTS
from factorengine.harvest.generalization import generalization, judged_nodes
from factorengine.harvest.judge import judge
from factorengine.program import parse_program
from factorengine.score.evaluate import Evaluator
from factorengine.score.fitness import score
from factorengine.store.recorded import open_run
from tests.factorengine.runs import synthetic_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A small search on the synthetic market (its test segment never scored)."""
    return synthetic_run(tmp_path_factory.mktemp("judge"), 4)


def _copy(run_dir, tmp_path):
    copy = tmp_path / "run"
    copy.mkdir()
    (copy / "run.db").write_bytes((run_dir / "run.db").read_bytes())
    return copy


def test_judge_scores_test_as_the_full_score_does_and_records_it(run_dir, tmp_path):
    store, dataset = open_run(_copy(run_dir, tmp_path), read_only=False)
    with store, Evaluator(dataset) as evaluator:
        node = judged_nodes(store)[0]
        judged = judge(store, evaluator, [node])
        values = evaluator.values(parse_program(store.program(node.program_id)), dict(node.params))
        assert judged[node.node_id] == score(values, dataset.label, dataset.splits, segments=SEGMENTS).test
        assert store.evaluation(node.node_id, include_test=True).test == judged[node.node_id]


def test_judge_leaves_the_nodes_not_asked_for_unscored(run_dir, tmp_path):
    store, dataset = open_run(_copy(run_dir, tmp_path), read_only=False)
    with store, Evaluator(dataset) as evaluator:
        asked = judged_nodes(store)[0]
        judge(store, evaluator, [asked])
        others = [n for n in store.nodes() if n.node_id != asked.node_id]
        assert [store.evaluation(n.node_id, include_test=True).test for n in others] == [None] * len(others)


def test_generalization_reads_test_fs_only_once_judged(run_dir, tmp_path):
    store, dataset = open_run(_copy(run_dir, tmp_path), read_only=False)
    with store, Evaluator(dataset) as evaluator:
        before = generalization(store).top_test_fs
        judge(store, evaluator, judged_nodes(store))
        after = generalization(store).top_test_fs
    assert math.isnan(before) and not math.isnan(after)


def test_a_node_judged_before_is_read_back_not_run_again(run_dir, tmp_path):
    store, dataset = open_run(_copy(run_dir, tmp_path), read_only=False)
    with store, Evaluator(dataset) as evaluator:
        nodes = judged_nodes(store)
        first = judge(store, evaluator, nodes)
        evaluator.values = None  # a second sandbox run would fail the test
        assert judge(store, evaluator, nodes) == first
