"""A candle whose body fills the range shows one-sided, conviction-driven trading whose intraday pressure partly reverses.

Family: range/candle shape. Alpha158 KMID2: (c - o) / (h - l), averaged over the window.
"""
from factorengine.ops import safe_div, ts_mean

SEARCH_SPACE = {"window": (1, 20)}


def factor(d, window=3):
    return ts_mean(safe_div(d.close - d.open, d.high - d.low), window)
