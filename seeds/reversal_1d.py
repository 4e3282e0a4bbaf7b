"""Yesterday's losers bounce back the next days as liquidity providers are compensated for absorbing order imbalances.

Family: reversal. Classic 1-day reversal (the strongest single baseline on this data); winsorized per day.
"""
from factorengine.ops import winsorize

SEARCH_SPACE = {"k": (1.5, 6.0)}


def factor(d, k=3.0):
    return -winsorize(d.returns, k)
