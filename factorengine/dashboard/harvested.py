"""What the dashboard shows of a harvest: the verdict, the elites and the models against the seeds' on test, as
the report's tables. The harvest's libraries load only once a run has been harvested."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from factorengine.harvest import HARVEST_DIR, RESULTS


@dataclass(frozen=True)
class Table:
    """A table as text: its column names and rows of cells."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class HarvestView:
    """A harvest's verdict line (None in results written before verdicts) and its tables."""

    verdict: str | None
    elites: Table
    models: Table
    backtest: Table


def results_path(run_dir: Path) -> Path:
    """Where a run's harvest results are; the run counts as harvested once the file exists."""
    return run_dir / HARVEST_DIR / RESULTS


def read_harvest(run_dir: Path) -> HarvestView | None:
    """The harvest of the run in `run_dir`, None before `factorengine harvest`; ValueError when its files are not
    valid."""
    if not results_path(run_dir).is_file():
        return None
    from factorengine.harvest.results import load_harvest
    from factorengine.harvest.tables import backtest_rows, elites_rows, model_rows

    results, manifest = load_harvest(run_dir / HARVEST_DIR)
    if results is None:  # removed since the check above
        return None
    return HarvestView(results.verdict and results.verdict.line(), _table(*elites_rows(results, manifest)),
                       _table(*model_rows(results)), _table(*backtest_rows(results)))


def _table(columns: list[str], rows: list[tuple]) -> Table:
    return Table(tuple(columns), tuple(tuple(str(cell) for cell in row) for row in rows))
