"""A close near the top of its multi-day high-low channel is overextended and tends to pull back; a close near the bottom bounces.

Family: range/candle shape. Stochastic %K from AlphaAgent #17 (c - TS_MIN(l,14)) / (TS_MAX(h,14) - TS_MIN(l,14)).
"""
from factorengine.ops import safe_div, ts_max, ts_min

SEARCH_SPACE = {"window": (5, 60)}


def factor(d, window=14):
    low = ts_min(d.low, window)
    return safe_div(d.close - low, ts_max(d.high, window) - low)
