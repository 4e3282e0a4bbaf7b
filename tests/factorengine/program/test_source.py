"""Specification of factor programs: parsing, errors, ids, loading."""
from __future__ import annotations

import numpy as np
import pytest

from factorengine.program import Param, ProgramError, load_factor, parse_program, program_id
from tests.factorengine.program.programs import EXAMPLE, program

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
