"""`factorengine bootstrap`: a sample research note becomes runnable seeds through the scripted server."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from factorengine.cli import main
from factorengine.llm.scripted import Reply, ScriptedServer
from factorengine.program import check_policy, parse_program
from tests.factorengine.llm.scripts import KEY, KEY_ENV, answer_json, llm_config

pytestmark = pytest.mark.usefixtures("synthetic_default")
REPORT = Path(__file__).with_name("data") / "sample_report.md"
IMPORTS = "from factorengine.ops import delay, pct_change, rank, safe_div, ts_corr, ts_mean, ts_std\n\n\n"
PROGRAMS = {  # what the scripted LLM writes for each idea of the note
    "short_term_reversal": "def factor(d, window=5):\n    return -rank(pct_change(d.close, window))\n",
    "volume_confirmed_reversal": "def factor(d, window=5, vol_window=20):\n    return -rank(pct_change(d.close, "
                                 "window)) * rank(safe_div(d.volume, ts_mean(d.volume, vol_window)))\n",
    "range_volatility": "def factor(d, window=20):\n    return -rank(ts_std(safe_div(d.high - d.low, d.close), "
                        "window))\n",
    "close_location": "def factor(d, window=3):\n    return ts_mean(safe_div(d.close - d.low, d.high - d.low), "
                      "window)\n",
    "price_volume_divergence": "def factor(d, window=10):\n    return -ts_corr(d.close, d.volume, window)\n",
    "overnight_gap_reversal": "def factor(d):\n    return -rank(d.open / delay(d.close, 1) - 1)\n",
    "turnover_acceleration": "def factor(d, fast=5, slow=60):\n    return rank(safe_div(ts_mean(d.turnover, fast), "
                             "ts_mean(d.turnover, slow)))\n",
}
LOOKAHEAD = "def factor(d):\n    return -rank(d.open / delay(d.close, -1) - 1)\n"  # the first, wrong answer


def respond(body: dict) -> Reply:
    """Extract the note's ideas; write each; get the gap wrong first (it reads tomorrow's close)."""
    user = body["messages"][1]["content"]
    if user.startswith("The research text below"):
        ideas = [{"name": name.replace("_", " ").title(), "hypothesis": f"{name} hypothesis",
                  "pseudo_code": f"{name}(c, v)"} for name in PROGRAMS]
        return Reply("Found these:\n" + json.dumps({"ideas": ideas}))
    name = re.search(r"Name: (\w+)", user).group(1)
    first = len(body["messages"]) == 2
    code = LOOKAHEAD if name == "overnight_gap_reversal" and first else PROGRAMS[name]
    return Reply(answer_json(IMPORTS + code, f"implement {name}"))


@pytest.fixture
def bootstrapped(tmp_path, monkeypatch, capsys) -> tuple[Path, list[dict], str]:
    monkeypatch.setenv(KEY_ENV, KEY)
    out = tmp_path / "seeds"
    with ScriptedServer(respond) as server:
        config = llm_config(tmp_path / "llm.toml", server.base_url)
        code = main(["bootstrap", str(REPORT), "--out", str(out), "--config", str(config)])
        requests = server.requests
    assert code == 0
    return out, requests, capsys.readouterr().out


def test_the_ideas_that_run_become_seed_files(bootstrapped):
    out, _, _ = bootstrapped
    assert sorted(p.stem for p in out.glob("*.py")) == sorted(set(PROGRAMS) - {"turnover_acceleration"})
    for path in out.glob("*.py"):
        source = path.read_text()
        assert not check_policy(source) and parse_program(source).source == source


def test_each_seed_names_its_provenance_in_the_docstring(bootstrapped):
    out, _, _ = bootstrapped
    doc = (out / "close_location.py").read_text()
    assert doc.startswith('"""close_location hypothesis\n\nBootstrapped from sample_report.md, idea '
                          "'close_location': close_location(c, v)\n\nWritten by scripted in 1 answer(s); train FS ")


def test_a_refused_program_is_fixed_from_the_error_in_its_own_words(bootstrapped):
    out, requests, _ = bootstrapped
    [fix] = [r for r in requests if len(r["messages"]) == 4 and "Name: overnight_gap" in r["messages"][1]["content"]]
    assert "policy: line" in fix["messages"][-1]["content"] and "delay" in fix["messages"][-1]["content"]
    assert "Written by scripted in 2 answer(s)" in (out / "overnight_gap_reversal.py").read_text()


def test_an_idea_that_never_runs_is_given_up_after_the_rounds_with_the_reason(bootstrapped):
    _, _, stdout = bootstrapped
    assert re.search(r"gave up on turnover_acceleration after 3 answer\(s\): policy: refused for this panel: line \d+: "
                     r"the panel has no column 'turnover'; its columns are open, ", stdout)


def test_the_seeds_run_under_eval(bootstrapped, capsys):
    out, _, _ = bootstrapped
    assert main(["eval", str(out)]) == 0
    assert "close_location" in capsys.readouterr().out


def test_a_replayed_bootstrap_writes_the_same_seeds_offline(bootstrapped, tmp_path):
    out, _, _ = bootstrapped
    again = tmp_path / "again"
    config = llm_config(tmp_path / "dead.toml", "http://127.0.0.1:9/v1")
    assert main(["bootstrap", str(REPORT), "--out", str(again), "--config", str(config), "--llm-replay",
                 str(out / "bootstrap.db")]) == 0
    assert {p.name: p.read_text() for p in again.glob("*.py")} == {p.name: p.read_text() for p in out.glob("*.py")}
