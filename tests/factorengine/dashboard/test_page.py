"""The page in headless Chromium (Playwright): loads without console errors, draws both islands' curves, lists the
top programs and the tree, opens a node's code and diff, follows the run as it commits, and shows the harvest."""
import contextlib
import io
import json
import shutil
import urllib.request

import pytest

from factorengine.cli import main
from factorengine.harvest import results
from factorengine.score.failure import FailureKind
from factorengine.store import RUN_DATABASE, LLMCallRow, Store
from tests.factorengine.dashboard.conftest import ITERATIONS, served
from tests.factorengine.store.sample import create, failed, iteration, node, ok

TIMEOUT_MS = 15_000


def _overview(server) -> dict:
    with urllib.request.urlopen(server.url + "api/overview", timeout=30) as response:
        return json.loads(response.read())["overview"]


def _load(page, server) -> None:
    page.goto(server.url)
    page.wait_for_selector("#top-table table", timeout=TIMEOUT_MS)


def test_the_page_loads_without_errors_and_draws_both_islands_train_and_valid_curves(page, run_dir):
    with served(run_dir) as server:
        _load(page, server)
        for chart in ("#curve-train", "#curve-valid"):
            assert page.get_attribute(chart, "data-islands") == "0,1"
            assert page.locator(f"{chart} canvas").count() == 1
            labels = page.locator(f"{chart} .u-legend .u-series th").all_inner_texts()
            assert [label.strip() for label in labels] == ["iteration", "island 0 best", "island 0 mean",
                                                           "island 1 best", "island 1 mean"]
        assert page.is_hidden("#error") and page.errors == []


def test_the_top_programs_and_every_node_of_the_tree_are_listed(page, run_dir):
    with served(run_dir) as server:
        overview = _overview(server)
        _load(page, server)
        listed = page.locator("#top-table tbody tr td:first-child").all_inner_texts()
        assert listed == [str(p["node_id"]) for p in overview["top"]]
        entries = page.locator("#tree-view [data-entry]").evaluate_all("es => es.map(e => Number(e.dataset.entry))")
        assert sorted(entries) == sorted(n["node_id"] for n in overview["tree"])
        assert page.locator("#tree-view h3").all_inner_texts() == [
            f"island {i} ({sum(n['island'] == i for n in overview['tree'])} nodes)" for i in (0, 1)]
        assert page.errors == []


def test_a_top_program_opens_with_its_code_and_its_diff_and_its_lineage_navigates_to_its_parent(page, run_dir):
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        top = [n for n in store.top_nodes(100) if n.kind not in ("seed", "migrant") and n.parent_id is not None]
        child, code = top[0], store.program(top[0].program_id)
    with served(run_dir) as server:
        _load(page, server)
        page.click(f"#top-table a[data-node='{child.node_id}']")
        page.wait_for_selector(f"#node[data-node='{child.node_id}'] pre.code", timeout=TIMEOUT_MS)
        assert page.text_content("#node pre.code") == code
        diff = page.inner_text("#node pre.diff")
        assert diff.startswith(f"--- node {child.parent_id}\n+++ node {child.node_id}\n@@")
        assert page.locator("#node pre.diff span.add").count() > 0
        page.click(f"#node .lineage a[data-node='{child.parent_id}']")
        page.wait_for_selector(f"#node[data-node='{child.parent_id}']", timeout=TIMEOUT_MS)
        assert page.errors == []


@pytest.mark.slow
def test_the_page_follows_the_run_when_it_commits_new_iterations(page, run_dir, tmp_path, monkeypatch):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    with served(copy) as server:
        _load(page, server)
        before = int(page.get_attribute("body", "data-nodes"))
        monkeypatch.delenv("FACTORENGINE_DATA", raising=False)
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["resume", str(copy), "--iterations", str(ITERATIONS + 2)]) == 0
        page.wait_for_function(f"Number(document.body.dataset.nodes) > {before}", timeout=TIMEOUT_MS)
        done = _overview(server)["run"]["done"]
        page.wait_for_function(f"document.getElementById('progress').textContent.includes("
                               f"'island 0: {done['0']}, island 1: {done['1']}')", timeout=TIMEOUT_MS)
        assert page.errors == []


@pytest.mark.slow  # the harvest
def test_test_figures_show_only_once_harvested_with_the_verdict_and_the_elites(page, run_dir, harvested_dir):
    with served(run_dir) as server:
        _load(page, server)
        assert "test FS" not in page.inner_text("body") and page.is_hidden("#verdict")
    harvest = results.load(harvested_dir / "harvest")
    with served(harvested_dir) as server:
        _load(page, server)
        assert page.inner_text("#verdict") == harvest.verdict.line()
        assert "test FS" in page.locator("#top-table th").all_inner_texts()
        elites = page.locator("#harvest-view table").first.locator("tbody td:first-child").all_inner_texts()
        assert elites == [str(e.node_id) for e in harvest.elites]
        assert page.errors == []


def test_failures_with_their_newest_messages_and_llm_use_over_time_are_shown(page, tmp_path):
    with create(tmp_path / RUN_DATABASE) as store:
        iteration(store, node(1), ok(1))
        iteration(store, node(2, parent_id=1, iteration=1, failed=True), failed(2, FailureKind.TIMEOUT))
        with store.transaction():
            for key, tokens, cost in (("a", (800, 200), 0.25), ("b", (400, 100), 0.5)):
                store.add_llm_call(LLMCallRow(key, "propose", 0, "m", {}, "{}", "stop", None, *tokens, cost, 1.0))
    with served(tmp_path) as server:
        _load(page, server)
        assert page.locator("#failures-view tbody td").all_inner_texts()[:3] == [
            "timeout", "1", "2: timeout: details"]
        llm = page.inner_text("#llm-view")
        assert "tokens\t1,500" in llm and "cost (USD)\t0.7500" in llm and "model m\t2 calls, $0.7500" in llm
        assert page.locator("#llm-chart canvas").count() == 1
        assert page.errors == []


def test_a_run_with_no_node_yet_loads_without_errors(page, tmp_path):
    create(tmp_path / RUN_DATABASE).close()
    with served(tmp_path) as server:
        page.goto(server.url)
        page.wait_for_selector("#top-table p.note", timeout=TIMEOUT_MS)
        assert "nothing committed yet" in page.inner_text("#progress")
        assert page.inner_text("#tree-view") == "No node yet." and page.errors == []
