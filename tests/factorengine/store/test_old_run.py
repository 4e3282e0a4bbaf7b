"""A run database written by FactorEngine at commit 7cc5240 (fixtures/v4_run.db) reads back typed and resumes."""
import shutil
import sqlite3
from pathlib import Path

import pytest

from factorengine.cli import main
from factorengine.score.failure import FailureKind
from factorengine.score.metrics import SegmentMetrics
from factorengine.store import OK, RUN_DATABASE, SCHEMA_VERSION, Migration, ModelPull, Seeds, Segments, Store
from factorengine.store.events import EVENTS
from factorengine.store.recorded import recorded_config

FIXTURE = Path(__file__).parent / "fixtures" / "v4_run.db"
ISLANDS, SEEDS_PER_ISLAND, ITERATIONS = 2, 3, 3  # how build_v4_run.py made it


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A copy of the old run, so the fixture itself is never written."""
    shutil.copy(FIXTURE, tmp_path / RUN_DATABASE)
    return tmp_path


def _raw(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    conn.close()
    return rows


def test_an_old_run_reads_back_every_row_and_event_typed(run_dir):
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        assert store.run_info().schema_version == SCHEMA_VERSION == 4
        nodes = store.nodes()
        evaluations = [store.evaluation(n.node_id, include_test=True) for n in nodes]
        events = store.events()
        assert store.count_failures_by_kind() == {FailureKind.POLICY: 1, FailureKind.RAISED: 1}
        assert {t.status for t in store.trials()} <= {OK, *FailureKind} and store.tunings()
        assert all(store.experience(n.node_id) is not None for n in nodes) and store.profiles()
    scored = [e for e in evaluations if e.status == OK]
    assert len(scored) == len(nodes) - 2 and all(e.status in FailureKind for e in evaluations if e.status != OK)
    assert all(isinstance(m, SegmentMetrics) for e in scored for m in (e.train, e.valid, e.test))
    assert all((e.train, e.valid, e.test) == (None, None, None) for e in evaluations if e.status != OK)
    assert {type(e.payload) for e in events} == set(EVENTS.values()) - {Segments, ModelPull}  # recorded since
    [seeds] = [e.payload for e in events if isinstance(e.payload, Seeds)]
    assert len(seeds.seeds) == ISLANDS * SEEDS_PER_ISLAND and all(len(pair) == 2 for pair in seeds.seeds)
    received = [r for e in events if isinstance(e.payload, Migration) for r in e.payload.received]
    assert any(new is None for *_, new in received) and any(new is not None for *_, new in received)


def test_an_old_run_s_config_without_segment_keys_reads_with_the_default_segments(run_dir):
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        assert "valid_start" not in store.run_info().config["data"]
        data = recorded_config(store).data
    assert (data.valid_start, data.test_start, data.train_fraction, data.valid_fraction, data.folds,
            data.min_coverage) == ("", "", 0.6, 0.2, 5, 0.5)


def test_evaluations_and_events_written_again_are_stored_byte_for_byte_as_before(run_dir):
    path = run_dir / RUN_DATABASE
    before = {table: _raw(path, table) for table in ("evaluations", "events")}
    with Store.open(path, read_only=True) as store:
        evaluations = [store.evaluation(n.node_id, include_test=True) for n in store.nodes()]
        events = store.events()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM evaluations")
        conn.execute("DELETE FROM events")
    conn.close()
    times = iter(e.time for e in events)
    with Store.open(path, clock=lambda: next(times)) as store, store.transaction():
        for evaluation in evaluations:
            store.add_evaluation(evaluation)
        for event in events:
            store.add_event(event.payload, island=event.island, iteration=event.iteration)
    assert {table: _raw(path, table) for table in before} == before


@pytest.mark.usefixtures("synthetic_default")
def test_an_old_run_resumes_for_more_iterations(run_dir):
    assert main(["resume", str(run_dir), "--iterations", str(ITERATIONS + 2)]) == 0
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        assert [store.progress(i) for i in range(ISLANDS)] == [SEEDS_PER_ISLAND + ITERATIONS + 2 - 1] * ISLANDS
        new = [n for n in store.nodes() if n.iteration >= SEEDS_PER_ISLAND + ITERATIONS]
        assert new and all(store.evaluation(n.node_id) is not None for n in new)
