"""Benchmarks: repeated timings with medians and spread, and the machine they ran on."""
from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from factorengine.data import Dataset, load_panel, make_dataset
from factorengine.fitness import score
from factorengine.program import load_factor, parse_program


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


def data_suite(path: Path, seeds: list[Path], repeat: int = 5) -> list[Timing]:
    """Time loading the panel at `path`, and computing then scoring each seed program on it."""
    timings = [measure(f"load {path.name}", lambda: load_panel(path), repeat=min(repeat, 3))]
    dataset = make_dataset(load_panel(path))
    for seed in seeds:
        timings.extend(_seed_timings(seed, dataset, repeat))
    return timings


def _seed_timings(path: Path, dataset: Dataset, repeat: int) -> list[Timing]:
    program = parse_program(path.read_text(), str(path))
    factor = load_factor(program.source, str(path))
    values = factor(dataset.panel)
    return [measure(f"compute {path.stem}", lambda: factor(dataset.panel), repeat),
            measure(f"score {path.stem}", lambda: score(values, dataset.label, dataset.splits), repeat)]


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
