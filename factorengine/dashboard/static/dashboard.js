// The dashboard page: polls /api/version, redraws from /api/overview when the run changed, opens nodes from
// /api/node/ID. Every text from the run goes in as textContent, never as markup.
"use strict";

const POLL_MS = 3000;
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"];
const charts = {};
const openBranches = new Map();  // node id -> whether its branch of the tree is open, as the user left it
let shownVersion = null;
let harvested = false;

function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      element.append(child instanceof Node ? child : String(child));
    }
  }
  return element;
}

function num(x, digits = 4) {
  return x === null || x === undefined ? "–" : x.toFixed(digits);
}

function nodeLink(id) {
  return el("a", {href: `#node-${id}`, class: "node-link", "data-node": id}, String(id));
}

function table(columns, rows) {
  const head = columns.length ? el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", {}, c)))) : null;
  return el("table", {}, head,
            el("tbody", {}, ...rows.map((row) => el("tr", {}, ...row.map((cell) => el("td", {}, cell))))));
}

function fill(id, ...children) {
  document.getElementById(id).replaceChildren(...children);
}

function ago(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h ago`;
  return `${(seconds / 86400).toFixed(1)} days ago`;
}

async function getJSON(url) {
  const response = await fetch(url, {cache: "no-store"});
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function showError(message) {
  const error = document.getElementById("error");
  error.hidden = !message;
  error.textContent = message ? `error: ${message}` : "";
}

async function poll() {
  try {
    const {version} = await getJSON("/api/version");
    if (version !== shownVersion) {
      const data = await getJSON("/api/overview");
      render(data);
      shownVersion = data.version;
    }
    showError(null);
  } catch (error) {
    showError(error.message);
  } finally {
    document.getElementById("live").textContent =
      `live: checks the run every ${POLL_MS / 1000} s; last checked ${new Date().toLocaleTimeString()}`;
    setTimeout(poll, POLL_MS);
  }
}

function render({overview, harvest}) {
  harvested = overview.run.harvested;
  renderHeader(overview.run, harvest);
  renderCurves(overview.curves);
  renderTop(overview.top);
  renderTree(overview.tree);
  renderFailures(overview.failures);
  renderLLM(overview.llm, overview.run);
  renderTuning(overview.tuning, overview.tree);
  renderHarvest(harvest, overview.run);
  document.body.dataset.nodes = overview.run.nodes;
}

function renderHeader(run, harvest) {
  const name = run.run_dir.split("/").filter(Boolean).pop();
  document.title = `FactorEngine: ${name}`;
  document.getElementById("title").textContent = `FactorEngine run ${name}`;
  const verdict = document.getElementById("verdict");
  verdict.hidden = !(harvest && harvest.verdict);
  verdict.textContent = harvest && harvest.verdict ? harvest.verdict : "";
  const created = new Date(run.created_at * 1000).toLocaleString();
  document.getElementById("about").textContent =
    `${run.run_dir} · data: ${run.data} · proposer: ${run.proposer} · ${run.n_islands} island(s), ` +
    `${run.iterations} search iterations each after the seeds · created ${created}`;
  const done = Object.entries(run.done).map(([island, n]) => `island ${island}: ${n}`).join(", ");
  const last = run.last_commit === null ? "nothing committed yet"
    : `last commit ${ago(Date.now() / 1000 - run.last_commit)}`;
  document.getElementById("progress").textContent =
    `iterations committed: ${done} · ${run.nodes} nodes · ${last}` + (run.harvested ? " · harvested" : "");
}

function curveChart(id, segment, curves) {
  const own = curves.filter((c) => c.segment === segment);
  const container = document.getElementById(id);
  if (charts[id]) charts[id].destroy();
  delete charts[id];
  container.dataset.islands = own.map((c) => c.island).join(",");
  if (!own.length) {
    container.replaceChildren(el("p", {class: "note"}, `No program scored on ${segment} yet.`));
    return;
  }
  container.replaceChildren();
  const data = uPlot.join(own.map((c) => [c.iterations, c.best, c.mean]));
  const series = [{label: "iteration"}];
  for (const c of own) {
    const stroke = COLOURS[c.island % COLOURS.length];
    series.push({label: `island ${c.island} best`, stroke, width: 2, spanGaps: true,
                 paths: uPlot.paths.stepped({align: 1}), value: (u, v) => num(v)});
    series.push({label: `island ${c.island} mean`, stroke, width: 1.5, dash: [6, 4], spanGaps: true,
                 value: (u, v) => num(v)});
  }
  const options = {title: `${segment} FS`, width: Math.max(container.clientWidth, 400), height: 280, series,
                   scales: {x: {time: false}}, axes: [{label: "iteration"}, {label: "FS"}]};
  charts[id] = new uPlot(options, data, container);
}

function renderCurves(curves) {
  curveChart("curve-train", "train", curves);
  curveChart("curve-valid", "valid", curves);
}

function renderTop(top) {
  if (!top.length) {
    fill("top-table", el("p", {class: "note"}, "No program of this run was scored yet."));
    return;
  }
  const columns = ["node", "island", "kind", "depth", "train FS", "valid FS", ...(harvested ? ["test FS"] : []),
                   "idea"];
  const rows = top.map((p) => [nodeLink(p.node_id), p.island, p.kind, p.depth, num(p.train_fs), num(p.valid_fs),
                               ...(harvested ? [num(p.test_fs)] : []), p.idea]);
  fill("top-table", table(columns, rows));
}

function treeEntry(node) {
  const label = el("span", {class: node.failed ? "failed" : node.kind === "migrant" ? "migrant" : null},
                   nodeLink(node.node_id), ` ${node.kind} · valid FS ${num(node.valid_fs)}` +
                   (node.failed ? " · failed" : "") + ` · ${node.idea}`);
  label.dataset.entry = node.node_id;
  return label;
}

function treeBranch(node, children) {
  const kids = children.get(node.node_id) || [];
  if (!kids.length) return el("li", {class: "leaf"}, treeEntry(node));
  const open = openBranches.has(node.node_id) ? openBranches.get(node.node_id) : node.depth < 2;
  const details = el("details", open ? {open: ""} : {}, el("summary", {}, treeEntry(node), ` (${kids.length})`),
                     el("ul", {}, ...kids.map((kid) => treeBranch(kid, children))));
  details.addEventListener("toggle", () => openBranches.set(node.node_id, details.open));
  return el("li", {}, details);
}

function renderTree(tree) {
  const byId = new Map(tree.map((n) => [n.node_id, n]));
  const children = new Map();
  const roots = new Map();  // island -> its nodes without a parent on the tree
  for (const node of tree) {
    if (node.parent_id !== null && byId.has(node.parent_id)) {
      if (!children.has(node.parent_id)) children.set(node.parent_id, []);
      children.get(node.parent_id).push(node);
    } else {
      if (!roots.has(node.island)) roots.set(node.island, []);
      roots.get(node.island).push(node);
    }
  }
  const islands = [...roots.keys()].sort((a, b) => a - b).map((island) => {
    const own = tree.filter((n) => n.island === island);
    return el("div", {"data-island": island}, el("h3", {}, `island ${island} (${own.length} nodes)`),
              el("ul", {}, ...roots.get(island).map((root) => treeBranch(root, children))));
  });
  fill("tree-view", ...(islands.length ? islands : [el("p", {class: "note"}, "No node yet.")]));
  markCurrent();
}

function renderFailures(failures) {
  const kinds = Object.keys(failures.by_kind);
  const rows = kinds.map((kind) => [kind, failures.by_kind[kind],
    el("ul", {}, ...(failures.latest[kind] || []).map(([id, reason]) => el("li", {}, nodeLink(id), `: ${reason}`)))]);
  const proposals = failures.latest_proposal_failures.map((detail) => el("li", {}, detail));
  fill("failures-view",
       el("p", {}, `${kinds.reduce((sum, k) => sum + failures.by_kind[k], 0)} failed evaluations; ` +
                   `${failures.duplicates} duplicate proposals skipped; ${failures.proposals_failed} proposals ` +
                   "failed before evaluation."),
       kinds.length ? table(["kind", "count", "latest"], rows) : el("p", {class: "note"}, "No evaluation failed."),
       proposals.length ? el("div", {}, el("h3", {}, "Latest proposals that failed"), el("ul", {}, ...proposals))
         : "");
}

function renderLLM(llm, run) {
  if (charts["llm-chart"]) charts["llm-chart"].destroy();
  delete charts["llm-chart"];
  fill("llm-chart");
  const totals = llm.totals;
  if (!totals.calls) {
    fill("llm-view", el("p", {class: "note"}, `No LLM calls (the run's proposer is ${run.proposer}).`));
    return;
  }
  const rows = [["calls", totals.calls], ["failed calls", totals.failed],
                ["tokens", totals.tokens.toLocaleString()], ["cost (USD)", totals.cost_usd.toFixed(4)],
                ...Object.entries(totals.by_purpose).map(([purpose, n]) => [`${purpose} calls`, n]),
                ...Object.entries(totals.by_model).map(([model, [n, usd]]) => [`model ${model}`,
                                                                           `${n} calls, $${usd.toFixed(4)}`]),
                ["fallbacks to mutate", llm.fallbacks]];
  fill("llm-view", table([], rows));
  const container = document.getElementById("llm-chart");
  const series = [{}, {label: "tokens", stroke: COLOURS[0], width: 2, scale: "tokens"},
                  {label: "cost (USD)", stroke: COLOURS[3], width: 2, scale: "usd", value: (u, v) => num(v)}];
  const axes = [{}, {scale: "tokens", label: "tokens"}, {scale: "usd", side: 1, label: "USD", grid: {show: false}}];
  charts["llm-chart"] = new uPlot({title: "cumulative tokens and cost over time", series, axes, height: 260,
                                   width: Math.max(container.clientWidth, 400)},
                                  [llm.times, llm.cumulative_tokens, llm.cumulative_cost_usd], container);
}

