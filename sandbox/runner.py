"""`Sandbox`: run untrusted program text against fixed inputs, one disposable forked child per run."""
from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from sandbox.connection import SandboxError, ServerConnection
from sandbox.outcomes import Outcome
from sandbox.policy import Limits, Policy
from sandbox.protocol import Finished, KillRequest, RunRequest, ServerConfig, Started
from sandbox.shm import SharedInputs, Slot, share_inputs
from sandbox.verdict import judge

__all__ = ["Sandbox"]

_START_TIMEOUT_S = 120.0  # preloading heavy modules on a loaded machine
_KILL_GRACE_S = 10.0  # a killed run must be reaped by then, or the server is wedged


@dataclass
class _Active:
    """A run the parent is waiting for."""

    index: int
    slot: int
    deadline: float
    rows: int | None
    every: int
    kill_sent: bool = False


class Sandbox:
    """Runs `entry(d, **kwargs)` from program text in fresh children of a fork server.

    `inputs` are copied once into sealed anonymous shared memory (or given already shared, see
    `share_inputs`, so several sandboxes hold one copy) and handed to every run as the read-only
    namespace `d`. The server is a fresh interpreter holding only the policy's
    preloaded modules and the inputs; each run is a child forked from it, confined
    (own process group, rlimits, audit hook) and killed when it outlives `timeout_s`.
    Up to `n_workers` runs execute at once. Use one Sandbox from one thread: the server
    dies with the thread that started it (PR_SET_PDEATHSIG) and is restarted by the next run.
    """

    def __init__(self, inputs: Mapping[str, np.ndarray] | SharedInputs, *, policy: Policy, n_workers: int = 1,
                 limits: Limits = Limits()) -> None:
        if n_workers < 1:
            raise ValueError(f"n_workers must be at least 1, got {n_workers}")
        self._policy = policy
        self._limits = limits
        self._n_workers = n_workers
        self._slots: list[Slot] = []
        self._server: ServerConnection | None = None
        self._inputs: SharedInputs | None = None
        self._next_run_id = 0
        self._owner_pid = os.getpid()
        # inputs shared already (e.g. by a parent before forking islands) are used through a descriptor of our own
        self._inputs = (SharedInputs(os.dup(inputs.fd), inputs.size, inputs.specs) if isinstance(inputs, SharedInputs)
                        else share_inputs(inputs))
        slot_bytes = limits.slot_bytes(policy.output_shape)
        # one spare slot: the next run starts while the parent copies the last output out
        self._slots = [Slot.create(slot_bytes) for _ in range(n_workers + 1)]
        self._server = self._start_server()

    @property
    def server_pid(self) -> int | None:
        """The pid of the current fork server (None when closed)."""
        return None if self._server is None else self._server.pid

    def run(self, source: str, entry: str, kwargs_list: Sequence[Mapping[str, object]],
            timeout_s: float, *, rows: int | Sequence[int | None] | None = None, every: int = 1) -> list[Outcome]:
        """Run `entry(d, **kwargs)` of `source` once per mapping; outcomes come in the same order.

        `timeout_s` is the wall-clock limit of each run. `rows` runs on the first `rows` rows of
        every input (a shorter history, e.g. for a lookahead check), None on all of them; a
        sequence gives each run its own. `every` runs on every `every`-th column (a sample of
        the stocks) of every input. Program failures come back as
        failure values; SandboxError means the machinery failed (the next run restarts it).
        """
        if self._inputs is None:
            raise SandboxError("the sandbox is closed")
        if os.getpid() != self._owner_pid:
            raise SandboxError("a Sandbox cannot be used from a forked copy of its process")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        rows_list = list(rows) if isinstance(rows, Sequence) else [rows] * len(kwargs_list)
        if len(rows_list) != len(kwargs_list) or any(r is not None and r < 1 for r in rows_list):
            raise ValueError(f"rows must be None, an int >= 1 or one such value per run, got {rows!r}")
        if every < 1:
            raise ValueError(f"every must be an int >= 1, got {every!r}")
        if self._server is None or not self._server.alive():
            self._restart_server()
        completed = False
        try:
            outcomes = self._run_batch(source, entry, list(zip(kwargs_list, rows_list)), timeout_s, every)
            completed = True
        finally:
            if not completed:  # runs of an abandoned batch may still write into the slots
                self._stop_server()
        return outcomes

    def _run_batch(self, source: str, entry: str, runs: list[tuple[Mapping[str, object], int | None]],
                   timeout_s: float, every: int) -> list[Outcome]:
        assert self._server is not None
        pending = deque(enumerate(runs))
        outcomes: list[Outcome | None] = [None] * len(runs)
        free_slots = list(range(len(self._slots)))
        active: dict[int, _Active] = {}

        def dispatch() -> None:
            while pending and free_slots and len(active) < self._n_workers:
                index, (kwargs, rows) = pending.popleft()
                slot, run_id = free_slots.pop(), self._next_run_id
                self._next_run_id += 1
                self._server.send(RunRequest(run_id, slot, source, entry, dict(kwargs), rows, every))
                active[run_id] = _Active(index, slot, time.monotonic() + timeout_s, rows, every)

        dispatch()
        while active:
            message = self._server.receive(max(0.0, min(a.deadline for a in active.values())
                                               - time.monotonic()))
            if message is None:
                self._expire(active)
            elif isinstance(message, Started):
                active[message.run_id].deadline = time.monotonic() + timeout_s
            elif isinstance(message, Finished):
                run = active.pop(message.run_id)
                dispatch()  # before judging: the copy-out overlaps the next run
                outcomes[run.index] = judge(message, slot=self._slots[run.slot], policy=self._policy,
                                            limits=self._limits, timeout_s=timeout_s, rows=run.rows,
                                            every=run.every)
                free_slots.append(run.slot)
                dispatch()
            else:
                raise SandboxError(f"unexpected message from the sandbox server: {message!r}")
        return [outcome for outcome in outcomes if outcome is not None]

    def _expire(self, active: dict[int, _Active]) -> None:
        """Ask the server to kill runs past their deadline; fail if a killed run is not reaped."""
        assert self._server is not None
        now = time.monotonic()
        for run_id, run in active.items():
            if run.deadline > now:
                continue
            if run.kill_sent:
                raise SandboxError("the sandbox server did not reap a killed run within "
                                   f"{_KILL_GRACE_S:g} s")
            self._server.send(KillRequest(run_id))
            run.kill_sent, run.deadline = True, now + _KILL_GRACE_S

    def _start_server(self) -> ServerConnection:
        assert self._inputs is not None
        config = ServerConfig(policy=self._policy, limits=self._limits, inputs=self._inputs,
                              slots=tuple((slot.fd, slot.size) for slot in self._slots),
                              parent_pid=os.getpid())
        pass_fds = (self._inputs.fd, *(slot.fd for slot in self._slots))
        return ServerConnection.start(config, pass_fds, _START_TIMEOUT_S)

    def _restart_server(self) -> None:
        self._stop_server()
        self._server = self._start_server()

    def _stop_server(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.stop()

    def close(self) -> None:
        """Stop the server (its children die with it) and release all shared memory; idempotent."""
        if os.getpid() == self._owner_pid:
            self._stop_server()
        self._server = None  # a forked copy must not stop its parent's server
        for slot in self._slots:
            slot.close()
        self._slots = []
        if self._inputs is not None:
            os.close(self._inputs.fd)
            self._inputs = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_slots", None) is not None:  # __init__ may have failed half way
            self.close()
