"""Operators for factor programs over float64 [T days, N stocks] arrays.

Time-series operators work along axis 0 and read rows <= t only: the value at row t is bit-for-bit the
same when later rows are removed. A trailing window that holds a NaN gives NaN (pandas
`rolling(window)`), except in ts_cumsum and ts_mean_where, which skip NaN days; a window longer than the
data gives NaN. Windows are whole numbers of days >= 1; anything else raises OperatorError. Cross-sectional
operators work per day along axis 1, ignore NaN cells and leave them NaN; group operators do the same within
each group of a day, a group being the cells with one value of `groups` (a group column such as `d.sector`,
loaded as codes; NaN: in no group). All treat +-inf like NaN (a missing value). Element-wise operators
broadcast arrays and scalars and follow IEEE rules. Inputs are never modified (they may be read-only);
results are new float64 arrays.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable

import bottleneck as bn
import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from factorengine.errors import FactorEngineError
from factorengine.groups import day_groups, group_moments, group_ranks

__all__ = [
    "delay", "delta", "pct_change", "ts_sum", "ts_mean", "ts_std", "ts_var", "ts_min", "ts_max",
    "ts_argmin", "ts_argmax", "ts_rank", "ts_zscore", "ts_corr", "ts_cov", "ts_skew", "ts_kurt",
    "ts_median", "ts_quantile", "ts_decay_linear", "ts_ema", "ts_product", "ts_regression_slope",
    "ts_regression_resid", "ts_slope", "ts_rsquare", "ts_cumsum", "ts_mean_where",
    "rank", "zscore", "demean", "scale", "winsorize", "neutralize",
    "group_mean", "group_demean", "group_zscore", "group_rank",
    "sign", "abs", "log", "exp", "sqrt", "signed_power", "safe_div", "inverse", "where", "clip",
    "maximum", "minimum", "tanh",
]

_BLOCK_ROWS = 128  # rows per block of a blocked scan: fits in cache, and fixed so later rows never move it
_SORT_MAX_WINDOW = 32  # ts_quantile sorts windows up to this length, beyond it pandas' skip list is faster


class OperatorError(FactorEngineError, ValueError):
    """An operator got an invalid argument; the message names the operator, the value and the fix."""


def _window(value: object, op: str, name: str = "window") -> int:
    """Return a number of days as int; only whole numbers >= 1 (int or integral float) are valid."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        days = float(value)
        if days.is_integer() and days >= 1:
            return int(days)
    hint = ", since a lag below 1 would read today or the future" if name == "n" else ""
    raise OperatorError(f"{op}: {name} must be a whole number of days >= 1 (an int, or a float like "
                        f"10.0), got {value!r}{hint}; pass e.g. {name}={1 if name == 'n' else 10}")


def _float(x: object) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _series(x: object, op: str) -> np.ndarray:
    """Return x as float64 with days on axis 0."""
    a = _float(x)
    if a.ndim == 0:
        raise OperatorError(f"{op}: expected an array of days x stocks, got the scalar {x!r}")
    return a


def _columns(a: np.ndarray) -> np.ndarray:
    """View a series as [days, columns] (a 1-D series becomes one column)."""
    return a.reshape(len(a), math.prod(a.shape[1:]))


def _panel(x: object, op: str) -> np.ndarray:
    """Return x as a float64 [days, stocks] array with +-inf replaced by NaN."""
    a = _float(x)
    if a.ndim != 2:
        raise OperatorError(f"{op}: expected a [days, stocks] array, got shape {a.shape}")
    return np.where(np.isfinite(a), a, np.nan)


class _Window:
    """Trailing windows within one block of rows: result row r is the window ending at block row n-1+r."""

    def __init__(self, n: int) -> None:
        self.n = n

    def move(self, fn: Callable[..., np.ndarray], a: np.ndarray, n: int | None = None) -> np.ndarray:
        """Apply a bottleneck moving-window function over the trailing n (default: window) rows."""
        return fn(a, self.n if n is None else n, axis=0)[self.n - 1:]

    def sum(self, a: np.ndarray) -> np.ndarray:
        return self.move(bn.move_sum, a)

    def now(self, a: np.ndarray) -> np.ndarray:
        """Today's row of each window."""
        return a[self.n - 1:]

    def flat(self, a: np.ndarray) -> np.ndarray:
        """True where all values of the window are equal."""
        if self.n == 1:
            return np.ones(self.now(a).shape, bool)
        same = np.zeros(a.shape)
        same[1:] = a[1:] == a[:-1]
        return self.move(bn.move_sum, same, self.n - 1) == self.n - 1

    def by_age(self, a: np.ndarray, total: np.ndarray) -> np.ndarray:
        """Sum of k * a over each window, k = 0 on its oldest row up to n - 1 today; total = self.sum(a)."""
        row = np.arange(len(a), dtype=np.float64)[:, None]
        return self.sum(row * a) - (row[self.n - 1:] - (self.n - 1)) * total


