"""Specification of factorengine.ops: every operator against a plain pandas/numpy reference, exact
causality for every exported operator, window validation, read-only inputs and numeric precision."""
from __future__ import annotations

import inspect
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from factorengine import ops
from factorengine.ops import OperatorError

SPEC_NAMES = [
    "delay", "delta", "pct_change", "ts_sum", "ts_mean", "ts_std", "ts_var", "ts_min", "ts_max",
    "ts_argmin", "ts_argmax", "ts_rank", "ts_zscore", "ts_corr", "ts_cov", "ts_skew", "ts_kurt",
    "ts_median", "ts_quantile", "ts_decay_linear", "ts_ema", "ts_product", "ts_regression_slope",
    "ts_regression_resid", "ts_slope", "ts_rsquare", "ts_cumsum", "ts_mean_where", "rank", "zscore", "demean",
    "scale", "winsorize", "neutralize", "group_mean", "group_demean", "group_zscore", "group_rank",
    "sign", "abs", "log", "exp", "sqrt", "signed_power", "safe_div", "inverse", "where", "clip",
    "maximum", "minimum", "tanh",
]
W = 6  # the window most cases use
LONG = 40  # longer than ts_quantile's sorting path
TOL = dict(rtol=1e-9, atol=1e-10, equal_nan=True)  # atol: a floor for values that should be ~0


def make_data(n_days: int, n_stocks: int, seed: int, ties: bool = False) -> SimpleNamespace:
    """Random read-only panel fields with scattered NaNs, IPOs (leading NaNs), a suspension and a delisting.

    ties: round to one decimal and add a constant run, so ties and flat windows are common.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_days, n_stocks))
    y = 0.6 * x + rng.standard_normal((n_days, n_stocks))
    if ties:
        x, y = np.round(x, 1), np.round(y, 1)
        x[40:90, 1] = 0.3
    for a in (x, y):  # stocks 6.. have no gaps, so long windows have material
        a[:, :6][rng.random((n_days, min(n_stocks, 6))) < 0.01] = np.nan
        a[:25, 2] = np.nan
    x[:60, 3] = np.nan
    x[n_days - 15:, 4] = np.nan
    x[30:34, 5] = np.nan
    fields = dict(
        x=x, y=y,
        z=np.round(x),  # many zeros, for safe_div / inverse
        cond=np.where(np.isnan(y), np.nan, (rng.random(y.shape) < 0.5).astype(float)),
        size=5e4 + 1e3 * rng.standard_normal((n_days, n_stocks)),  # a large-scale exposure
        group=rng.integers(0, 3, (n_days, n_stocks)).astype(float),
        sector=np.tile(np.arange(n_stocks) % 3, (n_days, 1)).astype(float),  # codes of a group column
    )
    fields["size"][rng.random(x.shape) < 0.02] = np.nan
    fields["sector"][n_days // 2:, 1] = 2.0  # a stock changes sector
    fields["sector"][rng.random(x.shape) < 0.02] = np.nan
    for a in fields.values():
        a.flags.writeable = False
    return SimpleNamespace(**fields, **{k.upper(): pd.DataFrame(v) for k, v in fields.items()})


def cut(d: SimpleNamespace, stop: int) -> SimpleNamespace:
    """The same fields cut to their first `stop` days."""
    return SimpleNamespace(**{k: v[:stop] for k, v in vars(d).items() if k.islower()})


def per_window(func, w: int, *arrays: np.ndarray) -> np.ndarray:
    """Reference loop: func of each stock's trailing w days, NaN where a window holds a NaN."""
    out = np.full(arrays[0].shape, np.nan)
    for t in range(w - 1, len(out)):
        for j in range(out.shape[1]):
            windows = [a[t - w + 1:t + 1, j] for a in arrays]
            if not any(np.isnan(v).any() for v in windows):
                out[t, j] = func(*windows)
    return out


