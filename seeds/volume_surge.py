"""Abnormally high volume attracts attention and marks liquidity shocks whose price effects are predictable over the next days.

Family: volume-price. Volume over its rolling mean (the volume-surge baseline).
"""
from factorengine.ops import safe_div, ts_mean

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    return safe_div(d.volume, ts_mean(d.volume, window))
