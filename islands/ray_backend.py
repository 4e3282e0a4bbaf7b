"""Run one Ray actor per island, on a local Ray instance or a cluster, with the multiprocess backend's semantics.

A relay actor stands where the multiprocess supervisor's pipes are: it keeps every payload, answers
collects by the same rule, holds the stop flag and times the beats. The driver watches the island
actors, restarts one that raised, died or stalled (in a fresh actor), and on Ctrl-C raises the stop
flag, waits, kills the rest and re-raises KeyboardInterrupt. Reached through `run_islands(backend="ray")`;
importing this module needs Ray, importing `islands` does not.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Callable

from islands.board import Board
from islands.events import IslandEvent, IslandsResult
from islands.mailbox import Beat, Collect, Done, Failed, IslandMain, Mailbox, Message, Publish, run_island
from islands.supervision import Fate, Supervision
from islands.topology import Topology, make_topology

try:
    import ray
except ImportError as error:
    raise ImportError('the Ray backend of islands needs Ray: pip install "factorengine[ray]" '
                      '(or pip install "ray>=2.9")') from error

_POLL_S = 0.1


def run_islands_ray(island_main: IslandMain, n_islands: int, topology: str = "ring", *,
                    address: str | None = None, stall_timeout_s: float = 600.0, max_restarts: int = 3,
                    shutdown_timeout_s: float = 60.0,
                    on_event: Callable[[IslandEvent], None] | None = None) -> IslandsResult:
    """Run `island_main(island, mailbox)` in one Ray actor per island until each finished or is dead for good.

    Connects to the Ray cluster at `address` (None: starts a local instance) unless Ray is initialised
    already, and shuts down what it started.
    """
    in_neighbours = make_topology(topology, n_islands)
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False)
    try:
        supervisor = _RaySupervisor(island_main, in_neighbours, stall_timeout_s, max_restarts,
                                    on_event or (lambda event: None))
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
        else:
            ray.get(self._relay.receive.remote(self._island, self._attempt, message))

    def recv(self) -> dict[int, Any] | None:
        """Block until the relay answers the last Collect."""
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
                 on_event: Callable[[IslandEvent], None]) -> None:
        super().__init__([_Island(index) for index in sorted(topology)], max_restarts, on_event)
        self.island_main = ray.put(island_main)  # shipped once, not once per actor
        self.relay = ray.remote(_Relay).remote(topology)
        self.worker = ray.remote(_IslandWorker).options(scheduling_strategy="SPREAD")  # over a cluster's nodes
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
        """Wait a little for actors to end, handle their endings, kill stalled ones."""
        live = {island.ending: island for island in self._live()}
        ready, _ = ray.wait(list(live), num_returns=len(live), timeout=_POLL_S)
        for reference in ready:
            self._reap(live[reference])
        self._kill_stalled()

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
