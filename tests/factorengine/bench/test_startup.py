"""The startup suite: --help and status timed in fresh processes against python with the imports each needs."""
from __future__ import annotations

import pytest

from factorengine.bench.startup import startup_suite


def test_the_startup_suite_times_each_command_beside_python_with_its_imports_and_states_both_targets(bench,
                                                                                                     monkeypatch):
    monkeypatch.setenv("FACTORENGINE_DATA", "/no/such/panel")  # the suite's run searches the synthetic market anyway
    result = startup_suite(bench)
    assert [t.name.split(" (")[0] for t in result.timings] == [
        "python -c pass", "python -c 'import argparse, importlib.metadata, logging'", "factorengine --help",
        "python -c 'import argparse, importlib.metadata, logging, json, sqlite3, statistics, tomllib, numpy'",
        "factorengine status RUN"]
    assert all(len(t.seconds) == 1 and t.seconds[0] > 0 for t in result.timings)
    help_, status = result.targets
    assert help_.name.startswith("--help within 0.5 s of python + its imports (")
    assert status.name.startswith("status within 0.5 s of python + its imports (")
    floor, seconds = result.timings[3].seconds[0], result.timings[4].seconds[0]
    assert status.at_most and status.figure == pytest.approx(seconds - floor)
    assert f"({seconds:.2f} s vs {floor:.2f} s;" in status.name
