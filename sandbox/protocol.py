"""Messages between the parent and the fork server, and their framing on a pipe.

Frames are an 8-byte little-endian length then a pickle. Pickle is safe here because
both ends are trusted code: program output never travels this way (it goes through a
result slot), and a child's report reaches the server as a checked literal (see `child.py`).
"""
from __future__ import annotations

import os
import pickle
import struct
from dataclasses import dataclass
from typing import Mapping

from sandbox.policy import Limits, Policy
from sandbox.shm import SharedInputs

__all__ = ["ChildReport", "Finished", "KillRequest", "Ready", "RunRequest", "ServerConfig",
           "Started", "recv", "send"]

_HEADER = struct.Struct("<Q")


@dataclass(frozen=True)
class ServerConfig:
    """First message to a new server: what to preload, the inputs and slot descriptors."""

    policy: Policy
    limits: Limits
    inputs: SharedInputs
    slots: tuple[tuple[int, int], ...]  # (fd, size) per worker, fds as numbered in the server
    parent_pid: int


@dataclass(frozen=True)
class Ready:
    """The server is warm and serving (`error` set instead when its setup failed)."""

    pid: int
    error: str = ""


@dataclass(frozen=True)
class RunRequest:
    """Run `entry(d, **kwargs)` from `source` in a fresh child writing into slot `slot`."""

    run_id: int
    slot: int
    source: str
    entry: str
    kwargs: Mapping[str, object]
    rows: int | None = None  # run on the first `rows` rows of every input (None: all)
    every: int = 1  # and on every `every`-th column


@dataclass(frozen=True)
class KillRequest:
    """SIGKILL the process group of run `run_id` if it is still running."""

    run_id: int


@dataclass(frozen=True)
class Started:
    """Run `run_id` is executing in child `pid` (its own process group)."""

    run_id: int
    pid: int


@dataclass(frozen=True)
class ChildReport:
    """What a child said about its run, validated by the server.

    kind: ok | raised | memory | violation | exited | bad_output | syntax | garbled
    """

    kind: str
    message: str = ""
    error_type: str = ""
    traceback: str = ""
    line: int = 0
    shape: tuple[int, ...] = ()
    code: int | str | None = None


@dataclass(frozen=True)
class Finished:
    """Run `run_id` is over and reaped: its report (None if it wrote none) and how it ended."""

    run_id: int
    report: ChildReport | None
    exit_code: int | None  # None when killed by a signal
    signal: int | None
    killed: bool  # the server SIGKILLed it on the parent's request (timeout)
    cpu_s: float
    seconds: float


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks, remaining = [], n
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def send(fd: int, message: object) -> None:
    """Write one framed message (blocking)."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    _write_all(fd, _HEADER.pack(len(body)) + body)


def recv(fd: int) -> object | None:
    """Read one framed message (blocking); None at end of file."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(header)[0])
    return None if body is None else pickle.loads(body)
