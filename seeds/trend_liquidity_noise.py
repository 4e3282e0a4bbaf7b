"""Stocks whose smoothed price trend outpaces their volume trend, and whose daily range is stable, keep rising.

Family: trend quality. Adapted from GPT factor factory #2 (the report's best)
Rank(TS_Mean(c,10)) / Rank(TS_Mean(v,10)) * Inv(TS_Std(h - l, 30)): price and volume levels become trends relative
to their own longer means, and the range becomes (h - l) / c.
"""
from factorengine.ops import rank, safe_div, ts_mean, ts_std

SEARCH_SPACE = {"window": (3, 40), "long_window": (20, 250), "noise_window": (10, 120)}


def factor(d, window=10, long_window=60, noise_window=30):
    price_trend = ts_mean(d.close, window) / ts_mean(d.close, long_window)
    volume_trend = safe_div(ts_mean(d.volume, window), ts_mean(d.volume, long_window))
    noise = ts_std((d.high - d.low) / d.close, noise_window)
    return rank(price_trend) / rank(volume_trend) * rank(-noise)
