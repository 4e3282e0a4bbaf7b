"""Specification of factorengine.harvest.backtest: TopkDropout trades, costs and benchmark on hand-made days,
agreement with qlib's selection rule, portfolio metrics, and quantile group returns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from factorengine.harvest.backtest import DAYS_PER_YEAR, PortfolioResult, max_drawdown, quantile_returns, topk_dropout

NAN = np.nan
DAY0 = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0]  # day-0 scores: stocks 0 and 1 are the top 2
FLAT = [0.01, 0.03, 0.05, 0.07, 0.09, 0.11]  # forward returns of a day where every stock is known


def _backtest(scores, forward, **kwargs):
    kwargs = {"k": 2, "n_drop": 1, "cost_bps": 10.0, **kwargs}
    return topk_dropout(np.array(scores), np.array(forward), **kwargs)


def test_day_zero_buys_the_top_k_and_pays_cost_on_the_whole_book():
    result = _backtest([DAY0], [FLAT])
    assert result.gross[0] == pytest.approx((0.01 + 0.03) / 2)
    assert result.net[0] == pytest.approx((0.01 + 0.03) / 2 - 0.001)
    assert result.turnover[0] == pytest.approx(0.5)


def test_holding_that_drops_out_of_the_top_is_replaced_by_the_best_stock_not_held():
    # day 1: stock 1 falls to the bottom; stock 2 is the best stock not held -> sell 1, buy 2
    result = _backtest([DAY0, [6, 1, 5, 4, 3, 2]], [FLAT, FLAT])
    assert result.gross[1] == pytest.approx((0.01 + 0.05) / 2)
    assert result.net[1] == pytest.approx((0.01 + 0.05) / 2 - 0.001 * 2 * (1 / 2))
    assert result.turnover[1] == pytest.approx(0.5)


def test_at_most_n_drop_holdings_are_replaced_per_day():
    # day 1: both holdings are the two worst; n_drop=1 replaces only stock 0 (the worse) by stock 2
    result = _backtest([DAY0, [1, 2, 6, 5, 4, 3]], [FLAT, FLAT])
    assert result.gross[1] == pytest.approx((0.03 + 0.05) / 2)
    assert result.turnover[1] == pytest.approx(0.5)


def test_unchanged_top_k_does_not_trade():
    result = _backtest([DAY0, [9, 8, 1, 1, 1, 1]], [FLAT, FLAT])
    assert result.net[1] == result.gross[1] == pytest.approx((0.01 + 0.03) / 2)
    assert result.turnover[1] == 0.0


def test_holdings_are_kept_when_no_candidate_can_replace_them():
    # day 1: only the holdings are scored; qlib would sell stock 1 without buying anything
    result = _backtest([DAY0, [6, 5, NAN, NAN, NAN, NAN]], [FLAT, FLAT])
    assert result.gross[1] == pytest.approx((0.01 + 0.03) / 2)
    assert result.turnover[1] == 0.0


def test_holding_without_forward_return_is_force_sold_and_replaced():
    result = _backtest([DAY0, DAY0], [FLAT, [NAN, 0.03, 0.05, 0.07, 0.09, 0.11]])
    assert result.gross[1] == pytest.approx((0.03 + 0.05) / 2)
    assert result.net[1] == pytest.approx((0.03 + 0.05) / 2 - 0.001)


def test_holding_without_score_is_force_sold_and_replaced():
    result = _backtest([DAY0, [NAN, 5, 4, 3, 2, 1]], [FLAT, FLAT])
    assert result.gross[1] == pytest.approx((0.03 + 0.05) / 2)
    assert result.turnover[1] == pytest.approx(0.5)


def test_forced_sales_come_on_top_of_n_drop():
    # day 1: stock 0 is delisted and stock 1 falls to the bottom -> both replaced, by stocks 2 and 3
    result = _backtest([DAY0, [6, 1, 5, 4, 3, 2]], [FLAT, [NAN, 0.03, 0.05, 0.07, 0.09, 0.11]])
    assert result.gross[1] == pytest.approx((0.05 + 0.07) / 2)
    assert result.net[1] == pytest.approx((0.05 + 0.07) / 2 - 0.001 * 2)
    assert result.turnover[1] == pytest.approx(1.0)


def test_fewer_candidates_than_k_are_held_equally_weighted():
    result = _backtest([[6, 5, NAN, NAN, NAN, NAN]], [FLAT], k=3)
    assert result.gross[0] == pytest.approx((0.01 + 0.03) / 2)
    assert result.net[0] == pytest.approx((0.01 + 0.03) / 2 - 0.001)


def test_day_with_nothing_to_hold_earns_zero_and_pays_for_selling_the_book():
    result = _backtest([DAY0, [NAN] * 6, DAY0], [FLAT, FLAT, FLAT])
    assert result.gross[1] == 0.0
    assert result.net[1] == pytest.approx(-0.001)
    assert result.net[2] == pytest.approx((0.01 + 0.03) / 2 - 0.001)


def test_cost_is_proportional_to_cost_bps():
    result = _backtest([DAY0], [FLAT], cost_bps=25.0)
    assert result.gross[0] - result.net[0] == pytest.approx(0.0025)


def test_benchmark_is_the_equal_weight_mean_over_stocks_with_score_and_forward_return():
    scores = [[6, 5, 4, NAN, 2, 1], [NAN] * 6]
    forward = [[0.01, 0.02, 0.03, 0.50, NAN, 0.06], FLAT]
    result = _backtest(scores, forward)
    np.testing.assert_allclose(result.benchmark, [(0.01 + 0.02 + 0.03 + 0.06) / 4, 0.0])


def test_selection_matches_qlib_topk_dropout_when_candidates_are_plentiful():
    rng = np.random.default_rng(0)
    scores, forward = rng.normal(size=(60, 40)), rng.normal(0, 0.02, size=(60, 40))
    scores[rng.random(scores.shape) < 0.1] = NAN
    forward[rng.random(forward.shape) < 0.1] = NAN
    result = topk_dropout(scores, forward, k=6, n_drop=2)
    np.testing.assert_allclose(result.gross, _qlib_gross(scores, forward, k=6, n_drop=2), rtol=1e-12)


def _qlib_gross(scores, forward, k, n_drop):
    """qlib's TopkDropoutStrategy.generate_trade_decision (sell bottom, buy top) after the forced sales."""
    held, gross = pd.Index([], dtype=int), []
    for s, f in zip(scores, forward):
        score = pd.Series(s)[np.isfinite(s) & np.isfinite(f)]
        last = score.reindex(held[held.isin(score.index)]).sort_values(ascending=False).index
        today = score[~score.index.isin(last)].sort_values(ascending=False).index[:n_drop + k - len(last)]
        comb = score.reindex(last.union(today)).sort_values(ascending=False).index
        sell = last[last.isin(comb[len(comb) - n_drop:])]
        held = last.difference(sell).union(today[:len(sell) + k - len(last)])
        gross.append(f[held].mean())
    return gross


