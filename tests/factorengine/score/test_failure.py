"""Failure kinds: every way the sandbox can fail is a kind, and a kind is stored and compared as its value."""
import json

import sandbox.outcomes as outcomes
from factorengine.score.failure import FailureKind


def test_every_sandbox_failure_outcome_is_a_failure_kind():
    kinds = {cls.kind for cls in vars(outcomes).values() if isinstance(cls, type) and hasattr(cls, "kind")}
    assert kinds - {"ok"} <= set(FailureKind) and len(kinds) == 10


def test_a_failure_kind_is_its_string_value():
    assert FailureKind("timeout") is FailureKind.TIMEOUT and FailureKind.TIMEOUT == "timeout"
    assert f"{FailureKind.LOOKAHEAD}" == "lookahead" and json.dumps({FailureKind.POLICY: 1}) == '{"policy": 1}'
