"""A close stretched outside its Bollinger band relative to its own recent mean and volatility tends to revert toward the mean.

Family: trend quality. Bollinger band position (#19): z-score of the close within its rolling window.
"""
from factorengine.ops import ts_zscore

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    return ts_zscore(d.close, window)
