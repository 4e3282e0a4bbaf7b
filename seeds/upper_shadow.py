"""Long upper shadows show intraday rallies rejected by sellers, a supply signal that weighs on the next days' returns.

Family: range/candle shape. Alpha158 KUP2: (h - max(o, c)) / (h - l), averaged over the window.
"""
from factorengine.ops import maximum, safe_div, ts_mean

SEARCH_SPACE = {"window": (1, 20)}


def factor(d, window=5):
    return ts_mean(safe_div(d.high - maximum(d.open, d.close), d.high - d.low), window)
