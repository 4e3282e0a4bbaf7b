"""Specification of hidden knobs: which literals a tuner could move, and where they sit."""
from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from factorengine.program import HiddenKnob, parse_program
from factorengine.program.knobs import find_knob_sites, parameter_ranges
from tests.factorengine.program.programs import program


def knobs(body: str) -> list[tuple[object, str]]:
    """Return (value, reason) of the hidden knobs of a factor with the given body."""
    source = "def factor(d, window=10):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    return [(k.value, k.reason) for k in parse_program(source).hidden_knobs]


# hidden knobs


def test_hidden_knobs_report_value_line_context_and_reason():
    source = program('''
        def factor(d, window=10):
            ret = d.close / delay(d.close, window) - 1
            surge = d.volume / ts_mean(d.volume, 20)
            return rank(ret) * (surge > 0.02)
    ''')
    assert parse_program(source).hidden_knobs == (
        HiddenKnob(20, 3, "ts_mean(d.volume, 20)", "window"),
        HiddenKnob(0.02, 4, "(surge > 0.02)", "threshold"),
    )


@pytest.mark.parametrize("body, expected", [
    ("return ts_mean(d.close, 20)", [(20, "window")]),
    ("return ts_corr(d.close, d.volume, window=15)", [(15, "window")]),
    ("return d.close > 0.02", [(0.02, "threshold")]),
    ("return 3 < d.volume", [(3, "threshold")]),
    ("return np.clip(d.close, -3, 3)", [(-3, "threshold"), (3, "threshold")]),
    ("return np.where(d.close > 0, d.close, 5)", [(5, "threshold")]),
    ("return winsorize(d.close, 0.05)", [(0.05, "threshold")]),
    ("return 0.7 * d.close + 0.3 * d.open", [(0.7, "threshold"), (0.3, "threshold")]),
    ("return ts_quantile(d.close, 20, 0.8)", [(20, "window"), (0.8, "threshold")]),
    ("return d.close ** 2", []),
    ("return d.close ** 2.0", []),
    ("return np.power(d.close, 2)", []),
    ("return d.close / 2", []),
    ("return d.close // 2", []),
    ("return rank(d.close) - 0.5", []),
    ("return delay(d.close, 1) - 1", []),
    ("return d.close > 0", []),
    ("return d.close / (d.volume + 1e-12)", []),
    ("return np.nanmean(d.close, axis=1)", []),
    ("return d.close * 100", []),
    ("return d.close[5:]", []),
    ("return np.percentile(d.close, 100, axis=1)", []),
    ("return winsorize(d.close, -3.0)", []),
    ("return d.close * window", []),
])
def test_hidden_knobs_classify_literals(body, expected):
    assert knobs(body) == expected


def test_hidden_knobs_skip_parameter_defaults():
    source = "def factor(d, window=20, level=0.02):\n    return ts_mean(d.close, window) > level\n"
    assert parse_program(source).hidden_knobs == ()


def test_find_knob_sites_returns_nodes_a_transformer_can_replace():
    module = cst.parse_module("def factor(d):\n    return ts_mean(d.close, 20) > -0.1\n")
    fn = module.body[0]
    sites = {site.literal: name for site, name in zip(find_knob_sites(fn), ["k_window", "k_level"])}

    class Lift(cst.CSTTransformer):
        def on_leave(self, original_node, updated_node):
            if original_node in sites:
                return cst.Name(sites[original_node])
            return updated_node

    lifted = module.visit(Lift()).code
    assert lifted == "def factor(d):\n    return ts_mean(d.close, k_window) > k_level\n"


def test_knob_sites_carry_the_range_that_keeps_their_role():
    module = cst.parse_module("def factor(d):\n    return ts_quantile(d.close, 20, 0.95) > -0.1\n")
    ranges = [(site.value, site.low, site.high) for site in find_knob_sites(module.body[0])]
    assert ranges == [(20, 10, 40), (0.95, 0.9375, 0.9625), (-0.1, -0.125, -0.075)]


def test_parameter_ranges_judge_a_parameter_by_its_first_knob_like_use():
    module = cst.parse_module("def factor(d, n=10, q=0.9, lo=2.0, scale=4, one=1):\n"
                              "    x = ts_quantile(d.close, n, q=q) * scale * one\n"
                              "    return np.clip(x, -lo, lo) + ts_mean(x, q)\n")
    assert parameter_ranges(module.body[0], {"n": 10, "q": 0.9, "lo": 2.0, "scale": 4, "one": 1}) == {
        "n": (5, 20), "q": (0.875, 0.925), "lo": (1.5, 2.5)}
