"""Benchmarks: repeated timings with medians and spread, and the machine they ran on."""
from __future__ import annotations

import os
import platform
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable, Mapping

from factorengine.data import Dataset, load_panel
from factorengine.archipelago import run_archipelago, sandbox_workers
from factorengine.config import EvaluationConfig, IslandsConfig, RunConfig, SearchConfig, TuningConfig, as_dict
from factorengine.engine import Seed
from factorengine.store import RUN_DATABASE, Store
from factorengine.evaluate import Evaluator
from factorengine.fitness import score
from factorengine.program import Program, load_factor
from factorengine.tune import Tuner


@dataclass(frozen=True)
class Timing:
    """Seconds of `repeat` runs of one measured step (after one warm-up run)."""

    name: str
    seconds: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        """Median run time in milliseconds."""
        return 1000 * statistics.median(self.seconds)

    @property
    def spread_ms(self) -> tuple[float, float]:
        """Fastest and slowest run in milliseconds."""
        return 1000 * min(self.seconds), 1000 * max(self.seconds)


def measure(name: str, step: Callable[[], object], repeat: int = 5) -> Timing:
    """Time `step` `repeat` times after one warm-up run."""
    step()
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return Timing(name, tuple(seconds))


@dataclass(frozen=True)
class Ratio:
    """Throughput of `candidate` relative to `baseline` (> 1: candidate is faster), per paired run."""

    name: str
    baseline: Timing
    candidate: Timing

    @property
    def values(self) -> tuple[float, ...]:
        """The ratio of each paired run."""
        return tuple(b / c for b, c in zip(self.baseline.seconds, self.candidate.seconds))


@dataclass(frozen=True)
class BenchInput:
    """What every suite measures on: the panel file, its dataset and the seed programs."""

    path: Path
    dataset: Dataset
    programs: Mapping[str, Program]  # name -> program
    repeat: int


def data_suite(bench: BenchInput) -> tuple[list[Timing], list[Ratio]]:
    """Time loading the panel, and computing then scoring each seed program in this process."""
    timings = [measure(f"load {bench.path.name}", lambda: load_panel(bench.path), repeat=min(bench.repeat, 3))]
    for name, program in bench.programs.items():
        factor = load_factor(program.source, name)
        values = factor(bench.dataset.panel)
        timings.append(measure(f"compute {name}", lambda: factor(bench.dataset.panel), bench.repeat))
        timings.append(measure(f"score {name}",
                               lambda: score(values, bench.dataset.label, bench.dataset.splits), bench.repeat))
    return timings, []


def sandbox_suite(bench: BenchInput) -> tuple[list[Timing], list[Ratio]]:
    """Compare evaluating every seed (compute + score) in this process and through the sandbox."""
    dataset = bench.dataset
    factors = [load_factor(p.source, name) for name, p in bench.programs.items()]

    def in_process() -> None:
        for factor in factors:
            score(factor(dataset.panel), dataset.label, dataset.splits)

    timings, ratios = [], []
    baseline = measure(f"{len(factors)} seeds in-process", in_process, bench.repeat)
    timings.append(baseline)
    for probe in (False, True):
        with Evaluator(dataset, EvaluationConfig(probe=probe)) as evaluator:
            jobs = [(name, p, p.defaults) for name, p in bench.programs.items()]
            sandboxed = measure(f"{len(factors)} seeds sandboxed{' + lookahead probe' if probe else ''}",
                                lambda: evaluator.evaluate_many(jobs), bench.repeat)
        timings.append(sandboxed)
        ratios.append(Ratio(f"sandboxed{' + probe' if probe else ''} vs in-process evaluation throughput",
                            baseline, sandboxed))
    batch_timings, batch_ratio = _batch(bench)
    return timings + batch_timings + _overhead(dataset, bench.repeat), ratios + [batch_ratio]


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
    """Time `runs` runs of a trivial program: the fixed cost of a sandboxed run, per run."""
    source = "def factor(d):\n    return d.close * 1.0\n"
    with Evaluator(dataset) as evaluator:
        sandbox = evaluator.sandbox
        per_run = measure(f"trivial program, {runs} sandboxed runs",
                          lambda: sandbox.run(source, "factor", [{}] * runs, 60.0), repeat)
    plain = measure(f"trivial program, {runs} in-process runs",
                    lambda: [dataset.panel.close * 1.0 for _ in range(runs)], repeat)
    return [per_run, plain]


