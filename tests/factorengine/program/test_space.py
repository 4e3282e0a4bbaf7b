"""Specification of the search space: declared and derived ranges, set_defaults."""
from __future__ import annotations

import numpy as np
import pytest

from factorengine.program import Param, ProgramError, parse_program, set_defaults
from tests.factorengine.program.programs import EXAMPLE, program


def test_parse_program_takes_int_bounds_of_a_float_parameter_as_floats():
    parsed = parse_program(program('''
        SEARCH_SPACE: dict = {"q": (0, 1)}
        def factor(d, q=0.2):
            return d.close
    '''))
    assert parsed.params == (Param("q", 0.2, "float", 0.0, 1.0, declared=True),)
    assert isinstance(parsed.params[0].low, float)


@pytest.mark.parametrize("default, low, high", [
    ("10", 2, 40),
    ("20", 5, 80),
    ("2", 1, 8),
    ("1", 1, 4),
    ("0", 0, 4),
    ("-3", -12, -1),
    ("0.2", 0.05, 0.8),
    ("-0.4", -1.6, -0.1),
    ("0.0", -1.0, 1.0),
    ("1e-3", 0.00025, 0.004),
])
def test_parse_program_derives_ranges_for_undeclared_params(default, low, high):
    (param,) = parse_program(f"def factor(d, p={default}):\n    return d.close\n").params
    assert (param.low, param.high) == (pytest.approx(low), pytest.approx(high))
    assert not param.declared
    assert type(param.low) is type(param.default) and type(param.high) is type(param.default)
    assert param.low <= param.default <= param.high


# set_defaults: only the numbers change, byte for byte


def test_set_defaults_rewrites_the_design_example():
    after = set_defaults(EXAMPLE, {"window": 5, "vol_window": 42})
    assert after == EXAMPLE.replace("window=10, vol_window=20", "window=5, vol_window=42")


def test_set_defaults_preserves_comments_and_formatting():
    before = program('''
        # header comment
        SEARCH_SPACE = {"window": (2, 60)}   # ranges


        def factor(
            d,
            window = 10,    # lookback in days
            # the score threshold
            level=0.020,
            *,
            shift=( -1.5 ),
        ):
            """Keep this docstring."""
            return d.close  # trailing
    ''')
    after = program('''
        # header comment
        SEARCH_SPACE = {"window": (2, 60)}   # ranges


        def factor(
            d,
            window = 13,    # lookback in days
            # the score threshold
            level=0.25,
            *,
            shift=( 2.0 ),
        ):
            """Keep this docstring."""
            return d.close  # trailing
    ''')
    assert set_defaults(before, {"window": 12.7, "level": 0.25, "shift": 2}) == after


@pytest.mark.parametrize("before, values, after", [
    ("window=10", {"window": -3}, "window=-3"),
    ("window=-10", {"window": 4}, "window=4"),
    ("alpha=0.1", {"alpha": -0.05}, "alpha=-0.05"),
    ("alpha=0.1", {"alpha": 1e-05}, "alpha=1e-05"),
    ("alpha=0.1", {"alpha": np.float64(0.3)}, "alpha=0.3"),
    ("window=10", {"window": np.int64(7)}, "window=7"),
    ("window=10", {"window": 6.4}, "window=6"),
    ("window=10", {}, "window=10"),
])
def test_set_defaults_writes_int_and_float_literals(before, values, after):
    source = f"def factor(d, {before}):\n    return d.close\n"
    assert set_defaults(source, values) == f"def factor(d, {after}):\n    return d.close\n"


def test_set_defaults_leaves_nested_functions_alone():
    before = program('''
        def factor(d, window=10):
            def helper(x, window=3):
                return x
            return helper(d.close)
    ''')
    assert set_defaults(before, {"window": 20}) == before.replace("window=10", "window=20")


def test_set_defaults_rejects_unknown_names():
    with pytest.raises(ProgramError, match=r"cannot set 'windw': not parameters of factor "
                                           r"\(parameters: window, vol_window\)"):
        set_defaults(EXAMPLE, {"windw": 3})


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), "10", None])
def test_set_defaults_rejects_values_that_are_not_finite_numbers(value):
    with pytest.raises(ProgramError, match="new default for 'window' must be a finite number"):
        set_defaults(EXAMPLE, {"window": value})


def test_set_defaults_rejects_values_outside_the_declared_range():
    with pytest.raises(ProgramError, match=r"does not contain the default window=50"):
        set_defaults(EXAMPLE, {"window": 50})
