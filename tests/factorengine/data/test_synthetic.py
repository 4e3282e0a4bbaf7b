"""The synthetic market: seeded, realistic enough, labelled synthetic, with two planted signals."""
import numpy as np
import pytest

from factorengine.data import PLANTED_SIGNALS, make_dataset, synthetic_panel
from factorengine.program import load_factor
from factorengine.score.fitness import daily_series


def test_synthetic_panel_is_repeatable_for_a_seed():
    a, b = synthetic_panel(seed=3), synthetic_panel(seed=3)
    np.testing.assert_array_equal(a.close, b.close)
    assert not np.array_equal(a.close, synthetic_panel(seed=4).close, equal_nan=True)


def test_synthetic_panel_says_it_is_synthetic():
    panel = synthetic_panel(seed=7, n_days=300, n_stocks=40)
    assert panel.is_synthetic and panel.source == "synthetic(seed=7, days=300, stocks=40)"


def test_synthetic_panel_has_consistent_bars():
    panel = synthetic_panel()
    alive = ~np.isnan(panel.close)
    for field in ("open", "close", "vwap"):
        values = panel.fields[field][alive]
        assert (panel.low[alive] <= values).all() and (values <= panel.high[alive]).all()
    assert (panel.volume[alive] > 0).all()


def test_synthetic_panel_has_fat_tails_and_volatility_clustering():
    panel = synthetic_panel(n_stocks=200)
    returns = panel.returns[~np.isnan(panel.returns)]
    excess_kurtosis = np.mean((returns - returns.mean()) ** 4) / returns.var() ** 2 - 3
    market = np.nanmean(panel.returns[1:], axis=1)
    abs_autocorr = np.corrcoef(np.abs(market[1:]), np.abs(market[:-1]))[0, 1]
    assert excess_kurtosis > 3
    assert abs_autocorr > 0.05


def test_synthetic_panel_has_a_market_factor():
    panel = synthetic_panel()
    pairwise = np.ma.corrcoef(np.ma.masked_invalid(panel.returns[1:, :30]).T)
    assert np.mean(pairwise[np.triu_indices(30, 1)]) > 0.2


def test_synthetic_panel_has_stocks_listing_late_and_delisting():
    alive = ~np.isnan(synthetic_panel().close)
    assert (~alive[0]).sum() == 13 and (~alive[-1]).sum() == 2
    assert alive.all(axis=0).sum() == 86


@pytest.mark.parametrize("signal", PLANTED_SIGNALS, ids=lambda s: s.name)
def test_planted_signal_reaches_its_target_ic(signal):
    dataset = make_dataset(synthetic_panel(n_stocks=300, seed=11))
    values = load_factor(signal.program, signal.name)(dataset.panel)
    measured = np.nanmean(daily_series(values, dataset.label).ic)
    assert measured == pytest.approx(signal.ic, abs=0.012)


def test_synthetic_panel_with_sectors_has_a_group_column_of_sector_mates_that_move_together():
    panel = synthetic_panel(n_sectors=3)
    assert dict(panel.groups) == {"sector": ("sector0", "sector1", "sector2")}
    assert panel.source == "synthetic(seed=0, days=756, stocks=100, sectors=3)"
    sector = np.nanmax(panel.sector, axis=0)
    np.testing.assert_array_equal(panel.sector[~np.isnan(panel.sector)], np.broadcast_to(sector, panel.shape)[
        ~np.isnan(panel.sector)])  # one sector per stock, for life
    corr = np.ma.corrcoef(np.ma.masked_invalid(panel.returns[1:]).T).filled(np.nan)
    mates = sector[:, None] == sector[None, :]
    np.fill_diagonal(mates, False)
    assert np.nanmean(corr[mates]) > np.nanmean(corr[~mates & ~np.eye(len(sector), dtype=bool)]) + 0.05


def test_synthetic_panel_without_sectors_is_the_one_a_seed_always_gave():
    assert synthetic_panel(seed=5, n_days=100, n_stocks=10).fingerprint() == "c7c7609ba58534e5"  # as before sectors
