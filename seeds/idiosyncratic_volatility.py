"""Stocks with high idiosyncratic volatility (risk not explained by the market) subsequently underperform (Ang-Hodrick-Xing-Zhang puzzle).

Family: volatility. Std of residuals of a rolling regression of returns on the equal-weight market return.
"""
from factorengine.ops import demean, ts_regression_resid, ts_std

SEARCH_SPACE = {"beta_window": (20, 250), "window": (5, 120)}


def factor(d, beta_window=60, window=20):
    market = d.returns - demean(d.returns)
    resid = ts_regression_resid(d.returns, market, beta_window)
    return ts_std(resid, window)
