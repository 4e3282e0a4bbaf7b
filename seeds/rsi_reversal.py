"""Overbought stocks (high RSI) underperform and oversold ones bounce as short-term buying or selling exhausts.

Family: reversal. RSI from the LLM multi-agent framework (#18), computed on returns instead of price changes so it
is scale-free; centred and negated.
"""
from factorengine.ops import maximum, safe_div, ts_mean

SEARCH_SPACE = {"window": (3, 40)}


def factor(d, window=14):
    up = ts_mean(maximum(d.returns, 0.0), window)
    down = ts_mean(maximum(-d.returns, 0.0), window)
    rsi = safe_div(up, up + down)
    return 0.5 - rsi
