"""The prompts: contract, operator catalogue, chain of experience and failures, answer format."""
from __future__ import annotations

from dataclasses import replace

from factorengine import ops
from factorengine.proposers import prompt
from factorengine.proposers.base import Context, Proposal, Step
from factorengine.score.metrics import SegmentMetrics

SEED = Step("def factor(d, window=5):\n    return d.returns\n", "seed momentum", 0.05, 0.04,
            outcome="train FS 0.0500, valid FS 0.0400")
CHILD = Step("def factor(d, window=5):\n    return -d.returns\n", "negate the returns", 0.08, 0.06, 0.07,
             outcome="train FS 0.0500 -> 0.0800, valid FS 0.0400 -> 0.0600", lesson="reversal beats momentum")
LOOKAHEAD = Step("", "shift the close", failure="lookahead: values at day 100 changed when later days changed",
                 outcome="failed (lookahead): values at day 100 changed when later days changed")
CONTEXT = Context(parent=CHILD, chain=((SEED, CHILD),), failures=(LOOKAHEAD,))


def _user(reflect_inline: bool = True) -> str:
    return prompt.propose_messages(CONTEXT, ["close", "volume"], 1, reflect_inline)[1]["content"]


def test_the_catalogue_lists_every_operator_with_its_doc_line_less_the_window_its_header_names():
    lines = prompt.operator_catalogue().splitlines()
    assert len(lines) == len(ops.__all__)
    assert "ts_mean(x, window): Mean." in lines
    assert ("ts_mean_where(x, cond, window): Mean of x where cond is true (nonzero) and x is known; "
            "NaN if none is.") in lines
    assert "neutralize(x, *exposures): Residual of each day's OLS of x on the exposures plus an intercept " \
           "(stocks where all are finite)." in lines


def test_the_catalogue_leaves_out_the_group_operators_when_asked():
    lines = prompt.operator_catalogue(groups=False).splitlines()
    assert len(lines) == len(ops.__all__) - 4 and not any(line.startswith("group_") for line in lines)


def test_the_contract_shows_group_operators_only_for_a_panel_with_extra_columns():
    assert "group_rank(x, groups)" in prompt.contract(["close", "sector"], 1)
    assert "group_rank(x, groups)" not in prompt.contract(["close", "volume", "adj_factor", "returns", "vwap"], 1)


def test_the_report_notation_maps_only_to_operators_that_exist():
    text = prompt.contract(["close"], 1)
    notation = text[text.index("Report notation:") + len("Report notation:"):]
    words = notation.translate(str.maketrans("(),*/.", "      ")).split()
    targets = {word for word in words if word.islower()} - {"a", "b", "x", "n", "of", "two"}
    assert len(targets) >= 16 and targets <= set(ops.__all__)


def test_the_request_has_a_system_role_and_the_contract_with_the_fields():
    messages = prompt.propose_messages(CONTEXT, ["close", "volume"], 1, True)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "- `d.close`: USD" in messages[1]["content"] and "- `d.volume`: shares" in messages[1]["content"]
    assert "SEARCH_SPACE" in messages[1]["content"]


def test_the_chain_shows_each_step_with_its_outcome_and_reflection():
    user = _user()
    assert ("1. seed momentum: train FS 0.0500, valid FS 0.0400\n"
            "2. negate the returns: train FS 0.0500 -> 0.0800, valid FS 0.0400 -> 0.0600 Reflection when proposed: "
            "reversal beats momentum") in user


def test_a_lesson_asked_for_after_the_outcome_is_called_a_lesson():
    user = _user(reflect_inline=False)
    assert "valid FS 0.0400 -> 0.0600 Lesson: reversal beats momentum" in user


def test_failures_are_shown_in_their_own_words():
    assert "- shift the close: failed (lookahead): values at day 100 changed when later days changed" in _user()


