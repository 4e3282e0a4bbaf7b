"""What the contract says about the fields and the label."""
import pytest

from factorengine.proposers.fields import describe_fields, label_words


def test_known_fields_get_their_adjustment_and_units_with_the_prices_on_one_line():
    assert describe_fields(["open", "high", "low", "close", "volume", "adj_factor", "returns", "vwap"]) == (
        "- `d.open`, `d.high`, `d.low`, `d.close`: USD, adjusted for splits and dividends (total return)\n"
        "- `d.volume`: shares, split-adjusted only; NaN where 0 (not traded)\n"
        "- `d.adj_factor`: the dividend part of the adjustment, in (0, 1]: close / adj_factor = the split-adjusted "
        "close, times volume = the dollar volume\n"
        "- `d.returns`: close-to-close total return (with dividends)\n"
        "- `d.vwap`: the file's VWAP, else the proxy (high + low + close) / 3")


def test_extra_columns_are_described_generically_with_the_group_operators():
    [line] = describe_fields(["sector", "beta"]).splitlines()
    assert line == ("- `d.sector`, `d.beta`: extra columns, as the data file has it; a text one (e.g. a sector) "
                    "holds its label's code (NaN if blank) to group by with `group_mean`, `group_demean`, "
                    "`group_zscore`, `group_rank`")


@pytest.mark.parametrize("horizon, words", [
    (1, "the return from the close of day t+1 to the close of day t+2"),
    (5, "the return from the close of day t+1 to the close of day t+6 (5 days)"),
])
def test_the_label_is_said_in_plain_words_for_any_horizon(horizon: int, words: str):
    assert label_words(horizon) == words


def test_a_single_extra_column_is_named_in_the_singular():
    assert describe_fields(["sector"]).startswith("- `d.sector`: an extra column, as the data file has it;")
