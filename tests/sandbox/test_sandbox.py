"""Sandbox: clean runs, policy violations, bad outputs and isolation between runs.

Programs use only numpy/math (plus the module a test is about); inputs are small arrays.
Resource limits, crashes, exits and process lifecycle are in test_limits.py.
"""
from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sandbox import (BadOutput, Exited, Fields, Limits, Ok, Policy, PolicyViolation, RaisedError,
                     Sandbox, SandboxError, SyntaxFailure, is_ok, share_inputs)

SHAPE = (50, 8)
_rng = np.random.default_rng(7)
INPUTS = {"close": _rng.normal(100.0, 5.0, SHAPE), "volume": _rng.lognormal(10.0, 1.0, SHAPE)}
CLEAN = "def factor(d, k=1.0):\n    return d.close * k + d.volume\n"
PERMISSIVE = ("numpy", "math", "os", "sys", "time", "socket", "pickle", "ctypes")
HOSTILE = sorted((Path(__file__).parent / "hostile").glob("*.py"))


def expected(k: float = 1.0) -> np.ndarray:
    return INPUTS["close"] * k + INPUTS["volume"]


def run_one(sandbox: Sandbox, source: str, timeout_s: float = 2.0, **kwargs: object):
    [outcome] = sandbox.run(textwrap.dedent(source), "factor", [kwargs], timeout_s)
    return outcome


def assert_clean_run_is_exact(sandbox: Sandbox) -> None:
    outcome = run_one(sandbox, CLEAN, k=3.0)
    assert isinstance(outcome, Ok), outcome
    np.testing.assert_array_equal(outcome.values, expected(3.0))


@pytest.fixture(scope="module")
def sandbox():
    """Allows a few dangerous modules so the audit hook, not the import list, is what refuses."""
    policy = Policy(allowed_imports=PERMISSIVE, output_shape=SHAPE)
    with Sandbox(INPUTS, policy=policy, limits=Limits(memory_mb=256, cpu_s=10)) as box:
        yield box


@pytest.fixture(scope="module")
def strict():
    with Sandbox(INPUTS, policy=Policy(allowed_imports=("numpy", "math"), output_shape=SHAPE)) as box:
        yield box


# --- clean runs -------------------------------------------------------------------------------

def test_run_returns_the_exact_values_of_a_clean_program(sandbox):
    outcome = run_one(sandbox, CLEAN)
    assert isinstance(outcome, Ok) and is_ok(outcome)
    assert outcome.values.dtype == np.float64 and outcome.values.shape == SHAPE
    np.testing.assert_array_equal(outcome.values, expected())
    assert 0.0 < outcome.seconds < 2.0


def test_run_gives_one_outcome_per_kwargs_in_order(sandbox):
    outcomes = sandbox.run(CLEAN, "factor", [{"k": 1.0}, {"k": -2.0}, {"k": 0.5}], timeout_s=2.0)
    assert [type(o) for o in outcomes] == [Ok, Ok, Ok]
    for outcome, k in zip(outcomes, (1.0, -2.0, 0.5)):
        np.testing.assert_array_equal(outcome.values, expected(k))


def test_run_on_leading_rows_sees_only_those_rows(sandbox):
    [outcome] = sandbox.run(CLEAN, "factor", [{"k": 2.0}], timeout_s=2.0, rows=20)
    assert isinstance(outcome, Ok) and outcome.values.shape == (20, 8)
    np.testing.assert_array_equal(outcome.values, expected(2.0)[:20])


def test_run_on_every_kth_column_sees_only_those_columns(sandbox):
    [outcome] = sandbox.run(CLEAN, "factor", [{"k": 2.0}], timeout_s=2.0, rows=20, every=3)
    assert isinstance(outcome, Ok) and outcome.values.shape == (20, 3)
    np.testing.assert_array_equal(outcome.values, expected(2.0)[:20, ::3])


