"""Prices that rise with rising volume (positive rank correlation) attract trend chasers and then revert (WorldQuant Alpha#6 style).

Family: correlation. Correlation of the time-series ranks of close and volume (ranks remove level effects).
"""
from factorengine.ops import ts_corr, ts_rank

SEARCH_SPACE = {"rank_window": (3, 20), "window": (5, 60)}


def factor(d, rank_window=5, window=10):
    return -ts_corr(ts_rank(d.close, rank_window), ts_rank(d.volume, rank_window), window)
