"""What the dashboard's page shows of a run at a glance, read from its store as one typed value: progress per
island, FS curves, the tree, the top programs, failures, LLM use and tuning. Test FS only for a harvested run."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from factorengine.harvest.figures import (Curve, TuningSummary, fs_curves, islands, node_scores, top_programs,
                                          tuning_summary)
from factorengine.store import Duplicate, LLMFallback, LLMTotals, NodeRow, ProposalFailed, Store

TOP = 10
LATEST = 3  # failure messages shown per kind
IDEA_CHARS = 100  # an idea is cut to this length in the tree and the top programs (a node shows it whole)


@dataclass(frozen=True)
class RunHeader:
    """Where a run stands: its data, plan, iterations each island committed and when it last committed."""

    run_dir: str
    data: str
    fingerprint: str
    created_at: float  # seconds since the epoch
    proposer: str
    n_islands: int
    iterations: int  # search iterations planned per island, after the seeds
    done: Mapping[int, int]  # island -> iterations committed (seeds included)
    nodes: int
    last_commit: float | None  # the newest node's time, seconds since the epoch; None without nodes
    harvested: bool


@dataclass(frozen=True)
class TreeNode:
    """A node as the tree lists it."""

    node_id: int
    parent_id: int | None
    island: int
    iteration: int
    depth: int
    kind: str
    failed: bool
    train_fs: float
    valid_fs: float
    idea: str


@dataclass(frozen=True)
class TopProgram:
    """One of the best programs by valid FS; `test_fs` is NaN until the run is harvested."""

    node_id: int
    island: int
    kind: str
    depth: int
    train_fs: float
    valid_fs: float
    test_fs: float
    idea: str


@dataclass(frozen=True)
class Failures:
    """Failed evaluations per kind with the newest messages, and proposals skipped or failed before evaluation."""

    by_kind: Mapping[str, int]
    latest: Mapping[str, tuple[tuple[int, str], ...]]  # kind -> (node_id, reason), newest first
    duplicates: int
    proposals_failed: int
    latest_proposal_failures: tuple[str, ...]  # newest first


@dataclass(frozen=True)
class LLMUsage:
    """The LLM calls' totals, fallbacks to mutate, and running sums over time (one entry per call, oldest first)."""

    totals: LLMTotals
    fallbacks: int
    times: tuple[float, ...]  # seconds since the epoch
    cumulative_tokens: tuple[int, ...]
    cumulative_cost_usd: tuple[float, ...]


@dataclass(frozen=True)
class Overview:
    """Everything the page shows of a run apart from a node's details and the harvest."""

    run: RunHeader
    curves: tuple[Curve, ...]
    tree: tuple[TreeNode, ...]
    top: tuple[TopProgram, ...]
    failures: Failures
    llm: LLMUsage
    tuning: TuningSummary


def read_overview(store: Store, run_dir: Path, *, harvested: bool) -> Overview:
    """Read the overview from one commit of the store; test FS only when `harvested`."""
    with store.snapshot():
        nodes = store.nodes()
        scores = node_scores(store, nodes)
        top = top_programs(store, nodes, TOP)
        tested = node_scores(store, top, include_test=harvested)
        return Overview(_header(store, run_dir, nodes, harvested), tuple(fs_curves(nodes, scores)),
                        tuple(_tree_node(n, scores[n.node_id]) for n in nodes),
                        tuple(_top_program(n, tested[n.node_id]) for n in top), _failures(store), _llm(store),
                        tuning_summary(store.tunings(), store.trials()))


def _header(store: Store, run_dir: Path, nodes: list[NodeRow], harvested: bool) -> RunHeader:
    info = store.run_info()
    config = info.config
    data = config.get("data", {})
    n_islands = int(config.get("islands", {}).get("n_islands", 1))
    return RunHeader(str(run_dir), data.get("path") or f"synthetic market (seed {data.get('synthetic_seed')})",
                     info.fingerprint, info.created_at, config.get("search", {}).get("proposer", ""), n_islands,
                     config.get("search", {}).get("iterations", 0),
                     {i: store.progress(i) + 1 for i in sorted({*range(n_islands), *islands(nodes)})}, len(nodes),
                     max((n.created_at for n in nodes), default=None), harvested)


def _tree_node(node: NodeRow, scores: Mapping[str, float]) -> TreeNode:
    return TreeNode(node.node_id, node.parent_id, node.island, node.iteration, node.depth, node.kind, node.failed,
                    scores["train"], scores["valid"], node.idea[:IDEA_CHARS])


def _top_program(node: NodeRow, scores: Mapping[str, float]) -> TopProgram:
    return TopProgram(node.node_id, node.island, node.kind, node.depth, scores["train"], scores["valid"],
                      scores.get("test", math.nan), node.idea[:IDEA_CHARS])


def _failures(store: Store) -> Failures:
    proposals = store.events(ProposalFailed)
    return Failures({kind.value: n for kind, n in store.count_failures_by_kind().items()},
                    {kind.value: tuple((node_id, reason or "") for node_id, reason in latest)
                     for kind, latest in store.latest_failures(LATEST).items()},
                    len(store.events(Duplicate)), len(proposals),
                    tuple(e.payload.detail for e in proposals[::-1][:LATEST]))


def _llm(store: Store) -> LLMUsage:
    totals, uses = store.llm_totals(), store.llm_uses()
    return LLMUsage(totals, len(store.events(LLMFallback)), tuple(u.time for u in uses),
                    tuple(accumulate(u.tokens for u in uses)), tuple(accumulate(u.cost_usd for u in uses)))
