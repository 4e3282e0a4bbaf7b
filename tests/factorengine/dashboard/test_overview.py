"""The overview of a run: each island's curves, the tree, the top programs, failures, tuning; test FS only after
harvest."""
import math
import shutil

import numpy as np
import pytest

from factorengine.dashboard.harvested import results_path
from factorengine.dashboard.overview import TOP, read_overview
from factorengine.score.failure import FailureKind
from factorengine.store import RUN_DATABASE, LLMCallRow, Store
from tests.factorengine.store.sample import create, failed, iteration, node, ok


def _overview(run_dir, harvested=None):
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        return read_overview(store, run_dir, harvested=results_path(run_dir).is_file() if harvested is None
                             else harvested)


def test_each_island_has_a_train_and_a_valid_curve_whose_best_never_falls(run_dir):
    overview = _overview(run_dir)
    assert [(c.island, c.segment) for c in overview.curves] == [(0, "train"), (0, "valid"), (1, "train"),
                                                                (1, "valid")]
    for curve in overview.curves:
        assert np.all(np.diff(curve.iterations) > 0) and np.all(np.diff(curve.best) >= 0)
        own = [getattr(n, f"{curve.segment}_fs") for n in overview.tree if n.island == curve.island]
        assert curve.best[-1] == np.nanmax(own)
        assert math.isclose(curve.mean[-1], np.nanmean(own))


def test_the_tree_holds_every_node_and_the_header_each_island_s_progress(run_dir):
    overview = _overview(run_dir)
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        nodes = store.nodes()
        assert overview.run.done == {0: store.progress(0) + 1, 1: store.progress(1) + 1}
    assert [n.node_id for n in overview.tree] == [n.node_id for n in nodes]
    assert overview.run.nodes == len(nodes) and overview.run.last_commit == max(n.created_at for n in nodes)
    assert (overview.run.n_islands, overview.run.proposer, overview.run.harvested) == (2, "mutate", False)


def test_the_top_programs_are_the_best_by_valid_fs_without_migrant_copies(run_dir):
    top = _overview(run_dir).top
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        expected = [n.node_id for n in store.top_nodes(100) if n.kind != "migrant"][:TOP]
    assert [p.node_id for p in top] == expected
    assert [p.valid_fs for p in top] == sorted((p.valid_fs for p in top), reverse=True)


@pytest.mark.slow  # the harvest
def test_test_fs_stays_hidden_until_the_run_is_harvested(run_dir, harvested_dir):
    assert all(math.isnan(p.test_fs) for p in _overview(run_dir).top)
    harvested = _overview(harvested_dir)
    assert harvested.run.harvested and all(math.isfinite(p.test_fs) for p in harvested.top)


@pytest.mark.slow  # the harvest
def test_test_fs_the_store_holds_stays_hidden_when_the_harvest_results_are_gone(harvested_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(harvested_dir, copy)
    results_path(copy).unlink()
    overview = _overview(copy)
    assert not overview.run.harvested and all(math.isnan(p.test_fs) for p in overview.top)


def test_the_tuning_summary_counts_the_run_s_trials(run_dir):
    tuning = _overview(run_dir).tuning
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        trials, tunings = store.trials(), store.tunings()
    assert (tuning.programs, tuning.trials) == (len(tunings), len(trials))
    assert set(tuning.sharp) == {node_id for node_id, drop in tuning.drops if drop > 0.5}


def test_llm_use_adds_up_over_time_and_failures_keep_their_newest_messages(tmp_path):
    with create(tmp_path / RUN_DATABASE) as store:
        iteration(store, node(1), ok(1))
        for node_id in (2, 3):
            iteration(store, node(node_id, parent_id=1, iteration=node_id, failed=True), failed(node_id,
                                                                                               FailureKind.TIMEOUT))
        with store.transaction():
            for key, content, tokens, cost in (("a", "{}", (800, 200), 0.25), ("b", None, (400, 100), 0.5)):
                store.add_llm_call(LLMCallRow(key, "propose", 0, "m", {}, content, None, None, *tokens, cost, 1.0))
    overview = _overview(tmp_path, harvested=False)
    assert (overview.llm.totals.calls, overview.llm.totals.failed, overview.llm.cumulative_tokens) == (2, 1,
                                                                                                     (1000, 1500))
    assert overview.llm.cumulative_cost_usd == (0.25, 0.75) and len(overview.llm.times) == 2
    assert overview.llm.totals.by_model == {"m": (2, 0.75)}
    assert overview.failures.by_kind == {"timeout": 2}
    assert overview.failures.latest == {"timeout": ((3, "timeout: details"), (2, "timeout: details"))}
