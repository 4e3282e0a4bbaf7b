"""Returns earned on heavy-volume days carry information; when the volume-weighted return beats the plain average, informed buying is under way.

Family: volume-price. Volume-weighted mean return minus equal-weighted mean return over the window.
"""
from factorengine.ops import safe_div, ts_mean, ts_sum

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    vw_return = safe_div(ts_sum(d.returns * d.volume, window), ts_sum(d.volume, window))
    return vw_return - ts_mean(d.returns, window)
