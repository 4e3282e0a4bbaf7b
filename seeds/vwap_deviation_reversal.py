"""A close far above the recent multi-day volume-weighted average price is stretched and tends to fall back toward it.

Family: reversal. Distance of the close from a w-day VWAP (built from the (h+l+c)/3 proxy weighted by volume).
"""
from factorengine.ops import safe_div, ts_sum

SEARCH_SPACE = {"window": (2, 40)}


def factor(d, window=5):
    vwap_w = safe_div(ts_sum(d.vwap * d.volume, window), ts_sum(d.volume, window))
    return -(safe_div(d.close, vwap_w) - 1)
