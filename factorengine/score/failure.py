"""Why an evaluation produced no fitness: one kind per cause, its value the status the run store records."""
from __future__ import annotations

from enum import StrEnum


class FailureKind(StrEnum):
    """The kind of an evaluation failure; a str, so it is stored, logged and compared as its value."""

    PROGRAM = "program"  # the proposal does not parse as a factor program
    POLICY = "policy"  # the static policy refused the code before it ran
    LOOKAHEAD = "lookahead"  # the probe saw past values change when later days were cut
    # the sandbox's outcome kinds (sandbox.outcomes), passed through as they are
    POLICY_VIOLATION = "policy_violation"
    SYNTAX = "syntax"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    CPU = "cpu"
    CRASHED = "crashed"
    EXITED = "exited"
    RAISED = "raised"
    BAD_OUTPUT = "bad_output"
