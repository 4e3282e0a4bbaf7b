"""What a run of islands tells its caller, whatever the backend: events as they happen, outcomes at the end."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EventKind = Literal["started", "restarted", "finished", "failed", "stalled", "stopping"]


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
