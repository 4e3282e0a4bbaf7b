"""A move that covers its distance in a straight line (high efficiency) reflects persistent information flow and continues.

Family: trend quality. Signed Kaufman efficiency ratio: net log return over the sum of absolute daily log returns.
"""
from factorengine.ops import abs, delay, log, safe_div, ts_sum

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    log_ret = log(d.close / delay(d.close, 1))
    return safe_div(ts_sum(log_ret, window), ts_sum(abs(log_ret), window))
