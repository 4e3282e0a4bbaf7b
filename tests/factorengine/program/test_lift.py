"""Lifting hidden knobs: literals become parameters, values at the defaults stay the same, names never clash."""
import numpy as np

from factorengine.program import LiftedKnob, lift_knobs, load_factor, parse_program
from tests.factorengine.program.programs import program

HIDDEN = '''"""Volume surge gated by a threshold."""
import numpy as np

from factorengine.ops import rank, ts_mean


def factor(d, window=10):
    window_1 = 3
    surge = d.volume / ts_mean(d.volume, 20)
    hot = np.where(surge > 1.5, 1.0, 0.0)
    return rank(-ts_mean(d.returns, window)) * hot - 0.02 * surge + 0 * window_1
'''


def test_hidden_windows_and_thresholds_become_parameters_with_their_values_as_defaults():
    lifted, knobs = lift_knobs(parse_program(HIDDEN))
    assert lifted.defaults == {"window": 10, "window_2": 20, "threshold_1": 1.5, "threshold_2": 0.02}
    assert lifted.hidden_knobs == ()
    assert knobs == (LiftedKnob("window_2", 20, 9, "ts_mean(d.volume, 20)", "window", 10, 40),
                     LiftedKnob("threshold_1", 1.5, 10, "surge > 1.5", "threshold", 1.125, 1.875),
                     LiftedKnob("threshold_2", 0.02, 11, "0.02 * surge", "threshold", 0.015, 0.025))
    assert "def factor(d, window=10, window_2=20, threshold_1=1.5, threshold_2=0.02):" in lifted.source
    assert "ts_mean(d.volume, window_2)" in lifted.source and "surge > threshold_1" in lifted.source


def test_a_lifted_program_computes_the_same_values_at_its_defaults(synthetic_dataset):
    lifted, _ = lift_knobs(parse_program(HIDDEN))
    before = load_factor(HIDDEN)(synthetic_dataset.panel)
    after = load_factor(lifted.source)(synthetic_dataset.panel)
    np.testing.assert_array_equal(before, after)


def test_lifted_ranges_keep_the_role_of_the_literal_and_are_declared():
    lifted, _ = lift_knobs(parse_program(HIDDEN))
    ranges = {p.name: (p.low, p.high, p.declared) for p in lifted.params}
    assert ranges == {"window": (5, 20, True), "window_2": (10, 40, True), "threshold_1": (1.125, 1.875, True),
                      "threshold_2": (0.015, 0.025, True)}


def test_lifted_ranges_are_written_into_a_new_search_space_before_factor():
    source = "from factorengine.ops import ts_mean\n\n\ndef factor(d):\n    return ts_mean(d.close, 20) > 0.02\n"
    lifted, _ = lift_knobs(parse_program(source))
    assert lifted.source == ('from factorengine.ops import ts_mean\n\n'
                             'SEARCH_SPACE = {"window_1": (10, 40), "threshold_1": (0.015, 0.025)}\n\n\n'
                             'def factor(d, window_1=20, threshold_1=0.02):\n'
                             '    return ts_mean(d.close, window_1) > threshold_1\n')


def test_lifted_ranges_are_merged_into_an_existing_search_space_keeping_its_layout():
    source = program('''
        from factorengine.ops import ts_mean, ts_quantile

        SEARCH_SPACE = {
            "window": (5, 40),  # a week to two months
        }


        def factor(d, window=10):
            return ts_quantile(d.close, window, 0.95) - ts_mean(d.close, 60)
    ''')
    lifted, _ = lift_knobs(parse_program(source))
    assert lifted.source.startswith(program('''
        from factorengine.ops import ts_mean, ts_quantile

        SEARCH_SPACE = {
            "window": (5, 40),  # a week to two months
            "threshold_1": (0.9375, 0.9625),
            "window_1": (30, 120),
        }


        def factor(d, window=10, threshold_1=0.95, window_1=60):
    '''))


def test_a_long_search_space_is_laid_out_one_entry_a_line():
    body = " + ".join(f"ts_mean(d.close, {n})" for n in range(10, 17))
    lifted, _ = lift_knobs(parse_program(f"from factorengine.ops import ts_mean\n\n\ndef factor(d):\n"
                                         f"    return {body}\n"))
    assert 'SEARCH_SPACE = {\n    "window_1": (5, 20),\n' in lifted.source
    assert '    "window_7": (8, 32),\n}\n' in lifted.source


def test_a_parameter_without_a_range_gets_the_range_of_its_role_and_it_is_declared():
    source = ("from factorengine.ops import ts_mean, ts_quantile, winsorize\n\n\n"
              "def factor(d, window=10, q=0.9, k=3.0, scale=4):\n"
              "    return ts_quantile(winsorize(d.close, k), window, q=q) * scale - ts_mean(d.close, window)\n")
    lifted, knobs = lift_knobs(parse_program(source))
    assert knobs == ()
    assert 'SEARCH_SPACE = {"window": (5, 20), "q": (0.875, 0.925), "k": (2.25, 3.75)}' in lifted.source
    assert [p.name for p in lifted.params if not p.declared] == ["scale"]  # `x * 4` is no knob: derived range


def test_a_module_level_constant_is_never_lifted():
    source = ("from factorengine.ops import ts_quantile\n\nTAIL = 0.95\n\n\n"
              "def factor(d, window=20):\n    return ts_quantile(d.close, window, TAIL)\n")
    lifted, knobs = lift_knobs(parse_program(source))
    assert knobs == () and "TAIL = 0.95" in lifted.source and "window=20):" in lifted.source
    assert "TAIL" not in lifted.defaults


def test_lifting_twice_changes_nothing():
    once, _ = lift_knobs(parse_program(HIDDEN))
    assert lift_knobs(once) == (once, ())


def test_knobs_after_keyword_only_parameters_are_appended_to_them():
    source = "from factorengine.ops import ts_mean\n\n\ndef factor(d, *, window=5):\n" \
             "    return ts_mean(d.close, window) - ts_mean(d.close, 60)\n"
    lifted, _ = lift_knobs(parse_program(source))
    assert "def factor(d, *, window=5, window_1=60):" in lifted.source


def test_a_program_without_hidden_knobs_is_returned_as_it_is():
    program = parse_program("def factor(d, window=5):\n    return d.close * 2 - 1\n")
    assert lift_knobs(program) == (program, ())
