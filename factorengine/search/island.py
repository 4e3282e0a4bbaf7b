"""One island's search: select, propose, check, score, record, backpropagate, commit; resumable."""
from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass, replace
from typing import Iterator, Mapping, Sequence

import numpy as np

from factorengine.config import RunConfig
from factorengine.program import ProgramError, lift_knobs, parse_program, shape_id
from factorengine.proposers.base import Proposal, ProposalFailure, Proposer, Step
from factorengine.score.evaluate import Evaluation, Evaluator
from factorengine.score.failure import FailureKind
from factorengine.score.fitness import TRAIN_VALID
from factorengine.score.novelty import Crowd, Profile
from factorengine.search.context import NodeView, Rejected, fs_of, load_view, node_view, proposer_context
from factorengine.search.iteration import (REJECTIONS, Candidate, Record, Rejection, Scored, evaluation_row,
                                           model_pull, outcome, profile_row, tuning_rows)
from factorengine.search.migration import Exchange, Migrant, choose_emigrants, migration_round, round_iteration
from factorengine.search.tree import ROOT, Tree, normalize_reward
from factorengine.search.tune import Tuner
from factorengine.store import (Duplicate, ExperienceRow, Migration, ModelPull, NodeRow, ProposalFailed, Stopped,
                                Store)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Seed:
    """A seed program: its name (file stem) and source."""

    name: str
    code: str


ISLAND_STRIDE = 1_000_000_000
STOPPED = Stopped.kind  # StepResult.failure when the proposer ended the run


@dataclass(frozen=True)
class StepResult:
    """What one iteration did: the node it added (None when nothing was evaluated) and its scores."""

    iteration: int
    node_id: int | None
    failure: str | None
    robust_fs: float
    valid_fs: float
    seconds: float
    trials: int = 0  # tuning trials run for the node (or for a proposal screened out as a duplicate)

    @property
    def evaluations(self) -> int:
        """Sandbox evaluations the iteration cost: its trials, or one for a program scored untuned."""
        return self.trials or int(self.node_id is not None)


@dataclass(frozen=True)
class Standing:
    """Where an island stands before it runs: its iterations, the first one left, its best own programs so far.

    best_robust / best_valid: (FS, node_id) of the own program with the highest robust train / valid FS so far
    (the earliest on a tie); (-inf, None) when none is scored.
    """

    total: int  # seeds plus search iterations
    first: int  # the iteration it runs next (0 on a new run; after a resume, the one after the last committed)
    best_robust: tuple[float, int | None]
    best_valid: tuple[float, int | None]