def tune_suite(bench: BenchInput, n_programs: int = 3, n_trials: int = 16) -> tuple[list[Timing], list[Ratio]]:
    """Time TPE studies (fixed budget, no early stop) asking 1 vs 2 trials at once on 2 sandbox workers."""
    programs = list(bench.programs.values())[:n_programs]
    timings = []
    with Evaluator(bench.dataset, EvaluationConfig(n_workers=2)) as evaluator:
        for n_parallel in (1, 2):
            tuner = Tuner(evaluator, TuningConfig(n_trials=n_trials, n_parallel=n_parallel, patience=0))
            timings.append(measure(f"tune {len(programs)} seeds x {n_trials} trials, n_parallel={n_parallel}",
                                   lambda: [tuner.tune(p, seed=0) for p in programs], min(bench.repeat, 3)))
    return timings, [Ratio("tuning trials/s: n_parallel=2 vs 1 (2 sandbox workers)", *timings)]


def islands_suite(bench: BenchInput, n_seeds: int = 8, iterations: int = 16,
                  trials: int = 8) -> tuple[list[Timing], list[Ratio]]:
    """Run one search budget (seeds + iterations, split among the islands) as 1 and as 2 islands.

    Reports programs and trials per second and the peak memory of the whole process tree (PSS: pages shared
    between processes, like the panel, count once in total).
    """
    seeds = [Seed(name, p.source) for name, p in list(bench.programs.items())[:n_seeds]]
    timings = []
    for n_islands, workers in ((1, 0), (1, 1), (2, 0)):
        config = RunConfig(search=SearchConfig(iterations=iterations // n_islands),
                           tuning=TuningConfig(n_trials=trials), evaluation=EvaluationConfig(n_workers=workers),
                           islands=IslandsConfig(n_islands=n_islands))
        with tempfile.TemporaryDirectory() as directory, PeakMemory() as memory:
            run_dir = Path(directory)
            Store.create(run_dir / RUN_DATABASE, config=as_dict(config), fingerprint="bench", seed=0).close()
            start = time.perf_counter()
            run_archipelago(run_dir, config, bench.dataset, seeds)
            seconds = time.perf_counter() - start
            with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
                programs = sum(n.kind != "migrant" for n in store.nodes())
                n_trials = len(store.trials())
        timings.append(Timing(f"{n_islands} island(s) x {sandbox_workers(config)} sandbox worker(s): {programs} "
                              f"programs ({programs / seconds:.2f}/s), {n_trials} trials ({n_trials / seconds:.2f}/s), "
                              f"peak memory {memory.peak_mib:.0f} MiB", (seconds,)))
    return timings, []


class PeakMemory:
    """Samples the summed PSS of this process and its descendants in a thread; `peak_mib` is the maximum."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s, self.peak_mib = interval_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_mib = max(self.peak_mib, sum(map(_pss_kib, _process_tree(os.getpid()))) / 1024)


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _pss_kib(pid: int) -> int:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("Pss:")), 0)


SUITES = {"data": data_suite, "sandbox": sandbox_suite, "tune": tune_suite, "islands": islands_suite}


def machine_description() -> list[str]:
    """Lines describing the CPU, cores, memory and library versions."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = ", ".join(f"{name} {metadata.version(name)}"
                         for name in ("numpy", "pandas", "bottleneck", "pyarrow", "libcst"))
    return [f"CPU: {cpu}; {os.cpu_count()} cores; {memory_gib:.1f} GiB memory",
            f"Python {platform.python_version()} on {platform.system()} {platform.release()}; {versions}"]