def ema_reference(x: np.ndarray, n: int) -> np.ndarray:
    """pandas ewm(span=n, adjust=False, min_periods=n) run separately on every NaN-free run."""
    out = np.full(x.shape, np.nan)
    for j in range(x.shape[1]):
        s = pd.Series(x[:, j])
        for _, run in s.dropna().groupby(s.isna().cumsum()[s.notna()]):
            out[run.index, j] = run.ewm(span=n, adjust=False, min_periods=n).mean()
    return out


def neutralize_reference(x: np.ndarray, *exposures: np.ndarray) -> np.ndarray:
    """Per-day least squares of x on [1, exposures] over the stocks where all are finite."""
    out = np.full(x.shape, np.nan)
    for t in range(len(x)):
        design = np.column_stack([np.ones(x.shape[1]), *(e[t] for e in exposures)])
        ok = np.isfinite(x[t]) & np.isfinite(design).all(axis=1)
        coef = np.linalg.lstsq(design[ok], x[t, ok], rcond=None)[0]
        out[t, ok] = x[t, ok] - design[ok] @ coef
    return out


def mean_where_reference(X: pd.DataFrame, cond: pd.DataFrame, w: int) -> pd.DataFrame:
    """Sum of x over the window's days where cond == 1 and x is known, over their count; NaN if none."""
    held = (cond == 1) & X.notna()
    total, days = X.where(held, 0.0).rolling(w).sum(), held.astype(float).rolling(w).sum()
    return (total / days).where(days > 0)


def by_sector(d: SimpleNamespace, how: str) -> np.ndarray:
    """pandas groupby of each day's cells by d.sector: x's rank (pct) or transform(how); NaN where x or sector is."""
    n_days, n_stocks = d.x.shape
    cells = pd.DataFrame({"x": d.x.ravel(), "day": np.repeat(np.arange(n_days), n_stocks), "g": d.sector.ravel()})
    grouped = cells.dropna().groupby(["day", "g"]).x
    values = grouped.rank(pct=True) if how == "rank" else grouped.transform(how)
    out = np.full(n_days * n_stocks, np.nan)
    out[values.index] = values
    return out.reshape(n_days, n_stocks)


def winsorize_reference(X: pd.DataFrame, k: float) -> pd.DataFrame:
    mean, std = X.mean(axis=1), X.std(axis=1)
    return X.clip(mean - k * std, mean + k * std, axis=0)


