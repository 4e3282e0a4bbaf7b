"""A MACD histogram above zero (fast trend accelerating over slow trend) signals strengthening momentum.

Family: momentum. MACD from the LLM multi-agent framework (#18), written as a ratio of EMAs so it is scale-free.
"""
from factorengine.ops import ts_ema

SEARCH_SPACE = {"fast": (3, 20), "slow": (21, 80), "signal": (3, 20)}


def factor(d, fast=12, slow=26, signal=9):
    macd = ts_ema(d.close, fast) / ts_ema(d.close, slow) - 1
    return macd - ts_ema(macd, signal)
