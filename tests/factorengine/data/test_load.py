"""Loading a long panel file: pivoting, masking, derived fields and one clear error per bad input."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from factorengine.data import DataError, load_panel, resolve_data_path


def _frame() -> pd.DataFrame:
    rows = []
    for day, date in enumerate(["2020-01-02", "2020-01-03", "2020-01-06"]):
        for stock, symbol in enumerate(["AAA", "BBB"]):
            close = 10.0 + day + stock
            rows.append({"date": date, "symbol": symbol, "open": close - 0.5, "high": close + 1,
                         "low": close - 1, "close": close, "volume": 100.0 * (day + 1)})
    return pd.DataFrame(rows)


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "panel.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


def test_load_panel_pivots_long_rows_into_day_by_stock_arrays(tmp_path):
    panel = load_panel(_write(tmp_path, _frame()))
    assert panel.shape == (3, 2)
    assert list(panel.symbols) == ["AAA", "BBB"]
    assert panel.dates[0] == np.datetime64("2020-01-02")
    np.testing.assert_array_equal(panel.close, [[10, 11], [11, 12], [12, 13]])


def test_load_panel_reads_parquet_and_csv_alike(tmp_path):
    from_csv = load_panel(_write(tmp_path, _frame(), "p.csv.gz"))
    from_parquet = load_panel(_write(tmp_path, _frame(), "p.parquet"))
    np.testing.assert_array_equal(from_csv.close, from_parquet.close)


def test_load_panel_fills_missing_rows_with_nan(tmp_path):
    panel = load_panel(_write(tmp_path, _frame().drop(index=3)))
    assert np.isnan(panel.close[1, 1])
    assert np.isnan(panel.returns[1, 1]) and np.isnan(panel.returns[2, 1])


def test_load_panel_masks_zero_volume_rows_as_not_tradable(tmp_path):
    frame = _frame()
    frame.loc[2, "volume"] = 0
    panel = load_panel(_write(tmp_path, frame))
    assert np.isnan(panel.close[1, 0]) and np.isnan(panel.volume[1, 0])
    assert panel.close[1, 1] == 12


def test_load_panel_derives_close_to_close_returns(tmp_path):
    panel = load_panel(_write(tmp_path, _frame()))
    np.testing.assert_allclose(panel.returns[1:, 0], [11 / 10 - 1, 12 / 11 - 1])
    assert np.isnan(panel.returns[0]).all()


def test_load_panel_uses_vwap_proxy_with_a_warning_when_absent(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        panel = load_panel(_write(tmp_path, _frame()))
    np.testing.assert_allclose(panel.vwap, (panel.high + panel.low + panel.close) / 3)
    assert "vwap" in caplog.text and "proxy" in caplog.text


def test_load_panel_keeps_a_given_vwap_and_extra_numeric_columns(tmp_path):
    frame = _frame().assign(vwap=7.0, adj_factor=0.9)
    panel = load_panel(_write(tmp_path, frame))
    assert panel.vwap[0, 0] == 7.0 and panel.adj_factor[0, 0] == 0.9
    assert dict(panel.groups) == {}


@pytest.mark.parametrize("name", ["panel.csv", "panel.parquet"])
def test_load_panel_reads_a_text_column_as_group_codes_with_their_labels(tmp_path, name):
    frame = _frame().assign(sector=["tech", "energy", "tech", None, "tech", "energy"])
    panel = load_panel(_write(tmp_path, frame, name))
    assert dict(panel.groups) == {"sector": ("energy", "tech")}
    np.testing.assert_array_equal(panel.sector, [[1, 0], [1, np.nan], [1, 0]])


def test_load_panel_reads_a_categorical_column_as_a_group_column(tmp_path):
    frame = _frame().assign(sector=pd.Categorical(["b", "a"] * 3))
    panel = load_panel(_write(tmp_path, frame, "panel.parquet"))
    assert dict(panel.groups) == {"sector": ("a", "b")}
    np.testing.assert_array_equal(panel.sector, [[1, 0]] * 3)


def test_panel_fields_are_read_only(tmp_path):
    panel = load_panel(_write(tmp_path, _frame()))
    with pytest.raises(ValueError):
        panel.close[0, 0] = 1.0


def test_resolve_data_path_picks_the_daily_panel_in_a_directory(tmp_path):
    path = _write(tmp_path, _frame(), "us_daily.parquet")
    _write(tmp_path, _frame(), "small.parquet")
    assert resolve_data_path(tmp_path) == path


@pytest.mark.parametrize("mutate, expected", [
    (lambda f: f.drop(columns="volume"), "missing required column(s) volume"),
    (lambda f: f.astype({"close": object}).assign(close=lambda g: g["close"].where(g.index != 4, "12.5x")),
     "column 'close' has non-numeric values in 1 row(s) (data rows 4"),
    (lambda f: pd.concat([f, f.iloc[[1]]], ignore_index=True), "duplicate (date, symbol) pairs in 2 row(s)"),
    (lambda f: f.assign(low=lambda g: g["low"].where(g.index != 2, -1.0)),
     "column 'low' has non-positive prices in 1 row(s) (data rows 2"),
    (lambda f: f.assign(high=lambda g: g["high"].where(g.index != 5, 1.0)),
     "column 'high' is below 'low' in 1 row(s) (data rows 5"),
    (lambda f: f.iloc[:0], "the file has no rows"),
    (lambda f: f.assign(date=lambda g: g["date"].where(g.index != 1, "yesterday")),
     "column 'date' has unparseable dates"),
])
def test_load_panel_names_the_file_column_and_rows_of_bad_data(tmp_path, mutate, expected):
    path = _write(tmp_path, mutate(_frame()))
    with pytest.raises(DataError) as error:
        load_panel(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_load_panel_reports_an_unreadable_file(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not a parquet file")
    with pytest.raises(DataError, match="cannot read the file"):
        load_panel(path)


def test_load_panel_reports_a_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_panel(tmp_path / "absent.csv")


def test_load_panel_refuses_an_unknown_file_type(tmp_path):
    path = tmp_path / "panel.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(DataError, match="unknown file type"):
        load_panel(path)


def test_panel_fingerprint_changes_with_any_value(tmp_path):
    frame = _frame()
    same = load_panel(_write(tmp_path, frame, "a.csv")).fingerprint()
    assert load_panel(_write(tmp_path, frame, "b.csv")).fingerprint() == same
    frame.loc[3, "close"] = 11.5
    assert load_panel(_write(tmp_path, frame, "c.csv")).fingerprint() != same