AGES = np.arange(W, dtype=float)
# name -> (call the operator on data d, the plain reference on the same data)
CASES = {
    "delay": (lambda d: ops.delay(d.x, 3), lambda d: d.X.shift(3)),
    "delta": (lambda d: ops.delta(d.x, 3), lambda d: d.X.diff(3)),
    "pct_change": (lambda d: ops.pct_change(d.x, 3), lambda d: d.X / d.X.shift(3) - 1),
    "ts_sum": (lambda d: ops.ts_sum(d.x, W), lambda d: d.X.rolling(W).sum()),
    "ts_mean": (lambda d: ops.ts_mean(d.x, W), lambda d: d.X.rolling(W).mean()),
    "ts_std": (lambda d: ops.ts_std(d.x, W), lambda d: d.X.rolling(W).std()),
    "ts_var": (lambda d: ops.ts_var(d.x, W), lambda d: d.X.rolling(W).var()),
    "ts_min": (lambda d: ops.ts_min(d.x, W), lambda d: d.X.rolling(W).min()),
    "ts_max": (lambda d: ops.ts_max(d.x, W), lambda d: d.X.rolling(W).max()),
    "ts_argmin": (lambda d: ops.ts_argmin(d.x, W),
                  lambda d: d.X.rolling(W).apply(lambda v: W - 1 - np.argmin(v), raw=True)),
    "ts_argmax": (lambda d: ops.ts_argmax(d.x, W),
                  lambda d: d.X.rolling(W).apply(lambda v: W - 1 - np.argmax(v), raw=True)),
    "ts_rank": (lambda d: ops.ts_rank(d.x, W), lambda d: d.X.rolling(W).rank(pct=True)),
    "ts_zscore": (lambda d: ops.ts_zscore(d.x, W),
                  lambda d: (d.X - d.X.rolling(W).mean()) / d.X.rolling(W).std()),
    "ts_corr": (lambda d: ops.ts_corr(d.x, d.y, W), lambda d: d.X.rolling(W).corr(d.Y)),
    "ts_cov": (lambda d: ops.ts_cov(d.x, d.y, W), lambda d: d.X.rolling(W).cov(d.Y)),
    "ts_skew": (lambda d: ops.ts_skew(d.x, W), lambda d: d.X.rolling(W).skew()),
    "ts_kurt": (lambda d: ops.ts_kurt(d.x, W), lambda d: d.X.rolling(W).kurt()),
    "ts_median": (lambda d: ops.ts_median(d.x, W), lambda d: d.X.rolling(W).median()),
    "ts_quantile": (lambda d: ops.ts_quantile(d.x, W, 0.3), lambda d: d.X.rolling(W).quantile(0.3)),
    "ts_decay_linear": (lambda d: ops.ts_decay_linear(d.x, W),
                        lambda d: per_window(lambda v: v @ (AGES + 1) / (AGES + 1).sum(), W, d.x)),
    "ts_ema": (lambda d: ops.ts_ema(d.x, W), lambda d: ema_reference(d.x, W)),
    "ts_product": (lambda d: ops.ts_product(d.x, W), lambda d: d.X.rolling(W).apply(np.prod, raw=True)),
    "ts_regression_slope": (lambda d: ops.ts_regression_slope(d.y, d.x, W),
                            lambda d: per_window(lambda y, x: np.polyfit(x, y, 1)[0], W, d.y, d.x)),
    "ts_regression_resid": (lambda d: ops.ts_regression_resid(d.y, d.x, W), lambda d: per_window(
        lambda y, x: y[-1] - np.polyval(np.polyfit(x, y, 1), x[-1]), W, d.y, d.x)),
    "ts_slope": (lambda d: ops.ts_slope(d.x, W),
                 lambda d: per_window(lambda v: np.polyfit(AGES, v, 1)[0], W, d.x)),
    "ts_rsquare": (lambda d: ops.ts_rsquare(d.x, W),
                   lambda d: per_window(lambda v: np.corrcoef(AGES, v)[0, 1] ** 2, W, d.x)),
    "ts_cumsum": (lambda d: ops.ts_cumsum(d.x), lambda d: d.X.cumsum()),
    "ts_mean_where": (lambda d: ops.ts_mean_where(d.x, d.cond, W),
                      lambda d: mean_where_reference(d.X, d.COND, W)),
    "rank": (lambda d: ops.rank(d.x), lambda d: d.X.rank(axis=1, pct=True)),
    "zscore": (lambda d: ops.zscore(d.x),
               lambda d: d.X.sub(d.X.mean(axis=1), axis=0).div(d.X.std(axis=1), axis=0)),
    "demean": (lambda d: ops.demean(d.x), lambda d: d.X.sub(d.X.mean(axis=1), axis=0)),
    "scale": (lambda d: ops.scale(d.x, 2.0), lambda d: d.X.div(d.X.abs().sum(axis=1), axis=0) * 2.0),
    "winsorize": (lambda d: ops.winsorize(d.x, 1.5), lambda d: winsorize_reference(d.X, 1.5)),
    "neutralize": (lambda d: ops.neutralize(d.x, d.size, d.group),
                   lambda d: neutralize_reference(d.x, d.size, d.group)),
    "group_mean": (lambda d: ops.group_mean(d.x, d.sector), lambda d: by_sector(d, "mean")),
    "group_demean": (lambda d: ops.group_demean(d.x, d.sector), lambda d: d.x - by_sector(d, "mean")),
    "group_zscore": (lambda d: ops.group_zscore(d.x, d.sector),
                     lambda d: (d.x - by_sector(d, "mean")) / by_sector(d, "std")),
    "group_rank": (lambda d: ops.group_rank(d.x, d.sector), lambda d: by_sector(d, "rank")),
    "sign": (lambda d: ops.sign(d.x), lambda d: np.sign(d.X)),
    "abs": (lambda d: ops.abs(d.x), lambda d: d.X.abs()),
    "log": (lambda d: ops.log(d.z), lambda d: np.log(d.Z.where(d.Z > 0))),
    "exp": (lambda d: ops.exp(d.x), lambda d: np.exp(d.X)),
    "sqrt": (lambda d: ops.sqrt(d.z), lambda d: np.sqrt(d.Z.where(d.Z >= 0))),
    "signed_power": (lambda d: ops.signed_power(d.x, 0.5),
                     lambda d: np.sign(d.X) * d.X.abs() ** 0.5),
    "safe_div": (lambda d: ops.safe_div(d.x, d.z), lambda d: d.X / d.Z.where(d.Z != 0)),
    "inverse": (lambda d: ops.inverse(d.z), lambda d: 1 / d.Z.where(d.Z != 0)),
    "where": (lambda d: ops.where(d.cond, d.x, d.y),
              lambda d: d.X.where(d.COND == 1, d.Y).where(d.COND.notna())),
    "clip": (lambda d: ops.clip(d.x, -0.5, 0.8), lambda d: d.X.clip(-0.5, 0.8)),
    "maximum": (lambda d: ops.maximum(d.x, d.y),
                lambda d: d.X.where(d.X > d.Y, d.Y).where(d.X.notna() & d.Y.notna())),
    "minimum": (lambda d: ops.minimum(d.x, d.y),
                lambda d: d.X.where(d.X < d.Y, d.Y).where(d.X.notna() & d.Y.notna())),
    "tanh": (lambda d: ops.tanh(d.x), lambda d: np.tanh(d.X)),
    # second paths and parameters of the same operators
    "ts_quantile[long window, pandas path]": (lambda d: ops.ts_quantile(d.x, LONG, 0.75),
                                              lambda d: d.X.rolling(LONG).quantile(0.75)),
    "ts_quantile[q=1]": (lambda d: ops.ts_quantile(d.x, W, 1.0), lambda d: d.X.rolling(W).max()),
    "ts_corr[window longer than a block]": (lambda d: ops.ts_corr(d.x, d.y, 140),
                                            lambda d: d.X.rolling(140).corr(d.Y)),
    "ts_rank[long window]": (lambda d: ops.ts_rank(d.x, 30), lambda d: d.X.rolling(30).rank(pct=True)),
    "neutralize[no exposures]": (lambda d: ops.neutralize(d.x), lambda d: d.X.sub(d.X.mean(axis=1), axis=0)),
    "ts_mean_where[window longer than a block]": (lambda d: ops.ts_mean_where(d.x, d.cond, 140),
                                                  lambda d: mean_where_reference(d.X, d.COND, 140)),
    "group_rank[ties]": (lambda d: ops.group_rank(np.round(d.x), d.sector),
                         lambda d: by_sector(SimpleNamespace(x=np.round(d.x), sector=d.sector), "rank")),
}
CAUSALITY_CUTS = [0, 1, 5, 6, 64, 127, 128, 129, 200, 255, 256, 257, 299]
TIME_SERIES_OPS = [name for name in ops.__all__
                   if {"window", "n"} & set(inspect.signature(getattr(ops, name)).parameters)]


