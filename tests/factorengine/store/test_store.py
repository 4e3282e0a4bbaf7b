"""The run store: round trips, atomic iterations (also under SIGKILL), refusals of bad files, migration, readers."""
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from factorengine.store import store as store_module
from factorengine.store.store import (EvaluationRow, ExperienceRow, LLMCallRow, NodeRow, ProfileRow, Store, StoreError,
                                TrialRow, TuningRow)

CURRENT = store_module.SCHEMA_VERSION
CONFIG = {"search": {"c": 1.4142135623730951, "iterations": 40}, "data": {"path": "synthetic"}}
CODE = '''"""Momentum."""
from factorengine.ops import delay


def factor(d, window=5):
    return d.close / delay(d.close, window) - 1
'''
TRAIN = {"ic": 0.031, "icir": 0.42, "rank_ic": 0.035, "rank_icir": 0.47, "fs": 0.3545, "n_days": 300}
VALID = {"ic": 0.022, "icir": 0.30, "rank_ic": 0.025, "rank_icir": 0.33, "fs": 0.2508, "n_days": 100}
TEST = {"ic": 0.018, "icir": 0.25, "rank_ic": 0.02, "rank_icir": 0.27, "fs": 0.2, "n_days": 100}


class Clock:
    """A clock that ticks one second per reading."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _create(path: Path, **overrides) -> Store:
    kwargs = {"config": CONFIG, "fingerprint": "sha256:abc123", "seed": 7, "clock": Clock()} | overrides
    return Store.create(path, **kwargs)


def _node(node_id: int, parent_id=None, *, island=0, iteration=0, program_id="p-momentum", reward=0.5,
          failed=False) -> NodeRow:
    return NodeRow(node_id=node_id, parent_id=parent_id, island=island, iteration=iteration,
                   depth=0 if parent_id is None else 1, program_id=program_id, params={"window": 5},
                   idea="momentum over a week", kind="seed" if parent_id is None else "operator_swap",
                   reward=reward, failed=failed)


def _ok(node_id: int, valid_fs: float = VALID["fs"], train_fs: float = TRAIN["fs"]) -> EvaluationRow:
    return EvaluationRow(node_id=node_id, status="ok", failure_reason=None,
                         metrics={"train": TRAIN | {"fs": train_fs}, "valid": VALID | {"fs": valid_fs}},
                         test_metrics=TEST, orientation=1, seconds=0.25)


def _failed(node_id: int, kind: str) -> EvaluationRow:
    return EvaluationRow(node_id=node_id, status=kind, failure_reason=f"{kind}: details", metrics={},
                         test_metrics=None, orientation=None, seconds=3.0)


def _iteration(store: Store, node: NodeRow, evaluation: EvaluationRow) -> None:
    with store.transaction():
        store.add_program(node.program_id, CODE)
        store.add_node(node)
        store.add_evaluation(evaluation)
        store.add_experience(ExperienceRow(node.node_id, "swapped ts_mean for ts_ema", "faster decay", "fs +0.02"))
        store.add_event("iteration", {"node_id": node.node_id}, island=node.island, iteration=node.iteration)
        store.set_progress(node.island, node.iteration)


@pytest.fixture
def run_path(tmp_path) -> Path:
    path = tmp_path / "run.db"
    with _create(path) as store:
        _iteration(store, _node(1), _ok(1))
    return path


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def test_create_then_open_round_trips_every_row_type(tmp_path):
    path = tmp_path / "run.db"
    with _create(path, notes="first run") as store:
        _iteration(store, _node(1), _ok(1))
        _iteration(store, _node(2, parent_id=1, iteration=1, reward=0.0, failed=True), _failed(2, "timeout"))
    with Store.open(path) as store:
        info = store.run_info()
        assert (info.config, info.fingerprint, info.seed, info.notes, info.schema_version) == (
            CONFIG, "sha256:abc123", 7, "first run", CURRENT)
        assert info.created_at == 1_700_000_001.0
        assert store.program("p-momentum") == CODE and store.program("p-missing") is None
        assert store.nodes() == [replace(_node(1), created_at=1_700_000_002.0),
                                 replace(_node(2, 1, iteration=1, reward=0.0, failed=True), created_at=1_700_000_004.0)]
        assert store.evaluation(1, include_test=True) == _ok(1)
        assert store.evaluation(2) == _failed(2, "timeout")
        assert store.evaluation(3) is None
        assert store.experience(1) == ExperienceRow(1, "swapped ts_mean for ts_ema", "faster decay", "fs +0.02")
        assert store.experience(3) is None
        assert [(e.seq, e.time, e.island, e.iteration, e.kind, e.payload) for e in store.events()] == [
            (1, 1_700_000_003.0, 0, 0, "iteration", {"node_id": 1}),
            (2, 1_700_000_005.0, 0, 1, "iteration", {"node_id": 2})]
        assert store.progress(0) == 1


def test_node_created_at_given_by_the_caller_is_kept(tmp_path):
    with _create(tmp_path / "run.db") as store:
        with store.transaction():
            store.add_program("p-momentum", CODE)
            assert store.add_node(replace(_node(9), created_at=12.5)) == 9
        assert store.nodes()[0].created_at == 12.5


def test_tuning_and_trial_ledger_round_trip_with_nan_for_failures(run_path):
    tuning = TuningRow(1, "p-proposed", ({"name": "window_1", "value": 20, "line": 6, "context": "ts_mean(x, 20)",
                                          "reason": "window"},), 3, 2, 0.31, 0.35, 0.12, "budget", 1.5)
    trials = [TrialRow(1, 0, {"window": 5, "window_1": 20}, 0.31, "ok", None, None, 0.2),
              TrialRow(1, 1, {"window": 9, "window_1": 40}, math.nan, "timeout", "ran over 1 s", None, 1.0),
              TrialRow(1, 2, {"window": 4, "window_1": 11}, 0.35, "ok", None, None, 0.2),
              TrialRow(1, 3, {"window": 5, "window_1": 20}, 0.31, "ok", None, 0, 0.0)]
    with Store.open(run_path) as store:
        with store.transaction():
            store.add_tuning(tuning, trials)
        assert store.tuning(1) == tuning and store.tuning(2) is None and store.tunings() == [tuning]
        read = store.trials(1)
        assert math.isnan(read[1].train_fs) and read[1].status == "timeout"
        assert [replace(t, train_fs=0.0) for t in read] == [replace(t, train_fs=0.0) for t in trials]


def test_evaluation_hides_test_metrics_unless_asked(run_path):
    with Store.open(run_path) as store:
        assert store.evaluation(1).test_metrics is None
        assert store.evaluation(1).metrics == {"train": TRAIN, "valid": VALID}
        assert store.evaluation(1, include_test=True).test_metrics == TEST


def test_add_evaluation_refuses_test_metrics_among_the_shown_segments(run_path):
    leaked = EvaluationRow(1, "ok", None, {"train": TRAIN, "test": TEST}, None, 1, 0.1)
    with Store.open(run_path) as store, pytest.raises(StoreError, match=r"holds \['test'\].*test_metrics"):
        with store.transaction():
            store.add_evaluation(leaked)


def test_nan_and_inf_round_trip_in_config_params_metrics_and_reward(tmp_path):
    path = tmp_path / "run.db"
    config = {"threshold": math.nan, "cap": math.inf}
    with _create(path, config=config) as store:
        node = replace(_node(1, reward=math.nan), params={"scale": math.nan, "floor": -math.inf})
        _iteration(store, node, _ok(1, valid_fs=math.nan))
    with Store.open(path) as store:
        stored_config = store.run_info().config
        [stored] = store.nodes()
        valid = store.evaluation(1).metrics["valid"]
    assert math.isnan(stored_config["threshold"]) and stored_config["cap"] == math.inf
    assert math.isnan(stored.params["scale"]) and stored.params["floor"] == -math.inf
    assert math.isnan(stored.reward)
    assert math.isnan(valid["fs"]) and valid["ic"] == VALID["ic"]


def test_numpy_scalars_are_stored_as_plain_numbers(tmp_path):
    with _create(tmp_path / "run.db") as store:
        node = replace(_node(1), params={"window": np.int64(12), "scale": np.float32(0.5)})
        _iteration(store, node, _ok(1))
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
        store.add_event("stray")


def test_transactions_do_not_nest(run_path):
    with Store.open(run_path) as store, store.transaction():
        with pytest.raises(StoreError, match="do not nest"), store.transaction():
            pass


def test_foreign_keys_and_duplicate_ids_are_refused(run_path):
    with Store.open(run_path) as store:
        with pytest.raises(StoreError, match="node 2.*FOREIGN KEY"), store.transaction():
            store.add_node(_node(2, program_id="p-unknown"))
        with pytest.raises(StoreError, match="node 1.*UNIQUE"), store.transaction():
            store.add_node(_node(1))
        assert [node.node_id for node in store.nodes()] == [1]


def test_exception_inside_transaction_leaves_nothing(run_path):
    with Store.open(run_path) as store:
        with pytest.raises(RuntimeError, match="proposer crashed"), store.transaction():
            store.add_program("p-other", CODE + "# other\n")
            store.add_node(_node(2, parent_id=1, iteration=1, program_id="p-other"))
            store.add_evaluation(_ok(2))
            store.set_progress(0, 1)
            raise RuntimeError("proposer crashed")
        assert [node.node_id for node in store.nodes()] == [1]
        assert (store.program("p-other"), store.evaluation(2), store.progress(0)) == (None, None, 0)
        _iteration(store, _node(2, parent_id=1, iteration=1), _ok(2))  # the store stays usable
        assert store.progress(0) == 1


KILLED_ITERATION = """
import os, sys
from factorengine.store.store import EvaluationRow, NodeRow, Store
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
        _iteration(store, _node(2, parent_id=1, iteration=1), _ok(2))
    with Store.open(run_path, read_only=True) as store:
        assert [node.node_id for node in store.nodes()] == [1, 2] and store.progress(0) == 1


