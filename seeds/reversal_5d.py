"""Weekly losers outperform weekly winners as short-term overreaction and price pressure unwind.

Family: reversal. Classic 5-day reversal (Lehmann 1990, Lo-MacKinlay 1990).
"""
from factorengine.ops import pct_change

SEARCH_SPACE = {"window": (2, 20)}


def factor(d, window=5):
    return -pct_change(d.close, window)
