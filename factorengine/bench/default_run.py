"""A run as a new user starts it: the seeds plus 40 iterations with the default settings, on 1 and on 2 islands."""
from __future__ import annotations

from factorengine.bench.measure import SuiteResult, Timing
from factorengine.bench.memory import PeakMemory
from factorengine.bench.runtime import BenchInput, fresh_search
from factorengine.config import IslandsConfig, RunConfig, SearchConfig
from factorengine.search.island import Seed

ITERATIONS = 40
# Before issue 18 (commit 4d32215), as measured when the issue was filed: a default run on this panel with
# 2 islands made about 2 programs a minute per island.
BEFORE_PROGRAMS_PER_MIN_PER_ISLAND = 2.0


def default_run_suite(bench: BenchInput, iterations: int = ITERATIONS) -> SuiteResult:
    """Time one default run per island count; report programs (seeds and searched ones) per minute."""
    seeds = [Seed(name, p.source) for name, p in bench.programs.items()]
    timings, lines = [], []
    for n_islands in (1, 2):
        config = RunConfig(search=SearchConfig(iterations=iterations), islands=IslandsConfig(n_islands=n_islands))
        with PeakMemory() as memory, fresh_search(config, bench.dataset, seeds) as (seconds, cpu, store):
            programs = sum(1 for node in store.nodes() if node.kind != "migrant")
            trials = len(store.trials())
        per_minute = programs / seconds * 60
        timings.append(Timing(f"default run, {n_islands} island(s): {programs} programs, {trials:,} trials",
                              (seconds,)))
        lines.append(f"| {n_islands} | {programs} | {trials:,} | {seconds / 60:.1f} | {per_minute:.1f} | "
                     f"{per_minute / n_islands:.1f} | {BEFORE_PROGRAMS_PER_MIN_PER_ISLAND * n_islands:.0f} | "
                     f"{cpu / seconds:.2f} | {memory.peak_mib:.0f} |")
    table = "\n".join([
        f"A default run ({len(seeds)} seeds plus {iterations} iterations per island, every other setting default; "
        "before: about 2 programs a minute per island, as measured when issue 18 was filed):", "",
        "| islands | programs | trials | minutes | programs/min | per island | before | cores busy | peak MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|", *lines])
    return SuiteResult(timings, tables=[table])
