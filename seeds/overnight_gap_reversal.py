"""Overnight gaps are driven by noisy retail and news order flow and partially reverse over the following days.

Family: reversal. Mean overnight return (open / previous close - 1), negated.
"""
from factorengine.ops import delay, ts_mean

SEARCH_SPACE = {"window": (1, 20)}


def factor(d, window=5):
    gap = d.open / delay(d.close, 1) - 1
    return -ts_mean(gap, window)
