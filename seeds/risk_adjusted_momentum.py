"""Stocks with a high past Sharpe ratio (mean return per unit of volatility) keep drifting up; scaling by volatility removes the lottery-like winners.

Family: momentum. Risk-adjusted (Sharpe) momentum, skipping the latest days to avoid short-term reversal.
"""
from factorengine.ops import delay, safe_div, ts_mean, ts_std

SEARCH_SPACE = {"window": (20, 250), "skip": (1, 21)}


def factor(d, window=60, skip=5):
    past = delay(d.returns, skip)
    return safe_div(ts_mean(past, window), ts_std(past, window))
