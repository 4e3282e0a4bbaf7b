"""Runtime suites: loading and scoring, the sandbox, tuning in parallel, islands in parallel."""
from __future__ import annotations

import contextlib
import os
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from factorengine.bench.measure import BenchError, Ratio, SuiteResult, Target, Timing, measure
from factorengine.bench.memory import PeakMemory
from factorengine.config import EvaluationConfig, IslandsConfig, RunConfig, SearchConfig, TuningConfig, as_dict
from factorengine.data import Dataset, load_panel
from factorengine.program import Program, load_factor
from factorengine.score.evaluate import Evaluator
from factorengine.score.fitness import score
from factorengine.search.archipelago import run_archipelago, sandbox_workers
from factorengine.search.island import Seed
from factorengine.search.tune import Tuner
from factorengine.store import RUN_DATABASE, Store


@dataclass(frozen=True)
class BenchInput:
    """What every suite measures on: the panel file, its dataset, the seed programs and the budgets."""

    path: Path
    dataset: Dataset
    programs: Mapping[str, Program]  # name -> program
    repeat: int  # timed runs per step, after a warm-up
    search_budget: int = 2000  # evaluations per search run
    search_seeds: int = 3  # search runs per method, seeds 0, 1, ...
    search_trials: int = 8  # TPE trials per program in the search runs


def data_suite(bench: BenchInput) -> SuiteResult:
    """Time loading the panel, and computing then scoring each seed program in this process."""
    timings = [measure(f"load {bench.path.name}", lambda: load_panel(bench.path), repeat=min(bench.repeat, 3))]
    for name, program in bench.programs.items():
        factor = load_factor(program.source, name)
        values = factor(bench.dataset.panel)
        timings.append(measure(f"compute {name}", lambda: factor(bench.dataset.panel), bench.repeat))
        timings.append(measure(f"score {name}",
                               lambda: score(values, bench.dataset.label, bench.dataset.splits), bench.repeat))
    return SuiteResult(timings)


def sandbox_suite(bench: BenchInput) -> SuiteResult:
    """Compare evaluating every seed (compute + score) in this process and through the sandbox."""
    dataset = bench.dataset
    factors = [load_factor(p.source, name) for name, p in bench.programs.items()]
    jobs = [(name, p, p.defaults) for name, p in bench.programs.items()]

    def in_process() -> None:
        for factor in factors:
            score(factor(dataset.panel), dataset.label, dataset.splits)

    cpu = _cpu_seconds()
    result = SuiteResult([measure(f"{len(factors)} seeds in-process", in_process, bench.repeat)])
    cpu_timings = [Timing("CPU time of the seeds in-process (all processes)",
                          ((_cpu_seconds() - cpu) / (bench.repeat + 1),))]
    for workers, probe in ((1, False), (2, False), (1, True)):
        cpu = _cpu_seconds()
        with Evaluator(dataset, EvaluationConfig(n_workers=workers, probe=probe)) as evaluator:
            how = f"sandboxed on {workers} worker(s){' + lookahead probe' if probe else ''}"
            result.timings.append(measure(f"{len(factors)} seeds {how}", lambda: evaluator.evaluate_many(jobs),
                                          bench.repeat))
        cpu_timings.append(Timing(f"CPU time of the seeds {how} (all processes)",
                                  ((_cpu_seconds() - cpu) / (bench.repeat + 1),)))
        result.ratios.append(Ratio(f"seeds' evaluations/s: {how} vs in-process", result.timings[0],
                                   result.timings[-1]))
    result.ratios.append(Ratio("CPU time: in-process / sandboxed on 1 worker (all processes)", *cpu_timings[:2]))
    result.targets.append(Target("sandbox >= 0.9x in-process (evaluations/s)", result.ratios[0].median, 0.9,
                                 "each run pays the fixed overhead measured below (fork, send the parameters, "
                                 "copy the values back); batching parameter sets per child would amortize it"))
    batch_timings, batch_ratio = _batch(bench)
    result.timings += cpu_timings + batch_timings + _overhead(dataset, bench.repeat)
    result.ratios.append(batch_ratio)
    return result


