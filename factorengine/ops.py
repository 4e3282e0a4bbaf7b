"""Operators for factor programs over float64 [T days, N stocks] arrays.

Time-series operators work along axis 0 and read rows <= t only: the value at row t is bit-for-bit the
same when later rows are removed. A trailing window that holds a NaN gives NaN (pandas
`rolling(window)`), and so does a window longer than the data. Windows are whole numbers of days >= 1;
anything else raises OperatorError. Cross-sectional operators work per day along axis 1, ignore NaN
cells and leave them NaN. Element-wise operators broadcast arrays and scalars and propagate NaN.
Inputs are never modified (they may be read-only); results are new float64 arrays.
"""
from __future__ import annotations

import numbers
from typing import Callable

import bottleneck as bn
import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "delay", "delta", "pct_change", "ts_sum", "ts_mean", "ts_std", "ts_var", "ts_min", "ts_max",
    "ts_argmin", "ts_argmax", "ts_rank", "ts_zscore", "ts_corr", "ts_cov", "ts_skew", "ts_kurt",
    "ts_median", "ts_quantile", "ts_decay_linear", "ts_ema", "ts_product", "ts_regression_slope",
    "ts_regression_resid", "ts_slope", "ts_rsquare",
    "rank", "zscore", "demean", "scale", "winsorize", "neutralize",
    "sign", "abs", "log", "sqrt", "signed_power", "safe_div", "inverse", "where", "clip",
    "maximum", "minimum", "tanh",
]

Operand = np.ndarray | float
_BLOCK_ROWS = 128  # rows per block of a blocked scan: fits in cache, and fixed so later rows never move it
_SORT_MAX_WINDOW = 64  # ts_quantile sorts windows up to this length; pandas' skip list (O(log n)) beyond


class OperatorError(ValueError):
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


def _panel(x: object, op: str) -> np.ndarray:
    """Return x as a float64 [days, stocks] array."""
    a = _float(x)
    if a.ndim != 2:
        raise OperatorError(f"{op}: expected a [days, stocks] array, got shape {a.shape}")
    return a


def _move(fn: Callable[..., np.ndarray], op: str, x: object, window: object, **kwargs: object) -> np.ndarray:
    """Apply a bottleneck moving-window function along the days axis."""
    a, n = _series(x, op), _window(window, op)
    return fn(a, n, axis=0, **kwargs) if n <= len(a) else np.full(a.shape, np.nan)


class _Window:
    """Trailing-window sums within one block of rows: result row r is the window ending at block row n-1+r."""

    def __init__(self, n: int) -> None:
        self.n = n

    def sum(self, a: np.ndarray, n: int | None = None) -> np.ndarray:
        """Sum over the trailing n (default: window) rows, from cumulative sums within the block."""
        n = self.n if n is None else n
        cum = np.zeros((len(a) + 1, *a.shape[1:]))
        np.cumsum(a, axis=0, dtype=np.float64, out=cum[1:])
        return cum[self.n:] - cum[self.n - n:len(cum) - n]

    def now(self, a: np.ndarray) -> np.ndarray:
        """Today's row of each window."""
        return a[self.n - 1:]

    def flat(self, a: np.ndarray) -> np.ndarray:
        """True where all values of the window are equal."""
        same = np.zeros(a.shape, bool)
        same[1:] = a[1:] == a[:-1]
        return self.sum(same, self.n - 1) == self.n - 1

    def by_age(self, a: np.ndarray, total: np.ndarray) -> np.ndarray:
        """Sum of k * a over each window, k = 0 on its oldest row up to n - 1 today; total = self.sum(a)."""
        row = np.arange(len(a), dtype=np.float64)[:, None]
        return self.sum(row * a) - (row[self.n - 1:] - (self.n - 1)) * total


