"""`factorengine evolve`: segment settings that cannot be, or a Ray cluster that does not answer, are refused in one
line before anything is written."""
import socket
import time

import pytest

from factorengine.cli import main
from tests.factorengine.runs import copy_seeds, evolve_args
from tests.ray_support import import_ray

# The default synthetic market runs from 2016-01-04 to 2018-11-26.
BAD_SEGMENTS = [
    (["--test-start", "2031-01-01"], "error: [data] test_start = 2031-01-01 is after the data's last day 2018-11-26; "
                                     "choose a date between 2016-01-04 and 2018-11-26"),
    (["--valid-start", "2018-01-02", "--test-start", "2017-01-03"],
     "error: [data] valid_start = 2018-01-02, test_start = 2017-01-03: valid would begin on 2018-01-02, not before "
     "test on 2017-01-03; valid must begin before test"),
    (["--valid-start", "2018-01-02", "--test-start", "2018-01-03"],
     "error: [data] valid_start = 2018-01-02, test_start = 2018-01-03: the valid segment would have 0 of the data's "
     "756 days (2016-01-04..2018-11-26); it needs 2 or more: choose other dates or fractions, or use more data"),
    (["--test-start", "2018-02-30"], "error: [data] test_start = '2018-02-30': not a date; write it as YYYY-MM-DD, "
                                     "or leave it empty"),
]


@pytest.mark.parametrize("flags, message", BAD_SEGMENTS, ids=["after the data", "overlapping", "empty", "no date"])
def test_evolve_refuses_a_bad_segment_setting_in_one_line_and_writes_no_run(flags, message, tmp_path, monkeypatch,
                                                                            capsys):
    monkeypatch.delenv("FACTORENGINE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "run"
    assert main([*evolve_args(run_dir, copy_seeds(tmp_path), 1), *flags]) == 2
    assert capsys.readouterr().err.splitlines() == [message]
    assert not run_dir.exists() and not (tmp_path / "runs").exists()


@pytest.mark.ray
def test_evolve_on_an_unreachable_ray_cluster_fails_in_one_line_within_30_s_and_writes_no_run(tmp_path,
                                                                                              monkeypatch, capsys):
    import_ray()
    monkeypatch.delenv("FACTORENGINE_DATA", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("", 0))
        port = probe.getsockname()[1]
    run_dir = tmp_path / "run"
    start = time.monotonic()
    code = main([*evolve_args(run_dir, copy_seeds(tmp_path), 1, islands=2), "--backend", "ray",
                 "--address", f"127.0.0.1:{port}"])

    assert time.monotonic() - start < 30
    assert code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: nothing answers at 127.0.0.1:{port} ") and "ray start --head" in line
    assert not run_dir.exists()
