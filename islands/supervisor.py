"""Run one worker process per island, relay migration payloads, restart crashed or stalled workers.

The supervisor keeps every published payload for the life of the run, so a restarted
worker, or a neighbour lagging behind, still collects old rounds. On Ctrl-C it asks the
workers to stop, waits for them, kills the rest and re-raises KeyboardInterrupt; a
worker dies with the supervisor even when the supervisor is SIGKILLed.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Literal

import multiprocess as mp
from multiprocess.connection import wait

from islands.mailbox import Beat, Collect, Done, Failed, Mailbox, Message, Publish, Stopped
from islands.topology import TOPOLOGIES

IslandMain = Callable[[int, Mailbox], None]
EventKind = Literal["started", "restarted", "finished", "failed", "stalled", "stopping"]

_POLL_S = 0.1
_PR_SET_PDEATHSIG = 1
# A forkserver worker is the fork server's child, so it could not die with the supervisor.
_START_METHODS = ("fork", "spawn")


@dataclass(frozen=True)
class IslandEvent:
    """Something that happened to one island's worker, as told to `on_event`."""

    kind: EventKind
    island: int
    detail: str


@dataclass(frozen=True)
class IslandOutcome:
    """How one island ended: finished (its function returned) or dead for good."""

    island: int
    finished: bool
    restarts: int
    last_error: str | None


@dataclass(frozen=True)
class IslandsResult:
    """Every island's outcome, by island index."""

    islands: tuple[IslandOutcome, ...]


def run_islands(island_main: IslandMain, n_islands: int, topology: str = "ring", *,
                start_method: str = "fork", stall_timeout_s: float = 600.0, max_restarts: int = 3,
                shutdown_timeout_s: float = 60.0,
                on_event: Callable[[IslandEvent], None] | None = None) -> IslandsResult:
    """Run `island_main(island, mailbox)` in one process per island until each finished or is dead for good."""
    if topology not in TOPOLOGIES:
        raise ValueError(f"unknown topology {topology!r}; expected one of {sorted(TOPOLOGIES)}")
    if start_method not in _START_METHODS:
        raise ValueError(f"unsupported start method {start_method!r}; expected one of {_START_METHODS}")
    supervisor = _Supervisor(island_main, TOPOLOGIES[topology](n_islands), mp.get_context(start_method),
                             stall_timeout_s, max_restarts, on_event or (lambda event: None))
    try:
        supervisor.run()
    except KeyboardInterrupt:
        supervisor.stop(shutdown_timeout_s)
        raise
    finally:
        supervisor.kill_all()
    return supervisor.result()


@dataclass
class _Island:
    """The supervisor's view of one island and of its current worker process."""

    index: int
    sources: tuple[int, ...]
    restarts: int = 0
    finished: bool = False
    dead: bool = False
    last_error: str | None = None
    process: Any = None
    connection: Any = None
    last_beat: float = 0.0
    waiting_round: int | None = None
    cause: str | None = None  # why the current worker is ending badly, once known

    @property
    def over(self) -> bool:
        """Whether this island will never publish again."""
        return self.finished or self.dead


