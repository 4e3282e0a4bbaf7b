"""Portfolio backtests of daily scores [T, N] against forward returns [T, N]: TopkDropout and quantile groups.

`forward[t]` is the return from the close of day t+1 to the close of day t+2, so a book chosen on day t's
scores earns `forward[t]`. A stock is tradable on day t when both its score and its forward return are
finite (+-inf counts as missing); an unknown forward return means the stock cannot be held (not listed,
delisted), which the backtest reads from the label as a tradability mask.

TopkDropout (qlib's strategy, long-only, rebalanced daily, equal weight 1/k):
- holdings that are not tradable today are sold first (forced sales, on top of the n_drop);
- the new book is the top k by score among the holdings and the best `k + n_drop - holdings` tradable
  stocks not held; with enough candidates this is qlib's rule (sell the holdings among the n_drop worst of
  that pool, buy the best candidates to refill), so a holding is dropped only for a better candidate and at
  most n_drop are dropped per day; with fewer candidates the book holds what exists, equally weighted
  (qlib would sell holdings it cannot replace). Ties in score keep the holding;
- weights are the target weights 1/len(book) (drift between rebalances is ignored); the book enters from
  all cash on day 0, so day 0 pays for buying the whole book;
- gross = mean forward return of the book (0 on a day with nothing to hold), cost = cost_bps / 1e4 *
  sum|w_t - w_{t-1}| (a forced sale pays too), net = gross - cost, one-way turnover = sum|w_t - w_{t-1}| / 2;
- benchmark = equal-weight mean forward return of the tradable stocks (0 on a day with none).
Annualized figures use DAYS_PER_YEAR; standard deviations use ddof=1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class PortfolioMetrics:
    """Annualized summary of a daily portfolio; NaN for a ratio whose deviation is zero or undefined."""

    annual_return: float
    volatility: float
    sharpe: float
    excess_annual_return: float
    information_ratio: float
    max_drawdown: float
    mean_turnover: float


@dataclass(frozen=True, eq=False)
class PortfolioResult:
    """Daily series [T] of a backtest: net and gross returns, benchmark return, one-way turnover."""

    net: np.ndarray
    gross: np.ndarray
    benchmark: np.ndarray
    turnover: np.ndarray

    def metrics(self) -> PortfolioMetrics:
        """Annual return, volatility, Sharpe, excess return over the benchmark, IR, max drawdown, turnover."""
        annual_return = float(np.mean(self.net)) * DAYS_PER_YEAR
        volatility = _annual_std(self.net)
        excess = self.net - self.benchmark
        excess_annual_return = float(np.mean(excess)) * DAYS_PER_YEAR
        return PortfolioMetrics(
            annual_return=annual_return, volatility=volatility, sharpe=_ratio(annual_return, volatility),
            excess_annual_return=excess_annual_return,
            information_ratio=_ratio(excess_annual_return, _annual_std(excess)),
            max_drawdown=max_drawdown(self.net), mean_turnover=float(np.mean(self.turnover)))


@dataclass(frozen=True, eq=False)
class QuantileResult:
    """Mean forward return per value group and day [T, n_quantiles] (column 0 = lowest; NaN = day skipped)."""

    daily: np.ndarray
    annual: np.ndarray
    long_short_annual: float


def topk_dropout(scores: np.ndarray, forward: np.ndarray, *, k: int = 50, n_drop: int = 5,
                 cost_bps: float = 10.0) -> PortfolioResult:
    """Backtest qlib's TopkDropout: hold the top k by score, replace at most n_drop holdings a day."""
    if k < 1 or n_drop < 0:
        raise ValueError(f"topk_dropout: need k >= 1 and n_drop >= 0, got k={k}, n_drop={n_drop}")
    scores, forward = _pair(scores, forward, "topk_dropout")
    tradable = np.isfinite(scores) & np.isfinite(forward)
    gross, traded = np.zeros(len(scores)), np.zeros(len(scores))
    book = np.zeros(scores.shape[1], dtype=bool)
    weights = np.zeros(scores.shape[1])
    for t in range(len(scores)):
        book = _rebalance(scores[t], book & tradable[t], tradable[t], k, n_drop)
        previous, weights = weights, book / max(np.count_nonzero(book), 1)
        gross[t] = forward[t, book].mean() if book.any() else 0.0
        traded[t] = np.abs(weights - previous).sum()
    benchmark = np.where(tradable, forward, 0.0).sum(axis=1) / np.maximum(tradable.sum(axis=1), 1)
    return PortfolioResult(net=gross - cost_bps / 1e4 * traded, gross=gross, benchmark=benchmark,
                           turnover=traded / 2)


