"""The values one iteration passes between its stages, and the record it commits.

propose -> check (Candidate, or a Rejection, or a program that failed to parse) -> score (Scored or a
Rejection) -> assess and record (Record) -> commit. Every stage returns one of these; only the commit writes.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

from factorengine.program import LiftedKnob, Number, Param, Program
from factorengine.proposers.base import Proposal, ProposalFailure
from factorengine.score.evaluate import Evaluation
from factorengine.score.novelty import Assessment, Profile
from factorengine.search.tune import Tuned
from factorengine.store import (OK, Duplicate, EvaluationRow, ExperienceRow, ModelPull, NodeRow, ProfileRow,
                                ProposalFailed, TrialRow, TuningRow)

REJECTIONS = (ProposalFailed, Duplicate)  # events that tell the proposer what not to propose again


Rejection = ProposalFailed | Duplicate  # an iteration that adds no node, recorded as this event


@dataclass(frozen=True)
class Candidate:
    """A proposal that parsed and repeats no node: the program to score (knobs lifted) and what was proposed."""

    program: Program
    proposed_id: str
    lifted: tuple[LiftedKnob, ...] = ()


@dataclass(frozen=True)
class Scored:
    """A program's final evaluation on train and valid, the code stored for it, and how it got there."""

    code: str
    evaluation: Evaluation
    tuned: Tuned | None = None
    candidate: Candidate | None = None  # None for a proposal that did not parse

    @property
    def train_fs(self) -> float:
        """Train FS, NaN when the program failed."""
        return math.nan if self.evaluation.fitness is None else self.evaluation.fitness.train.fs

    @property
    def robust_fs(self) -> float:
        """Robust train FS (what the search ranks by), NaN when the program failed."""
        return math.nan if self.evaluation.fitness is None else self.evaluation.fitness.train.robust_fs

    @property
    def valid_fs(self) -> float:
        """Valid FS, NaN when the program failed."""
        return math.nan if self.evaluation.fitness is None else self.evaluation.fitness.valid.fs

    @property
    def trials(self) -> int:
        """Tuning trials run (0 when untuned)."""
        return 0 if self.tuned is None else len(self.tuned.trials)


@dataclass(frozen=True)
class Record:
    """Everything an iteration that adds a node commits, in one transaction."""

    node: NodeRow
    code: str
    evaluation: EvaluationRow
    experience: ExperienceRow
    tuning: tuple[TuningRow, tuple[TrialRow, ...]] | None = None
    profile: ProfileRow | None = None
    pull: ModelPull | None = None  # what the LLM that proposed it cost and gained


def evaluation_row(node_id: int, evaluation: Evaluation) -> EvaluationRow:
    """The stored form of a node's evaluation."""
    fitness = evaluation.fitness
    if fitness is None:
        return EvaluationRow(node_id, evaluation.failure, evaluation.error, None, None, None, None, evaluation.seconds)
    return EvaluationRow(node_id, OK, None, fitness.train, fitness.valid, fitness.test, fitness.orientation,
                         evaluation.seconds)


def tuning_rows(node_id: int, scored: Scored) -> tuple[TuningRow, tuple[TrialRow, ...]] | None:
    """The stored form of a node's tuning study, None when it was not tuned."""
    tuned, candidate = scored.tuned, scored.candidate
    if tuned is None or candidate is None:
        return None
    best = tuned.best
    tuning = TuningRow(node_id, candidate.proposed_id, tuple(asdict(knob) for knob in candidate.lifted),
                       len(tuned.trials), None if best is None else best.number, tuned.trials[0].train_fs,
                       math.nan if best is None else best.train_fs, tuned.neighbour_drop, tuned.stop, tuned.seconds)
    trials = tuple(TrialRow(node_id, t.number, t.params, t.train_fs, t.evaluation.failure or OK, t.evaluation.error,
                            t.repeat_of, 0.0 if t.repeat_of is not None else t.evaluation.seconds)
                   for t in tuned.trials)
    return tuning, trials


def model_pull(proposal: Proposal | ProposalFailure, gain: float = 0.0) -> ModelPull | None:
    """What an LLM proposal cost and gained over its parent, for the model bandit; None for offline proposals."""
    return ModelPull(proposal.model, proposal.cost_usd, gain) if proposal.model else None


def profile_row(node_id: int, profile: Profile, assessment: Assessment) -> ProfileRow:
    """The stored form of a node's value profile and novelty assessment."""
    return ProfileRow(node_id, profile.fingerprint, dict(profile.exposures), assessment.level_bet,
                      assessment.structural, assessment.correlation, assessment.penalty)


def outcome(scored: Scored, parent: tuple[float, float] | None, assessment: Assessment | None) -> str:
    """What the iteration did, in words for the next prompts; `parent`: the edited program's (robust train, valid)
    FS."""
    evaluation, tuned = scored.evaluation, scored.tuned
    if evaluation.fitness is None:
        return f"failed ({evaluation.failure}): {evaluation.error}"
    train, valid = scored.robust_fs, scored.valid_fs
    if parent is None:
        text = f"robust train FS {train:.4f}, valid FS {valid:.4f}"
    else:
        text = f"robust train FS {parent[0]:.4f} -> {train:.4f}, valid FS {parent[1]:.4f} -> {valid:.4f}"
    if tuned is not None and tuned.best is not None:  # trial scores, which may read a sample of the stocks
        moves = tuning_moves(tuned.program.params, tuned.trials[0].params, tuned.best.params)
        trials = f"{len(tuned.trials)} trials"
        text += (f"; tuned ({trials}) {tuned.trials[0].robust_fs:.4f} -> {tuned.best.robust_fs:.4f}: {moves}" if moves
                 else f"; tuning ({trials}) kept the proposed values")
    if assessment is not None and assessment.describe():
        text += f"; {assessment.describe()}"
    return text


def tuning_moves(params: Sequence[Param], proposed: Mapping[str, Number], tuned: Mapping[str, Number]) -> str:
    """The parameters tuning moved, proposed -> tuned [range], flagged where the tuned value sits at an end of its
    range or near zero ("" when none moved)."""
    moves = []
    for p in params:
        before, after = proposed.get(p.name), tuned.get(p.name)
        if before is None or after is None or before == after:
            continue
        edge = 0.02 * (p.high - p.low)
        flags = [flag for flag, holds in (("at its low end", after <= p.low + edge),
                                          ("at its high end", after >= p.high - edge),
                                          ("near zero", p.kind == "float" and p.low < 0 < p.high
                                           and abs(after) <= edge)) if holds]
        moves.append(f"{p.name} {before:g} -> {after:g} [{p.low:g}, {p.high:g}]{''.join(' ' + f for f in flags)}")
    return ", ".join(moves)
