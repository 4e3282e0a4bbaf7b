"""Run untrusted program text in disposable child processes under a caller-given policy.

Generic: this package never imports `factorengine`.
"""
from sandbox.connection import SandboxError
from sandbox.fields import Fields
from sandbox.outcomes import (BadOutput, CpuExceeded, Crashed, Exited, Failure, MemoryExceeded, Ok,
                              Outcome, PolicyViolation, RaisedError, SyntaxFailure, Timeout, is_ok)
from sandbox.policy import Limits, Policy
from sandbox.runner import Sandbox
from sandbox.shm import SharedInputs, share_inputs

__all__ = ["BadOutput", "CpuExceeded", "Crashed", "Exited", "Failure", "Fields", "Limits",
           "MemoryExceeded", "Ok", "Outcome", "Policy", "PolicyViolation", "RaisedError", "Sandbox",
           "SandboxError", "SharedInputs", "SyntaxFailure", "Timeout", "is_ok", "share_inputs"]
