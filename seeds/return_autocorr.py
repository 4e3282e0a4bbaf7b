"""Stocks whose returns have been negatively autocorrelated are in a mean-reverting, liquidity-provision regime that keeps paying.

Family: correlation. Rolling first-order autocorrelation of daily returns.
"""
from factorengine.ops import delay, ts_corr

SEARCH_SPACE = {"window": (20, 250)}


def factor(d, window=60):
    return ts_corr(d.returns, delay(d.returns, 1), window)
