"""The report's model section, drawn from the harvest's results (test figures): the elites' LightGBM model in a
TopkDropout portfolio and as a long-short spread, its cost sensitivity, and every combination (LightGBM and the
rank average, on the elites and on the seeds) per year and side by side."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from factorengine.harvest.backtest import drawdown, max_drawdown
from factorengine.harvest.markup import image, number, percent, table
from factorengine.harvest.results import HarvestResults
from factorengine.harvest.tables import backtest_rows, model_rows


def model_section(results: HarvestResults) -> str:
    """Every figure and table of the elites' model on test."""
    return "\n".join([equity_figure(results), long_short_figure(results), backtest_table(results),
                      cost_table(results), yearly_table(results), model_table(results)])


def equity_figure(results: HarvestResults) -> str:
    """Compounded net value of the model's TopkDropout portfolio on test against the equal-weight benchmark."""
    backtest = results.backtest
    dates = _test_dates(results)
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    ax = fig.subplots()
    for name, series in (("model, net of costs", backtest.net), ("equal-weight benchmark", backtest.benchmark)):
        ax.plot(dates, np.cumprod(1 + np.nan_to_num(series)), label=name)
    ax.axhline(1, color="black", linewidth=0.8)
    ax.set(title=f"TopkDropout(k={backtest.k}, n_drop={backtest.n_drop}, cost {backtest.cost_bps} bps) "
                 "on test", ylabel="value of 1 invested")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return "<h3>Model portfolio</h3>\n" + image(fig, "equity curve of the model portfolio against the benchmark")


def long_short_figure(results: HarvestResults) -> str:
    """The model's top fifth minus bottom fifth compounded on test (no costs), and its drawdown below."""
    daily = np.nan_to_num(results.backtest.long_short)
    value, fall = np.cumprod(1 + daily), drawdown(daily)
    dates = _test_dates(results)
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    curve, under = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    curve.plot(dates, value, color="#4c72b0")
    curve.axhline(1, color="black", linewidth=0.8)
    curve.set(title="long-short: top fifth minus bottom fifth by the model's score, daily, before costs",
              ylabel="value of 1 invested")
    curve.grid(alpha=0.3)
    under.fill_between(dates, fall, 0, color="#c44e52", alpha=0.5)
    under.yaxis.set_major_formatter(PercentFormatter(1.0))
    under.set(ylabel="drawdown")
    under.grid(alpha=0.3)
    return ("<h3>Long-short spread</h3>\n<p>Largest drawdown " + percent(max_drawdown(daily))
            + ".</p>\n" + image(fig, "long-short equity curve of the model with its drawdown"))


def backtest_table(results: HarvestResults) -> str:
    """The portfolio's annualized metrics on test."""
    return "<h3>Backtest metrics (test)</h3>\n" + table(*backtest_rows(results))


def cost_table(results: HarvestResults) -> str:
    """The same portfolio's net annual return, excess return and Sharpe at each trading cost."""
    rows = [(f"{cost:g}", percent(m.annual_return), percent(m.excess_annual_return), number(m.sharpe, 2))
            for cost, m in sorted(results.backtest.by_cost.items())]
    return ("<h3>Cost sensitivity (test)</h3>\n"
            + table(["cost (bps per unit traded)", "net annual return", "excess over benchmark", "Sharpe"], rows))


def yearly_table(results: HarvestResults) -> str:
    """Mean daily RankIC per calendar year of test, for each combination of the elites and of the seeds."""
    years = sorted({year for model in results.models.values() for year in model.test_years})
    rows = [(year, *(number(model.test_years.get(year)) for model in results.models.values())) for year in years]
    return ("<h3>RankIC per year (test)</h3>\n<p>Mean daily RankIC of each model in each calendar year of the test "
            "days (years with fewer than 20 scored days left out).</p>\n"
            + table(["year", *map(str, results.models)], rows))


def model_table(results: HarvestResults) -> str:
    """Each combination (LightGBM, rank average) of the elites and of the seeds: IC, ICIR, RankIC, RankICIR on
    test."""
    return ("<h3>Model against the seed baseline (test)</h3>\n<p>LightGBM is fitted on the train days alone with "
            "a fixed number of rounds (the elites were chosen on the valid days, so nothing is tuned there); the "
            "rank average is each day's mean percentile rank of the factors, with no fitted weights.</p>\n"
            + table(*model_rows(results)))


def _test_dates(results: HarvestResults) -> pd.DatetimeIndex:
    start, stop = results.splits["test"]
    return pd.to_datetime(results.dates[start:stop])
