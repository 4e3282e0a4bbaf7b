"""Turn how a run ended into an `Outcome`; the output is checked here, in the parent, not in the child."""
from __future__ import annotations

import math
import signal

import numpy as np

from sandbox.child import REPORT_FAILED
from sandbox.connection import SandboxError
from sandbox.outcomes import (BadOutput, CpuExceeded, Crashed, Exited, MemoryExceeded, Ok, Outcome,
                              PolicyViolation, RaisedError, SyntaxFailure, Timeout)
from sandbox.policy import Limits, Policy
from sandbox.protocol import ChildReport, Finished
from sandbox.shm import Slot

__all__ = ["judge"]


def judge(finished: Finished, *, slot: Slot, policy: Policy, limits: Limits, timeout_s: float,
          rows: int | None = None, every: int = 1) -> Outcome:
    """The outcome of one finished run; raises SandboxError if the sandbox itself failed."""
    report = finished.report
    if report is not None and report.kind == "setup_error":
        raise SandboxError(f"a run child failed before the program started: {report.message}")
    if finished.killed:
        return Timeout(timeout_s)
    if finished.signal is not None:
        if finished.signal == signal.SIGXCPU or (
                finished.signal == signal.SIGKILL and finished.cpu_s >= limits.cpu_s):
            return CpuExceeded(limits.cpu_s)
        return Crashed(finished.signal)
    if report is None and finished.exit_code == REPORT_FAILED:
        return PolicyViolation("the program broke the interpreter the sandbox reports with "
                               "(it rebound builtins or library functions)")
    if report is None:  # the program ended the process itself, e.g. os._exit
        return Exited(finished.exit_code)
    return _from_report(report, finished, slot=slot, expected=policy.shape_for(rows, every), limits=limits)


def _from_report(report: ChildReport, finished: Finished, *, slot: Slot, expected: tuple[int, ...] | None,
                 limits: Limits) -> Outcome:
    kind = report.kind
    if kind == "ok":
        return check_output(report.shape, finished.seconds, slot=slot, expected=expected)
    if kind == "raised":
        return RaisedError(report.error_type, report.message, report.traceback)
    if kind == "memory":
        return MemoryExceeded(limits.memory_mb)
    if kind == "violation":
        return PolicyViolation(report.message)
    if kind == "exited":
        return Exited(report.code)
    if kind == "bad_output":
        return BadOutput(report.message)
    if kind == "syntax":
        return SyntaxFailure(report.message, report.line)
    return PolicyViolation("the run's report was unreadable: the program wrote into the sandbox's "
                           "report channel or exited with an object that cannot be shown")


def check_output(shape: tuple[int, ...], seconds: float, *, slot: Slot,
                 expected: tuple[int, ...] | None) -> Outcome:
    """Copy the output out of `slot` and refuse wrong shapes, all-NaN, inf and constants."""
    if expected is not None and shape != expected:
        return BadOutput(f"the output has shape {shape}; expected {expected}")
    size = math.prod(shape)
    if size == 0 or 8 * size > slot.size:
        return BadOutput(f"the output of shape {shape} is empty or does not fit the result slot")
    values = slot.read(shape)
    low, high = np.fmin.reduce(values, axis=None), np.fmax.reduce(values, axis=None)
    if math.isnan(low):
        return BadOutput("the output is all NaN")
    if math.isinf(low) or math.isinf(high):
        return BadOutput("the output contains inf; replace infinities with NaN (e.g. after a division)")
    if low == high:
        return BadOutput(f"the output is constant ({low:g} wherever it is not NaN)")
    return Ok(values, seconds)
