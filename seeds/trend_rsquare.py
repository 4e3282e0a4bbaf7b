"""Smooth, steady trends (high R-squared of log price on time) are under-reacted to and persist more than jumpy ones.

Family: trend quality. Signed R-squared of log close regressed on time.
"""
from factorengine.ops import log, sign, ts_rsquare, ts_slope

SEARCH_SPACE = {"window": (10, 120)}


def factor(d, window=20):
    log_close = log(d.close)
    return sign(ts_slope(log_close, window)) * ts_rsquare(log_close, window)
