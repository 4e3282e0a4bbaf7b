"""Run one Ray actor per island, on a local Ray instance or a cluster, with the multiprocess backend's semantics.

A relay actor, on the driver's node, stands where the multiprocess supervisor's pipes are: it keeps every
payload, answers collects by the same rule, holds the stop flag, times the beats and queues the workers'
requests for the driver, which answers them in arrival order. The driver watches the island actors
(spread over the cluster's nodes), restarts one that raised, died or stalled, or whose node was lost, in a
fresh actor, and on Ctrl-C raises the stop flag, waits, kills the rest and re-raises KeyboardInterrupt.
Reached through `run_islands(backend="ray")`; importing this module needs Ray, importing `islands` does not.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import time
from dataclasses import dataclass
from typing import Any

from islands.board import Board
from islands.cluster import check_address
from islands.events import IslandsResult
from islands.mailbox import (Beat, Collect, Done, Failed, IslandMain, Mailbox, Message, Publish, Request,
                             run_island)
from islands.supervision import Fate, Hooks, Supervision
from islands.topology import Topology, make_topology

try:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
except ImportError as error:
    raise ImportError('the Ray backend of islands needs Ray: pip install "factorengine[ray]" '
                      '(or pip install "ray>=2.9")') from error

_POLL_S = 0.1


def run_islands_ray(island_main: IslandMain, n_islands: int, topology: str = "ring", *,
                    address: str | None = None, stall_timeout_s: float = 600.0, max_restarts: int = 3,
                    shutdown_timeout_s: float = 60.0, hooks: Hooks) -> IslandsResult:
    """Run `island_main(island, mailbox)` in one Ray actor per island until each finished or is dead for good.

    Connects to the Ray cluster at `address` (None: starts a local instance with a CPU per island at least)
    unless Ray is initialised already, and shuts down what it started; an unreachable `address` raises
    `ClusterUnreachable`. Each island's actor holds one CPU of the cluster.
    """
    in_neighbours = make_topology(topology, n_islands)
    started = not ray.is_initialized()
    if started:
        check_address(address)  # ray.init would retry an unreachable address for minutes
        if address:
            ray.init(address=address, include_dashboard=False)
        else:  # "local": a new instance even where `ray start` left one, which ray.init would otherwise join
            ray.init(address="local", num_cpus=max(n_islands, len(os.sched_getaffinity(0))), include_dashboard=False)
    try:
        supervisor = _RaySupervisor(island_main, in_neighbours, stall_timeout_s, max_restarts, hooks)
        try:
            return supervisor.serve(shutdown_timeout_s)
        finally:
            ray.kill(supervisor.relay)
    finally:
        if started:
            ray.shutdown()


class _Relay:
    """The island actors' post office (an async actor): payloads, collects, the stop flag, beats.

    Each worker says which attempt it is (its island's restarts when it started), so that a collect
    left pending by a killed worker does not mark its successor as waiting.
    """

    def __init__(self, topology: Topology) -> None:
        self.board = Board(topology)
        self.over: set[int] = set()
        self.stopping = False
        self.attempts: dict[int, int] = {}
        self.last_beat: dict[int, float] = {}
        self.waiting: set[int] = set()
        self.changed = asyncio.Condition()
        self.requests: list[tuple[int, int, Any]] = []  # (ticket, island, payload) the driver has not taken
        self.answers: dict[int, asyncio.Future] = {}
        self.tickets = itertools.count()
        self.arrived = asyncio.Event()

    async def request(self, island: int, payload: Any) -> Any:
        """Queue a worker's request for the driver and wait for its answer."""
        ticket = next(self.tickets)
        self.answers[ticket] = asyncio.get_running_loop().create_future()
        self.requests.append((ticket, island, payload))
        self.arrived.set()
        return await self.answers[ticket]

    async def take_requests(self, timeout_s: float) -> list[tuple[int, int, Any]]:
        """The requests queued so far, in arrival order, once there is one or `timeout_s` passed."""
        try:
            await asyncio.wait_for(self.arrived.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass
        taken, self.requests = self.requests, []
        self.arrived.clear()
        return taken

    async def answer(self, ticket: int, answer: Any) -> None:
        """Hand the driver's answer to the worker waiting on `ticket`."""
        waiting = self.answers.pop(ticket)
        if not waiting.done():  # done: cancelled with its dead caller
            waiting.set_result(answer)

    async def start(self, island: int, attempt: int) -> None:
        """A fresh worker of `island` is on its way; its stall clock starts with its first beat."""
        self.attempts[island] = attempt
        self.last_beat.pop(island, None)
        self.waiting.discard(island)

    async def receive(self, island: int, attempt: int, message: Message) -> None:
        """Handle a beat or a publish from a worker."""
        match message:
            case Beat():
                if attempt == self.attempts[island]:
                    self.last_beat[island] = time.monotonic()
            case Publish(round, payload):
                self.board.publish(island, round, payload)
                await self._changed()

    async def collect(self, island: int, attempt: int, round: int) -> dict[int, Any] | None:
        """Wait for the board's reply to `island` collecting `round`: the payloads, or None (Stopped)."""
        current = attempt == self.attempts[island]
        if current:
            self.waiting.add(island)
        try:
            async with self.changed:
                while (reply := self.board.answer(island, round, self.over, self.stopping)) is None:
                    await self.changed.wait()
            return reply.received
        finally:
            if current and attempt == self.attempts[island]:
                self.waiting.discard(island)
                self.last_beat[island] = time.monotonic()  # time spent waiting for neighbours is not a stall

    async def end(self, island: int) -> None:
        """`island` finished or is dead for good: it will never publish again."""
        self.over.add(island)
        await self._changed()

    async def stop(self) -> None:
        """Raise the stop flag and cut short every collect still waiting."""
        self.stopping = True
        await self._changed()

    async def should_stop(self) -> bool:
        """Whether the stop flag is raised."""
        return self.stopping

    async def stalled(self, timeout_s: float) -> list[int]:
        """The islands whose worker neither beat nor waited to collect for `timeout_s`."""
        now = time.monotonic()
        return [island for island, beat in self.last_beat.items()
                if island not in self.waiting and island not in self.over and now - beat > timeout_s]

    async def _changed(self) -> None:
        async with self.changed:
            self.changed.notify_all()


class _RelayConnection:
    """The relay seen as a Mailbox's connection: `send` a message, `recv` the reply to the last Collect."""

    def __init__(self, relay: Any, island: int, attempt: int) -> None:
        self._relay = relay
        self._island = island
        self._attempt = attempt
        self._reply: Any = None

    def send(self, message: Message) -> None:
        """Deliver `message` to the relay (waiting until it did, as a pipe holds what was written)."""
        if isinstance(message, Collect):
            self._reply = self._relay.collect.remote(self._island, self._attempt, message.round)
        elif isinstance(message, Request):
            self._reply = self._relay.request.remote(self._island, message.payload)
        else:
            ray.get(self._relay.receive.remote(self._island, self._attempt, message))

    def recv(self) -> Any:
        """Block until the relay answers the last Collect or Request."""
        return ray.get(self._reply)


class _RelayStopFlag:
    """The relay's stop flag seen as a Mailbox's stop flag."""

    def __init__(self, relay: Any) -> None:
        self._relay = relay

    @property
    def value(self) -> bool:
        """Whether a stop was requested."""
        return ray.get(self._relay.should_stop.remote())


class _IslandWorker:
    """The actor running one attempt of one island."""

    def run(self, island_main: IslandMain, island: int, relay: Any, attempt: int) -> Done | Failed | None:
        """Run the island function with a mailbox on the relay; how it ended."""
        mailbox = Mailbox(_RelayConnection(relay, island, attempt), _RelayStopFlag(relay))
        mailbox.beat()  # starting an actor takes a while; the stall clock starts now
        return run_island(island_main, island, mailbox)


@dataclass
class _Island(Fate):
    """The driver's view of one island and of its current actor."""

    actor: Any = None
    ending: Any = None  # the reference to the result of the actor's `run`


class _RaySupervisor(Supervision[_Island]):
    """The driver's loop: island actors, the relay, restarts and stalls."""

    def __init__(self, island_main: IslandMain, topology: Topology, stall_timeout_s: float, max_restarts: int,
                 hooks: Hooks) -> None:
        super().__init__([_Island(index) for index in sorted(topology)], max_restarts, hooks)
        self.island_main = ray.put(island_main)  # stored once; each node fetches it once
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        # on the driver's node, so that losing another node never loses the board or the queued requests
        self.relay = ray.remote(_Relay).options(num_cpus=0, scheduling_strategy=here).remote(topology)
        self.inbox = self.relay.take_requests.remote(_POLL_S)
        # One CPU each, held while it lives: islands spread over the nodes with free cores, never two on a
        # one-core node; on a cluster with fewer free CPUs than islands, the rest wait for one.
        self.worker = ray.remote(_IslandWorker).options(num_cpus=1, scheduling_strategy="SPREAD")
        self.stall_timeout_s = stall_timeout_s

    def _live(self) -> list[_Island]:
        return [island for island in self.islands if island.actor is not None]

    def _request_stop(self) -> None:
        ray.get(self.relay.stop.remote())

    def _kill(self, island: _Island) -> None:
        ray.kill(island.actor)
        island.actor = island.ending = None

    def _start(self, island: _Island) -> str:
        island.cause = None
        ray.get(self.relay.start.remote(island.index, island.restarts))
        island.actor = self.worker.remote()
        island.ending = island.actor.run.remote(self.island_main, island.index, self.relay, island.restarts)
        return "a new Ray actor"

    def _step(self) -> None:
        """Wait a little for requests or ending actors, answer the requests, handle the endings, kill stalled ones."""
        live = {island.ending: island for island in self._live()}
        ray.wait([self.inbox, *live], num_returns=1, timeout=_POLL_S)
        if ray.wait([self.inbox], timeout=0)[0]:
            self._answer_requests(ray.get(self.inbox))
        ended, _ = ray.wait(list(live), num_returns=len(live), timeout=0)
        for reference in ended:
            self._reap(live[reference])
        self._kill_stalled()

    def _answer_requests(self, requests: list[tuple[int, int, Any]]) -> None:
        """Answer each request in arrival order (even a dead worker's: what it asked before dying still counts)."""
        for ticket, island, payload in requests:
            self.relay.answer.remote(ticket, self.on_request(island, payload))
        self.inbox = self.relay.take_requests.remote(_POLL_S)

    def _reap(self, island: _Island) -> None:
        """Handle the end of `island`'s actor: restart it unless it finished, stopped or ran out of restarts."""
        try:
            ending = ray.get(island.ending)
        except ray.exceptions.RayError as died:
            ending = died
        self._kill(island)  # an actor whose `run` returned would idle on
        if isinstance(ending, Done):
            self._finished(island)
        elif not self.stopping:
            self._failed(island, _describe_end(ending))
        if island.over:
            ray.get(self.relay.end.remote(island.index))

    def _kill_stalled(self) -> None:
        for index in ray.get(self.relay.stalled.remote(self.stall_timeout_s)):
            island = self.islands[index]
            if island.actor is not None and island.cause is None:
                island.cause = f"stalled: no beat for {self.stall_timeout_s:g} s"
                ray.kill(island.actor)
                self._emit("stalled", island, f"{island.cause}; killed it")


def _describe_end(ending: Failed | Exception | None) -> str:
    if isinstance(ending, Failed):
        return ending.traceback
    if ending is None:
        return "it raised Stopped while no stop was requested"
    return f"its Ray actor died: {ending}"
