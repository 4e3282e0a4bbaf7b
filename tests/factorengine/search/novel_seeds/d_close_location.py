"""Closing near the day's low reflects selling pressure that reverts."""
from factorengine.ops import safe_div


def factor(d):
    return safe_div(d.close - d.low, d.high - d.low)