def _rebalance(score: np.ndarray, held: np.ndarray, tradable: np.ndarray, k: int, n_drop: int) -> np.ndarray:
    """The day's book: the top k of the holdings and the best k + n_drop - len(holdings) candidates."""
    candidates = np.flatnonzero(tradable & ~held)
    n_fresh = k + n_drop - np.count_nonzero(held)
    fresh = candidates[np.argsort(-score[candidates], kind="stable")[:n_fresh]]
    pool = np.concatenate([np.flatnonzero(held), fresh])  # holdings first: the stable sort keeps them on ties
    book = np.zeros_like(held)
    book[pool[np.argsort(-score[pool], kind="stable")[:k]]] = True
    return book


def quantile_returns(values: np.ndarray, forward: np.ndarray, *, n_quantiles: int = 5) -> QuantileResult:
    """Mean forward return per day of n_quantiles equal-count groups by value; days with too few stocks NaN.

    A stock's group is floor(position * n_quantiles / n_valid), its position in the day's ascending order
    of value (ties in column order) among the n_valid stocks with a finite value and forward return.
    """
    if n_quantiles < 1:
        raise ValueError(f"quantile_returns: need n_quantiles >= 1, got {n_quantiles}")
    values, forward = _pair(values, forward, "quantile_returns")
    valid = np.isfinite(values) & np.isfinite(forward)
    n_days, n_stocks = values.shape
    order = np.argsort(np.where(valid, values, np.inf), axis=1, kind="stable")
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.arange(n_stocks), axis=1)
    n_valid = np.count_nonzero(valid, axis=1)
    group = position * n_quantiles // np.maximum(n_valid, 1)[:, None]
    cell = (np.arange(n_days)[:, None] * n_quantiles + group)[valid]
    sums = np.bincount(cell, weights=forward[valid], minlength=n_days * n_quantiles)
    counts = np.bincount(cell, minlength=n_days * n_quantiles)
    with np.errstate(invalid="ignore", divide="ignore"):
        daily = (sums / counts).reshape(n_days, n_quantiles)
    daily[n_valid < n_quantiles] = np.nan
    return QuantileResult(daily=daily, annual=_nanmean(daily) * DAYS_PER_YEAR,
                          long_short_annual=float(_nanmean(daily[:, -1] - daily[:, 0])) * DAYS_PER_YEAR)


def max_drawdown(net: np.ndarray) -> float:
    """Largest fall of the compounded value curve from a running peak (starting at 1), as a fraction <= 0."""
    return float(np.min(drawdown(net), initial=0.0))


def drawdown(net: np.ndarray) -> np.ndarray:
    """Fall of the compounded value curve of daily returns `net` [T] below its running peak (starting at 1), <= 0."""
    value = np.cumprod(1.0 + np.asarray(net, dtype=np.float64))
    return value / np.maximum.accumulate(np.concatenate([[1.0], value]))[1:] - 1.0


def _pair(scores: np.ndarray, forward: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    scores, forward = np.asarray(scores, dtype=np.float64), np.asarray(forward, dtype=np.float64)
    if scores.ndim != 2 or scores.shape != forward.shape:
        raise ValueError(f"{name}: scores and forward must be [days, stocks] arrays of one shape, "
                         f"got {scores.shape} and {forward.shape}")
    return scores, forward


def _nanmean(x: np.ndarray) -> np.ndarray:
    """Mean over axis 0 ignoring NaN; NaN (without a warning) where every entry is NaN."""
    count = np.count_nonzero(~np.isnan(x), axis=0)
    with np.errstate(invalid="ignore"):
        return np.nansum(x, axis=0) / count


def _annual_std(daily: np.ndarray) -> float:
    return float(np.std(daily, ddof=1) * np.sqrt(DAYS_PER_YEAR)) if len(daily) > 1 else np.nan


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else np.nan