def _rolling(op: str, stat: Callable[..., np.ndarray], window: object, *arrays: object,
             anchor: bool = True) -> np.ndarray:
    """Evaluate stat on every trailing window of the arrays (days on axis 0); NaN where one is not finite.

    Outputs go in fixed blocks of max(_BLOCK_ROWS, window) rows, each computed from its own rows and the
    window - 1 before, so a boundary never depends on the data length. With anchor, each block of an array
    is shifted by its value on the block's first row valid in all arrays: power sums stay well conditioned
    for large offsets (prices, volumes), and the shift is causal, because every all-valid window starts on
    or after that row. stat(w, *blocks) gets a _Window and the NaN-zeroed blocks and returns rows n-1.. .
    """
    n = _window(window, op)
    xs = np.broadcast_arrays(*(_series(a, op) for a in arrays))
    shape = xs[0].shape
    xs = [_columns(a) for a in xs]
    out, w, size = np.full(xs[0].shape, np.nan), _Window(n), max(_BLOCK_ROWS, n)
    with np.errstate(all="ignore"):
        for start in range(0, len(out), size):
            lo, stop = max(start - n + 1, 0), min(start + size, len(out))
            if stop - lo < n:
                continue
            skip = ~np.logical_and.reduce([np.isfinite(a[lo:stop]) for a in xs])
            first = np.argmax(~skip, axis=0), np.arange(skip.shape[1])
            blocks = [a[lo:stop] - (np.nan_to_num(a[lo:stop][first]) if anchor else 0.0) for a in xs]
            for block in blocks:
                np.copyto(block, 0.0, where=skip)
            out[lo + n - 1:stop] = stat(w, *blocks)
            out[lo + n - 1:stop][w.sum(skip.astype(np.float64)) > 0] = np.nan
    return out.reshape(shape)


