"""Efficient accumulation shows as price tracking volume while the range ignores volume; stocks where this gap is wide rise later.

Family: correlation. Adapted from QuantaAlpha #14 RANK(CORR(c,v,15)) - RANK(CORR(rng,v,15)), with the range taken
relative to the close.
"""
from factorengine.ops import rank, ts_corr

SEARCH_SPACE = {"window": (5, 60)}


def factor(d, window=15):
    price_volume = ts_corr(d.close, d.volume, window)
    range_volume = ts_corr((d.high - d.low) / d.close, d.volume, window)
    return rank(price_volume) - rank(range_volume)
