"""One island's search: select, propose, check, evaluate, record, backpropagate, commit; resumable."""
from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Iterator, Mapping, Sequence

import numpy as np

from factorengine.config import RunConfig
from factorengine.score.evaluate import Evaluation, Evaluator
from factorengine.score.failure import FailureKind
from factorengine.data import SEGMENTS
from factorengine.program.lift import LiftedKnob, lift_knobs
from factorengine.search.migration import Exchange, Migrant, choose_emigrants, migration_round, round_iteration
from factorengine.score.novelty import Assessment, Crowd, Profile
from factorengine.program.source import ProgramError, parse_program, shape_id
from factorengine.proposers.base import Context, Proposal, ProposalFailure, Proposer, Step
from factorengine.store import (OK, Duplicate, EvaluationRow, ExperienceRow, Migration, NodeRow, ProfileRow,
                               ProposalFailed, Stopped, Store, TrialRow, TuningRow)
from factorengine.search.tree import ROOT, NodeRecord, Tree, normalize_reward
from factorengine.search.tune import Tuned, Tuner

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Seed:
    """A seed program: its name (file stem) and source."""

    name: str
    code: str


ISLAND_STRIDE = 1_000_000_000
RECENT_FAILURES = 3  # failed programs and rejected proposals shown to the proposer
REJECTIONS = (ProposalFailed, Duplicate)  # events that tell the proposer what not to propose again
STOPPED = Stopped.kind  # StepResult.failure when the proposer ended the run


@dataclass(frozen=True)
class NodeView:
    """A stored node with what the search reads of it: code, train/valid FS, failure reason and experience."""

    row: NodeRow
    code: str
    train_fs: float
    valid_fs: float
    failure_reason: str | None
    outcome: str = ""
    lesson: str = ""


@dataclass(frozen=True)
class StepResult:
    """What one iteration did: the node it added (None when nothing was evaluated) and its scores."""

    iteration: int
    node_id: int | None
    failure: str | None
    train_fs: float
    valid_fs: float
    seconds: float
    trials: int = 0  # tuning trials run for the node (or for a proposal screened out as a duplicate)

    @property
    def evaluations(self) -> int:
        """Sandbox evaluations the iteration cost: its trials, or one for a program scored untuned."""
        return self.trials or int(self.node_id is not None)


