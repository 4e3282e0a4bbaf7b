"""Long lower shadows show intraday sell-offs absorbed by buyers, a demand signal for the next days.

Family: range/candle shape. Alpha158 KLOW2: (min(o, c) - l) / (h - l), averaged over the window.
"""
from factorengine.ops import minimum, safe_div, ts_mean

SEARCH_SPACE = {"window": (1, 20)}


def factor(d, window=5):
    return ts_mean(safe_div(minimum(d.open, d.close) - d.low, d.high - d.low), window)
