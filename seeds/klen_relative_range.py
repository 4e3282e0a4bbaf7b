"""A day's range that is wide relative to the stock's own norm marks a liquidity or information shock whose price effect reverts.

Family: range/candle shape. Alpha158 KLEN (h - l) / o, divided by its own rolling mean so it is not a volatility-level bet.
"""
from factorengine.ops import safe_div, ts_mean

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    klen = (d.high - d.low) / d.open
    return safe_div(klen, ts_mean(klen, window))
