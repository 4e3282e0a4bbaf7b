"""The llm proposer: valid answers, one repair round, fallback to mutate, budget stop, reflection."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from factorengine.config import BudgetConfig, LLMConfig, RunConfig
from factorengine.llm.client import LLMClient
from factorengine.llm.scripted import Reply, ScriptedServer
from factorengine.proposers.base import Context, Proposal, ProposalFailure, Step
from factorengine.proposers.llm import LLMProposer
from factorengine.store import LLMFallback, Store
from tests.factorengine.llm.scripts import KEY, KEY_ENV, answer_json
from tests.factorengine.runs import ROOT

PARENT = Step((ROOT / "seeds" / "close_location.py").read_text(), "seed close_location", 0.05, 0.04)
NEW = PARENT.code.replace("return", "return -1.0 *", 1)
GOOD = answer_json(NEW, "flip the sign", category="Reversal")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    with Store.create(tmp_path / "run.db", config={}, fingerprint="f", seed=0) as store:
        yield store


def _proposer(store: Store, server: ScriptedServer | None, *, reflect: str = "inline", max_calls: int = 0,
              on_exhausted: str = "mutate") -> LLMProposer:
    llm = LLMConfig(base_url=server.base_url if server else "http://127.0.0.1:9/v1", model="scripted",
                    api_key_env=KEY_ENV, max_retries=0, reflect=reflect)
    budget = BudgetConfig(max_calls=max_calls, on_exhausted=on_exhausted)
    config = RunConfig(llm=llm, budget=budget)
    return LLMProposer(LLMClient(llm, budget, store, island=0), config, ["close", "volume", "returns"])


def _propose(proposer: LLMProposer) -> Proposal | ProposalFailure:
    return proposer.propose(Context(parent=PARENT), np.random.default_rng(0))


def test_a_valid_answer_becomes_an_llm_proposal(store):
    with ScriptedServer([Reply(GOOD)]) as server:
        proposal = _propose(_proposer(store, server))
    assert proposal == Proposal(NEW, "flip the sign", "llm", "stocks overreact and revert", "reversal",
                                model="scripted")


def test_a_malformed_answer_is_repaired_with_the_exact_error(store):
    with ScriptedServer([Reply("{\"idea\": \"x\" \"code\": 1}"), Reply(GOOD)]) as server:
        proposal = _propose(_proposer(store, server))
        repair = server.requests[1]["messages"]
    assert proposal.code == NEW
    assert repair[-2] == {"role": "assistant", "content": "{\"idea\": \"x\" \"code\": 1}"}
    assert repair[-1]["content"].startswith("Your answer could not be used: the JSON object does not parse: "
                                            "Expecting ',' delimiter at line 1 column 14")
    assert store.llm_totals().by_purpose == {"propose": 1, "repair": 1}


def test_a_program_the_policy_refuses_is_sent_back_with_the_refusal(store):
    hostile = answer_json("import os\n\n\ndef factor(d):\n    return d.close\n", "read the disk")
    with ScriptedServer([Reply(hostile), Reply(GOOD)]) as server:
        proposal = _propose(_proposer(store, server))
        repair = server.requests[1]["messages"][-1]["content"]
    assert proposal.code == NEW and "policy: line 1" in repair and "os" in repair


def test_an_answer_still_invalid_after_the_repair_is_rejected_with_the_reason(store):
    unchanged = answer_json(PARENT.code, "the same program")
    with ScriptedServer([Reply(unchanged), Reply(unchanged)]) as server:
        failure = _propose(_proposer(store, server))
    assert failure == ProposalFailure("the LLM's answer was rejected after one repair round: unchanged program",
                                      model="scripted")


def test_an_unavailable_llm_falls_back_to_mutate_and_says_why(store):
    failure_or_proposal = _propose(_proposer(store, None))
    assert isinstance(failure_or_proposal, Proposal) and failure_or_proposal.kind != "llm"
    [event] = store.events(LLMFallback)
    assert event.payload.reason.startswith("LLM unavailable: APIConnectionError")


def test_a_spent_budget_falls_back_to_mutate(store):
    with ScriptedServer([Reply(GOOD)], repeat=True) as server:
        proposer = _proposer(store, server, max_calls=1)
        first, second = _propose(proposer), proposer.propose(Context(parent=PARENT), np.random.default_rng(1))
    assert (first.kind, second.kind != "llm", store.llm_totals().calls) == ("llm", True, 1)
    assert "budget is spent" in store.events(LLMFallback)[0].payload.reason


def test_a_spent_budget_stops_the_run_when_configured(store):
    with ScriptedServer([Reply(GOOD)], repeat=True) as server:
        proposer = _proposer(store, server, max_calls=1, on_exhausted="stop")
        _propose(proposer)
        failure = proposer.propose(Context(parent=PARENT), np.random.default_rng(1))
    assert failure.stop and "1 of max 1 calls" in failure.reason


def test_reflect_call_asks_for_a_lesson_on_llm_proposals_only(store):
    with ScriptedServer([Reply("Flipping helped: the signal reverts.")]) as server:
        proposer = _proposer(store, server, reflect="call")
        rng = np.random.default_rng(0)
        lesson = proposer.reflect(PARENT, Proposal(NEW, "flip", "llm"), "train FS 0.05 -> 0.08", rng)
        none = proposer.reflect(PARENT, Proposal(NEW, "flip", "negate"), "train FS 0.05 -> 0.08", rng)
        assert "Outcome: train FS 0.05 -> 0.08" in server.requests[0]["messages"][1]["content"]
    assert (lesson, none) == ("Flipping helped: the signal reverts.", "")


def test_reflect_inline_makes_no_call(store):
    with ScriptedServer([]) as server:
        lesson = _proposer(store, server).reflect(PARENT, Proposal(NEW, "flip", "llm"), "better",
                                                  np.random.default_rng(0))
        assert (lesson, server.requests) == ("", [])
