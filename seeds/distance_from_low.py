"""Stocks far above their recent low have already rebounded, while those near the low carry unresolved selling pressure.

Family: trend quality. Distance from the rolling minimum close, close / ts_min - 1.
"""
from factorengine.ops import ts_min

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    return d.close / ts_min(d.close, window) - 1