class _Supervisor:
    """The supervisor loop's state: islands, published payloads, the stop flag."""

    def __init__(self, island_main: IslandMain, topology: dict[int, tuple[int, ...]], context: Any,
                 stall_timeout_s: float, max_restarts: int,
                 on_event: Callable[[IslandEvent], None]) -> None:
        self.island_main = island_main
        self.islands = [_Island(index, sources) for index, sources in sorted(topology.items())]
        self.context = context
        self.stall_timeout_s = stall_timeout_s
        self.max_restarts = max_restarts
        self.on_event = on_event
        self.published: dict[tuple[int, int], Any] = {}
        # A lock-free shared byte, not an Event: a worker SIGKILLed inside Event.is_set would
        # leave its lock held and hang every other reader.
        self.stop_flag = context.RawValue(ctypes.c_bool, False)
        self.stopping = False

    def run(self) -> None:
        """Start every worker and serve until none is left running."""
        for island in self.islands:
            self._emit("started", island, f"pid {self._start(island)}")
        while self._live():
            self._step()

    def stop(self, timeout_s: float) -> None:
        """Ask every worker to stop and serve them until they are gone or `timeout_s` passed."""
        self.stopping = True
        self.stop_flag.value = True
        for island in self._live():
            self._emit("stopping", island, f"asked to stop; waiting up to {timeout_s:g} s")
        deadline = time.monotonic() + timeout_s
        while self._live() and time.monotonic() < deadline:
            self._step()
        for island in self._live():
            self._emit("stopping", island, f"did not stop within {timeout_s:g} s; killing it")

    def kill_all(self) -> None:
        """Kill and reap every worker still running."""
        for island in self._live():
            island.process.kill()
            island.process.join()
            island.connection.close()
            island.process = island.connection = None

    def result(self) -> IslandsResult:
        """Every island's outcome."""
        return IslandsResult(tuple(IslandOutcome(island.index, island.finished, island.restarts,
                                                 island.last_error) for island in self.islands))

    def _live(self) -> list[_Island]:
        return [island for island in self.islands if island.process is not None]

    def _emit(self, kind: EventKind, island: _Island, detail: str) -> None:
        self.on_event(IslandEvent(kind, island.index, detail))

    def _start(self, island: _Island) -> int:
        """Start a fresh worker for `island`; its pid."""
        ours, theirs = self.context.Pipe()
        process = self.context.Process(
            target=_worker, name=f"island-{island.index}",
            args=(self.island_main, island.index, theirs, self.stop_flag, os.getpid()))
        process.start()
        theirs.close()  # so that the worker's death reads as end-of-file on our end
        island.process, island.connection = process, ours
        island.last_beat, island.waiting_round, island.cause = time.monotonic(), None, None
        return process.pid

    def _step(self) -> None:
        """Wait a little for messages or exits, handle them, answer collects, kill stalled workers."""
        live = self._live()
        ready = wait([island.connection for island in live]
                     + [island.process.sentinel for island in live], timeout=_POLL_S)
        for island in live:
            if island.connection in ready:
                self._receive(island)
            if island.process.sentinel in ready:
                self._reap(island)
        self._answer_collects()
        self._kill_stalled()

    def _receive(self, island: _Island) -> None:
        try:
            while island.connection.poll():
                self._handle(island, island.connection.recv())
        except (EOFError, OSError):
            pass  # the worker is gone; its sentinel tells us and `_reap` takes over

    def _handle(self, island: _Island, message: Message) -> None:
        match message:
            case Beat():
                island.last_beat = time.monotonic()
            case Publish(round, payload):
                # The first payload is kept, so every collector of this round gets the same one.
                self.published.setdefault((island.index, round), payload)
            case Collect(round):
                island.waiting_round = round
            case Done():
                if not self.stopping:  # once stopping, returning means stopping, not being done
                    island.finished = True
                    self._emit("finished", island, "its function returned")
            case Failed(text):
                island.cause = text

    def _reap(self, island: _Island) -> None:
        """Handle the exit of `island`'s worker: restart it unless it finished, stopped or ran out of restarts."""
        self._receive(island)
        island.process.join()
        exitcode = island.process.exitcode
        island.connection.close()
        island.process = island.connection = None
        if island.finished or self.stopping:
            return
        island.last_error = island.cause or _describe_exit(exitcode)
        if island.restarts >= self.max_restarts:
            island.dead = True
            self._emit("failed", island,
                       f"{island.last_error}\ndead for good after {island.restarts} restarts")
            return
        self._emit("failed", island, island.last_error)
        island.restarts += 1
        pid = self._start(island)
        self._emit("restarted", island, f"restart {island.restarts} of {self.max_restarts}; pid {pid}")

    def _answer_collects(self) -> None:
        for island in self._live():
            round = island.waiting_round
            if round is None:
                continue
            missing = [source for source in island.sources if (source, round) not in self.published]
            if all(self.islands[source].over for source in missing):
                self._reply(island, {source: self.published[source, round]
                                     for source in island.sources if source not in missing})
            elif self.stopping:
                self._reply(island, None)  # the mailbox raises Stopped

    def _reply(self, island: _Island, received: dict[int, Any] | None) -> None:
        island.waiting_round = None
        island.last_beat = time.monotonic()  # time spent waiting for neighbours is not a stall
        try:
            island.connection.send(received)
        except OSError:
            pass  # the worker died meanwhile; `_reap` restarts it and it collects again

    def _kill_stalled(self) -> None:
        now = time.monotonic()
        for island in self._live():
            if island.waiting_round is None and now - island.last_beat > self.stall_timeout_s:
                island.cause = f"stalled: no beat for {self.stall_timeout_s:g} s"
                island.last_beat = now
                island.process.kill()
                self._emit("stalled", island, f"{island.cause}; killed it")


def _describe_exit(exitcode: int) -> str:
    if exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exited with code {exitcode} before its function returned"


def _worker(island_main: IslandMain, island: int, connection: Any, stop_flag: Any,
            supervisor_pid: int) -> None:
    """A worker process: die with the supervisor, leave Ctrl-C to it, run the island, report how it ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor handles Ctrl-C and asks us to stop
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != supervisor_pid:  # the supervisor died before prctl took effect
        os._exit(1)
    try:
        island_main(island, Mailbox(connection, stop_flag))
    except Stopped:
        return
    except BaseException:
        connection.send(Failed(traceback.format_exc()))
        raise
    connection.send(Done())
