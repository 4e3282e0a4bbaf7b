"""Momentum built from many small moves (continuous information) is under-reacted to and persists more than momentum from a few jumps.

Family: trend quality. Frog-in-the-pan information discreteness (Da-Gurun-Warachka 2014), negated so high = continuous:
sign(past return) * (share of up days - share of down days).
"""
from factorengine.ops import pct_change, sign, ts_mean

SEARCH_SPACE = {"window": (20, 250)}


def factor(d, window=60):
    return sign(pct_change(d.close, window)) * ts_mean(sign(d.returns), window)