def test_the_program_to_improve_is_shown_with_its_metrics_history_and_code():
    assert ("## The program to improve\n\nnegate the returns (robust train FS 0.0700, train FS 0.0800, valid FS "
            "0.0600)\nHow it came to be:\n1. negate the returns (as in path 1)\n\n```python\n"
            "def factor(d, window=5):\n    return -d.returns\n```") in _user()


def test_the_history_of_the_program_to_improve_is_told_when_no_path_tells_it():
    user = prompt.propose_messages(Context(parent=CHILD, lineage=(SEED,)), ["close"], 1, True)[1]["content"]
    assert ("valid FS 0.0600)\nHow it came to be:\n1. seed momentum: train FS 0.0500, valid FS 0.0400\n"
            "2. negate the returns: train FS 0.0500 -> 0.0800, valid FS 0.0400 -> 0.0600 Reflection when proposed: "
            "reversal beats momentum\n") in user


def test_the_program_to_improve_shows_each_segments_four_components_and_coverage():
    train = SegmentMetrics(ic=0.012, icir=0.21, rank_ic=0.015, rank_icir=0.26, fs=0.1018, coverage=0.97,
                           turnover=0.3, n_days=500)
    parent = replace(CHILD, train=train, valid=replace(train, fs=0.05, ic=0.006))
    user = prompt.propose_messages(Context(parent=parent), ["close"], 1, True)[1]["content"]
    assert ("- train: FS 0.1018 from IC 0.0120, ICIR 0.210, RankIC 0.0150, RankICIR 0.260; scores 97% of listed "
            "stocks\n- valid: FS 0.0500 from IC 0.0060, ICIR 0.210") in user


def test_the_islands_best_program_is_shown_when_no_path_shows_it():
    best = Step("def factor(d):\n    return -d.volume\n", "low volume", 0.2, 0.1, 0.15)
    text = prompt.experience(replace(CONTEXT, best=best))
    assert "### The island's best program\n\nlow volume (robust train FS 0.1500" in text
    assert "return -d.volume" in text


def test_the_best_program_is_named_not_shown_twice_when_it_is_the_parent():
    text = prompt.propose_messages(replace(CONTEXT, best=CHILD), ["close"], 1, True)[1]["content"]
    assert "valid FS 0.0600, the island's best)" in text and text.count("return -d.returns") == 1


def test_a_repeated_program_is_shown_with_its_code():
    repeated = Step("def factor(d):\n    return d.close - delay(d.close, 3)\n", "three-day change")
    text = prompt.experience(replace(CONTEXT, repeated=repeated))
    assert ("### The program the latest rejected proposal repeated (propose something else)\n\nthree-day change:"
            "\n\n```python\ndef factor(d):\n    return d.close - delay(d.close, 3)\n```") in text


def test_a_step_two_paths_share_is_told_once():
    text = prompt.experience(replace(CONTEXT, chain=((SEED, CHILD), (SEED,))))
    assert "### Path 2\n\n1. seed momentum (as in path 1)\n" in text


def test_programs_other_than_the_one_to_improve_show_the_first_line_of_their_docstring():
    documented = replace(SEED, code='"""Momentum.\n\nLong notes on the family.\n"""\n\n\ndef factor(d):\n'
                                    '    return d.returns\n')
    text = prompt.experience(replace(CONTEXT, chain=((documented, CHILD),), best=documented))
    assert '```python\n"""Momentum.\n"""\n\n\ndef factor(d):\n    return d.returns\n```' in text
    assert "Long notes" not in text


def test_the_reflection_field_is_asked_for_only_inline():
    assert '"reflection"' in _user(reflect_inline=True) and '"reflection"' not in _user(reflect_inline=False)


def test_a_seed_context_says_there_is_no_experience_yet():
    assert "Nothing yet: the program below is a seed." in prompt.experience(Context(parent=SEED))


def test_no_template_placeholder_is_left_unfilled():
    texts = [m["content"] for m in prompt.propose_messages(CONTEXT, ["close"], 1, True)]
    texts += [m["content"] for m in prompt.reflect_messages(SEED, Proposal("", "negate", "llm"), "better")]
    assert not any("$" in text for text in texts)
