"""Specification of factor programs: parsing, ranges, errors, rewrites, ids, knobs, loading."""
from __future__ import annotations

import textwrap

import libcst as cst
import numpy as np
import pytest

from factorengine.program.source import (
    HiddenKnob, Param, ProgramError, find_knob_sites, load_factor, parse_program,
    program_id, set_defaults,
)

EXAMPLE = '''"""Volume-confirmed short-term reversal: heavy-volume losers bounce."""
from factorengine.ops import delay, rank, ts_mean

SEARCH_SPACE = {"window": (3, 40), "vol_window": (5, 60)}

def factor(d, window=10, vol_window=20):
    ret = d.close / delay(d.close, window) - 1
    surge = d.volume / ts_mean(d.volume, vol_window)
    return -rank(ret) * rank(surge)
'''


def program(body: str) -> str:
    """Dedent a test program."""
    return textwrap.dedent(body).lstrip("\n")


def knobs(body: str) -> list[tuple[object, str]]:
    """Return (value, reason) of the hidden knobs of a factor with the given body."""
    source = "def factor(d, window=10):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    return [(k.value, k.reason) for k in parse_program(source).hidden_knobs]


# parse_program


def test_parse_program_reads_the_design_example():
    parsed = parse_program(EXAMPLE, "reversal.py")
    assert parsed.params == (
        Param("window", 10, "int", 3, 40, declared=True),
        Param("vol_window", 20, "int", 5, 60, declared=True),
    )
    assert parsed.docstring == "Volume-confirmed short-term reversal: heavy-volume losers bounce."
    assert parsed.hidden_knobs == ()
    assert parsed.source == EXAMPLE
    assert parsed.program_id == program_id(EXAMPLE)
    assert parsed.defaults == {"window": 10, "vol_window": 20}


def test_parse_program_without_docstring_or_search_space():
    parsed = parse_program("def factor(d, alpha=0.3):\n    return d.close * alpha\n")
    assert parsed.docstring == ""
    assert parsed.params == (Param("alpha", 0.3, "float", 0.075, 1.2, declared=False),)


def test_parse_program_reads_keyword_only_and_negative_defaults():
    parsed = parse_program(program('''
        SEARCH_SPACE = {"shift": (-0.5, 0.5)}
        def factor(d, /, window=5, *, shift=-0.1, lag=-3):
            return d.close
    '''))
    assert parsed.params == (
        Param("window", 5, "int", 1, 20, declared=False),
        Param("shift", -0.1, "float", -0.5, 0.5, declared=True),
        Param("lag", -3, "int", -12, -1, declared=False),
    )


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


# parse_program errors: each names the file, the line where useful, the problem and the fix


@pytest.mark.parametrize("source, expected", [
    ("def factor(d, window=10)\n    return d.close\n",
     ["bad.py:1:", "syntax error", "fix the Python syntax"]),
    ("def alpha(d):\n    return d.close\n",
     ["bad.py:", "no module-level function `factor`", "def factor(d"]),
    ("class K:\n    def factor(d):\n        return d.close\n",
     ["no module-level function `factor`"]),
    ("def factor(d):\n    return 1\n\ndef factor(d):\n    return 2\n",
     ["bad.py:4:", "defined 2 times (lines 1, 4)", "keep one"]),
    ("def factor(panel, window=10):\n    return panel.close\n",
     ["bad.py:1:", "first parameter of factor must be `d`", "`panel`", "def factor(d, ...)"]),
    ("def factor():\n    return 0\n",
     ["first parameter of factor must be `d`", "got nothing"]),
    ("def factor(d=None):\n    return 0\n",
     ["first parameter of factor must be `d`", "without a default", "got `d=None`"]),
    ("def factor(d, *args):\n    return d.close\n",
     ["bad.py:1:", "factor takes *args", "named keywords with numeric defaults"]),
    ("def factor(d, **params):\n    return d.close\n",
     ["factor takes **params"]),
    ("def factor(d,\n           window):\n    return d.close\n",
     ["bad.py:2:", "parameter 'window' has no default", "`window=10`"]),
    ("def factor(d, use_volume=True):\n    return d.close\n",
     ["bad.py:1:", "default of 'use_volume' must be an int or float literal", "`True`",
      "a bool is not a parameter", "`use_volume=10`"]),
    ("def factor(d, field='close'):\n    return d.close\n",
     ["default of 'field' must be an int or float literal", "`'close'`"]),
    ("def factor(d, window=2 * 5):\n    return d.close\n",
     ["default of 'window' must be an int or float literal", "`2 * 5`", "inside the body"]),
    ('SEARCH_SPACE = dict(window=(3, 40))\ndef factor(d, window=10):\n    return d.close\n',
     ["bad.py:1:", "SEARCH_SPACE must be a literal dict", '{"window": (3, 40)}']),
    ('SEARCH_SPACE = {"window": [3, 40]}\ndef factor(d, window=10):\n    return d.close\n',
     ["bad.py:1:", "SEARCH_SPACE['window'] must be a (low, high) tuple of numbers", "`[3, 40]`"]),
    ('SEARCH_SPACE = {"window": (3, 20, 40)}\ndef factor(d, window=10):\n    return d.close\n',
     ["must be a (low, high) tuple of numbers"]),
    ('SEARCH_SPACE = {"window": (3, "40")}\ndef factor(d, window=10):\n    return d.close\n',
     ["must be a (low, high) tuple of numbers"]),
    ('SEARCH_SPACE = {window: (3, 40)}\ndef factor(d, window=10):\n    return d.close\n',
     ["keys must be parameter names as string literals"]),
    ('SEARCH_SPACE = {\n    "window": (3, 40),\n    "windw": (5, 60),\n}\n'
     'def factor(d, window=10):\n    return d.close\n',
     ["bad.py:3:", "SEARCH_SPACE names 'windw', which is not a parameter", "(parameters: window)",
      "fix the name or remove the entry"]),
    ('SEARCH_SPACE = {"window": (40, 3)}\ndef factor(d, window=10):\n    return d.close\n',
     ["bad.py:1:", "SEARCH_SPACE['window'] = (40, 3)", "low must be below high"]),
    ('SEARCH_SPACE = {"window": (5, 5)}\ndef factor(d, window=5):\n    return d.close\n',
     ["low must be below high"]),
    ('SEARCH_SPACE = {"window": (3.0, 40)}\ndef factor(d, window=10):\n    return d.close\n',
     ["bad.py:1:", "'window' is an int parameter (default 10)", "float bound",
      "use int bounds", "(10.0)"]),
    ('SEARCH_SPACE = {"window": (20, 40)}\ndef factor(d, window=10):\n    return d.close\n',
     ["bad.py:1:", "does not contain the default window=10", "widen the range"]),
    ('SEARCH_SPACE = {"window": (3, 40)}\nSEARCH_SPACE = {}\ndef factor(d, window=10):\n'
     '    return d.close\n',
     ["bad.py:2:", "SEARCH_SPACE is assigned more than once"]),
])
def test_parse_program_rejects_bad_programs_with_a_fix(source, expected):
    with pytest.raises(ProgramError) as info:
        parse_program(source, "bad.py")
    for fragment in expected:
        assert fragment in str(info.value)