def _spread(w: _Window, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (sum, sum of squared deviations) over each window; the latter is exactly 0 if constant."""
    s = w.sum(u)
    return s, np.where(w.flat(u), 0.0, np.maximum(w.sum(u * u) - s * s / w.n, 0.0))


def _comoments(w: _Window, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return (su, sv, suu, svv, suv): window sums and centered (co)moment sums of u and v."""
    (su, uu), (sv, vv) = _spread(w, u), _spread(w, v)
    uv = np.where((uu == 0) | (vv == 0), 0.0, w.sum(u * v) - su * sv / w.n)
    return su, sv, uu, vv, uv


def _skew(w: _Window, u: np.ndarray) -> np.ndarray:
    n, (s, ss) = w.n, _spread(w, u)
    if n < 3:
        return np.full(ss.shape, np.nan)
    m = s / n
    u2, var = u * u, ss / n  # no ** with odd or fractional powers here: numpy's pow is slow
    m3 = (w.sum(u2 * u) - 3 * m * w.sum(u2)) / n + 2 * m * m * m
    return np.where(ss > 0, np.sqrt(n * (n - 1)) / (n - 2) * m3 / (var * np.sqrt(var)), np.nan)


def _kurt(w: _Window, u: np.ndarray) -> np.ndarray:
    n, (s, ss) = w.n, _spread(w, u)
    if n < 4:
        return np.full(ss.shape, np.nan)
    m, u2 = s / n, u * u
    m4 = (w.sum(u2 * u2) - 4 * m * w.sum(u2 * u) + 6 * m * m * w.sum(u2)) / n - 3 * (m * m) * (m * m)
    k = ((n * n - 1) * m4 / ((ss / n) * (ss / n)) - 3 * (n - 1) * (n - 1)) / ((n - 2) * (n - 3))
    return np.where(ss > 0, k, np.nan)


def _time_fit(w: _Window, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (sum (k - mean k)(u - mean u), sum (u - mean u)^2) over each window, k = day 0 .. n-1.

    The first is 0 for a constant window; sum (k - mean k)^2 is n (n^2 - 1) / 12.
    """
    s, ss = _spread(w, u)
    return np.where(ss > 0, w.by_age(u, s) - (w.n - 1) / 2 * s, 0.0), ss


def _rank(w: _Window, u: np.ndarray) -> np.ndarray:
    today = w.now(u)
    twice = np.zeros(today.shape, np.int32)  # 2 * (#older days below today) + #older days equal to it
    for age in range(1, w.n):
        older = u[w.n - 1 - age:len(u) - age]
        twice += older < today
        twice += older <= today
    return (twice / 2 + 1) / w.n


def _product(w: _Window, u: np.ndarray) -> np.ndarray:
    logs = w.sum(np.log(np.abs(np.where(u == 0, 1.0, u))))
    negatives = w.sum((u < 0).astype(np.float64))
    sign = 1.0 - 4.0 * (negatives / 2 - np.floor(negatives / 2))  # -1 for an odd count
    return np.where(w.sum((u == 0).astype(np.float64)) > 0, 0.0, sign * np.exp(logs))


def _lag(x: object, n: object, op: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (x, x shifted down by n days with NaN on top)."""
    a, n = _series(x, op), _window(n, op, "n")
    past = np.full(a.shape, np.nan)
    if n < len(a):
        past[n:] = a[:-n]
    return a, past


def _oldest_arg(fn: Callable[..., np.ndarray]) -> Callable[[_Window, np.ndarray], np.ndarray]:
    """Days since fn's extreme (bottleneck move_argmin/argmax), counting ties as the oldest day."""
    def stat(w: _Window, u: np.ndarray) -> np.ndarray:
        # bottleneck breaks ties towards the newest day, so run it on the block reversed in time. An
        # arg-extreme depends on its window's values only, so no later row can change an earlier result.
        return w.n - 1 - fn(u[::-1], w.n, axis=0)[::-1][:len(u) - w.n + 1]
    return stat


def delay(x: np.ndarray, n: int) -> np.ndarray:
    """Value `n` days ago: x[t - n] (n >= 1); NaN for the first n days."""
    return _lag(x, n, "delay")[1]


def delta(x: np.ndarray, n: int) -> np.ndarray:
    """Change over `n` days: x[t] - x[t - n]."""
    today, past = _lag(x, n, "delta")
    return today - past


def pct_change(x: np.ndarray, n: int) -> np.ndarray:
    """Relative change over `n` days: x[t] / x[t - n] - 1; NaN where x[t - n] == 0."""
    today, past = _lag(x, n, "pct_change")
    return safe_div(today, past) - 1.0


def ts_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Sum over the trailing `window` days."""
    return _rolling("ts_sum", _Window.sum, window, x, anchor=False)


def ts_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Mean over the trailing `window` days."""
    return _rolling("ts_mean", lambda w, u: w.sum(u) / w.n, window, x, anchor=False)


def ts_std(x: np.ndarray, window: int) -> np.ndarray:
    """Sample standard deviation (ddof=1) over the trailing `window` days; exactly 0 if constant."""
    return _rolling("ts_std", lambda w, u: np.sqrt(_spread(w, u)[1] / (w.n - 1)), window, x)


def ts_var(x: np.ndarray, window: int) -> np.ndarray:
    """Sample variance (ddof=1) over the trailing `window` days; exactly 0 if constant."""
    return _rolling("ts_var", lambda w, u: _spread(w, u)[1] / (w.n - 1), window, x)


def ts_min(x: np.ndarray, window: int) -> np.ndarray:
    """Minimum over the trailing `window` days."""
    return _rolling("ts_min", lambda w, u: w.move(bn.move_min, u), window, x, anchor=False)


def ts_max(x: np.ndarray, window: int) -> np.ndarray:
    """Maximum over the trailing `window` days."""
    return _rolling("ts_max", lambda w, u: w.move(bn.move_max, u), window, x, anchor=False)


def ts_argmin(x: np.ndarray, window: int) -> np.ndarray:
    """Days since the minimum of the trailing `window` days, in [0, window - 1]; 0 = today, ties: oldest."""
    return _rolling("ts_argmin", _oldest_arg(bn.move_argmin), window, x, anchor=False)


def ts_argmax(x: np.ndarray, window: int) -> np.ndarray:
    """Days since the maximum of the trailing `window` days, in [0, window - 1]; 0 = today, ties: oldest."""
    return _rolling("ts_argmax", _oldest_arg(bn.move_argmax), window, x, anchor=False)


def ts_rank(x: np.ndarray, window: int) -> np.ndarray:
    """Percentile rank of today's value within the trailing `window` days, in (0, 1], ties averaged."""
    return _rolling("ts_rank", _rank, window, x, anchor=False)


def ts_zscore(x: np.ndarray, window: int) -> np.ndarray:
    """(x - ts_mean) / ts_std over the trailing `window` days; NaN if the window is constant."""
    def stat(w: _Window, u: np.ndarray) -> np.ndarray:
        s, ss = _spread(w, u)
        return np.where(ss > 0, (w.now(u) - s / w.n) / np.sqrt(ss / (w.n - 1)), np.nan)
    return _rolling("ts_zscore", stat, window, x)


def ts_corr(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """Pearson correlation of x and y over the trailing `window` days; NaN if either is constant."""
    def stat(w: _Window, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        _, _, uu, vv, uv = _comoments(w, u, v)
        return np.clip(uv / np.sqrt(uu * vv), -1.0, 1.0)
    return _rolling("ts_corr", stat, window, x, y)


def ts_cov(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """Sample covariance (ddof=1) of x and y over the trailing `window` days."""
    return _rolling("ts_cov", lambda w, u, v: _comoments(w, u, v)[4] / (w.n - 1), window, x, y)


def ts_skew(x: np.ndarray, window: int) -> np.ndarray:
    """Bias-corrected skewness (as pandas) over the trailing `window` days; NaN if constant."""
    return _rolling("ts_skew", _skew, window, x)


def ts_kurt(x: np.ndarray, window: int) -> np.ndarray:
    """Bias-corrected excess kurtosis (as pandas) over the trailing `window` days; NaN if constant."""
    return _rolling("ts_kurt", _kurt, window, x)


def ts_median(x: np.ndarray, window: int) -> np.ndarray:
    """Median over the trailing `window` days."""
    return _rolling("ts_median", lambda w, u: w.move(bn.move_median, u), window, x, anchor=False)


def ts_quantile(x: np.ndarray, window: int, q: float) -> np.ndarray:
    """The `q` quantile (0 <= q <= 1, linear interpolation) over the trailing `window` days."""
    if not isinstance(q, numbers.Real) or isinstance(q, (bool, np.bool_)) or not 0 <= q <= 1:
        raise OperatorError(f"ts_quantile: q must be a number in [0, 1], got {q!r}; pass e.g. q=0.9")
    n, a = _window(window, "ts_quantile"), _series(x, "ts_quantile")
    if n > _SORT_MAX_WINDOW:
        finite = pd.DataFrame(_columns(np.where(np.isfinite(a), a, np.nan)))
        return finite.rolling(n).quantile(float(q)).to_numpy().reshape(a.shape)
    pos = float(q) * (n - 1)
    low, frac = int(pos), pos - int(pos)

    def stat(w: _Window, u: np.ndarray) -> np.ndarray:
        ordered = sliding_window_view(u, n, axis=0).copy()
        ordered.sort(axis=-1)
        if not frac:
            return ordered[..., low]
        return ordered[..., low] + (ordered[..., low + 1] - ordered[..., low]) * frac
    return _rolling("ts_quantile", stat, n, a, anchor=False)


def ts_decay_linear(x: np.ndarray, window: int) -> np.ndarray:
    """Weighted mean over the trailing `window` days, weights 1..window with today weighted most."""
    def stat(w: _Window, u: np.ndarray) -> np.ndarray:
        total = w.sum(u)
        return (w.by_age(u, total) + total) / (w.n * (w.n + 1) / 2)
    return _rolling("ts_decay_linear", stat, window, x, anchor=False)


def ts_ema(x: np.ndarray, window: int) -> np.ndarray:
    """EMA with alpha = 2 / (window + 1), restarted after each NaN; NaN until `window` valid days in a row."""
    n, a = _window(window, "ts_ema"), _series(x, "ts_ema")
    shape, a = a.shape, _columns(a)
    if n == 1:  # alpha = 1: the EMA is x itself
        return np.where(np.isfinite(a), a, np.nan).reshape(shape)
    valid = np.isfinite(a)
    first = valid.copy()
    first[1:] &= ~valid[:-1]  # first day of each NaN-free run
    beta = (n - 1) / (n + 1)
    grow = beta ** -np.arange(_BLOCK_ROWS, dtype=np.float64)[:, None]  # beta >= 1/3: at most 3^127 ~ 1e60
    out, carry, carry_days = np.empty(a.shape), np.zeros(a.shape[1]), np.zeros(a.shape[1])
    with np.errstate(all="ignore"):
        for lo in range(0, len(a), _BLOCK_ROWS):
            # within a block, ema[i] = beta^i * sum of c_k x_k beta^-k since the run's first day (c = 1 there,
            # else alpha), plus the previous block's last ema decayed when the run started before the block
            blk, row = slice(lo, lo + _BLOCK_ROWS), np.arange(len(a[lo:lo + _BLOCK_ROWS]))[:, None]
            g = grow[:len(row)]
            terms = np.where(valid[blk], np.where(first[blk], 1.0, 1 - beta) * a[blk], 0.0)
            cum = np.cumsum(terms * g, axis=0)
            start = np.maximum.accumulate(np.where(first[blk], row, -1), axis=0)  # -1: before the block
            before = np.take_along_axis(cum, np.maximum(start - 1, 0), axis=0) * (start > 0)
            ema = (cum - before) / g + np.where(start < 0, carry * beta / g, 0.0)
            days = np.where(start < 0, carry_days + row + 1, row - start + 1)
            carry, carry_days = ema[-1], np.where(valid[blk][-1], days[-1], 0)
            out[blk] = np.where(valid[blk] & (days >= n), ema, np.nan)
    return out.reshape(shape)


def ts_product(x: np.ndarray, window: int) -> np.ndarray:
    """Product over the trailing `window` days."""
    return _rolling("ts_product", _product, window, x, anchor=False)


def ts_regression_slope(y: np.ndarray, x: np.ndarray, window: int) -> np.ndarray:
    """OLS slope b of y = a + b * x over the trailing `window` days; NaN if x is constant."""
    def stat(w: _Window, v: np.ndarray, u: np.ndarray) -> np.ndarray:
        _, _, _, uu, vu = _comoments(w, v, u)
        return vu / uu
    return _rolling("ts_regression_slope", stat, window, y, x)


def ts_regression_resid(y: np.ndarray, x: np.ndarray, window: int) -> np.ndarray:
    """Today's residual y - (a + b * x) of the OLS of y on x over the trailing `window` days."""
    def stat(w: _Window, v: np.ndarray, u: np.ndarray) -> np.ndarray:
        sv, su, _, uu, vu = _comoments(w, v, u)
        return (w.now(v) - sv / w.n) - vu / uu * (w.now(u) - su / w.n)
    return _rolling("ts_regression_resid", stat, window, y, x)


def ts_slope(x: np.ndarray, window: int) -> np.ndarray:
    """OLS slope of x on time (units of x per day) over the trailing `window` days."""
    return _rolling("ts_slope", lambda w, u: _time_fit(w, u)[0] / (w.n * (w.n * w.n - 1) / 12), window, x)


def ts_rsquare(x: np.ndarray, window: int) -> np.ndarray:
    """R^2 of the OLS of x on time over the trailing `window` days, in [0, 1]; NaN if constant."""
    def stat(w: _Window, u: np.ndarray) -> np.ndarray:
        ku, uu = _time_fit(w, u)
        return np.minimum(ku * ku / (w.n * (w.n * w.n - 1) / 12 * uu), 1.0)
    return _rolling("ts_rsquare", stat, window, x)


def ts_cumsum(x: np.ndarray) -> np.ndarray:
    """Running sum since the first day of data; a NaN day adds nothing and stays NaN."""
    a = _series(x, "ts_cumsum")
    finite = np.isfinite(a)
    return np.where(finite, np.cumsum(np.where(finite, a, 0.0), axis=0), np.nan)


def ts_mean_where(x: np.ndarray, cond: np.ndarray, window: int) -> np.ndarray:
    """Mean of x over the trailing `window` days where cond is true (nonzero) and x is known; NaN if none is."""
    a, c = np.broadcast_arrays(_series(x, "ts_mean_where"), _float(cond))
    held = np.isfinite(a) & np.isfinite(c) & (c != 0)

    def stat(w: _Window, u: np.ndarray, k: np.ndarray) -> np.ndarray:
        days = w.sum(k)
        return np.where(days > 0, w.sum(u) / days, np.nan)
    return _rolling("ts_mean_where", stat, window, np.where(held, a, 0.0), held.astype(np.float64), anchor=False)


def _day_mean_std(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each day's mean and sample std (ddof=1) over its non-NaN cells, as [T, 1] columns."""
    return bn.nanmean(a, axis=1)[:, None], bn.nanstd(a, axis=1, ddof=1)[:, None]


def rank(x: np.ndarray) -> np.ndarray:
    """Cross-sectional percentile rank per day, in (0, 1], ties averaged."""
    a = _panel(x, "rank")
    missing = np.isnan(a)
    count = (~missing).sum(axis=1, keepdims=True)
    ranks = bn.rankdata(np.where(missing, np.inf, a), axis=1)  # 2x faster than nanrankdata; NaN ranks last
    with np.errstate(all="ignore"):
        return np.where(missing, np.nan, ranks / count)


def zscore(x: np.ndarray) -> np.ndarray:
    """Cross-sectional (x - mean) / std per day (ddof=1); NaN on a day with no spread."""
    a = _panel(x, "zscore")
    mean, std = _day_mean_std(a)
    with np.errstate(all="ignore"):
        return np.where(std > 0, (a - mean) / std, np.nan)


def demean(x: np.ndarray) -> np.ndarray:
    """Cross-sectional x - mean per day."""
    a = _panel(x, "demean")
    return a - bn.nanmean(a, axis=1)[:, None]


def scale(x: np.ndarray, a: float = 1.0) -> np.ndarray:
    """Cross-sectional x * a / sum(|x|) per day, so each day's absolute values sum to a."""
    v = _panel(x, "scale")
    total = bn.nansum(np.abs(v), axis=1)[:, None]
    with np.errstate(all="ignore"):
        return np.where(total > 0, v * a / total, np.nan)


def winsorize(x: np.ndarray, k: float = 3.0) -> np.ndarray:
    """Clip each day to its mean +- k * std (ddof=1); days with fewer than 2 values pass unchanged."""
    if not isinstance(k, numbers.Real) or isinstance(k, (bool, np.bool_)) or not k >= 0:
        raise OperatorError(f"winsorize: k must be a number >= 0 (standard deviations), got {k!r}; "
                            "pass e.g. k=3")
    a = _panel(x, "winsorize")
    mean, std = _day_mean_std(a)
    return np.clip(a, np.nan_to_num(mean - k * std, nan=-np.inf), np.nan_to_num(mean + k * std, nan=np.inf))


def _residuals(z: np.ndarray) -> np.ndarray:
    """Per-day OLS residuals of z[:, 0] on z[:, 1:] plus an intercept; z is [days, 1 + k, N] (copied)."""
    ok = np.isfinite(z).all(axis=1)
    np.copyto(z, 0.0, where=~ok[:, None])
    z -= z.sum(axis=2, keepdims=True) / np.maximum(ok.sum(axis=1), 1)[:, None, None]
    z *= ok[:, None]
    # unit-norm exposures keep the Gram matrix well scaled; pinv copes with collinear or constant ones
    norm = np.sqrt((z[:, 1:] ** 2).sum(axis=2, keepdims=True))
    e = z[:, 1:] / np.where(norm > 0, norm, 1.0)
    beta = np.linalg.pinv(e @ e.transpose(0, 2, 1), hermitian=True) @ (e @ z[:, 0, :, None])
    return np.where(ok, z[:, 0] - (beta.transpose(0, 2, 1) @ e)[:, 0], np.nan)


def neutralize(x: np.ndarray, *exposures: np.ndarray) -> np.ndarray:
    """Residual of each day's OLS of x on the exposures plus an intercept (stocks where all are finite)."""
    y = _panel(x, "neutralize")
    z = [y, *(np.broadcast_to(_float(e), y.shape) for e in exposures)]
    out = np.empty(y.shape)
    for lo in range(0, len(y), _BLOCK_ROWS):  # blocks of days keep the [days, 1 + k, N] temporaries in cache
        out[lo:lo + _BLOCK_ROWS] = _residuals(np.stack([a[lo:lo + _BLOCK_ROWS] for a in z], axis=1))
    return out


def _per_group(op: str, x: np.ndarray, groups: np.ndarray,
               stat: Callable[[np.ndarray, np.ndarray, int], np.ndarray]) -> np.ndarray:
    """stat(values, ids, n) over the cells where x and groups are finite, numbered by (day, group); NaN elsewhere."""
    a = _panel(x, op)
    try:
        labels = np.broadcast_to(_float(groups), a.shape)
    except ValueError:
        raise OperatorError(f"{op}: groups must match x's shape {a.shape} (e.g. d.sector), got shape "
                            f"{np.shape(groups)}") from None
    valid = ~np.isnan(a) & np.isfinite(labels)
    out = np.full(a.shape, np.nan)
    out[valid] = stat(a[valid], *day_groups(valid, labels))
    return out


def group_mean(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Mean of x per day within each group (cells with equal `groups` values, e.g. d.sector)."""
    return _per_group("group_mean", x, groups, lambda v, ids, n: group_moments(v, ids, n)[0])


def group_demean(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """x less its group's mean per day."""
    return _per_group("group_demean", x, groups, lambda v, ids, n: v - group_moments(v, ids, n)[0])


def group_zscore(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(x - group mean) / group std per day (ddof=1); NaN in a group with no spread."""
    def stat(v: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
        mean, std = group_moments(v, ids, n)
        with np.errstate(all="ignore"):
            return np.where(std > 0, (v - mean) / std, np.nan)
    return _per_group("group_zscore", x, groups, stat)


def group_rank(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Percentile rank of x per day within its group, in (0, 1], ties averaged."""
    return _per_group("group_rank", x, groups, group_ranks)


def sign(x: np.ndarray | float) -> np.ndarray:
    """Sign of x: -1, 0 or 1."""
    return np.sign(_float(x))


def abs(x: np.ndarray | float) -> np.ndarray:  # noqa: A001 - the operator is called abs in factor programs
    """Absolute value |x|."""
    return np.abs(_float(x))


def log(x: np.ndarray | float) -> np.ndarray:
    """Natural logarithm; NaN where x <= 0."""
    a = _float(x)
    return np.log(np.where(a > 0, a, np.nan))


def exp(x: np.ndarray | float) -> np.ndarray:
    """e ** x; NaN where that overflows (x > 709)."""
    with np.errstate(over="ignore"):
        e = np.exp(_float(x))
    return np.where(np.isinf(e), np.nan, e)


def sqrt(x: np.ndarray | float) -> np.ndarray:
    """Square root; NaN where x < 0."""
    a = _float(x)
    return np.sqrt(np.where(a >= 0, a, np.nan))


def signed_power(x: np.ndarray | float, p: float) -> np.ndarray:
    """sign(x) * |x| ** p."""
    a = _float(x)
    with np.errstate(all="ignore"):
        return np.sign(a) * np.abs(a) ** p


def safe_div(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """a / b; NaN where b == 0."""
    num, den = _float(a), _float(b)
    with np.errstate(all="ignore"):
        return np.where(den == 0, np.nan, num / den)


def inverse(x: np.ndarray | float) -> np.ndarray:
    """1 / x; NaN where x == 0."""
    return safe_div(1.0, x)


def where(cond: np.ndarray | float, a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """a where cond is true (nonzero), b where it is false (0); NaN where cond is NaN."""
    c = _float(cond)
    return np.where(np.isnan(c), np.nan, np.where(c != 0, _float(a), _float(b)))


def clip(x: np.ndarray | float, lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
    """x limited to [lo, hi]."""
    return np.clip(_float(x), _float(lo), _float(hi))


def maximum(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Element-wise larger of a and b (NaN if either is NaN)."""
    return np.maximum(_float(a), _float(b))


def minimum(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Element-wise smaller of a and b (NaN if either is NaN)."""
    return np.minimum(_float(a), _float(b))


def tanh(x: np.ndarray | float) -> np.ndarray:
    """Hyperbolic tangent, squashing x into (-1, 1)."""
    return np.tanh(_float(x))
