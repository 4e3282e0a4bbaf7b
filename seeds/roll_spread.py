"""Negative serial covariance of returns reveals bid-ask bounce; a larger implied effective spread means lower liquidity and a liquidity premium.

Family: liquidity. Roll (1984) effective spread 2 * sqrt(-cov(r_t, r_t-1)), floored at 0 when the covariance is positive.
"""
from factorengine.ops import delay, maximum, sqrt, ts_cov

SEARCH_SPACE = {"window": (10, 120)}


def factor(d, window=20):
    cov = ts_cov(d.returns, delay(d.returns, 1), window)
    return 2 * sqrt(maximum(-cov, 0.0))
