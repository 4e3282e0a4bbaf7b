"""The LLM client against the scripted server: cache, replay, retries, breaker and budget."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from factorengine.config import BudgetConfig, LLMConfig
from factorengine.llm.client import BudgetExhausted, LLMClient, LLMUnavailable
from factorengine.llm.scripted import Reply, ScriptedServer
from factorengine.store import LLMFault, LLMTotals, Store
from tests.factorengine.llm.scripts import KEY, KEY_ENV

ASK = [{"role": "user", "content": "Propose a factor." * 10}]  # 170 characters: 43 prompt tokens by the server


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path):
    with Store.create(tmp_path / "run.db", config={}, fingerprint="f", seed=0) as store:
        yield store


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def _client(store: Store, server: ScriptedServer | None, *, sleeps: list[float] | None = None,
            clock: Clock | None = None, budget: BudgetConfig = BudgetConfig(), replay: Store | None = None,
            spent: Callable[[], LLMTotals] | None = None, **llm: object) -> LLMClient:
    settings = dict(base_url=server.base_url if server else "http://127.0.0.1:9/v1", model="scripted",
                    api_key_env=KEY_ENV, max_retries=2, backoff_s=0.5, cooldown_s=60.0,
                    prices={"scripted": [1.0, 2.0]}) | llm
    return LLMClient(LLMConfig(**settings), budget, store, island=0, replay=replay, spent=spent,
                     sleep=(sleeps if sleeps is not None else []).append, clock=clock or Clock())


def test_an_answer_is_returned_and_stored_with_its_tokens_and_cost(store):
    with ScriptedServer([Reply("momentum")]) as server:
        assert _client(store, server).complete(ASK, purpose="propose", seed=1) == "momentum"
    totals = store.llm_totals()
    assert (totals.calls, totals.tokens, totals.by_purpose) == (1, 43 + 3, {"propose": 1})
    assert totals.cost_usd == pytest.approx((43 * 1.0 + 3 * 2.0) / 1e6)


def test_the_same_request_again_is_answered_from_the_store(store):
    with ScriptedServer([Reply("momentum"), Reply("value")]) as server:
        client = _client(store, server)
        first, again = (client.complete(ASK, purpose="propose", seed=1) for _ in range(2))
        assert (first, again, len(server.requests)) == ("momentum", "momentum", 1)


def test_another_seed_makes_another_request(store):
    with ScriptedServer([Reply("momentum"), Reply("value")]) as server:
        client = _client(store, server)
        answers = [client.complete(ASK, purpose="propose", seed=seed) for seed in (1, 2)]
        assert answers == ["momentum", "value"] and [r["seed"] for r in server.requests] == [1, 2]


def test_extra_body_is_sent_with_the_request(store):
    with ScriptedServer([Reply("momentum")]) as server:
        _client(store, server, extra_body={"reasoning_effort": "low"}).complete(ASK, purpose="propose", seed=1)
        assert server.requests[0]["reasoning_effort"] == "low" and server.requests[0]["max_tokens"] == 4096


def test_a_429_waits_as_long_as_retry_after_asks(store):
    sleeps: list[float] = []
    with ScriptedServer([Reply(fault="429", retry_after=3), Reply("momentum")]) as server:
        assert _client(store, server, sleeps=sleeps).complete(ASK, purpose="propose", seed=1) == "momentum"
    assert sleeps == [3.0]
    [fault] = store.events(LLMFault)
    assert fault.payload.fault.startswith("HTTP 429")


@pytest.mark.parametrize("fault", ["500", "503", "timeout", "disconnect", "empty", "truncated", "refusal"])
def test_a_fault_is_retried_with_backoff_and_then_answered(store, fault):
    sleeps: list[float] = []
    with ScriptedServer([Reply("half of an answer", fault=fault), Reply("momentum")], hang_s=3) as server:
        client = _client(store, server, sleeps=sleeps, timeout_s=0.3)
        assert client.complete(ASK, purpose="propose", seed=1) == "momentum"
    assert sleeps == [0.5] and len(store.events(LLMFault)) == 1


def test_backoff_doubles_and_a_call_failing_every_retry_is_stored_as_failed(store):
    sleeps: list[float] = []
    with ScriptedServer([Reply(fault="500")], repeat=True) as server:
        with pytest.raises(LLMUnavailable, match=r"HTTP 500.*gave up after 3 attempts"):
            _client(store, server, sleeps=sleeps).complete(ASK, purpose="propose", seed=1)
        assert len(server.requests) == 3
    assert sleeps == [0.5, 1.0]
    assert (store.llm_totals().calls, store.llm_totals().failed) == (1, 1)


def test_the_breaker_stops_requests_for_the_cooldown_then_tries_again(store):
    clock = Clock()
    with ScriptedServer([Reply(fault="503"), Reply("momentum")]) as server:
        client = _client(store, server, clock=clock, max_retries=0)
        with pytest.raises(LLMUnavailable, match="HTTP 503"):
            client.complete(ASK, purpose="propose", seed=1)
        clock.now = 59.0
        with pytest.raises(LLMUnavailable, match="trying it again in 1 s"):
            client.complete(ASK, purpose="propose", seed=2)
        assert len(server.requests) == 1
        clock.now = 60.0
        assert client.complete(ASK, purpose="propose", seed=1) == "momentum"  # the failed call is asked again


def test_a_refused_connection_is_a_fault_not_a_crash(store):
    with pytest.raises(LLMUnavailable, match="APIConnectionError.*gave up after 1 attempt"):
        _client(store, None, max_retries=0).complete(ASK, purpose="propose", seed=1)


def test_the_budget_refuses_calls_past_max_calls(store):
    with ScriptedServer([Reply("a"), Reply("b"), Reply("c")]) as server:
        client = _client(store, server, budget=BudgetConfig(max_calls=2))
        assert [client.complete(ASK, purpose="propose", seed=s) for s in (1, 2)] == ["a", "b"]
        with pytest.raises(BudgetExhausted, match=r"2 of max 2 calls"):
            client.complete(ASK, purpose="propose", seed=3)
        assert client.complete(ASK, purpose="propose", seed=1) == "a"  # answered from the store: no cost
        assert len(server.requests) == 2


def test_the_budget_counts_the_whole_runs_calls_when_told_them(store):
    run_so_far = LLMTotals(calls=2, failed=0, tokens=300, cost_usd=0.0, by_purpose={"propose": 2},
                           by_model={"scripted": (2, 0.0)})
    with ScriptedServer([Reply("a")]) as server:
        client = _client(store, server, budget=BudgetConfig(max_calls=2), spent=lambda: run_so_far)
        with pytest.raises(BudgetExhausted, match=r"2 of max 2 calls"):
            client.complete(ASK, purpose="propose", seed=1)
        assert not server.requests


def test_the_budget_refuses_calls_past_max_cost(store):
    with ScriptedServer([Reply("a")], repeat=True) as server:
        client = _client(store, server, budget=BudgetConfig(max_cost_usd=1e-4))
        answered = 0
        with pytest.raises(BudgetExhausted, match="USD"):
            for seed in range(100):
                client.complete(ASK, purpose="propose", seed=seed)
                answered += 1
    assert answered == 3 and store.llm_totals().cost_usd >= 1e-4  # 45 micro-USD a call


def test_replay_answers_from_the_recorded_run_without_any_request(store, tmp_path):
    with ScriptedServer([Reply("momentum")]) as server:
        _client(store, server).complete(ASK, purpose="propose", seed=1)
    with Store.create(tmp_path / "replay.db", config={}, fingerprint="f", seed=0) as replaying:
        client = _client(replaying, None, replay=store)
        assert client.complete(ASK, purpose="propose", seed=1) == "momentum"
        with pytest.raises(LLMUnavailable, match="the replayed run made no such request"):
            client.complete(ASK, purpose="propose", seed=2)
        assert replaying.llm_totals().calls == 1  # the replayed call is recorded, so this run replays too
