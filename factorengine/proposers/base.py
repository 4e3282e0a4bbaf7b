"""The proposer interface: what a proposer is shown (a chain of experience) and what it hands back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from factorengine.score.metrics import SegmentMetrics
from factorengine.store import ModelPull


@dataclass(frozen=True)
class Step:
    """One evaluated program on a path of the tree, as shown to a proposer.

    train_fs / robust_fs / valid_fs: fitness scores (robust_fs: train's fold FS mean less its standard error, what
    the search ranks by), None when not evaluated; failure: why the program failed, None if it ran;
    outcome: what the change did, in words; lesson: the reflection on it; train / valid: the segments' metrics.
    """

    code: str
    idea: str
    train_fs: float | None = None
    valid_fs: float | None = None
    robust_fs: float | None = None
    failure: str | None = None
    outcome: str = ""
    lesson: str = ""
    train: SegmentMetrics | None = None
    valid: SegmentMetrics | None = None


@dataclass(frozen=True)
class Context:
    """What a proposer sees: the selected program and the steps from its seed to it (`lineage`, itself
    excluded), the best few root-to-node paths, the recent failures, the island's best program and the program the
    latest rejected proposal repeated."""

    parent: Step
    chain: tuple[tuple[Step, ...], ...] = ()
    failures: tuple[Step, ...] = ()
    best: Step | None = None
    repeated: Step | None = None
    lineage: tuple[Step, ...] = ()
    pulls: tuple[ModelPull, ...] = ()  # the island's past LLM proposals by model, for the model bandit


@dataclass(frozen=True)
class Proposal:
    """A new program: the whole module text, one line on what changed, the kind of change and why.

    category labels the idea (momentum, reversal, ...); lesson is what the proposer concluded from the context;
    model and cost_usd: the LLM that wrote it and what its requests cost ("" and 0 for offline proposals).
    """

    code: str
    idea: str
    kind: str
    hypothesis: str = ""
    category: str = ""
    lesson: str = ""
    model: str = ""
    cost_usd: float = 0.0


@dataclass(frozen=True)
class ProposalFailure:
    """No valid program could be proposed; `reason` is fit for the event log and the next prompt.

    stop: the proposer cannot go on (its budget is spent) and the run should end; model and cost_usd: the LLM
    that failed to propose and what its requests cost.
    """

    reason: str
    stop: bool = False
    model: str = ""
    cost_usd: float = 0.0


class Proposer(Protocol):
    """Turns a context into a proposal.

    Contract: deterministic for a given context and generator state (all randomness from `rng`); a returned
    Proposal passes the static policy and parse_program and differs from the parent's program_id; expected
    failures come back as ProposalFailure, never as exceptions.
    """

    def propose(self, context: Context, rng: np.random.Generator) -> Proposal | ProposalFailure:
        """Return a new program derived from context.parent, or why none could be made."""
        ...

    def reflect(self, parent: Step, proposal: Proposal, outcome: str, rng: np.random.Generator) -> str:
        """Return a lesson on what `proposal` did to `parent` ("" when the outcome text says it all)."""
        ...
