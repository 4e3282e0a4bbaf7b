"""Specification of the offline proposer: each mutation kind as before/after source, then the proposer's contract."""
from __future__ import annotations

import dataclasses
import difflib
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from factorengine.data import synthetic_panel
from factorengine.program import check_policy, load_factor, parse_program, program_id
from factorengine.proposers import Context, MutationProposer, Proposal, ProposalFailure, Step
from factorengine.proposers import mutate
from factorengine.proposers.crossover import chain_partners, cross_over
from factorengine.proposers.mutate import (
    KIND_NAMES, OPERATOR_FAMILIES, condition, negate, swap_field, swap_operator, wrap,
)

SEEDS = {path.stem: path.read_text() for path in sorted((Path(__file__).resolve().parents[3] / "seeds").glob("*.py"))}


def program(text: str) -> str:
    """Dedent a test program."""
    return textwrap.dedent(text).lstrip("\n")


def outcomes(kind, source: str, draws: int = 80, **kwargs) -> dict[str, str]:
    """Return every distinct result (code -> idea) of a kind over generator seeds 0..draws-1."""
    found: dict[str, str] = {}
    for seed in range(draws):
        edit = kind(source, rng=np.random.default_rng(seed), **kwargs)
        if edit is not None:
            found.setdefault(edit.code, edit.idea)
    return found


def returns_of(codes) -> set[str]:
    """Return the `return ...` line of each program."""
    return {next(line.strip() for line in code.splitlines() if line.strip().startswith("return ")) for code in codes}


