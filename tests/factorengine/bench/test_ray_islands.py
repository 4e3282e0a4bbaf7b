"""The ray suite on a small synthetic panel: Ray actors against processes, and the cost of shipping a record."""
from __future__ import annotations

import pytest

from factorengine.bench.ray_islands import ray_suite
from tests.ray_support import import_ray


@pytest.mark.slow
@pytest.mark.ray
def test_the_ray_suite_compares_islands_as_actors_and_processes_and_times_shipping_a_record(bench):
    import_ray()
    result = ray_suite(bench, n_seeds=4, minutes=0.1, trials=2, shipments=5)

    names = [t.name for t in result.timings]
    assert [n.split(":")[0] for n in names[:2]] == ["2 islands as multiprocess on 2 cores",
                                                   "2 islands as ray on 2 cores"]
    assert all("peak memory" in n for n in names[:2])
    assert [n.rsplit(", ", 1)[1] for n in names[2:]] == ["multiprocess", "ray"]
    assert all(len(t.seconds) == 5 and 0 < t.median_ms < 5000 for t in result.timings[2:])
    [ratio] = result.ratios
    assert ratio.median > 0
