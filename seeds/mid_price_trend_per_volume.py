"""A mid-price trend achieved without a surge in volume is a quieter, more durable move than one driven by heavy trading.

Family: momentum. Adapted from GPT factor factory #4 (GPT-Alpha2) TS_Return(h + l, 10) / TS_Mean(v, 10);
the volume level is replaced by volume relative to its own longer mean.
"""
from factorengine.ops import pct_change, safe_div, ts_mean

SEARCH_SPACE = {"window": (3, 40), "long_window": (20, 250)}


def factor(d, window=10, long_window=60):
    mid_trend = pct_change(d.high + d.low, window)
    rel_volume = safe_div(ts_mean(d.volume, window), ts_mean(d.volume, long_window))
    return safe_div(mid_trend, rel_volume)
