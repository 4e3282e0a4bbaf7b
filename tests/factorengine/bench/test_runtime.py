"""The runtime suites on a small synthetic panel: each reports its timings, ratios and targets."""
from __future__ import annotations

from factorengine.bench.default_run import default_run_suite
from factorengine.bench.runtime import BenchInput, islands_suite, sandbox_suite, tune_suite


def test_the_sandbox_suite_states_its_target_and_the_overhead_of_one_run(bench):
    result = sandbox_suite(bench)
    [target] = result.targets
    assert target.name.startswith("sandbox >= 0.9x in-process") and target.figure == result.ratios[0].median > 0
    overhead = next(t for t in result.timings if t.name == "sandbox overhead of one run (trivial program)")
    assert 0 < overhead.median_ms < 1000
    assert any(r.name.startswith("CPU time: in-process / sandboxed") for r in result.ratios)


def test_the_tune_suite_compares_one_and_two_trials_in_flight(bench):
    result = tune_suite(bench, n_programs=1, n_trials=4)
    [ratio] = result.ratios
    assert [t.name for t in result.timings] == ["tune 1 seeds x 4 trials, n_parallel=1",
                                                "tune 1 seeds x 4 trials, n_parallel=2"]
    assert ratio.median > 0


def test_the_islands_suite_compares_islands_with_a_core_each_and_the_second_island_s_memory(bench):
    result = islands_suite(bench, n_seeds=4, minutes=0.1, trials=2)
    speed, memory = result.targets
    assert [t.name.split(" (")[0] for t in result.timings] == ["1 island on 1 core", "2 islands on 2 cores",
                                                              "1 island on 2 cores"]
    assert all("cores busy" in t.name for t in result.timings)
    assert speed.figure == result.ratios[0].median > 0 and not speed.at_most
    assert memory.at_most and memory.threshold == 200


def test_the_default_run_suite_reports_programs_per_minute_on_one_and_two_islands(bench):
    small = BenchInput(bench.path, bench.dataset, dict(list(bench.programs.items())[:2]), repeat=1)
    result = default_run_suite(small, iterations=1)
    assert [t.name.split(":")[0] for t in result.timings] == ["default run, 1 island(s)", "default run, 2 island(s)"]
    [table] = result.tables
    rows = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| 1 ") or line.startswith("| 2 ")]
    assert [int(r[0]) for r in rows] == [1, 2]
    assert int(rows[0][1]) >= 2 and int(rows[1][1]) >= 4  # every island scores the 2 seeds at least
    assert all(float(r[4]) > 0 for r in rows)
