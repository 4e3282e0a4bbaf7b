"""Benchmarks: repeated timings with medians and spread, and the machine they ran on."""
from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable, Mapping

from factorengine.data import Dataset, load_panel
from factorengine.config import EvaluationConfig
from factorengine.evaluate import Evaluator
from factorengine.fitness import score
from factorengine.program import Program, load_factor


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


SUITES = {"data": data_suite, "sandbox": sandbox_suite}


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