def test_topk_beats_the_benchmark_with_perfect_foresight():
    rng = np.random.default_rng(1)
    forward = rng.normal(0, 0.02, size=(200, 100))
    metrics = topk_dropout(forward, forward, k=10, n_drop=3).metrics()
    assert metrics.excess_annual_return > 0.5 and metrics.information_ratio > 5


def test_topk_dropout_rejects_mismatched_shapes_and_bad_k():
    with pytest.raises(ValueError, match="shape"):
        topk_dropout(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="k >= 1"):
        topk_dropout(np.zeros((3, 4)), np.zeros((3, 4)), k=0)


def _result(net, benchmark, turnover):
    return PortfolioResult(net=np.array(net), gross=np.array(net), benchmark=np.array(benchmark),
                           turnover=np.array(turnover))


def test_metrics_annualize_mean_std_sharpe_and_information_ratio():
    metrics = _result(net=[0.01, -0.01, 0.02, 0.0], benchmark=[0.0, 0.0, 0.01, -0.01],
                      turnover=[0.5, 0.0, 0.25, 0.25]).metrics()
    std = np.sqrt((0.005**2 + 0.015**2 + 0.015**2 + 0.005**2) / 3)  # deviations from the mean 0.005
    assert metrics.annual_return == pytest.approx(0.005 * 252)
    assert metrics.volatility == pytest.approx(std * np.sqrt(252))
    assert metrics.sharpe == pytest.approx(0.005 / std * np.sqrt(252))
    # excess = [0.01, -0.01, 0.01, 0.01]: mean 0.005, std sqrt((3 * 0.005**2 + 0.015**2) / 3) = 0.01
    assert metrics.excess_annual_return == pytest.approx(0.005 * 252)
    assert metrics.information_ratio == pytest.approx(0.5 * np.sqrt(252))
    assert metrics.max_drawdown == pytest.approx(-0.01)
    assert metrics.mean_turnover == pytest.approx(0.25)
    assert DAYS_PER_YEAR == 252


