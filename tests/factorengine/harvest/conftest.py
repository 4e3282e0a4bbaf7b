"""Fixtures of the harvest tests."""
from __future__ import annotations

import numpy as np
import pytest

from factorengine.data import Dataset, make_dataset, synthetic_panel


@pytest.fixture(scope="module")
def market() -> tuple[Dataset, dict[str, np.ndarray]]:
    """A small synthetic market and two factors on it: the label plus a little noise, and pure noise."""
    dataset = make_dataset(synthetic_panel(n_days=500, n_stocks=60, seed=4))
    rng = np.random.default_rng(0)
    factors = {"signal": dataset.label.values + rng.normal(0, 0.05, dataset.label.values.shape),
               "noise": rng.normal(size=dataset.label.values.shape)}
    return dataset, factors
