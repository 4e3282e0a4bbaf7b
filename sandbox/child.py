"""One run in a freshly forked child: confine the process, run the program, report, exit.

The report goes to the server on the child's own status pipe: one byte b"R" written by
trusted code right before the program starts (so a failure before it is the sandbox's
own, never the program's), then a record as a Python literal of str, int and list, made
with dict.__repr__ (C code the program cannot rebind, unlike json's Python code) and read
by the server with ast.literal_eval in `parse_report`. The output array itself goes into
the worker's result slot.
"""
from __future__ import annotations

import ast
import ctypes
import linecache
import mmap
import os
import resource
import signal
import sys
import traceback
import warnings
from dataclasses import dataclass
from types import CodeType, TracebackType
from typing import Any, NoReturn

import numpy as np

from sandbox.fields import Fields
from sandbox.guard import Guard, arm
from sandbox.policy import Limits, Policy
from sandbox.protocol import ChildReport, RunRequest
from sandbox.shm import Slot

__all__ = ["ChildContext", "PROGRAM_FILENAME", "REPORT_FAILED", "parse_report", "run_child"]

PROGRAM_FILENAME = "<program>"
_STARTED = b"R"
_SETUP_FAILED = b"E"
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS = 1, 4, 38
REPORT_FAILED = 70  # exit code when the sandbox's own code in the child raised
_MAX_TEXT = 4000
_KINDS = frozenset({"ok", "raised", "memory", "violation", "exited", "bad_output"})


@dataclass(frozen=True)
class ChildContext:
    """What every child of one server shares: rules, limits, inputs and process plumbing."""

    policy: Policy
    limits: Limits
    fields: Fields
    read_roots: tuple[str, ...]
    server_pid: int
    devnull_fd: int
    libc: ctypes.CDLL


def run_child(context: ChildContext, request: RunRequest, code: CodeType, slot: Slot,
              status_fd: int) -> NoReturn:
    """Confine this just-forked process, run the program and report; always ends in os._exit."""
    # bound before the program runs: it can rebind module globals and builtins, not these locals
    exit_now, write, encode = os._exit, os.write, dict.__repr__
    exit_code = REPORT_FAILED
    try:
        try:
            output = _confine(context, slot, status_fd)
        except BaseException as exc:  # a sandbox bug, not the program's: tell the server
            write(status_fd, _SETUP_FAILED + f"{type(exc).__name__}: {exc}".encode()[:_MAX_TEXT])
            raise
        write(status_fd, _STARTED)
        record = encode(_execute(context, request, code, output)).encode()
        while record:
            record = record[write(status_fd, record):]
        exit_code = 0
    finally:
        exit_now(exit_code)  # never fall back into the server's loop


def _confine(context: ChildContext, slot: Slot, status_fd: int) -> mmap.mmap:
    """Own session, die with the server, no core dumps, limits set, every other fd closed."""
    os.setsid()  # own process group: the server kills the whole group, grandchildren included
    libc = context.libc
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != context.server_pid:  # the server died before prctl took effect
        os._exit(71)
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for fd in (0, 1, 2):
        os.dup2(context.devnull_fd, fd)
    shape = context.policy.output_shape
    output = slot.map_for_writing(None if shape is None else slot.size)
    os.closerange(3, status_fd)
    os.closerange(status_fd + 1, os.sysconf("SC_OPEN_MAX"))  # no fd is above the soft limit
    _set_limits(context.limits)
    _disarm_fork_exec()
    warnings.simplefilter("ignore")  # warning display would read source files
    return output


def _set_limits(limits: Limits) -> None:
    statm = os.open("/proc/self/statm", os.O_RDONLY)
    try:
        pages = int(os.read(statm, 64).split()[0])  # first field: total program size in pages
    finally:
        os.close(statm)
    address_space = pages * mmap.PAGESIZE + limits.memory_mb * 2**20
    for limit, value in ((resource.RLIMIT_AS, address_space), (resource.RLIMIT_FSIZE, 0),
                         (resource.RLIMIT_NOFILE, limits.open_files), (resource.RLIMIT_NPROC, 0),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(limit, (value, value))
    # soft limit sends SIGXCPU, the hard one a second later SIGKILL
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))


def _disarm_fork_exec() -> None:
    """_posixsubprocess.fork_exec raises no audit event: drop it from this child's modules."""
    for module_name, attribute in (("_posixsubprocess", "fork_exec"), ("subprocess", "_fork_exec")):
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, attribute):
            delattr(module, attribute)