def test_sharpe_is_nan_without_volatility():
    metrics = _result(net=[0.01, 0.01, 0.01], benchmark=[0.0, 0.0, 0.0], turnover=[0.0, 0.0, 0.0]).metrics()
    assert metrics.volatility == 0.0 and np.isnan(metrics.sharpe)


def test_max_drawdown_is_the_deepest_fall_from_a_running_peak_of_the_compounded_curve():
    # value curve 1.1, 0.55, 1.1, 0.44: the second fall from the peak 1.1 is deeper
    assert max_drawdown(np.array([0.1, -0.5, 1.0, -0.6])) == pytest.approx(-0.6)


def test_max_drawdown_counts_a_loss_from_the_starting_value():
    assert max_drawdown(np.array([-0.2, 0.1])) == pytest.approx(-0.2)


def test_max_drawdown_of_a_rising_curve_is_zero():
    assert max_drawdown(np.array([0.01, 0.02])) == 0.0


def test_quantiles_split_a_day_into_equal_groups_by_value():
    values = np.array([[3, 1, 4, 0, 9, 2, 6, 5, 8, 7]], dtype=float)
    result = quantile_returns(values, values / 100, n_quantiles=5)
    np.testing.assert_allclose(result.daily, [[0.005, 0.025, 0.045, 0.065, 0.085]])
    np.testing.assert_allclose(result.annual, np.array([0.005, 0.025, 0.045, 0.065, 0.085]) * 252)
    assert result.long_short_annual == pytest.approx((0.085 - 0.005) * 252)


def test_quantile_groups_of_an_uneven_day_follow_rank_position():
    # 7 stocks into 3 groups: floor(position * 3 / 7) gives positions 0-2, 3-4, 5-6
    values = np.array([[0, 1, 2, 3, 4, 5, 6]], dtype=float)
    result = quantile_returns(values, np.array([[1, 2, 3, 10, 20, 100, 200]], dtype=float), n_quantiles=3)
    np.testing.assert_allclose(result.daily, [[2.0, 15.0, 150.0]])


def test_quantiles_ignore_stocks_without_value_or_forward_return():
    values = np.array([[0, 1, NAN, 2, 3]])
    forward = np.array([[1.0, 2.0, 50.0, 3.0, NAN]])
    np.testing.assert_allclose(quantile_returns(values, forward, n_quantiles=3).daily, [[1.0, 2.0, 3.0]])


def test_days_with_fewer_stocks_than_quantiles_are_nan_and_skipped():
    values = np.array([[0, 1, 2, 3, 4], [0, 1, 2, 3, NAN]], dtype=float)
    forward = np.array([[0.01, 0.02, 0.03, 0.04, 0.05], [0.1, 0.1, 0.1, 0.1, 0.1]])
    result = quantile_returns(values, forward, n_quantiles=5)
    assert np.isnan(result.daily[1]).all()
    np.testing.assert_allclose(result.annual, np.array([0.01, 0.02, 0.03, 0.04, 0.05]) * 252)
    assert result.long_short_annual == pytest.approx(0.04 * 252)


def test_perfect_foresight_gives_increasing_groups_and_a_positive_long_short():
    rng = np.random.default_rng(2)
    forward = rng.normal(0, 0.02, size=(100, 50))
    forward[rng.random(forward.shape) < 0.1] = NAN
    result = quantile_returns(forward, forward)
    assert (np.diff(result.annual) > 0).all() and result.long_short_annual > 0
