"""Wide price ranges and volatile returns achieved on unusually light volume signal fragile prices that revert.

Family: volatility. Adapted from AlphaAgent #16 (TS_MAX(h,14) - TS_MIN(l,14)) * STD(c,20) / MEAN(v,10): the range
becomes a ratio (max high / min low - 1), std of close becomes std of returns, volume becomes relative volume.
"""
from factorengine.ops import safe_div, ts_max, ts_mean, ts_min, ts_std

SEARCH_SPACE = {"range_window": (5, 60), "std_window": (5, 60), "vol_window": (3, 30), "long_window": (30, 250)}


def factor(d, range_window=14, std_window=20, vol_window=10, long_window=60):
    span = ts_max(d.high, range_window) / ts_min(d.low, range_window) - 1
    rel_volume = safe_div(ts_mean(d.volume, vol_window), ts_mean(d.volume, long_window))
    return safe_div(span * ts_std(d.returns, std_window), rel_volume)