def test_program_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_program("x = 1\n")


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


# program_id


def test_program_id_is_16_hex_chars():
    assert len(program_id(EXAMPLE)) == 16
    int(program_id(EXAMPLE), 16)


def test_program_id_ignores_comments_whitespace_and_docstrings():
    reformatted = program('''
        # a comment
        from factorengine.ops import (delay, rank,
                                      ts_mean)
        SEARCH_SPACE = {'window': (3, 40),
                        'vol_window': (5, 60)}


        def factor(d,   window = 10, vol_window = 20):
            """Different docstring."""
            ret = (d.close / delay(d.close, window)) - 1   # why not
            surge = d.volume / ts_mean(d.volume, vol_window)

            return -rank(ret) * rank(surge)
    ''')
    assert program_id(reformatted) == program_id(EXAMPLE)


@pytest.mark.parametrize("old, new", [
    ("window=10", "window=11"),
    ("window=10", "window=10.0"),
    ("- 1", "- 2"),
    ("-rank(ret)", "rank(ret)"),
    ("d.volume /", "d.close /"),
])
def test_program_id_changes_with_code_and_defaults(old, new):
    assert old in EXAMPLE
    assert program_id(EXAMPLE.replace(old, new)) != program_id(EXAMPLE)


def test_program_id_rejects_syntax_errors():
    with pytest.raises(ProgramError, match="syntax error"):
        program_id("def factor(d:\n")


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


# load_factor


def test_load_factor_returns_a_callable_that_runs():
    source = program('''
        """Five-day momentum."""
        import numpy as np

        def factor(d, window=5, scale=2.0):
            out = np.full_like(d.close, np.nan)
            out[window:] = scale * (d.close[window:] / d.close[:-window] - 1)
            return out
    ''')

    class Panel:
        close = np.arange(1.0, 13.0).reshape(6, 2)

    factor = load_factor(source, "momentum.py")
    values = factor(Panel(), window=2)
    assert values.shape == (6, 2)
    assert np.isnan(values[:2]).all()
    np.testing.assert_allclose(values[2], 2.0 * (np.array([5.0, 6.0]) / np.array([1.0, 2.0]) - 1))


def test_load_factor_runs_each_program_in_a_fresh_namespace():
    first = load_factor("K = 1\ndef factor(d):\n    return K\n", "a.py")
    second = load_factor("K = 2\ndef factor(d):\n    return K\n", "b.py")
    assert (first(None), second(None)) == (1, 2)


def test_load_factor_reports_syntax_errors_and_missing_factor():
    with pytest.raises(ProgramError, match=r"broken.py:1: syntax error"):
        load_factor("def factor(d:\n    return 1\n", "broken.py")
    with pytest.raises(ProgramError, match=r"empty.py: defines no function `factor`"):
        load_factor("x = 1\n", "empty.py")
