"""When overnight returns persistently beat intraday returns, clienteles disagree, and the overnight-driven gains tend to unwind.

Family: reversal. Adapted from Lou-Polk-Skouras "A tug of war": cumulative overnight minus intraday return.
"""
from factorengine.ops import delay, ts_sum

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    overnight = d.open / delay(d.close, 1) - 1
    intraday = d.close / d.open - 1
    return -(ts_sum(overnight, window) - ts_sum(intraday, window))
