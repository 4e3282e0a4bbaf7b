"""Short-term momentum confirmed by rising trading activity is more persistent than momentum on thin volume.

Family: momentum. Adapted from GPT factor factory #1 (price-volume momentum):
Rank(Decay_Linear(TS_Return(c, 10), 10)) * Rank(v / TS_Mean(v, 10)).
"""
from factorengine.ops import pct_change, rank, safe_div, ts_decay_linear, ts_mean

SEARCH_SPACE = {"window": (3, 40), "decay_window": (2, 30), "vol_window": (5, 60)}


def factor(d, window=10, decay_window=10, vol_window=10):
    mom = ts_decay_linear(pct_change(d.close, window), decay_window)
    surge = safe_div(d.volume, ts_mean(d.volume, vol_window))
    return rank(mom) * rank(surge)
