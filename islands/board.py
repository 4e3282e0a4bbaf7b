"""The payloads of a run, kept for its whole life, and the rule that answers a collect.

Every payload stays, so a restarted worker, or a neighbour lagging behind, still collects old rounds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Container

from islands.topology import Topology


@dataclass(frozen=True)
class Reply:
    """The answer to a collect: {source island: payload}, or None when a stop cut the collect short."""

    received: dict[int, Any] | None


class Board:
    """Every payload published so far, the first one per (source, round)."""

    def __init__(self, topology: Topology) -> None:
        self._sources = topology
        self._published: dict[tuple[int, int], Any] = {}

    def publish(self, source: int, round: int, payload: Any) -> None:
        """Keep `payload` unless `source` already published `round`."""
        # The first payload is kept, so every collector of this round gets the same one.
        self._published.setdefault((source, round), payload)

    def answer(self, island: int, round: int, over: Container[int], stopping: bool) -> Reply | None:
        """The reply to `island` collecting `round`, or None while it must wait.

        It gets its in-neighbours' payloads once each published the round or is `over` (finished or dead
        for good: it never will); while some are missing, a stop cuts the collect short.
        """
        missing = [source for source in self._sources[island] if (source, round) not in self._published]
        if all(source in over for source in missing):
            return Reply({source: self._published[source, round]
                          for source in self._sources[island] if source not in missing})
        return Reply(None) if stopping else None
