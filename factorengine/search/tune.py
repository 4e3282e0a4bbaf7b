"""Tune a program's numeric parameters with Optuna's TPE (ask/tell, batches under the constant liar).

The objective is the robust train FS (train's walk-forward fold FS, mean less its standard error); valid and
test are never read here. On a wide panel it is measured on an evenly spaced sample of the stocks
(`trial_stocks`), which halves a trial's cost on 500 stocks; the island scores the tuned program on every stock.
Trial 0 is the program's current defaults and runs on every stock with the lookahead probe, so a program the
policy or the probe refuses costs one batch, not a study; a trial that fails for its parameters (an error, a
timeout) is told as failed and the study goes on.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Collection, Sequence

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from factorengine.config import TuningConfig
from factorengine.program import Number, Param, Program, parse_program, set_defaults
from factorengine.score.evaluate import Evaluation, Evaluator, Scoring
from factorengine.score.failure import FailureKind
from factorengine.store.rows import NEIGHBOURS

# Failures of the program itself, not of a parameter set: no other parameters can help.
REFUSALS = frozenset({FailureKind.POLICY, FailureKind.POLICY_VIOLATION, FailureKind.SYNTAX, FailureKind.LOOKAHEAD})
_SIGNIFICANT_DIGITS = 4  # floats are tried (and written back) rounded, so sources stay readable


@dataclass(frozen=True)
class Trial:
    """One parameter set tried: its train-only evaluation, or the earlier trial it repeats."""

    number: int
    params: dict[str, Number]
    evaluation: Evaluation
    repeat_of: int | None = None

    @property
    def train_fs(self) -> float:
        """Train FS, NaN when the run failed or could not be scored."""
        return math.nan if self.evaluation.fitness is None else self.evaluation.fitness.train.fs

    @property
    def robust_fs(self) -> float:
        """The objective: robust train FS, NaN when the run failed or could not be scored."""
        return math.nan if self.evaluation.fitness is None else self.evaluation.fitness.train.robust_fs


@dataclass(frozen=True)
class Tuned:
    """A study's result: the program with the best parameters written back as its defaults, and every trial."""

    program: Program
    trials: tuple[Trial, ...]
    best: Trial | None  # None when no trial scored
    neighbour_drop: float  # relative fall of train FS from the best trial to its nearest trials; NaN if unknown
    stop: str  # "budget", "patience" or "refused"
    seconds: float

    @property
    def probed(self) -> bool:
        """Whether the tuned defaults are trial 0's parameters, which ran the lookahead probe."""
        return self.program.defaults == self.trials[0].params


class Tuner:
    """Runs one TPE study per program on an evaluator's sandbox."""

    def __init__(self, evaluator: Evaluator, settings: TuningConfig = TuningConfig()) -> None:
        self.evaluator, self.settings = evaluator, settings
        self.every = sample_stride(evaluator.dataset.panel.shape[1], settings.trial_stocks)
        optuna.logging.set_verbosity(optuna.logging.WARNING)

    def start(self, program: Program, seed: int) -> Study:
        """Open a study of the program's parameter space and run trial 0, its current defaults, with the probe."""
        return Study(self, program, seed)

    def tune(self, program: Program, seed: int) -> Tuned:
        """Search the program's parameter space from its defaults; the same seed gives the same trials."""
        return self.start(program, seed).finish()

    def launch(self, program: Program, params_list: list[dict[str, Number]], known: Collection[tuple]) -> Launch:
        """Run a batch's parameter sets not in `known` (keys of those tried or running) on train alone now, and
        score them in the background; the first batch of a study runs with the lookahead probe."""
        fresh = list({_key(p): p for p in params_list if _key(p) not in known}.values())  # first of each, in order
        scoring = (self.evaluator.submit(program, fresh, segments=("train",), probe=not known, every=self.every)
                   if fresh else None)
        return Launch(params_list, fresh, scoring)

    def collect(self, launched: Launch, done: Sequence[Trial]) -> list[Trial]:
        """The launched batch's trials, numbered after `done`; a parameter set tried before repeats its trial."""
        evaluations = launched.scoring.result() if launched.scoring is not None else []
        ran = {_key(p): e for p, e in zip(launched.fresh, evaluations)}
        seen = {_key(t.params): t for t in done}
        batch: list[Trial] = []
        for number, params in enumerate(launched.params, start=len(done)):
            earlier = seen.get(_key(params))
            if earlier is None:
                trial = Trial(number, params, ran.pop(_key(params)))
                seen[_key(params)] = trial
            else:
                trial = Trial(number, params, earlier.evaluation, repeat_of=earlier.number)
            batch.append(trial)
        return batch


@dataclass(frozen=True)
class Launch:
    """A batch of parameter sets whose new ones are running or being scored."""

    params: list[dict[str, Number]]
    fresh: list[dict[str, Number]]
    scoring: Scoring | None


