"""When most recent volume trades on up days (net buying pressure), the accumulation shows in subsequent prices.

Family: volume-price. On-balance volume (#21) as a ratio: signed volume over total volume in the window.
"""
from factorengine.ops import safe_div, sign, ts_sum

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    return safe_div(ts_sum(sign(d.returns) * d.volume, window), ts_sum(d.volume, window))