def test_run_on_leading_rows_expects_an_output_of_that_many_rows(sandbox):
    [outcome] = sandbox.run(CLEAN, "factor", [{}], timeout_s=2.0, rows=20)
    [full_length] = sandbox.run("import numpy as np\ndef factor(d):\n    return np.ones((50, 8)) + d.close[:1]\n",
                                "factor", [{}], timeout_s=2.0, rows=20)
    assert isinstance(outcome, Ok)
    assert isinstance(full_length, BadOutput) and full_length.reason == "the output has shape (50, 8); expected (20, 8)"


def test_run_converts_float32_output_to_float64(sandbox):
    outcome = run_one(sandbox, "def factor(d):\n    return (d.close - d.volume).astype('float32')\n")
    assert isinstance(outcome, Ok) and outcome.values.dtype == np.float64
    np.testing.assert_array_equal(outcome.values, (INPUTS["close"] - INPUTS["volume"]).astype(np.float32))


def test_run_keeps_nan_where_the_program_puts_it(sandbox):
    outcome = run_one(sandbox, """
        import numpy as np
        def factor(d):
            out = d.close.copy()
            out[:5] = np.nan
            return out
        """)
    assert isinstance(outcome, Ok)
    assert np.isnan(outcome.values[:5]).all()
    np.testing.assert_array_equal(outcome.values[5:], INPUTS["close"][5:])


def test_run_allows_allowed_submodules_and_lazy_numpy_modules(strict):
    outcome = run_one(strict, """
        from numpy import linalg
        import numpy as np
        def factor(d):
            assert np.char.add(['a'], ['b'])[0] == 'ab'
            return d.close / linalg.norm(d.close)
        """)
    assert isinstance(outcome, Ok), outcome
    np.testing.assert_allclose(outcome.values, INPUTS["close"] / np.linalg.norm(INPUTS["close"]))


# --- policy violations ------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "named"), [
    ("open('/etc/passwd').read()", "open('/etc/passwd'"),
    ("open('/tmp/sandbox-test-file', 'w')", "open('/tmp/sandbox-test-file'"),
    ("import socket\n    socket.create_connection(('127.0.0.1', 9))", "socket"),
    ("import os\n    os.kill(os.getpid(), 11)", "os.kill"),
    ("import os\n    os.system('true')", "os.system"),
    ("import os\n    os.listdir('/')", "listing directories"),
    ("import os\n    os.fork()", "os.fork"),
    ("import ctypes\n    ctypes.string_at(0)", "ctypes"),
    ("import pickle\n    pickle.loads(b'cxml.dom.minidom\\nparseString\\n.')", "xml.dom.minidom"),
    ("import subprocess", "subprocess"),
    ("__import__('subprocess')", "subprocess"),
    ("(x for x in ()).gi_frame", "frame introspection"),
    ("import sys\n    sys._getframe()", "frame introspection"),
])
def test_run_refuses_files_network_processes_ctypes_and_imports(sandbox, body, named):
    outcome = run_one(sandbox, f"def factor(d):\n    {body}\n    return d.close\n")
    assert isinstance(outcome, PolicyViolation), outcome
    assert named in outcome.reason
    assert not os.path.exists("/tmp/sandbox-test-file")
    assert_clean_run_is_exact(sandbox)


def test_run_reports_a_violation_even_when_the_program_catches_it(sandbox):
    outcome = run_one(sandbox, """
        def factor(d):
            try:
                open('/etc/hostname')
            except Exception:
                pass
            return d.close
        """)
    assert isinstance(outcome, PolicyViolation)
    assert "opening files" in outcome.reason