class Study:
    """One program's study, begun with trial 0 so that the caller can look at it before paying for the rest.

    Batches overlap: the next batch runs in the sandbox while the last one is scored, so it is asked before the
    last one is told (the constant liar stands in for both). Which trials the study knows when it asks a batch
    is fixed by the batch's number, never by timing, so a study is repeatable.
    """

    def __init__(self, tuner: Tuner, program: Program, seed: int) -> None:
        self._tuner, self._program, self._start = tuner, program, time.monotonic()
        self._space = search_space(program.params)
        self._study = optuna.create_study(direction="maximize", sampler=_sampler(seed, tuner.settings.n_trials))
        self._study.enqueue_trial(program.defaults)
        self._trials: list[Trial] = []
        self._best: Trial | None = None
        self._tell(self._launch(1, None))

    @property
    def first(self) -> Trial:
        """Trial 0: the program's defaults, run with the lookahead probe."""
        return self._trials[0]

    def finish(self) -> Tuned:
        """Run the remaining trials (none when trial 0 was refused) and write the best back as the defaults."""
        running: tuple[list[optuna.trial.Trial], Launch] | None = None
        while not (stop := self._stop(running)):
            launched = self._launch(self._tuner.settings.n_parallel, running)
            if running is not None:
                self._tell(running)
            running = launched
        if running is not None:
            self._tell(running)
        best, program = self._best, self._program
        tuned = program if best is None else parse_program(set_defaults(program.source, best.params))
        return Tuned(tuned, tuple(self._trials), best, neighbour_drop(self._trials, best, self._space), stop,
                     time.monotonic() - self._start)

    def _stop(self, running: tuple[list[optuna.trial.Trial], Launch] | None) -> str:
        """Why no further batch is asked ("refused", "patience", "budget"), or "" to ask one."""
        settings = self._tuner.settings
        if self.first.evaluation.failure in REFUSALS:
            return "refused"
        if settings.patience and best_age(self._trials, self._best) >= settings.patience:
            return "patience"
        if len(self._trials) + (0 if running is None else len(running[0])) >= settings.n_trials:
            return "budget"
        return ""

    def _launch(self, size: int, running: tuple[list[optuna.trial.Trial], Launch] | None
                ) -> tuple[list[optuna.trial.Trial], Launch]:
        """Ask a batch (at most what the budget leaves) and launch its runs."""
        taken = len(self._trials) + (0 if running is None else len(running[0]))
        asked = [self._study.ask(self._space) for _ in range(max(1, min(size, self._tuner.settings.n_trials - taken)))]
        known = {_key(t.params) for t in self._trials} | (set() if running is None else
                                                           {_key(p) for p in running[1].params})
        return asked, self._tuner.launch(self._program, [_rounded(t.params, self._space) for t in asked], known)

    def _tell(self, launched: tuple[list[optuna.trial.Trial], Launch]) -> None:
        """Wait for a launched batch's scores and tell them to the study."""
        asked, launch = launched
        batch = self._tuner.collect(launch, self._trials)
        for optuna_trial, trial in zip(asked, batch):
            if math.isnan(trial.robust_fs):
                self._study.tell(optuna_trial, state=TrialState.FAIL)
            else:
                self._study.tell(optuna_trial, trial.robust_fs)
                self._best = trial if self._best is None or trial.robust_fs > self._best.robust_fs else self._best
        self._trials.extend(batch)


def sample_stride(n_stocks: int, trial_stocks: int) -> int:
    """k such that every k-th of `n_stocks` stocks keeps at least `trial_stocks` of them (1: all)."""
    return max(1, n_stocks // trial_stocks) if trial_stocks else 1


def search_space(params: Sequence[Param]) -> dict[str, BaseDistribution]:
    """Optuna distributions of the parameters; a positive range spanning 4x or more is searched in log scale."""
    space: dict[str, BaseDistribution] = {}
    for p in params:
        log = p.low > 0 and p.high >= 4 * p.low
        space[p.name] = (IntDistribution(int(p.low), int(p.high), log=log) if p.kind == "int"
                         else FloatDistribution(float(p.low), float(p.high), log=log))
    return space


def best_age(trials: Sequence[Trial], best: Trial | None) -> int:
    """Trials since the best one (all of them when none scored)."""
    return len(trials) if best is None else len(trials) - 1 - best.number


def neighbour_drop(trials: Sequence[Trial], best: Trial | None, space: dict[str, BaseDistribution]) -> float:
    """How far the objective falls from the best trial to the mean of its nearest distinct trials, relative to it.

    Distances are taken with each parameter scaled to [0, 1] (log-scaled where searched so); failed
    neighbours count as FS 0. Near 0: a plateau; near 1 or above: a sharp optimum, likely fitted to noise.
    """
    others = [t for t in trials if t.repeat_of is None and best is not None and t.number != best.number]
    if best is None or not others or not space or best.robust_fs <= 0:
        return math.nan
    where = np.array([_unit(t.params, space) for t in others])
    distance = np.linalg.norm(where - _unit(best.params, space), axis=1)
    nearest = np.argsort(distance, kind="stable")[:NEIGHBOURS]
    fs = np.array([others[i].robust_fs for i in nearest])
    return float((best.robust_fs - np.nan_to_num(fs, nan=0.0).mean()) / best.robust_fs)


def _unit(params: dict[str, Number], space: dict[str, BaseDistribution]) -> list[float]:
    """Parameters scaled to [0, 1] by their distributions."""
    scaled = []
    for name, dist in space.items():
        low, high, value = float(dist.low), float(dist.high), float(params[name])
        if dist.log:
            low, high, value = math.log(low), math.log(high), math.log(value)
        scaled.append((value - low) / (high - low) if high > low else 0.0)
    return scaled


def _sampler(seed: int, n_trials: int) -> optuna.samplers.TPESampler:
    with warnings.catch_warnings():  # multivariate and constant_liar are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                          n_startup_trials=max(4, n_trials // 4))


def _rounded(params: dict[str, Number], space: dict[str, BaseDistribution]) -> dict[str, Number]:
    """Floats rounded to a few significant digits, kept inside their ranges."""
    return {k: v if isinstance(v, int) else
            min(max(float(f"{v:.{_SIGNIFICANT_DIGITS}g}"), space[k].low), space[k].high)
            for k, v in params.items()}


def _key(params: dict[str, Number]) -> tuple:
    return tuple(sorted(params.items()))
