"""Read an LLM's answer: a JSON object with idea, hypothesis, category and code, however it was wrapped.

Tolerated: code fences around the JSON, text before or after it, raw newlines inside its strings, and the code
given in its own ```python block instead of (or besides) the "code" field.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from factorengine.errors import FactorEngineError

_FENCE = re.compile(r"```([A-Za-z]*)[ \t]*\n(.*?)```", re.DOTALL)


class AnswerError(FactorEngineError, ValueError):
    """An answer that holds no usable program; the message says exactly what is wrong, for the repair request."""


@dataclass(frozen=True)
class Answer:
    """A proposal as the LLM wrote it."""

    idea: str
    hypothesis: str
    category: str
    code: str
    reflection: str = ""


def parse_answer(text: str) -> Answer:
    """Return the answer in `text`, or raise AnswerError naming what is missing or malformed."""
    fields = parse_object(text)
    code = _text(fields.get("code"))
    code = _python_block(code) or code if "```" in code else code or _python_block(text)
    if not code:
        raise AnswerError('the answer has no program: put the whole module in the "code" field')
    idea = _text(fields.get("idea"))
    if not idea:
        raise AnswerError('the answer has no "idea": say in one line what the new program does differently')
    return Answer(idea, _text(fields.get("hypothesis")), _text(fields.get("category")).lower() or "other",
                  code.strip("\n") + "\n", _text(fields.get("reflection")))


def parse_object(text: str) -> dict[str, Any]:
    """Return the first JSON object in `text` (fenced or bare); raise AnswerError when there is none."""
    candidates = [body for lang, body in _FENCE.findall(text) if lang.lower() in ("json", "")] + [text]
    error = "the answer holds no JSON object"
    for candidate in candidates:
        start, end = candidate.find("{"), candidate.rfind("}")
        if start < 0 or end < start:
            continue
        try:  # strict=False lets raw newlines and tabs inside strings through
            value = json.loads(candidate[start:end + 1], strict=False)
        except json.JSONDecodeError as exc:
            error = f"the JSON object does not parse: {exc.msg} at line {exc.lineno} column {exc.colno}"
            continue
        if isinstance(value, dict):
            return value
    if _python_block(text):
        return {}
    raise AnswerError(error)


def _python_block(text: str) -> str:
    blocks = [body for lang, body in _FENCE.findall(text) if lang.lower() in ("python", "py")]
    return blocks[0] if blocks else ""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
