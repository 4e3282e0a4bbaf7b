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
from factorengine.store import Duplicate, LLMFallback, LLMFault, ModelPull, ProposalFailed, Stopped, Store
from tests.factorengine.llm.scripts import KEY, KEY_ENV, answer_json, llm_config, mutating, program_to_improve
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
    assert any("Reflection when proposed: reversals pay" in text for text in later)  # inline reflections come back


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


BAD = answer_json("from factorengine.ops import rank\n\n\ndef factor(d):\n    return rank(d.close) * 0.0\n",
                  "llm: a flat score")


def test_the_bandit_sends_more_requests_to_the_model_that_gains_more_per_dollar(tmp_path, seeds_dir, capsys):
    good = mutating()
    config = tmp_path / "models.toml"
    config.write_text(llm_config(tmp_path / "base.toml", "http://127.0.0.1:9/v1").read_text().replace(
        '[budget]', 'models = [{name = "good", base_url = "URL", price = [1.0, 2.0]}, '
                    '{name = "bad", base_url = "URL", price = [1.0, 2.0]}]\n\n[budget]'))
    with ScriptedServer(lambda body: good(body) if body["model"] == "good" else Reply(BAD)) as server:
        config.write_text(config.read_text().replace("URL", server.base_url))
        assert main([*evolve_args(tmp_path / "bandit", seeds_dir, ITERATIONS, trials=2), "--config",
                     str(config)]) == 0
        asked = [r["model"] for r in server.requests]
    with _store(tmp_path / "bandit") as store:
        pulls = [e.payload for e in store.events(ModelPull)]
        calls = {model: n for model, (n, _) in store.llm_totals().by_model.items()}
    assert asked[:2] == ["good", "bad"]  # each model is tried once first
    assert asked.count("good") > 2 * asked.count("bad") and calls == {m: asked.count(m) for m in ("bad", "good")}
    assert any(p.gain > 0 for p in pulls if p.model == "good") and all(p.gain == 0 for p in pulls if p.model == "bad")
    assert main(["status", str(tmp_path / "bandit")]) == 0
    assert "llm models: bad 3 calls" in capsys.readouterr().out


def _propose_requests(requests: list[dict]) -> list[str]:
    """The user message of each first propose request (repairs left out), in order."""
    return [r["messages"][1]["content"] for r in requests
            if len(r["messages"]) == 2 and "## The program to improve" in r["messages"][1]["content"]]


def _body(code: str) -> str:
    return code[code.index("def factor"):].strip()


def test_every_propose_request_shows_the_islands_best_program(llm_run):
    run_dir, requests = llm_run
    with _store(run_dir) as store:
        nodes = [(n.iteration, n.node_id, store.evaluation(n.node_id).train, store.program(n.program_id))
                 for n in store.nodes()]
    proposes = _propose_requests(requests)
    assert len(proposes) == ITERATIONS  # one per searched iteration: the k-th asks at iteration 4 + k
    for k, text in enumerate(proposes):
        known = [(train.robust_fs, -node, code) for iteration, node, train, code in nodes
                 if iteration < 4 + k and train is not None and train.robust_fs == train.robust_fs]
        assert _body(max(known)[2]) in text


def test_the_request_after_a_duplicate_shows_the_program_it_repeated(tmp_path, seeds_dir):
    answer = mutating()
    seeds = [(seeds_dir / f"{name}.py").read_text() for name in sorted(p.stem for p in seeds_dir.glob("*.py"))]
    repeated: list[str] = []

    def respond(body: dict) -> Reply:
        if repeated:
            return answer(body)
        parent = program_to_improve(body)
        other = next(code for code in seeds if _body(code) not in parent)  # not the program shown to improve
        repeated.append(re.sub(r"window=(\d+)", lambda m: f"window={int(m.group(1)) + 1}", other, count=1))
        return Reply(answer_json(repeated[0], "llm: a seed again"))

    with ScriptedServer(respond) as server:
        run_dir = _evolve(tmp_path, seeds_dir, "repeat", server.base_url)
        proposes = _propose_requests(server.requests)
    with _store(run_dir) as store:
        duplicate = store.events(Duplicate)[0].payload  # the same code up to its parameters: a duplicate by shape
        node = next(n for n in store.nodes() if n.node_id == duplicate.of)
        code = store.program(node.program_id)
    assert duplicate.detail == f"a repeat of '{node.idea}' (the same code up to its parameters)"
    assert "### The program the latest rejected proposal repeated" in proposes[1] and _body(code) in proposes[1]
