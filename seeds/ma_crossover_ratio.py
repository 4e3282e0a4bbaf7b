"""A fast moving average above the slow one marks an established uptrend that trend followers extend.

Family: trend quality. Moving-average crossover (#18) as the ratio fast MA / slow MA - 1.
"""
from factorengine.ops import ts_mean

SEARCH_SPACE = {"fast": (2, 20), "slow": (21, 200)}


def factor(d, fast=5, slow=40):
    return ts_mean(d.close, fast) / ts_mean(d.close, slow) - 1
