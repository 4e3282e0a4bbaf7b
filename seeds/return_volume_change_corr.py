"""When price moves and volume changes go together, moves are information-driven and persist; when they diverge, they are noise that reverts.

Family: correlation. Rolling correlation of daily returns with daily log volume change.
"""
from factorengine.ops import delay, log, safe_div, ts_corr

SEARCH_SPACE = {"window": (5, 60)}


def factor(d, window=20):
    volume_change = log(safe_div(d.volume, delay(d.volume, 1)))
    return ts_corr(d.returns, volume_change, window)
