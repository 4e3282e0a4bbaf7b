"""A seeded synthetic daily market with two planted signals, for tests and the built-in default.

Returns have a market factor with stock betas, GARCH(1,1) volatility clustering and Student-t fat tails;
stocks list late (IPOs) or delist early; volume is persistent and rises on big-move days. Two signals
known at the close of day t are planted into the return from close t+1 to close t+2 (the horizon-1
label of day t), each with a target daily cross-sectional IC.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from factorengine.data.load import add_derived_fields
from factorengine.data.panel import Panel


@dataclass(frozen=True)
class PlantedSignal:
    """A signal planted into the synthetic label: `program` computes it, `ic` is its target daily IC."""

    name: str
    ic: float
    program: str


PLANTED_SIGNALS = (
    PlantedSignal("reversal_5d", 0.05, '''"""Planted: 5-day losers gain the next day."""
from factorengine.ops import delay


def factor(d, window=5):
    return -(d.close / delay(d.close, window) - 1)
'''),
    PlantedSignal("volume_surge_20d", 0.03, '''"""Planted: volume far above its 20-day mean precedes gains."""
from factorengine.ops import log, ts_mean


def factor(d, window=20):
    return log(d.volume / ts_mean(d.volume, window))
'''),
)
_REVERSAL_WINDOW, _VOLUME_WINDOW = 5, 20


def synthetic_panel(*, n_days: int = 756, n_stocks: int = 100, seed: int = 0, n_sectors: int = 0) -> Panel:
    """Generate a synthetic panel (float64 [n_days, n_stocks] fields, NaN outside each stock's life).

    n_sectors > 0 adds a group column `sector` (labels "sector0", ...; one sector per stock) and each stock's
    sector return to its own; with n_sectors = 0 a seed gives the panel it always gave.
    """
    rng = np.random.default_rng(seed)
    idio_vol = np.exp(rng.normal(np.log(0.016), 0.35, n_stocks))
    beta = rng.uniform(0.5, 1.5, n_stocks)
    market = _garch(rng, n_days, np.array([0.01]))[:, 0]
    shocks = _garch(rng, n_days, idio_vol)
    returns = beta * market[:, None] + shocks
    sector = _add_sectors(np.random.default_rng([seed, n_sectors]), returns, n_sectors) if n_sectors else None
    log_volume = np.log(rng.lognormal(13.0, 1.0, n_stocks)) + _volume_noise(rng, shocks, idio_vol)
    close = _plant_signals(returns, log_volume, rng.uniform(20, 200, n_stocks))
    fields = _bars(rng, close, idio_vol)
    fields["volume"] = np.round(np.exp(log_volume))
    groups, sectors = {}, ""
    if sector is not None:
        fields["sector"] = np.broadcast_to(sector, returns.shape).astype(np.float64)
        groups["sector"], sectors = tuple(f"sector{k}" for k in range(n_sectors)), f", sectors={n_sectors}"
    _mask_lives(rng, fields)
    source = f"synthetic(seed={seed}, days={n_days}, stocks={n_stocks}{sectors})"
    dates = np.busday_offset(np.datetime64("2016-01-04", "D"), np.arange(n_days), roll="forward")
    symbols = np.array([f"S{i:04d}" for i in range(n_stocks)])
    return Panel(dates, symbols, add_derived_fields(fields, source), source, groups)


def _add_sectors(rng: np.random.Generator, returns: np.ndarray, n_sectors: int) -> np.ndarray:
    """Give each stock one of n_sectors sectors (codes [n_stocks]) and add its sector's GARCH return to its own."""
    sector = rng.integers(0, n_sectors, returns.shape[1])
    returns += _garch(rng, len(returns), np.full(n_sectors, 0.008))[:, sector]
    return sector


def _garch(rng: np.random.Generator, n_days: int, vol: np.ndarray) -> np.ndarray:
    """Student-t(4) shocks [n_days, len(vol)] with GARCH(1,1) variance around vol**2."""
    alpha, persistence = 0.08, 0.97
    omega = vol**2 * (1 - persistence)
    eps = rng.standard_t(4, size=(n_days, len(vol))) / np.sqrt(2.0)
    var = vol**2
    out = np.empty_like(eps)
    for t in range(n_days):
        out[t] = np.sqrt(var) * eps[t]
        var = omega + alpha * out[t] ** 2 + (persistence - alpha) * var
    return out


def _volume_noise(rng: np.random.Generator, shocks: np.ndarray, vol: np.ndarray) -> np.ndarray:
    """Persistent AR(1) log-volume deviations that rise with the size of the day's move."""
    noise = rng.normal(0, 0.25, shocks.shape) + 0.3 * np.abs(shocks) / vol
    out = np.empty_like(noise)
    out[0] = noise[0]
    for t in range(1, len(noise)):
        out[t] = 0.8 * out[t - 1] + noise[t]
    return out


def _plant_signals(returns: np.ndarray, log_volume: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Compound returns into closes, adding each planted signal of day t to the return of day t + 2."""
    close = np.empty_like(returns)
    close[0] = start
    for t in range(1, len(returns)):
        signal_day = t - 2
        if signal_day >= _VOLUME_WINDOW:
            reversal = -(close[signal_day] / close[signal_day - _REVERSAL_WINDOW] - 1)
            window = np.exp(log_volume[signal_day - _VOLUME_WINDOW + 1:signal_day + 1])
            surge = np.log(np.exp(log_volume[signal_day]) / window.mean(axis=0))
            returns[t] += returns[t].std() * (PLANTED_SIGNALS[0].ic * _zscore(reversal)
                                      + PLANTED_SIGNALS[1].ic * _zscore(surge))
        close[t] = close[t - 1] * np.maximum(1 + returns[t], 0.05)
    return close


def _zscore(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def _bars(rng: np.random.Generator, close: np.ndarray, vol: np.ndarray) -> dict[str, np.ndarray]:
    """Open, high, low and vwap consistent with the closes (low <= open, close, vwap <= high)."""
    prev = np.vstack([close[:1], close[:-1]])
    gap = rng.normal(0, 0.4, close.shape) * vol
    open_ = prev * (1 + 0.3 * (close / prev - 1) + gap)
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.5, close.shape)) * vol)
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.5, close.shape)) * vol)
    weight = rng.uniform(0.2, 0.8, close.shape)
    vwap = weight * (open_ + close) / 2 + (1 - weight) * (high + low) / 2
    return {"open": open_, "high": high, "low": low, "close": close, "vwap": vwap}


def _mask_lives(rng: np.random.Generator, fields: dict[str, np.ndarray]) -> None:
    """Blank the cells before a late listing (15% of stocks) and after an early delisting (5%)."""
    n_days, n_stocks = fields["close"].shape
    alive = np.ones((n_days, n_stocks), dtype=bool)
    day = np.arange(n_days)[:, None]
    ipo = rng.random(n_stocks) < 0.15
    alive &= ~(ipo & (day < rng.integers(20, n_days // 2, n_stocks)))
    delist = rng.random(n_stocks) < 0.05
    alive &= ~(delist & (day >= rng.integers(n_days // 2, n_days - 20, n_stocks)))
    for values in fields.values():
        values[~alive] = np.nan