class Island:
    """The search loop of one island over a run store; every random draw derives from (seed, island, iteration).

    Iterations 0..len(seeds)-1 evaluate the seeds as children of the root; later ones grow the tree. Each
    iteration commits in one transaction, so a killed run resumes from the last committed iteration and
    reaches the same tree as one never interrupted. With an exchange (several islands), every
    `migration_interval` search iterations the island publishes its best programs and adds its neighbours'
    as migrant children of the root, in one more transaction.
    """

    def __init__(self, *, config: RunConfig, store: Store, evaluator: Evaluator, proposer: Proposer,
                 seeds: Sequence[Seed], island: int = 0) -> None:
        self.config, self.store, self.evaluator, self.proposer = config, store, evaluator, proposer
        self.seeds, self.island = tuple(seeds), island
        search = config.search
        self._tuning = config.tuning.n_trials > 0
        self._tuner = Tuner(evaluator, config.tuning)
        self._nodes = {row.node_id: self._view(row) for row in store.nodes(island=island)}
        self._keys = {self._key(view.code, view.row.program_id): node for node, view in self._nodes.items()}
        self._received = {e.payload.round for e in store.events(Migration) if e.island == island}
        rejections = [e for kind in REJECTIONS for e in store.events(kind) if e.island == island]
        self._rejections = [(e.iteration, e.payload.detail) for e in sorted(rejections, key=lambda e: e.seq)]
        self._crowd = Crowd(config.novelty)
        for node_id, row in store.profiles(island=island).items():
            self._crowd.add(node_id, Profile(row.fingerprint, row.exposures), self._nodes[node_id].code)
        self._evaluations = self._evaluations_so_far()
        self.tree = Tree.from_records((_record(view) for view in self._nodes.values()),
                                      c=search.exploration, widening_k=search.widening_k,
                                      widening_alpha=search.widening_alpha)

    @property
    def total_iterations(self) -> int:
        """Seeds plus search iterations."""
        return len(self.seeds) + self.config.search.iterations

    def run(self, *, deadline: float | None = None, exchange: Exchange | None = None) -> Iterator[StepResult]:
        """Run the remaining iterations, yielding each; stops early on patience, the evaluation budget, the
        deadline or a stop request."""
        best, since_best = self._best_valid()
        patience, budget = self.config.search.patience, self.config.search.max_evaluations
        if exchange is not None:
            self._catch_up(exchange)
        for iteration in range(self.store.progress(self.island) + 1, self.total_iterations):
            if (patience and since_best >= patience) or (budget and self._evaluations >= budget) \
                    or (deadline is not None and time.monotonic() > deadline) \
                    or (exchange is not None and exchange.should_stop()):
                return
            result = self.step(iteration)
            self._evaluations += result.evaluations
            yield result
            if result.failure == STOPPED:
                return
            if result.valid_fs > best:
                best, since_best = result.valid_fs, 0
            elif iteration >= len(self.seeds):
                since_best += 1
            if exchange is not None:
                exchange.beat()
                round = migration_round(iteration, len(self.seeds), self.config.islands.migration_interval)
                if round is not None:
                    self._migrate(exchange, round)

    def _catch_up(self, exchange: Exchange) -> None:
        """After a restart: publish every past round again (a neighbour may still need it), receive missed ones."""
        searched = max(0, self.store.progress(self.island) - len(self.seeds) + 1)
        rounds = range(1, searched // self.config.islands.migration_interval + 1)
        for round in rounds:
            exchange.publish(round, self._emigrants(round))
        for round in rounds:
            if round not in self._received:
                self._receive(round, exchange.collect(round))

    def _migrate(self, exchange: Exchange, round: int) -> None:
        exchange.publish(round, self._emigrants(round))
        self._receive(round, exchange.collect(round))

    def _emigrants(self, round: int) -> list[Migrant]:
        """This island's best own programs as of the round's iteration, with their recorded evaluations."""
        up_to = round_iteration(round, len(self.seeds), self.config.islands.migration_interval)
        fs = {n: (v.train_fs, v.valid_fs) for n, v in self._nodes.items()}
        chosen = choose_emigrants([v.row for v in self._nodes.values()], fs, up_to, self.config.islands.migrants)
        return [Migrant(self.island, row.node_id, row.program_id, self._nodes[row.node_id].code, row.params,
                        row.idea, self.store.evaluation(row.node_id, include_test=True)) for row in chosen]

    def _receive(self, round: int, payloads: Mapping[int, Sequence[Migrant]]) -> None:
        """Add the neighbours' programs as migrant children of the root (duplicates skipped), in one commit."""
        iteration = round_iteration(round, len(self.seeds), self.config.islands.migration_interval)
        arrivals: list[tuple[NodeView, Migrant]] = []
        record = []
        for source in sorted(payloads):
            for migrant in payloads[source]:
                key, node_id = self._key(migrant.code, migrant.program_id), None
                if key not in self._keys:
                    node_id = self._keys[key] = self._next_node_id() + len(arrivals)
                    arrivals.append((self._migrant_view(node_id, iteration, migrant), migrant))
                record.append((source, migrant.node_id, node_id))
        profiles = {view.row.node_id: self.store.profile(migrant.node_id) for view, migrant in arrivals}
        with self.store.transaction():
            for view, migrant in arrivals:
                self.store.add_program(migrant.program_id, migrant.code)
                self.store.add_node(view.row)
                self.store.add_evaluation(replace(migrant.evaluation, node_id=view.row.node_id, seconds=0.0))
                if profiles[view.row.node_id] is not None:
                    self.store.add_profile(replace(profiles[view.row.node_id], node_id=view.row.node_id))
                self.store.add_experience(ExperienceRow(view.row.node_id, view.row.idea, "migration",
                                                        f"train FS {view.train_fs:.4f}, valid FS {view.valid_fs:.4f} "
                                                        f"on island {migrant.island}"))
            self.store.add_event(Migration(round, tuple(record)), island=self.island, iteration=iteration)
        for view, _ in arrivals:
            self._nodes[view.row.node_id] = view
            self.tree.add(_record(view))
            if (profile := profiles[view.row.node_id]) is not None:
                self._crowd.add(view.row.node_id, Profile(profile.fingerprint, profile.exposures), view.code)
        self._received.add(round)

    def _migrant_view(self, node_id: int, iteration: int, migrant: Migrant) -> NodeView:
        train_fs, valid_fs = migrant.evaluation.train.fs, migrant.evaluation.valid.fs
        row = NodeRow(node_id=node_id, parent_id=None, island=self.island, iteration=iteration, depth=1,
                      program_id=migrant.program_id, params=dict(migrant.params),
                      idea=f"migrant from island {migrant.island} (node {migrant.node_id}): {migrant.idea}",
                      kind="migrant", reward=normalize_reward(train_fs, self.config.search.reward_scale), failed=False)
        return NodeView(row, migrant.code, train_fs, valid_fs, None)

    def _next_node_id(self) -> int:
        """Node ids are unique across islands: island i numbers its nodes from i * ISLAND_STRIDE + 1."""
        return max(self._nodes, default=self.island * ISLAND_STRIDE) + 1

    def step(self, iteration: int) -> StepResult:
        """Run and commit one iteration."""
        start = time.monotonic()
        rng = np.random.default_rng([self.config.search.seed, self.island, iteration])
        edited: Step | None = None  # the program the proposal changed (none for a seed)
        if iteration < len(self.seeds):
            seed = self.seeds[iteration]
            parent, proposal = ROOT, Proposal(code=seed.code, idea=f"seed {seed.name}", kind="seed")
        else:
            parent = self._random_seed(rng) if self.config.search.selection == "random" else self.tree.select(rng)
            context = self._context(parent, rng)
            proposal = (ProposalFailure("no program ran successfully yet, so there is nothing to edit")
                        if context is None else self.proposer.propose(context, rng))
            edited = None if context is None else context.parent
        if isinstance(proposal, ProposalFailure) and proposal.stop:
            return self._stop(iteration, proposal.reason, start)
        if isinstance(proposal, ProposalFailure):
            return self._commit_event(iteration, ProposalFailed(proposal.reason), start)
        return self._evaluate_and_commit(iteration, parent, proposal, start, rng, edited)

    def _random_seed(self, rng: np.random.Generator) -> int:
        """A uniformly random seed program that ran (ROOT when none did)."""
        seeds = (self._nodes[n].row for n in self.tree.children(ROOT))
        live = [row.node_id for row in seeds if row.kind == "seed" and not row.failed]
        return int(live[rng.integers(len(live))]) if live else ROOT

    def _context(self, parent: int, rng: np.random.Generator) -> Context | None:
        """The proposer's view: the parent program (a random live seed when the root expands), best paths and the
        recent failures (failed programs and rejected proposals)."""
        if parent == ROOT:
            live = [n for n in self.tree.children(ROOT) if not self.tree.record(n).failed]
            if not live:
                return None
            parent = int(live[rng.integers(len(live))])
        paths = self.tree.best_paths(parent, k=self.config.search.context_paths)
        chain = tuple(tuple(self._step_of(n) for n in path) for path in paths)
        failed = [(v.row.iteration, self._step_of(n)) for n, v in self._nodes.items() if v.row.failed]
        rejected = [(i, Step(code="", idea="a proposal was not evaluated", outcome=reason))
                    for i, reason in self._rejections]
        recent = sorted(failed + rejected, key=lambda item: item[0])[-RECENT_FAILURES:]
        return Context(parent=self._step_of(parent), chain=chain, failures=tuple(step for _, step in recent))

    def _view(self, row: NodeRow) -> NodeView:
        evaluation, experience = self.store.evaluation(row.node_id), self.store.experience(row.node_id)
        fs = (evaluation.fs("train"), evaluation.fs("valid")) if evaluation else (math.nan, math.nan)
        return NodeView(row, self.store.program(row.program_id) or "", *fs,
                        evaluation.failure_reason if evaluation else None,
                        experience.outcome if experience else "", experience.lesson if experience else "")

    def _step_of(self, node_id: int) -> Step:
        view = self._nodes[node_id]
        return Step(code=view.code, idea=view.row.idea, train_fs=_nan_to_none(view.train_fs),
                    valid_fs=_nan_to_none(view.valid_fs), failure=view.failure_reason, outcome=view.outcome,
                    lesson=view.lesson)

    def _evaluate_and_commit(self, iteration: int, parent: int, proposal: Proposal, start: float,
                             rng: np.random.Generator, edited: Step | None) -> StepResult:
        tuned: Tuned | None = None
        lifted: tuple[LiftedKnob, ...] = ()
        try:
            program = proposed = parse_program(proposal.code)
        except ProgramError as exc:
            evaluation = Evaluation("<proposal>", hashlib.sha256(proposal.code.encode()).hexdigest()[:16],
                                    {}, None, FailureKind.PROGRAM, str(exc), 0.0)
            code = proposal.code
        else:
            if self._tuning and self.config.tuning.lift_knobs:
                program, lifted = lift_knobs(program)
            key = self._key(program.source, program.program_id)
            if key in self._keys:
                return self._commit_event(iteration, Duplicate(f"duplicate of node {self._keys[key]} (the same "
                                          f"code{' up to its parameters' if self._tuning else ''})"), start)
            if self._tuning:
                tuned = self._tuner.tune(program, seed=int(rng.integers(2 ** 32)), screen=self._screen)
                if tuned.screened is not None:
                    return self._commit_event(iteration, Duplicate(tuned.screened, len(tuned.trials)), start)
                program = tuned.program
            first = tuned.trials[0].evaluation if tuned is not None else None
            if first is not None and first.fitness is None and tuned.best is None:  # nothing ran: keep why
                evaluation = first
            else:  # trial 0 ran the probe: parameters other than its own must pass it too before being stored
                probed = first is not None and program.defaults == first.params
                [evaluation] = self.evaluator.evaluate(program, [program.defaults], segments=SEGMENTS,
                                                       probe=not probed)
            code = program.source
            if not self._tuning and (duplicate := self._screen(evaluation)) is not None:
                return self._commit_event(iteration, Duplicate(duplicate, 1), start)
        node_id = self._next_node_id()
        failed = evaluation.fitness is None
        train_fs = math.nan if failed else evaluation.fitness.train.fs
        valid_fs = math.nan if failed else evaluation.fitness.valid.fs
        assessment = None if evaluation.profile is None else self._crowd.assess(code, evaluation.profile,
                                                                                 self._elites())
        reward = 0.0 if failed else normalize_reward(train_fs, self.config.search.reward_scale)
        reward *= 1.0 if assessment is None else assessment.penalty
        row = NodeRow(node_id=node_id, parent_id=None if parent == ROOT else parent, island=self.island,
                      iteration=iteration, depth=self.tree.depth(parent) + 1, program_id=evaluation.program_id,
                      params=dict(evaluation.params), idea=proposal.idea, kind=proposal.kind, reward=reward,
                      failed=failed)
        outcome = self._outcome(parent, evaluation, tuned, assessment)
        reflection = "" if edited is None else self.proposer.reflect(edited, proposal, outcome, rng)
        lesson = reflection or proposal.lesson
        with self.store.transaction():
            self.store.add_program(evaluation.program_id, code)
            self.store.add_node(row)
            self.store.add_evaluation(_evaluation_row(node_id, evaluation))
            if tuned is not None:
                self.store.add_tuning(*_tuning_rows(node_id, proposed.program_id, lifted, tuned))
            self.store.add_experience(ExperienceRow(node_id, proposal.idea, proposal.hypothesis, outcome,
                                                    proposal.category, lesson))
            if assessment is not None:
                self.store.add_profile(_profile_row(node_id, evaluation.profile, assessment))
            self.store.set_progress(self.island, iteration)
        view = NodeView(row, code, train_fs, valid_fs, evaluation.error, outcome, lesson)
        self._nodes[node_id] = view
        self._keys[self._key(code, evaluation.program_id)] = node_id
        if evaluation.profile is not None:
            self._crowd.add(node_id, evaluation.profile, code)
        self.tree.add(_record(view))
        logger.debug("iteration %d: node %d %s", iteration, node_id,
                     evaluation.failure or f"train FS {train_fs:.4f} valid FS {valid_fs:.4f}")
        return StepResult(iteration, node_id, evaluation.failure, train_fs, valid_fs, time.monotonic() - start,
                          0 if tuned is None else len(tuned.trials))

    def _screen(self, evaluation: Evaluation) -> str | None:
        """Why a program that ran is a duplicate of a node by its values, or None when it is new."""
        found = None if evaluation.profile is None else self._crowd.duplicate(evaluation.profile)
        if found is None:
            return None
        node, corr = found
        return f"duplicate of node {node} by its values (|rank correlation| {corr:.3f} on the sample days)"

    def _elites(self) -> list[int]:
        """The island's best programs by train FS, which a new one should not crowd."""
        scored = [(v.train_fs, -n) for n, v in self._nodes.items() if not math.isnan(v.train_fs)]
        return [-n for _, n in sorted(scored, reverse=True)[:self.config.novelty.elites]]

    def _outcome(self, parent: int, evaluation: Evaluation, tuned: Tuned | None,
                 assessment: Assessment | None) -> str:
        if evaluation.fitness is None:
            return f"failed ({evaluation.failure}): {evaluation.error}"
        train, valid = evaluation.fitness.train.fs, evaluation.fitness.valid.fs
        if parent == ROOT:
            text = f"train FS {train:.4f}, valid FS {valid:.4f}"
        else:
            before = self._nodes[parent]
            text = f"train FS {before.train_fs:.4f} -> {train:.4f}, valid FS {before.valid_fs:.4f} -> {valid:.4f}"
        if tuned is not None:
            text += (f"; tuning ({len(tuned.trials)} trials) took train FS from {tuned.trials[0].train_fs:.4f} "
                     f"at the proposed defaults to {train:.4f}")
        if assessment is not None and assessment.describe():
            text += f"; {assessment.describe()}"
        return text

    def _key(self, code: str, program_id: str) -> str:
        """What makes a program a duplicate: its code, or, when tuning moves the defaults, its shape."""
        if not self._tuning:
            return program_id
        try:
            return shape_id(code)
        except ProgramError:
            return program_id

    def _commit_event(self, iteration: int, event: ProposalFailed | Duplicate, start: float) -> StepResult:
        """Commit an iteration that added no node; `event.evaluations`: the sandbox runs it cost."""
        with self.store.transaction():
            self.store.add_event(event, island=self.island, iteration=iteration)
            self.store.set_progress(self.island, iteration)
        self._rejections.append((iteration, event.detail))
        logger.debug("iteration %d: %s (%s)", iteration, event.kind, event.detail[:120])
        return StepResult(iteration, None, event.kind, math.nan, math.nan, time.monotonic() - start,
                          event.evaluations)

    def _stop(self, iteration: int, reason: str, start: float) -> StepResult:
        """The proposer cannot go on: record why and end the run before this iteration (it is not committed)."""
        with self.store.transaction():
            self.store.add_event(Stopped(reason), island=self.island, iteration=iteration)
        logger.warning("island %d stops: %s", self.island, reason)
        return StepResult(iteration, None, STOPPED, math.nan, math.nan, time.monotonic() - start)

    def _evaluations_so_far(self) -> int:
        """Sandbox evaluations of the committed iterations: tuning trials, untuned programs, screened duplicates."""
        own = {n for n, v in self._nodes.items() if v.row.kind != "migrant"}
        trials = [t.node_id for t in self.store.trials() if t.node_id in own]
        screened = sum(e.payload.evaluations for e in self.store.events(Duplicate) if e.island == self.island)
        return len(trials) + len(own - set(trials)) + screened

    def _best_valid(self) -> tuple[float, int]:
        """The best valid FS so far and the search iterations since it was first reached (for patience)."""
        scored = [v for v in self._nodes.values() if not math.isnan(v.valid_fs) and v.row.kind != "migrant"]
        if not scored:
            return -math.inf, 0
        best = max(scored, key=lambda v: (v.valid_fs, -v.row.iteration))
        last_seed = len(self.seeds) - 1
        return best.valid_fs, max(0, self.store.progress(self.island) - max(best.row.iteration, last_seed))


def _record(view: NodeView) -> NodeRecord:
    row = view.row
    return NodeRecord(node_id=row.node_id, parent_id=row.parent_id or ROOT, reward=row.reward, failed=row.failed,
                      score=math.nan if row.failed else row.reward)


def _evaluation_row(node_id: int, evaluation: Evaluation) -> EvaluationRow:
    fitness = evaluation.fitness
    if fitness is None:
        return EvaluationRow(node_id, evaluation.failure, evaluation.error, None, None, None, None, evaluation.seconds)
    return EvaluationRow(node_id, OK, None, fitness.train, fitness.valid, fitness.test, fitness.orientation,
                         evaluation.seconds)


def _tuning_rows(node_id: int, proposed_id: str, lifted: tuple[LiftedKnob, ...],
                 tuned: Tuned) -> tuple[TuningRow, list[TrialRow]]:
    best = tuned.best
    tuning = TuningRow(node_id, proposed_id, tuple(asdict(knob) for knob in lifted), len(tuned.trials),
                       None if best is None else best.number, tuned.trials[0].train_fs,
                       math.nan if best is None else best.train_fs, tuned.neighbour_drop, tuned.stop, tuned.seconds)
    trials = [TrialRow(node_id, t.number, t.params, t.train_fs, t.evaluation.failure or OK, t.evaluation.error,
                       t.repeat_of, 0.0 if t.repeat_of is not None else t.evaluation.seconds)
              for t in tuned.trials]
    return tuning, trials


def _profile_row(node_id: int, profile: Profile, assessment: Assessment) -> ProfileRow:
    return ProfileRow(node_id, profile.fingerprint, dict(profile.exposures), assessment.level_bet,
                      assessment.structural, assessment.correlation, assessment.penalty)


def _nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else value
