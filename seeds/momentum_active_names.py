"""Monthly momentum is stronger among names whose trading activity has risen, because the move is backed by flows.

Family: momentum. Adapted from GPT factor factory #6 (GPT-Alpha4) Rank(TS_Return(c, 20)) * Rank(TS_Mean(v, 20));
the volume level is replaced by volume relative to the stock's own longer history (levels encode the future on
back-adjusted data).
"""
from factorengine.ops import pct_change, rank, safe_div, ts_mean

SEARCH_SPACE = {"window": (5, 60), "long_window": (60, 250)}


def factor(d, window=20, long_window=120):
    activity = safe_div(ts_mean(d.volume, window), ts_mean(d.volume, long_window))
    return rank(pct_change(d.close, window)) * rank(activity)