def run(code: str, panel) -> np.ndarray:
    """Run a program in-process on a panel (numpy's empty-slice warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(load_factor(code)(panel), dtype=float)


@pytest.fixture(scope="module")
def panel():
    return synthetic_panel(n_days=120, n_stocks=30)


SMOOTHED = program('''
    """Smoothed daily return."""
    from factorengine.ops import ts_mean

    SEARCH_SPACE = {"window": (2, 40)}


    def factor(d, window=5):
        return ts_mean(d.returns, window)
''')


# swap_operator


def test_swap_operator_stays_in_the_family_and_replaces_the_import():
    found = outcomes(swap_operator, SMOOTHED)
    assert returns_of(found) == {"return ts_ema(d.returns, window)", "return ts_decay_linear(d.returns, window)",
                                 "return ts_median(d.returns, window)"}
    assert SMOOTHED.replace("ts_mean", "ts_ema") in found  # the unused ts_mean import is dropped
    assert found[SMOOTHED.replace("ts_mean", "ts_ema")] == "swap operator ts_mean -> ts_ema in line 8"


def test_swap_operator_keeps_an_import_still_in_use_and_sorts_the_new_one_in():
    source = program('''
        from factorengine.ops import rank, ts_max

        def factor(d, window=10):
            return rank(ts_max(d.high, window)) - rank(d.volume)
    ''')
    assert returns_of(outcomes(swap_operator, source)) == {
        "return zscore(ts_max(d.high, window)) - rank(d.volume)",
        "return rank(ts_min(d.high, window)) - rank(d.volume)",
        "return rank(ts_max(d.high, window)) - zscore(d.volume)"}
    edit = swap_operator(source, np.random.default_rng(1))
    assert edit.code.splitlines()[0] in ("from factorengine.ops import rank, ts_max, zscore",
                                         "from factorengine.ops import rank, ts_min")


def test_swap_operator_rewrites_module_attribute_calls_without_touching_imports():
    source = program('''
        from factorengine import ops

        def factor(d, window=10):
            return ops.ts_argmax(d.close, window)
    ''')
    assert swap_operator(source, np.random.default_rng(0)).code == source.replace("ts_argmax", "ts_argmin")


def test_swap_operator_leaves_comments_layout_and_other_lines_alone():
    source = program('''
        """Layout survives."""
        from factorengine.ops import (
            rank,
            ts_std,
        )

        SEARCH_SPACE = {
            "window": (5, 60),  # a comment
        }


        def factor(d, window=20):
            # dispersion of returns
            spread  =  ts_std(d.returns, window)   # odd spacing kept
            return rank(spread)
    ''')
    edit = swap_operator(source, np.random.default_rng(0))
    changed = [line for line in difflib.ndiff(source.splitlines(), edit.code.splitlines()) if line[0] in "+-"]
    assert changed == ["-     rank,", "+     zscore,", "-     return rank(spread)", "+     return zscore(spread)"]


def test_swap_operator_finds_nothing_outside_the_families():
    source = program('''
        from factorengine.ops import ts_std

        def factor(d, window=10):
            return ts_std(d.returns, window)
    ''')
    assert swap_operator(source, np.random.default_rng(0)) is None


def test_swap_operator_swaps_a_group_normalization_for_the_other():
    source = program('''
        from factorengine.ops import group_rank

        def factor(d):
            return group_rank(d.returns, d.sector)
    ''')
    assert returns_of(outcomes(swap_operator, source)) == {"return group_zscore(d.returns, d.sector)"}


def test_operator_families_share_call_shapes_and_do_not_overlap():
    members = [op for family in OPERATOR_FAMILIES for op in family.ops]
    assert len(members) == len(set(members))
    assert "ts_var" not in members and "ts_sum" not in members  # scale changes, not swaps


# swap_field


def test_swap_field_swaps_one_place_or_every_place_within_the_price_group():
    source = program('''
        from factorengine.ops import delay

        def factor(d, window=5):
            return d.close / delay(d.close, window) - 1
    ''')
    found = outcomes(swap_field, source)
    assert returns_of(found) == {
        "return d.vwap / delay(d.close, window) - 1", "return d.close / delay(d.vwap, window) - 1",
        "return d.open / delay(d.close, window) - 1", "return d.close / delay(d.open, window) - 1",
        "return d.vwap / delay(d.vwap, window) - 1", "return d.open / delay(d.open, window) - 1"}
    assert sorted(set(found.values())) == [
        "swap field close -> open everywhere (2 places, line 4)", "swap field close -> open in line 4",
        "swap field close -> vwap everywhere (2 places, line 4)", "swap field close -> vwap in line 4"]


def test_swap_field_pairs_high_with_low():
    source = program('''
        from factorengine.ops import ts_max

        def factor(d, window=20):
            return ts_max(d.high, window)
    ''')
    edit = swap_field(source, np.random.default_rng(0))
    assert edit.code == source.replace("d.high", "d.low")
    assert edit.idea == "swap field high -> low in line 4"


def test_swap_field_never_swaps_volume_or_returns_nor_makes_a_term_cancel():
    assert swap_field("def factor(d):\n    return d.volume * d.returns\n", np.random.default_rng(0)) is None
    assert outcomes(swap_field, "def factor(d):\n    return d.high - d.low\n") == {}  # d.low - d.low is 0


# wrap


def test_wrap_offers_every_wrapper_at_the_return_value_and_at_data_arguments():
    assert returns_of(outcomes(wrap, SMOOTHED, draws=200)) == {
        "return rank(ts_mean(d.returns, window))", "return zscore(ts_mean(d.returns, window))",
        "return sign(ts_mean(d.returns, window))", "return signed_power(ts_mean(d.returns, window), 0.5)",
        "return ts_zscore(ts_mean(d.returns, window), w_wrap_1)",
        "return ts_mean(rank(d.returns), window)", "return ts_mean(zscore(d.returns), window)",
        "return ts_mean(sign(d.returns), window)", "return ts_mean(signed_power(d.returns, 0.5), window)",
        "return ts_mean(ts_zscore(d.returns, w_wrap_1), window)",
        "return ts_mean(ts_mean(d.returns, w_wrap_1), window)"}  # not ts_mean(ts_mean(...)) at the top


def test_wrap_with_a_window_adds_a_parameter_a_search_space_entry_and_the_import():
    found = outcomes(wrap, SMOOTHED, draws=200)
    expected = program('''
        """Smoothed daily return."""
        from factorengine.ops import ts_mean, ts_zscore

        SEARCH_SPACE = {"window": (2, 40), "w_wrap_1": (5, 120)}


        def factor(d, window=5, w_wrap_1=20):
            return ts_zscore(ts_mean(d.returns, window), w_wrap_1)
    ''')
    assert found[expected] == "wrap the return value in ts_zscore(., w_wrap_1)"
    assert parse_program(expected).params[1] == dataclasses.replace(
        parse_program(expected).params[1], name="w_wrap_1", default=20, low=5, high=120, declared=True)


def test_wrap_creates_the_import_line_and_search_space_when_missing_and_picks_a_free_name():
    source = program('''
        """Range."""


        def factor(d, w_wrap_1=3):
            return (d.high - d.low) * w_wrap_1
    ''')
    expected = program('''
        """Range."""
        from factorengine.ops import ts_mean

        SEARCH_SPACE = {"w_wrap_2": (2, 60)}


        def factor(d, w_wrap_1=3, w_wrap_2=5):
            return ts_mean((d.high - d.low) * w_wrap_1, w_wrap_2)
    ''')
    assert expected in outcomes(wrap, source, draws=200)


def test_wrap_skips_no_op_and_constant_wraps():
    source = program('''
        from factorengine.ops import rank

        def factor(d):
            return rank(d.volume)
    ''')
    lines = returns_of(outcomes(wrap, source, draws=200))
    assert "return rank(rank(d.volume))" not in lines and "return zscore(rank(d.volume))" in lines
    assert "return rank(sign(d.volume))" not in lines  # volume > 0: its sign is the constant 1
    assert "return sign(rank(d.volume))" not in lines


# negate


def test_negate_drops_a_leading_minus_instead_of_stacking_one():
    source = SEEDS["volume_confirmed_reversal"]
    edit = negate(source, np.random.default_rng(0))
    assert edit.code == source.replace("return -rank(ret) * rank(surge)", "return rank(ret) * rank(surge)")
    assert edit.idea == "negate the return value (line 13)"


def test_negate_either_negates_the_return_or_flips_a_sum_of_two_data_terms():
    source = program('''
        from factorengine.ops import rank

        def factor(d, window=5):
            return rank(d.close) - rank(d.volume) + 1
    ''')
    assert returns_of(outcomes(negate, source)) == {
        "return -(rank(d.close) - rank(d.volume) + 1)", "return rank(d.close) + rank(d.volume) + 1"}


# condition


def test_condition_multiplies_the_return_value_by_a_ranked_term_with_a_new_window():
    found = outcomes(condition, SMOOTHED)
    assert returns_of(found) == {
        "return ts_mean(d.returns, window) * rank(safe_div(d.volume, ts_mean(d.volume, w_cond_1)))",
        "return ts_mean(d.returns, window) * rank(ts_std(d.returns, w_cond_1))",
        "return ts_mean(d.returns, window) * rank(ts_mean(safe_div(d.high - d.low, d.close), w_cond_1))"}
    expected = program('''
        """Smoothed daily return."""
        from factorengine.ops import rank, ts_mean, ts_std

        SEARCH_SPACE = {"window": (2, 40), "w_cond_1": (5, 120)}


        def factor(d, window=5, w_cond_1=20):
            return ts_mean(d.returns, window) * rank(ts_std(d.returns, w_cond_1))
    ''')
    assert found[expected] == "condition on volatility: multiply the return value (line 8) by " \
                              "rank(ts_std(d.returns, w_cond_1))"


def test_condition_parenthesizes_a_sum_and_names_a_long_term_on_its_own_line():
    source = program('''
        from factorengine.ops import ts_mean

        def factor(d, window=5):
            return ts_mean(d.close - d.open, window) + ts_mean(d.open - d.close, window)
    ''')
    codes = outcomes(condition, source)
    assert any(code.endswith(
        "    surge_rank = rank(safe_div(d.volume, ts_mean(d.volume, w_cond_1)))\n"
        "    return (ts_mean(d.close - d.open, window) + ts_mean(d.open - d.close, window)) * surge_rank\n")
        for code in codes)


# crossover

PARENT = program('''
    """Reversal."""
    from factorengine.ops import pct_change

    SEARCH_SPACE = {"window": (2, 20)}


    def factor(d, window=5):
        return -pct_change(d.close, window)
''')
PARTNER = program('''
    """Volume surge."""
    from factorengine.ops import safe_div, ts_mean

    SEARCH_SPACE = {"window": (5, 120)}


    def factor(d, window=20):
        surge = safe_div(d.volume, ts_mean(d.volume, window))
        return surge
''')


def test_crossover_moves_the_partner_body_and_parameters_over_with_renaming():
    edit = cross_over(PARENT, [PARTNER], np.random.default_rng(0))
    assert edit.code == program('''
        """Reversal."""
        from factorengine.ops import pct_change, rank, safe_div, ts_mean

        SEARCH_SPACE = {"window": (2, 20), "window_2": (5, 120)}


        def factor(d, window=5, window_2=20):
            surge = safe_div(d.volume, ts_mean(d.volume, window_2))
            return rank(-pct_change(d.close, window)) * rank(surge)
    ''')
    assert edit.idea == (f'cross over with program {program_id(PARTNER)} ("Volume surge."): '
                         "rank(parent) * rank(partner)")


def test_crossover_combines_by_sum_difference_or_product():
    assert returns_of(outcomes(cross_over, PARENT, partners=[PARTNER])) == {
        "return rank(-pct_change(d.close, window)) + rank(surge)",
        "return rank(-pct_change(d.close, window)) - rank(surge)",
        "return rank(-pct_change(d.close, window)) * rank(surge)"}


def test_crossover_of_two_seeds_with_bodies_parses_and_runs(panel):
    parent, partner = SEEDS["volume_confirmed_reversal"], SEEDS["corwin_schultz_spread"]
    edit = cross_over(parent, [partner, SEEDS["volume_confirmed_reversal"]], np.random.default_rng(3))
    parsed = parse_program(edit.code)
    assert check_policy(edit.code) == ()
    assert [p.name for p in parsed.params] == ["window", "vol_window", "window_2"]
    assert parsed.docstring == parse_program(parent).docstring
    values = run(edit.code, panel)
    assert values.shape == (120, 30) and np.isfinite(values[60:]).mean() > 0.9


def test_crossover_with_itself_renames_every_clashing_local_and_parameter(panel):
    source = SEEDS["volume_confirmed_reversal"]
    edit = cross_over(source, [source], np.random.default_rng(0))
    assert "ret_2 = d.close / delay(d.close, window_2) - 1" in edit.code
    assert "surge_2 = safe_div(d.volume, ts_mean(d.volume, vol_window_2))" in edit.code
    assert [p.name for p in parse_program(edit.code).params] == ["window", "vol_window", "window_2", "vol_window_2"]
    assert run(edit.code, panel).shape == (120, 30)


def test_crossover_borrows_plain_imports_and_skips_a_partner_with_module_level_helpers():
    helper = program('''
        K = 2.0


        def factor(d):
            return d.returns * K
    ''')
    numpy_partner = program('''
        import numpy as np


        def factor(d):
            return np.log(d.volume)
    ''')
    assert cross_over(PARENT, [helper], np.random.default_rng(0)) is None
    edit = cross_over(PARENT, [helper, numpy_partner], np.random.default_rng(0))
    assert edit.code.splitlines()[1:4] == ["import numpy as np", "from factorengine.ops import pct_change, rank", ""]
    assert returns_of([edit.code]) == {"return rank(-pct_change(d.close, window)) * rank(np.log(d.volume))"}


def test_crossover_puts_long_sides_into_locals():
    edit = cross_over(SEEDS["volume_cv"], [SEEDS["return_per_volume"]], np.random.default_rng(0))
    assert edit.code.endswith("    return rank(left) * rank(right)\n")
    assert "    left = safe_div(ts_std(d.volume, window), ts_mean(d.volume, window))\n" in edit.code


# the proposer


def test_chain_partners_skips_failures_duplicates_and_the_parent():
    parent = SEEDS["reversal_5d"]
    chain = ((Step(parent, "seed"), Step(SEEDS["volume_surge"], "seed")),
             (Step(SEEDS["volume_surge"] + "# same program\n", "copy"), Step(SEEDS["roll_spread"], "x", failure="NaN")),
             (Step("def factor(:\n", "broken"), Step(SEEDS["return_volatility"], "seed")))
    assert chain_partners(Context(Step(parent, "seed"), chain), program_id(parent)) == (
        SEEDS["volume_surge"], SEEDS["return_volatility"])


def test_proposer_is_deterministic_for_a_generator_state():
    context = Context(Step(SEEDS["volume_confirmed_reversal"], "seed"),
                      ((Step(SEEDS["amihud_illiquidity"], "seed"), Step(SEEDS["macd_ratio"], "seed")),))

    def sequence(seed: int) -> list[Proposal | ProposalFailure]:
        rng = np.random.default_rng(seed)
        return [MutationProposer().propose(context, rng) for _ in range(20)]

    first = sequence(11)
    assert first == sequence(11)
    assert first != sequence(12)
    assert len({p.kind for p in first}) >= 4


@pytest.mark.slow
def test_proposals_do_not_depend_on_hash_randomization():
    script = textwrap.dedent('''
        import hashlib, pathlib, numpy as np
        from factorengine.proposers import Context, MutationProposer, Step
        seeds = sorted(pathlib.Path("seeds").glob("*.py"))
        chain = ((Step(seeds[0].read_text(), ""), Step(seeds[1].read_text(), "")),)
        rng = np.random.default_rng(5)
        results = [MutationProposer().propose(Context(Step(s.read_text(), ""), chain), rng) for s in seeds[:20]]
        print(hashlib.sha256(repr(results).encode()).hexdigest())
    ''')
    root = Path(__file__).resolve().parents[3]
    digests = {subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(digests) == 1


def test_proposer_fails_with_a_reason_when_nothing_applies():
    constant = '"""Constant."""\n\n\ndef factor(d, level=1.0):\n    return level * 2\n'
    result = MutationProposer(max_attempts=5).propose(Context(Step(constant, "seed")), np.random.default_rng(0))
    assert isinstance(result, ProposalFailure)
    assert result.reason.startswith("no valid mutation in 5 attempts (")
    assert "nothing to change" in result.reason


def test_proposer_refuses_a_broken_parent_and_bad_settings():
    result = MutationProposer().propose(Context(Step("def factor(x):\n    return x\n", "")), np.random.default_rng(0))
    assert isinstance(result, ProposalFailure) and "first parameter of factor must be `d`" in result.reason
    with pytest.raises(ValueError, match="unknown mutation kind 'jitter'"):
        MutationProposer(weights=(("jitter", 1.0),))
    with pytest.raises(TypeError):
        MutationProposer(20)  # keyword-only


def test_proposer_draws_crossover_only_when_the_chain_holds_a_partner():
    only_crossover = MutationProposer(weights=(("crossover", 1.0),))
    alone = Context(Step(PARENT, "seed"))
    assert isinstance(only_crossover.propose(alone, np.random.default_rng(0)), ProposalFailure)
    result = only_crossover.propose(Context(alone.parent, ((Step(PARTNER, "seed"),),)), np.random.default_rng(0))
    assert result.kind == "crossover" and "rank(surge)" in result.code


def test_proposer_does_not_grow_a_program_past_max_params():
    crossing = MutationProposer(weights=(("crossover", 1.0),), max_params=2, max_attempts=3)
    context = Context(Step(PARENT, "seed"), ((Step(PARTNER, "seed"),),))
    assert crossing.propose(context, np.random.default_rng(0)).kind == "crossover"  # 1 + 1 parameters
    big = Context(Step(PARENT, "seed"), ((Step(SEEDS["macd_ratio"], "seed"),),))  # 1 + 3
    result = crossing.propose(big, np.random.default_rng(0))
    assert result == ProposalFailure("no valid mutation in 3 attempts (crossover: 4 parameters, over max_params=2)")
    wide = Context(Step(SEEDS["range_volatility_per_volume"], "seed"))  # 4 parameters already: may not add one
    assert all(len(parse_program(MutationProposer(max_params=2).propose(wide, np.random.default_rng(s)).code).params)
               == 4 for s in range(10))


@pytest.mark.slow
def test_two_hundred_proposals_from_the_seeds_pass_the_checks_and_run(panel):
    rng = np.random.default_rng(2024)
    names = sorted(SEEDS)
    proposals, failures, new_nan = [], 0, 0
    for _ in range(200):
        parent, *others = (SEEDS[names[int(i)]] for i in rng.integers(len(names), size=3))
        context = Context(Step(parent, "seed"), ((Step(others[0], "seed"), Step(others[1], "seed")),))
        result = MutationProposer().propose(context, rng)
        if isinstance(result, ProposalFailure):
            failures += 1
            continue
        assert check_policy(result.code) == ()
        assert parse_program(result.code).program_id != program_id(parent)
        assert parse_program(result.code).docstring == parse_program(parent).docstring
        assert result.kind in KIND_NAMES and result.idea
        values = run(result.code, panel)
        assert values.shape == (120, 30)
        # all-NaN output the mutation caused (not a window longer than the 120-day panel it inherited)
        inputs = [parent, *others] if result.kind == "crossover" else [parent]
        new_nan += not np.isfinite(values).any() and all(np.isfinite(run(code, panel)).any() for code in inputs)
        proposals.append(result)
    assert failures / 200 < 0.05
    assert new_nan / len(proposals) < 0.05
    assert set(KIND_NAMES) == {p.kind for p in proposals}


def test_mutation_kinds_are_registered():
    assert KIND_NAMES == ("swap_operator", "swap_field", "wrap", "negate", "condition", "crossover")
    assert mutate.apply_kind("negate", SMOOTHED, (), np.random.default_rng(0)).code.endswith(
        "return -ts_mean(d.returns, window)\n")
