"""A rise in recent turnover relative to its longer-run level signals growing attention and liquidity, which changes expected returns.

Family: liquidity. Log ratio of short to long average share volume (turnover change; shares outstanding cancel).
"""
from factorengine.ops import log, safe_div, ts_mean

SEARCH_SPACE = {"short_window": (2, 20), "long_window": (21, 250)}


def factor(d, short_window=5, long_window=60):
    return log(safe_div(ts_mean(d.volume, short_window), ts_mean(d.volume, long_window)))