@pytest.mark.parametrize(("source", "named"), [
    ("""
     def factor(d):  # widen the allow-list held by the program's own __import__
         for cell in __builtins__['__import__'].__closure__:
             if type(cell.cell_contents) is tuple:
                 cell.cell_contents = ('os', 'numpy')
         import os
         os.listdir('/')
     """, "listing directories"),
    ("""
     def factor(d):  # rebind the guard module's globals, the builtins and os.path
         guard_globals = __builtins__['__import__'].__globals__
         guard_globals['_REFUSED_FAMILIES'].clear()
         guard_globals['_allows'] = lambda *args: True
         real_builtins = type(d).__init__.__globals__['__builtins__']
         real_builtins['isinstance'] = real_builtins['any'] = lambda *args: True
         real_builtins['__import__']('os').path.realpath = lambda path: '/'
         real_builtins['open']('/etc/hostname')
     """, "opening files"),
    ("""
     class Sly(str):
         def startswith(self, prefix):
             return True
     def factor(d):
         __import__(Sly('xml.dom.minidom'))
     """, "import of Sly is not allowed"),
    ("""
     def factor(d):
         try:
             1 / 0
         except ZeroDivisionError as error:
             caller = error.__traceback__.tb_frame.f_back
         return caller.f_locals['guard']
     """, "frame introspection"),
])
def test_run_cannot_loosen_the_audit_hook(strict, source, named):
    outcome = run_one(strict, source)
    assert isinstance(outcome, PolicyViolation), outcome
    assert named in outcome.reason
    assert_clean_run_is_exact(strict)


def test_run_refuses_imports_outside_the_allow_list_even_when_loaded(strict):
    outcome = run_one(strict, "import os\ndef factor(d):\n    return d.close\n")
    assert isinstance(outcome, PolicyViolation)
    assert outcome.reason == "import of 'os' is not allowed; a program may import only: numpy, math"
    assert_clean_run_is_exact(strict)


def test_policy_allows_names_and_their_submodules_only():
    policy = Policy(allowed_imports=("numpy", "pkg.ops"))
    names = ("numpy", "numpy.linalg", "numpyx", "pkg.ops", "pkg.ops.sub", "pkg", "pkg.other")
    assert [policy.allows(name) for name in names] == [True, True, False, True, True, False, False]


def test_run_allows_from_imports_of_allowed_submodules_only():
    policy = Policy(allowed_imports=("numpy.linalg",), preload=("numpy",))
    with Sandbox(INPUTS, policy=policy) as box:
        allowed = run_one(box, "from numpy import linalg\n"
                               "def factor(d):\n    return d.close / linalg.norm(d.close)\n")
        outcomes = [run_one(box, f"{statement}\ndef factor(d):\n    return d.close\n")
                    for statement in ("from numpy import fft", "import numpy", "from . import sibling")]
    assert isinstance(allowed, Ok)
    np.testing.assert_allclose(allowed.values, INPUTS["close"] / np.linalg.norm(INPUTS["close"]))
    assert [o.reason for o in outcomes] == [
        "import of 'numpy' is not allowed; a program may import only: numpy.linalg",
        "import of 'numpy' is not allowed; a program may import only: numpy.linalg",
        "relative imports are not allowed: the program is a single module"]


def test_policy_and_limits_refuse_bad_values():
    with pytest.raises(ValueError, match="allowed_imports"):
        Policy(allowed_imports=("os; import shutil",))
    with pytest.raises(ValueError, match="output_shape"):
        Policy(output_shape=(0, 8))
    with pytest.raises(ValueError, match="cpu_s"):
        Limits(cpu_s=0)


def test_sandbox_reports_a_preload_that_cannot_be_imported():
    with pytest.raises(SandboxError, match="no_such_module_for_sandbox_test"):
        Sandbox(INPUTS, policy=Policy(preload=("numpy", "no_such_module_for_sandbox_test")))


# --- inputs and isolation ---------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "d.close[0, 0] = 1e9",
    "d.close.setflags(write=True)",
    "d.close += 1",
    "import numpy as np\n    np.copyto(d.volume, 0.0)",
])
def test_writing_an_input_fails_and_the_next_run_sees_the_originals(sandbox, body):
    outcome = run_one(sandbox, f"def factor(d):\n    {body}\n    return d.close\n")
    assert isinstance(outcome, RaisedError), outcome
    assert "read-only" in outcome.message or "WRITEABLE" in outcome.message
    assert_clean_run_is_exact(sandbox)


