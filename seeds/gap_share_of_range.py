"""When most of a day's true range comes from the overnight gap rather than intraday trading, the price jump was news-driven and under-digested, and its continuation or reversal is predictable.

Family: range/candle shape. Signed share of the true range explained by the overnight gap, (o - prev c) / TR,
averaged over the window.
"""
from factorengine.ops import delay, maximum, minimum, safe_div, ts_mean

SEARCH_SPACE = {"window": (1, 20)}


def factor(d, window=1):
    prev_close = delay(d.close, 1)
    true_range = maximum(d.high, prev_close) - minimum(d.low, prev_close)
    return ts_mean(safe_div(d.open - prev_close, true_range), window)
