"""Searches with --proposer llm through the real openai client and the scripted server, end to end."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Iterator, Mapping

import pytest

from factorengine.cli import main
from factorengine.llm.scripted import Reply, ScriptedServer
from factorengine.store import LLMFallback, LLMFault, ProposalFailed, Stopped, Store
from tests.factorengine.llm.scripts import KEY, KEY_ENV, llm_config, mutating
from tests.factorengine.runs import copy_seeds, evolve_args, run_tree

pytestmark = pytest.mark.slow
ITERATIONS = 20


@pytest.fixture(scope="module", autouse=True)
def environment() -> Iterator[None]:
    """The key in its variable; the synthetic market whatever FACTORENGINE_DATA says."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, KEY)
        patch.delenv("FACTORENGINE_DATA", raising=False)
        yield


def _evolve(tmp_path: Path, seeds_dir: Path, name: str, base_url: str, *extra: str,
            llm: Mapping[str, object] = {}, budget: Mapping[str, object] = {}) -> Path:
    run_dir = tmp_path / name
    config = llm_config(tmp_path / f"{name}.toml", base_url, llm=llm, budget=budget)
    assert main(["-v", *evolve_args(run_dir, seeds_dir, ITERATIONS, trials=2), "--config", str(config),
                 *extra]) == 0
    return run_dir


def _store(run_dir: Path) -> Store:
    return Store.open(run_dir / "run.db", read_only=True)


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """A 20-iteration llm run; requests whose seed is divisible by 4 are answered with junk first."""
    tmp_path = tmp_path_factory.mktemp("llm_run")
    (tmp_path / "seeds").mkdir()
    seeds_dir = copy_seeds(tmp_path / "seeds")
    with ScriptedServer(mutating(malformed=lambda seed: seed % 4 == 0)) as server:
        run_dir = _evolve(tmp_path, seeds_dir, "live", server.base_url)
        return run_dir, server.requests


def test_a_20_iteration_llm_run_completes_with_llm_nodes(llm_run):
    run_dir, requests = llm_run
    with _store(run_dir) as store:
        kinds = [node.kind for node in store.nodes()]
        assert store.progress(0) == 4 + ITERATIONS - 1
        assert kinds.count("llm") >= 10 and store.llm_totals().calls == len(requests)
        categories = {store.experience(n.node_id).category for n in store.nodes() if n.kind == "llm"}
        assert categories == {"reversal"}


def test_requests_carry_the_chain_of_experience(llm_run):
    _, requests = llm_run
    later = [r["messages"][1]["content"] for r in requests[5:]]
    assert all("### Path 1" in text for text in later)
    assert any("Lesson: reversals pay" in text for text in later)  # inline reflections come back as lessons


def test_requests_never_show_a_test_metric(llm_run):
    run_dir, requests = llm_run
    sent = "\n".join(json.dumps(r) for r in requests)
    with _store(run_dir) as store:
        shown = {f"{e.fs(seg):.4f}" for n in store.nodes() for seg in ("train", "valid")
                 if (e := store.evaluation(n.node_id)).train}
        test_fs = {f"{e.test.fs:.4f}" for n in store.nodes()
                   if (e := store.evaluation(n.node_id, include_test=True)).test}
    assert "test FS" not in sent and "test" not in " ".join(re.findall(r"(\w+) FS", sent))
    assert not [fs for fs in test_fs - shown if fs in sent]


def test_malformed_answers_are_repaired_and_counted_apart(llm_run):
    run_dir, requests = llm_run
    repairs = [r for r in requests if r["messages"][-1]["content"].startswith("Your answer could not be used")]
    with _store(run_dir) as store:
        assert repairs and store.llm_totals().by_purpose["repair"] == len(repairs)
        assert all("does not parse" in r["messages"][-1]["content"] for r in repairs)


def test_replay_reaches_the_same_tree_without_any_request(llm_run, tmp_path, seeds_dir):
    run_dir, _ = llm_run
    replayed = _evolve(tmp_path, seeds_dir, "replayed", "http://127.0.0.1:9/v1", "--llm-replay",
                       str(run_dir / "run.db"))
    assert run_tree(replayed) == run_tree(run_dir)
    with _store(replayed) as store:
        assert not store.events(LLMFault) and not store.events(LLMFallback)


