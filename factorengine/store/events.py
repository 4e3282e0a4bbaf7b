"""The typed events a run records for machines: one frozen payload class per kind, and the row that carries it.

On disk an event is its `kind` string and its fields as a JSON object (`dumps(asdict(event))`); lists read
back as tuples, so an event reads back equal to the one written.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Generic, Mapping, TypeVar

from factorengine.store.schema import StoreError, dumps

__all__ = ["EVENTS", "Duplicate", "Event", "EventRow", "IslandStarted", "LLMFallback", "LLMFault", "Migration",
           "ProposalFailed", "Seeds", "Segments", "Stopped", "decode_event", "encode_event"]


@dataclass(frozen=True)
class Seeds:
    """The run's seed programs as (name, code), in the order the islands evaluate them."""

    kind: ClassVar[str] = "seeds"
    seeds: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Segments:
    """The run's train, valid and test as (segment, first day, last day, days, folds); days are YYYY-MM-DD."""

    kind: ClassVar[str] = "segments"
    ranges: tuple[tuple[str, str, str, int, int], ...]


@dataclass(frozen=True)
class IslandStarted:
    """An island process (re)started; `pid` is its process id."""

    kind: ClassVar[str] = "island_started"
    pid: int


@dataclass(frozen=True)
class Migration:
    """The migrants an island received in a round: (source island, source node, new node or None if a duplicate)."""

    kind: ClassVar[str] = "migration"
    round: int
    received: tuple[tuple[int, int, int | None], ...]


@dataclass(frozen=True)
class ProposalFailed:
    """A proposal that could not be evaluated; `detail` says why (shown to the proposer)."""

    kind: ClassVar[str] = "proposal_failed"
    detail: str
    evaluations: int = 0  # sandbox evaluations it cost


@dataclass(frozen=True)
class Duplicate:
    """A proposal skipped as a duplicate of an existing node; `detail` names it."""

    kind: ClassVar[str] = "duplicate"
    detail: str
    evaluations: int = 0  # sandbox evaluations spent before it was recognised (a screened duplicate's trials)


@dataclass(frozen=True)
class Stopped:
    """The proposer cannot go on (e.g. the LLM budget is spent); the island ends its run."""

    kind: ClassVar[str] = "stopped"
    detail: str


@dataclass(frozen=True)
class LLMFault:
    """One failed attempt of an LLM request: its purpose, attempt number (from 1) and what went wrong."""

    kind: ClassVar[str] = "llm_fault"
    purpose: str
    attempt: int
    fault: str


@dataclass(frozen=True)
class LLMFallback:
    """The LLM proposer handed a proposal to its fallback proposer; `reason` says why."""

    kind: ClassVar[str] = "llm_fallback"
    reason: str


Event = (Seeds | Segments | IslandStarted | Migration | ProposalFailed | Duplicate | Stopped | LLMFault
         | LLMFallback)
EVENTS: Mapping[str, type[Event]] = {cls.kind: cls for cls in (Seeds, Segments, IslandStarted, Migration,
                                                                 ProposalFailed, Duplicate, Stopped, LLMFault,
                                                                 LLMFallback)}
E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class EventRow(Generic[E]):
    """One recorded event; `seq` orders events, `time` is seconds since the epoch."""

    seq: int
    time: float
    island: int | None
    iteration: int | None
    payload: E


def encode_event(event: Event) -> tuple[str, str]:
    """The (kind, payload JSON) an event is stored as."""
    return event.kind, dumps(asdict(event))


def decode_event(kind: str, payload: str) -> Event:
    """The event stored as `kind` and `payload` JSON; StoreError for one this FactorEngine cannot read."""
    if kind not in EVENTS:
        raise StoreError(f"an event of unknown kind {kind!r}: the run was written by another FactorEngine")
    try:
        return EVENTS[kind](**{name: _frozen(value) for name, value in json.loads(payload).items()})
    except (TypeError, ValueError, AttributeError) as exc:  # not JSON, not an object, or other fields
        raise StoreError(f"a {kind!r} event that does not read back ({exc}): the run database is damaged or "
                         "was written by another FactorEngine") from None


def _frozen(value: Any) -> Any:
    return tuple(_frozen(item) for item in value) if isinstance(value, list) else value
