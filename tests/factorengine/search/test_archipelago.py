"""Islands end to end: migrants arrive at their round, and killed runs or islands finish exactly as unkilled ones."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from factorengine.cli import main
from factorengine.search.migration import choose_emigrants
from factorengine.store import IslandStarted, Migration, Store
from tests.factorengine.runs import ROOT, copy_seeds, evolve_args, run_tree
from tests.ray_support import import_ray

pytestmark = pytest.mark.usefixtures("synthetic_default")
ITERATIONS = 21  # three migration rounds at the default interval of 7


def _start(run_dir: Path, seeds_dir: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "factorengine.cli", *evolve_args(run_dir, seeds_dir, ITERATIONS, 2, 2)]
    env = {k: v for k, v in os.environ.items() if k != "FACTORENGINE_DATA"}
    return subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, cwd=ROOT)


def _wait_for_progress(database: Path, island: int, iteration: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if database.exists():
            with Store.open(database, read_only=True) as store:
                if store.progress(island) >= iteration:
                    return
        time.sleep(0.05)
    raise AssertionError(f"island {island} did not reach iteration {iteration}")


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """A two-island run never interrupted, to compare the others with."""
    run_dir = tmp_path_factory.mktemp("straight") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FACTORENGINE_DATA", raising=False)
        assert main(evolve_args(run_dir, copy_seeds(tmp_path_factory.mktemp("seeds")), ITERATIONS, 2, 2)) == 0
    return run_dir


def test_migrants_arrive_a_round_later_as_the_senders_best_programs_of_their_round(straight):
    with Store.open(straight / "run.db", read_only=True) as store:
        nodes = store.nodes()
        migrations = store.events(Migration)
        fs = {n.node_id: (store.evaluation(n.node_id).train.robust_fs, store.evaluation(n.node_id).fs("valid"))
              for n in nodes}
    # round r's migrants arrive at round r + 1, so the last round's never do
    assert sorted((e.island, e.payload.round, e.iteration) for e in migrations) == [
        (island, round, 2 - 1 + 7 * (round + 1)) for island in (0, 1) for round in (1, 2)]
    for event in migrations:
        sender = 1 - event.island
        expected = choose_emigrants([n for n in nodes if n.island == sender], fs, 2 - 1 + 7 * event.payload.round, 3)
        assert [(source, node_id) for source, node_id, _ in event.payload.received] == [
            (sender, n.node_id) for n in expected]
        for _, source_node, new_id in event.payload.received:
            if new_id is not None:
                [migrant] = [n for n in nodes if n.node_id == new_id]
                [origin] = [n for n in nodes if n.node_id == source_node]
                assert (migrant.island, migrant.iteration, migrant.kind, migrant.parent_id) == (
                    event.island, event.iteration, "migrant", None)
                assert (migrant.program_id, migrant.params) == (origin.program_id, origin.params)
    assert any(new_id is not None for e in migrations for *_, new_id in e.payload.received)


def test_a_run_killed_mid_way_and_resumed_equals_one_never_interrupted(straight, tmp_path, seeds_dir):
    process = _start(tmp_path / "killed", seeds_dir)
    _wait_for_progress(tmp_path / "killed" / "run.db", 1, 10, process)
    process.send_signal(signal.SIGKILL)  # the islands die with their supervisor
    process.wait()
    with Store.open(tmp_path / "killed" / "run.db", read_only=True) as store:
        assert max(store.progress(0), store.progress(1)) < 2 + ITERATIONS - 1
    assert main(["resume", str(tmp_path / "killed")]) == 0
    assert run_tree(tmp_path / "killed") == run_tree(straight)


def test_an_island_killed_mid_run_is_restarted_and_the_run_loses_nothing(straight, tmp_path, seeds_dir):
    process = _start(tmp_path / "run", seeds_dir)
    database = tmp_path / "run" / "run.db"
    _wait_for_progress(database, 1, 12, process)
    with Store.open(database, read_only=True) as store:
        [started] = [e for e in store.events(IslandStarted) if e.island == 1]
    os.kill(started.payload.pid, signal.SIGKILL)
    assert process.wait(timeout=180) == 0
    with Store.open(database, read_only=True) as store:
        assert len([e for e in store.events(IslandStarted) if e.island == 1]) == 2
    assert run_tree(tmp_path / "run") == run_tree(straight)


@pytest.mark.ray
def test_islands_as_ray_actors_reach_the_same_tree_as_island_processes(straight, tmp_path, seeds_dir):
    import_ray()
    assert main([*evolve_args(tmp_path / "run", seeds_dir, ITERATIONS, 2, 2), "--backend", "ray"]) == 0
    assert run_tree(tmp_path / "run") == run_tree(straight)


def test_a_migrant_brings_its_profile_so_its_copies_are_caught_as_duplicates(straight):
    import numpy as np

    with Store.open(straight / "run.db", read_only=True) as store:
        arrivals = [(source, new) for e in store.events(Migration) for _, source, new in e.payload.received
                    if new is not None]
        profiles = store.profiles()
    assert arrivals and all(new in profiles for _, new in arrivals)
    for source, new in arrivals:
        assert np.array_equal(profiles[new].fingerprint, profiles[source].fingerprint)
        assert profiles[new].exposures == profiles[source].exposures
