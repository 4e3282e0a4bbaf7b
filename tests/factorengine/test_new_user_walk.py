"""A new user's first hour, scripted: the commands run as a user types them, in a fresh directory on the synthetic
market; each ends with its documented exit code, no traceback, and a last line that says what to do next."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from factorengine.store import Store
from tests.factorengine.runs import SEEDS, copy_seeds

pytestmark = pytest.mark.slow
ITERATIONS = 10
BAD_PROGRAM = '''"""Reads a file: the policy refuses it."""
import os


def factor(d):
    return d.close
'''


@dataclass(frozen=True)
class Finished:
    """A command's exit code and what it printed."""

    code: int
    out: str
    err: str

    def last(self, stream: str) -> str:
        """The last non-empty line the command printed to `stream` ("out" or "err")."""
        return [line for line in getattr(self, stream).splitlines() if line.strip()][-1]


def _environment() -> dict[str, str]:
    """This environment without a data path: the commands fall back to the synthetic market."""
    return {k: v for k, v in os.environ.items() if k != "FACTORENGINE_DATA"}


def _start(cwd: Path, *args: str) -> subprocess.Popen:
    """Start `factorengine ARGS` in `cwd`, with Ctrl-C live even when the test runner ignores it."""
    return subprocess.Popen([sys.executable, "-m", "factorengine.cli", *args], cwd=cwd, env=_environment(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _run(cwd: Path, *args: str) -> Finished:
    """Run `factorengine ARGS` in `cwd` to its end."""
    with _start(cwd, *args) as process:
        out, err = process.communicate(timeout=300)
    return Finished(process.returncode, out, err)


def _interrupt_after(process: subprocess.Popen, database: Path, progress: int) -> Finished:
    """Send Ctrl-C once the run in `database` has committed iteration `progress`; wait for the command to end."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if database.exists():
            with Store.open(database, read_only=True) as store:
                if store.progress(0) >= progress:
                    break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return Finished(process.returncode, out, err)


def test_a_new_user_evolves_stops_resumes_harvests_and_reports_guided_by_each_last_line(tmp_path):
    (tmp_path / "seeds").mkdir()
    copy_seeds(tmp_path / "seeds")
    evolve = _start(tmp_path, "evolve", "--run-dir", "run", "--seeds", "seeds", "--iterations", str(ITERATIONS),
                    "--trials", "4")
    stopped = _interrupt_after(evolve, tmp_path / "run" / "run.db", len(SEEDS) + 1)
    with Store.open(tmp_path / "run" / "run.db", read_only=True) as store:
        committed = store.progress(0)
    walk = {"evolve, Ctrl-C": stopped, "resume": _run(tmp_path, "resume", "run"),
            "status": _run(tmp_path, "status", "run"), "harvest": _run(tmp_path, "harvest", "run"),
            "report": _run(tmp_path, "report", "run"), "report of no run": _run(tmp_path, "report", "nowhere")}
    for name, finished in walk.items():
        assert "Traceback" not in finished.out + finished.err, name
    assert {name: finished.code for name, finished in walk.items()} == {
        "evolve, Ctrl-C": 130, "resume": 0, "status": 0, "harvest": 0, "report": 0, "report of no run": 2}
    assert len(SEEDS) < committed < len(SEEDS) + ITERATIONS - 1  # stopped mid-search, finished iterations kept
    assert stopped.last("err").endswith("Continue with: factorengine resume run")
    assert walk["resume"].last("err").startswith("done: run. Next: factorengine harvest run, then factorengine "
                                                 "report run")
    assert walk["status"].last("out") == ("next: factorengine harvest run (factorengine resume run continues an "
                                          "unfinished search)")
    assert walk["harvest"].last("err") == "next: factorengine report run"
    assert "fitting LightGBM on the 4 seed(s)" in walk["harvest"].err
    report = (tmp_path / "run" / "report" / "index.html").resolve()
    assert walk["report"].last("out") == f"open it in a browser: {report.as_uri()}"
    assert report.read_text().startswith("<!DOCTYPE html>")
    assert walk["report of no run"].last("err").startswith("error: no run database at ")


def test_eval_of_a_bad_program_exits_1_naming_the_refusal_without_a_traceback(tmp_path):
    (tmp_path / "bad.py").write_text(BAD_PROGRAM)
    finished = _run(tmp_path, "eval", "bad.py")
    assert "Traceback" not in finished.out + finished.err
    assert finished.code == 1
    assert "bad.py" in finished.err and "'os'" in finished.err
