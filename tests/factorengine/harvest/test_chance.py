"""Chance level and deflated significance: shuffled labels, expected maxima, and signal versus none."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from factorengine.data import PLANTED_SIGNALS
from factorengine.data.label import make_label
from factorengine.harvest.chance import chance_level, expected_max_normal, shuffled, significance
from factorengine.program import load_factor
from factorengine.score.fitness import daily_series


@pytest.fixture(scope="module")
def reversal(synthetic_dataset) -> np.ndarray:
    return load_factor(PLANTED_SIGNALS[0].program)(synthetic_dataset.panel)


@pytest.fixture(scope="module")
def no_signal(synthetic_dataset):
    """The synthetic market with labels drawn independently of everything."""
    noise = np.random.default_rng(3).standard_normal(synthetic_dataset.label.values.shape)
    noise[~synthetic_dataset.label.known] = np.nan
    return dataclasses.replace(synthetic_dataset, label=make_label(noise))


def test_expected_maximum_of_standard_normals_matches_known_values():
    assert expected_max_normal(1) == 0.0
    assert expected_max_normal(1000) == pytest.approx(3.24, abs=0.02)  # simulated: 3.241


def test_a_shuffle_permutes_each_day_among_the_same_stocks(synthetic_dataset):
    label = synthetic_dataset.label
    noise = shuffled(label, np.random.default_rng(0))
    assert np.array_equal(~np.isnan(noise.values), label.known)
    day = 300
    assert np.array_equal(np.sort(noise.values[day][label.known[day]]), np.sort(label.values[day][label.known[day]]))
    assert not np.array_equal(noise.values[day], label.values[day])
    assert np.array_equal(noise.ranks[label.known], make_label(noise.values).ranks[label.known])


def test_more_tries_deflate_the_same_t_statistic():
    daily = np.random.default_rng(0).normal(0.02, 0.1, 500)  # t = 0.02 / 0.1 * sqrt(500) ~ 4.5
    once, many = significance(daily, 1), significance(daily, 10_000)
    assert once.t == many.t and once.deflated_t == pytest.approx(once.t, abs=1e-6)
    assert many.deflated_t < once.deflated_t and many.p > once.p


def test_the_planted_signal_is_significant_after_a_large_search(synthetic_dataset, reversal):
    valid = synthetic_dataset.splits.days("valid")
    daily = daily_series(reversal, synthetic_dataset.label).rank_ic[valid]
    odds = significance(daily, 5_000)
    assert odds.significant and odds.p < 0.05  # t 4.6 over 151 valid days of 100 stocks


def test_on_labels_with_no_signal_the_best_programs_are_not_significant(no_signal, reversal):
    programs = {"reversal": reversal, "close": no_signal.panel.close, "range": no_signal.panel.high - no_signal.panel.low}
    valid = no_signal.splits.days("valid")
    verdicts = [significance(daily_series(v, no_signal.label).rank_ic[valid], 2_000) for v in programs.values()]
    assert not any(v.significant for v in verdicts)
    assert all(v.p > 0.5 for v in verdicts)


def test_the_chance_level_grows_with_the_tries(no_signal, reversal):
    few, many = (chance_level({"reversal": reversal}, no_signal, tries=n, shuffles=20) for n in (10, 2_000))
    assert len(few.null_fs["reversal"]) == 20 and few.null_fs == many.null_fs and few.null_std > 0
    assert abs(few.null_mean) < 2 * few.null_std and many.level > few.level


def test_on_labels_with_no_signal_a_program_does_not_clear_the_chance_level(no_signal, reversal):
    from factorengine.score.fitness import score

    chance = chance_level({"reversal": reversal}, no_signal, tries=2_000, shuffles=20)
    assert score(reversal, no_signal.label, no_signal.splits).valid.fs < chance.level
