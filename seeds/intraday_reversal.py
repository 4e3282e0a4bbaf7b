"""Open-to-close moves reflect intraday price pressure that is partly undone in subsequent sessions.

Family: reversal. Recency-weighted intraday return (close / open - 1), negated.
"""
from factorengine.ops import ts_decay_linear

SEARCH_SPACE = {"window": (1, 20)}


def factor(d, window=5):
    return -ts_decay_linear(d.close / d.open - 1, window)
