"""Price-volume agreement is more informative when the relative daily range is unusually wide, so their product predicts returns.

Family: correlation. QuantaAlpha #15 CORR(c,v,10) * ZSCORE(rng / c, 20).
"""
from factorengine.ops import ts_corr, ts_zscore

SEARCH_SPACE = {"corr_window": (5, 60), "z_window": (10, 120)}


def factor(d, corr_window=10, z_window=20):
    return ts_corr(d.close, d.volume, corr_window) * ts_zscore((d.high - d.low) / d.close, z_window)
