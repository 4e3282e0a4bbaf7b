"""The report's harvest section, drawn from the harvest's results: elites, their coverage, correlations, RankIC over
time and quantile returns, then the elites' model (`portfolio_section`)."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from factorengine.data import SEGMENTS
from factorengine.harvest.chance import SIGNIFICANT_T
from factorengine.harvest.markup import image, percent, table
from factorengine.harvest.portfolio_section import model_section
from factorengine.harvest.results import HarvestResults
from factorengine.harvest.tables import elites_rows

SEGMENT_COLOURS = {"train": "#4c72b0", "valid": "#dd8452", "test": "#55a868"}


def harvest_section(results: HarvestResults | None, manifest: Mapping[str, Any] | None, run_dir: Path) -> str:
    """Elites, their RankIC over time and quantile returns, the model's backtest and its comparison to seeds."""
    if results is None:
        command = html.escape(f"factorengine harvest {run_dir}")
        return ("<h2>Harvest</h2>\n<p class=\"note\">No harvest results yet: run <code>"
                f"{command}</code> first, then write this report again.</p>")
    return "\n".join(["<h2>Harvest</h2>", elites_table(results, manifest), coverage_table(results),
                      correlation_figure(results), rank_ic_figure(results), quantile_figure(results),
                      model_section(results)])


def elites_table(results: HarvestResults, manifest: Mapping[str, Any] | None) -> str:
    """Each elite's exported file, FS and RankIC on train, valid and test, whether it held its sign on test, its
    yearly stability and its deflated t (explained under the table)."""
    columns, rows = elites_rows(results, manifest)
    tries = (manifest or {}).get("tries")
    return (f"<h3>Elites</h3>\n<p>{len(rows)} elite factor(s), oriented so that higher values predict higher "
            f"returns; {percent(results.held_sign_share)} of them held their sign on test (test RankIC above "
            "0).</p>\n" + table(columns, rows)
            + f'\n<p class="note">{deflated_t_sentence(tries)}</p>')


def deflated_t_sentence(tries: int | None) -> str:
    """What "deflated t" means, for a run that tried `tries` parameter sets (None: unknown)."""
    n = tries if tries is not None else "N"
    return (f"deflated t: the valid RankIC t-statistic corrected for the {n} parameter sets the run tried; above "
            f"{SIGNIFICANT_T} it beats the best of {n} noise factors at 5 %.")


def coverage_table(results: HarvestResults) -> str:
    """Each elite's mean daily coverage (share of listed stocks with a value and a label) and scored days."""
    rows = [(e.node_id, *(percent(e.metrics.get(s, {}).get("coverage")) for s in SEGMENTS),
             *(e.metrics.get(s, {}).get("n_days", "–") for s in SEGMENTS)) for e in results.elites]
    return ("<h3>Coverage</h3>\n<p>Coverage: the mean daily share of listed stocks an elite gives a value; scored "
            "days: the days with enough stocks to compute its RankIC.</p>\n"
            + table(["node", *(f"{s} coverage" for s in SEGMENTS), *(f"{s} scored days" for s in SEGMENTS)], rows))


def correlation_figure(results: HarvestResults) -> str:
    """The elites' |mean daily rank correlation| on valid as a heatmap, each cell labelled."""
    names = [f"node {e.node_id}" for e in results.elites]
    size = 1.6 + 0.6 * len(names)
    fig = Figure(figsize=(size + 1.2, size), layout="constrained")
    ax = fig.subplots()
    shown = ax.imshow(results.correlations, vmin=0, vmax=1, cmap="Blues")
    for (row, column), value in np.ndenumerate(results.correlations):
        ax.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize="small",
                color="white" if value > 0.6 else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set(title="|rank correlation| between elites on valid")
    fig.colorbar(shown, ax=ax, shrink=0.8)
    return "<h3>Correlation between elites</h3>\n" + image(fig, "correlation heatmap of the elites")


def rank_ic_figure(results: HarvestResults) -> str:
    """Cumulative daily RankIC of each elite over all days, the segments shaded."""
    dates = pd.to_datetime(results.dates)
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax = fig.subplots()
    for segment in SEGMENTS:
        start, stop = results.splits[segment]
        ax.axvspan(dates[start], dates[stop - 1], color=SEGMENT_COLOURS[segment], alpha=0.12, label=segment)
    for elite in results.elites:
        ax.plot(dates, np.nancumsum(elite.daily_rank_ic), label=f"node {elite.node_id}")
    ax.set(title="cumulative daily RankIC", ylabel="sum of daily RankIC")
    ax.legend(fontsize="small", ncol=2, loc="upper left")
    ax.grid(alpha=0.3)
    return "<h3>RankIC over time</h3>\n" + image(fig, "cumulative daily RankIC of each elite")


def quantile_figure(results: HarvestResults) -> str:
    """Annualized test returns of each elite's five quantiles (Q1 lowest factor) and of Q5 minus Q1."""
    elites = results.elites
    fig = Figure(figsize=(max(6.0, 1.4 * len(elites) + 2), 3.8), layout="constrained")
    ax = fig.subplots()
    width = 0.13
    groups = np.arange(len(elites))
    colours = ["#d7191c", "#fdae61", "#bababa", "#a6d96a", "#1a9641"]
    for q, colour in enumerate(colours):
        ax.bar(groups + (q - 2.75) * width, [e.quantile_annual[q] for e in elites], width, color=colour,
               label=f"Q{q + 1}")
    ax.bar(groups + 2.75 * width, [e.long_short_annual for e in elites], width, color="#333333",
           label="Q5 − Q1")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(groups, [f"node {e.node_id}" for e in elites])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(title="annualized return by factor quantile on test", ylabel="annual return")
    fig.legend(fontsize="small", ncols=6, loc="outside lower center")
    return "<h3>Quantile returns</h3>\n" + image(fig, "quantile annual returns per elite")
