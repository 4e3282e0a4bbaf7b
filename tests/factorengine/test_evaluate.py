"""Evaluating a program in-process: output checks, parameter overrides, errors as values."""
import numpy as np
import pytest

from factorengine.evaluate import check_output, evaluate_program, resolve_params
from factorengine.program import ProgramError, parse_program

MOMENTUM = '''"""Momentum."""
import numpy as np

SEARCH_SPACE = {"window": (2, 30)}


def factor(d, window=5, scale=1.0):
    past = np.full_like(d.close, np.nan)
    past[window:] = d.close[:-window]
    return scale * (d.close / past - 1)
'''


@pytest.mark.parametrize("values, reason", [
    ([1.0], "factor returned list, expected a numpy array"),
    (np.zeros((3, 2)), "factor returned shape (3, 2), expected (4, 2) (days, stocks)"),
    (np.arange(8).reshape(4, 2), "factor returned dtype int64, expected float"),
    (np.array([[1.0, np.inf]] * 4), "factor returned inf values; guard divisions with safe_div"),
    (np.full((4, 2), np.nan), "factor returned only NaN"),
    (np.full((4, 2), 3.0), "factor returned a constant"),
])
def test_check_output_names_what_is_wrong(values, reason):
    assert check_output(values, (4, 2)) == reason


def test_check_output_accepts_a_float_panel_with_some_nan():
    assert check_output(np.array([[np.nan, 1.0], [2.0, 3.0]]), (2, 2)) is None


def test_resolve_params_types_overrides_by_parameter_kind():
    program = parse_program(MOMENTUM)
    assert resolve_params(program, {"window": "7", "scale": "0.5"}) == {"window": 7, "scale": 0.5}


def test_resolve_params_refuses_an_unknown_parameter():
    with pytest.raises(ProgramError, match="has no parameter 'lookback'; its parameters are window, scale"):
        resolve_params(parse_program(MOMENTUM), {"lookback": "3"})


def test_resolve_params_refuses_a_float_for_an_int_parameter():
    with pytest.raises(ProgramError, match="window takes an int"):
        resolve_params(parse_program(MOMENTUM), {"window": "2.5"})


def test_evaluate_program_scores_train_and_valid(synthetic_dataset):
    result = evaluate_program(parse_program(MOMENTUM), synthetic_dataset, {"window": 5, "scale": 1.0})
    assert result.error is None
    assert result.fitness.orientation == -1
    assert result.fitness.valid.rank_ic > 0.02
    assert result.fitness.test is None


def test_evaluate_program_returns_a_raising_program_as_an_error_value(synthetic_dataset):
    program = parse_program(MOMENTUM.replace("return scale", "raise KeyError('boom')\n    return scale"))
    result = evaluate_program(program, synthetic_dataset, {"window": 5, "scale": 1.0})
    assert result.fitness is None
    assert result.error.startswith("KeyError: 'boom'")
