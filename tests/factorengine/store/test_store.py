"""The run store: round trips, atomic iterations (also under SIGKILL), readers, typed events and failure kinds."""
import json
import math
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace

import numpy as np
import pytest

from factorengine.score.failure import FailureKind
from factorengine.store import (OK, SCHEMA_VERSION, ExperienceRow, LLMCallRow, LLMUse, Migration, ProfileRow,
                                ProposalFailed, Stopped, Store, StoreError, TrialRow, TuningRow)
from tests.factorengine.store.sample import (CODE, CONFIG, EXPERIENCE, TEST, TRAIN, VALID, Clock, create, failed,
                                             iteration, node, ok)


def test_create_then_open_round_trips_every_row_type(tmp_path):
    path = tmp_path / "run.db"
    with create(path, notes="first run") as store:
        iteration(store, node(1), ok(1))
        iteration(store, node(2, parent_id=1, iteration=1, reward=0.0, failed=True), failed(2, FailureKind.TIMEOUT))
    with Store.open(path) as store:
        info = store.run_info()
        assert (info.config, info.fingerprint, info.seed, info.notes, info.schema_version) == (
            CONFIG, "sha256:abc123", 7, "first run", SCHEMA_VERSION)
        assert info.created_at == 1_700_000_001.0
        assert store.program("p-momentum") == CODE and store.program("p-missing") is None
        assert store.nodes() == [replace(node(1), created_at=1_700_000_002.0),
                                 replace(node(2, 1, iteration=1, reward=0.0, failed=True), created_at=1_700_000_004.0)]
        assert store.evaluation(1, include_test=True) == ok(1)
        assert store.evaluation(2) == failed(2, FailureKind.TIMEOUT)
        assert store.evaluation(3) is None
        assert store.experience(1) == ExperienceRow(1, *EXPERIENCE)
        assert store.experience(3) is None
        assert [(e.seq, e.time, e.island, e.iteration, e.payload) for e in store.events()] == [
            (1, 1_700_000_003.0, 0, 0, ProposalFailed("after node 1")),
            (2, 1_700_000_005.0, 0, 1, ProposalFailed("after node 2"))]
        assert store.progress(0) == 1


def test_node_created_at_given_by_the_caller_is_kept(tmp_path):
    with create(tmp_path / "run.db") as store:
        with store.transaction():
            store.add_program("p-momentum", CODE)
            assert store.add_node(replace(node(9), created_at=12.5)) == 9
        assert store.nodes()[0].created_at == 12.5


def test_tuning_and_trial_ledger_round_trip_with_nan_for_failures(run_path):
    tuning = TuningRow(1, "p-proposed", ({"name": "window_1", "value": 20, "line": 6, "context": "ts_mean(x, 20)",
                                          "reason": "window"},), 3, 2, 0.31, 0.35, 0.12, "budget", 1.5)
    trials = [TrialRow(1, 0, {"window": 5, "window_1": 20}, 0.31, OK, None, None, 0.2),
              TrialRow(1, 1, {"window": 9, "window_1": 40}, math.nan, FailureKind.TIMEOUT, "ran over 1 s", None, 1.0),
              TrialRow(1, 2, {"window": 4, "window_1": 11}, 0.35, OK, None, None, 0.2),
              TrialRow(1, 3, {"window": 5, "window_1": 20}, 0.31, OK, None, 0, 0.0)]
    with Store.open(run_path) as store:
        with store.transaction():
            store.add_tuning(tuning, trials)
        assert store.tuning(1) == tuning and store.tuning(2) is None and store.tunings() == [tuning]
        read = store.trials(1)
        assert math.isnan(read[1].train_fs) and read[1].status is FailureKind.TIMEOUT
        assert [replace(t, train_fs=0.0) for t in read] == [replace(t, train_fs=0.0) for t in trials]


def test_evaluation_hides_test_metrics_unless_asked(run_path):
    with Store.open(run_path) as store:
        assert store.evaluation(1).test is None
        assert (store.evaluation(1).train, store.evaluation(1).valid) == (TRAIN, VALID)
        assert store.evaluation(1, include_test=True).test == TEST


def test_test_metrics_are_stored_apart_from_the_shown_segments(run_path):
    with sqlite3.connect(run_path) as conn:
        shown, test, train_fs, valid_fs = conn.execute(
            "SELECT metrics, test_metrics, train_fs, valid_fs FROM evaluations").fetchone()
    conn.close()
    train = {**asdict(TRAIN), "folds": list(TRAIN.folds)}
    valid, tested = ({k: v for k, v in asdict(m).items() if k != "folds"} for m in (VALID, TEST))
    assert json.loads(shown) == {"train": train, "valid": valid} and json.loads(test) == tested
    assert (train_fs, valid_fs) == (TRAIN.fs, VALID.fs)


