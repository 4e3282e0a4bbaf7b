"""Islands on a Ray cluster of several nodes (on this machine): the driver alone writes the store and reads the data.

One cluster serves the module: a head without CPUs (so islands run on the worker nodes, each with one CPU for
one island) and three worker nodes, one of them spare for an island whose node is lost. Every run searches a
small synthetic market read from a CSV file, and is compared with the same run on island processes.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

from factorengine.cli import main
from factorengine.data.synthetic import synthetic_panel
from factorengine.store import IslandStarted, Store
from tests.factorengine.runs import ROOT, copy_seeds, evolve_args, run_tree, write_panel
from tests.islands.test_supervisor import alive, eventually
from tests.ray_support import import_ray

pytestmark = [pytest.mark.slow, pytest.mark.ray]
ITERATIONS = 14  # two migration rounds at the default interval of 7
FAST_NODE_LOSS = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 1000,
                  "health_check_failure_threshold": 3}


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> tuple[Path, Path]:
    """A small synthetic market as a CSV file, and a directory of seeds."""
    directory = tmp_path_factory.mktemp("market")
    write_panel(synthetic_panel(n_days=500, n_stocks=40, seed=3), directory / "market.csv")
    seeds = directory / "seeds"
    seeds.mkdir()
    return directory / "market.csv", copy_seeds(seeds)


def _args(run_dir: Path, market: tuple[Path, Path]) -> list[str]:
    data, seeds = market
    return [*evolve_args(run_dir, seeds, ITERATIONS, 2, 2), "--data", str(data)]


@pytest.fixture(scope="module")
def processes_tree(market, tmp_path_factory) -> list[tuple]:
    """The tree of the run on island processes."""
    run_dir = tmp_path_factory.mktemp("processes") / "run"
    assert main(_args(run_dir, market)) == 0
    return run_tree(run_dir)


@pytest.fixture(scope="module")
def cluster():
    """A head node without CPUs and three worker nodes of one CPU each; shut down after the module."""
    import_ray()
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, connect=False,
                      head_node_args={"num_cpus": 0, "include_dashboard": False, "_system_config": FAST_NODE_LOSS})
    try:
        workers = [cluster.add_node(num_cpus=1) for _ in range(3)]
        cluster.wait_for_nodes()
        yield cluster, workers
    finally:
        cluster.shutdown()


class IslandWatcher(threading.Thread):
    """Follows the run's island workers (by their IslandStarted events) and the files they and their children hold."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.pids: dict[int, list[int]] = {}  # island -> the pids of its workers, in order
        self.raylets: dict[int, int] = {}  # worker pid -> the pid of its node's raylet
        self.files: set[str] = set()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            if not self.database.exists():
                continue
            with Store.open(self.database, read_only=True) as store:
                for event in store.events(IslandStarted):
                    pids = self.pids.setdefault(event.island, [])
                    if event.payload.pid not in pids:
                        pids.append(event.payload.pid)
                        self.raylets[event.payload.pid] = _parent(event.payload.pid)
            for pids in self.pids.values():
                self.files |= _open_files(pids[-1])


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) if entry.name.isdigit() else None
        except (FileNotFoundError, ProcessLookupError):
            continue
        if parent is not None:
            children.setdefault(parent, []).append(int(entry.name))
    return children


def descendants(pid: int) -> set[int]:
    """`pid` and every process under it."""
    children, found, todo = _children(), set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, []))
    return found


def _open_files(pid: int) -> set[str]:
    """The files `pid` and its descendants hold open."""
    files = set()
    for process in descendants(pid):
        try:
            files |= {os.readlink(fd) for fd in Path(f"/proc/{process}/fd").iterdir()}
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return files


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@contextlib.contextmanager
def watching(run_dir: Path) -> Iterator[IslandWatcher]:
    """An IslandWatcher of the run in `run_dir` for the block."""
    watcher = IslandWatcher(run_dir / "run.db")
    watcher.start()
    try:
        yield watcher
    finally:
        watcher.done.set()
        watcher.join()


