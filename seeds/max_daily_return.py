"""Lottery-like stocks with an extreme recent daily gain are overpriced by investors seeking skewness and underperform.

Family: volatility. The MAX effect (Bali-Cakici-Whitelaw 2011): largest daily return over the window.
"""
from factorengine.ops import ts_max

SEARCH_SPACE = {"window": (5, 60)}


def factor(d, window=20):
    return ts_max(d.returns, window)
