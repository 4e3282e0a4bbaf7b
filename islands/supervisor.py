"""Run one worker process per island, relay migration payloads, restart crashed or stalled workers.

The supervisor keeps every published payload for the life of the run, so a restarted
worker, or a neighbour lagging behind, still collects old rounds. On Ctrl-C it asks the
workers to stop, waits for them, kills the rest and re-raises KeyboardInterrupt; a
worker dies with the supervisor even when the supervisor is SIGKILLed.
`run_islands(..., backend="ray")` runs the islands as Ray actors instead (`islands.ray_backend`).
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

import multiprocess as mp
from multiprocess.connection import wait

from islands.board import Board
from islands.events import IslandEvent, IslandsResult
from islands.mailbox import (Beat, Collect, Done, Failed, IslandMain, Mailbox, Message, Publish, Request,
                             run_island)
from islands.supervision import Fate, Hooks, OnRequest, Supervision, refuse_requests
from islands.topology import Topology, make_topology

BACKENDS = ("multiprocess", "ray")
_POLL_S = 0.1
_PR_SET_PDEATHSIG = 1
# A forkserver worker is the fork server's child, so it could not die with the supervisor.
_START_METHODS = ("fork", "spawn")


def run_islands(island_main: IslandMain, n_islands: int, topology: str = "ring", *,
                backend: str = "multiprocess", start_method: str = "fork", address: str | None = None,
                stall_timeout_s: float = 600.0, max_restarts: int = 3, shutdown_timeout_s: float = 60.0,
                on_event: Callable[[IslandEvent], None] | None = None,
                on_request: OnRequest = refuse_requests) -> IslandsResult:
    """Run `island_main(island, mailbox)` in one worker per island until each finished or is dead for good.

    `backend`: "multiprocess" (one process per island on this machine, started by `start_method`) or
    "ray" (one Ray actor per island on the Ray cluster at `address`, None: a local instance).
    `on_request(island, payload)` answers each `mailbox.request(payload)`, here, one at a time, in arrival order.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    hooks = Hooks(on_event or (lambda event: None), on_request)
    if backend == "ray":
        from islands.ray_backend import run_islands_ray
        return run_islands_ray(island_main, n_islands, topology, address=address, stall_timeout_s=stall_timeout_s,
                               max_restarts=max_restarts, shutdown_timeout_s=shutdown_timeout_s, hooks=hooks)
    if start_method not in _START_METHODS:
        raise ValueError(f"unsupported start method {start_method!r}; expected one of {_START_METHODS}")
    supervisor = _Supervisor(island_main, make_topology(topology, n_islands), mp.get_context(start_method),
                             stall_timeout_s, max_restarts, hooks)
    return supervisor.serve(shutdown_timeout_s)


@dataclass
class _Island(Fate):
    """The supervisor's view of one island and of its current worker process."""

    process: Any = None
    connection: Any = None
    last_beat: float = 0.0
    waiting_round: int | None = None


class _Supervisor(Supervision[_Island]):
    """The supervisor loop's state: islands, published payloads, the stop flag."""

    def __init__(self, island_main: IslandMain, topology: Topology, context: Any, stall_timeout_s: float,
                 max_restarts: int, hooks: Hooks) -> None:
        super().__init__([_Island(index) for index in sorted(topology)], max_restarts, hooks)
        self.island_main = island_main
        self.board = Board(topology)
        self.context = context
        self.stall_timeout_s = stall_timeout_s
        # A lock-free shared byte, not an Event: a worker SIGKILLed inside Event.is_set would
        # leave its lock held and hang every other reader.
        self.stop_flag = context.RawValue(ctypes.c_bool, False)

    def _live(self) -> list[_Island]:
        return [island for island in self.islands if island.process is not None]

    def _request_stop(self) -> None:
        self.stop_flag.value = True

    def _kill(self, island: _Island) -> None:
        island.process.kill()
        island.process.join()
        island.connection.close()
        island.process = island.connection = None

    def _start(self, island: _Island) -> str:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(
            target=_worker, name=f"island-{island.index}",
            args=(self.island_main, island.index, theirs, self.stop_flag, os.getpid()))
        process.start()
        theirs.close()  # so that the worker's death reads as end-of-file on our end
        island.process, island.connection = process, ours
        island.last_beat, island.waiting_round, island.cause = time.monotonic(), None, None
        return f"pid {process.pid}"

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
                self.board.publish(island.index, round, payload)
            case Collect(round):
                island.waiting_round = round
            case Request(payload):
                self._answer(island, self.on_request(island.index, payload))
            case Done():
                self._finished(island)
            case Failed(text):
                island.cause = text

    def _reap(self, island: _Island) -> None:
        """Handle the exit of `island`'s worker: restart it unless it finished, stopped or ran out of restarts."""
        self._receive(island)
        island.process.join()
        exitcode = island.process.exitcode
        island.connection.close()
        island.process = island.connection = None
        if not (island.finished or self.stopping):
            self._failed(island, _describe_exit(exitcode))

    def _answer_collects(self) -> None:
        over = {island.index for island in self.islands if island.over}
        for island in self._live():
            if island.waiting_round is None:
                continue
            reply = self.board.answer(island.index, island.waiting_round, over, self.stopping)
            if reply is not None:
                self._reply(island, reply.received)

    def _reply(self, island: _Island, received: dict[int, Any] | None) -> None:
        island.waiting_round = None
        island.last_beat = time.monotonic()  # time spent waiting for neighbours is not a stall
        self._answer(island, received)  # None: the mailbox raises Stopped

    def _answer(self, island: _Island, answer: Any) -> None:
        try:
            island.connection.send(answer)
        except OSError:
            pass  # the worker died meanwhile; `_reap` restarts it and it asks again

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
    ending = run_island(island_main, island, Mailbox(connection, stop_flag))
    if ending is not None:
        connection.send(ending)
    if isinstance(ending, Failed):
        sys.exit(ending.traceback)  # prints it and exits with code 1, as the exception itself would
