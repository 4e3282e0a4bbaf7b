"""The static policy: allowed imports and names, refusals that name the line and the rule."""
from pathlib import Path

import pytest

from factorengine.program import check_policy

ROOT = Path(__file__).resolve().parents[3]


def _factor(body: str, header: str = "import numpy as np\nfrom factorengine.ops import delay, rank, ts_mean\n") -> str:
    return header + "\n\ndef factor(d, window=5):\n" + "".join(f"    {line}\n" for line in body.splitlines())


@pytest.mark.parametrize("source", [
    _factor("return rank(d.close / delay(d.close, window) - 1)"),
    _factor("x = np.log(d.volume)\nreturn np.where(x > 0, x, np.nan)", header="import math\nimport numpy as np\n"),
    _factor("return ts_mean(d.open, window) / d.close", header="from factorengine import ops\nfrom factorengine.ops import ts_mean\n"),
    _factor("return np.cumsum(d.returns, axis=0)"),
])
def test_check_policy_accepts_plain_factor_code(source):
    assert check_policy(source) == ()


@pytest.mark.parametrize("line, rule, fragment", [
    ("import os", "import", "importing 'os' is not allowed; a factor may import only numpy, math, factorengine.ops"),
    ("from subprocess import run", "import", "importing 'subprocess' is not allowed"),
    ("import importlib", "import", "importing 'importlib' is not allowed"),
    ("from numpy import *", "import", "star imports are not allowed"),
    ("from numpy import load", "import", "importing 'load' is not allowed"),
    ("from . import ops", "import", "relative imports are not allowed"),
])
def test_check_policy_refuses_imports_outside_the_allow_list(line, rule, fragment):
    violations = check_policy(line + "\n\ndef factor(d):\n    return d.close\n")
    assert violations[0].line == 1 and violations[0].rule == rule and fragment in violations[0].message


@pytest.mark.parametrize("expression, rule", [
    ("eval('d.close')", "name"), ("exec('x = 1')", "name"), ("open('/etc/passwd')", "name"),
    ("__import__('os')", "name"), ("getattr(d, 'close')", "name"), ("globals()", "name"),
    ("vars(d)", "name"), ("compile('1', 'f', 'eval')", "name"), ("type(d)", "name"),
    ("d.__class__", "dunder"), ("().__class__.__bases__[0].__subclasses__()", "dunder"),
    ("np.load('x.npy')", "attribute"), ("np.ctypeslib", "attribute"), ("d.close.flags", "attribute"),
    ("__builtins__", "name"), ("(v for v in [1]).gi_frame.f_back", "attribute"),
])
def test_check_policy_refuses_dangerous_names_and_attributes(expression, rule):
    violations = check_policy(_factor(f"x = {expression}\nreturn d.close"))
    assert violations and violations[0].rule == rule and violations[0].line == 6


@pytest.mark.parametrize("expression", [
    "np.roll(d.close, -1, axis=0)", "d.close[::-1]", "np.flip(d.close, 0)", "np.nanmean(d.close, axis=0)",
    "d.close.max(axis=0)", "ts_mean(d.close, -3)", "delay(d.close, -1)",
])
def test_check_policy_refuses_static_lookahead(expression):
    violations = check_policy(_factor(f"return {expression}"))
    assert [v.rule for v in violations] == ["lookahead"]


def test_check_policy_says_the_same_violation_on_one_line_once():
    violations = check_policy(_factor("return np.argsort(np.argsort(d.close, axis=0), axis=0)"))
    assert [str(v) for v in violations] == [
        "line 6: np.argsort(..., axis=0) summarizes every day, including later ones; use a rolling ts_* operator"]


def test_check_policy_refuses_class_definitions_and_globals():
    source = _factor("global x\nreturn d.close") + "\nclass Escape:\n    pass\n"
    assert sorted(v.rule for v in check_policy(source)) == ["statement", "statement"]


def test_check_policy_reports_a_syntax_error_as_a_violation():
    (violation,) = check_policy("def factor(d:\n    return d.close\n")
    assert violation.rule == "syntax"


def test_violation_reads_as_a_line_and_a_message():
    (violation,) = check_policy("import os\n")
    assert str(violation) == "line 1: importing 'os' is not allowed; a factor may import only numpy, math, factorengine.ops"


def test_every_seed_passes_the_policy():
    refused = {p.name: check_policy(p.read_text()) for p in sorted((ROOT / "seeds").glob("*.py"))}
    assert {name: v for name, v in refused.items() if v} == {}


@pytest.mark.parametrize("statement", ["np.mean = None", "np.nanmean += 1", "del np.mean"])
def test_check_policy_refuses_assigning_module_attributes(statement):
    violations = check_policy(_factor(f"{statement}\nreturn d.close"))
    assert [v.rule for v in violations] == ["assignment"]
