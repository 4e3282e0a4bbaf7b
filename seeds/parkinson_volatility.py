"""Intraday high-low range volatility (Parkinson) measures risk more efficiently than close-to-close returns and ranks future returns like volatility does.

Family: volatility. Parkinson (1980) range-based volatility estimator; the constant 1 / (4 ln 2) is dropped because a
constant scale changes neither IC nor RankIC.
"""
from factorengine.ops import log, sqrt, ts_mean

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    hl = log(d.high / d.low)
    return sqrt(ts_mean(hl * hl, window))
