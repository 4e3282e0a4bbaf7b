"""Price moves made on little relative volume, together with high day-to-day volatility, mark mispricing that corrects.

Family: volume-price. Adapted from GPT factor factory #12 (GPT-Alpha10)
Rank(TS_Return(c,10) / TS_Mean(v,10)) + Rank(TS_Std(c - Delay(c,1), 10)): volume becomes relative volume and the
std of price changes becomes the std of returns.
"""
from factorengine.ops import pct_change, rank, safe_div, ts_mean, ts_std

SEARCH_SPACE = {"window": (3, 40), "long_window": (20, 250)}


def factor(d, window=10, long_window=60):
    rel_volume = safe_div(ts_mean(d.volume, window), ts_mean(d.volume, long_window))
    return rank(safe_div(pct_change(d.close, window), rel_volume)) + rank(ts_std(d.returns, window))
