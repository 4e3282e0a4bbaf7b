"""The prompts: contract, operator catalogue, chain of experience and failures, answer format."""
from __future__ import annotations

from factorengine import ops
from factorengine.proposers import prompt
from factorengine.proposers.base import Context, Proposal, Step

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


def test_the_chain_shows_each_step_with_its_outcome_and_lesson():
    user = _user()
    assert ("1. seed momentum: train FS 0.0500, valid FS 0.0400\n"
            "2. negate the returns: train FS 0.0500 -> 0.0800, valid FS 0.0400 -> 0.0600 Lesson: reversal beats "
            "momentum") in user


def test_failures_are_shown_in_their_own_words():
    assert "- shift the close: failed (lookahead): values at day 100 changed when later days changed" in _user()


def test_the_program_to_improve_is_shown_with_its_metrics_and_code():
    assert ("## The program to improve\n\nnegate the returns (robust train FS 0.0700, train FS 0.0800, valid FS 0.0600)\n\n```python\n"
            "def factor(d, window=5):\n    return -d.returns\n```") in _user()


def test_the_reflection_field_is_asked_for_only_inline():
    assert '"reflection"' in _user(reflect_inline=True) and '"reflection"' not in _user(reflect_inline=False)


def test_a_seed_context_says_there_is_no_experience_yet():
    assert "Nothing yet: the program below is a seed." in prompt.experience(Context(parent=SEED))


def test_no_template_placeholder_is_left_unfilled():
    texts = [m["content"] for m in prompt.propose_messages(CONTEXT, ["close"], 1, True)]
    texts += [m["content"] for m in prompt.reflect_messages(SEED, Proposal("", "negate", "llm"), "better")]
    assert not any("$" in text for text in texts)
