"""Positively skewed stocks are overpriced by skewness-loving investors and earn lower future returns.

Family: volatility. Realized skewness of daily returns (Amaya et al. 2015).
"""
from factorengine.ops import ts_skew

SEARCH_SPACE = {"window": (20, 250)}


def factor(d, window=60):
    return ts_skew(d.returns, window)
