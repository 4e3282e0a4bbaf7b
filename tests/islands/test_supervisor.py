"""Supervising islands: payload exchange, restarts after a kill, an exception or a stall, stop, no orphans.

The toy island keeps its durable state in files under a test directory: the payloads it
received, one entry per committed round, so a restarted worker resumes where it stopped.
"""
from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from islands import IslandEvent, IslandOutcome, IslandsResult, Mailbox, Stopped, run_islands

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 5


@dataclass(frozen=True)
class Fault:
    """Misbehave in `island` after collecting `round` and before committing it, the first `times` times."""

    island: int
    round: int
    action: str  # "kill", "raise", "stall" or "interrupt" (Ctrl-C to the supervisor)
    times: int = 1


def payload(island: int, round: int) -> str:
    return f"island {island} round {round}"


def toy_island(island: int, mailbox: Mailbox, directory: Path, rounds: int = ROUNDS,
               fault: Fault | None = None, pause_s: float = 0.0) -> None:
    """Exchange one payload per round, then write how the function ended ("returned" or "Stopped")."""
    ending = directory / f"island{island}.ended"
    try:
        exchange_rounds(island, mailbox, directory, rounds, fault, pause_s)
    except Stopped:
        ending.write_text("Stopped")
        raise
    ending.write_text("returned")


def exchange_rounds(island: int, mailbox: Mailbox, directory: Path, rounds: int, fault: Fault | None,
                    pause_s: float) -> None:
    """Resume after the last committed round; publish, collect and commit each round; log each start."""
    state = directory / f"island{island}.json"
    received = json.loads(state.read_text()) if state.exists() else []
    (directory / f"island{island}.pid").write_text(str(os.getpid()))
    for round in range(len(received), rounds):
        if mailbox.should_stop():
            return
        with open(directory / f"island{island}.log", "a") as handle:
            handle.write(f"{round}\n")
        time.sleep(pause_s)
        mailbox.publish(round, payload(island, round))
        collected = mailbox.collect(round)
        if fault is not None and (island, round) == (fault.island, fault.round):
            misbehave(fault, mailbox, directory)
        received.append({str(source): value for source, value in collected.items()})
        state.with_suffix(".tmp").write_text(json.dumps(received))
        os.replace(state.with_suffix(".tmp"), state)
        mailbox.beat()


def misbehave(fault: Fault, mailbox: Mailbox, directory: Path) -> None:
    counter = directory / "faults"
    fired = int(counter.read_text()) if counter.exists() else 0
    if fired >= fault.times:
        return
    counter.write_text(str(fired + 1))
    if fault.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif fault.action == "raise":
        raise RuntimeError(f"island {fault.island} broke at round {fault.round}")
    elif fault.action == "stall":
        time.sleep(3600)
    elif fault.action == "interrupt":
        time.sleep(0.3)  # the other island is now blocked collecting a round this one did not publish
        os.kill(os.getppid(), signal.SIGINT)
        while not mailbox.should_stop():
            time.sleep(0.01)


def run(directory: Path, fault: Fault | None = None, n_islands: int = 2, topology: str = "ring",
        **supervision) -> tuple[IslandsResult, list[IslandEvent]]:
    directory.mkdir(exist_ok=True)
    events: list[IslandEvent] = []
    result = run_islands(functools.partial(toy_island, directory=directory, fault=fault), n_islands,
                         topology, on_event=events.append, **supervision)
    return result, events


def records(directory: Path, n_islands: int = 2) -> list[list[dict[str, str]]]:
    """Each island's committed rounds: {source island: payload} per round."""
    paths = [directory / f"island{island}.json" for island in range(n_islands)]
    return [json.loads(path.read_text()) if path.exists() else [] for path in paths]


def log(directory: Path, island: int) -> list[int]:
    """The rounds `island` started, in order, over all its workers."""
    return [int(line) for line in (directory / f"island{island}.log").read_text().split()]


def ring_of_two(rounds: int = ROUNDS) -> list[list[dict[str, str]]]:
    """What each island of an uninterrupted two-island ring commits."""
    return [[{str(1 - island): payload(1 - island, round)} for round in range(rounds)]
            for island in range(2)]


