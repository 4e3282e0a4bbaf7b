"""The words an iteration records for the next prompts."""
from __future__ import annotations

from factorengine.program import Param
from factorengine.search.iteration import tuning_moves

PARAMS = (Param("window", 20, "int", 10, 40, True), Param("q", 0.95, "float", 0.71, 0.99, True),
          Param("tilt", 0.3, "float", -1.0, 1.0, True))


def test_tuning_moves_name_each_moved_parameter_with_its_range():
    assert tuning_moves(PARAMS, {"window": 20, "q": 0.95, "tilt": 0.3}, {"window": 34, "q": 0.9, "tilt": 0.3}) \
        == "window 20 -> 34 [10, 40], q 0.95 -> 0.9 [0.71, 0.99]"


def test_tuning_moves_flag_a_value_at_its_ranges_end_or_near_zero():
    moves = tuning_moves(PARAMS, {"window": 20, "q": 0.95, "tilt": 0.3}, {"window": 10, "q": 0.99, "tilt": 0.01})
    assert moves == ("window 20 -> 10 [10, 40] at its low end, q 0.95 -> 0.99 [0.71, 0.99] at its high end, "
                     "tilt 0.3 -> 0.01 [-1, 1] near zero")


def test_tuning_that_moved_nothing_names_no_parameter():
    assert tuning_moves(PARAMS, {"window": 20}, {"window": 20}) == ""
