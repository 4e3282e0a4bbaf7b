"""A one-day move that is large relative to the stock's own volatility is more likely to be noise that reverts.

Family: reversal. 1-day reversal measured in units of the stock's recent return volatility.
"""
from factorengine.ops import safe_div, ts_std

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    return -safe_div(d.returns, ts_std(d.returns, window))