def test_islands_on_two_nodes_reach_the_processes_tree_and_never_open_the_store_or_the_data(
        cluster, market, processes_tree, tmp_path):
    head, _ = cluster
    run_dir = tmp_path / "run"
    with watching(run_dir) as watcher:
        assert main([*_args(run_dir, market), "--backend", "ray", "--address", head.address]) == 0

    assert run_tree(run_dir) == processes_tree
    assert sorted(watcher.pids) == [0, 1] and all(len(pids) == 1 for pids in watcher.pids.values())
    assert len({watcher.raylets[pids[0]] for pids in watcher.pids.values()}) == 2  # on two nodes
    assert "/memfd:sandbox-inputs (deleted)" in watcher.files  # each island shares the panel on its node
    data, _ = market
    assert not {f for f in watcher.files if f.startswith(str(run_dir)) or f == str(data)}


def test_an_island_whose_node_is_lost_restarts_on_another_and_the_run_reaches_the_same_tree(
        cluster, market, processes_tree, tmp_path):
    head, workers = cluster
    run_dir = tmp_path / "run"
    outcome: list[int] = []
    driver = threading.Thread(target=lambda: outcome.append(
        main([*_args(run_dir, market), "--backend", "ray", "--address", head.address])))
    with watching(run_dir) as watcher:
        driver.start()
        assert eventually(lambda: _progress(run_dir, 1) >= 6, 180), "island 1 did not reach iteration 6"
        [pid] = watcher.pids[1]
        [lost] = [node for node in workers if node.all_processes["raylet"][0].process.pid == watcher.raylets[pid]]
        head.remove_node(lost)
        driver.join(timeout=300)

    assert outcome == [0]
    assert len(watcher.pids[1]) == 2  # restarted once, in a fresh actor
    assert watcher.raylets[watcher.pids[1][1]] not in {watcher.raylets[pid], watcher.raylets[watcher.pids[0][0]]}
    assert run_tree(run_dir) == processes_tree


def test_a_driver_killed_mid_run_and_resumed_reaches_the_same_tree(cluster, market, processes_tree, tmp_path):
    head, _ = cluster
    run_dir = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k not in ("FACTORENGINE_DATA", "RAY_ADDRESS")}
    with open(tmp_path / "stderr", "w") as stderr:
        driver = subprocess.Popen([sys.executable, "-m", "factorengine.cli", *_args(run_dir, market),
                                   "--backend", "ray", "--address", head.address], env=env, cwd=ROOT, stderr=stderr)
    try:
        assert eventually(lambda: _progress(run_dir, 1) >= 8, 180), (tmp_path / "stderr").read_text()
    finally:
        driver.kill()  # SIGKILL: Ray ends the actors of a driver that died
        driver.wait()
    assert max(_progress(run_dir, 0), _progress(run_dir, 1)) < 2 + ITERATIONS - 1
    assert main(["resume", str(run_dir)]) == 0
    assert run_tree(run_dir) == processes_tree


def _progress(run_dir: Path, island: int) -> int:
    if not (run_dir / "run.db").exists():
        return -1
    with Store.open(run_dir / "run.db", read_only=True) as store:
        return store.progress(island)


def test_ctrl_c_of_a_driver_with_its_own_ray_leaves_no_process_behind(market, tmp_path):
    import_ray()
    run_dir = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k not in ("FACTORENGINE_DATA", "RAY_ADDRESS")}
    with open(tmp_path / "stderr", "w") as stderr:
        driver = subprocess.Popen([sys.executable, "-m", "factorengine.cli", *_args(run_dir, market),
                                   "--backend", "ray"], env=env, cwd=ROOT, stderr=stderr, start_new_session=True)
    try:
        assert eventually(lambda: min(_progress(run_dir, 0), _progress(run_dir, 1)) >= 3, 180), \
            (tmp_path / "stderr").read_text()
        started = descendants(driver.pid) - {driver.pid}
        os.killpg(driver.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the driver's whole process group
        assert driver.wait(timeout=90) == 130
    finally:
        driver.kill()
    assert len(started) >= 4  # Ray's own processes and the two island actors at least
    assert eventually(lambda: not any(alive(pid) for pid in started), 30), [
        Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:80] for pid in started if alive(pid)]
