"""The runtime suites on a small synthetic panel: each reports its timings, ratios and targets."""
from __future__ import annotations

from factorengine.bench.runtime import islands_suite, sandbox_suite, tune_suite


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


def test_the_islands_suite_measures_serial_islands_and_explains_a_missed_target(bench):
    result = islands_suite(bench, n_seeds=4, minutes=0.1, trials=2)
    [target] = result.targets
    assert len(result.timings) == 3 and all("cores busy" in t.name for t in result.timings)
    assert target.figure == result.ratios[0].median > 0
    assert "cores busy" in target.why and "allow at most" in target.why