def test_monkeypatching_numpy_does_not_reach_the_next_run(sandbox):
    patched = run_one(sandbox, """
        import numpy as np
        np.add = lambda *args, **kwargs: 0.0
        def factor(d):
            return np.subtract(d.close, np.mean(d.close)) + np.add(1, 2)
        """)
    assert isinstance(patched, Ok)
    outcome = run_one(sandbox, "import numpy as np\ndef factor(d):\n    return np.add(d.close, d.volume)\n")
    assert isinstance(outcome, Ok)
    np.testing.assert_array_equal(outcome.values, expected())


def test_fields_are_a_read_only_namespace():
    fields = Fields({"close": np.zeros(3)})
    with pytest.raises(AttributeError, match="read-only"):
        fields.close = np.ones(3)
    with pytest.raises(AttributeError, match="read-only"):
        del fields.close
    with pytest.raises(AttributeError, match="no input named 'open'; inputs are: close"):
        _ = fields.open
    assert dir(fields) == ["close"]


def test_server_environment_holds_no_parent_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-sandbox-test-secret")
    with Sandbox(INPUTS, policy=Policy()) as box:
        with open(f"/proc/{box.server_pid}/environ", "rb") as handle:
            environment = handle.read()
    assert b"sk-sandbox-test-secret" not in environment
    assert b"OPENAI_API_KEY" not in environment


def test_sandbox_refuses_bad_inputs():
    with pytest.raises(ValueError, match="identifiers"):
        Sandbox({"not a name": np.zeros(2)}, policy=Policy())
    with pytest.raises(ValueError, match="object"):
        Sandbox({"x": np.array([None, 1])}, policy=Policy())


# --- outputs -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "reason"), [
    ("return d.close[:10]", "the output has shape (10, 8); expected (50, 8)"),
    ("return d.close.astype(object)", "the output has dtype object; return a float array"),
    ("return (d.close > 100)", "the output has dtype bool; return a float array"),
    ("return d.close.astype('int64')", "the output has dtype int64; return a float array"),
    ("return [1.0, 2.0]", "the program returned list, not a numpy array"),
    ("return None", "the program returned NoneType, not a numpy array"),
    ("return d.close * float('nan')", "the output is all NaN"),
    ("return d.close * 0.0 + 3.0", "the output is constant (3 wherever it is not NaN)"),
    ("return d.close / (d.close > 100)", "the output contains inf"),
])
def test_run_refuses_unusable_outputs(sandbox, body, reason):
    outcome = run_one(sandbox, f"def factor(d):\n    {body}\n")
    assert isinstance(outcome, BadOutput), outcome
    assert outcome.reason.startswith(reason)
    assert_clean_run_is_exact(sandbox)


def test_run_refuses_output_larger_than_the_slot():
    limits = Limits(max_output_mb=1)
    with Sandbox(INPUTS, policy=Policy(), limits=limits) as box:
        outcome = run_one(box, "import numpy as np\ndef factor(d):\n    return np.arange(1e6)\n")
        small = run_one(box, "import numpy as np\ndef factor(d):\n    return np.arange(1e4)\n")
    assert isinstance(outcome, BadOutput)
    assert outcome.reason == "the output is 8 MB as float64, more than the 1 MB limit"
    assert isinstance(small, Ok) and small.values.shape == (10_000,)


# --- program errors ----------------------------------------------------------------------------

def test_syntax_error_is_a_syntax_failure_with_its_line(sandbox):
    outcomes = sandbox.run("def factor(d):\n    return (d.close\n", "factor", [{}, {}], timeout_s=2.0)
    assert outcomes == [SyntaxFailure("'(' was never closed (line 2)", 2)] * 2