def test_evaluation_fs_is_nan_where_nothing_was_scored_or_read(run_path):
    with Store.open(run_path) as store:
        iteration(store, node(2, parent_id=1, iteration=1, reward=0.0, failed=True), failed(2, FailureKind.RAISED))
        scored, unscored = store.evaluation(1), store.evaluation(2, include_test=True)
        assert (scored.fs("train"), scored.fs("valid")) == (TRAIN.fs, VALID.fs) and math.isnan(scored.fs("test"))
        assert store.evaluation(1, include_test=True).fs("test") == TEST.fs
        assert all(math.isnan(unscored.fs(segment)) for segment in ("train", "valid", "test"))


def test_nan_and_inf_round_trip_in_config_params_metrics_and_reward(tmp_path):
    path = tmp_path / "run.db"
    config = {"threshold": math.nan, "cap": math.inf}
    with create(path, config=config) as store:
        row = replace(node(1, reward=math.nan), params={"scale": math.nan, "floor": -math.inf})
        iteration(store, row, ok(1, valid_fs=math.nan))
    with Store.open(path) as store:
        stored_config = store.run_info().config
        [stored] = store.nodes()
        valid = store.evaluation(1).valid
    assert math.isnan(stored_config["threshold"]) and stored_config["cap"] == math.inf
    assert math.isnan(stored.params["scale"]) and stored.params["floor"] == -math.inf
    assert math.isnan(stored.reward)
    assert math.isnan(valid.fs) and valid.ic == VALID.ic


def test_numpy_scalars_are_stored_as_plain_numbers(tmp_path):
    with create(tmp_path / "run.db") as store:
        row = replace(node(1), params={"window": np.int64(12), "scale": np.float32(0.5)})
        iteration(store, row, ok(1))
        assert store.nodes()[0].params == {"window": 12, "scale": 0.5}


def test_add_program_is_idempotent_and_refuses_different_code_under_one_id(run_path):
    with Store.open(run_path) as store:
        with store.transaction():
            store.add_program("p-momentum", CODE)
        with pytest.raises(StoreError, match="already stored with different code"), store.transaction():
            store.add_program("p-momentum", CODE + "# changed\n")
        assert store.program("p-momentum") == CODE


def test_writes_outside_a_transaction_are_refused(run_path):
    with Store.open(run_path) as store, pytest.raises(StoreError, match="outside `with store.transaction"):
        store.add_event(Stopped("stray"))


def test_transactions_do_not_nest(run_path):
    with Store.open(run_path) as store, store.transaction():
        with pytest.raises(StoreError, match="do not nest"), store.transaction():
            pass


def test_foreign_keys_and_duplicate_ids_are_refused(run_path):
    with Store.open(run_path) as store:
        with pytest.raises(StoreError, match="node 2.*FOREIGN KEY"), store.transaction():
            store.add_node(node(2, program_id="p-unknown"))
        with pytest.raises(StoreError, match="node 1.*UNIQUE"), store.transaction():
            store.add_node(node(1))
        assert [node.node_id for node in store.nodes()] == [1]


def test_exception_inside_transaction_leaves_nothing(run_path):
    with Store.open(run_path) as store:
        with pytest.raises(RuntimeError, match="proposer crashed"), store.transaction():
            store.add_program("p-other", CODE + "# other\n")
            store.add_node(node(2, parent_id=1, iteration=1, program_id="p-other"))
            store.add_evaluation(ok(2))
            store.set_progress(0, 1)
            raise RuntimeError("proposer crashed")
        assert [node.node_id for node in store.nodes()] == [1]
        assert (store.program("p-other"), store.evaluation(2), store.progress(0)) == (None, None, 0)
        iteration(store, node(2, parent_id=1, iteration=1), ok(2))  # the store stays usable
        assert store.progress(0) == 1


KILLED_ITERATION = """
import os, sys
from factorengine.store import EvaluationRow, NodeRow, Store
with Store.open(sys.argv[1]) as store, store.transaction():
    for i in range(2, 3002):  # ~12 MB: more than the page cache, so uncommitted pages spill into the WAL
        store.add_program(f"p{i}", "x = 1  # " + "x" * 4000)
        store.add_node(NodeRow(i, 1, 0, 1, 1, f"p{i}", {}, "idea", "wrap", 0.1, False))
    store.set_progress(0, 1)
    os.kill(os.getpid(), 9)
"""


