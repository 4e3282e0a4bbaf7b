"""The harvest suite: wall time and peak memory of `factorengine harvest` of 10 elites on the real panel.

The suite makes its own small run (the seeds alone, SEED_TRIALS tuning trials each), then harvests a fresh copy of
it (harvest records the test metrics it judges, so a second harvest of one run would skip that work) in a process
of its own, as a user runs it, sampling the summed PSS of that process and its sandbox's every 0.1 s. Gates that
let any seed with an edge on train and valid through make sure the choice reaches ELITES elites.
"""
from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Sequence

from factorengine.bench.measure import BenchError, SuiteResult, Target, Timing
from factorengine.bench.memory import PeakMemory
from factorengine.bench.runtime import BenchInput
from factorengine.harvest import MANIFEST
from factorengine.store import RUN_DATABASE

ELITES = 10
LIMIT_S = 30.0
LIMIT_MB = 1500.0  # 1.5 GB
SEED_TRIALS = 2
HARVEST_OPTIONS = ("--threshold", "inf", "--top", str(ELITES), "--min-valid-t", "0", "--min-stable-share", "0",
                   "--max-corr", "1", "--allow-level-bets")  # the best ELITES by valid FS that held their sign


@dataclass(frozen=True)
class CommandCost:
    """What one command cost: wall seconds, the peak summed PSS of its process tree (MiB), its exit code, and the
    CPU seconds (user + system) of the tree, which other jobs on the machine inflate less than wall seconds."""

    seconds: float
    peak_mib: float
    returncode: int
    cpu_s: float = 0.0

    @property
    def peak_mb(self) -> float:
        """The peak in MB (10^6 bytes)."""
        return self.peak_mib * 2**20 / 1e6


def measure_command(argv: Sequence[str], *, output: IO[str] | None = None, interval_s: float = 0.1) -> CommandCost:
    """Run `argv` (its stdout and stderr to `output`, else inherited), sampling its process tree every `interval_s`."""
    cpu, start = _children_cpu_s(), time.perf_counter()
    with subprocess.Popen(argv, stdout=output, stderr=output) as process, \
            PeakMemory(interval_s, root=process.pid) as memory:
        returncode = process.wait()
    return CommandCost(time.perf_counter() - start, memory.peak_mib, returncode, _children_cpu_s() - cpu)


def _children_cpu_s() -> float:
    """User + system CPU seconds of this process's waited-for descendants (each counts its own waited-for ones)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def harvest_suite(bench: BenchInput) -> SuiteResult:
    """Harvest ELITES elites of a seeds-only run on the real panel (twice) and compare with LIMIT_S and LIMIT_MB."""
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        run_dir = _seeds_run(bench, work)
        costs, elites = [], []
        for k in range(max(2, min(bench.repeat, 3))):
            copy = work / f"harvest-{k}"
            shutil.copytree(run_dir, copy)
            with (work / f"harvest-{k}.log").open("w") as log:
                cost = measure_command(_factorengine("harvest", str(copy), *HARVEST_OPTIONS), output=log)
            if cost.returncode != 0:
                raise BenchError(f"harvest failed (exit {cost.returncode}): "
                                 f"{(work / f'harvest-{k}.log').read_text()[-2000:]}")
            costs.append(cost)
            elites.append(len(json.loads((copy / "harvest" / MANIFEST).read_text())["elites"]))
    timing = Timing(f"harvest of {elites[0]} elites of a {len(bench.programs)}-seed run (whole process tree)",
                    tuple(c.seconds for c in costs))
    return SuiteResult([timing], targets=[harvest_target(costs, elites[0])], tables=[_table(costs, elites)])


def harvest_target(costs: Sequence[CommandCost], elites: int) -> Target:
    """The target row: met when the median time and the largest peak are under LIMIT_S and LIMIT_MB.

    Its figure is the smaller headroom, min(LIMIT_S / seconds, LIMIT_MB / peak MB): at least 1 when both are met.
    """
    seconds, peak_mb = statistics.median(c.seconds for c in costs), max(c.peak_mb for c in costs)
    missed = []
    if seconds >= LIMIT_S:
        missed.append(f"it took {seconds:.0f} s: LightGBM's 150 rounds on the train rows of the seeds' features and "
                      "its predictions on every day take most of it (kept bit for bit: float32 features or another "
                      "thread count would change the models)")
    if peak_mb >= LIMIT_MB:
        missed.append(f"it peaked at {peak_mb:,.0f} MB: LightGBM builds its dataset from the seeds' float64 train "
                      "rows, held at once")
    if elites != ELITES:
        missed.append(f"the run gave {elites} elites, not {ELITES}")
    return Target(f"harvest of {ELITES} elites < {LIMIT_S:g} s and < {LIMIT_MB / 1000:g} GB (figure: the smaller "
                  f"of {LIMIT_S:g} s / time and {LIMIT_MB / 1000:g} GB / peak)",
                  min(LIMIT_S / seconds, LIMIT_MB / peak_mb), 1.0, "; ".join(missed))


def _seeds_run(bench: BenchInput, work: Path) -> Path:
    """A run of the seeds alone on the bench's panel, SEED_TRIALS tuning trials each."""
    seeds = work / "seeds"
    seeds.mkdir()
    for name, program in bench.programs.items():
        (seeds / f"{name}.py").write_text(program.source)
    run_dir = work / "run"
    with (work / "evolve.log").open("w") as log:
        evolve = _factorengine("evolve", "--data", str(bench.path), "--run-dir", str(run_dir), "--seeds", str(seeds),
                               "--trials", str(SEED_TRIALS), "--iterations", "0", "--seed", "0")
        finished = subprocess.run(evolve, stdout=log, stderr=log, check=False)
    if finished.returncode != 0 or not (run_dir / RUN_DATABASE).exists():
        raise BenchError(f"the harvest suite's run failed: {(work / 'evolve.log').read_text()[-2000:]}")
    return run_dir


def _factorengine(*args: str) -> list[str]:
    """`factorengine ARGS` run by this interpreter."""
    return [sys.executable, "-m", "factorengine.cli", *args]


def _table(costs: Sequence[CommandCost], elites: Sequence[int]) -> str:
    lines = [f"`factorengine harvest RUN {' '.join(HARVEST_OPTIONS)}` on a fresh copy of a run of the seeds "
             f"({SEED_TRIALS} trials each) on the real panel; peak memory is the summed PSS of the harvest process "
             "and its sandbox's, sampled every 0.1 s:", "",
             "| harvest | elites | wall s | CPU s | peak MiB | peak MB |", "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {k} | {n} | {c.seconds:.1f} | {c.cpu_s:.1f} | {c.peak_mib:,.0f} | {c.peak_mb:,.0f} |"
              for k, (c, n) in enumerate(zip(costs, elites), start=1)]
    return "\n".join(lines)