def _rolling(op: str, stat: Callable[..., np.ndarray], window: object, *arrays: object,
             anchor: bool = True) -> np.ndarray:
    """Evaluate stat on every trailing window of the arrays (days on axis 0); NaN where a window has a NaN.

    Outputs go in fixed blocks of max(_BLOCK_ROWS, window) rows, each computed from its own rows and the
    window - 1 before, so a boundary never depends on the data length. With anchor, each block of an array
    is shifted by its value on the block's first row valid in all arrays: power sums stay well conditioned
    for large offsets (prices, volumes), and the shift is causal, because every all-valid window starts on
    or after that row. stat(w, *blocks) gets a _Window and the NaN-zeroed blocks and returns rows n-1.. .
    """
    n = _window(window, op)
    xs = np.broadcast_arrays(*(_series(a, op) for a in arrays))
    shape = xs[0].shape
    xs = [a.reshape(shape[0], -1) for a in xs]
    bad = np.logical_or.reduce([np.isnan(a) for a in xs])
    out, w, size = np.full(xs[0].shape, np.nan), _Window(n), max(_BLOCK_ROWS, n)
    with np.errstate(all="ignore"):
        for start in range(0, len(out), size):
            lo, stop = max(start - n + 1, 0), min(start + size, len(out))
            if stop - lo < n:
                continue
            skip = bad[lo:stop]
            first = np.argmax(~skip, axis=0), np.arange(skip.shape[1])
            blocks = [np.where(skip, 0.0, a[lo:stop] - (np.nan_to_num(a[lo:stop][first]) if anchor else 0.0))
                      for a in xs]
            out[lo + n - 1:stop] = np.where(w.sum(skip) > 0, np.nan, stat(w, *blocks))
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


