"""CPU per tuning trial of a 1-island mutate search on the real panel, with the code at a given path.

    python reports/throughput/cpu_per_trial.py CODE_DIR LABEL [EVALUATIONS]

runs `factorengine evolve` (8 trials a program, stopped at EVALUATIONS, default 600) with PYTHONPATH=CODE_DIR
(e.g. a `git worktree` of another commit) and prints trials, wall seconds, trials per second, CPU seconds of the
whole process tree per trial and the cores it kept busy. Run the codes one after another on a quiet machine.
"""
from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time

DATA = os.environ.get("FACTORENGINE_DATA", "../shared/data") + "/us_main_daily.parquet"


def main(code: str, label: str, evaluations: str = "600") -> None:
    """Run the search and print its figures."""
    run = f"/tmp/cpu-per-trial-{label}"
    shutil.rmtree(run, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "factorengine.cli", "evolve", "--data", DATA, "--run-dir", run,
                    "--seeds", os.path.join(code, "seeds"), "--trials", "8", "--max-evaluations", evaluations,
                    "--iterations", "1000"], env={**os.environ, "PYTHONPATH": code}, stderr=subprocess.DEVNULL,
                   check=True)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the search and, reaped through it, every process it ran
    cpu = usage.ru_utime + usage.ru_stime
    with sqlite3.connect(f"{run}/run.db") as db:
        trials = db.execute("select count(*) from trials").fetchone()[0]
    print(f"{label}: {trials} trials in {wall:.0f} s, {trials / wall:.2f} trials/s, CPU {1000 * cpu / trials:.0f} ms "
          f"per trial, {cpu / wall:.2f} cores busy")


if __name__ == "__main__":
    main(*sys.argv[1:])
