"""A wide estimated bid-ask spread marks an illiquid stock that must offer a liquidity premium, and spread widening precedes reversals.

Family: liquidity. Corwin-Schultz (2012) high-low spread estimator from two-day highs and lows, floored at 0 and
averaged over the window.
"""
from factorengine.ops import delay, log, maximum, minimum, sqrt, tanh, ts_mean

SEARCH_SPACE = {"window": (5, 120)}


def factor(d, window=20):
    k = 3 - 2 * 2 ** 0.5
    hl_sq = log(d.high / d.low) ** 2
    beta = hl_sq + delay(hl_sq, 1)
    gamma = log(maximum(d.high, delay(d.high, 1)) / minimum(d.low, delay(d.low, 1))) ** 2
    alpha = (sqrt(2 * beta) - sqrt(beta)) / k - sqrt(gamma / k)
    spread = 2 * tanh(alpha / 2)
    return ts_mean(maximum(spread, 0.0), window)
