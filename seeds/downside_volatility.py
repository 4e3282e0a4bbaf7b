"""Downside risk is what investors demand compensation for (or avoid), so semi-deviation of losses predicts returns beyond total volatility.

Family: volatility. Downside semi-deviation: root mean square of the negative part of daily returns (Ang-Chen-Xing).
"""
from factorengine.ops import minimum, sqrt, ts_mean

SEARCH_SPACE = {"window": (10, 120)}


def factor(d, window=40):
    down = minimum(d.returns, 0.0)
    return sqrt(ts_mean(down * down, window))