function renderTuning(tuning, tree) {
  if (charts["tuning-chart"]) charts["tuning-chart"].destroy();
  delete charts["tuning-chart"];
  fill("tuning-chart");
  if (!tuning.programs) {
    fill("tuning-view", el("p", {class: "note"}, "No program was tuned (tuning off, or none scored yet)."));
    return;
  }
  const gains = tuning.gains.map(([, gain]) => gain).sort((a, b) => a - b);
  const median = gains.length ? gains[Math.floor((gains.length - 1) / 2)] : null;
  const sharp = tuning.drops.filter(([id]) => tuning.sharp.includes(id)).sort((a, b) => b[1] - a[1]);
  const rows = [["programs tuned", tuning.programs], ["trials", tuning.trials],
                ["failed trials", tuning.failed_trials], ["repeats not rerun", tuning.repeats],
                ["programs with knobs lifted", tuning.lifted],
                ["median gain in train FS over the proposed defaults", num(median)],
                ["sharp optima (neighbours lose over half the best train FS)", `${sharp.length} of ` +
                 `${tuning.drops.length}`]];
  fill("tuning-view", table([], rows),
       sharp.length ? el("p", {}, "Sharpest: ", ...sharp.slice(0, 10).flatMap(([id, drop]) =>
         [nodeLink(id), ` (${(100 * drop).toFixed(0)} %) `])) : "");
  if (!tuning.gains.length) return;
  const container = document.getElementById("tuning-chart");
  const nodes = new Map(tree.map((n) => [n.node_id, n]));
  const islands = [...new Set(tree.map((n) => n.island))].sort((a, b) => a - b);
  const tables = islands.map((island) => {
    const own = tuning.gains.filter(([id]) => nodes.get(id).island === island)
      .map(([id, gain]) => [nodes.get(id).iteration, gain]).sort((a, b) => a[0] - b[0]);
    return [own.map(([iteration]) => iteration), own.map(([, gain]) => gain)];
  });
  const series = [{label: "iteration"}, ...islands.map((island) => ({
    label: `island ${island}`, stroke: COLOURS[island % COLOURS.length], paths: () => null,
    points: {show: true, size: 6}, value: (u, v) => num(v)}))];
  charts["tuning-chart"] = new uPlot({
    title: "tuning gain in train FS over the proposed defaults, per program", height: 240,
    width: Math.max(container.clientWidth, 400), scales: {x: {time: false}},
    axes: [{label: "iteration"}, {label: "gain"}], series}, uPlot.join(tables), container);
}

