"""A jump in recent true range relative to its longer-run level marks a volatility shock, after which prices tend to overshoot and revert.

Family: volatility. Ratio of short to long average true range, both as a fraction of the previous close (ATR, #20).
"""
from factorengine.ops import delay, maximum, minimum, safe_div, ts_mean

SEARCH_SPACE = {"short_window": (2, 20), "long_window": (21, 250)}


def factor(d, short_window=5, long_window=60):
    prev_close = delay(d.close, 1)
    true_range = (maximum(d.high, prev_close) - minimum(d.low, prev_close)) / prev_close
    return safe_div(ts_mean(true_range, short_window), ts_mean(true_range, long_window))
