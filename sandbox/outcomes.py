"""What one run returns: `Ok` with the output, or a typed failure whose `reason` can go into a prompt."""
from __future__ import annotations

import signal as _signal
from dataclasses import dataclass
from typing import ClassVar, TypeGuard

import numpy as np

__all__ = ["BadOutput", "Crashed", "CpuExceeded", "Exited", "Failure", "MemoryExceeded", "Ok",
           "Outcome", "PolicyViolation", "RaisedError", "SyntaxFailure", "Timeout", "is_ok"]


@dataclass(frozen=True, eq=False)
class Ok:
    """The program returned a usable array: float64 `values`, `seconds` of wall-clock for the run."""

    values: np.ndarray
    seconds: float
    kind: ClassVar[str] = "ok"


@dataclass(frozen=True)
class PolicyViolation:
    """The program tried something the sandbox refuses (file, network, process, ctypes, import)."""

    reason: str
    kind: ClassVar[str] = "policy_violation"


@dataclass(frozen=True)
class SyntaxFailure:
    """The source does not compile; `line` is 1-based (0 when unknown)."""

    reason: str
    line: int
    kind: ClassVar[str] = "syntax"


@dataclass(frozen=True)
class Timeout:
    """The run exceeded its wall-clock limit of `seconds` and was killed."""

    seconds: float
    kind: ClassVar[str] = "timeout"

    @property
    def reason(self) -> str:
        """Why the run failed, for a prompt or a log."""
        return f"the program ran longer than the {self.seconds:g} s wall-clock limit and was killed"


@dataclass(frozen=True)
class MemoryExceeded:
    """The run ran out of its address-space allowance of `limit_mb`."""

    limit_mb: int
    kind: ClassVar[str] = "memory"

    @property
    def reason(self) -> str:
        """Why the run failed, for a prompt or a log."""
        return f"the program needed more than the {self.limit_mb} MB memory limit"


@dataclass(frozen=True)
class CpuExceeded:
    """The run used more than `limit_s` CPU seconds."""

    limit_s: int
    kind: ClassVar[str] = "cpu"

    @property
    def reason(self) -> str:
        """Why the run failed, for a prompt or a log."""
        return f"the program used more than the {self.limit_s} s CPU limit"


@dataclass(frozen=True)
class Crashed:
    """The process died from `signal` (a native crash, an abort, or the kernel's OOM killer)."""

    signal: int
    kind: ClassVar[str] = "crashed"

    @property
    def reason(self) -> str:
        """Why the run failed, for a prompt or a log."""
        try:
            name = _signal.Signals(self.signal).name
        except ValueError:
            name = "unknown signal"
        return f"the process crashed: killed by {name} ({self.signal})"


@dataclass(frozen=True)
class Exited:
    """The program ended the process (sys.exit, os._exit, SystemExit, KeyboardInterrupt)."""

    code: int | str | None
    kind: ClassVar[str] = "exited"

    @property
    def reason(self) -> str:
        """Why the run failed, for a prompt or a log."""
        return (f"the program exited ({self.code!r}) instead of returning an array; do not call "
                "sys.exit or os._exit, or raise SystemExit or KeyboardInterrupt")


@dataclass(frozen=True)
class RaisedError:
    """The program raised `type`; `traceback` holds only the program's own frames."""

    type: str
    message: str
    traceback: str
    kind: ClassVar[str] = "raised"

    @property
    def reason(self) -> str:
        """Why the run failed, for a prompt or a log."""
        head = f"{self.type}: {self.message}" if self.message else self.type
        return f"{self.traceback}{head}" if self.traceback else head


@dataclass(frozen=True)
class BadOutput:
    """Unusable output: not a float array, wrong shape, all NaN, constant, inf, or too large."""

    reason: str
    kind: ClassVar[str] = "bad_output"


Failure = (PolicyViolation | SyntaxFailure | Timeout | MemoryExceeded | CpuExceeded | Crashed
           | Exited | RaisedError | BadOutput)
Outcome = Ok | Failure


def is_ok(outcome: Outcome) -> TypeGuard[Ok]:
    """Whether the run succeeded."""
    return isinstance(outcome, Ok)
