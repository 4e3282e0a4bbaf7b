"""Lifting hidden knobs: literals become parameters, values at the defaults stay the same, names never clash."""
import numpy as np

from factorengine.program import LiftedKnob, lift_knobs, load_factor, parse_program

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
    assert knobs == (LiftedKnob("window_2", 20, 9, "ts_mean(d.volume, 20)", "window"),
                     LiftedKnob("threshold_1", 1.5, 10, "surge > 1.5", "threshold"),
                     LiftedKnob("threshold_2", 0.02, 11, "0.02 * surge", "threshold"))
    assert "def factor(d, window=10, window_2=20, threshold_1=1.5, threshold_2=0.02):" in lifted.source
    assert "ts_mean(d.volume, window_2)" in lifted.source and "surge > threshold_1" in lifted.source


def test_a_lifted_program_computes_the_same_values_at_its_defaults(synthetic_dataset):
    lifted, _ = lift_knobs(parse_program(HIDDEN))
    before = load_factor(HIDDEN)(synthetic_dataset.panel)
    after = load_factor(lifted.source)(synthetic_dataset.panel)
    np.testing.assert_array_equal(before, after)


def test_lifted_ranges_are_derived_from_the_literal():
    lifted, _ = lift_knobs(parse_program(HIDDEN))
    ranges = {p.name: (p.low, p.high) for p in lifted.params}
    assert ranges["window_2"] == (5, 80) and ranges["threshold_1"] == (0.375, 6.0)


def test_knobs_after_keyword_only_parameters_are_appended_to_them():
    source = "from factorengine.ops import ts_mean\n\n\ndef factor(d, *, window=5):\n" \
             "    return ts_mean(d.close, window) - ts_mean(d.close, 60)\n"
    lifted, _ = lift_knobs(parse_program(source))
    assert "def factor(d, *, window=5, window_1=60):" in lifted.source


def test_a_program_without_hidden_knobs_is_returned_as_it_is():
    program = parse_program("def factor(d, window=5):\n    return d.close * 2 - 1\n")
    assert lift_knobs(program) == (program, ())
