"""A linearly recency-weighted average return captures the freshest part of a price trend, which keeps going for a while.

Family: momentum. Decay-linear momentum (WorldQuant-style decay_linear of daily returns).
"""
from factorengine.ops import ts_decay_linear

SEARCH_SPACE = {"window": (10, 250)}


def factor(d, window=60):
    return ts_decay_linear(d.returns, window)