@pytest.fixture(scope="module")
def data() -> SimpleNamespace:
    return make_data(200, 8, seed=1)


@pytest.fixture(scope="module")
def tied() -> SimpleNamespace:
    return make_data(300, 6, seed=2, ties=True)


def call_with_window(name: str, d: SimpleNamespace, window: object) -> np.ndarray:
    """Call a time-series operator with `window` as its window (or lag) argument."""
    fn = getattr(ops, name)
    args = {"x": d.x, "y": d.y, "cond": d.cond, "window": window, "n": window, "q": 0.5}
    return fn(**{p: args[p] for p in inspect.signature(fn).parameters})


def test_exports_exactly_the_spec_operators() -> None:
    assert sorted(ops.__all__) == sorted(SPEC_NAMES)
    assert len(ops.__all__) >= 50


@pytest.mark.parametrize("name", ops.__all__)
def test_operator_has_a_one_line_docstring_and_type_hints(name: str) -> None:
    fn = getattr(ops, name)
    assert fn.__doc__ and "\n" not in fn.__doc__.strip()
    assert set(inspect.signature(fn).parameters) | {"return"} <= set(fn.__annotations__)


@pytest.mark.parametrize("case", list(CASES))
def test_operator_matches_reference(case: str, data: SimpleNamespace) -> None:
    compute, reference = CASES[case]
    result = compute(data)
    assert result.dtype == np.float64 and result.shape == data.x.shape
    assert np.isfinite(result).sum() >= 20  # the comparison is not vacuous
    np.testing.assert_allclose(result, np.asarray(reference(data), dtype=float), **TOL)