def kinds(events: list[IslandEvent], island: int) -> list[str]:
    return [event.kind for event in events if event.island == island]


def alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie (dead, not yet reaped by init) counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_ring_islands_receive_their_neighbours_payloads_round_by_round(tmp_path):
    result, events = run(tmp_path)

    assert records(tmp_path) == ring_of_two()
    assert result == IslandsResult((IslandOutcome(0, True, 0, None), IslandOutcome(1, True, 0, None)))
    assert kinds(events, 0) == kinds(events, 1) == ["started", "finished"]


def test_all_to_all_islands_receive_every_other_islands_payload(tmp_path):
    run(tmp_path, n_islands=3, topology="all")

    assert records(tmp_path, 3) == [
        [{str(source): payload(source, round) for source in range(3) if source != island}
         for round in range(ROUNDS)]
        for island in range(3)]


def asking_island(island: int, mailbox: Mailbox, directory: Path) -> None:
    """Ask the supervisor's process three questions and write down its answers."""
    answers = [mailbox.request((island, question)) for question in range(3)]
    (directory / f"island{island}.answers").write_text(json.dumps(answers))


def run_asking(directory: Path, **supervision) -> list[tuple[int, tuple[int, int], int]]:
    """Run two asking islands; what the supervisor's process was asked: (island, payload, its pid)."""
    asked = []

    def answer(island: int, payload: tuple[int, int]) -> int:
        asked.append((island, payload, os.getpid()))
        return 10 * island + payload[1]

    run_islands(functools.partial(asking_island, directory=directory), 2, on_request=answer, **supervision)
    return asked


def test_request_is_answered_by_on_request_in_the_callers_process(tmp_path):
    asked = run_asking(tmp_path)

    assert sorted(asked) == [(island, (island, question), os.getpid()) for island in (0, 1) for question in range(3)]
    assert [json.loads((tmp_path / f"island{island}.answers").read_text()) for island in (0, 1)] == [
        [0, 1, 2], [10, 11, 12]]


def test_sigkilled_worker_is_restarted_resumes_and_ends_as_an_uninterrupted_run(tmp_path):
    run(tmp_path / "uninterrupted")
    result, events = run(tmp_path / "killed", Fault(island=0, round=2, action="kill"))

    assert records(tmp_path / "killed") == records(tmp_path / "uninterrupted") == ring_of_two()
    assert log(tmp_path / "killed", 0) == [0, 1, 2, 2, 3, 4]  # resumed at the uncommitted round
    assert result.islands[0] == IslandOutcome(0, True, 1, "killed by SIGKILL")
    assert kinds(events, 0) == ["started", "failed", "restarted", "finished"]
    assert kinds(events, 1) == ["started", "finished"]


def test_raising_island_is_reported_with_its_traceback_and_restarted(tmp_path):
    result, events = run(tmp_path, Fault(island=0, round=2, action="raise"))

    [failure] = [event for event in events if event.kind == "failed"]
    assert failure.island == 0
    assert failure.detail.startswith("Traceback (most recent call last):")
    assert failure.detail.endswith("RuntimeError: island 0 broke at round 2\n")
    assert kinds(events, 0) == ["started", "failed", "restarted", "finished"]
    assert result.islands[0] == IslandOutcome(0, True, 1, failure.detail)
    assert records(tmp_path) == ring_of_two()


def test_island_out_of_restarts_is_dead_for_good_and_the_others_finish(tmp_path):
    result, events = run(tmp_path, Fault(island=0, round=2, action="raise", times=99), max_restarts=2)

    island0 = [event for event in events if event.island == 0]
    assert [event.kind for event in island0] == ["started", "failed", "restarted", "failed", "restarted",
                                                 "failed"]
    assert island0[-1].detail.endswith("RuntimeError: island 0 broke at round 2\n\n"
                                       "dead for good after 2 restarts")
    assert log(tmp_path, 0) == [0, 1, 2, 2, 2]
    assert records(tmp_path) == [ring_of_two()[0][:2],
                                 ring_of_two()[1][:3] + [{}, {}]]  # rounds 0-2 were published
    [dead, survivor] = result.islands
    assert (dead.finished, dead.restarts) == (False, 2)
    assert dead.last_error.endswith("RuntimeError: island 0 broke at round 2\n")
    assert survivor == IslandOutcome(1, True, 0, None)


