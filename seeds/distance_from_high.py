"""Stocks near their long-run high are under-reacted to because investors anchor on the high, and they keep drifting up.

Family: trend quality. George-Hwang (2004) 52-week-high ratio, close / rolling max close - 1 (window shortened).
"""
from factorengine.ops import ts_max

SEARCH_SPACE = {"window": (20, 250)}


def factor(d, window=120):
    return d.close / ts_max(d.close, window) - 1
