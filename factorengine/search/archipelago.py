"""Several islands in parallel processes (or Ray actors): one shared copy of the panel, one writer of the store.

The driver (the process that runs `evolve` or `resume`) is the only one that opens the run store. An island
asks it for the store as committed (`Restore`), keeps an in-memory replica of it, and sends each of its
transactions (`Commit`) and each iteration's result (`Progress`, for `watch`) to the driver, which writes the
commit in one transaction, as a lone island does, before the island goes on: a killed island, or driver, loses
only the iteration in flight, and a restarted island resumes from the store exactly. `islands` supervises the
workers, restarts one that dies and carries the migrants.

The parent loads the panel and shares its fields once (sealed memory every island's sandbox maps); the island
processes are forked from it, so the panel and label are shared copy-on-write, not copied per island. The
machine's cores are dealt out: each island's sandbox gets cores // islands workers unless configured.
With `[islands] backend = "ray"` the islands are Ray actors, on the cluster's nodes: the panel reaches each
node once through Ray's object store, each actor's sandbox shares the fields on its node, and no actor reads
a file the driver wrote (a replayed run's answers travel with the panel).
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from factorengine.config import RunConfig
from factorengine.data import Dataset
from factorengine.errors import FactorEngineError
from factorengine.llm.client import LLMClient
from factorengine.proposers.base import Proposer
from factorengine.proposers.llm import LLMProposer
from factorengine.proposers.mutate import MutationProposer
from factorengine.score.evaluate import Evaluator
from factorengine.search.island import Island, Seed, Standing, StepResult
from factorengine.search.migration import Exchange
from factorengine.store import IslandStarted, LLMTotals, Store
from factorengine.store.commit import Commit
from islands import ClusterUnreachable, IslandEvent, IslandsResult, Mailbox, check_address, run_islands
from sandbox import SharedInputs, share_inputs

logger = logging.getLogger(__name__)

Watch = Callable[[int, Standing, StepResult], None]  # (island, where it stood when it started, what an iteration did)


class ClusterError(FactorEngineError):
    """The Ray cluster of [islands] address does not answer; the message names it and says what to do."""


def check_cluster(config: RunConfig) -> None:
    """Raise ClusterError unless the Ray cluster the islands would join answers (in seconds, not minutes)."""
    islands = config.islands
    if islands.backend == "ray" and islands.n_islands > 1:
        try:
            check_address(islands.address or None)
        except ClusterUnreachable as error:
            raise ClusterError(str(error)) from error


def island_seeds(seeds: Sequence[Seed], island: int, config: RunConfig) -> list[Seed]:
    """The seeds one island starts from: every n-th when dealt out, else all of them."""
    n = config.islands.n_islands
    return list(seeds[island::n]) if config.islands.split_seeds else list(seeds)


def sandbox_workers(config: RunConfig, cores: int | None = None) -> int:
    """Sandbox workers per island: as configured, else the cores this process may use (`cores`: that many)
    shared by the islands."""
    cores = cores or len(os.sched_getaffinity(0))
    return config.evaluation.n_workers or max(1, cores // config.islands.n_islands)


@dataclass(frozen=True)
class LLMSources:
    """What an island's LLM client reads beyond its store: the replayed run and the whole run's spending."""

    replay: Store | None = None  # None: opened from [llm] replay when it is set
    spent: Callable[[], LLMTotals] | None = None  # None: its store's totals


def make_proposer(config: RunConfig, store: Store, dataset: Dataset, island: int, llm: LLMSources) -> Proposer:
    """The configured proposer of one island."""
    if config.search.proposer == "mutate":
        return MutationProposer()
    client = LLMClient(config.llm, config.budget, store, island=island, replay=llm.replay, spent=llm.spent)
    return LLMProposer(client, config, list(dataset.panel.fields))


def run_island(store: Store, config: RunConfig, dataset: Dataset, seeds: Sequence[Seed], *, island: int = 0,
               inputs: SharedInputs | None = None, exchange: Exchange | None = None, watch: Watch | None = None,
               llm: LLMSources = LLMSources()) -> None:
    """Search one island until it is done (or its deadline, patience or a stop request); `watch` sees each
    iteration."""
    minutes = config.search.max_minutes
    deadline = time.monotonic() + 60 * minutes if minutes else None
    settings = dataclasses.replace(config.evaluation, n_workers=sandbox_workers(config))
    with Evaluator(dataset, settings, inputs=inputs) as evaluator, contextlib.ExitStack() as resources:
        if llm.replay is None and config.llm.replay:
            llm = dataclasses.replace(llm, replay=resources.enter_context(Store.open(config.llm.replay,
                                                                                   read_only=True)))
        proposer = make_proposer(config, store, dataset, island, llm)
        node = Island(config=config, store=store, evaluator=evaluator, proposer=proposer,
                      seeds=island_seeds(seeds, island, config), island=island)
        standing = node.standing()
        for result in node.run(deadline=deadline, exchange=exchange):
            if watch is not None:
                watch(island, standing, result)


@dataclass(frozen=True)
class Restore:
    """What an island asks the driver first: the run's store as committed (the answer: `Store.image`)."""


@dataclass(frozen=True)
class Spent:
    """What an island asks the driver before paying for an LLM call: the whole run's calls so far (`LLMTotals`)."""


@dataclass(frozen=True)
class Progress:
    """An island's iteration, for the driver's `watch`."""

    standing: Standing
    result: StepResult


def run_archipelago(store: Store, config: RunConfig, dataset: Dataset, seeds: Sequence[Seed], *,
                    watch: Watch | None = None,
                    on_event: Callable[[IslandEvent], None] | None = None) -> IslandsResult:
    """Run every island of the run in its own worker until each is done, writing their commits to `store`;
    Ctrl-C stops them cleanly.

    `watch` sees each iteration, `on_event` each start, restart or failure (both in this process)."""
    backend = config.islands.backend
    # A memfd exists only in processes forked from its owner, which Ray actors are not.
    inputs = share_inputs(dict(dataset.panel.fields)) if backend == "multiprocess" else None
    replayed = _replay_image(config)
    watched = watch is not None  # the island asks the driver to show its iterations; `watch` stays here

    def island_main(island: int, mailbox: Mailbox) -> None:
        llm = LLMSources(None if replayed is None else Store.replica(replayed, None),
                         lambda: mailbox.request(Spent()))
        report = (lambda _, standing, result: mailbox.request(Progress(standing, result))) if watched else None
        with Store.replica(mailbox.request(Restore()), mailbox.request) as replica:
            with replica.transaction():  # who runs the island now: for operators (and tests) to find it
                replica.add_event(IslandStarted(os.getpid()), island=island)
            run_island(replica, config, dataset, seeds, island=island, inputs=inputs, exchange=mailbox,
                       watch=report, llm=llm)

    def answer(island: int, request: Restore | Commit | Spent | Progress) -> Any:
        match request:
            case Restore():
                return store.image()
            case Commit():
                store.apply(request)
            case Spent():
                return store.llm_totals()
            case Progress(standing, result):
                watch(island, standing, result)
        return None

    try:
        return run_islands(island_main, config.islands.n_islands, config.islands.topology, backend=backend,
                           address=config.islands.address or None, on_event=on_event, on_request=answer)
    finally:
        if inputs is not None:
            os.close(inputs.fd)


def _replay_image(config: RunConfig) -> bytes | None:
    """The replayed run's store as bytes, for islands that cannot open its file; None without [llm] replay."""
    if not config.llm.replay:
        return None
    with Store.open(config.llm.replay, read_only=True) as replay:
        return replay.image()
