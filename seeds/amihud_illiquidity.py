"""A stock whose price impact per dollar traded has risen above its own norm is temporarily illiquid and must offer higher returns.

Family: volume-price. Amihud (2002) |r| / dollar volume, scaled by its own longer history so it is not a size bet.
"""
from factorengine.ops import abs, safe_div, ts_mean

SEARCH_SPACE = {"window": (5, 60), "long_window": (60, 250)}


def factor(d, window=20, long_window=120):
    illiq = safe_div(abs(d.returns), d.close * d.volume)
    return safe_div(ts_mean(illiq, window), ts_mean(illiq, long_window))