@pytest.mark.parametrize("case", sorted(set(ops.__all__) | set(CASES)))
def test_operator_is_causal(case: str, tied: SimpleNamespace) -> None:
    assert case in CASES, f"{case} is exported but has no sample call in CASES"
    compute = CASES[case][0]
    full = compute(tied)
    for stop in CAUSALITY_CUTS:
        np.testing.assert_array_equal(compute(cut(tied, stop)), full[:stop], err_msg=f"{case} cut at {stop}")


@pytest.mark.parametrize("name", ops.__all__)
def test_operator_leaves_writable_inputs_unchanged(name: str, data: SimpleNamespace) -> None:
    writable = SimpleNamespace(**{k: v.copy() for k, v in vars(data).items() if k.islower()})
    CASES[name][0](writable)
    for key, value in vars(writable).items():
        np.testing.assert_array_equal(value, getattr(data, key))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, np.nan, "10", None])
@pytest.mark.parametrize("name", TIME_SERIES_OPS)
def test_time_series_operator_rejects_bad_window(name: str, bad: object, data: SimpleNamespace) -> None:
    with pytest.raises(OperatorError, match=name) as info:
        call_with_window(name, data, bad)
    assert repr(bad) in str(info.value) and "e.g." in str(info.value)


@pytest.mark.parametrize("name", TIME_SERIES_OPS)
def test_time_series_operator_accepts_integral_float_and_numpy_int(name: str, data: SimpleNamespace) -> None:
    expected = call_with_window(name, data, 10)
    np.testing.assert_array_equal(call_with_window(name, data, 10.0), expected)
    np.testing.assert_array_equal(call_with_window(name, data, np.int64(10)), expected)


@pytest.mark.parametrize("name", TIME_SERIES_OPS)
def test_window_longer_than_the_data_gives_nan(name: str, data: SimpleNamespace) -> None:
    assert np.isnan(call_with_window(name, data, len(data.x) + 1)).all()


def test_operator_error_is_a_value_error_with_a_fix() -> None:
    assert issubclass(OperatorError, ValueError)
    with pytest.raises(OperatorError, match=r"delay: n must be .* got -1.*future.*n=1"):
        ops.delay(np.zeros((5, 2)), -1)


