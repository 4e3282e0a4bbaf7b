"""The combiners' features keep each factor's daily percentile ranks bit for bit in two bytes a cell."""
from __future__ import annotations

import numpy as np
import pytest

from factorengine.harvest.features import BLOCK_DAYS, MAX_STOCKS, Features, rank_features
from factorengine.ops import rank


def _factors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    gappy = rng.normal(size=(300, 50))
    gappy[rng.random(gappy.shape) < 0.2] = np.nan
    gappy[7] = np.nan  # a day without a value
    tied = np.round(rng.normal(size=(300, 50)), 1)  # many ties, ranked by their average
    tied[:, :3] = np.inf  # +-inf counts as no value, as in ops.rank
    return {"gappy": gappy, "tied": tied}


def test_features_give_back_each_factor_s_ranks_bit_for_bit():
    factors = _factors()
    features = rank_features(factors)
    ranks = np.concatenate([features.ranks(days) for days in features.blocks()])
    assert features.shape == (300, 50, 2) and features.names == ("gappy", "tied")
    for k, values in enumerate(factors.values()):
        assert np.array_equal(ranks[..., k], rank(values), equal_nan=True)
        known = ~np.isnan(ranks[..., k])
        assert np.array_equal(ranks[..., k][known].view(np.int64), rank(values)[known].view(np.int64))


def test_features_mark_the_cells_where_any_factor_has_a_value():
    only = np.full((3, 4), np.nan)
    only[1, 2] = 1.0
    features = rank_features({"a": only, "b": np.full((3, 4), np.nan)})
    assert features.any_value(slice(0, 3)).tolist() == [[False] * 4, [False, False, True, False], [False] * 4]


def test_blocks_cover_the_days_asked_in_order():
    features = Features.empty(["a"], (2 * BLOCK_DAYS + 5, 3))
    assert list(features.blocks(slice(3, BLOCK_DAYS + 10))) == [slice(3, BLOCK_DAYS + 3),
                                                                slice(BLOCK_DAYS + 3, BLOCK_DAYS + 10)]
    assert [b.stop - b.start for b in features.blocks()] == [BLOCK_DAYS, BLOCK_DAYS, 5]


def test_a_panel_too_wide_for_two_byte_ranks_is_refused():
    with pytest.raises(ValueError, match=f"at most {MAX_STOCKS} stocks"):
        Features.empty(["a"], (2, MAX_STOCKS + 1))
