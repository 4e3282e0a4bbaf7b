"""A panel with its label and segments: everything a factor is scored against."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from factorengine.config import DataConfig
from factorengine.data.label import Label, make_label
from factorengine.data.load import load_panel
from factorengine.data.panel import Panel
from factorengine.data.split import Splits, split_days
from factorengine.data.synthetic import synthetic_panel

logger = logging.getLogger(__name__)

DATA_ENV = "FACTORENGINE_DATA"


@dataclass(frozen=True)
class Dataset:
    """A panel, its forward-return label for `horizon`, and the train/valid/test splits."""

    panel: Panel
    label: Label
    splits: Splits
    horizon: int


def make_dataset(panel: Panel, data: DataConfig = DataConfig()) -> Dataset:
    """Attach the label and the segments `data` sets to `panel`; DataError names a segment setting that cannot be."""
    return Dataset(panel, make_label(forward_returns(panel.close, data.horizon)), split_days(panel.dates, data),
                   data.horizon)


def forward_returns(close: np.ndarray, horizon: int = 1) -> np.ndarray:
    """Label [T, N]: close[t+1+horizon] / close[t+1] - 1, NaN where it is not known in the data."""
    label = np.full_like(close, np.nan)
    label[: -1 - horizon] = close[1 + horizon:] / close[1:-horizon] - 1.0
    return label


def open_panel(path: str | None, synthetic_seed: int = 0) -> Panel:
    """Load `path`, else the file in $FACTORENGINE_DATA, else the built-in synthetic market (said loudly)."""
    path = path or os.environ.get(DATA_ENV)
    if path:
        return load_panel(path)
    logger.warning("no --data and no %s: using the built-in SYNTHETIC market (not real data)", DATA_ENV)
    return synthetic_panel(seed=synthetic_seed)