function harvestTable({columns, rows}) {
  return table(columns, rows.map((row) => row.map((cell, i) => columns[i] === "node" ? nodeLink(cell) : cell)));
}

function renderHarvest(harvest, run) {
  if (!harvest) {
    fill("harvest-view", el("p", {class: "note"}, "Not harvested yet: ",
                            el("code", {}, `factorengine harvest ${run.run_dir}`),
                            " chooses the elites, combines them and judges them on test; test figures stay " +
                            "hidden until then."));
    return;
  }
  fill("harvest-view",
       harvest.verdict ? "" : el("p", {class: "note"}, "This harvest has no verdict; run factorengine harvest again."),
       el("h3", {}, "Elites"), harvestTable(harvest.elites),
       el("h3", {}, "Models against the seeds' (test)"), harvestTable(harvest.models),
       el("h3", {}, "The elites' LightGBM portfolio (test)"), harvestTable(harvest.backtest));
}

function metricsTable(metrics) {
  const names = ["fs", "ic", "icir", "rank_ic", "rank_icir", "coverage", "turnover"];
  const rows = Object.entries(metrics).map(([segment, m]) => [segment, ...names.map((n) => num(m[n])), m.n_days,
                                                               m.folds.map((f) => num(f, 3)).join(", ")]);
  return table(["segment", "FS", "IC", "ICIR", "RankIC", "RankICIR", "coverage", "turnover", "days",
                "FS per fold"], rows);
}

