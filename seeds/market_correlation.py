"""Stocks that move tightly with the market carry more systematic risk, and low-correlation (betting-against-correlation) names earn more per unit of risk.

Family: correlation. Rolling correlation of the stock's returns with the equal-weight market return.
"""
from factorengine.ops import demean, ts_corr

SEARCH_SPACE = {"window": (20, 250)}


def factor(d, window=60):
    market = d.returns - demean(d.returns)
    return ts_corr(d.returns, market, window)
