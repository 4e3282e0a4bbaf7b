"""Stocks whose trading activity is erratic carry liquidity risk; the volatility of liquidity is priced (Chordia-Subrahmanyam-Anshuman).

Family: liquidity. Coefficient of variation of daily volume.
"""
from factorengine.ops import safe_div, ts_mean, ts_std

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    return safe_div(ts_std(d.volume, window), ts_mean(d.volume, window))
