"""When dollar volume rises on up days and volume is stable, buying is persistent; when unstable, the same correlation is noise.

Family: correlation. Adapted from GPT factor factory #3 (GPT-Alpha1) TS_Corr(c * v, TS_Return(c, 1), 10) / TS_Std(v, 10):
the std of raw volume becomes the std of volume relative to its own mean.
"""
from factorengine.ops import safe_div, ts_corr, ts_mean, ts_std

SEARCH_SPACE = {"window": (5, 60), "long_window": (20, 250)}


def factor(d, window=10, long_window=60):
    corr = ts_corr(d.close * d.volume, d.returns, window)
    rel_volume = safe_div(d.volume, ts_mean(d.volume, long_window))
    return safe_div(corr, ts_std(rel_volume, window))
