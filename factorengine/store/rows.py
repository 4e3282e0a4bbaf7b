"""The typed rows a run database holds: what goes in and comes out of the store, one frozen value per table."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Mapping

import numpy as np

from factorengine.score.failure import FailureKind
from factorengine.score.metrics import SegmentMetrics

__all__ = ["OK", "EvaluationRow", "ExperienceRow", "LLMCallRow", "LLMTotals", "LLMUse", "NodeRow", "Params",
           "ProfileRow", "RunInfo", "Status", "TrialRow", "TuningRow"]

OK = "ok"  # the status of an evaluation or trial that was scored
Status = Literal["ok"] | FailureKind
Params = Mapping[str, "int | float"]


@dataclass(frozen=True)
class RunInfo:
    """The run's single header row; `created_at` is seconds since the epoch."""

    created_at: float
    config: Mapping[str, Any]
    fingerprint: str
    seed: int
    notes: str
    schema_version: int


@dataclass(frozen=True)
class NodeRow:
    """A tree node: an evaluated program, its lineage and its normalized search reward."""

    node_id: int
    parent_id: int | None  # None: a child of the (virtual) root
    island: int
    iteration: int
    depth: int
    program_id: str
    params: Params
    idea: str
    kind: str  # "seed", "migrant" or the mutation kind
    reward: float  # 0 for failed programs, NaN if unknown
    failed: bool
    created_at: float | None = None  # seconds since the epoch; None on input: now, by the store's clock


@dataclass(frozen=True)
class EvaluationRow:
    """How a node's program scored with the node's params: oriented metrics per segment, None when failed."""

    node_id: int
    status: Status
    failure_reason: str | None
    train: SegmentMetrics | None
    valid: SegmentMetrics | None
    test: SegmentMetrics | None  # None unless read with `include_test=True`
    orientation: int | None  # +1/-1, None when failed
    seconds: float

    def fs(self, segment: Literal["train", "valid", "test"]) -> float:
        """The FS on `segment`; NaN when the program failed (or, for test, when test was not read)."""
        metrics = {"train": self.train, "valid": self.valid, "test": self.test}[segment]
        return math.nan if metrics is None else metrics.fs


@dataclass(frozen=True)
class ExperienceRow:
    """What a node changed relative to its parent, why, and what happened: text for the next prompts."""

    node_id: int
    change: str
    why: str
    outcome: str
    category: str = ""  # the proposer's label for the idea (momentum, reversal, ...)
    lesson: str = ""  # the reflection on the outcome: why the change helped or hurt


@dataclass(frozen=True)
class LLMCallRow:
    """One answered (or given-up) request to the LLM, stored under the hash of its content.

    request: the JSON body sent (never a key or header); content: the answer, None when the call failed
    (`error` says why); cost_usd from the configured price table.
    """

    key: str
    purpose: str
    island: int | None
    model: str
    request: Mapping[str, Any]
    content: str | None
    finish_reason: str | None
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    seconds: float


@dataclass(frozen=True, eq=False)
class ProfileRow:
    """How new a node's program is: its value fingerprint, level exposures and the reward penalty they set.

    structural / correlation: the largest structural similarity and |value correlation| to the island's best
    programs when the node was added; penalty: the factor its reward was multiplied by.
    """

    node_id: int
    fingerprint: np.ndarray  # float32, see factorengine.score.novelty
    exposures: Mapping[str, float]
    level_bet: bool
    structural: float
    correlation: float
    penalty: float


@dataclass(frozen=True)
class LLMTotals:
    """What the LLM calls of a run added up to (replayed calls included)."""

    calls: int
    failed: int
    tokens: int
    cost_usd: float
    by_purpose: Mapping[str, int]
    by_model: Mapping[str, tuple[int, float]]  # model -> (calls, USD)


@dataclass(frozen=True)
class LLMUse:
    """One LLM call as its use over time counts it: when it was stored (seconds since the epoch), what for, tokens
    (prompt and completion), cost, and whether it failed."""

    time: float
    purpose: str
    tokens: int
    cost_usd: float
    failed: bool


NEIGHBOURS = 4  # trials nearest the best one that a TuningRow's neighbour_drop (its robustness) is measured on


@dataclass(frozen=True)
class TuningRow:
    """How a node's parameters were tuned: the program as proposed, the knobs lifted, the study's outcome."""

    node_id: int
    proposed_id: str  # program id before lifting and tuning
    lifted: tuple[Mapping[str, Any], ...]  # each {"name", "value", "line", "context", "reason", "low", "high"}
    n_trials: int
    best_trial: int | None  # None when no trial scored
    default_fs: float  # train FS of trial 0 (the proposed defaults); NaN when it failed
    best_fs: float
    neighbour_drop: float  # relative fall of train FS from the best trial to its NEIGHBOURS nearest; NaN when unknown
    stop: str  # "budget", "patience" or "refused"
    seconds: float


@dataclass(frozen=True)
class TrialRow:
    """One tuning trial of a node: parameters, train FS (NaN when failed) and status."""

    node_id: int
    number: int
    params: Params
    train_fs: float
    status: Status
    failure_reason: str | None
    repeat_of: int | None  # the earlier trial with the same parameters (not run again)
    seconds: float