def _batch(bench: BenchInput, size: int = 8) -> tuple[list[Timing], Ratio]:
    """Compare a tuner-style batch (one seed, `size` parameter sets) in-process and on 2 sandbox workers."""
    name, program = next(iter(bench.programs.items()))
    dataset, factor = bench.dataset, load_factor(program.source, name)
    batch = [program.defaults] * size
    baseline = measure(f"{name} x {size} parameter sets in-process",
                       lambda: [score(factor(dataset.panel, **p), dataset.label, dataset.splits) for p in batch],
                       bench.repeat)
    with Evaluator(dataset, EvaluationConfig(n_workers=2, probe=False)) as evaluator:
        sandboxed = measure(f"{name} x {size} parameter sets sandboxed, 2 workers",
                            lambda: evaluator.evaluate(program, batch), bench.repeat)
    return [baseline, sandboxed], Ratio("tuning batch: sandboxed on 2 workers vs in-process", baseline, sandboxed)


def _overhead(dataset: Dataset, repeat: int, runs: int = 50) -> list[Timing]:
    """Time `runs` runs of a trivial program in the sandbox and in-process; their difference per run."""
    source = "def factor(d):\n    return d.close * 1.0\n"
    with Evaluator(dataset, EvaluationConfig(n_workers=1)) as evaluator:
        sandbox = evaluator.sandbox
        sandboxed = measure(f"trivial program, {runs} sandboxed runs",
                            lambda: sandbox.run(source, "factor", [{}] * runs, 60.0), repeat)
    plain = measure(f"trivial program, {runs} in-process runs",
                    lambda: [dataset.panel.close * 1.0 for _ in range(runs)], repeat)
    per_run = Timing("sandbox overhead of one run (trivial program)",
                     tuple((s - p) / runs for s, p in zip(sandboxed.seconds, plain.seconds)))
    return [sandboxed, plain, per_run]


def tune_suite(bench: BenchInput, n_programs: int = 3, n_trials: int = 16) -> SuiteResult:
    """Time TPE studies (fixed budget, no early stop) asking 1 vs 2 trials at once on 2 sandbox workers."""
    programs = list(bench.programs.values())[:n_programs]
    timings = []
    with Evaluator(bench.dataset, EvaluationConfig(n_workers=2)) as evaluator:
        for n_parallel in (1, 2):
            tuner = Tuner(evaluator, TuningConfig(n_trials=n_trials, n_parallel=n_parallel, patience=0))
            timings.append(measure(f"tune {len(programs)} seeds x {n_trials} trials, n_parallel={n_parallel}",
                                   lambda: [tuner.tune(p, seed=0) for p in programs], min(bench.repeat, 3)))
    return SuiteResult(timings, [Ratio("tuning trials/s: n_parallel=2 vs 1 (2 sandbox workers)", *timings)])


@dataclass(frozen=True)
class IslandSetup:
    """How one search budget is run: islands on the first `cores` cores (default settings otherwise)."""

    name: str
    n_islands: int
    cores: int


ISLAND_SETUPS = (IslandSetup("1 island on 1 core", 1, 1), IslandSetup("2 islands on 2 cores", 2, 2),
                 IslandSetup("1 island on 2 cores", 1, 2))
SECOND_ISLAND_MIB = 200


