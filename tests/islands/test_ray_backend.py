"""The Ray backend: island actors on a local Ray instance exchange payloads and are restarted like processes.

One Ray instance serves the whole module (starting one takes seconds). The toy island and the helpers are
the multiprocess backend's; the events' wording and the restart rule are shared code, tested there.
"""
from __future__ import annotations

import json
import os
import sys

import pytest

from islands import IslandOutcome, IslandsResult, run_islands
from tests.islands.test_supervisor import Fault, kinds, log, records, ring_of_two, run, run_asking
from tests.ray_support import import_ray


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance with two CPUs, shut down after the module."""
    ray = import_ray()
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


@pytest.mark.ray
def test_ring_islands_receive_their_neighbours_payloads_round_by_round(local_ray, tmp_path):
    result, events = run(tmp_path, backend="ray")

    assert records(tmp_path) == ring_of_two()
    assert result == IslandsResult((IslandOutcome(0, True, 0, None), IslandOutcome(1, True, 0, None)))
    assert kinds(events, 0) == kinds(events, 1) == ["started", "finished"]


@pytest.mark.ray
def test_request_is_answered_by_on_request_in_the_driver_in_order(local_ray, tmp_path):
    asked = run_asking(tmp_path, backend="ray")

    assert sorted(asked) == [(island, (island, question), os.getpid()) for island in (0, 1) for question in range(3)]
    assert [[payload for island, payload, _ in asked if island == i] for i in (0, 1)] == [
        [(i, question) for question in range(3)] for i in (0, 1)]
    assert [json.loads((tmp_path / f"island{island}.answers").read_text()) for island in (0, 1)] == [
        [0, 1, 2], [10, 11, 12]]


@pytest.mark.ray
def test_raising_island_is_restarted_and_the_run_loses_nothing(local_ray, tmp_path):
    result, events = run(tmp_path, Fault(island=0, round=2, action="raise"), backend="ray")

    assert (kinds(events, 0), kinds(events, 1)) == (["started", "failed", "restarted", "finished"],
                                                    ["started", "finished"])
    assert result.islands[0].last_error.endswith("RuntimeError: island 0 broke at round 2\n")
    assert records(tmp_path) == ring_of_two()


@pytest.mark.ray
def test_island_out_of_restarts_is_dead_for_good_and_the_other_finishes(local_ray, tmp_path):
    result, events = run(tmp_path, Fault(island=0, round=2, action="raise", times=99), max_restarts=1,
                         backend="ray")

    assert kinds(events, 0) == ["started", "failed", "restarted", "failed"]
    assert log(tmp_path, 0) == [0, 1, 2, 2]
    assert records(tmp_path) == [ring_of_two()[0][:2], ring_of_two()[1][:3] + [{}, {}]]
    assert [(outcome.finished, outcome.restarts) for outcome in result.islands] == [(False, 1), (True, 0)]


@pytest.mark.ray
def test_stalled_actor_is_killed_and_restarted_while_its_waiting_neighbour_is_not(local_ray, tmp_path):
    result, events = run(tmp_path, Fault(island=0, round=2, action="stall"), stall_timeout_s=1.0, backend="ray")

    assert kinds(events, 0) == ["started", "stalled", "failed", "restarted", "finished"]
    assert kinds(events, 1) == ["started", "finished"]
    assert result.islands[0].last_error == "stalled: no beat for 1 s"
    assert records(tmp_path) == ring_of_two()


def test_without_ray_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    monkeypatch.delitem(sys.modules, "islands.ray_backend", raising=False)
    with pytest.raises(ImportError, match=r'pip install "factorengine\[ray\]"'):
        run_islands(lambda island, mailbox: None, 2, backend="ray")
