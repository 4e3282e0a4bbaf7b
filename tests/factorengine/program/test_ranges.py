"""Specification of the ranges that keep a lifted constant's role, and of the table of argument domains."""
from __future__ import annotations

import inspect

import libcst as cst
import numpy as np
import pytest

from factorengine import ops
from factorengine.program.ranges import DOMAINS, Domain, argument_domain, knob_range

UNIT, PERCENT, POSITIVE = Domain(0.0, 1.0), Domain(0.0, 100.0), Domain(0.0, None)


@pytest.mark.parametrize("value, expected", [(20, (10, 40)), (5, (3, 10)), (3, (2, 6)), (2, (2, 4))])
def test_a_window_ranges_from_half_to_twice_the_literal_and_at_least_2(value, expected):
    assert knob_range(value, "window") == expected


@pytest.mark.parametrize("value, expected", [(0.02, (0.015, 0.025)), (-0.02, (-0.025, -0.015)),
                                             (1.5, (1.125, 1.875)), (-3.0, (-3.75, -2.25))])
def test_a_threshold_stays_within_a_quarter_of_the_literal_keeping_its_sign(value, expected):
    assert knob_range(value, "threshold") == expected


@pytest.mark.parametrize("value, expected", [(0.95, (0.9375, 0.9625)), (0.05, (0.0375, 0.0625)),
                                             (0.8, (0.75, 0.85)), (0.3, (0.225, 0.375))])
def test_a_quantile_moves_a_quarter_of_its_distance_to_the_nearer_end_of_0_to_1(value, expected):
    assert knob_range(value, "threshold", UNIT) == expected


def test_a_percentile_keeps_its_tail_inside_0_to_100_with_int_bounds():
    assert knob_range(95, "threshold", PERCENT) == (93, 97)
    assert knob_range(99.0, "threshold", PERCENT) == (98.75, 99.25)


def test_an_int_threshold_gets_int_bounds_rounded_outward():
    assert knob_range(3, "threshold") == (2, 4) and knob_range(-2, "threshold") == (-3, -1)


def test_winsorize_k_stays_positive_and_close():
    assert knob_range(3.0, "threshold", POSITIVE) == (2.25, 3.75)


def test_floats_are_bounded_to_four_significant_digits_around_the_literal():
    assert knob_range(0.123456, "threshold") == (0.09259, 0.1543)


@pytest.mark.parametrize("value, domain", [(100, PERCENT), (1.0, UNIT), (-3.0, POSITIVE), (1.2, UNIT)])
def test_a_literal_on_or_beyond_its_domain_bound_has_no_range(value, domain):
    assert knob_range(value, "threshold", domain) is None


@pytest.mark.parametrize("code, index, expected", [
    ("ts_quantile(x, 20, 0.95)", 2, UNIT), ("ts_quantile(x, 20, q=0.95)", 2, UNIT),
    ("ts_quantile(x, 20, 0.95)", 1, Domain()),
    ("np.quantile(x, 0.9)", 1, UNIT), ("np.nanpercentile(x, 95, axis=1)", 1, PERCENT),
    ("winsorize(x, 3.0)", 1, POSITIVE), ("winsorize(x, k=2)", 1, POSITIVE), ("np.clip(x, -3, 3)", 1, Domain()),
])
def test_argument_domain_reads_the_table_by_position_or_keyword(code, index, expected):
    call = cst.parse_expression(code)
    assert argument_domain(call, call.args[index]) == expected


@pytest.mark.parametrize("argument", list(DOMAINS))
def test_the_table_names_each_argument_by_its_real_position_and_keyword(argument):
    function = getattr(ops, argument.op, None) or getattr(np, argument.op)
    assert list(inspect.signature(function).parameters)[argument.position] == argument.keyword
