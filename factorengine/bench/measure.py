"""What a benchmark records: repeated timings, paired ratios, targets, and the machine they ran on."""
from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

from factorengine.errors import FactorEngineError


class BenchError(FactorEngineError, RuntimeError):
    """A suite cannot run (a missing library) or its comparison is void (results disagree)."""


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

    @property
    def median(self) -> float:
        """Median of the paired ratios."""
        return statistics.median(self.values)


@dataclass(frozen=True)
class Target:
    """A goal for this machine: met when `figure` >= `threshold` (<= with `at_most`); `why` says what holds it back
    when not."""

    name: str
    figure: float
    threshold: float
    why: str = ""
    at_most: bool = False

    @property
    def met(self) -> bool:
        """Whether the figure reaches the threshold (stays under it, with `at_most`)."""
        return self.figure <= self.threshold if self.at_most else self.figure >= self.threshold


@dataclass
class SuiteResult:
    """What one suite measured: timings, ratios, targets and extra Markdown tables."""

    timings: list[Timing] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


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
                         for name in LIBRARIES if _installed(name))
    return [f"CPU: {cpu}; {os.cpu_count()} cores; {memory_gib:.1f} GiB memory",
            f"Python {platform.python_version()} on {platform.system()} {platform.release()}; {versions}"]


LIBRARIES = ("numpy", "pandas", "bottleneck", "pyarrow", "optuna", "libcst", "scikit-learn", "gplearn",
             "alphalens-reloaded")


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True
