"""Load a long-format daily panel (Parquet or CSV) into a validated `Panel`."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from factorengine.data.panel import PRICE_FIELDS, REQUIRED_COLUMNS, Panel
from factorengine.errors import FactorEngineError

logger = logging.getLogger(__name__)

_MAX_ROWS_SHOWN = 5


class DataError(FactorEngineError, ValueError):
    """A panel file that cannot be used; the message names the file, the column, the rows and the fix."""


def resolve_data_path(path: str | Path) -> Path:
    """Return the panel file for `path`: the file itself, or the one `*_daily` panel file in a directory."""
    path = Path(path).expanduser()
    if not path.is_dir():
        return path
    candidates = sorted(p for ext in ("parquet", "csv", "csv.gz") for p in path.glob(f"*_daily.{ext}"))
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "none"
        raise DataError(f"{path}: a data directory must hold exactly one *_daily.parquet/.csv/.csv.gz "
                        f"panel file (found: {found}); pass the file itself with --data")
    return candidates[0]


def load_panel(path: str | Path) -> Panel:
    """Read, validate and pivot a long panel file (`date, symbol, open, high, low, close, volume`, ...)."""
    path = resolve_data_path(path)
    frame = _read(path)
    frame, groups = _validate(frame, path)
    return _pivot(frame, groups, path)


def _read(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    if not path.exists():
        raise DataError(f"{path}: no such file; check --data or FACTORENGINE_DATA")
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(path)
        elif name.endswith((".csv", ".csv.gz")):
            frame = pd.read_csv(path, dtype={"symbol": str})
        else:
            raise DataError(f"{path}: unknown file type; use .parquet, .csv or .csv.gz")
    except (OSError, ValueError, pd.errors.ParserError, ImportError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: cannot read the file ({type(exc).__name__}: {exc}); "
                        "check that it is a valid Parquet or CSV file") from exc
    if frame.empty:
        raise DataError(f"{path}: the file has no rows; a panel needs at least one (date, symbol) row")
    return frame


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:_MAX_ROWS_SHOWN])
    more = f" and {len(rows) - _MAX_ROWS_SHOWN} more" if len(rows) > _MAX_ROWS_SHOWN else ""
    return f"{len(rows)} row(s) (data rows {shown}{more}, counted from 0)"


def _validate(frame: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    """The columns parsed (numbers as float64, text as group codes) and each group column's labels."""
    frame = frame.rename(columns=str.lower)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing required column(s) {', '.join(missing)}; "
                        f"found {', '.join(map(str, frame.columns))}. A panel needs {', '.join(REQUIRED_COLUMNS)}")
    out = pd.DataFrame({"date": _parse_dates(frame["date"], path),
                        "symbol": frame["symbol"].astype(str).to_numpy()})
    groups = {}
    for column in frame.columns.drop(["date", "symbol"]):
        values = _parse_numeric(frame[column], column, path)
        if values is None:
            values, groups[column] = _group_codes(frame[column])
            logger.info("%s: read the text column %r as a group column of %d labels", path, column,
                        len(groups[column]))
        out[column] = values
    _check_values(out, path)
    return out, groups


def _parse_dates(column: pd.Series, path: Path) -> np.ndarray:
    dates = pd.to_datetime(column, errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        raise DataError(f"{path}: column 'date' has unparseable dates in {_rows(bad)}; "
                        "write dates as YYYY-MM-DD")
    return dates.to_numpy().astype("datetime64[D]")


def _parse_numeric(column: pd.Series, name: str, path: Path) -> np.ndarray | None:
    """Return the column as float64, or None for an optional non-numeric column (a group column)."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    values = pd.to_numeric(column, errors="coerce")
    bad = (values.isna() & column.notna()).to_numpy()
    if name not in REQUIRED_COLUMNS and 0 < bad.sum() == column.notna().sum():  # text wherever not blank
        return None
    if bad.any():
        raise DataError(f"{path}: column {name!r} has non-numeric values in {_rows(bad)}; "
                        f"fix or blank those cells (a blank cell is read as missing)")
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _group_codes(column: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each cell's label as its index among the sorted labels (float64, NaN where blank), and the labels."""
    codes, labels = pd.factorize(column, sort=True)
    return np.where(codes < 0, np.nan, codes.astype(np.float64)), tuple(map(str, labels))


def _check_values(frame: pd.DataFrame, path: Path) -> None:
    for column in PRICE_FIELDS:
        bad = (frame[column].to_numpy() <= 0)
        if bad.any():
            raise DataError(f"{path}: column {column!r} has non-positive prices in {_rows(bad)}; "
                            "prices must be > 0 (leave a cell blank when there is no price)")
    inverted = (frame["high"].to_numpy() < frame["low"].to_numpy())
    if inverted.any():
        raise DataError(f"{path}: column 'high' is below 'low' in {_rows(inverted)}; fix the bars")
    negative = frame["volume"].to_numpy() < 0
    if negative.any():
        raise DataError(f"{path}: column 'volume' is negative in {_rows(negative)}; volume must be >= 0")


def _pivot(frame: pd.DataFrame, groups: dict[str, tuple[str, ...]], path: Path) -> Panel:
    day, dates = pd.factorize(frame["date"], sort=True)
    stock, symbols = pd.factorize(frame["symbol"], sort=True)
    cell = day.astype(np.int64) * len(symbols) + stock
    duplicated = np.bincount(cell, minlength=len(dates) * len(symbols))[cell] > 1
    if duplicated.any():
        raise DataError(f"{path}: duplicate (date, symbol) pairs in {_rows(duplicated)}; keep one row per pair")
    dates = np.asarray(dates, dtype="datetime64[D]")
    symbols = np.asarray(symbols, dtype=str)
    tradable = frame["volume"].to_numpy() > 0
    fields = {}
    for name in frame.columns.drop(["date", "symbol"]):
        wide = np.full((len(dates), len(symbols)), np.nan)
        wide[day[tradable], stock[tradable]] = frame[name].to_numpy()[tradable]
        fields[name] = wide
    if (~tradable).any():
        logger.info("%s: masked %d zero-volume row(s) as not tradable", path, int((~tradable).sum()))
    return Panel(dates, symbols, add_derived_fields(fields, str(path)), str(path), groups)


def add_derived_fields(fields: dict[str, np.ndarray], source: str) -> dict[str, np.ndarray]:
    """Add `returns` (close-to-close) and, when absent, `vwap` as the (high+low+close)/3 proxy."""
    close = fields["close"]
    returns = np.full_like(close, np.nan)
    returns[1:] = close[1:] / close[:-1] - 1.0
    fields = {**fields, "returns": returns}
    if "vwap" not in fields:
        logger.warning("%s has no vwap column: using the proxy (high + low + close) / 3", source)
        fields["vwap"] = (fields["high"] + fields["low"] + close) / 3.0
    return fields
