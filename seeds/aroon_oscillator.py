"""A recent high with a distant low marks a fresh uptrend that persists; a recent low with a distant high, a fresh downtrend.

Family: trend quality. Aroon oscillator: (days since the window low - days since the window high) / window.
"""
from factorengine.ops import ts_argmax, ts_argmin

SEARCH_SPACE = {"window": (10, 120)}


def factor(d, window=25):
    return (ts_argmin(d.low, window) - ts_argmax(d.high, window)) / window
