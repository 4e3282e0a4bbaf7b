"""Which model answers the next proposal: a UCB1 bandit over improvement per dollar (as ShinkaEvolve's selector).

Each past LLM proposal is a pull of its model: what it cost and how much it raised robust train FS over its
parent (0 when it did not, failed or was rejected). A model's value is its total gain over its total cost,
scaled so the best model's is 1; the model with the highest value plus the UCB1 bonus sqrt(2 ln n / n_model)
answers next, an untried model first. The choice is a function of the pulls alone, so a resumed run, which
reads its pulls back from the store, chooses as an uninterrupted one.
"""
from __future__ import annotations

import math
from typing import Sequence

from factorengine.store import ModelPull

MIN_COST_USD = 1e-6  # a pull's least cost, so free (local) models compare by gain per pull


def choose_model(models: Sequence[str], pulls: Sequence[ModelPull]) -> str:
    """The model that answers next: an untried one in the given order, else the highest UCB1 score."""
    if len(models) == 1:
        return models[0]
    counts = {m: 0 for m in models}
    gains, costs = dict.fromkeys(models, 0.0), dict.fromkeys(models, 0.0)
    for pull in pulls:
        if pull.model in counts:
            counts[pull.model] += 1
            gains[pull.model] += max(0.0, pull.gain)
            costs[pull.model] += max(pull.cost_usd, MIN_COST_USD)
    untried = [m for m in models if counts[m] == 0]
    if untried:
        return untried[0]
    rates = {m: gains[m] / costs[m] for m in models}
    top = max(rates.values())
    total = sum(counts.values())
    scores = {m: (rates[m] / top if top > 0 else 0.0) + math.sqrt(2 * math.log(total) / counts[m]) for m in models}
    return max(models, key=lambda m: scores[m])  # ties go to the earlier model