def _slope(w: _Window, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    _, _, _, xx, xy = _comoments(w, y, x)
    return xy / xx


def _resid(w: _Window, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    sy, sx, _, xx, xy = _comoments(w, y, x)
    return (w.now(y) - sy / w.n) - xy / xx * (w.now(x) - sx / w.n)


def _zscore(w: _Window, u: np.ndarray) -> np.ndarray:
    s, ss = _spread(w, u)
    return np.where(ss > 0, (w.now(u) - s / w.n) / np.sqrt(ss / (w.n - 1)), np.nan)


def _skew(w: _Window, u: np.ndarray) -> np.ndarray:
    n, (s, ss) = w.n, _spread(w, u)
    if n < 3:
        return np.full(ss.shape, np.nan)
    m = s / n
    m3 = (w.sum(u ** 3) - 3 * m * w.sum(u * u)) / n + 2 * m ** 3
    return np.where(ss > 0, np.sqrt(n * (n - 1)) / (n - 2) * m3 / (ss / n) ** 1.5, np.nan)


def _kurt(w: _Window, u: np.ndarray) -> np.ndarray:
    n, (s, ss) = w.n, _spread(w, u)
    if n < 4:
        return np.full(ss.shape, np.nan)
    m, u2 = s / n, u * u
    m4 = (w.sum(u2 * u2) - 4 * m * w.sum(u2 * u) + 6 * m * m * w.sum(u2)) / n - 3 * m ** 4
    k = ((n * n - 1) * m4 / (ss / n) ** 2 - 3 * (n - 1) ** 2) / ((n - 2) * (n - 3))
    return np.where(ss > 0, k, np.nan)


def _time_fit(w: _Window, u: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Return (sum (k - mean k)(u - mean u), sum (k - mean k)^2, sum (u - mean u)^2) with k = age in days."""
    s, ss = _spread(w, u)
    ku = np.where(ss > 0, w.by_age(u, s) - (w.n - 1) / 2 * s, 0.0)
    return ku, w.n * (w.n * w.n - 1) / 12, ss


def _time_slope(w: _Window, u: np.ndarray) -> np.ndarray:
    ku, kk, _ = _time_fit(w, u)
    return ku / kk


def _time_rsquare(w: _Window, u: np.ndarray) -> np.ndarray:
    ku, kk, uu = _time_fit(w, u)
    return np.minimum(ku * ku / (kk * uu), 1.0)


def _rank(w: _Window, u: np.ndarray) -> np.ndarray:
    today, twice = w.now(u), np.zeros(w.now(u).shape)  # twice = 2 * (#older below today) + #older equal
    for age in range(1, w.n):
        older = u[w.n - 1 - age:len(u) - age]
        twice += older < today
        twice += older <= today
    return (twice / 2 + 1) / w.n


def _product(w: _Window, u: np.ndarray) -> np.ndarray:
    logs = w.sum(np.log(np.abs(np.where(u == 0, 1.0, u))))
    sign = 1.0 - 2.0 * (w.sum(u < 0) % 2)
    return np.where(w.sum(u == 0) > 0, 0.0, sign * np.exp(logs))


def _lag(x: object, n: object, op: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (x, x shifted down by n days with NaN on top)."""
    a, n = _series(x, op), _window(n, op, "n")
    past = np.full(a.shape, np.nan)
    if n < len(a):
        past[n:] = a[:-n]
    return a, past


def _arg_extreme(fn: Callable[..., np.ndarray], op: str, x: object, window: object) -> np.ndarray:
    a, n = _series(x, op), _window(window, op)
    out = np.full(a.shape, np.nan)
    if n <= len(a):
        # bottleneck breaks ties towards the newest day; ties must go to the oldest. On the time-reversed
        # array the oldest tie is the newest. An arg-extreme is a comparison result that depends on its
        # window's values only, so later rows never change an earlier value (the causality test checks).
        from_oldest = fn(a[::-1], n, axis=0)[::-1]
        out[n - 1:] = n - 1 - from_oldest[:len(a) - n + 1]
    return out


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
    return _move(bn.move_sum, "ts_sum", x, window)


def ts_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Mean over the trailing `window` days."""
    return _move(bn.move_mean, "ts_mean", x, window)


def ts_std(x: np.ndarray, window: int) -> np.ndarray:
    """Sample standard deviation (ddof=1) over the trailing `window` days; exactly 0 if constant."""
    return _rolling("ts_std", lambda w, u: np.sqrt(_spread(w, u)[1] / (w.n - 1)), window, x)


def ts_var(x: np.ndarray, window: int) -> np.ndarray:
    """Sample variance (ddof=1) over the trailing `window` days; exactly 0 if constant."""
    return _rolling("ts_var", lambda w, u: _spread(w, u)[1] / (w.n - 1), window, x)


def ts_min(x: np.ndarray, window: int) -> np.ndarray:
    """Minimum over the trailing `window` days."""
    return _move(bn.move_min, "ts_min", x, window)


def ts_max(x: np.ndarray, window: int) -> np.ndarray:
    """Maximum over the trailing `window` days."""
    return _move(bn.move_max, "ts_max", x, window)


def ts_argmin(x: np.ndarray, window: int) -> np.ndarray:
    """Days since the minimum of the trailing `window` days (0 = today; ties: the oldest), in [0, window-1]."""
    return _arg_extreme(bn.move_argmin, "ts_argmin", x, window)


def ts_argmax(x: np.ndarray, window: int) -> np.ndarray:
    """Days since the maximum of the trailing `window` days (0 = today; ties: the oldest), in [0, window-1]."""
    return _arg_extreme(bn.move_argmax, "ts_argmax", x, window)


def ts_rank(x: np.ndarray, window: int) -> np.ndarray:
    """Percentile rank of today's value within the trailing `window` days, in (0, 1], ties averaged."""
    return _rolling("ts_rank", _rank, window, x, anchor=False)


def ts_zscore(x: np.ndarray, window: int) -> np.ndarray:
    """(x - ts_mean) / ts_std over the trailing `window` days; NaN if the window is constant."""
    return _rolling("ts_zscore", _zscore, window, x)


def ts_corr(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """Pearson correlation of x and y over the trailing `window` days; NaN if either is constant."""
    def corr(w: _Window, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        _, _, uu, vv, uv = _comoments(w, u, v)
        return np.clip(uv / np.sqrt(uu * vv), -1.0, 1.0)
    return _rolling("ts_corr", corr, window, x, y)


def ts_cov(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """Sample covariance (ddof=1) of x and y over the trailing `window` days."""
    return _rolling("ts_cov", lambda w, u, v: _comoments(w, u, v)[4] / (w.n - 1), window, x, y)


def ts_skew(x: np.ndarray, window: int) -> np.ndarray:
    """Bias-corrected skewness (pandas rolling skew) over the trailing `window` days; NaN if constant."""
    return _rolling("ts_skew", _skew, window, x)


def ts_kurt(x: np.ndarray, window: int) -> np.ndarray:
    """Bias-corrected excess kurtosis (pandas rolling kurt) over the trailing `window` days; NaN if constant."""
    return _rolling("ts_kurt", _kurt, window, x)


def ts_median(x: np.ndarray, window: int) -> np.ndarray:
    """Median over the trailing `window` days."""
    return _move(bn.move_median, "ts_median", x, window)


def ts_quantile(x: np.ndarray, window: int, q: float) -> np.ndarray:
    """The `q` quantile (0 <= q <= 1, linear interpolation) over the trailing `window` days."""
    if not isinstance(q, numbers.Real) or isinstance(q, (bool, np.bool_)) or not 0 <= q <= 1:
        raise OperatorError(f"ts_quantile: q must be a number in [0, 1], got {q!r}; pass e.g. q=0.9")
    n, a = _window(window, "ts_quantile"), _series(x, "ts_quantile")
    if n > _SORT_MAX_WINDOW:
        return pd.DataFrame(a.reshape(len(a), -1)).rolling(n).quantile(float(q)).to_numpy().reshape(a.shape)
    pos = float(q) * (n - 1)
    low, frac = int(pos), pos - int(pos)

    def quantile(w: _Window, u: np.ndarray) -> np.ndarray:
        ordered = np.sort(sliding_window_view(u, n, axis=0), axis=-1)
        return ordered[..., low] + (ordered[..., low + 1] - ordered[..., low]) * frac if frac else ordered[..., low]
    return _rolling("ts_quantile", quantile, n, a, anchor=False)


def ts_decay_linear(x: np.ndarray, window: int) -> np.ndarray:
    """Weighted mean over the trailing `window` days, weights 1..window with today weighted most."""
    def decay(w: _Window, u: np.ndarray) -> np.ndarray:
        total = w.sum(u)
        return (w.by_age(u, total) + total) / (w.n * (w.n + 1) / 2)
    return _rolling("ts_decay_linear", decay, window, x, anchor=False)


def ts_ema(x: np.ndarray, window: int) -> np.ndarray:
    """EMA with alpha = 2 / (window + 1), restarted after each NaN; NaN until `window` valid days in a row."""
    n, a = _window(window, "ts_ema"), _series(x, "ts_ema")
    shape, a = a.shape, a.reshape(len(a), -1)
    valid, rows = ~np.isnan(a), np.arange(len(a))[:, None]
    first = valid.copy()
    first[1:] &= ~valid[:-1]  # first day of each NaN-free run
    run_start = np.maximum.accumulate(np.where(first, rows, -1), axis=0)
    out, beta, carry = a.copy(), (n - 1) / (n + 1), np.zeros(a.shape[1])
    with np.errstate(all="ignore"):
        # ema[i] = beta^i * cumsum(c_k x_k beta^-k) within a block (c = 1 on a run's first day, else alpha),
        # minus the part before a restart, plus the previous block's last value decayed. beta >= 1/3 and
        # block rows < 128 keep beta^-k below 1e61.
        for lo in range(0, len(a) if n > 1 else 0, _BLOCK_ROWS):
            blk = slice(lo, lo + _BLOCK_ROWS)
            grow = beta ** -np.arange(len(a[blk]), dtype=np.float64)[:, None]
            cum = np.cumsum(np.where(valid[blk], np.where(first[blk], 1.0, 1 - beta) * a[blk], 0.0) * grow, axis=0)
            local = run_start[blk] - lo
            before = np.where(local > 0, np.take_along_axis(cum, np.maximum(local - 1, 0), axis=0), 0.0)
            out[blk] = (cum - before) / grow + np.where(local < 0, carry * beta / grow, 0.0)
            carry = out[blk][-1]
    out[~valid | (rows - run_start < n - 1)] = np.nan
    return out.reshape(shape)


def ts_product(x: np.ndarray, window: int) -> np.ndarray:
    """Product over the trailing `window` days."""
    return _rolling("ts_product", _product, window, x, anchor=False)


def ts_regression_slope(y: np.ndarray, x: np.ndarray, window: int) -> np.ndarray:
    """OLS slope b of y = a + b * x over the trailing `window` days; NaN if x is constant."""
    return _rolling("ts_regression_slope", _slope, window, y, x)


def ts_regression_resid(y: np.ndarray, x: np.ndarray, window: int) -> np.ndarray:
    """Today's residual y - (a + b * x) of the OLS of y on x over the trailing `window` days."""
    return _rolling("ts_regression_resid", _resid, window, y, x)


def ts_slope(x: np.ndarray, window: int) -> np.ndarray:
    """OLS slope of x on time (units of x per day) over the trailing `window` days."""
    return _rolling("ts_slope", _time_slope, window, x)


def ts_rsquare(x: np.ndarray, window: int) -> np.ndarray:
    """R^2 of the OLS of x on time over the trailing `window` days, in [0, 1]; NaN if constant."""
    return _rolling("ts_rsquare", _time_rsquare, window, x)


def _day_mean_std(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each day's mean and sample std (ddof=1) over its non-NaN cells, as [T, 1] columns."""
    return bn.nanmean(a, axis=1)[:, None], bn.nanstd(a, axis=1, ddof=1)[:, None]


def rank(x: np.ndarray) -> np.ndarray:
    """Cross-sectional percentile rank per day, in (0, 1], ties averaged."""
    a = _panel(x, "rank")
    with np.errstate(all="ignore"):
        return bn.nanrankdata(a, axis=1) / (~np.isnan(a)).sum(axis=1, keepdims=True)


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
        raise OperatorError(f"winsorize: k must be a number >= 0 (in standard deviations), got {k!r}; pass e.g. k=3")
    a = _panel(x, "winsorize")
    mean, std = _day_mean_std(a)
    return np.clip(a, np.nan_to_num(mean - k * std, nan=-np.inf), np.nan_to_num(mean + k * std, nan=np.inf))


def neutralize(x: np.ndarray, *exposures: np.ndarray) -> np.ndarray:
    """Residual of each day's OLS of x on the exposures plus an intercept, over stocks where all are finite."""
    y = _panel(x, "neutralize")
    z = np.stack([y, *(np.broadcast_to(_float(e), y.shape) for e in exposures)], axis=-1)
    ok = np.isfinite(z).all(axis=-1)
    with np.errstate(all="ignore"):
        z = np.where(ok[..., None], z, 0.0)
        z = np.where(ok[..., None], z - z.sum(axis=1, keepdims=True) / ok.sum(axis=1)[:, None, None], 0.0)
        # unit-norm exposures keep the Gram matrix well scaled; pinv copes with collinear ones
        norm = np.sqrt((z[..., 1:] ** 2).sum(axis=1, keepdims=True))
        e = np.where(norm > 0, z[..., 1:] / norm, 0.0)
        et = e.transpose(0, 2, 1)
        beta = np.linalg.pinv(et @ e, hermitian=True) @ (et @ z[..., :1])
        return np.where(ok, z[..., 0] - (e @ beta)[..., 0], np.nan)


def sign(x: Operand) -> np.ndarray:
    """Sign of x: -1, 0 or 1."""
    return np.sign(_float(x))


def abs(x: Operand) -> np.ndarray:  # noqa: A001 - the operator is called abs in factor programs
    """Absolute value |x|."""
    return np.abs(_float(x))


def log(x: Operand) -> np.ndarray:
    """Natural logarithm; NaN where x <= 0."""
    a = _float(x)
    return np.log(np.where(a > 0, a, np.nan))


def sqrt(x: Operand) -> np.ndarray:
    """Square root; NaN where x < 0."""
    a = _float(x)
    return np.sqrt(np.where(a >= 0, a, np.nan))


def signed_power(x: Operand, p: float) -> np.ndarray:
    """sign(x) * |x| ** p."""
    a = _float(x)
    with np.errstate(all="ignore"):
        return np.sign(a) * np.abs(a) ** p


def safe_div(a: Operand, b: Operand) -> np.ndarray:
    """a / b; NaN where b == 0."""
    num, den = _float(a), _float(b)
    with np.errstate(all="ignore"):
        return np.where(den == 0, np.nan, num / den)


def inverse(x: Operand) -> np.ndarray:
    """1 / x; NaN where x == 0."""
    return safe_div(1.0, x)


def where(cond: Operand, a: Operand, b: Operand) -> np.ndarray:
    """a where cond is true (nonzero), b where it is false (0); NaN where cond is NaN."""
    c = _float(cond)
    return np.where(np.isnan(c), np.nan, np.where(c != 0, _float(a), _float(b)))


def clip(x: Operand, lo: Operand, hi: Operand) -> np.ndarray:
    """x limited to [lo, hi]."""
    return np.clip(_float(x), _float(lo), _float(hi))


def maximum(a: Operand, b: Operand) -> np.ndarray:
    """Element-wise larger of a and b (NaN if either is NaN)."""
    return np.maximum(_float(a), _float(b))


def minimum(a: Operand, b: Operand) -> np.ndarray:
    """Element-wise smaller of a and b (NaN if either is NaN)."""
    return np.minimum(_float(a), _float(b))


def tanh(x: Operand) -> np.ndarray:
    """Hyperbolic tangent, squashing x into (-1, 1)."""
    return np.tanh(_float(x))
