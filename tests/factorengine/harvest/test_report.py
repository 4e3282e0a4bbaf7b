"""`factorengine report`: a run as one self-contained HTML page, lineage diffs and harvest included, browser-checked."""
from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from factorengine.cli import main
from factorengine.harvest import RESULTS, results
from factorengine.harvest.chance import NULL_RESULTS
from factorengine.harvest.report import llm_section
from factorengine.harvest.results_section import deflated_t_sentence
from factorengine.harvest.summary_section import SURVIVORSHIP, SYNTHETIC, summary_section
from factorengine.store import LLMCallRow, Migration, NodeRow, Store
from tests.factorengine.runs import copy_seeds, evolve_args

HEADINGS = ("<h2>Summary", "<h2>Evolution", "<h2>Tree size and depth", "<h2>Failures", "<h2>Top programs",
            "<h2>Generalization", "<h2>Harvest",
            "<h3>Elites", "<h3>Coverage", "<h3>Correlation between elites", "<h3>RankIC over time",
            "<h3>Quantile returns", "<h3>Model portfolio", "<h3>Long-short spread", "<h3>Backtest metrics",
            "<h3>Cost sensitivity", "<h3>RankIC per year", "<h3>Model against the seed baseline")
PNG = '<img src="data:image/png;base64,'
# Appended to a copy of the page: after load, count decoded images and tables onto <body>'s data attributes.
PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  document.body.dataset.images = images.length;
  document.body.dataset.imagesOk = images.filter((i) => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.tables = document.querySelectorAll("table").length;
});
</script>
"""


@dataclass(frozen=True)
class Reports:
    """A small run, what `harvest` printed, and its reports before the harvest and after it (written to the default
    place)."""

    run_dir: Path
    harvest_out: str
    before: Path
    after: Path


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Reports:
    """Evolve two islands on the synthetic market; report; harvest; report again without --out."""
    root = tmp_path_factory.mktemp("report")
    run_dir = root / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FACTORENGINE_DATA", raising=False)
        patch.chdir(root)
        seeds = copy_seeds(tmp_path_factory.mktemp("seeds"))
        # two migration rounds (the first round's migrants arrive at the second) and a few iterations after
        assert main(evolve_args(run_dir, seeds, 18, trials=2, islands=2)) == 0
        assert main(["report", str(run_dir), "--out", str(root / "before")]) == 0
        with contextlib.redirect_stdout(io.StringIO()) as harvest_out:
            assert main(["harvest", str(run_dir), "--threshold", "0.3"]) == 0
        assert main(["report", str(run_dir)]) == 0
    return Reports(run_dir, harvest_out.getvalue(), root / "before" / "index.html", run_dir / "report" / "index.html")


def _top_programs(run_dir: Path) -> tuple[Store, list[NodeRow]]:
    store = Store.open(run_dir / "run.db", read_only=True)
    return store, [n for n in store.top_nodes(len(store.nodes())) if n.kind != "migrant"][:10]


def _article(page: str, node_id: int) -> str:
    return re.search(rf'<article id="node-{node_id}">(.*?)</article>', page, re.DOTALL).group(1)


def _ancestors(store: Store, node_id: int) -> list[NodeRow]:
    """The node and its ancestors up to the seed, through parents and from migrants to their sources."""
    nodes = {n.node_id: n for n in store.nodes()}
    sources = {new: source for e in store.events(Migration) for _, source, new in e.payload.received}
    chain = [nodes[node_id]]
    while chain[-1].kind != "seed":
        node = chain[-1]
        if node.kind != "migrant" and node.parent_id is None:  # an edit of a seed made when the root expanded
            break
        chain.append(nodes[sources[node.node_id] if node.kind == "migrant" else node.parent_id])
    return chain


def test_the_report_is_one_self_contained_file_with_every_section(reports):
    page = reports.after.read_text()
    assert os.listdir(reports.after.parent) == ["index.html"]
    for external in ('src="http', "<link", "<script", "url("):
        assert external not in page
    for heading in HEADINGS:
        assert heading in page
    assert page.count(PNG) == page.count("<img ") >= 9
    store, top = _top_programs(reports.run_dir)
    with store:
        assert html.escape(store.program(top[0].program_id)) in _article(page, top[0].node_id)
    assert html.escape(top[0].idea) in page and "<h2>LLM" not in page  # no LLM calls: no LLM section


def test_the_summary_opens_the_report_with_the_harvest_verdicts_and_the_segment_dates(reports):
    page = reports.after.read_text()
    summary = page[page.index("<h2>Summary"):page.index("<h2>Evolution")]
    harvest = results.load(reports.run_dir / "harvest")
    rank_ic = {key: model.metrics["test"].rank_ic for key, model in harvest.models.items()}
    assert page.index("<h2>Summary") < page.index("<h2>Evolution")
    assert (f"{harvest.cleared} program(s) cleared valid FS 0.30; {len(harvest.elites)} elite(s) were kept "
            f"(the best by valid FS, since none cleared it). {harvest.held_sign_share:.2%} of them held their sign "
            "on test.") in summary
    assert (f"Test RankIC of the combinations: LightGBM {rank_ic['elites', 'LightGBM']:.4f} on the elites against "
            f"{rank_ic['seeds', 'LightGBM']:.4f} on the seeds; rank average {rank_ic['elites', 'rank average']:.4f} "
            f"on the elites against {rank_ic['seeds', 'rank average']:.4f} on the seeds.") in summary
    start, stop = harvest.splits["test"]
    assert f"<td>test</td><td>{harvest.dates[start][:10]}</td><td>{harvest.dates[stop - 1][:10]}</td>" in summary
    assert SYNTHETIC in summary and SURVIVORSHIP not in summary and f"factorengine null {reports.run_dir}" in summary


def test_harvest_prints_the_segments_then_the_verdict_the_held_sign_share_and_each_model_s_test_rank_ic(reports):
    harvest = results.load(reports.run_dir / "harvest")
    segments, *lines = reports.harvest_out.splitlines()
    assert segments.startswith("segments: train ")
    assert lines[0] == harvest.verdict.line() and lines[0].startswith("verdict: on test ")
    assert lines[1].endswith(f"rejected); {harvest.held_sign_share:.0%} of them held their sign on test")
    for key, model in harvest.models.items():
        assert f"{key}: test IC {model.metrics['test'].ic:.4f}" in reports.harvest_out
    assert [line.split(":")[0] for line in lines[2:6]] == [
        "LightGBM on elites", "rank average on elites", "LightGBM on seeds", "rank average on seeds"]


def test_the_verdict_line_heads_the_report_under_its_title(reports):
    page = reports.after.read_text()
    verdict = results.load(reports.run_dir / "harvest").verdict.line()
    assert page.index("<h1>") < page.index(f'<p class="verdict">{html.escape(verdict, quote=False)}</p>') < page.index(
        "<table>")
    assert page.count("verdict:") == 1


def test_the_elites_table_shows_held_sign_and_deflated_t_and_explains_deflated_t(reports):
    page = reports.after.read_text()
    elites = page[page.index("<h3>Elites"):page.index("<h3>Coverage")]
    tries = json.loads((reports.run_dir / "harvest" / "manifest.json").read_text())["tries"]
    assert "<th>held sign on test</th>" in elites and "<th>deflated t</th>" in elites
    assert html.escape(deflated_t_sentence(tries)) in elites
    assert deflated_t_sentence(120) == ("deflated t: the valid RankIC t-statistic corrected for the 120 parameter sets "
                                        "the run tried; above 1.645 it beats the best of 120 noise factors at 5 %.")


def test_the_model_table_shows_the_four_combinations_on_test(reports):
    page = reports.after.read_text()
    table = page[page.index("<h3>Model against the seed baseline"):]
    for factors, combiner in (("elites", "LightGBM"), ("elites", "rank average"), ("seeds", "LightGBM"),
                              ("seeds", "rank average")):
        assert f"<td>{factors}</td><td>{combiner}</td>" in table


def test_a_run_harvested_before_the_verdict_still_reports_and_says_to_harvest_again(reports, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(reports.run_dir, run_dir, ignore=shutil.ignore_patterns("report"))
    path = run_dir / "harvest" / RESULTS
    plain = json.loads(path.read_text())
    del plain["verdict"]
    path.write_text(json.dumps(plain, allow_nan=True))
    assert main(["report", str(run_dir), "--out", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "index.html").read_text()
    assert "verdict:" not in page and "<h3>Model against the seed baseline" in page
    assert ("This harvest has no verdict, since it was written before FactorEngine judged the elites' models against "
            "the seeds'; run <code>factorengine harvest</code> again.") in page


def test_the_summary_warns_of_survivorship_on_a_real_panel_and_states_the_chance_level(tmp_path):
    (tmp_path / NULL_RESULTS).write_text(json.dumps({
        "chance": {"tries": 120, "level": 0.31}, "programs": [
            {"above_chance": 0.05, "significant": True}, {"above_chance": -0.01, "significant": False}]}))
    summary = summary_section({"path": "/data/us_main_daily.parquet"}, (), tmp_path, None)
    assert SURVIVORSHIP in summary and SYNTHETIC not in summary
    assert "the best of 120 tries reaches valid FS 0.3100; 1 of the 2 best programs are above it and 1 stay" in summary
    assert f"factorengine harvest {tmp_path}" in summary


def test_each_top_program_s_code_is_folded_under_its_line_count(reports):
    page = reports.after.read_text()
    store, top = _top_programs(reports.run_dir)
    with store:
        code = store.program(top[0].program_id)
    folded = f"<details>\n<summary>code ({len(code.splitlines())} lines)</summary>\n<pre>{html.escape(code)}</pre>"
    assert folded in _article(page, top[0].node_id)
    assert page.count("<summary>code (") == len(top)


def test_the_lineage_of_a_searched_node_diffs_its_seed_into_it(reports):
    page = reports.after.read_text()
    store, top = _top_programs(reports.run_dir)
    with store:
        node = next(n for n in top if n.kind != "seed" and n.depth >= 3 and not any(
            a.kind == "migrant" for a in _ancestors(store, n.node_id)))
        seed = _ancestors(store, node.node_id)[-1]
        before, after = (store.program(n.program_id).splitlines() for n in (seed, node))
    article = _article(page, node.node_id)
    assert article.index(f"--- node {seed.node_id}") < article.rindex(f"+++ node {node.node_id}")
    assert {line for line in before if line not in after} and {line for line in after if line not in before}
    for line in set(before) - set(after):
        assert html.escape(f"-{line}") in article
    for line in set(after) - set(before):
        assert html.escape(f"+{line}") in article


def test_the_lineage_of_a_migrant_descendant_goes_back_to_the_seed_of_the_sending_island(reports):
    page = reports.after.read_text()
    store, top = _top_programs(reports.run_dir)
    with store:
        chains = [_ancestors(store, n.node_id) for n in top]
    chain = next((c for c in chains if any(a.kind == "migrant" for a in c)), None)
    assert chain is not None, "no top program of the test run descends from a migrant"
    article = _article(page, chain[0].node_id)
    assert chain[-1].island != chain[0].island
    assert f"from seed node {chain[-1].node_id} " in article
    for ancestor in chain[1:-1]:
        assert f"node {ancestor.node_id} →" in article


def test_without_harvest_results_the_report_says_to_run_harvest_and_still_renders(reports):
    page = reports.before.read_text()
    assert f"factorengine harvest {reports.run_dir}" in page
    assert "<h2>Top programs" in page and "<h3>Elites" not in page and page.rstrip().endswith("</html>")
    assert page.count(PNG) == 4  # evolution, tree, failures, generalization


def test_a_directory_without_a_run_is_an_error(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith("error: no run database at ")
    assert not (tmp_path / "out").exists()


def test_llm_usage_totals_calls_tokens_and_cost_only_when_the_run_made_calls(tmp_path):
    with Store.create(tmp_path / "run.db", config={}, fingerprint="f", seed=0) as store:
        assert llm_section(store) == ""
        with store.transaction():
            for key, purpose, tokens, cost in (("a", "propose", (80, 20), 0.25), ("b", "repair", (40, 10), 0.5)):
                store.add_llm_call(LLMCallRow(key, purpose, 0, "m", {}, "{}", "stop", None, *tokens, cost, 1.0))
        section = llm_section(store)
    assert "<h2>LLM usage" in section
    assert "<td>calls</td><td>2</td>" in section and "<td>tokens</td><td>150</td>" in section
    assert "<td>cost (USD)</td><td>0.7500</td>" in section and "<td>repair calls</td><td>1</td>" in section


def test_the_report_renders_in_a_headless_browser_with_every_image_decoded(chromium, reports, tmp_path):
    source = reports.after.read_text()
    page = tmp_path / "index.html"
    page.write_text(source.replace("</body>", PROBE + "</body>"))
    command = [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom",
               page.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    body = dict(re.findall(r'data-([a-z-]+)="(\d+)"', re.search(r"<body([^>]*)>", dom).group(1)))
    images = source.count("<img ")
    assert body == {"images": str(images), "images-ok": str(images), "tables": str(source.count("<table>"))}


def test_the_generalization_section_shows_the_chance_level_once_null_has_run(reports):
    from factorengine.harvest.chance import NULL_RESULTS
    from factorengine.harvest.report import generalization_section

    with Store.open(reports.run_dir / "run.db", read_only=True) as store:
        assert "<h3>Chance level" not in generalization_section(store, reports.run_dir)
        assert main(["null", str(reports.run_dir), "--top", "2", "--shuffles", "3"]) == 0
        section = generalization_section(store, reports.run_dir)
    (reports.run_dir / NULL_RESULTS).unlink()
    assert "<h3>Chance level" in section and "top 10 by valid FS: mean test FS" in section
