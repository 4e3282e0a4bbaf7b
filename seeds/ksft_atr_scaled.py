"""A close far above the day's midpoint, measured against the stock's typical range, reflects buying pressure that reverts.

Family: range/candle shape. Alpha158 KSFT (2c - h - l) / o, with the open replaced by the average daily range as the
scale, so it differs from close location (which uses today's range).
"""
from factorengine.ops import safe_div, ts_mean

SEARCH_SPACE = {"window": (5, 60)}


def factor(d, window=10):
    return safe_div(2 * d.close - d.high - d.low, ts_mean(d.high - d.low, window))
