"""Startup suite: `factorengine --help` and `factorengine status RUN`, each in fresh processes, against a bare
python and python importing only what the command needs."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from factorengine.bench.measure import BenchError, SuiteResult, Target, Timing
from factorengine.bench.runtime import BenchInput
from factorengine.data.dataset import DATA_ENV

# --help: the argument parser, the installed version, logging set up before a command runs
HELP_IMPORTS = ("argparse", "importlib.metadata", "logging")
# status: those, the store (SQLite, JSON), the run config (TOML), fmean and median, and numpy (the store's rows
# hold arrays; the generalization figures are computed with it)
STATUS_IMPORTS = (*HELP_IMPORTS, "json", "sqlite3", "statistics", "tomllib", "numpy")
SLACK_S = 0.5  # what a command may take beyond python with its imports
N_SEEDS = 4  # seeds of the run `status` reads (it searches 2 iterations past them, 2 trials per program)


def startup_suite(bench: BenchInput) -> SuiteResult:
    """Time python alone, python with each command's imports, and the command; each run a fresh process."""
    with tempfile.TemporaryDirectory() as directory:
        run_dir = _small_run(Path(directory), bench)
        steps = [("python -c pass", ["-c", "pass"]),
                 (f"python -c 'import {', '.join(HELP_IMPORTS)}' (what --help needs)", _importing(HELP_IMPORTS)),
                 ("factorengine --help", ["-m", "factorengine.cli", "--help"]),
                 (f"python -c 'import {', '.join(STATUS_IMPORTS)}' (what status needs)", _importing(STATUS_IMPORTS)),
                 (f"factorengine status RUN ({N_SEEDS} seeds + 2 iterations)",
                  ["-m", "factorengine.cli", "status", str(run_dir)])]
        timings = _interleaved(steps, bench.repeat)
    _, help_imports, help_, status_imports, status = timings
    return SuiteResult(timings, targets=[_within("--help", help_, help_imports),
                                         _within("status", status, status_imports)])


def _within(command: str, timing: Timing, baseline: Timing) -> Target:
    """Met when the command's median is at most SLACK_S over python with its imports; the figure is the excess."""
    seconds, floor = timing.median_ms / 1000, baseline.median_ms / 1000
    return Target(f"{command} within {SLACK_S} s of python + its imports ({seconds:.2f} s vs {floor:.2f} s; "
                  "figure: seconds more)", seconds - floor, SLACK_S,
                  f"it takes {seconds - floor:.2f} s more; `python -X importtime -m factorengine.cli` on the command "
                  "shows what else it imports", at_most=True)


def _interleaved(steps: Sequence[tuple[str, Sequence[str]]], repeat: int) -> list[Timing]:
    """Run every step once per round, `repeat` rounds after a warm-up one: a shift in the machine's load (another
    job starting) falls on all steps alike, not on whichever was being timed."""
    seconds: dict[str, list[float]] = {name: [] for name, _ in steps}
    for round_ in range(repeat + 1):
        for name, argv in steps:
            start = time.perf_counter()
            _python(argv)
            if round_:
                seconds[name].append(time.perf_counter() - start)
    return [Timing(name, tuple(runs)) for name, runs in seconds.items()]


def _importing(modules: Sequence[str]) -> list[str]:
    """The arguments that make python import `modules` and exit."""
    return ["-c", f"import {', '.join(modules)}"]


def _python(argv: Sequence[str], env: dict[str, str] | None = None) -> None:
    """Run this python with `argv` in a fresh process; BenchError with its stderr when it fails."""
    done = subprocess.run([sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env=env, check=False)
    if done.returncode != 0:
        raise BenchError(f"python {' '.join(argv)} exited with {done.returncode}: {done.stderr.strip()}")


def _small_run(directory: Path, bench: BenchInput) -> Path:
    """Search the synthetic market from the first N_SEEDS seed programs into `directory`/run; return the run."""
    seeds = directory / "seeds"
    seeds.mkdir()
    for name, program in list(bench.programs.items())[:N_SEEDS]:
        (seeds / f"{name}.py").write_text(program.source)
    run_dir = directory / "run"
    env = {key: value for key, value in os.environ.items() if key != DATA_ENV}  # no panel: the synthetic market
    _python(["-m", "factorengine.cli", "evolve", "--run-dir", str(run_dir), "--seeds", str(seeds),
             "--iterations", "2", "--trials", "2"], env)
    return run_dir