def test_islands_send_their_llm_calls_to_the_driver_and_a_replay_of_them_reaches_the_same_tree(tmp_path, seeds_dir):
    islands = ("--islands", "2", "--iterations", "8")
    with ScriptedServer(mutating()) as server:
        live = _evolve(tmp_path, seeds_dir, "live", server.base_url, *islands)
    with _store(live) as store:
        assert store.llm_totals().calls == len(server.requests) > 0
        assert {node.island for node in store.nodes() if node.kind == "llm"} == {0, 1}
    replayed = _evolve(tmp_path, seeds_dir, "replayed", "http://127.0.0.1:9/v1", *islands, "--llm-replay",
                       str(live / "run.db"))
    assert run_tree(replayed) == run_tree(live)
    with _store(replayed) as store:
        assert not store.events(LLMFault) and not store.events(LLMFallback)


def test_the_api_key_never_reaches_the_store_logs_or_report(tmp_path, seeds_dir, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # openai and httpx log requests at debug level
    faults = iter([Reply(fault="500"), Reply(fault="429")])
    answer = mutating()
    with ScriptedServer(lambda body: next(faults, None) or answer(body)) as server:
        run_dir = _evolve(tmp_path, seeds_dir, "keyed", server.base_url)
        assert {h["authorization"] for h in server.headers} == {f"Bearer {KEY}"}  # the key was used
    assert main(["status", str(run_dir)]) == 0
    assert main(["report", str(run_dir), "--out", str(tmp_path / "report")]) == 0
    written = b"".join(p.read_bytes() for p in [*run_dir.rglob("*"), *(tmp_path / "report").rglob("*")]
                       if p.is_file())
    out = capsys.readouterr()
    assert "HTTP 500" in caplog.text and KEY.encode() not in written
    assert KEY not in out.out + out.err + caplog.text


def test_a_rejected_answer_is_recorded_with_its_reason(tmp_path, seeds_dir):
    with ScriptedServer([Reply("no JSON here")], repeat=True) as server:
        run_dir = _evolve(tmp_path, seeds_dir, "junk", server.base_url)
    with _store(run_dir) as store:
        reasons = {e.payload.detail for e in store.events(ProposalFailed)}
    assert reasons == {"the LLM's answer was rejected after one repair round: the answer holds no JSON object"}


FAULTS = ["timeout", "429", "500", "503", "disconnect", "empty", "truncated", "refusal"]


def test_every_fault_kind_is_survived(tmp_path, seeds_dir):
    answer = mutating()
    script = iter([*(Reply("cut short", fault=f, retry_after=0) for f in FAULTS)])

    def respond(body: dict) -> Reply:
        return next(script, None) or answer(body)

    with ScriptedServer(respond, hang_s=2) as server:
        run_dir = _evolve(tmp_path, seeds_dir, "faults", server.base_url,
                          llm={"max_retries": 1, "timeout_s": 0.5, "cooldown_s": 0.0})
    with _store(run_dir) as store:
        faults = [e.payload.fault for e in store.events(LLMFault)]
        kinds = [n.kind for n in store.nodes()]
        assert store.progress(0) == 4 + ITERATIONS - 1 and len(faults) == len(FAULTS)
        assert len(store.events(LLMFallback)) == len(FAULTS) // 2 and kinds.count("llm") >= 8


def test_the_budget_stops_calls_at_the_limit(tmp_path, seeds_dir):
    with ScriptedServer(mutating()) as server:
        run_dir = _evolve(tmp_path, seeds_dir, "budget", server.base_url, budget={"max_calls": 5})
        assert len(server.requests) == 5
    with _store(run_dir) as store:
        assert store.llm_totals().calls == 5 and store.progress(0) == 4 + ITERATIONS - 1
        assert [n.kind for n in store.nodes()].count("llm") <= 5


def test_a_spent_budget_can_stop_the_run(tmp_path, seeds_dir):
    with ScriptedServer(mutating()) as server:
        run_dir = _evolve(tmp_path, seeds_dir, "stop", server.base_url,
                          budget={"max_calls": 3, "on_exhausted": "stop"})
    with _store(run_dir) as store:
        [stopped] = store.events(Stopped)
        assert "3 of max 3 calls" in stopped.payload.detail and store.progress(0) < 4 + ITERATIONS - 1


def test_status_shows_calls_tokens_cost_debug_share_and_executable_rate(llm_run, capsys):
    run_dir, requests = llm_run
    assert main(["status", str(run_dir)]) == 0
    out = capsys.readouterr().out
    with _store(run_dir) as store:
        totals = store.llm_totals()
        llm = [n for n in store.nodes() if n.kind == "llm"]
    share = totals.by_purpose["repair"] / totals.calls
    assert (f"llm: {len(requests)} calls (0 failed), {totals.tokens:,} tokens, ${totals.cost_usd:.4f}; "
            f"debug share {share:.0%} (repair calls)") in out
    assert f"llm proposals: {sum(not n.failed for n in llm)} of {len(llm)} ran" in out
