"""Evaluate factor programs safely: static policy, sandboxed runs, the lookahead probe, then fitness."""
from __future__ import annotations

import os
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from factorengine.config import EvaluationConfig
from factorengine.data.dataset import Dataset
from factorengine.data.panel import Panel
from factorengine.program import ALLOWED_IMPORTS, Program, ProgramError, check_columns, check_policy
from factorengine.score.failure import FailureKind
from factorengine.score.fitness import TRAIN_VALID, Fitness
from factorengine.score.novelty import Profile
from factorengine.score.probe import Lookahead, cut_rows, probe_lookahead
from factorengine.score.scoring import Scored, ScoringPool
from sandbox import Limits, Ok, Outcome, Policy, Sandbox, SharedInputs

Params = Mapping[str, "int | float"]
_ENTRY = "factor"


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one program run: its fitness, or the kind of failure and a reason fit for a prompt."""

    name: str
    program_id: str
    params: Params
    fitness: Fitness | None
    failure: FailureKind | None  # None when it was scored
    error: str | None
    seconds: float
    profile: Profile | None = field(default=None, compare=False, repr=False)  # of the values, when scored


@dataclass(frozen=True)
class _Success:
    """A run that passed every check and waits to be scored."""

    name: str
    program_id: str
    params: dict
    outcome: Ok
    seconds: float  # from the checks to the end of the run

    def evaluation(self, scored: Scored) -> Evaluation:
        """The evaluation of this run once scored."""
        fitness, profile, seconds = scored
        return Evaluation(self.name, self.program_id, self.params, fitness, None, None, self.seconds + seconds,
                          profile)


_Ran = Evaluation | _Success
_Pending = Evaluation | tuple[_Success, "Future[Scored]"]  # a failed run, or a run and its scoring


@dataclass(frozen=True)
class Scoring:
    """Evaluations being scored in the background, in the order their parameter sets were given."""

    pending: tuple[_Pending, ...]

    def result(self) -> list[Evaluation]:
        """Wait for every evaluation."""
        return [run if isinstance(run, Evaluation) else run[0].evaluation(run[1].result()) for run in self.pending]


class Evaluator:
    """Scores factor programs on one dataset; a program's code runs only inside the evaluator's sandbox.

    The sandbox holds the panel's fields, never the label: programs return values, the parent scores them.
    `inputs`: the fields already shared (`share_inputs`), so evaluators of several islands hold one copy.
    """

    def __init__(self, dataset: Dataset, settings: EvaluationConfig = EvaluationConfig(), *,
                 inputs: SharedInputs | None = None) -> None:
        self.dataset = dataset
        self.settings = settings
        policy = Policy(preload=("numpy", "math", "factorengine.ops"), allowed_imports=ALLOWED_IMPORTS,
                        output_shape=dataset.panel.shape)
        limits = Limits(memory_mb=settings.memory_mb, cpu_s=max(1, int(settings.timeout_s * 2)))
        self._n_workers = settings.n_workers or len(os.sched_getaffinity(0))
        self._sandbox = Sandbox(inputs or dict(dataset.panel.fields), policy=policy,
                                n_workers=self._n_workers, limits=limits)
        self._scorers = ScoringPool(dataset, self._n_workers)

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox every program of this evaluator runs in."""
        return self._sandbox

    def evaluate(self, program: Program, params_list: Sequence[Params], *, name: str = "<program>",
                 segments: Sequence[str] = TRAIN_VALID, probe: bool = True) -> list[Evaluation]:
        """Run `program` once per parameter set and score each run that passes every check on `segments`.

        The runs go to the sandbox's workers at once and are scored in as many processes. `probe=False` skips
        the lookahead probe (for more parameter sets of a program already probed).
        """
        return self.submit(program, params_list, name=name, segments=segments, probe=probe).result()

    def submit(self, program: Program, params_list: Sequence[Params], *, name: str = "<program>",
               segments: Sequence[str] = TRAIN_VALID, probe: bool = True, every: int = 1) -> Scoring:
        """Run `program` per parameter set now and score the runs in the background, so the caller can start
        the next runs while these are scored.

        A run without the probe computes only the days up to the last of `segments` (a causal program's values
        there do not depend on later days, which the probe checks on every new program). `every` > 1 scores
        every `every`-th stock alone (a cheaper, noisier estimate); runs without the probe then compute no other.
        """
        rows = None if probe else self._rows(segments)
        ran = self._run(program, params_list, name, probe, rows, 1 if probe else every)
        return Scoring(tuple(self._score(run, segments, every) for run in ran))

    def evaluate_many(self, jobs: Sequence[tuple[str, Program, Params]], *,
                      segments: Sequence[str] = TRAIN_VALID) -> list[Evaluation]:
        """Evaluate (name, program, params) jobs in order, scoring each while the next runs."""
        return Scoring(tuple(self._score(run, segments) for name, program, params in jobs
                             for run in self._run(program, [params], name, True, None, 1))).result()

    def _rows(self, segments: Sequence[str]) -> int | None:
        """The leading days a run must compute to be scored on `segments` (None: all of them)."""
        splits = self.dataset.splits
        end = max(splits.days(segment).stop for segment in ("train", *segments))
        return None if end >= len(self.dataset.panel.dates) else end

    def _run(self, program: Program, params_list: Sequence[Params], name: str, probe: bool,
             rows: int | None, every: int) -> list[_Ran]:
        """Check and run `program` per parameter set on the first `rows` days of every `every`-th stock: a
        failed Evaluation, or the successful run to score."""
        start = time.perf_counter()
        reason = _refusal(program.source, self.dataset.panel)
        if reason:
            return [self._failed(program, name, p, FailureKind.POLICY, reason, start) for p in params_list]
        # the probe's runs on cut histories go with the first parameter set's run, so the workers take them at once
        cuts = cut_rows(len(self.dataset.panel.dates)) if probe and self.settings.probe and params_list else ()
        outcomes = self._sandbox.run(program.source, _ENTRY, [*params_list, *[params_list[0]] * len(cuts)],
                                     self.settings.timeout_s, rows=[rows] * len(params_list) + list(cuts), every=every)
        outcomes, cut_runs = outcomes[:len(params_list)], outcomes[len(params_list):]
        first = next((i for i, o in enumerate(outcomes) if isinstance(o, Ok)), None)
        refusal = None
        if cuts and first is not None:
            refusal = (self._verdict(outcomes[first], dict(zip(cuts, cut_runs))) if first == 0
                       else self._probe(program, params_list[first], outcomes[first]))
        ran: list[_Ran] = []
        for params, outcome in zip(params_list, outcomes):
            if not isinstance(outcome, Ok):
                ran.append(self._failed(program, name, params, FailureKind(outcome.kind), outcome.reason, start))
            elif refusal is not None:
                ran.append(self._failed(program, name, params, *refusal, start))
            else:
                ran.append(_Success(name, program.program_id, dict(params), outcome, time.perf_counter() - start))
        return ran

    def _score(self, run: _Ran, segments: Sequence[str], every: int = 1) -> _Pending:
        """A failed run as it is; a successful one sent to a scoring process (on every `every`-th stock)."""
        return run if isinstance(run, Evaluation) else (run, self._scorers.submit(run.outcome.values, segments, every))

    def values(self, program: Program, params: Params) -> np.ndarray:
        """The program's factor values [T, N] with `params`, computed in the sandbox; ProgramError if it fails."""
        [outcome] = self._sandbox.run(program.source, _ENTRY, [params], self.settings.timeout_s)
        if not isinstance(outcome, Ok):
            raise ProgramError(f"{outcome.kind}: {outcome.reason}")
        return outcome.values

    def check_lookahead(self, program: Program, params: Params) -> tuple[FailureKind, str] | None:
        """Run `program` on the full and on cut panels, skipping the static policy (a probe on its own).

        Returns (failure kind, reason) when it reads the future or fails on a shorter history, else None.
        """
        [outcome] = self._sandbox.run(program.source, _ENTRY, [params], self.settings.timeout_s)
        if not isinstance(outcome, Ok):
            return FailureKind(outcome.kind), outcome.reason
        return self._probe(program, params, outcome)

    def _probe(self, program: Program, params: Params, outcome: Ok) -> tuple[FailureKind, str] | None:
        """Compare a successful full run with runs on cut panels; one probe per program suffices,
        since code that leaks does so for every parameter set."""

        rows = cut_rows(len(self.dataset.panel.dates))
        runs = self._sandbox.run(program.source, _ENTRY, [params] * len(rows), self.settings.timeout_s, rows=rows)
        return self._verdict(outcome, dict(zip(rows, runs)))

    def _verdict(self, outcome: Ok, cut_runs: Mapping[int, Outcome]) -> tuple[FailureKind, str] | None:
        """The probe's verdict on a full run and the runs on cut histories (rows -> outcome)."""
        panel = self.dataset.panel
        cuts = {k: run.values if isinstance(run, Ok) else run for k, run in cut_runs.items()}
        verdict = probe_lookahead(outcome.values, cuts, panel.dates, panel.symbols)
        if verdict is None:
            return None
        if isinstance(verdict, Lookahead):
            return FailureKind.LOOKAHEAD, verdict.reason
        return FailureKind(verdict.kind), f"on a shorter history (lookahead probe): {verdict.reason}"

    @staticmethod
    def _failed(program: Program, name: str, params: Params, kind: FailureKind, reason: str,
                start: float) -> Evaluation:
        return Evaluation(name, program.program_id, dict(params), None, kind, reason, time.perf_counter() - start)

    def close(self) -> None:
        """Stop the sandbox and the scoring processes."""
        self._scorers.close()
        self._sandbox.close()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _refusal(source: str, panel: Panel) -> str | None:
    """Why the program may not run on `panel` (its code, or the columns it reads), before it runs; None if it may."""
    violations = check_policy(source)
    if violations:
        return "refused by the static policy: " + "; ".join(map(str, violations))
    violations = check_columns(source, list(panel.fields), list(panel.groups))
    return "refused for this panel: " + "; ".join(map(str, violations)) if violations else None


def resolve_params(program: Program, overrides: Mapping[str, str]) -> dict[str, int | float]:
    """Return the program's defaults with `overrides` (name -> text) applied and typed."""
    params = {p.name: p.default for p in program.params}
    kinds = {p.name: p.kind for p in program.params}
    for name, text in overrides.items():
        if name not in params:
            raise ProgramError(f"--param {name}={text}: the program has no parameter {name!r}; "
                               f"its parameters are {', '.join(params) or 'none'}")
        try:
            params[name] = int(text) if kinds[name] == "int" else float(text)
        except ValueError:
            raise ProgramError(f"--param {name}={text}: {name} takes an {kinds[name]}") from None
    return params
