"""Smoothed price-volume co-movement that is large relative to the noise of the open-to-mid spread marks a clean, persistent flow.

Family: correlation. Adapted from GPT factor factory #5 (GPT-Alpha3)
Rank_Div(TS_Corr(Decay_Linear(c,5), Decay_Linear(v,5), 5), TS_Std(h + l - 2o, 5)): the spread is divided by the open.
"""
from factorengine.ops import rank, ts_corr, ts_decay_linear, ts_std

SEARCH_SPACE = {"decay_window": (2, 20), "corr_window": (4, 40), "std_window": (3, 40)}


def factor(d, decay_window=5, corr_window=5, std_window=5):
    corr = ts_corr(ts_decay_linear(d.close, decay_window), ts_decay_linear(d.volume, decay_window), corr_window)
    spread_noise = ts_std((d.high + d.low - 2 * d.open) / d.open, std_window)
    return rank(corr) / rank(spread_noise)
