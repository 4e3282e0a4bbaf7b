"""High-volatility stocks earn lower subsequent returns (the low-volatility anomaly), so return volatility sorts future returns.

Family: volatility. Standard deviation of daily returns (the 20-day volatility baseline).
"""
from factorengine.ops import ts_std

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    return ts_std(d.returns, window)
