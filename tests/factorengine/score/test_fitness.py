"""Fitness: daily IC / RankIC against per-day scipy references, ICIR, FS, orientation, coverage, turnover."""
import numpy as np
import pytest
from scipy import stats

from factorengine.data import SEGMENTS, split_days
from factorengine.data.label import make_label
from factorengine.score.fitness import daily_correlation, daily_series, score, segment_metrics


def _panel(rng, n_days=120, n_stocks=40, nan_share=0.1):
    x = rng.normal(size=(n_days, n_stocks))
    x[rng.random(x.shape) < nan_share] = np.nan
    return x


def _ties(rng, x):
    return np.where(np.isnan(x), np.nan, np.round(x * 2) / 2)


def test_daily_ic_matches_per_day_pearson():
    rng = np.random.default_rng(0)
    x, y = _panel(rng), _panel(rng)
    expected = [stats.pearsonr(a[m], b[m])[0] for a, b in zip(x, y) for m in [~np.isnan(a) & ~np.isnan(b)]]
    np.testing.assert_allclose(daily_correlation(x, y, min_stocks=10), expected, rtol=1e-10)


def test_daily_rank_ic_matches_per_day_spearman_with_ties():
    rng = np.random.default_rng(1)
    x, y = _ties(rng, _panel(rng)), _panel(rng)
    expected = [stats.spearmanr(a[m], b[m])[0] for a, b in zip(x, y) for m in [~np.isnan(a) & ~np.isnan(b)]]
    np.testing.assert_allclose(daily_series(x, make_label(y), min_stocks=10).rank_ic, expected, rtol=1e-10)


def test_daily_series_skips_days_with_too_few_stocks():
    rng = np.random.default_rng(2)
    x, y = _panel(rng, nan_share=0.0), _panel(rng, nan_share=0.0)
    x[5, 3:] = np.nan
    series = daily_series(x, make_label(y), min_stocks=10)
    assert np.isnan(series.ic[5]) and np.isnan(series.rank_ic[5])
    assert np.isfinite(np.delete(series.ic, 5)).all()


def test_daily_series_treats_inf_as_missing():
    rng = np.random.default_rng(3)
    x, y = _panel(rng, nan_share=0.0), _panel(rng, nan_share=0.0)
    with_inf = x.copy()
    with_inf[:, 0] = np.inf
    without = x.copy()
    without[:, 0] = np.nan
    np.testing.assert_array_equal(daily_series(with_inf, make_label(y), 10).ic, daily_series(without, make_label(y), 10).ic)


def test_segment_metrics_compute_icir_and_fs_from_the_daily_series():
    signal, label = _signal_and_label(np.random.default_rng(4))
    series = daily_series(signal, make_label(label), min_stocks=10)
    metrics = segment_metrics(series, slice(0, 120))
    daily = series.rank_ic[~np.isnan(series.rank_ic)]
    assert metrics.rank_ic == pytest.approx(daily.mean())
    assert metrics.rank_icir == pytest.approx(daily.mean() / daily.std(ddof=1))
    assert metrics.fs == pytest.approx((10 * metrics.ic + metrics.icir + 10 * metrics.rank_ic + metrics.rank_icir) / 4)


def _signal_and_label(rng, strength=0.3):
    signal = rng.normal(size=(120, 40))
    label = strength * signal + rng.normal(size=signal.shape)
    return signal, label


def test_score_orients_a_factor_by_its_train_rank_ic():
    signal, label = _signal_and_label(np.random.default_rng(5))
    splits = split_days(np.arange(120).astype("datetime64[D]"))
    plain = score(signal, make_label(label), splits, min_stocks=10)
    flipped = score(-signal, make_label(label), splits, min_stocks=10)
    assert (plain.orientation, flipped.orientation) == (1, -1)
    assert flipped.valid.fs == pytest.approx(plain.valid.fs, rel=1e-12)
    assert plain.valid.rank_ic > 0.2
    assert plain.test is None


def test_score_includes_test_only_on_request():
    signal, label = _signal_and_label(np.random.default_rng(6))
    splits = split_days(np.arange(120).astype("datetime64[D]"))
    fitness = score(signal, make_label(label), splits, min_stocks=10, segments=SEGMENTS)
    assert splits.test == (97, 120) and fitness.test.n_days == 23


