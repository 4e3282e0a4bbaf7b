"""Novelty: value fingerprints find duplicates, level exposure flags price and volume bets, shapes compare code."""
from __future__ import annotations

import numpy as np
import pytest

from factorengine.config import NoveltyConfig
from factorengine.ops import delay, rank, ts_mean
from factorengine.score.novelty import Crowd, Profiler, shape, structural_similarity, value_correlation


@pytest.fixture(scope="module")
def profiler(synthetic_dataset) -> Profiler:
    return Profiler(synthetic_dataset)


@pytest.fixture(scope="module")
def panel(synthetic_dataset):
    return synthetic_dataset.panel


def _reversal(panel):
    return -(panel.close / delay(panel.close, 5) - 1)


def test_sample_cells_lie_in_train_and_valid_only(profiler, synthetic_dataset):
    assert profiler.days.max() < synthetic_dataset.splits.days("valid").stop and len(profiler.days) == 32


def test_a_monotone_transform_ranks_alike_so_its_values_correlate_fully(profiler, panel):
    a, b = profiler.profile(_reversal(panel)), profiler.profile(np.exp(3 * _reversal(panel)))
    assert value_correlation(a, b) == pytest.approx(1.0, abs=1e-6)


def test_a_negated_program_is_as_correlated_as_the_original(profiler, panel):
    a, b = profiler.profile(_reversal(panel)), profiler.profile(-_reversal(panel))
    assert value_correlation(a, b) == pytest.approx(1.0, abs=1e-6)


def test_unrelated_programs_barely_correlate(profiler, panel):
    noise = np.random.default_rng(1).normal(size=panel.close.shape)
    assert value_correlation(profiler.profile(_reversal(panel)), profiler.profile(noise)) < 0.1


def test_a_pure_price_level_bet_is_exposed_to_the_price_level(profiler, panel):
    exposures = profiler.profile(panel.close).exposures
    assert exposures["price"] == pytest.approx(1.0, abs=1e-9)
    assert profiler.profile(panel.close).level_exposure == ("price", pytest.approx(1.0))


def test_a_return_based_factor_is_not_exposed_to_levels(profiler, panel):
    name, exposure = profiler.profile(_reversal(panel)).level_exposure
    assert exposure < 0.2


def test_a_dollar_volume_bet_is_exposed_to_dollar_volume(profiler, panel):
    exposures = profiler.profile(-ts_mean(panel.close * panel.volume, 20)).exposures
    assert exposures["dollar_volume"] < -0.9


def test_renamed_variables_and_other_numbers_leave_the_shape_unchanged():
    a = shape("def factor(d, window=5):\n    r = d.close / delay(d.close, window)\n    return -rank(r)\n")
    b = shape("def factor(d, w=20):\n    x = d.close / delay(d.close, w)\n    return -rank(x)\n")
    assert structural_similarity(a, b) == 1.0 and a.size == 16


def test_a_wrapped_program_shares_all_but_the_wrapper():
    inner = "ts_mean(safe_div(d.close - d.low, d.high - d.low), window)"
    a, b = shape(f"def factor(d, window=3):\n    return {inner}\n"), shape(f"def factor(d, window=3):\n    return -{inner}\n")
    assert structural_similarity(a, b) == pytest.approx(15 / 17) and structural_similarity(b, a) == pytest.approx(15 / 18)


def test_programs_on_other_fields_and_operators_share_little():
    a = shape("def factor(d, window=5):\n    return -rank(pct_change(d.close, window))\n")
    b = shape("def factor(d, window=5):\n    return ts_std(d.volume, window)\n")
    assert structural_similarity(a, b) < 0.25


def test_the_crowd_names_the_node_a_duplicate_copies(profiler, panel):
    crowd = Crowd(NoveltyConfig())
    crowd.add(7, profiler.profile(_reversal(panel)), "def factor(d):\n    return d.close\n")
    assert crowd.duplicate(profiler.profile(rank(_reversal(panel)))) == (7, pytest.approx(1.0, abs=1e-6))
    assert crowd.duplicate(profiler.profile(panel.volume / ts_mean(panel.volume, 20))) is None


def test_a_level_bet_is_flagged_and_its_reward_halved(profiler, panel):
    assessment = Crowd(NoveltyConfig()).assess("def factor(d):\n    return d.close\n", profiler.profile(panel.close),
                                               [])
    assert (assessment.level_bet, assessment.level, assessment.penalty) == (True, "price", 0.5)
    assert "a level bet: its ranks follow log price" in assessment.describe()


def test_crowding_an_elite_costs_reward_by_structure_and_values(profiler, panel):
    code = "def factor(d, window=5):\n    return -(d.close / delay(d.close, window) - 1)\n"
    crowd = Crowd(NoveltyConfig(structural_penalty=0.1, correlation_penalty=0.2))
    crowd.add(1, profiler.profile(_reversal(panel)), code)
    assessment = crowd.assess(code, profiler.profile(_reversal(panel)), [1])
    assert (assessment.structural, assessment.correlation) == (1.0, pytest.approx(1.0, abs=1e-6))
    assert assessment.penalty == pytest.approx(0.7, abs=1e-6) and not assessment.level_bet


def test_the_assessment_says_its_reward_cut_and_kinship_in_plain_words(profiler, panel):
    code = "def factor(d, window=5):\n    return -(d.close / delay(d.close, window) - 1)\n"
    crowd = Crowd(NoveltyConfig(structural_penalty=0.1, correlation_penalty=0.2))
    crowd.add(1, profiler.profile(_reversal(panel)), code)
    crowd.add(2, profiler.profile(panel.volume / ts_mean(panel.volume, 20)), "def factor(d):\n    return d.volume\n")
    words = crowd.assess(code, profiler.profile(_reversal(panel)), [1], parent=2).describe()
    assert words.startswith("corr 0.") and ", 1.00 with best; " in words
    assert words.endswith("crowding -30%")
