"""A steady upward trend in dollar volume reflects improving liquidity and rising investor interest that lowers required returns.

Family: liquidity. Time slope of log dollar volume over the window, divided by its own dispersion (a t-like trend).
"""
from factorengine.ops import log, safe_div, ts_slope, ts_std

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    log_dollar_volume = log(d.close * d.volume)
    return safe_div(ts_slope(log_dollar_volume, window), ts_std(log_dollar_volume, window))
