"""What a harvest leaves for the report: every elite's daily RankIC and quantile returns, the models' metrics and
yearly test RankIC, the backtest (with its cost sensitivity), and the elites' correlations, as one typed value written to and read back from `results.json` in the harvest directory.

Series are float arrays, NaN where unknown; on disk a non-finite entry of a series is `null`, scalars keep
their `NaN` token (`json.dumps(allow_nan=True)`).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from factorengine.harvest.backtest import PortfolioMetrics
from factorengine.harvest.chance import Significance
from factorengine.harvest.stability import Stability
from factorengine.score.fitness import SegmentMetrics

HARVEST_DIR = "harvest"  # where `factorengine harvest` writes in a run directory unless told otherwise
RESULTS = "results.json"


@dataclass(frozen=True, eq=False)
class EliteResult:
    """One elite as the report shows it; `stability` and `significance` are None in results written without them."""

    node_id: int
    metrics: Mapping[str, Mapping[str, float]]  # "train", "valid", "test" -> metric -> value
    stability: Stability | None
    significance: Significance | None
    daily_rank_ic: np.ndarray  # [T] over all days
    quantile_annual: np.ndarray  # [5] annualized test return per quantile, Q1 (lowest factor) first
    long_short_annual: float  # Q5 minus Q1


@dataclass(frozen=True)
class ModelSummary:
    """A LightGBM combination: its metrics per segment, trees kept and gain per feature."""

    metrics: Mapping[str, SegmentMetrics]
    best_iteration: int
    importance: Mapping[str, float]
    test_years: Mapping[int, float]  # calendar year -> mean daily RankIC on its test days (years of >= 20 days)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """The elites' model on test: a TopkDropout portfolio's settings, metrics and daily series [test days], the
    model's long-short daily return (top fifth minus bottom fifth of its scores), and the portfolio at other costs."""

    k: int
    n_drop: int
    cost_bps: float
    metrics: PortfolioMetrics
    net: np.ndarray
    benchmark: np.ndarray
    turnover: np.ndarray
    long_short: np.ndarray  # NaN on days with fewer than 5 stocks
    by_cost: Mapping[float, PortfolioMetrics]  # cost in bps -> the same portfolio's metrics at that cost


@dataclass(frozen=True, eq=False)
class HarvestResults:
    """Everything the report plots of a harvest."""

    dates: tuple[str, ...]
    splits: Mapping[str, tuple[int, int]]  # segment -> day range [start, stop)
    elites: tuple[EliteResult, ...]
    models: Mapping[str, ModelSummary]  # "elites", "seeds"
    backtest: BacktestResult
    threshold: float  # valid FS an elite had to clear
    cleared: int  # programs whose valid FS cleared it
    correlations: np.ndarray  # |mean daily rank correlation| between elites on valid, [K, K] in `elites` order


def save(results: HarvestResults, out_dir: Path) -> Path:
    """Write `results` as `out_dir`/results.json; return its path."""
    path = out_dir / RESULTS
    path.write_text(json.dumps(_plain(results), allow_nan=True) + "\n")
    return path


def load(harvest_dir: Path) -> HarvestResults | None:
    """The results in `harvest_dir`, None when there are none; ValueError when the file is not valid JSON or
    lacks a field (written by an older FactorEngine)."""
    path = harvest_dir / RESULTS
    plain = read_json(path)
    if plain is None:
        return None
    try:
        return _results(plain)
    except KeyError as error:
        raise ValueError(f"{path} has no field {error}: it was written by an older FactorEngine; "
                         "run `factorengine harvest` again") from error


def _results(plain: Mapping[str, Any]) -> HarvestResults:
    b = plain["backtest"]
    return HarvestResults(
        dates=tuple(plain["dates"]), splits={s: (start, stop) for s, (start, stop) in plain["splits"].items()},
        elites=tuple(_elite(e) for e in plain["elites"]),
        models={name: ModelSummary({s: SegmentMetrics(**m) for s, m in model["metrics"].items()},
                                   model["best_iteration"], model["importance"],
                                   {int(year): ic for year, ic in model["test_years"].items()})
                for name, model in plain["models"].items()},
        backtest=BacktestResult(b["k"], b["n_drop"], b["cost_bps"], PortfolioMetrics(**b["metrics"]),
                                _array(b["net"]), _array(b["benchmark"]), _array(b["turnover"]),
                                _array(b["long_short"]),
                                {float(cost): PortfolioMetrics(**m) for cost, m in b["by_cost"].items()}),
        threshold=plain["threshold"], cleared=plain["cleared"],
        correlations=np.array(plain["correlations"], dtype=float).reshape(len(plain["elites"]), len(plain["elites"])))


def read_json(path: Path) -> dict | None:
    """The JSON object in `path`, None when there is no file; ValueError when it is not valid JSON."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}); run `factorengine harvest` again") from error


def _plain(results: HarvestResults) -> dict:
    """`results` as the JSON object of results.json (key order included)."""
    b = results.backtest
    return {"dates": list(results.dates),
            "splits": {s: list(days) for s, days in results.splits.items()},
            "elites": [{"node_id": e.node_id, "metrics": e.metrics,
                        "stability": _asdict(e.stability), "significance": _asdict(e.significance),
                        "daily_rank_ic": _list(e.daily_rank_ic), "quantile_annual": _list(e.quantile_annual),
                        "long_short_annual": e.long_short_annual}
                       for e in results.elites],
            "models": {name: {"metrics": {s: asdict(m) for s, m in model.metrics.items()},
                              "best_iteration": model.best_iteration, "importance": dict(model.importance),
                              "test_years": {str(year): ic for year, ic in model.test_years.items()}}
                       for name, model in results.models.items()},
            "backtest": {"k": b.k, "n_drop": b.n_drop, "cost_bps": b.cost_bps, "metrics": asdict(b.metrics),
                         "net": _list(b.net), "benchmark": _list(b.benchmark), "turnover": _list(b.turnover),
                         "long_short": _list(b.long_short),
                         "by_cost": {repr(cost): asdict(m) for cost, m in b.by_cost.items()}},
            "threshold": results.threshold, "cleared": results.cleared,
            "correlations": np.asarray(results.correlations, dtype=float).tolist()}


def _elite(plain: Mapping[str, Any]) -> EliteResult:
    stability, significance = plain.get("stability"), plain.get("significance")
    return EliteResult(
        plain["node_id"], plain["metrics"],
        None if stability is None else Stability(**{**stability, "years": {int(year): ic for year, ic in
                                                                            stability["years"].items()}}),
        None if significance is None else Significance(**significance),
        _array(plain["daily_rank_ic"]), _array(plain["quantile_annual"]), plain["long_short_annual"])


def _asdict(value: Stability | Significance | None) -> dict | None:
    return None if value is None else asdict(value)


def _list(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def _array(values: Sequence[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=float)
