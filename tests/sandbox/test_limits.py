"""Sandbox limits and lifecycle: timeouts, CPU, memory, crashes, restart, close, parent death."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sandbox import CpuExceeded, Crashed, Limits, MemoryExceeded, Ok, Policy, Sandbox, Timeout

ROOT = Path(__file__).resolve().parents[2]
SHAPE = (50, 8)
CLOSE = np.random.default_rng(11).normal(100.0, 5.0, SHAPE)
CLEAN = "def factor(d):\n    return d.close * 2.0\n"


def run_one(sandbox: Sandbox, source: str, timeout_s: float = 2.0):
    [outcome] = sandbox.run(textwrap.dedent(source), "factor", [{}], timeout_s)
    return outcome


def assert_clean_run_is_exact(sandbox: Sandbox) -> None:
    outcome = run_one(sandbox, CLEAN)
    assert isinstance(outcome, Ok), outcome
    np.testing.assert_array_equal(outcome.values, CLOSE * 2.0)


def process_state(pid: int) -> str | None:
    """The /proc state letter of `pid` (R, S, Z, ...), None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def children_of(pid: int) -> set[int]:
    children = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid:
                children.add(int(entry))
    return children


def memfds() -> list[str]:
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:
            continue
    return [link for link in links if link.startswith("/memfd:sandbox")]


@pytest.fixture(scope="module")
def sandbox():
    policy = Policy(allowed_imports=("numpy", "time", "signal", "os", "faulthandler"), output_shape=SHAPE)
    with Sandbox({"close": CLOSE}, policy=policy, limits=Limits(memory_mb=256, cpu_s=10)) as box:
        yield box


# --- limits ------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    """
    import signal
    def factor(d):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            pass
    """,
    "import time\ndef factor(d):\n    time.sleep(1e9)\n",
])
def test_run_past_the_wall_clock_limit_is_a_timeout(sandbox, source):
    started = time.monotonic()
    outcome = run_one(sandbox, source, timeout_s=1.0)
    assert outcome == Timeout(1.0)
    assert time.monotonic() - started < 3.0
    assert_clean_run_is_exact(sandbox)


def test_cpu_burn_past_cpu_s_is_cpu_exceeded():
    with Sandbox({"close": CLOSE}, policy=Policy(), limits=Limits(cpu_s=1)) as box:
        outcome = run_one(box, "def factor(d):\n    while True:\n        pass\n", timeout_s=10.0)
        assert outcome == CpuExceeded(1)
        assert outcome.reason == "the program used more than the 1 s CPU limit"
        assert_clean_run_is_exact(box)


@pytest.mark.parametrize("source", [
    "import numpy as np\ndef factor(d):\n    return np.ones((100_000, 100_000))\n",
    """
    import numpy as np
    def factor(d):
        blocks = []
        while True:
            blocks.append(np.ones(10_000_000))
    """,
])
def test_allocating_past_memory_mb_is_memory_exceeded(sandbox, source):
    outcome = run_one(sandbox, source, timeout_s=10.0)
    assert outcome == MemoryExceeded(256)
    assert_clean_run_is_exact(sandbox)


@pytest.mark.parametrize(("source", "signal_number"), [
    ("import faulthandler\ndef factor(d):\n    faulthandler._sigsegv()\n", signal.SIGSEGV),
    ("import os\ndef factor(d):\n    os.abort()\n", signal.SIGABRT),
])
def test_native_crash_is_crashed_with_its_signal(sandbox, source, signal_number):
    outcome = run_one(sandbox, source)
    assert outcome == Crashed(signal_number)
    assert signal_number.name in outcome.reason
    assert_clean_run_is_exact(sandbox)


# --- lifecycle ---------------------------------------------------------------------------------

def test_next_run_restarts_a_dead_server(sandbox):
    old_pid = sandbox.server_pid
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while process_state(old_pid) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert_clean_run_is_exact(sandbox)
    assert sandbox.server_pid != old_pid


def test_close_leaves_no_processes_and_no_shared_memory():
    before_children, before_memfds = children_of(os.getpid()), memfds()
    box = Sandbox({"close": CLOSE}, policy=Policy(), n_workers=2)
    server_pid = box.server_pid
    assert len(memfds()) == len(before_memfds) + 4  # the inputs, a slot per worker, a spare slot
    assert all(isinstance(o, Ok) for o in box.run(CLEAN, "factor", [{}] * 4, timeout_s=2.0))
    box.close()
    box.close()  # idempotent
    assert process_state(server_pid) is None
    assert children_of(server_pid) == set()
    assert children_of(os.getpid()) <= before_children  # earlier tests' workers may exit meanwhile
    assert not Counter(memfds()) - Counter(before_memfds)  # none left; an earlier one may be freed meanwhile


def test_killed_parent_leaves_no_server_behind():
    script = textwrap.dedent("""
        import sys, time
        import numpy as np
        from sandbox import Policy, Sandbox
        box = Sandbox({"close": np.ones((4, 4))}, policy=Policy())
        print(box.server_pid, flush=True)
        time.sleep(60)
        """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        server_pid = int(parent.stdout.readline())
        assert process_state(server_pid) in ("R", "S")
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
    deadline = time.monotonic() + 5.0
    while process_state(server_pid) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process_state(server_pid) in (None, "Z")  # a zombie only until init reaps it
