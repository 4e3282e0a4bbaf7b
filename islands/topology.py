"""Migration topologies: for each island, the islands it receives payloads from (its in-neighbours)."""
from __future__ import annotations

from typing import Callable

Topology = dict[int, tuple[int, ...]]


def ring(n: int) -> Topology:
    """Island i receives from island (i - 1) % n; a lone island receives from nobody."""
    return {i: ((i - 1) % n,) if n > 1 else () for i in range(n)}


def all_to_all(n: int) -> Topology:
    """Every island receives from every other island."""
    return {i: tuple(j for j in range(n) if j != i) for i in range(n)}


TOPOLOGIES: dict[str, Callable[[int], Topology]] = {"ring": ring, "all": all_to_all}


def make_topology(name: str, n: int) -> Topology:
    """The topology called `name` (a key of TOPOLOGIES) of `n` islands."""
    if name not in TOPOLOGIES:
        raise ValueError(f"unknown topology {name!r}; expected one of {sorted(TOPOLOGIES)}")
    return TOPOLOGIES[name](n)