def test_stalled_worker_is_killed_and_restarted(tmp_path):
    result, events = run(tmp_path, Fault(island=0, round=2, action="stall"), stall_timeout_s=1.0)

    assert kinds(events, 0) == ["started", "stalled", "failed", "restarted", "finished"]
    assert result.islands[0] == IslandOutcome(0, True, 1, "stalled: no beat for 1 s")
    # island 1 waited well over a second for island 0, but waiting to collect is not stalling
    assert kinds(events, 1) == ["started", "finished"]
    assert records(tmp_path) == ring_of_two()


def test_stop_wakes_a_blocked_collect_with_stopped(tmp_path):
    events: list[IslandEvent] = []
    with pytest.raises(KeyboardInterrupt):
        run_islands(functools.partial(toy_island, directory=tmp_path,
                                      fault=Fault(island=0, round=2, action="interrupt")),
                    2, on_event=events.append)

    assert (tmp_path / "island0.ended").read_text() == "returned"
    assert (tmp_path / "island1.ended").read_text() == "Stopped"  # it was waiting for round 3
    assert records(tmp_path) == [ring_of_two()[0][:3], ring_of_two()[1][:3]]
    assert kinds(events, 0) == kinds(events, 1) == ["started", "stopping"]


ENDLESS_RING = """
import functools, sys
from pathlib import Path
from islands import run_islands
from tests.islands.test_supervisor import toy_island
island = functools.partial(toy_island, directory=Path(sys.argv[1]), rounds=100_000, pause_s=0.05)
run_islands(island, 2, shutdown_timeout_s=30.0)
"""


@pytest.fixture
def endless_ring(tmp_path):
    """A supervisor subprocess running a two-island ring that would go on for over an hour."""
    # stderr goes to a file: a pipe held open by a surviving worker would hang the test, not fail it
    with open(tmp_path / "stderr", "w") as stderr:
        supervisor = subprocess.Popen([sys.executable, "-c", ENDLESS_RING, str(tmp_path)], cwd=ROOT,
                                      stderr=stderr)
    try:
        progressing = eventually(lambda: all(len(record) >= 3 for record in records(tmp_path)), 10.0)
        assert progressing and supervisor.poll() is None, (tmp_path / "stderr").read_text()
        yield supervisor
    finally:
        supervisor.kill()
        supervisor.wait()


def worker_pids(directory: Path) -> list[int]:
    return [int((directory / f"island{island}.pid").read_text()) for island in range(2)]


def test_ctrl_c_stops_every_worker_after_its_current_round_and_reraises(tmp_path, endless_ring):
    pids = worker_pids(tmp_path)
    endless_ring.send_signal(signal.SIGINT)
    start = time.monotonic()
    endless_ring.wait(timeout=20)

    assert time.monotonic() - start < 5.0  # the workers returned; none waited for the 30 s kill
    assert endless_ring.returncode != 0
    assert (tmp_path / "stderr").read_text().rstrip().endswith("KeyboardInterrupt")
    assert {(tmp_path / f"island{island}.ended").read_text() for island in range(2)} <= {"returned", "Stopped"}
    committed = records(tmp_path)
    assert abs(len(committed[0]) - len(committed[1])) <= 1
    assert [record == ring_of_two(len(record))[island] for island, record in enumerate(committed)] == [True, True]
    assert not any(alive(pid) for pid in pids)


def test_killed_supervisor_takes_its_workers_with_it(tmp_path, endless_ring):
    pids = worker_pids(tmp_path)
    assert all(alive(pid) for pid in pids)
    endless_ring.kill()
    endless_ring.wait()

    assert eventually(lambda: not any(alive(pid) for pid in pids), 3.0)