def test_a_train_only_score_equals_the_train_part_of_a_full_score():
    signal, label = _signal_and_label(np.random.default_rng(9), strength=-0.2)
    splits = split_days(np.arange(120).astype("datetime64[D]"))
    full = score(signal, make_label(label), splits, min_stocks=10, segments=SEGMENTS)
    train_only = score(signal, make_label(label), splits, min_stocks=10, segments=("train",))
    assert train_only == type(full)(orientation=-1, train=full.train)


def test_turnover_is_zero_for_a_constant_ranking_and_near_one_for_noise():
    rng = np.random.default_rng(7)
    label = make_label(rng.normal(size=(120, 40)))
    steady = np.tile(np.arange(40.0), (120, 1))
    noise = rng.normal(size=(120, 40))
    assert segment_metrics(daily_series(steady, label, 10), slice(0, 120)).turnover == pytest.approx(0.0)
    assert segment_metrics(daily_series(noise, label, 10), slice(0, 120)).turnover == pytest.approx(1.0, abs=0.05)


def test_coverage_is_the_share_of_listed_stocks_with_a_value():
    rng = np.random.default_rng(8)
    label = make_label(rng.normal(size=(120, 40)))
    values = rng.normal(size=(120, 40))
    values[:, :10] = np.nan
    assert segment_metrics(daily_series(values, label, 10), slice(0, 120)).coverage == pytest.approx(0.75)


def test_a_factor_with_no_scored_days_gets_nan_metrics():
    label = make_label(np.random.default_rng(9).normal(size=(120, 40)))
    metrics = segment_metrics(daily_series(np.full((120, 40), np.nan), label, 10), slice(0, 120))
    assert np.isnan(metrics.fs) and metrics.n_days == 0


def test_rank_ic_ranks_the_label_over_the_stocks_the_factor_scores():
    rng = np.random.default_rng(10)
    x, y = _panel(rng, nan_share=0.0), _panel(rng, nan_share=0.0)
    x[:, :7] = np.nan  # the label is known for stocks the factor does not score
    expected = [stats.spearmanr(a[7:], b[7:])[0] for a, b in zip(x, y)]
    np.testing.assert_allclose(daily_series(x, make_label(y), min_stocks=10).rank_ic, expected, rtol=1e-10)


def _one_value_but(n_stocks: int, differing: int) -> np.ndarray:
    day = np.ones(n_stocks)
    day[:differing] = np.linspace(-1.0, 0.0, differing)
    return day


@pytest.mark.parametrize(("differing", "scored"), [(0, False), (9, False), (10, True), (30, True)])
def test_a_day_needs_min_stocks_stocks_apart_from_the_value_most_share(differing, scored):
    rng = np.random.default_rng(11)
    values = rng.normal(size=(3, 40))
    values[1] = _one_value_but(40, differing)
    series = daily_series(values, make_label(rng.normal(size=(3, 40))), min_stocks=10)
    assert np.isfinite(series.rank_ic[1]) == scored and np.isfinite(series.ic[1]) == scored
    assert np.isfinite(series.rank_ic[[0, 2]]).all()


def test_a_balanced_binary_factor_is_scored():
    rng = np.random.default_rng(12)
    values = np.where(rng.random((5, 40)) < 0.5, 1.0, 0.0)
    assert np.isfinite(daily_series(values, make_label(rng.normal(size=(5, 40))), min_stocks=10).ic).all()


def test_a_near_constant_factor_cannot_score_from_the_few_stocks_that_differ():
    # 1 everywhere but on the stocks whose next return is extreme: a large IC from a handful of stocks
    rng = np.random.default_rng(13)
    returns = rng.normal(0.0, 0.01, size=(250, 200))
    returns[:, :5] = rng.choice([-0.3, 0.3], size=(250, 5))
    values = np.where(returns[:, :] < -0.2, 0.0, 1.0)
    metrics = segment_metrics(daily_series(values, make_label(returns), min_stocks=30), slice(0, 250))
    assert metrics.n_days == 0 and np.isnan(metrics.fs)
    separating = segment_metrics(daily_series(values, make_label(returns), min_stocks=2), slice(0, 250))
    assert separating.ic > 0.5  # what the rule refuses: with 2 stocks enough, this factor scores
