"""A replica: an in-memory copy of a run store whose every transaction the run's one writer commits first."""
from dataclasses import replace
from pathlib import Path

import pytest

from factorengine.score.failure import FailureKind
from factorengine.store import Store, StoreError
from factorengine.store.commit import Commit
from tests.factorengine.store.sample import Clock, failed, iteration, node, ok


def test_a_replica_starts_from_the_writers_image_including_what_is_still_in_its_wal(run_path):
    with Store.open(run_path) as writer:
        iteration(writer, node(2, parent_id=1, iteration=1), ok(2))
        assert Path(f"{run_path}-wal").stat().st_size > 0  # node 2 is not checkpointed into the file yet
        replica = Store.replica(writer.image(), writer.apply)
        assert [n.node_id for n in replica.nodes()] == [1, 2] and replica.nodes() == writer.nodes()
        assert replica.evaluation(2, include_test=True) == ok(2) and replica.progress(0) == 1


def test_each_replica_transaction_is_written_by_the_writer_with_the_replicas_timestamps(run_path):
    with Store.open(run_path) as writer:
        replica = Store.replica(writer.image(), writer.apply, clock=Clock(5.0))  # reads 6.0, 7.0, ...
        iteration(replica, node(2, parent_id=1, iteration=1, reward=0.0, failed=True), failed(2, FailureKind.TIMEOUT))
    with Store.open(run_path, read_only=True) as reopened:
        assert reopened.nodes() == replica.nodes()
        assert reopened.nodes()[1] == replace(node(2, 1, iteration=1, reward=0.0, failed=True), created_at=6.0)
        assert reopened.evaluation(2) == failed(2, FailureKind.TIMEOUT)
        assert reopened.events() == replica.events() and reopened.progress(0) == 1


def test_a_commit_the_writer_refuses_is_not_committed_by_the_replica_either(run_path):
    with Store.open(run_path) as writer:
        replica = Store.replica(writer.image(), writer.apply)
        with writer.transaction():
            writer.add_node(node(2, parent_id=1))  # the writer has node 2 already; the replica does not
        with pytest.raises(StoreError, match="nodes.node_id"):
            iteration(replica, node(2, parent_id=1, iteration=1), ok(2))
        assert [n.node_id for n in replica.nodes()] == [1] and replica.progress(0) == 0


def test_the_writer_is_sent_one_commit_per_transaction_with_every_write_in_order(run_path):
    sent: list[Commit] = []
    with Store.open(run_path) as writer:
        replica = Store.replica(writer.image(), sent.append)
    iteration(replica, node(2, parent_id=1, iteration=1), ok(2))

    [commit] = sent
    assert [statement.sql.split(" (")[0] for statement in commit.statements] == [
        "INSERT INTO programs VALUES", "INSERT INTO nodes VALUES", "INSERT INTO evaluations VALUES",
        "INSERT INTO experience VALUES", "INSERT INTO events", "INSERT INTO islands VALUES"]


def test_a_replica_without_a_writer_is_read_only(run_path):
    with Store.open(run_path) as writer:
        copy = Store.replica(writer.image(), None)
    with pytest.raises(StoreError, match="read-only"), copy.transaction():
        pass