function diffBlock(lines) {
  return el("pre", {class: "diff"}, ...lines.flatMap((line) => {
    const kind = line.startsWith("+++") || line.startsWith("---") ? null : line.startsWith("+") ? "add"
      : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : null;
    return [kind ? el("span", {class: kind}, line) : line, "\n"];
  }));
}

function tuningBlock(view) {
  if (!view.tuning) return el("p", {class: "note"}, "Not tuned.");
  const t = view.tuning;
  const lifted = t.lifted.map((k) => `${k.name} = ${k.value} (line ${k.line})`).join("; ") || "none";
  const trials = view.trials.map((trial) => [trial.number, JSON.stringify(trial.params), num(trial.train_fs),
                                             trial.status + (trial.repeat_of !== null ? ` (repeat of ${trial.repeat_of})`
                                                                                      : ""),
                                             trial.failure_reason || ""]);
  return el("div", {},
            el("p", {}, `${t.n_trials} trials, stopped by ${t.stop}; train FS ${num(t.default_fs)} with the ` +
                        `proposed defaults → ${num(t.best_fs)} at trial ${t.best_trial ?? "–"}; its nearest ` +
                        `trials lose ${t.neighbour_drop === null ? "–" : (100 * t.neighbour_drop).toFixed(0) + " %"}` +
                        `; knobs lifted: ${lifted}.`),
            table(["trial", "params", "train FS", "status", "failure"], trials));
}

function renderNode(view) {
  const n = view.node;
  const e = view.experience;
  const close = el("button", {class: "close", type: "button"}, "close");
  close.addEventListener("click", () => { history.pushState(null, "", location.pathname); closeNode(); });
  const status = view.status === "ok" ? "scored" : view.status === null ? "not evaluated"
    : `failed (${view.status}): ${view.failure_reason || ""}`;
  const section = document.getElementById("node");
  section.replaceChildren(
    close, el("h2", {}, `node ${n.node_id}`),
    el("p", {}, `island ${n.island} · iteration ${n.iteration} · depth ${n.depth} · ${n.kind} · ${status} · ` +
                `reward ${num(n.reward)}`),
    el("p", {class: "idea"}, n.idea),
    el("p", {}, "params: ", el("code", {}, JSON.stringify(n.params))),
    Object.keys(view.metrics).length ? metricsTable(view.metrics) : "",
    e ? table(["change", "why", "outcome", "lesson"], [[e.change, e.why, e.outcome, e.lesson]]) : "",
    el("h3", {}, "Lineage"),
    el("p", {class: "lineage"}, ...view.lineage.flatMap((r, i) =>
      [i ? " → " : "", nodeLink(r.node_id), ` (${r.kind}${r.island !== n.island ? `, island ${r.island}` : ""})`])),
    el("p", {}, "children: ", ...(view.children.length ? view.children.flatMap((r) =>
      [nodeLink(r.node_id), ` (${r.kind}) `]) : ["none"])),
    el("h3", {}, "Code"), el("pre", {class: "code"}, view.code),
    el("h3", {}, view.diff_from === null ? "Diff" : `Diff against node ${view.diff_from}`),
    view.diff_from === null ? el("p", {class: "note"}, "A seed (or a root edit): nothing to diff against.")
      : view.diff.length ? diffBlock(view.diff) : el("p", {class: "note"}, "code unchanged"),
    el("h3", {}, "Tuning"), tuningBlock(view));
  section.dataset.node = n.node_id;
  section.hidden = false;
  markCurrent();
}

function closeNode() {
  const section = document.getElementById("node");
  section.hidden = true;
  delete section.dataset.node;
  markCurrent();
}

function markCurrent() {
  const current = document.getElementById("node").dataset.node;
  for (const entry of document.querySelectorAll("[data-entry]")) {
    entry.classList.toggle("current", entry.dataset.entry === current);
  }
}

async function openFromHash() {
  const match = /^#node-(\d+)$/.exec(location.hash);
  if (!match) return;
  try {
    renderNode(await getJSON(`/api/node/${match[1]}`));
    document.getElementById("node").scrollIntoView();
    showError(null);
  } catch (error) {
    showError(`node ${match[1]}: ${error.message}`);
  }
}

window.addEventListener("hashchange", openFromHash);
window.addEventListener("DOMContentLoaded", () => {
  poll();
  openFromHash();
});