def test_argmin_and_argmax_count_days_since_the_oldest_tie() -> None:
    x = np.array([[3.0], [1.0], [2.0], [1.0], [5.0], [5.0]])
    np.testing.assert_array_equal(ops.ts_argmin(x, 4)[:, 0], [np.nan, np.nan, np.nan, 2, 3, 2])
    np.testing.assert_array_equal(ops.ts_argmax(x, 3)[:, 0], [np.nan, np.nan, 2, 1, 0, 1])


def test_ts_rank_averages_ties_and_counts_today() -> None:
    x = np.array([[1.0], [2.0], [2.0], [3.0], [0.0]])
    np.testing.assert_allclose(ops.ts_rank(x, 3)[:, 0], [np.nan, np.nan, 2.5 / 3, 1.0, 1 / 3])
    np.testing.assert_allclose(ops.ts_rank(x, 1)[:, 0], [1.0] * 5)


def test_constant_windows_give_exact_zero_spread_and_nan_ratios() -> None:
    x = np.r_[np.random.default_rng(3).normal(100, 10, 50), np.full(30, 101.37)][:, None]
    y = np.linspace(1, 2, 80)[:, None]
    flat = slice(75, 80)
    for op in (ops.ts_std, ops.ts_var, ops.ts_slope):
        assert (op(x, 20)[flat] == 0).all()
    assert (ops.ts_cov(x, y, 20)[flat] == 0).all()
    for op in (ops.ts_zscore, ops.ts_skew, ops.ts_kurt, ops.ts_rsquare):
        assert np.isnan(op(x, 20)[flat]).all()
    assert np.isnan(ops.ts_corr(x, y, 20)[flat]).all()
    assert np.isnan(ops.ts_regression_slope(y, x, 20)[flat]).all()
    assert (ops.ts_regression_slope(x, y, 20)[flat] == 0).all()


def test_windows_too_short_for_the_statistic_give_nan() -> None:
    x = np.arange(10.0)[:, None] ** 2
    for op, window in [(ops.ts_std, 1), (ops.ts_var, 1), (ops.ts_skew, 2), (ops.ts_kurt, 3),
                       (ops.ts_slope, 1), (ops.ts_zscore, 1)]:
        assert np.isnan(op(x, window)).all()


def test_ts_ema_restarts_after_a_nan() -> None:
    x = np.array([[1.0], [2.0], [4.0], [np.nan], [3.0], [6.0], [9.0]])
    alpha = 2 / 3  # window 2
    first = 1 + alpha * (2 - 1)
    restart = 3 + alpha * (6 - 3)
    expected = [np.nan, first, first + alpha * (4 - first), np.nan, np.nan, restart,
                restart + alpha * (9 - restart)]
    np.testing.assert_allclose(ops.ts_ema(x, 2)[:, 0], expected, rtol=1e-15)
    np.testing.assert_array_equal(ops.ts_ema(x, 1), x)


def test_ts_ema_long_runs_cross_blocks(tied: SimpleNamespace) -> None:
    np.testing.assert_allclose(ops.ts_ema(tied.x, 2), ema_reference(tied.x, 2), **TOL)
    np.testing.assert_allclose(ops.ts_ema(tied.x, 40), ema_reference(tied.x, 40), **TOL)


def test_ts_product_handles_zeros_and_signs() -> None:
    x = np.array([[2.0], [-3.0], [0.0], [-1.0], [-2.0], [0.5]])
    np.testing.assert_allclose(ops.ts_product(x, 2)[:, 0], [np.nan, -6, 0, 0, 2, -1], rtol=1e-14)


def test_neutralize_copes_with_collinear_and_constant_exposures(data: SimpleNamespace) -> None:
    single = ops.neutralize(data.x, data.size)
    np.testing.assert_allclose(ops.neutralize(data.x, data.size, 2 * data.size - 7), single, **TOL)
    np.testing.assert_allclose(ops.neutralize(data.x, data.size, np.ones_like(data.x)), single, **TOL)
    assert np.nanmax(np.abs(np.nansum(single, axis=1))) < 1e-9  # residuals are demeaned per day


