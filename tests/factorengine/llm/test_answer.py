"""Reading LLM answers: the JSON object however it is wrapped, and exact errors for the repair request."""
from __future__ import annotations

import json

import pytest

from factorengine.llm.answer import Answer, AnswerError, parse_answer

CODE = 'from factorengine.ops import rank\n\n\ndef factor(d, window=5):\n    return -rank(d.returns)\n'
FIELDS = {"idea": "negate the returns", "hypothesis": "short-term reversal", "category": "Reversal", "code": CODE}
EXPECTED = Answer("negate the returns", "short-term reversal", "reversal", CODE)


def test_a_bare_json_object_is_read():
    assert parse_answer(json.dumps(FIELDS)) == EXPECTED


def test_a_fenced_object_with_text_around_it_is_read():
    text = f"Here is my proposal.\n```json\n{json.dumps(FIELDS, indent=2)}\n```\nGood luck!"
    assert parse_answer(text) == EXPECTED


def test_raw_newlines_inside_the_code_string_are_tolerated():
    text = json.dumps(FIELDS).replace("\\n", "\n")
    assert parse_answer(text) == EXPECTED


def test_code_in_its_own_python_block_is_used_when_the_json_has_none():
    fields = {k: v for k, v in FIELDS.items() if k != "code"}
    text = f"{json.dumps(fields)}\n\n```python\n{CODE}```"
    assert parse_answer(text) == EXPECTED


def test_code_field_wrapped_in_a_fence_is_unwrapped():
    text = json.dumps({**FIELDS, "code": f"```python\n{CODE}```"})
    assert parse_answer(text).code == CODE


def test_a_missing_category_becomes_other_and_the_reflection_is_kept():
    fields = {k: v for k, v in FIELDS.items() if k != "category"} | {"reflection": "windows under 5 were noisy"}
    answer = parse_answer(json.dumps(fields))
    assert (answer.category, answer.reflection) == ("other", "windows under 5 were noisy")


def test_broken_json_is_refused_with_the_parser_position():
    with pytest.raises(AnswerError, match=r"does not parse: Expecting ',' delimiter at line 1 column 14"):
        parse_answer('{"idea": "x" "code": "y"}')


def test_text_without_an_object_or_code_is_refused():
    with pytest.raises(AnswerError, match="holds no JSON object"):
        parse_answer("I think momentum is a good idea.")


def test_an_answer_without_code_is_refused():
    with pytest.raises(AnswerError, match='no program: put the whole module in the "code" field'):
        parse_answer(json.dumps({"idea": "x"}))


def test_an_answer_without_idea_is_refused():
    with pytest.raises(AnswerError, match='no "idea"'):
        parse_answer(json.dumps({"code": CODE}))
