"""The model bandit: UCB1 over robust-train-FS gain per dollar."""
from __future__ import annotations

from factorengine.llm.routing import choose_model
from factorengine.store import ModelPull

MODELS = ("big", "small")


def test_a_single_model_is_always_chosen():
    assert choose_model(["only"], [ModelPull("only", 0.01, 0.0)] * 5) == "only"


def test_untried_models_are_tried_first_in_order():
    assert choose_model(MODELS, []) == "big"
    assert choose_model(MODELS, [ModelPull("big", 0.01, 0.02)]) == "small"


def test_the_model_with_more_gain_per_dollar_is_chosen_once_both_are_known():
    pulls = [ModelPull("big", 0.01, 0.02), ModelPull("small", 0.01, 0.0)] * 3
    assert choose_model(MODELS, pulls) == "big"


def test_a_cheaper_model_with_the_same_gain_wins():
    pulls = [ModelPull("big", 0.05, 0.01), ModelPull("small", 0.001, 0.01)] * 3
    assert choose_model(MODELS, pulls) == "small"


def test_a_rarely_tried_model_is_tried_again_by_its_exploration_bonus():
    pulls = [ModelPull("big", 0.01, 0.02)] * 30 + [ModelPull("small", 0.01, 0.0)]
    assert choose_model(MODELS, pulls) == "small"


def test_losses_count_as_no_gain():
    pulls = [ModelPull("big", 0.01, -0.5), ModelPull("small", 0.01, 0.0)] * 2
    assert choose_model(MODELS, pulls) == "big"  # equal value and bonus: the earlier model
