"""What names and expressions stand for: which calls are surely positive."""
import libcst as cst
import pytest

from factorengine.program.bindings import is_positive, module_bindings

IMPORTS = "from factorengine.ops import exp, group_mean, group_rank, ts_cumsum, ts_mean_where\n\n\n"


@pytest.mark.parametrize("expr, positive", [
    ("exp(d.returns)", True), ("group_rank(d.returns, d.sector)", True),
    ("ts_cumsum(d.volume)", True), ("ts_cumsum(d.returns)", False),
    ("ts_mean_where(d.close, d.returns, 5)", True), ("group_mean(d.returns, d.sector)", False),
])
def test_a_call_is_positive_when_its_operator_keeps_or_makes_values_positive(expr: str, positive: bool) -> None:
    module = cst.parse_module(f"{IMPORTS}def factor(d):\n    return {expr}\n")
    call = module.body[-1].body.body[0].body[0].value
    assert is_positive(call, module_bindings(module)) is positive
