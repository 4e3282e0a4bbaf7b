"""What the contract says about a panel's fields and the label: adjustment and units, in a model's words.

The words hold for the panels FactorEngine loads (`../shared/data/README.md`: Yahoo prices adjusted as of
the data's end) and for the synthetic market; a column the loader does not know is described generically.
"""
from __future__ import annotations

from collections.abc import Sequence

from factorengine import ops

PRICES = ("open", "high", "low", "close")
_PRICE_NOTE = "USD, adjusted for splits and dividends (total return)"
NOTES = {
    "volume": "shares, split-adjusted only; NaN where 0 (not traded)",
    "adj_factor": "the dividend part of the adjustment, in (0, 1]: close / adj_factor = the split-adjusted close, "
                  "times volume = the dollar volume",
    "returns": "close-to-close total return (with dividends)",
    "vwap": "the file's VWAP, else the proxy (high + low + close) / 3",
}
GROUP_OPERATORS = tuple(name for name in ops.__all__ if name.startswith("group_"))


def extra_fields(fields: Sequence[str]) -> list[str]:
    """The fields the contract cannot describe but generically (columns the panel's file adds)."""
    return [name for name in fields if name not in PRICES and name not in NOTES]


def describe_fields(fields: Sequence[str]) -> str:
    """One line per field of `fields` the loader knows (the prices on one), then one for the extra columns."""
    prices = [f"`d.{name}`" for name in fields if name in PRICES]
    lines = [f"- {', '.join(prices)}: {_PRICE_NOTE}"] if prices else []
    lines += [f"- `d.{name}`: {NOTES[name]}" for name in fields if name in NOTES]
    extra = extra_fields(fields)
    if extra:
        groups = ", ".join(f"`{op}`" for op in GROUP_OPERATORS)
        what = "an extra column" if len(extra) == 1 else "extra columns"
        lines.append(f"- {', '.join(f'`d.{name}`' for name in extra)}: {what}, as the data file has it; a text "
                     f"one (e.g. a sector) holds its label's code (NaN if blank) to group by with {groups}")
    return "\n".join(lines)


def label_words(horizon: int) -> str:
    """The label of day t in words: the return over `horizon` days from the close of day t+1."""
    days = f" ({horizon} days)" if horizon > 1 else ""
    return f"the return from the close of day t+1 to the close of day t+{1 + horizon}{days}"
