"""The check of a program against a panel's columns: reads of missing columns and group operators without one."""
from factorengine.program import Violation, check_columns

COLUMNS = ["close", "volume", "sector"]
SECTOR_RANK = '''from factorengine import ops
from factorengine.ops import group_rank as grank


def factor(d):
    ret = d.returns
    return grank(d.close, d.sector) + ops.group_zscore(ret, d.sector)
'''


def test_a_program_reading_only_panel_columns_passes():
    assert check_columns(SECTOR_RANK.replace("d.returns", "d.volume"), COLUMNS, ["sector"]) == ()


def test_a_read_of_a_missing_column_names_it_and_lists_the_columns():
    [violation] = check_columns(SECTOR_RANK, COLUMNS, ["sector"])
    assert violation == Violation(6, "column", "the panel has no column 'returns'; its columns are close, volume, "
                                               "sector (group columns: sector)")


def test_group_operators_on_a_panel_without_group_columns_are_refused_in_one_line_each():
    violations = check_columns(SECTOR_RANK, ["close", "returns"], [])
    assert [str(v) for v in violations] == [
        "line 7: the panel has no column 'sector'; its columns are close, returns, none of them a group column",
        "line 7: group_rank needs a group column such as d.sector and the panel has none",
        "line 7: group_zscore needs a group column such as d.sector and the panel has none",
    ]


def test_a_group_operator_grouping_by_a_computed_array_is_refused_with_the_columns_listed():
    source = SECTOR_RANK.replace("d.sector", "d.close > 10").replace("grank(d.close, d.close > 10) + ", "")
    [violation] = check_columns(source, ["close", "returns"], [])
    assert str(violation) == ("line 7: group_zscore needs a group column such as d.sector and the panel has none; "
                              "its columns are close, returns, none of them a group column")
