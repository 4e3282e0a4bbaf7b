"""What a harvest leaves for the report: every elite's daily RankIC and quantile returns, the models' metrics and
yearly test RankIC, the verdict, the backtest (with its cost sensitivity), and the elites' correlations, as one
typed value written to and read back from `results.json` in the harvest directory.

Series are float arrays, NaN where unknown; on disk a non-finite entry of a series is `null`, scalars keep
their `NaN` token (`json.dumps(allow_nan=True)`).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, NamedTuple, Sequence

import numpy as np

from factorengine.harvest import MANIFEST, RESULTS
from factorengine.harvest.backtest import PortfolioMetrics
from factorengine.harvest.chance import Significance
from factorengine.harvest.stability import Stability
from factorengine.harvest.verdict import Difference, Verdict
from factorengine.score.metrics import SegmentMetrics

Factors = Literal["elites", "seeds"]
Combiner = Literal["LightGBM", "rank average"]


class ModelKey(NamedTuple):
    """Which factors a model combines and how."""

    factors: Factors
    combiner: Combiner

    def __str__(self) -> str:
        return f"{self.combiner} on {self.factors}"


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

    @property
    def held_sign(self) -> bool:
        """Whether its oriented test RankIC is above 0 (the sign it was chosen with on train and valid)."""
        return self.metrics.get("test", {}).get("rank_ic", math.nan) > 0


@dataclass(frozen=True)
class ModelSummary:
    """A combination: its metrics per segment, and LightGBM's trees and gain per feature (0 and empty otherwise)."""

    metrics: Mapping[str, SegmentMetrics]
    trees: int
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
    models: Mapping[ModelKey, ModelSummary]
    backtest: BacktestResult
    threshold: float  # valid FS an elite had to clear
    cleared: int  # programs whose valid FS cleared it
    correlations: np.ndarray  # |mean daily rank correlation| between elites on valid, [K, K] in `elites` order
    verdict: Verdict | None = None  # None in results written before it

    @property
    def held_sign_share(self) -> float:
        """The share of elites whose oriented test RankIC is above 0."""
        return sum(e.held_sign for e in self.elites) / len(self.elites) if self.elites else math.nan


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
        models=_models(plain["models"]),
        backtest=BacktestResult(b["k"], b["n_drop"], b["cost_bps"], PortfolioMetrics(**b["metrics"]),
                                _array(b["net"]), _array(b["benchmark"]), _array(b["turnover"]),
                                _array(b["long_short"]),
                                {float(cost): PortfolioMetrics(**m) for cost, m in b["by_cost"].items()}),
        threshold=plain["threshold"], cleared=plain["cleared"],
        correlations=np.array(plain["correlations"], dtype=float).reshape(len(plain["elites"]), len(plain["elites"])),
        verdict=_verdict(plain.get("verdict")))


def _models(plain: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]]) -> dict[ModelKey, ModelSummary]:
    """The models of a results file; one written before the rank average held LightGBM models by factors' name."""
    if isinstance(plain, Mapping):
        plain = [{**model, "factors": name, "combiner": "LightGBM", "trees": model["best_iteration"]}
                 for name, model in plain.items()]
    return {ModelKey(m["factors"], m["combiner"]):
            ModelSummary({segment: SegmentMetrics(**x) for segment, x in m["metrics"].items()}, m["trees"],
                         m["importance"], {int(year): ic for year, ic in m["test_years"].items()})
            for m in plain}


def _verdict(plain: Mapping[str, Any] | None) -> Verdict | None:
    if plain is None:
        return None
    return Verdict(plain["first_day"], plain["last_day"],
                   {name: Difference(**d) for name, d in plain["differences"].items()})


def load_harvest(harvest_dir: Path) -> tuple[HarvestResults | None, dict | None]:
    """The results and manifest.json in `harvest_dir`, each None when absent."""
    return load(harvest_dir), read_json(harvest_dir / MANIFEST)


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
            "models": [{"factors": key.factors, "combiner": key.combiner,
                        "metrics": {s: asdict(m) for s, m in model.metrics.items()}, "trees": model.trees,
                        "importance": dict(model.importance),
                        "test_years": {str(year): ic for year, ic in model.test_years.items()}}
                       for key, model in results.models.items()],
            "verdict": results.verdict and asdict(results.verdict),
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