def test_cross_sectional_rows_with_one_value_or_none() -> None:
    x = np.array([[np.nan, np.nan, np.nan], [np.nan, 4.0, np.nan], [1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(ops.rank(x), [[np.nan] * 3, [np.nan, 1.0, np.nan], [2 / 3] * 3])
    np.testing.assert_array_equal(ops.zscore(x), np.full((3, 3), np.nan))
    np.testing.assert_array_equal(ops.winsorize(x), x)
    np.testing.assert_array_equal(ops.scale(x)[2], [1 / 3] * 3)


@pytest.mark.parametrize("op", [ops.rank, ops.zscore, ops.demean, ops.scale, ops.winsorize, ops.neutralize])
def test_cross_sectional_operator_needs_a_panel(op) -> None:
    with pytest.raises(OperatorError, match=op.__name__):
        op(np.arange(5.0))


@pytest.mark.parametrize("q", [-0.1, 1.5, np.nan, True, "0.5"])
def test_ts_quantile_rejects_q_outside_unit_interval(q: object) -> None:
    with pytest.raises(OperatorError, match="ts_quantile: q"):
        ops.ts_quantile(np.zeros((10, 2)), 5, q)


def test_winsorize_rejects_negative_k() -> None:
    with pytest.raises(OperatorError, match="winsorize: k"):
        ops.winsorize(np.zeros((3, 3)), -1.0)


def test_element_wise_operators_take_scalars_and_give_nan_for_undefined_values() -> None:
    assert np.isnan(ops.safe_div(1.0, 0.0)) and np.isnan(ops.inverse(0.0))
    assert np.isnan(ops.log(0.0)) and np.isnan(ops.sqrt(-1.0))
    assert np.isnan(ops.where(np.nan, 1.0, 2.0)) and ops.where(0.0, 1, 2) == 2.0
    assert ops.signed_power(-4.0, 0.5) == -2.0
    assert ops.where(np.array([True, False]), 1, 2).dtype == np.float64


def test_time_series_operators_broadcast_a_market_column(data: SimpleNamespace) -> None:
    market = np.nanmean(data.y, axis=1, keepdims=True)
    expected = ops.ts_corr(data.x, np.repeat(market, data.x.shape[1], axis=1), W)
    np.testing.assert_array_equal(ops.ts_corr(data.x, market, W), expected)


@pytest.mark.parametrize("name", ["ts_mean", "ts_std", "ts_var"])
def test_moving_moments_agree_with_pandas_on_large_offsets(name: str) -> None:
    rng = np.random.default_rng(4)
    x = 1e6 + rng.standard_normal((5000, 2))
    expected = getattr(pd.DataFrame(x).rolling(20), name.removeprefix("ts_"))().to_numpy()
    np.testing.assert_allclose(getattr(ops, name)(x, 20), expected, rtol=1e-6, equal_nan=True)


def test_moment_operators_stay_precise_on_large_offsets() -> None:
    rng = np.random.default_rng(5)
    noise = rng.standard_normal((3000, 2))
    x, y = 1e6 + noise, 5e7 + 0.5 * noise + rng.standard_normal((3000, 2))
    u, v = (np.moveaxis(np.lib.stride_tricks.sliding_window_view(a, 20, axis=0), -1, 0) for a in (x, y))
    du, dv = u - u.mean(axis=0), v - v.mean(axis=0)  # two-pass window deviations
    exact_corr = (du * dv).sum(axis=0) / np.sqrt((du ** 2).sum(axis=0) * (dv ** 2).sum(axis=0))
    exact_z = du[-1] / du.std(axis=0, ddof=1)
    exact_skew = (du ** 3).mean(axis=0) / (du ** 2).mean(axis=0) ** 1.5 * np.sqrt(20 * 19) / 18
    np.testing.assert_allclose(ops.ts_corr(x, y, 20)[19:], exact_corr, rtol=1e-7)
    np.testing.assert_allclose(ops.ts_zscore(x, 20)[19:], exact_z, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ops.ts_skew(x, 20)[19:], exact_skew, rtol=1e-6, atol=1e-8)


def test_infinite_values_count_as_missing() -> None:
    x = np.array([[1.0, 2.0], [np.inf, 4.0], [2.0, -np.inf], [3.0, 5.0], [4.0, 7.0]])
    np.testing.assert_array_equal(ops.ts_mean(x, 2)[:, 0], [np.nan, np.nan, np.nan, 2.5, 3.5])
    np.testing.assert_array_equal(ops.ts_std(x, 2)[:, 1], [np.nan, np.sqrt(2), np.nan, np.nan, np.sqrt(2)])
    np.testing.assert_array_equal(ops.rank(x)[1:3], [[np.nan, 1.0], [1.0, np.nan]])
    np.testing.assert_array_equal(ops.demean(x)[1], [np.nan, 0.0])


def test_time_series_operators_accept_a_single_series() -> None:
    x = np.random.default_rng(6).standard_normal(50)
    np.testing.assert_array_equal(ops.ts_corr(x, x[::-1].copy(), 9), ops.ts_corr(x[:, None], x[::-1, None], 9)[:, 0])
    np.testing.assert_array_equal(ops.ts_ema(x, 9), ops.ts_ema(x[:, None], 9)[:, 0])


def test_long_quantile_case_exercises_the_pandas_path() -> None:
    assert W <= ops._SORT_MAX_WINDOW < LONG


def test_ts_cumsum_skips_nan_days_and_leaves_them_nan() -> None:
    x = np.array([[1.0], [np.nan], [2.0], [np.inf], [3.0]])
    np.testing.assert_array_equal(ops.ts_cumsum(x)[:, 0], [1.0, np.nan, 3.0, np.nan, 6.0])


def test_ts_mean_where_averages_the_days_the_condition_holds_and_is_nan_where_none_does() -> None:
    x = np.array([[1.0], [2.0], [3.0], [np.nan], [5.0], [6.0]])
    cond = np.array([[1.0], [0.0], [1.0], [1.0], [0.0], [np.nan]])
    np.testing.assert_array_equal(ops.ts_mean_where(x, cond, 2)[:, 0], [np.nan, 1.0, 3.0, 3.0, np.nan, np.nan])


def test_exp_gives_nan_where_it_overflows() -> None:
    np.testing.assert_array_equal(ops.exp(np.array([0.0, 709.0, 710.0, np.inf, -np.inf]))[[0, 2, 3, 4]],
                                  [1.0, np.nan, np.nan, 0.0])
    assert np.isfinite(ops.exp(709.0))


def test_group_operators_work_within_each_group_of_each_day() -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0, np.nan], [4.0, 3.0, 2.0, 2.0, 5.0]])
    sector = np.array([[0.0, 1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, np.nan, 1.0]])
    np.testing.assert_array_equal(ops.group_rank(x, sector), [[0.5, 0.5, 1.0, 1.0, np.nan],
                                                              [1.0, 0.5, 0.5, np.nan, 1.0]])
    np.testing.assert_array_equal(ops.group_demean(x, sector), [[-1.0, -1.0, 1.0, 1.0, np.nan],
                                                                [0.5, -0.5, -1.5, np.nan, 1.5]])


def test_group_operators_take_one_group_per_stock_for_every_day() -> None:
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(ops.group_mean(x, np.array([0.0, 0.0, 1.0, 1.0])),
                                  ops.group_mean(x, np.tile([0.0, 0.0, 1.0, 1.0], (3, 1))))


def test_group_operators_refuse_groups_of_another_shape() -> None:
    with pytest.raises(OperatorError, match=r"group_rank: groups must match x's shape \(3, 4\)"):
        ops.group_rank(np.zeros((3, 4)), np.zeros((2, 4)))
