"""What the scripted LLM server answers in tests: mutations of the program it is asked to improve, as JSON."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from factorengine.llm.scripted import Reply
from factorengine.proposers.base import Context, Step
from factorengine.proposers.mutate import MutationProposer

KEY = "sk-test-5f1e9a0c-never-stored"  # the API key tests set; it must never reach the store, logs or reports
KEY_ENV = "FACTORENGINE_TEST_LLM_KEY"
_PROGRAM = re.compile(r"## The program to improve.*?```python\n(.*?)```", re.DOTALL)
Responder = Callable[[dict], Reply]


def program_to_improve(body: dict) -> str:
    """The program a propose request asks to improve."""
    return _PROGRAM.search(body["messages"][1]["content"]).group(1)


def answer_json(code: str, idea: str, *, category: str = "reversal", reflection: str = "") -> str:
    """An answer in the requested format."""
    return json.dumps({"idea": idea, "hypothesis": "stocks overreact and revert", "category": category,
                       "reflection": reflection, "code": code})


def mutating(malformed: Callable[[int], bool] = lambda seed: False) -> Responder:
    """Answer each request with a mutation of its program (drawn from the request's seed); a repair with a
    valid answer, a reflection request with a lesson; `malformed(seed)` picks requests answered with junk."""
    def respond(body: dict) -> Reply:
        last = body["messages"][-1]["content"]
        if "In at most three sentences" in last:
            return Reply("The change helped because it removed noise.")
        repairing = last.startswith("Your answer could not be used")
        if malformed(body["seed"]) and not repairing:
            return Reply("Here is my idea: {\"idea\": \"broken\", code: }")
        code = program_to_improve(body)
        proposal = MutationProposer().propose(Context(Step(code, "parent")), np.random.default_rng(body["seed"]))
        return Reply(answer_json(proposal.code, f"llm: {proposal.idea}", reflection="reversals pay"))
    return respond


def llm_config(path: Path, base_url: str, *, llm: Mapping[str, object] = {},
               budget: Mapping[str, object] = {}) -> Path:
    """Write a run config pointing the llm proposer at `base_url` with fast retries; `llm`, `budget` override."""
    settings = {"base_url": base_url, "model": "scripted", "api_key_env": KEY_ENV, "backoff_s": 0.01,
                "timeout_s": 5.0, **llm}
    lines = ['[search]', 'proposer = "llm"', '', '[llm]', 'prices = {"scripted" = [1.0, 2.0]}',
             *(f"{k} = {json.dumps(v)}" for k, v in settings.items()), '', '[budget]',
             *(f"{k} = {json.dumps(v)}" for k, v in budget.items())]
    path.write_text("\n".join(lines) + "\n")
    return path
