"""Intermediate-horizon winners keep outperforming once the most recent weeks (which tend to reverse) are skipped.

Family: momentum. Adapted from Jegadeesh-Titman 12-1 momentum, shortened so it fits short panels.
"""
from factorengine.ops import delay

SEARCH_SPACE = {"window": (60, 250), "skip": (5, 42)}


def factor(d, window=120, skip=21):
    return delay(d.close, skip) / delay(d.close, window) - 1