def islands_suite(bench: BenchInput, n_seeds: int = 8, minutes: float = 1.0, trials: int = 8) -> SuiteResult:
    """Search for `minutes` as 1 island on 1 core, 2 islands on 2 cores and 1 island on 2 cores; compare
    evaluations (tuning trials) per second.

    Islands are the engine's unit of scale: with a core each, 2 should do about twice the work of 1. Reports
    seconds per trial, cores kept busy (CPU seconds of the process tree / wall seconds) and peak memory (PSS:
    pages shared between processes, like the panel, count once); the second island's memory is the difference.
    """
    seeds = [Seed(name, p.source) for name, p in list(bench.programs.items())[:n_seeds]]
    cores = sorted(os.sched_getaffinity(0))
    timings, busy, peak = [], {}, {}
    for setup in ISLAND_SETUPS:
        if setup.cores > len(cores):
            raise BenchError(f"the islands suite needs {setup.cores} cores; this process may use {len(cores)}")
        config = RunConfig(search=SearchConfig(iterations=100_000, max_minutes=minutes),
                           tuning=TuningConfig(n_trials=trials), islands=IslandsConfig(n_islands=setup.n_islands))
        runs = search_on_cores(config, cores[:setup.cores], bench, seeds)
        busy[setup.name], peak[setup.name] = runs.busy, runs.peak_mib
        timings.append(Timing(f"{setup.name} ({setup.n_islands} x {sandbox_workers(config, setup.cores)} "
                              f"worker(s)): seconds per trial, {runs.busy:.2f} cores busy, peak memory "
                              f"{runs.peak_mib:.0f} MiB", runs.per_trial))
    one, two, wide = timings
    ratio = Ratio("evaluations/s: 2 islands on 2 cores vs 1 island on 1 core", one, two)
    second = peak[ISLAND_SETUPS[1].name] - peak[ISLAND_SETUPS[0].name]
    return SuiteResult(timings, [ratio, Ratio("evaluations/s: 2 islands vs 1 island, both on 2 cores", wide, two)],
                       [Target("2 islands >= 1.8x one island (evaluations/s, a core each)", ratio.median, 1.8,
                               f"two islands keep {busy[ISLAND_SETUPS[1].name]:.2f} of 2 cores busy where one keeps "
                               f"{busy[ISLAND_SETUPS[0].name]:.2f} of 1, and a trial costs more CPU when two "
                               "share the memory bus"),
                        Target(f"memory of the second island <= {SECOND_ISLAND_MIB} MiB (peak PSS, 2 islands less 1)",
                               second, SECOND_ISLAND_MIB,
                               "the second island's own search process, sandbox server and run children hold "
                               "their factor values and the programs' intermediate arrays", at_most=True)])


@dataclass(frozen=True)
class SearchRuns:
    """Runs of one search setup: seconds per tuning trial of each, cores kept busy and peak memory (PSS)."""

    per_trial: tuple[float, ...]
    busy: float  # median CPU seconds of the process tree per wall second
    peak_mib: float  # the highest of the runs


def search_on_cores(config: RunConfig, cores: Sequence[int], bench: BenchInput, seeds: Sequence[Seed]) -> SearchRuns:
    """Run a new search as `config` says on `cores` only, `bench.repeat` times (at most 2)."""
    per_trial, used, peak = [], [], 0.0
    for _ in range(min(bench.repeat, 2)):
        with _on_cores(cores), PeakMemory() as memory, \
                fresh_search(config, bench.dataset, seeds) as (seconds, cpu, store):
            per_trial.append(seconds / len(store.trials()))
        used.append(cpu / seconds)
        peak = max(peak, memory.peak_mib)
    return SearchRuns(tuple(per_trial), statistics.median(used), peak)


@contextlib.contextmanager
def _on_cores(cores: Sequence[int]) -> Iterator[None]:
    """Run the block (and every process it starts) on `cores` only."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@contextlib.contextmanager
def fresh_search(config: RunConfig, dataset: Dataset, seeds: Sequence[Seed]) -> Iterator[tuple[float, float, Store]]:
    """Run a new search in a temporary directory; yield its wall seconds, CPU seconds and store."""
    with tempfile.TemporaryDirectory() as directory:
        run_dir = Path(directory)
        with Store.create(run_dir / RUN_DATABASE, config=as_dict(config), fingerprint="bench",
                          seed=config.search.seed) as store:
            cpu, start = _cpu_seconds(), time.perf_counter()
            run_archipelago(store, config, dataset, seeds)
            yield time.perf_counter() - start, _cpu_seconds() - cpu, store


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its reaped descendants."""
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))
