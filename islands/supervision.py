"""What supervising islands means on every backend: start each, restart a failed one or give it up, stop on Ctrl-C.

A backend subclasses `Supervision` with how its workers start, are watched, asked to stop and killed;
the decisions and the events told to `on_event` are the same on all of them.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from islands.events import EventKind, IslandEvent, IslandOutcome, IslandsResult


@dataclass
class Fate:
    """One island's story across its workers: restarts, how it ended, why its current worker is failing."""

    index: int
    restarts: int = 0
    finished: bool = False
    dead: bool = False
    last_error: str | None = None
    cause: str | None = None  # why the current worker is ending badly, once known

    @property
    def over(self) -> bool:
        """Whether this island will never publish again."""
        return self.finished or self.dead


IslandT = TypeVar("IslandT", bound=Fate)
OnRequest = Callable[[int, Any], Any]  # (island, what its worker asks) -> the answer


def refuse_requests(island: int, payload: Any) -> Any:
    """The `on_request` of a run that expects none: a request is a bug in the island function."""
    raise RuntimeError(f"island {island} made a request, but run_islands was given no on_request")


@dataclass(frozen=True)
class Hooks:
    """What the caller of `run_islands` is told and asked, in its own process: events, and its islands' requests."""

    on_event: Callable[[IslandEvent], None]
    on_request: OnRequest


class Supervision(ABC, Generic[IslandT]):
    """The backend-independent half of a supervisor: the islands' fates, the stop flag and the events."""

    def __init__(self, islands: list[IslandT], max_restarts: int, hooks: Hooks) -> None:
        self.islands = islands
        self.max_restarts = max_restarts
        self.on_event = hooks.on_event
        self.on_request = hooks.on_request  # runs in this process, between the loop's other work
        self.stopping = False

    def serve(self, shutdown_timeout_s: float) -> IslandsResult:
        """Run until each island finished or is dead for good; on Ctrl-C stop them, kill the rest, re-raise."""
        try:
            for island in self.islands:
                self._emit("started", island, self._start(island))
            while self._live():
                self._step()
        except KeyboardInterrupt:
            self._stop(shutdown_timeout_s)
            raise
        finally:
            for island in self._live():
                self._kill(island)
        return IslandsResult(tuple(IslandOutcome(island.index, island.finished, island.restarts,
                                                 island.last_error) for island in self.islands))

    def _stop(self, timeout_s: float) -> None:
        """Ask every worker to stop and serve them until they are gone or `timeout_s` passed."""
        self.stopping = True
        self._request_stop()
        for island in self._live():
            self._emit("stopping", island, f"asked to stop; waiting up to {timeout_s:g} s")
        deadline = time.monotonic() + timeout_s
        while self._live() and time.monotonic() < deadline:
            self._step()
        for island in self._live():
            self._emit("stopping", island, f"did not stop within {timeout_s:g} s; killing it")

    def _emit(self, kind: EventKind, island: IslandT, detail: str) -> None:
        self.on_event(IslandEvent(kind, island.index, detail))

    def _finished(self, island: IslandT) -> None:
        """The island function returned: the island is done (once stopping, returning means stopping)."""
        if not self.stopping:
            island.finished = True
            self._emit("finished", island, "its function returned")

    def _failed(self, island: IslandT, error: str) -> None:
        """The island's worker ended before its function returned: restart it, or give up after max_restarts."""
        island.last_error = island.cause or error
        if island.restarts >= self.max_restarts:
            island.dead = True
            self._emit("failed", island, f"{island.last_error}\ndead for good after {island.restarts} restarts")
            return
        self._emit("failed", island, island.last_error)
        island.restarts += 1
        where = self._start(island)
        self._emit("restarted", island, f"restart {island.restarts} of {self.max_restarts}; {where}")

    @abstractmethod
    def _start(self, island: IslandT) -> str:
        """Start a fresh worker for `island`; where it runs, for the events."""

    @abstractmethod
    def _live(self) -> list[IslandT]:
        """The islands whose worker runs."""

    @abstractmethod
    def _step(self) -> None:
        """Wait a little for news from the workers and handle it."""

    @abstractmethod
    def _request_stop(self) -> None:
        """Raise the stop flag every worker's mailbox reads."""

    @abstractmethod
    def _kill(self, island: IslandT) -> None:
        """Kill `island`'s worker and forget it."""
