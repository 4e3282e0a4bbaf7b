"""Closing near the day's low reflects late selling pressure that reverts, while closing near the high reflects buying already done.

Family: range/candle shape. Close location value (c - l) / (h - l) (a strong classic on this data; Alpha158 KSFT2).
"""
from factorengine.ops import safe_div, ts_mean

SEARCH_SPACE = {"window": (1, 20)}


def factor(d, window=1):
    return ts_mean(safe_div(d.close - d.low, d.high - d.low), window)