def test_process_killed_mid_transaction_leaves_the_previous_state(run_path):
    done = subprocess.run([sys.executable, "-c", KILLED_ITERATION, str(run_path)], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    with Store.open(run_path) as store:
        assert [node.node_id for node in store.nodes()] == [1]
        assert store.progress(0) == 0 and store.program("p2") is None
        iteration(store, node(2, parent_id=1, iteration=1), ok(2))
    with Store.open(run_path, read_only=True) as store:
        assert [node.node_id for node in store.nodes()] == [1, 2] and store.progress(0) == 1


def test_create_refuses_an_existing_path_and_leaves_it_untouched(run_path, tmp_path):
    before = run_path.read_bytes()
    with pytest.raises(StoreError, match="already exists: a run is never overwritten"):
        create(run_path)
    assert run_path.read_bytes() == before
    other = tmp_path / "notes.txt"
    other.write_text("not a run")
    with pytest.raises(StoreError, match="already exists"):
        create(other)
    assert other.read_text() == "not a run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "run.db"]


def test_create_refuses_a_missing_directory(tmp_path):
    with pytest.raises(StoreError, match="the directory .*absent does not exist"):
        create(tmp_path / "absent" / "run.db")


def test_reader_sees_committed_data_while_a_writer_holds_a_transaction(run_path):
    with Store.open(run_path) as writer, Store.open(run_path, read_only=True) as reader:
        with writer.transaction():
            writer.add_program("p-other", CODE + "# other\n")
            writer.add_node(node(2, parent_id=1, iteration=1, program_id="p-other"))
            writer.set_progress(0, 1)
            assert [node.node_id for node in reader.nodes()] == [1]
            assert reader.progress(0) == 0 and reader.evaluation(1, include_test=True) == ok(1)
        assert [node.node_id for node in reader.nodes()] == [1, 2] and reader.progress(0) == 1


def test_a_snapshot_sees_one_commit_while_a_writer_commits_meanwhile(run_path):
    with Store.open(run_path) as writer, Store.open(run_path, read_only=True) as reader:
        with reader.snapshot():
            assert [n.node_id for n in reader.nodes()] == [1]
            iteration(writer, node(2, parent_id=1, iteration=1), ok(2))
            assert [n.node_id for n in reader.nodes()] == [1] and reader.progress(0) == 0
        assert [n.node_id for n in reader.nodes()] == [1, 2] and reader.progress(0) == 1


def test_data_version_changes_when_another_connection_commits_and_only_then(run_path):
    with Store.open(run_path) as writer, Store.open(run_path, read_only=True) as reader:
        before = reader.data_version()
        reader.nodes()
        assert reader.data_version() == before
        iteration(writer, node(2, parent_id=1, iteration=1), ok(2))
        assert reader.data_version() != before


def test_a_read_only_store_serves_another_thread(run_path):
    with Store.open(run_path, read_only=True) as store, ThreadPoolExecutor(1) as pool:
        assert [n.node_id for n in pool.submit(store.nodes).result()] == [1]


def test_read_only_store_refuses_writes(run_path):
    with Store.open(run_path, read_only=True) as store, pytest.raises(StoreError, match="opened read-only"):
        with store.transaction():
            pass


def test_check_fingerprint_explains_a_data_change(run_path):
    with Store.open(run_path) as store:
        store.check_fingerprint("sha256:abc123")
        with pytest.raises(StoreError) as raised:
            store.check_fingerprint("sha256:def456")
    assert str(raised.value) == ("the data under this run changed: recorded sha256:abc123, now sha256:def456; "
                                 "use the original data or start a new run")


def test_progress_is_minus_one_for_an_island_without_commits(run_path):
    with Store.open(run_path) as store:
        assert (store.progress(0), store.progress(3)) == (0, -1)


def test_top_nodes_orders_by_segment_fs_and_skips_failed_and_nan(tmp_path):
    with create(tmp_path / "run.db") as store:
        scores = {1: (0.30, 0.10), 2: (0.10, 0.50), 3: (0.30, 0.20), 4: (math.nan, 0.90)}
        for node_id, (valid_fs, train_fs) in scores.items():
            iteration(store, node(node_id, island=node_id % 2), ok(node_id, valid_fs, train_fs))
        iteration(store, node(5), failed(5, FailureKind.LOOKAHEAD))
        assert [node.node_id for node in store.top_nodes(3)] == [1, 3, 2]
        assert [node.node_id for node in store.top_nodes(2, by="train")] == [4, 2]
        assert [node.node_id for node in store.top_nodes(3, island=1)] == [1, 3]
        with pytest.raises(ValueError, match="by must be one of"):
            store.top_nodes(3, by="test")


def test_events_filter_by_kind_in_sequence_order(tmp_path):
    with create(tmp_path / "run.db") as store:
        with store.transaction():
            store.add_event(Migration(1, ((1, 4, 20), (1, 7, None))), island=0, iteration=10)
            store.add_event(Stopped("budget spent"))
            assert store.add_event(Migration(1, ((0, 9, 21),)), island=1, iteration=10) == 3
        migrations = store.events(Migration)
        assert [(e.seq, e.island, e.payload) for e in migrations] == [
            (1, 0, Migration(1, ((1, 4, 20), (1, 7, None)))), (3, 1, Migration(1, ((0, 9, 21),)))]
        assert [e.payload.kind for e in store.events()] == ["migration", "stopped", "migration"]
        assert store.events()[1].island is None


def _failing(store, kinds):
    """Commit node 1, scored, then nodes 2, 3, ... each failing with the next of `kinds`."""
    iteration(store, node(1), ok(1))
    for node_id, kind in enumerate(kinds, start=2):
        iteration(store, node(node_id, parent_id=1, reward=0.0, failed=True), failed(node_id, kind))


def test_count_failures_by_kind(tmp_path):
    with create(tmp_path / "run.db") as store:
        _failing(store, [FailureKind.TIMEOUT, FailureKind.LOOKAHEAD, FailureKind.TIMEOUT, FailureKind.POLICY])
        assert store.count_failures_by_kind() == {"lookahead": 1, "policy": 1, "timeout": 2}


def test_latest_failures_gives_the_newest_of_each_kind_first(tmp_path):
    with create(tmp_path / "run.db") as store:
        _failing(store, [FailureKind.TIMEOUT, FailureKind.LOOKAHEAD, FailureKind.TIMEOUT, FailureKind.TIMEOUT])
        assert store.latest_failures(2) == {FailureKind.LOOKAHEAD: [(3, "lookahead: details")],
                                            FailureKind.TIMEOUT: [(5, "timeout: details"), (4, "timeout: details")]}


def _call(key: str, purpose: str = "propose", content: str | None = "{}", tokens: tuple[int, int] = (100, 20),
          cost: float = 0.001) -> LLMCallRow:
    return LLMCallRow(key, purpose, 0, "scripted", {"model": "scripted", "messages": [{"role": "user",
                                                                                        "content": "hi"}]},
                      content, None if content is None else "stop", "timeout" if content is None else None,
                      *tokens, cost, 0.5)


def test_llm_calls_round_trip_by_key_and_add_up(run_path):
    with Store.open(run_path) as store:
        with store.transaction():
            store.add_llm_call(_call("k1"))
            store.add_llm_call(_call("k2", purpose="repair", tokens=(50, 10), cost=0.0005))
            store.add_llm_call(_call("k3", content=None, tokens=(0, 0), cost=0.0))
        assert store.llm_call("k1") == _call("k1") and store.llm_call("missing") is None
        totals = store.llm_totals()
    assert (totals.calls, totals.failed, totals.tokens, totals.by_purpose) == (3, 1, 180,
                                                                               {"propose": 2, "repair": 1})
    assert totals.cost_usd == pytest.approx(0.0015)


def test_llm_uses_list_each_call_s_time_tokens_cost_and_failure_oldest_first(run_path):
    with Store.open(run_path, clock=Clock(2_000_000_000.0)) as store:
        with store.transaction():
            store.add_llm_call(_call("k2", purpose="repair", tokens=(50, 10), cost=0.0005))
            store.add_llm_call(_call("k1", content=None, tokens=(0, 0), cost=0.0))
        assert store.llm_uses() == [LLMUse(2_000_000_001.0, "repair", 60, 0.0005, False),
                                    LLMUse(2_000_000_002.0, "propose", 0, 0.0, True)]


def test_a_failed_llm_call_stored_again_is_replaced_by_its_answer(run_path):
    with Store.open(run_path) as store:
        with store.transaction():
            store.add_llm_call(_call("k1", content=None))
        with store.transaction():
            store.add_llm_call(_call("k1"))
        assert store.llm_call("k1").content == "{}" and store.llm_totals().calls == 1


def test_a_profile_round_trips_its_fingerprint_exactly(run_path):
    fingerprint = np.array([0.25, -0.5, 0.0, 0.125], dtype=np.float32)
    row = ProfileRow(1, fingerprint, {"price": 0.8, "volume": -0.1, "dollar_volume": math.nan}, True, 0.5, 0.25,
                     0.4)
    with Store.open(run_path) as store:
        with store.transaction():
            store.add_profile(row)
        stored = store.profile(1)
        assert list(store.profiles()) == [1] and store.profile(2) is None
    assert np.array_equal(stored.fingerprint, fingerprint) and stored.fingerprint.dtype == np.float32
    assert stored.exposures["price"] == 0.8 and math.isnan(stored.exposures["dollar_volume"])
    assert (stored.level_bet, stored.structural, stored.correlation, stored.penalty) == (True, 0.5, 0.25, 0.4)
