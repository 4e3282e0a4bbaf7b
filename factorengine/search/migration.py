"""Migration between islands: when it happens, who emigrates, and what a migrant carries.

Rounds fall at iteration counts (every `interval` search iterations after the seeds), never at wall-clock
times, and emigrants are chosen from what an island had committed by the round's iteration: the same run
exchanges the same programs whether or not it was interrupted. A round's migrants arrive at the next round,
so an island never waits for a slower neighbour to reach the current one. Islands send their own discoveries
only (migrants are never sent on), the best `k` distinct programs by train FS, ties broken by valid FS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence

from factorengine.store import EvaluationRow, Migration, NodeRow, ProfileRow, Store


class Exchange(Protocol):
    """What an island needs of its supervisor: publish and collect payloads per round, beat, stop."""

    def publish(self, round: int, payload: Any) -> None: ...

    def collect(self, round: int) -> Mapping[int, Any]: ...

    def beat(self) -> None: ...

    def should_stop(self) -> bool: ...


@dataclass(frozen=True)
class Migrant:
    """A program on its way to another island, with the evaluation recorded where it was found."""

    island: int
    node_id: int
    program_id: str
    code: str
    params: Mapping[str, int | float]
    idea: str
    evaluation: EvaluationRow  # train and valid: test is scored by harvest, never by the search
    profile: ProfileRow | None  # its values' profile, so the receiver screens copies of it (None: failed or old)


def migration_round(iteration: int, n_seeds: int, interval: int) -> int | None:
    """The migration round that follows `iteration` (1, 2, ...), or None when none does."""
    done = iteration - n_seeds + 1  # search iterations completed
    return done // interval if interval > 0 and done > 0 and done % interval == 0 else None


def round_iteration(round: int, n_seeds: int, interval: int) -> int:
    """The iteration after which round `round` happens."""
    return n_seeds - 1 + round * interval


def choose_emigrants(nodes: Sequence[NodeRow], fs: Mapping[int, tuple[float, float]], up_to: int,
                     k: int) -> list[NodeRow]:
    """The best `k` distinct programs an island found itself by iteration `up_to`.

    `fs` maps node_id to (train FS, valid FS); order: train FS, then valid FS, descending, then node_id.
    """
    own = [n for n in nodes if n.kind != "migrant" and not n.failed and n.iteration <= up_to
           and not math.isnan(fs[n.node_id][0])]
    own.sort(key=lambda n: (-fs[n.node_id][0], -_or_low(fs[n.node_id][1]), n.node_id))
    chosen: list[NodeRow] = []
    for node in own:
        if len(chosen) < k and all(c.program_id != node.program_id for c in chosen):
            chosen.append(node)
    return chosen


def _or_low(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def migration_origins(store: Store) -> dict[int, int]:
    """Migrant node id -> the node it was copied from, from the migration events."""
    return {new: source for event in store.events(Migration) for _, source, new in event.payload.received
            if new is not None}


def lineage(node_id: int, nodes: Mapping[int, NodeRow], origins: Mapping[int, int]) -> list[NodeRow]:
    """The chain of nodes from the seed down to `node_id`, through parents and from migrants to their sources."""
    chain = []
    current: int | None = node_id
    while current is not None:
        chain.append(nodes[current])
        current = origins.get(current, nodes[current].parent_id)
    return chain[::-1]
