"""Render a run as one self-contained HTML page: summary, evolution, tree shape, failures, top programs, harvest,
LLM use.

Every plot is an embedded PNG (data URI) drawn with matplotlib's object API (`Figure`, rendered by Agg, never
registered with pyplot, so no figure outlives its section); CSS is inline; the page loads nothing from elsewhere.
Program text, ideas and payloads are HTML-escaped. Test metrics appear only in the harvest section.
"""
from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from factorengine.harvest import HARVEST_DIR, results
from factorengine.harvest.chance import NULL_RESULTS
from factorengine.harvest.figures import SHOWN, code_diff, fs_curves, islands, node_scores, top_programs
from factorengine.harvest.generalization import generalization
from factorengine.harvest.markup import image, number, table
from factorengine.harvest.results import HarvestResults, read_json
from factorengine.harvest.results_section import harvest_section
from factorengine.harvest.summary_section import summary_section, verdict_paragraph
from factorengine.search.migration import lineage, migration_origins
from factorengine.store import Duplicate, LLMFallback, NodeRow, ProposalFailed, Store
from factorengine.store.recorded import recorded_segments

TOP = 10

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0 auto;
       max-width: 1100px; padding: 1em 1.5em 4em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
h3 { margin: 1.5em 0 0.3em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top;
         font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
img { max-width: 100%; height: auto; display: block; margin: 0.5em 0; }
pre { background: #f7f7f7; border: 1px solid #e4e4e4; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
.add { color: #1a7f37; background: #e6ffec; }
.del { color: #b31d28; background: #ffebe9; }
.hunk { color: #6f42c1; }
.note { color: #555; font-style: italic; }
.verdict { font-weight: 600; border-left: 4px solid #4c72b0; padding: 0.3em 0.7em; background: #f4f7fb; }
article { border-top: 1px solid #eee; }
details { margin: 0.4em 0 1em; }
summary { cursor: pointer; font-weight: 600; }
"""


def build_report(store: Store, run_dir: Path, harvest: HarvestResults | None,
                 manifest: Mapping[str, Any] | None) -> str:
    """The whole page: every section of the run, and the harvest's when its results are given."""
    sections = [header_section(store, run_dir, harvest),
                summary_section(store.run_info().config.get("data", {}), recorded_segments(store), run_dir, harvest),
                evolution_section(store), tree_section(store),
                failures_section(store), top_programs_section(store), generalization_section(store, run_dir),
                harvest_section(harvest, manifest, run_dir), llm_section(store)]
    title = html.escape(f"FactorEngine report: {run_dir.name}")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f"<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(s for s in sections if s) + "\n</body>\n</html>\n")


def load_harvest(run_dir: Path) -> tuple[HarvestResults | None, dict | None]:
    """The harvest's results and manifest.json under `run_dir`, each None when absent."""
    return results.load_harvest(run_dir / HARVEST_DIR)


def header_section(store: Store, run_dir: Path, harvest: HarvestResults | None) -> str:
    """The title, the harvest's verdict, then run directory, data, configuration highlights, progress per island
    and creation time."""
    info = store.run_info()
    config = info.config
    data = config.get("data", {})
    source = data.get("path") or f"synthetic market (seed {data.get('synthetic_seed')})"
    island_ids = islands(store.nodes())
    created = datetime.fromtimestamp(info.created_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    rows = [("run directory", str(run_dir)), ("data", source), ("data fingerprint", info.fingerprint),
            ("created", created), ("islands", config.get("islands", {}).get("n_islands", len(island_ids))),
            ("search iterations", config.get("search", {}).get("iterations")),
            ("proposer", config.get("search", {}).get("proposer")),
            ("tuning trials per program", config.get("tuning", {}).get("n_trials")),
            ("iterations done", ", ".join(f"island {i}: {store.progress(i) + 1}" for i in island_ids) or "none"),
            ("notes", info.notes)]
    return (f"<h1>FactorEngine run {html.escape(run_dir.name)}</h1>\n" + verdict_paragraph(harvest)
            + table((), [(k, v) for k, v in rows if v not in (None, "")]))


def evolution_section(store: Store) -> str:
    """Best-so-far and running mean of train and valid FS per island against iteration."""
    nodes = store.nodes()
    curves = fs_curves(nodes, node_scores(store, nodes))
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, segment in zip(axes, SHOWN):
        for curve in (c for c in curves if c.segment == segment):
            colour = _colour(curve.island)
            ax.plot(curve.iterations, curve.best, color=colour, drawstyle="steps-post",
                    label=f"island {curve.island} best")
            ax.plot(curve.iterations, curve.mean, color=colour, linestyle="--", label=f"island {curve.island} mean")
        ax.set(title=f"{segment} FS", xlabel="iteration")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("FS")
    axes[1].legend(fontsize="small", loc="lower right")
    return ("<h2>Evolution</h2>\n<p>Best-so-far (solid) and running mean (dashed) FS of the scored programs on "
            "each island, migrant copies included, in the order they were made.</p>\n" + image(fig, "evolution"))


def tree_section(store: Store) -> str:
    """Nodes per island over iterations and the distribution of node depth."""
    nodes = store.nodes()
    island_ids = islands(nodes)
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    size, depth = fig.subplots(1, 2)
    for island in island_ids:
        iterations = [n.iteration for n in nodes if n.island == island]
        size.plot(iterations, np.arange(1, len(iterations) + 1), color=_colour(island), drawstyle="steps-post",
                  label=f"island {island}")
    size.set(title="tree size", xlabel="iteration", ylabel="nodes")
    size.legend(fontsize="small")
    size.grid(alpha=0.3)
    depths = [[n.depth for n in nodes if n.island == island] for island in island_ids]
    top = max((n.depth for n in nodes), default=1)
    depth.hist(depths, bins=np.arange(0.5, top + 1.5), stacked=True, color=[_colour(i) for i in island_ids],
               label=[f"island {i}" for i in island_ids])
    depth.set(title="node depth", xlabel="depth (seeds and migrants are 1)", ylabel="nodes")
    depth.xaxis.get_major_locator().set_params(integer=True)
    return (f"<h2>Tree size and depth</h2>\n<p>{len(nodes)} nodes on {len(island_ids)} island(s); deepest "
            f"{top}.</p>\n" + image(fig, "tree size and depth"))


def failures_section(store: Store) -> str:
    """Failed evaluations by kind, duplicates skipped and proposals that failed."""
    failures = store.count_failures_by_kind()
    skipped = {"duplicate skipped": len(store.events(Duplicate)),
               "proposal failed": len(store.events(ProposalFailed))}
    n_nodes = len(store.nodes())
    intro = (f"<h2>Failures</h2>\n<p>{sum(failures.values())} of {n_nodes} evaluated programs failed; "
             f"{skipped['duplicate skipped']} duplicate proposals were skipped and "
             f"{skipped['proposal failed']} proposals failed before evaluation.</p>\n")
    counts = {**failures, **skipped}
    fig = Figure(figsize=(8, 1.2 + 0.35 * len(counts)), layout="constrained")
    ax = fig.subplots()
    colours = ["#c44e52"] * len(failures) + ["#8c8c8c"] * len(skipped)
    bars = ax.barh(list(counts)[::-1], list(counts.values())[::-1], color=colours[::-1])
    ax.bar_label(bars, padding=3)
    ax.set(xlabel="count", title="failed evaluations by kind (red), skipped proposals (grey)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.margins(x=0.1)
    return intro + image(fig, "failures by kind")


def top_programs_section(store: Store, top: int = TOP) -> str:
    """The best programs by valid FS (migrant copies excluded): a table, then each one's code and lineage."""
    all_nodes = store.nodes()
    nodes = {n.node_id: n for n in all_nodes}
    ranked = top_programs(store, all_nodes, top)
    if not ranked:
        return "<h2>Top programs</h2>\n<p class=\"note\">No program of this run was scored.</p>"
    scores = node_scores(store, ranked)
    rows = [(f'<a href="#node-{n.node_id}">{n.node_id}</a>', n.island, html.escape(n.kind),
             number(scores[n.node_id]["train"]), number(scores[n.node_id]["valid"]), html.escape(n.idea))
            for n in ranked]
    origins = migration_origins(store)
    articles = [_program_article(store, node, lineage(node.node_id, nodes, origins)) for node in ranked]
    return (f"<h2>Top programs</h2>\n<p>The {len(ranked)} best programs by valid FS; the lineage follows parents "
            "and migrations back to the seed.</p>\n"
            + table(["node", "island", "kind", "train FS", "valid FS", "idea"], rows, escape=False)
            + "\n".join(articles))


def generalization_section(store: Store, run_dir: Path) -> str:
    """Test FS of the top programs by valid FS against the seeds', the train-valid gap with its scatter (level
    bets marked), the novelty gate's work, and the chance level when `factorengine null` was run."""
    g = generalization(store)
    rows = [("top 10 by valid FS: mean test FS", number(g.top_test_fs)),
            ("the seeds' top 10 by valid FS: mean test FS", number(g.seeds_top_test_fs)),
            ("mean train FS → mean valid FS", f"{number(g.mean_train_fs)} → {number(g.mean_valid_fs)}"),
            ("rank correlation of train and valid FS", number(g.train_valid_corr, 2)),
            ("duplicates by value (evaluations they cost)", f"{g.value_duplicates} ({g.duplicate_evaluations} of "
                                                            f"{g.evaluations})"),
            ("level bets flagged", g.level_bets)]
    nodes = [n for n in store.nodes() if n.kind != "migrant"]
    scores, profiles = node_scores(store, nodes), store.profiles()
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.subplots()
    for flagged, colour, name in ((False, "#1f77b4", "programs"), (True, "#d62728", "level bets")):
        chosen = [n.node_id for n in nodes if (profiles.get(n.node_id) is not None
                                               and profiles[n.node_id].level_bet) == flagged]
        ax.scatter([scores[n]["train"] for n in chosen], [scores[n]["valid"] for n in chosen], s=12, alpha=0.6,
                   color=colour, label=name)
    ax.axline((0, 0), slope=1, color="#999999", linewidth=0.8)
    ax.set(xlabel="train FS", ylabel="valid FS")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ("<h2>Generalization</h2>\n<p class=\"note\">Test figures are computed for this page only; the search "
            "never sees them.</p>\n" + table((), rows) + image(fig, "train FS against valid FS per program")
            + _chance_table(run_dir))


def _chance_table(run_dir: Path) -> str:
    """The `factorengine null` results, when present."""
    null = read_json(run_dir / NULL_RESULTS)
    if null is None:
        return ""
    chance = null["chance"]
    rows = [(p["node_id"], number(p["valid_fs"]), number(p["above_chance"]), number(p["t"], 2),
             number(p["deflated_t"], 2), number(p["p"], 3), "yes" if p["significant"] else "no")
            for p in null["programs"]]
    return (f"<h3>Chance level</h3>\n<p>On labels shuffled within each day, valid FS has mean "
            f"{number(chance['null_mean'])} and spread {number(chance['null_std'])}; the best of "
            f"{chance['tries']} tries reaches {number(chance['level'])} by chance.</p>\n"
            + table(["node", "valid FS", "above chance", "t", "deflated t", "p", "significant"], rows))


def llm_section(store: Store) -> str:
    """What the LLM calls added up to, per purpose; empty when the run made none."""
    totals = store.llm_totals()
    if not totals.calls:
        return ""
    rows = [("calls", f"{totals.calls:,}"), ("failed calls", f"{totals.failed:,}"), ("tokens", f"{totals.tokens:,}"),
            ("cost (USD)", f"{totals.cost_usd:,.4f}"),
            *((f"{purpose} calls", f"{count:,}") for purpose, count in totals.by_purpose.items()),
            ("fallbacks to mutate", f"{len(store.events(LLMFallback)):,}")]
    return "<h2>LLM usage</h2>\n" + table(["", "total"], rows)


def _program_article(store: Store, node: NodeRow, chain: Sequence[NodeRow]) -> str:
    """One top program: idea, parameters, code and the diffs from its seed down to it."""
    code = store.program(node.program_id) or ""
    steps = [_lineage_step(store, parent, child) for parent, child in zip(chain, chain[1:])]
    body = "\n".join(steps) if steps else '<p class="note">A seed: no ancestors.</p>'
    return (f'<article id="node-{node.node_id}">\n<h3>node {node.node_id} (island {node.island}, '
            f"{html.escape(node.kind)}, depth {node.depth})</h3>\n<p>{html.escape(node.idea)}</p>\n<p>params: <code>"
            f"{html.escape(json.dumps(dict(node.params)))}</code></p>\n<details>\n<summary>code ({len(code.splitlines())} "
            f"lines)</summary>\n<pre>{html.escape(code)}</pre>\n</details>\n"
            f"<details>\n<summary>lineage: {len(chain) - 1} step(s) from seed node {chain[0].node_id} "
            f"({html.escape(chain[0].idea)})</summary>\n{body}\n</details>\n</article>")


def _lineage_step(store: Store, parent: NodeRow, child: NodeRow) -> str:
    """How `child` came from `parent`: its idea, changed parameters and the unified diff of the code."""
    before, after = store.program(parent.program_id) or "", store.program(child.program_id) or ""
    diff = code_diff(before, after, f"node {parent.node_id}", f"node {child.node_id}")
    params = (f"<p>params: <code>{html.escape(json.dumps(dict(parent.params)))}</code> → "
              f"<code>{html.escape(json.dumps(dict(child.params)))}</code></p>\n"
              if parent.params != child.params else "")
    shown = f"<pre>{_diff_html(diff)}</pre>" if diff else '<p class="note">code unchanged</p>'
    return (f"<h4>node {parent.node_id} → node {child.node_id} (island {child.island}, "
            f"{html.escape(child.kind)}): {html.escape(child.idea)}</h4>\n{params}{shown}")


def _diff_html(lines: Iterable[str]) -> str:
    """Diff lines escaped, additions, removals and hunk headers marked for colour."""
    marked = []
    for line in lines:
        kind = ("" if line.startswith(("+++", "---")) else "add" if line.startswith("+")
                else "del" if line.startswith("-") else "hunk" if line.startswith("@@") else "")
        text = html.escape(line)
        marked.append(f'<span class="{kind}">{text}</span>' if kind else text)
    return "\n".join(marked)


def _colour(island: int) -> str:
    """The island's colour in matplotlib's default cycle."""
    return f"C{island % 10}"