def test_raised_error_keeps_only_the_program_frames(sandbox):
    outcome = run_one(sandbox, """
        import numpy as np
        def helper(x):
            return np.reshape(x, (7, 7))
        def factor(d):
            return helper(d.close)
        """)
    assert isinstance(outcome, RaisedError)
    assert outcome.type == "ValueError"
    assert "cannot reshape array of size 400" in outcome.message
    assert outcome.traceback == ("Traceback (program frames only):\n"
                                 "  line 6, in factor\n    return helper(d.close)\n"
                                 "  line 4, in helper\n    return np.reshape(x, (7, 7))\n")
    assert "site-packages" not in outcome.reason


def test_missing_entry_function_is_a_raised_error(sandbox):
    outcome = run_one(sandbox, "x = 1\n")
    assert outcome == RaisedError("NameError", "the program defines no function 'factor'", "")


@pytest.mark.parametrize(("body", "code"), [
    ("import sys\n    sys.exit(0)", 0),
    ("raise SystemExit(3)", 3),
    ("import os\n    os._exit(0)", 0),
    ("raise KeyboardInterrupt", "KeyboardInterrupt"),
])
def test_exiting_instead_of_returning_is_a_failure(sandbox, body, code):
    outcome = run_one(sandbox, f"def factor(d):\n    {body}\n")
    assert outcome == Exited(code)
    assert "exited" in outcome.reason
    assert_clean_run_is_exact(sandbox)


# --- concurrency -------------------------------------------------------------------------------

def test_two_workers_run_a_batch_concurrently():
    policy = Policy(allowed_imports=("numpy", "time"))
    source = """
        import time
        import numpy as np
        def factor(d, i=0):
            start = time.time()
            time.sleep(0.4)
            return np.array([start, time.time(), float(i)])
        """
    with Sandbox(INPUTS, policy=policy, n_workers=2) as box:
        outcomes = box.run(textwrap.dedent(source), "factor", [{"i": 0}, {"i": 1}], timeout_s=5.0)
    assert all(isinstance(o, Ok) for o in outcomes), outcomes
    (start_a, end_a, i_a), (start_b, end_b, i_b) = (o.values for o in outcomes)
    assert (i_a, i_b) == (0.0, 1.0)
    assert max(start_a, start_b) < min(end_a, end_b)  # the two runs overlapped in time


# --- the hostile corpus (tests/sandbox/hostile: each file declares its `# sandbox-alone:` kind) ---

@pytest.fixture(scope="module")
def factor_sandbox():
    """The factor programs' own rules; the operator library is named, never imported here."""
    names = ("numpy", "math", "factorengine.ops")
    policy = Policy(preload=names, allowed_imports=names, output_shape=SHAPE)
    inputs = {"close": INPUTS["close"], "volume": INPUTS["volume"],
              "returns": np.vstack([np.zeros((1, 8)), INPUTS["close"][1:] / INPUTS["close"][:-1] - 1])}
    with Sandbox(inputs, policy=policy, limits=Limits(memory_mb=512, cpu_s=10)) as box:
        yield box


@pytest.mark.parametrize("path", HOSTILE, ids=[path.stem for path in HOSTILE])
def test_hostile_program_fails_as_declared_and_the_next_run_is_exact(factor_sandbox, path):
    source = path.read_text()
    declared = re.search(r"# sandbox-alone: (\w+)", source).group(1)
    [outcome] = factor_sandbox.run(source, "factor", [{}], timeout_s=1.0)
    assert outcome.kind == declared, outcome
    assert_clean_run_is_exact(factor_sandbox)


def test_sandboxes_built_on_shared_inputs_each_run_on_the_one_copy():
    shared = share_inputs(INPUTS)
    first = Sandbox(shared, policy=Policy(output_shape=SHAPE))
    second = Sandbox(shared, policy=Policy(output_shape=SHAPE))
    try:
        assert_clean_run_is_exact(first)
        first.close()
        assert_clean_run_is_exact(second)
    finally:
        first.close()
        second.close()
        os.close(shared.fd)