def _execute(context: ChildContext, request: RunRequest, code: CodeType,
             output: mmap.mmap) -> dict[str, Any]:
    source = request.source
    linecache.cache[PROGRAM_FILENAME] = (len(source), None, source.splitlines(True), PROGRAM_FILENAME)
    guard = arm(context.policy, context.read_roots)
    namespace = {"__name__": "__program__", "__builtins__": guard.builtins}
    try:
        exec(code, namespace)
        function = namespace.get(request.entry)
        if not callable(function):
            raise NameError(f"the program defines no function {request.entry!r}")
        fields = (context.fields if request.rows is None and request.every == 1
                  else context.fields.part(request.rows, request.every))
        expected = context.policy.shape_for(request.rows, request.every)
        report = _store_output(function(fields, **request.kwargs), output, expected)
    except BaseException as exc:  # the one boundary: a program's exception becomes a report
        # a refusal is reported before anything that could use what the program rebound
        report = {} if guard.first_violation() is not None else _describe_exception(exc, guard)
    violation = guard.first_violation()
    if violation is not None:
        report = {"kind": "violation", "message": violation}
    return report


def _bad_output(message: str) -> dict[str, Any]:
    return {"kind": "bad_output", "message": message}


def _store_output(result: object, output: mmap.mmap, expected: tuple[int, ...] | None) -> dict[str, Any]:
    """Check the result's type, dtype and shape, then write it as float64 into the slot."""
    if not isinstance(result, np.ndarray):
        return _bad_output(f"the program returned {type(result).__name__}, not a numpy array")
    array = np.ndarray.view(result, np.ndarray)  # the base class: no overridden methods
    if array.dtype.kind != "f":
        return _bad_output(f"the output has dtype {array.dtype}; return a float array")
    if expected is not None and array.shape != expected:
        return _bad_output(f"the output has shape {array.shape}; expected {expected}")
    if array.size == 0:
        return _bad_output(f"the output is empty (shape {array.shape})")
    if array.size * 8 > len(output):
        return _bad_output(f"the output is {array.size * 8 / 2**20:.0f} MB as float64, more than "
                           f"the {len(output) / 2**20:.0f} MB limit")
    target = np.frombuffer(output, dtype=np.float64, count=array.size).reshape(array.shape)
    np.copyto(target, array, casting="same_kind")
    return {"kind": "ok", "shape": list(array.shape)}


def _describe_exception(exc: BaseException, guard: Guard) -> dict[str, Any]:
    if isinstance(exc, SystemExit):
        code = exc.code if isinstance(exc.code, (int, str)) or exc.code is None else repr(exc.code)
        return {"kind": "exited", "code": code}
    if isinstance(exc, KeyboardInterrupt):  # what ends a Python process, like SystemExit
        return {"kind": "exited", "code": "KeyboardInterrupt"}
    if isinstance(exc, MemoryError):
        return {"kind": "memory"}
    try:
        message = str(exc)
    except BaseException:  # a program-defined __str__ may raise anything
        message = "<unprintable message>"
    guard.allow_frames()  # last: no program code runs after this (its __str__ already did)
    return {"kind": "raised", "error_type": type(exc).__name__, "message": message[:_MAX_TEXT],
            "traceback": _program_traceback(exc.__traceback__)}


def _program_traceback(tb: TracebackType | None) -> str:
    """The traceback restricted to the program's own frames (library frames say little)."""
    lines = []
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == PROGRAM_FILENAME:
            text = linecache.getline(PROGRAM_FILENAME, lineno).strip()
            lines.append(f"  line {lineno}, in {frame.f_code.co_name}\n    {text}\n")
    if not lines:
        return ""
    return ("Traceback (program frames only):\n" + "".join(lines[-20:]))[-_MAX_TEXT:]


def parse_report(data: bytes) -> ChildReport | None:
    """Read what a child wrote on its status pipe; None if the program never reported."""
    if not data.startswith(_STARTED):
        if data.startswith(_SETUP_FAILED):
            return ChildReport("setup_error", message=data[1:].decode(errors="replace"))
        return None
    body = data[len(_STARTED):]
    if not body:
        return None
    try:
        record = ast.literal_eval(body.decode())
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return ChildReport("garbled")
    return _validated(record)


def _validated(record: object) -> ChildReport:
    """A ChildReport from an untrusted literal, or kind "garbled" if it is not one."""
    if not isinstance(record, dict) or record.get("kind") not in _KINDS:
        return ChildReport("garbled")
    text = {key: record.get(key, "") for key in ("message", "error_type", "traceback")}
    shape, code = record.get("shape", []), record.get("code")
    if (not all(isinstance(value, str) for value in text.values())
            or not isinstance(shape, list) or len(shape) > 32
            or not all(type(n) is int and n >= 0 for n in shape)
            or not (code is None or type(code) in (int, str))):
        return ChildReport("garbled")
    return ChildReport(record["kind"], shape=tuple(shape), code=code,
                       **{key: value[:_MAX_TEXT] for key, value in text.items()})
