"""Several islands in parallel processes (or Ray actors): one shared copy of the panel, one run store.

The parent loads the panel and shares its fields once (sealed memory every island's sandbox maps); the island
processes are forked from it, so the panel and label are shared copy-on-write, not copied per island. The
machine's cores are dealt out: each island's sandbox gets cores // islands workers unless configured.
Each island opens the run store itself and commits its own iterations; `islands` supervises the processes,
restarts one that dies (it resumes from its last committed iteration) and carries the migrants.
With `[islands] backend = "ray"` the islands are Ray actors, not forked from the parent: each one's sandbox
shares the fields itself, and the run directory must be on a filesystem every Ray node sees.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Callable, Sequence

from factorengine.config import RunConfig
from factorengine.data import Dataset
from factorengine.llm.client import LLMClient
from factorengine.proposers.base import Proposer
from factorengine.proposers.llm import LLMProposer
from factorengine.proposers.mutate import MutationProposer
from factorengine.score.evaluate import Evaluator
from factorengine.search.island import Island, Seed, Standing, StepResult
from factorengine.search.migration import Exchange
from factorengine.store import RUN_DATABASE, IslandStarted, Store
from islands import IslandEvent, IslandsResult, Mailbox, run_islands
from sandbox import SharedInputs, share_inputs

logger = logging.getLogger(__name__)

Watch = Callable[[int, Standing, StepResult], None]  # (island, where it stood when it started, what an iteration did)


def island_seeds(seeds: Sequence[Seed], island: int, config: RunConfig) -> list[Seed]:
    """The seeds one island starts from: every n-th when dealt out, else all of them."""
    n = config.islands.n_islands
    return list(seeds[island::n]) if config.islands.split_seeds else list(seeds)


def sandbox_workers(config: RunConfig, cores: int | None = None) -> int:
    """Sandbox workers per island: as configured, else the cores this process may use (`cores`: that many)
    shared by the islands."""
    cores = cores or len(os.sched_getaffinity(0))
    return config.evaluation.n_workers or max(1, cores // config.islands.n_islands)


def make_proposer(config: RunConfig, store: Store, dataset: Dataset, island: int,
                  resources: contextlib.ExitStack) -> Proposer:
    """The configured proposer of one island (a replayed run's store is opened into `resources`)."""
    if config.search.proposer == "mutate":
        return MutationProposer()
    replay = (resources.enter_context(Store.open(config.llm.replay, read_only=True)) if config.llm.replay
              else None)
    client = LLMClient(config.llm, config.budget, store, island=island, replay=replay)
    return LLMProposer(client, config, list(dataset.panel.fields))


def run_island(store: Store, config: RunConfig, dataset: Dataset, seeds: Sequence[Seed], *, island: int = 0,
               inputs: SharedInputs | None = None, exchange: Exchange | None = None,
               watch: Watch | None = None) -> None:
    """Search one island until it is done (or its deadline, patience or a stop request); `watch` sees each
    iteration."""
    minutes = config.search.max_minutes
    deadline = time.monotonic() + 60 * minutes if minutes else None
    settings = dataclasses.replace(config.evaluation, n_workers=sandbox_workers(config))
    with Evaluator(dataset, settings, inputs=inputs) as evaluator, contextlib.ExitStack() as resources:
        proposer = make_proposer(config, store, dataset, island, resources)
        node = Island(config=config, store=store, evaluator=evaluator, proposer=proposer,
                      seeds=island_seeds(seeds, island, config), island=island)
        standing = node.standing()
        for result in node.run(deadline=deadline, exchange=exchange):
            if watch is not None:
                watch(island, standing, result)


def run_archipelago(run_dir: Path, config: RunConfig, dataset: Dataset, seeds: Sequence[Seed], *,
                    watch: Watch | None = None,
                    on_event: Callable[[IslandEvent], None] | None = None) -> IslandsResult:
    """Run every island of the run in its own process until each is done; Ctrl-C stops them cleanly.

    `watch` sees each iteration (in the island's process), `on_event` each start, restart or failure."""
    backend = config.islands.backend
    # A memfd exists only in processes forked from its owner, which Ray actors are not.
    inputs = share_inputs(dict(dataset.panel.fields)) if backend == "multiprocess" else None
    database = (run_dir / RUN_DATABASE).resolve()  # a Ray actor's working directory is not ours

    def island_main(island: int, mailbox: Mailbox) -> None:
        with Store.open(database) as store:
            with store.transaction():  # who runs the island now: for operators (and tests) to find it
                store.add_event(IslandStarted(os.getpid()), island=island)
            run_island(store, config, dataset, seeds, island=island, inputs=inputs, exchange=mailbox,
                       watch=watch)

    try:
        return run_islands(island_main, config.islands.n_islands, config.islands.topology, backend=backend,
                           address=config.islands.address or None, on_event=on_event)
    finally:
        if inputs is not None:
            os.close(inputs.fd)

