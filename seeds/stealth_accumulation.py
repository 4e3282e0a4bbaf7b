"""Informed buyers accumulate quietly: price and volume rise together while the range stays unrelated to volume, and prices follow.

Family: volume-price. Adapted from QuantaAlpha #13 CORR(c,v,20) * MEAN(TR,14) / ((CORR(rng,v,10)+eps) * MEAN(c,14)):
the true range is taken relative to the previous close (ATR %), the range relative to the close, and the
near-zero-unstable (corr + eps) denominator is replaced by (1 + corr), which stays positive.
"""
from factorengine.ops import delay, maximum, minimum, safe_div, ts_corr, ts_mean

SEARCH_SPACE = {"corr_window": (5, 60), "atr_window": (5, 60), "range_window": (5, 40)}


def factor(d, corr_window=20, atr_window=14, range_window=10):
    prev_close = delay(d.close, 1)
    atr_pct = ts_mean((maximum(d.high, prev_close) - minimum(d.low, prev_close)) / prev_close, atr_window)
    price_volume = ts_corr(d.close, d.volume, corr_window)
    range_volume = ts_corr((d.high - d.low) / d.close, d.volume, range_window)
    return safe_div(price_volume * atr_pct, 1 + range_volume)
