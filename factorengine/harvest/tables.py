"""The harvest's tables as text, each its column names and rows of cells: the report renders them as HTML, the
dashboard sends them as JSON. No plotting library here."""
from __future__ import annotations

import math
from typing import Any, Mapping

from factorengine.harvest.markup import number, percent
from factorengine.harvest.results import HarvestResults
from factorengine.segments import SEGMENTS


def elites_rows(results: HarvestResults, manifest: Mapping[str, Any] | None) -> tuple[list[str], list[tuple]]:
    """The elites table as text: its columns and one row per elite (the report's and the dashboard's)."""
    files = {e["node_id"]: e["file"] for e in (manifest or {}).get("elites", [])}
    rows = [(e.node_id, files.get(e.node_id, ""),
             *(number(e.metrics.get(s, {}).get(m, math.nan)) for m in ("fs", "rank_ic") for s in SEGMENTS),
             "yes" if e.held_sign else "no", percent(e.stability and e.stability.share),
             (e.stability and e.stability.worst_year) or "–", number(e.significance and e.significance.deflated_t, 2))
            for e in results.elites]
    columns = ["node", "file", *(f"{s} {m}" for m in ("FS", "RankIC") for s in SEGMENTS), "held sign on test",
               "years RankIC > 0", "worst year", "deflated t"]
    return columns, rows


def backtest_rows(results: HarvestResults) -> tuple[list[str], list[tuple[str, str]]]:
    """The portfolio's annualized metrics on test as text: columns and rows (the report's and the dashboard's)."""
    m = results.backtest.metrics
    return ["metric", "value"], [
        ("annual return", percent(m.annual_return)), ("volatility", percent(m.volatility)),
        ("Sharpe", number(m.sharpe, 2)), ("excess annual return", percent(m.excess_annual_return)),
        ("information ratio", number(m.information_ratio, 2)), ("max drawdown", percent(m.max_drawdown)),
        ("mean turnover per day", percent(m.mean_turnover))]


def model_rows(results: HarvestResults) -> tuple[list[str], list[tuple]]:
    """The combinations' test metrics as text: columns and one row per model (the report's and the dashboard's)."""
    metrics = ("ic", "icir", "rank_ic", "rank_icir")
    rows = [(key.factors, key.combiner, model.trees or "–",
             *(number(getattr(model.metrics["test"], m)) for m in metrics))
            for key, model in results.models.items()]
    return ["factors", "combiner", "trees", "IC", "ICIR", "RankIC", "RankICIR"], rows
