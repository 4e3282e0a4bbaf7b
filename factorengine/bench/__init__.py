"""`factorengine bench`: suites that time the engine's steps on a real panel against the alternatives."""
from __future__ import annotations

from typing import Callable

from factorengine.bench.default_run import default_run_suite
from factorengine.bench.harvest import harvest_suite
from factorengine.bench.measure import SuiteResult
from factorengine.bench.operators import ops_suite
from factorengine.bench.ray_islands import ray_suite
from factorengine.bench.runtime import BenchInput, data_suite, islands_suite, sandbox_suite, tune_suite
from factorengine.bench.scoring import fitness_suite
from factorengine.bench.search import search_suite
from factorengine.bench.startup import startup_suite

SUITES: dict[str, Callable[[BenchInput], SuiteResult]] = {
    "ops": ops_suite, "fitness": fitness_suite, "data": data_suite, "sandbox": sandbox_suite,
    "tune": tune_suite, "islands": islands_suite, "search": search_suite, "default": default_run_suite,
    "startup": startup_suite, "harvest": harvest_suite, "ray": ray_suite}