class Island:
    """The search loop of one island over a run store; every random draw derives from (seed, island, iteration).

    Iterations 0..len(seeds)-1 evaluate the seeds as children of the root; later ones grow the tree. Each
    iteration commits in one transaction, so a killed run resumes from the last committed iteration and
    reaches the same tree as one never interrupted. With an exchange (several islands), every
    `migration_interval` search iterations the island publishes its best programs and adds those its
    neighbours published the round before as migrant children of the root, in one more transaction.
    """

    def __init__(self, *, config: RunConfig, store: Store, evaluator: Evaluator, proposer: Proposer,
                 seeds: Sequence[Seed], island: int = 0) -> None:
        self.config, self.store, self.evaluator, self.proposer = config, store, evaluator, proposer
        self.seeds, self.island = tuple(seeds), island
        search = config.search
        self._tuning = config.tuning.n_trials > 0
        self._tuner = Tuner(evaluator, config.tuning)
        self._nodes = {row.node_id: load_view(store, row) for row in store.nodes(island=island)}
        self._keys = {self._key(view.code, view.row.program_id): node for node, view in self._nodes.items()}
        self._received = {e.payload.round for e in store.events(Migration) if e.island == island}
        rejections = [e for kind in REJECTIONS for e in store.events(kind) if e.island == island]
        self._rejections = [Rejected(e.iteration, e.payload.detail, getattr(e.payload, "of", None))
                            for e in sorted(rejections, key=lambda e: e.seq)]
        self._pulls = [e.payload for e in store.events(ModelPull) if e.island == island]
        self._crowd = Crowd(config.novelty)
        for node_id, row in store.profiles(island=island).items():
            self._crowd.add(node_id, Profile(row.fingerprint, row.exposures), self._nodes[node_id].code)
        self._evaluations = self._evaluations_so_far()
        self.tree = Tree.from_records((view.record for view in self._nodes.values()),
                                      c=search.exploration, widening_k=search.widening_k,
                                      widening_alpha=search.widening_alpha)

    @property
    def total_iterations(self) -> int:
        """Seeds plus search iterations."""
        return len(self.seeds) + self.config.search.iterations

    def standing(self) -> Standing:
        """The island's iterations and its best own programs by robust train and by valid FS, as committed so far."""
        own = [v for v in self._nodes.values() if v.row.kind != "migrant"]

        def best(segment: str) -> tuple[float, int | None]:
            scored = [(getattr(v, f"{segment}_fs"), v.row.node_id) for v in own
                      if not math.isnan(getattr(v, f"{segment}_fs"))]
            return max(scored, key=lambda pair: (pair[0], -pair[1]), default=(-math.inf, None))

        return Standing(self.total_iterations, self.store.progress(self.island) + 1, best("robust"), best("valid"))

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

    def step(self, iteration: int) -> StepResult:
        """Run and commit one iteration: propose, check, score, assess and record."""
        start = time.monotonic()
        rng = np.random.default_rng([self.config.search.seed, self.island, iteration])
        parent, edited, proposal = self._propose(iteration, rng)
        if isinstance(proposal, ProposalFailure) and proposal.stop:
            return self._stop(iteration, proposal.reason, start)
        if isinstance(proposal, ProposalFailure):
            return self._reject(iteration, ProposalFailed(proposal.reason), start, model_pull(proposal))
        checked = self._check(proposal)
        scored = self._score(checked, rng) if isinstance(checked, Candidate) else checked
        if isinstance(scored, Rejection):
            return self._reject(iteration, scored, start, model_pull(proposal))
        record = self._record(iteration, parent, edited, proposal, scored, rng)
        self._commit(iteration, record)
        logger.debug("iteration %d: node %d %s", iteration, record.node.node_id, scored.evaluation.failure
                     or f"robust train FS {scored.robust_fs:.4f} valid FS {scored.valid_fs:.4f}")
        return StepResult(iteration, record.node.node_id, scored.evaluation.failure, scored.robust_fs,
                          scored.valid_fs, time.monotonic() - start, scored.trials)

    def _propose(self, iteration: int, rng: np.random.Generator) -> tuple[int, Step | None, Proposal | ProposalFailure]:
        """The parent, the program the proposal edits (None for a seed) and the proposal."""
        if iteration < len(self.seeds):
            seed = self.seeds[iteration]
            return ROOT, None, Proposal(code=seed.code, idea=f"seed {seed.name}", kind="seed")
        parent = self._random_seed(rng) if self.config.search.selection == "random" else self.tree.select(rng)
        context = proposer_context(self.tree, self._nodes, self._rejections, parent,
                                   self.config.search.context_paths, rng, pulls=self._pulls)
        if context is None:
            return parent, None, ProposalFailure("no program ran successfully yet, so there is nothing to edit")
        return parent, context.parent, self.proposer.propose(context, rng)

    def _random_seed(self, rng: np.random.Generator) -> int:
        """A uniformly random seed program that ran (ROOT when none did)."""
        seeds = (self._nodes[n].row for n in self.tree.children(ROOT))
        live = [row.node_id for row in seeds if row.kind == "seed" and not row.failed]
        return int(live[rng.integers(len(live))]) if live else ROOT

    def _check(self, proposal: Proposal) -> Candidate | Scored | Rejection:
        """Parse the proposal and lift its knobs; a program that does not parse is scored as failed."""
        try:
            proposed = parse_program(proposal.code)
        except ProgramError as exc:
            program_id = hashlib.sha256(proposal.code.encode()).hexdigest()[:16]
            failed = Evaluation("<proposal>", program_id, {}, None, FailureKind.PROGRAM, str(exc), 0.0)
            return Scored(proposal.code, failed)
        program, lifted = (lift_knobs(proposed) if self._tuning and self.config.tuning.lift_knobs
                           else (proposed, ()))
        key = self._key(program.source, program.program_id)
        if key in self._keys:
            node = self._keys[key]
            return Duplicate(f"a repeat of '{self._nodes[node].row.idea}' (the same "
                             f"code{' up to its parameters' if self._tuning else ''})", of=node)
        return Candidate(program, proposed.program_id, lifted)

    def _score(self, candidate: Candidate, rng: np.random.Generator) -> Scored | Rejection:
        """Tune the candidate (screening trial 0 for duplicates by value), then score it on train and valid."""
        program, tuned = candidate.program, None
        if self._tuning:
            study = self._tuner.start(program, seed=int(rng.integers(2 ** 32)))
            if (duplicate := self._screen(study.first.evaluation)) is not None:
                return replace(duplicate, evaluations=1)
            tuned = study.finish()
            program = tuned.program
            if tuned.best is None and tuned.trials[0].evaluation.fitness is None:  # nothing ran: keep why
                return Scored(program.source, tuned.trials[0].evaluation, tuned, candidate)
        [evaluation] = self.evaluator.evaluate(program, [program.defaults], segments=TRAIN_VALID,
                                               probe=tuned is None or not tuned.probed)
        if tuned is None and (duplicate := self._screen(evaluation)) is not None:
            return replace(duplicate, evaluations=1)
        return Scored(program.source, evaluation, tuned, candidate)

    def _record(self, iteration: int, parent: int, edited: Step | None, proposal: Proposal, scored: Scored,
                rng: np.random.Generator) -> Record:
        """The new node's rows: its reward (the novelty penalty applied), outcome, lesson, tuning and profile."""
        node_id, evaluation = self._next_node_id(), scored.evaluation
        profile = evaluation.profile
        assessment = None if profile is None else self._crowd.assess(scored.code, profile, self._elites(), parent)
        failed = evaluation.fitness is None
        reward = 0.0 if failed else normalize_reward(scored.robust_fs, self.config.search.reward_scale)
        reward *= 1.0 if assessment is None else assessment.penalty
        row = NodeRow(node_id=node_id, parent_id=None if parent == ROOT else parent, island=self.island,
                      iteration=iteration, depth=self.tree.depth(parent) + 1, program_id=evaluation.program_id,
                      params=dict(evaluation.params), idea=proposal.idea, kind=proposal.kind, reward=reward,
                      failed=failed)
        before = None if parent == ROOT else (self._nodes[parent].robust_fs, self._nodes[parent].valid_fs)
        said = outcome(scored, before, assessment)
        gain = 0.0 if failed or before is None else max(0.0, scored.robust_fs - before[0])
        lesson = ("" if edited is None else self.proposer.reflect(edited, proposal, said, rng)) or proposal.lesson
        return Record(row, scored.code, evaluation_row(node_id, evaluation),
                      ExperienceRow(node_id, proposal.idea, proposal.hypothesis, said, proposal.category, lesson),
                      tuning_rows(node_id, scored), None if assessment is None else
                      profile_row(node_id, profile, assessment), model_pull(proposal, gain))

    def _commit(self, iteration: int, record: Record) -> None:
        """Write the record and the island's progress in one transaction, then add the node to the search."""
        node_id, evaluation = record.node.node_id, record.evaluation
        with self.store.transaction():
            self.store.add_program(record.node.program_id, record.code)
            self.store.add_node(record.node)
            self.store.add_evaluation(evaluation)
            if record.tuning is not None:
                self.store.add_tuning(*record.tuning)
            self.store.add_experience(record.experience)
            if record.profile is not None:
                self.store.add_profile(record.profile)
            if record.pull is not None:
                self.store.add_event(record.pull, island=self.island, iteration=iteration)
            self.store.set_progress(self.island, iteration)
        view = node_view(record.node, record.code, evaluation, record.experience)
        self._nodes[node_id] = view
        self._keys[self._key(record.code, record.node.program_id)] = node_id
        if record.profile is not None:
            self._crowd.add(node_id, Profile(record.profile.fingerprint, record.profile.exposures), record.code)
        if record.pull is not None:
            self._pulls.append(record.pull)
        self.tree.add(view.record)

    def _screen(self, evaluation: Evaluation) -> Duplicate | None:
        """The rejection of a program that ran and duplicates a node by its values, or None when it is new."""
        found = None if evaluation.profile is None else self._crowd.duplicate(evaluation.profile)
        if found is None:
            return None
        node, corr = found
        return Duplicate(f"ranks stocks like '{self._nodes[node].row.idea}' (rank correlation {corr:.3f})", of=node)

    def _elites(self) -> list[int]:
        """The island's best programs by robust train FS, which a new one should not crowd."""
        scored = [(v.robust_fs, -n) for n, v in self._nodes.items() if not math.isnan(v.robust_fs)]
        return [-n for _, n in sorted(scored, reverse=True)[:self.config.novelty.elites]]

    def _key(self, code: str, program_id: str) -> str:
        """What makes a program a duplicate: its code, or, when tuning moves the defaults, its shape."""
        if not self._tuning:
            return program_id
        try:
            return shape_id(code)
        except ProgramError:
            return program_id

    def _reject(self, iteration: int, rejection: Rejection, start: float, pull: ModelPull | None) -> StepResult:
        """Commit an iteration that added no node (and what the LLM that proposed it cost)."""
        with self.store.transaction():
            self.store.add_event(rejection, island=self.island, iteration=iteration)
            if pull is not None:
                self.store.add_event(pull, island=self.island, iteration=iteration)
            self.store.set_progress(self.island, iteration)
        if pull is not None:
            self._pulls.append(pull)
        self._rejections.append(Rejected(iteration, rejection.detail, getattr(rejection, "of", None)))
        logger.debug("iteration %d: %s (%s)", iteration, rejection.kind, rejection.detail[:120])
        return StepResult(iteration, None, rejection.kind, math.nan, math.nan, time.monotonic() - start,
                          rejection.evaluations)

    def _catch_up(self, exchange: Exchange) -> None:
        """After a restart: publish every past round again (a neighbour may still need it), receive missed ones."""
        searched = max(0, self.store.progress(self.island) - len(self.seeds) + 1)
        rounds = range(1, searched // self.config.islands.migration_interval + 1)
        for round in rounds:
            exchange.publish(round, self._emigrants(round))
        for round in rounds[:-1]:
            if round not in self._received:
                self._receive(round, exchange.collect(round))

    def _migrate(self, exchange: Exchange, round: int) -> None:
        """Publish this round's emigrants and receive the previous round's: the neighbours published those an
        interval ago, so an island rarely waits for a slower one."""
        exchange.publish(round, self._emigrants(round))
        if round > 1:
            self._receive(round - 1, exchange.collect(round - 1))

    def _emigrants(self, round: int) -> list[Migrant]:
        """This island's best own programs as of the round's iteration, with their recorded evaluations."""
        up_to = round_iteration(round, len(self.seeds), self.config.islands.migration_interval)
        fs = {n: (v.robust_fs, v.valid_fs) for n, v in self._nodes.items()}
        chosen = choose_emigrants([v.row for v in self._nodes.values()], fs, up_to, self.config.islands.migrants)
        return [Migrant(self.island, row.node_id, row.program_id, self._nodes[row.node_id].code, row.params,
                        row.idea, self.store.evaluation(row.node_id), self.store.profile(row.node_id))
                for row in chosen]

    def _receive(self, round: int, payloads: Mapping[int, Sequence[Migrant]]) -> None:
        """Add the neighbours' programs of `round` as migrant children of the root (duplicates skipped), in one
        commit at the next round's iteration."""
        iteration = round_iteration(round + 1, len(self.seeds), self.config.islands.migration_interval)
        arrivals: list[tuple[NodeView, Migrant]] = []
        record = []
        for source in sorted(payloads):
            for migrant in payloads[source]:
                key, node_id = self._key(migrant.code, migrant.program_id), None
                if key not in self._keys:
                    node_id = self._keys[key] = self._next_node_id() + len(arrivals)
                    arrivals.append((self._migrant_view(node_id, iteration, migrant), migrant))
                record.append((source, migrant.node_id, node_id))
        profiles = {view.row.node_id: migrant.profile for view, migrant in arrivals}
        with self.store.transaction():
            for view, migrant in arrivals:
                self.store.add_program(migrant.program_id, migrant.code)
                self.store.add_node(view.row)
                self.store.add_evaluation(replace(migrant.evaluation, node_id=view.row.node_id, seconds=0.0))
                if profiles[view.row.node_id] is not None:
                    self.store.add_profile(replace(profiles[view.row.node_id], node_id=view.row.node_id))
                self.store.add_experience(ExperienceRow(view.row.node_id, view.row.idea, "migration",
                                                        f"robust train FS {view.robust_fs:.4f}, valid FS "
                                                        f"{view.valid_fs:.4f} "
                                                        f"on island {migrant.island}"))
            self.store.add_event(Migration(round, tuple(record)), island=self.island, iteration=iteration)
        for view, _ in arrivals:
            self._nodes[view.row.node_id] = view
            self.tree.add(view.record)
            if (profile := profiles[view.row.node_id]) is not None:
                self._crowd.add(view.row.node_id, Profile(profile.fingerprint, profile.exposures), view.code)
        self._received.add(round)

    def _migrant_view(self, node_id: int, iteration: int, migrant: Migrant) -> NodeView:
        robust_fs = fs_of(migrant.evaluation)[1]
        row = NodeRow(node_id=node_id, parent_id=None, island=self.island, iteration=iteration, depth=1,
                      program_id=migrant.program_id, params=dict(migrant.params),
                      idea=f"migrant from island {migrant.island} (node {migrant.node_id}): {migrant.idea}",
                      kind="migrant", reward=normalize_reward(robust_fs, self.config.search.reward_scale),
                      failed=False)
        return node_view(row, migrant.code, migrant.evaluation, None)

    def _next_node_id(self) -> int:
        """Node ids are unique across islands: island i numbers its nodes from i * ISLAND_STRIDE + 1."""
        return max(self._nodes, default=self.island * ISLAND_STRIDE) + 1

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