def test_create_refuses_an_existing_path_and_leaves_it_untouched(run_path, tmp_path):
    before = _bytes(run_path)
    with pytest.raises(StoreError, match="already exists: a run is never overwritten"):
        _create(run_path)
    assert _bytes(run_path) == before
    other = tmp_path / "notes.txt"
    other.write_text("not a run")
    with pytest.raises(StoreError, match="already exists"):
        _create(other)
    assert other.read_text() == "not a run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "run.db"]


def test_open_refuses_a_missing_file_without_creating_it(tmp_path):
    with pytest.raises(StoreError, match="no run database at .*missing.db"):
        Store.open(tmp_path / "missing.db")
    assert list(tmp_path.iterdir()) == []


def test_open_refuses_a_file_that_is_not_sqlite(tmp_path):
    path = tmp_path / "run.db"
    path.write_text("date,symbol,close\n2020-01-02,AAPL,75.09\n" * 100)
    before = _bytes(path)
    with pytest.raises(StoreError, match="cannot be read as a SQLite database .*file is not a database"):
        Store.open(path)
    assert _bytes(path) == before


def test_open_refuses_a_truncated_database_and_leaves_it_untouched(run_path, tmp_path):
    with Store.open(run_path) as store:
        for i in range(2, 202):
            _iteration(store, _node(i, parent_id=1, iteration=i, program_id=f"p{i}"), _ok(i))
    truncated = tmp_path / "truncated.db"
    shutil.copyfile(run_path, truncated)
    os.truncate(truncated, truncated.stat().st_size // 2)
    before = _bytes(truncated)
    with pytest.raises(StoreError, match="truncated.db .*(truncated|corrupted).*left untouched"):
        Store.open(truncated)
    assert _bytes(truncated) == before


def test_open_reports_a_corrupted_page_and_leaves_the_file_untouched(run_path):
    with Store.open(run_path) as store:
        for i in range(2, 202):
            _iteration(store, _node(i, parent_id=1, iteration=i, program_id=f"p{i}"), _ok(i))
    with run_path.open("r+b") as file:  # overwrite the third page (a b-tree page) with garbage
        file.seek(2 * 4096)
        file.write(b"\xa5" * 4096)
    before = _bytes(run_path)
    with pytest.raises(StoreError, match="run.db is corrupted: .*Page 3.*left untouched"):
        Store.open(run_path)
    assert _bytes(run_path) == before


def test_create_refuses_a_missing_directory(tmp_path):
    with pytest.raises(StoreError, match="the directory .*absent does not exist"):
        _create(tmp_path / "absent" / "run.db")


def test_open_refuses_another_applications_sqlite_database(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE prices (symbol TEXT, close REAL)")
    conn.close()
    with pytest.raises(StoreError, match="a SQLite database but not a FactorEngine run"):
        Store.open(path)


def test_open_refuses_a_database_missing_tables(run_path):
    with sqlite3.connect(run_path) as conn:
        conn.execute("DROP TABLE experience")
    conn.close()
    with pytest.raises(StoreError, match=r"lacks experience: the file is damaged"):
        Store.open(run_path)


def test_open_refuses_a_database_from_a_newer_schema(run_path):
    with sqlite3.connect(run_path) as conn:
        conn.execute(f"PRAGMA user_version = {CURRENT + 1}")
    conn.close()
    with pytest.raises(StoreError, match=f"written by a newer FactorEngine .*schema version {CURRENT + 1}.*upgrade"):
        Store.open(run_path)


def _add_notes(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE notes (note_id INTEGER PRIMARY KEY, text TEXT NOT NULL)")


def test_open_migrates_an_older_schema_step_by_step(run_path, monkeypatch):
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", CURRENT + 1)
    monkeypatch.setattr(store_module, "MIGRATIONS", {**store_module.MIGRATIONS, CURRENT: _add_notes})
    with Store.open(run_path) as store:
        assert store.run_info().schema_version == CURRENT + 1
        assert [node.node_id for node in store.nodes()] == [1]
    with sqlite3.connect(run_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM notes").fetchone() == (0,)
    conn.close()


def _downgrade_to_v2(conn: sqlite3.Connection) -> None:
    """Make today's database a version-2 one: no profiles, no LLM calls, no experience category and lesson."""
    conn.execute("DROP TABLE profiles")
    conn.execute("DROP TABLE llm_calls")
    conn.execute("ALTER TABLE experience DROP COLUMN lesson")
    conn.execute("ALTER TABLE experience DROP COLUMN category")
    conn.execute("PRAGMA user_version = 2")


def test_a_version_1_run_gains_the_tuning_and_llm_tables_and_keeps_its_nodes(run_path):
    with sqlite3.connect(run_path) as conn:  # the version-1 schema is version 2 without the tuning tables
        _downgrade_to_v2(conn)
        conn.execute("DROP TABLE trials")
        conn.execute("DROP TABLE tunings")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    with Store.open(run_path) as store:
        assert store.run_info().schema_version == CURRENT
        assert [node.node_id for node in store.nodes()] == [1]
        assert store.tunings() == [] and store.trials() == [] and store.llm_totals().calls == 0


def test_a_version_2_run_keeps_its_experience_with_an_empty_category_and_lesson(run_path):
    with sqlite3.connect(run_path) as conn:
        _downgrade_to_v2(conn)
    conn.close()
    with Store.open(run_path) as store:
        assert store.run_info().schema_version == CURRENT
        assert store.experience(1) == ExperienceRow(1, "swapped ts_mean for ts_ema", "faster decay", "fs +0.02")


def test_open_refuses_an_older_schema_it_cannot_migrate_and_changes_nothing(run_path, monkeypatch):
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", CURRENT + 1)
    with pytest.raises(StoreError, match=f"schema version {CURRENT}.*uses {CURRENT + 1}.*no migration from "
                                         f"schema version {CURRENT}"):
        Store.open(run_path)
    monkeypatch.setattr(store_module, "MIGRATIONS", {**store_module.MIGRATIONS, CURRENT: _add_notes})
    with pytest.raises(StoreError, match="opened read-only"):
        Store.open(run_path, read_only=True)
    with sqlite3.connect(run_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (CURRENT,)
    conn.close()


def test_failed_migration_leaves_the_file_at_its_old_version(run_path, monkeypatch):
    def broken(conn):
        _add_notes(conn)
        conn.execute("CREATE TABLE notes (note_id INTEGER)")

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", CURRENT + 1)
    monkeypatch.setattr(store_module, "MIGRATIONS", {**store_module.MIGRATIONS, CURRENT: broken})
    with pytest.raises(StoreError, match=f"migrating .* from schema version {CURRENT} failed .*left as it was"):
        Store.open(run_path)
    with sqlite3.connect(run_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (CURRENT,)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'notes'").fetchone() is None
    conn.close()


def test_database_is_wal_with_full_sync_and_foreign_keys(run_path):
    with Store.open(run_path) as store:
        pragmas = [store._conn.execute(f"PRAGMA {name}").fetchone()[0]
                   for name in ("journal_mode", "synchronous", "foreign_keys")]
    assert pragmas == ["wal", 2, 1]


def test_reader_sees_committed_data_while_a_writer_holds_a_transaction(run_path):
    with Store.open(run_path) as writer, Store.open(run_path, read_only=True) as reader:
        with writer.transaction():
            writer.add_program("p-other", CODE + "# other\n")
            writer.add_node(_node(2, parent_id=1, iteration=1, program_id="p-other"))
            writer.set_progress(0, 1)
            assert [node.node_id for node in reader.nodes()] == [1]
            assert reader.progress(0) == 0 and reader.evaluation(1, include_test=True) == _ok(1)
        assert [node.node_id for node in reader.nodes()] == [1, 2] and reader.progress(0) == 1


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
    with _create(tmp_path / "run.db") as store:
        scores = {1: (0.30, 0.10), 2: (0.10, 0.50), 3: (0.30, 0.20), 4: (math.nan, 0.90)}
        for node_id, (valid_fs, train_fs) in scores.items():
            _iteration(store, _node(node_id, island=node_id % 2), _ok(node_id, valid_fs, train_fs))
        _iteration(store, _node(5), _failed(5, "lookahead"))
        assert [node.node_id for node in store.top_nodes(3)] == [1, 3, 2]
        assert [node.node_id for node in store.top_nodes(2, by="train")] == [4, 2]
        assert [node.node_id for node in store.top_nodes(3, island=1)] == [1, 3]
        with pytest.raises(ValueError, match="by must be one of"):
            store.top_nodes(3, by="test")


def test_events_filter_by_kind_in_sequence_order(tmp_path):
    with _create(tmp_path / "run.db") as store:
        with store.transaction():
            store.add_event("migration", {"from": 0, "to": 1, "node_ids": [4, 7]}, island=0, iteration=10)
            store.add_event("patience", {"best_valid_fs": 0.31})
            assert store.add_event("migration", {"from": 1, "to": 0, "node_ids": [9]}, island=1, iteration=10) == 3
        migrations = store.events("migration")
        assert [(e.seq, e.island, e.payload["node_ids"]) for e in migrations] == [(1, 0, [4, 7]), (3, 1, [9])]
        assert [e.kind for e in store.events()] == ["migration", "patience", "migration"]
        assert store.events()[1].island is None


def test_count_failures_by_kind(tmp_path):
    with _create(tmp_path / "run.db") as store:
        _iteration(store, _node(1), _ok(1))
        for node_id, kind in [(2, "timeout"), (3, "lookahead"), (4, "timeout"), (5, "policy")]:
            _iteration(store, _node(node_id, parent_id=1, reward=0.0, failed=True), _failed(node_id, kind))
        assert store.count_failures_by_kind() == {"lookahead": 1, "policy": 1, "timeout": 2}


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
