"""Search tree of evaluated programs: UCT selection with progressive widening, backpropagation, path scoring.

Pure: no I/O and no global randomness; every random choice takes a passed `np.random.Generator`. A tree's state
is a deterministic function of its sequence of `Tree.add` calls, so the engine rebuilds it on resume by
re-adding the stored records in node_id order (`Tree.from_records`).

Node 0 (`ROOT`) is virtual: it has no program, seeds are its children. Every added node counts as one rollout
(MCTS with one rollout per expansion): its reward is backpropagated to each ancestor and to the root, so
N(v) is the number of nodes in v's subtree, v included (the root counts only real nodes), and Q(v) is their
mean reward. Failed programs are nodes too: leaves with reward 0 that lower their ancestors' Q.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

__all__ = ["ROOT", "NodeRecord", "Tree", "normalize_reward", "uct", "widening_limit"]

ROOT = 0
_TIE_TOL = 1e-12  # UCT values this close are a tie; sums of the same rewards in another order differ by ulps


@dataclass(frozen=True)
class NodeRecord:
    """One evaluated program as the tree sees it.

    node_id: unique, > 0 (0 is the virtual root). parent_id: 0 for seeds, else a node already in the tree.
    reward: UCT reward in [0, 1] (`normalize_reward` of the train FS), exactly 0 when failed.
    failed: the program produced no scorable factor; it stays a leaf, never selected nor expanded.
    score: the node's own train FS, used by `Tree.best_paths`; NaN for failures.
    """

    node_id: int
    parent_id: int
    reward: float
    failed: bool
    score: float


def normalize_reward(train_fs: float, scale: float = 0.1) -> float:
    """Map a train FS to a UCT reward in [0, 1]: 1 - exp(-max(fs, 0) / scale); NaN gives 0.

    Stationary: the reward depends on this FS alone, never on the rest of the run, so Q values need no
    rescaling as the run grows and a rebuilt tree gets the same numbers. Monotone and saturating: with
    scale 0.1, FS 0.05 -> 0.39, 0.1 -> 0.63, 0.2 -> 0.86, 0.3 -> 0.95; FS on daily equities sits around
    0-0.2, so that range keeps its resolution while an outlier cannot swamp a subtree's mean. FS <= 0
    (no signal; train FS is oriented, so rarely negative) scores like a failure.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if math.isnan(train_fs):
        return 0.0
    return 1.0 - math.exp(-max(train_fs, 0.0) / scale)


def uct(q: float, n: int, n_parent: int, c: float) -> float:
    """Upper confidence bound q + c * sqrt(ln(n_parent) / n) of a child visited n times; inf when n == 0."""
    if n == 0:
        return math.inf
    return q + c * math.sqrt(math.log(max(n_parent, 1)) / n)


def widening_limit(n_visits: int, k: float, alpha: float) -> int:
    """Return the most children a node visited n_visits times may have: max(1, floor(k * n_visits ** alpha))."""
    return max(1, math.floor(k * n_visits**alpha + 1e-9))  # the epsilon keeps 4 ** 0.5 -> 2 on any libm


