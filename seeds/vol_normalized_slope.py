"""A price trend that is steep relative to the stock's own volatility is a high-quality trend that continues.

Family: trend quality. Time slope of log close divided by the std of daily returns (a trend t-statistic).
"""
from factorengine.ops import log, safe_div, ts_slope, ts_std

SEARCH_SPACE = {"window": (10, 120)}


def factor(d, window=40):
    return safe_div(ts_slope(log(d.close), window), ts_std(d.returns, window))
