"""Volume-confirmed short-term reversal: heavy-volume losers bounce.

Family: reversal. The FactorEngine design example.
"""
from factorengine.ops import delay, rank, safe_div, ts_mean

SEARCH_SPACE = {"window": (3, 40), "vol_window": (5, 60)}


def factor(d, window=10, vol_window=20):
    ret = d.close / delay(d.close, window) - 1
    surge = safe_div(d.volume, ts_mean(d.volume, vol_window))
    return -rank(ret) * rank(surge)