class Tree:
    """Program tree with UCT statistics; grows only through `add`.

    c: UCT exploration constant. widening_k, widening_alpha: progressive widening, a node visited N times
    may have at most max(1, floor(widening_k * N ** widening_alpha)) children (see `widening_limit`).
    """

    def __init__(self, *, c: float = math.sqrt(2), widening_k: float = 1.0, widening_alpha: float = 0.5):
        if not (c >= 0 and widening_k > 0 and widening_alpha >= 0):
            raise ValueError(f"need c >= 0, widening_k > 0, widening_alpha >= 0; got {c}, {widening_k}, "
                             f"{widening_alpha}")
        self.c, self.widening_k, self.widening_alpha = c, widening_k, widening_alpha
        self._records: dict[int, NodeRecord] = {}  # insertion order puts every parent before its children
        self._children: dict[int, list[int]] = {ROOT: []}
        self._visits: dict[int, int] = {ROOT: 0}
        self._value: dict[int, float] = {ROOT: 0.0}
        self._depth: dict[int, int] = {ROOT: 0}
        # sum and count of the finite scores on root -> node, so a path's S_eff costs O(1)
        self._score_sum: dict[int, float] = {ROOT: 0.0}
        self._score_count: dict[int, int] = {ROOT: 0}

    @classmethod
    def from_records(cls, records: Iterable[NodeRecord], **params: float) -> Tree:
        """Build a tree by adding `records` in order (parents first, e.g. node_id order); params go to __init__."""
        tree = cls(**params)
        for record in records:
            tree.add(record)
        return tree

    def add(self, record: NodeRecord) -> None:
        """Add `record` under its parent and backpropagate: each node on root -> record gets N += 1, value += reward.

        Raises ValueError when the id is not positive or taken, the parent is unknown or failed, the reward is
        outside [0, 1], or a failed record has a non-zero reward; the engine never produces these.
        """
        self._check(record)
        node, parent = record.node_id, record.parent_id
        self._records[node] = record
        self._children[parent].append(node)
        self._children[node] = []
        self._visits[node], self._value[node] = 0, 0.0
        self._depth[node] = self._depth[parent] + 1
        finite = math.isfinite(record.score)
        self._score_sum[node] = self._score_sum[parent] + (record.score if finite else 0.0)
        self._score_count[node] = self._score_count[parent] + int(finite)
        for ancestor in self._ancestry(node):
            self._visits[ancestor] += 1
            self._value[ancestor] += record.reward

    def _check(self, record: NodeRecord) -> None:
        """Raise ValueError naming the broken invariant of `add`."""
        if record.node_id <= ROOT or record.node_id in self._records:
            raise ValueError(f"node_id {record.node_id} is not positive or already in the tree")
        if record.parent_id not in self._children:
            raise ValueError(f"node {record.node_id}: unknown parent {record.parent_id}")
        if record.parent_id != ROOT and self._records[record.parent_id].failed:
            raise ValueError(f"node {record.node_id}: parent {record.parent_id} failed and cannot be expanded")
        if not 0.0 <= record.reward <= 1.0 or (record.failed and record.reward != 0.0):
            raise ValueError(f"node {record.node_id}: reward {record.reward} (failed={record.failed}) is invalid")

    def _ancestry(self, node: int) -> Iterator[int]:
        """Yield node, its parent, ..., ROOT."""
        while node != ROOT:
            yield node
            node = self._records[node].parent_id
        yield ROOT

    @property
    def records(self) -> tuple[NodeRecord, ...]:
        """All records in the order they were added (the root has none)."""
        return tuple(self._records.values())

    def __len__(self) -> int:
        """Return the number of real nodes (the virtual root excluded)."""
        return len(self._records)

    def __contains__(self, node_id: object) -> bool:
        """Tell whether node_id is the root or an added node."""
        return node_id in self._children

    def record(self, node_id: int) -> NodeRecord:
        """Return the record of an added node (KeyError for the root or an unknown id)."""
        return self._records[node_id]

    def visits(self, node_id: int) -> int:
        """Return N: the number of nodes in node_id's subtree, itself included (root: all real nodes)."""
        return self._visits[node_id]

    def q(self, node_id: int) -> float:
        """Return Q: the mean reward over node_id's subtree; NaN for the root of an empty tree."""
        n = self._visits[node_id]
        return self._value[node_id] / n if n else math.nan

    def children(self, node_id: int) -> list[int]:
        """Return the ids of node_id's children in the order they were added, failed ones included."""
        return list(self._children[node_id])

    def path(self, node_id: int) -> list[int]:
        """Return the real nodes from the seed down to node_id (the virtual root excluded; [] for the root)."""
        return list(reversed(list(self._ancestry(node_id))[:-1]))

    def depth(self, node_id: int) -> int:
        """Return the number of edges from the root: 0 for the root, 1 for seeds; equals len(path(node_id))."""
        return self._depth[node_id]

    def select(self, rng: np.random.Generator) -> int:
        """Return the node whose new child should be evaluated next (ROOT for an empty tree).

        Descend from the root. A node is expanded (returned) when it has fewer children than its widening
        limit, or when none of its children can be descended into (no children, or all failed); otherwise
        move to the non-failed child with the highest UCT, ties (within 1e-12) broken uniformly with `rng`.
        Failed children count toward the limit (each was an expansion) and toward Q, but are never entered.
        `rng` is drawn from only on ties.
        """
        node = ROOT
        while True:
            children = self._children[node]
            open_children = [child for child in children if not self._records[child].failed]
            limit = widening_limit(self._visits[node], self.widening_k, self.widening_alpha)
            if not open_children or len(children) < limit:
                return node
            node = self._best_child(node, open_children, rng)

    def _best_child(self, node: int, candidates: list[int], rng: np.random.Generator) -> int:
        """Return the candidate child of node with the highest UCT, ties broken with rng."""
        n_parent = self._visits[node]
        values = [uct(self.q(child), self._visits[child], n_parent, self.c) for child in candidates]
        best = max(values)
        tied = [child for child, value in zip(candidates, values) if value >= best - _TIE_TOL]
        return tied[0] if len(tied) == 1 else tied[int(rng.integers(len(tied)))]

    def best_paths(self, current: int, k: int = 3, alpha: float = 0.5, beta: float = 0.5) -> list[list[int]]:
        """Choose up to k paths of successful nodes for the chain of experience; each is path(end), best first.

        A candidate path P (root excluded, seed first) scores S_total = S_eff - S_cov: S_eff is the mean
        `score` of its nodes (NaN scores skipped; a path with none finite is no candidate) and
        S_cov = alpha * |P & R| / |P| + beta * |P & R| / |R| (the beta term is 0 while R is empty). R starts as
        the current chain path(current) and grows by the nodes of each chosen path, so later picks spread to
        other branches. A path whose nodes are all in R adds nothing and is skipped (the current chain and its
        prefixes, prefixes of chosen paths). Equal S_total goes to the smaller node_id. Costs O(k * nodes).
        """
        covered = set(self.path(current))
        chosen: list[list[int]] = []
        for _ in range(k):
            end = self._best_path_end(covered, alpha, beta)
            if end is None:
                break
            chosen.append(self.path(end))
            covered.update(chosen[-1])
        return chosen

    def _best_path_end(self, covered: set[int], alpha: float, beta: float) -> int | None:
        """Return the end node of the best new path against the covered set R, or None if there is none."""
        overlap = {ROOT: 0}
        best_end, best_total = None, -math.inf
        for node, record in self._records.items():  # parents come first, so overlap[parent] is known
            overlap[node] = overlap[record.parent_id] + (node in covered)
            length, shared = self._depth[node], overlap[node]
            if record.failed or shared == length or self._score_count[node] == 0:
                continue
            s_eff = self._score_sum[node] / self._score_count[node]
            s_cov = alpha * shared / length + (beta * shared / len(covered) if covered else 0.0)
            total = s_eff - s_cov
            if best_end is None or total > best_total or (total == best_total and node < best_end):
                best_end, best_total = node, total
        return best_end
