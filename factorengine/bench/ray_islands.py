"""The ray suite: islands as Ray actors against island processes on the same cores, and what an iteration's
record costs to ship to the driver on each backend."""
from __future__ import annotations

import functools
import importlib.util
import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

from factorengine.bench.measure import BenchError, Ratio, SuiteResult, Timing
from factorengine.bench.runtime import BenchInput, search_on_cores
from factorengine.config import IslandsConfig, RunConfig, SearchConfig, TuningConfig
from factorengine.search.archipelago import run_island
from factorengine.search.island import Seed
from factorengine.store import RUN_DATABASE, Store
from factorengine.store.commit import Commit, Statement
from islands import Mailbox, run_islands

BACKENDS = ("multiprocess", "ray")


def ray_suite(bench: BenchInput, n_seeds: int = 8, minutes: float = 1.0, trials: int = 8,
              shipments: int = 50) -> SuiteResult:
    """Search for `minutes` as 2 islands on 2 cores, as processes and as Ray actors (on a Ray instance the run
    starts: its start counts); compare evaluations (tuning trials) per second and peak memory (PSS of the
    process tree, Ray's own processes included). Then ship a tuned iteration's record to the driver
    `shipments` times from each backend's island and time the round trip (sent, written, acknowledged)."""
    if importlib.util.find_spec("ray") is None:
        return SuiteResult(tables=['Not measured: Ray is not installed (pip install "factorengine[ray]").'])
    cores = sorted(os.sched_getaffinity(0))[:2]
    if len(cores) < 2:
        raise BenchError(f"the ray suite needs 2 cores; this process may use {len(cores)}")
    seeds = [Seed(name, p.source) for name, p in list(bench.programs.items())[:n_seeds]]
    searches, shipping = [], []
    for backend in BACKENDS:
        config = RunConfig(search=SearchConfig(iterations=100_000, max_minutes=minutes),
                           tuning=TuningConfig(n_trials=trials), islands=IslandsConfig(n_islands=2, backend=backend))
        runs = search_on_cores(config, cores, bench, seeds)
        # Ray's workers are the raylet's children, killed at shutdown, so their CPU never reaches our rusage
        busy = f"{runs.busy:.2f} cores busy, " if backend == "multiprocess" else ""
        searches.append(Timing(f"2 islands as {backend} on 2 cores: seconds per trial, {busy}peak memory "
                               f"{runs.peak_mib:.0f} MiB", runs.per_trial))
    record = tuned_record(bench, seeds[0], trials)
    for backend in BACKENDS:
        shipping.append(Timing(f"ship one iteration's record ({_size_kib(record):.0f} KiB, {trials} trials) to the "
                               f"driver and commit it, {backend}", ship(record, backend, shipments)))
    return SuiteResult([*searches, *shipping],
                       [Ratio("evaluations/s: 2 islands as Ray actors vs as processes, 2 cores", *searches)])


def tuned_record(bench: BenchInput, seed: Seed, trials: int) -> Commit:
    """What an island sends the driver for one iteration: a seed scored and tuned with `trials` trials."""
    config = RunConfig(search=SearchConfig(iterations=0), tuning=TuningConfig(n_trials=trials))
    sent: list[Commit] = []
    with tempfile.TemporaryDirectory() as directory:
        with Store.create(Path(directory) / RUN_DATABASE, config={}, fingerprint="bench", seed=0) as store:
            replica = Store.replica(store.image(), sent.append)
        run_island(replica, config, bench.dataset, [seed])
    [record] = [commit for commit in sent if any("INTO trials" in s.sql for s in commit.statements)]
    return record


def ship(record: Commit, backend: str, shipments: int) -> tuple[float, ...]:
    """Seconds of each of `shipments` round trips of `record` from one island of `backend` to the driver, which
    writes each into a run store (under a new node id, so every write is a real one)."""
    timings: list[tuple[float, ...]] = []
    with tempfile.TemporaryDirectory() as directory, \
            Store.create(Path(directory) / RUN_DATABASE, config={}, fingerprint="bench", seed=0) as store:
        def answer(island: int, request: Any) -> None:
            if isinstance(request, tuple):
                timings.append(request)
            else:
                store.apply(request)

        run_islands(functools.partial(_shipper, records=_renumbered(record, shipments)), 1, backend=backend,
                    on_request=answer)
    return timings[0]


def _shipper(island: int, mailbox: Mailbox, records: list[Commit]) -> None:
    seconds = []
    for record in records:
        start = time.perf_counter()
        mailbox.request(record)
        seconds.append(time.perf_counter() - start)
    mailbox.request(tuple(seconds))


def _renumbered(record: Commit, copies: int) -> list[Commit]:
    """`copies` of `record`, each under a node id of its own (every row of a node leads with its id)."""
    [node] = [s.args[0] for s in record.statements if s.sql.startswith("INSERT INTO nodes")]
    return [Commit(tuple(Statement(s.sql, (node + copy, *s.args[1:]) if s.args[0] == node else s.args)
                         for s in record.statements)) for copy in range(1, copies + 1)]


def _size_kib(record: Commit) -> float:
    return len(pickle.dumps(record)) / 1024

