"""The stock-specific part of yesterday's move, net of its market exposure and in units of its own residual risk, is the part that reverts.

Family: reversal. Residual reversal (Blitz-Huij-Lansdorp-Verbeek 2013), daily: today's residual from a rolling
regression on the equal-weight market return, divided by the rolling std of those residuals.
"""
from factorengine.ops import demean, safe_div, ts_regression_resid, ts_std

SEARCH_SPACE = {"beta_window": (20, 250), "vol_window": (5, 120)}


def factor(d, beta_window=60, vol_window=20):
    market = d.returns - demean(d.returns)
    resid = ts_regression_resid(d.returns, market, beta_window)
    return -safe_div(resid, ts_std(resid, vol_window))
