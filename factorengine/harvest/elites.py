"""Harvest a run's elite factors: pick them, de-duplicate them, and export each as a standalone program.

Elites are the programs (migrant copies aside) whose valid FS clears the threshold (or, when none does, the best
`top` by valid FS) that show an edge beyond noise: a positive robust train FS (they win on most of train's folds,
not one stretch), a valid RankIC of the same sign as on train with a t-statistic of at least `min_valid_t`
(a noise factor reaches 2 about one time in 40). They are de-duplicated greedily (best valid FS first) by the
absolute mean daily rank correlation of their factor values on the valid days. Level bets are left out unless
allowed; a minimum share of years with the right RankIC sign and a maximum family-wise p-value (the valid RankIC
t-statistic deflated for the run's trials) can be required. Values are recomputed in the sandbox
from the stored programs, and an elite's test metrics are scored from them here (the search never scores test).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from factorengine.data import SEGMENTS, Dataset
from factorengine.harvest import MANIFEST
from factorengine.harvest.chance import Significance, significance
from factorengine.harvest.generalization import evaluations
from factorengine.harvest.stability import Stability, yearly_stability
from factorengine.harvest.values import ProgramValues
from factorengine.ops import rank
from factorengine.program import parse_program, set_docstring
from factorengine.score.evaluate import Evaluator
from factorengine.score.fitness import daily_correlation, daily_series, score
from factorengine.score.metrics import SegmentMetrics
from factorengine.search.migration import lineage, migration_origins
from factorengine.store import EvaluationRow, NodeRow, Store

THRESHOLD = 0.4  # valid FS, as in the FactorEngine paper
MAX_CORRELATION = 0.7
TOP = 10


@dataclass(frozen=True)
class Elite:
    """A harvested factor: its node, exported source, metrics per segment, lineage and oriented values."""

    node: NodeRow
    source: str  # the stored program with a docstring stating hypothesis, metrics, lineage and content id
    metrics: Mapping[str, Mapping[str, float]]  # "train", "valid", "test" -> metric -> value
    orientation: int
    lineage: tuple[str, ...]  # "node N: idea", from the seed down to this node
    values: np.ndarray | None = field(repr=False)  # orientation * values [T, N], higher predicts higher returns;
    # None once dropped (`Harvest.without_values`)
    stability: Stability
    significance: Significance  # of the valid RankIC, deflated for the run's trials
    daily_rank_ic: np.ndarray = field(repr=False)  # of `values` [T], NaN on days not scored


@dataclass(frozen=True)
class Harvest:
    """The elites and how they were chosen."""

    elites: tuple[Elite, ...]
    threshold: float
    cleared: int  # programs whose valid FS cleared the threshold
    valid_fs: tuple[float, ...]  # every scored program's valid FS, to show where the run's programs lie
    rejected: tuple[tuple[int, str], ...]  # (node_id, why)
    correlations: np.ndarray  # |mean daily rank correlation| between elites on valid, [K, K]
    tries: int  # parameter sets the run tried (its trial ledger), which significance is deflated for

    def without_values(self) -> Harvest:
        """The same choice without the elites' values (14 MB each on a real panel), once they are used."""
        return replace(self, elites=tuple(replace(elite, values=None) for elite in self.elites))


@dataclass(frozen=True)
class Requirements:
    """What an elite must show beyond its valid FS."""

    threshold: float = THRESHOLD
    max_corr: float = MAX_CORRELATION
    top: int = TOP
    allow_level_bets: bool = False
    min_valid_t: float = 2.0  # t-statistic of the oriented daily valid RankIC
    min_stable_share: float = 0.5  # years of train and valid with a positive oriented RankIC
    max_p: float = 1.0  # family-wise p-value of the valid RankIC among the run's tries (1.0: not required)


def harvest(store: Store, evaluator: Evaluator, needs: Requirements = Requirements(),
            values: Callable[[NodeRow], np.ndarray] | None = None,
            on_progress: Callable[[int, int], None] = lambda done, total: None) -> Harvest:
    """Choose the run's elites (see the module docstring).

    `values` gives a node's program values (default: run by `evaluator`); `on_progress` is called with (elites
    chosen, elites wanted) as each is chosen.
    """
    values = values or ProgramValues(store, evaluator).get
    dataset = evaluator.dataset
    scored = [(node, store.evaluation(node.node_id, include_test=True)) for node in store.nodes()
              if not node.failed and node.kind != "migrant"]  # a migrant is a copy of a node scored here too
    scored = [(n, e) for n, e in scored if e is not None and not math.isnan(e.valid.fs)]
    scored.sort(key=lambda pair: (-pair[1].valid.fs, pair[0].node_id))
    cleared = [pair for pair in scored if pair[1].valid.fs >= needs.threshold]
    candidates = cleared or scored
    limit = len(candidates) if cleared else needs.top
    tries = evaluations(store)
    valid = dataset.splits.days("valid")
    lineages = _lineages(store)
    elites: list[Elite] = []
    ranked_values: list[np.ndarray] = []
    rejected: list[tuple[int, str]] = []
    for node, evaluation in candidates:
        if len(elites) >= limit:
            break
        why = rejection(store, node, evaluation, needs)
        if why is not None:
            rejected.append((node.node_id, why))
            continue
        raw = values(node)
        oriented = evaluation.orientation * raw
        daily = daily_series(oriented, dataset.label).rank_ic
        stability, odds = yearly_stability(daily, dataset), significance(daily[valid], tries)
        if not stability.share >= needs.min_stable_share:
            rejected.append((node.node_id, f"RankIC above 0 in {stability.share:.0%} of the train and valid years"
                             if stability.years else "no train or valid year with enough scored days"))
            continue
        if odds.p > needs.max_p:
            rejected.append((node.node_id, f"not significant among {tries} tries (p {odds.p:.2f})"))
            continue
        ranked = rank(oriented)[valid]
        similar = [(abs(_mean_correlation(ranked, other)), e) for other, e in zip(ranked_values, elites)]
        worst = max(similar, key=lambda pair: pair[0], default=(0.0, None))
        if worst[0] >= needs.max_corr:
            rejected.append((node.node_id, f"correlation {worst[0]:.2f} with node {worst[1].node.node_id}"))
            continue
        test = evaluation.test or score(raw, dataset.label, dataset.splits, segments=SEGMENTS).test
        metrics = {"train": asdict(evaluation.train), "valid": asdict(evaluation.valid), "test": asdict(test)}
        code, lineage = store.program(node.program_id), lineages(node.node_id)
        elites.append(Elite(node, exported_source(code, node, metrics, evaluation.orientation, lineage,
                                                  store.experience(node.node_id)),
                            metrics, evaluation.orientation, lineage, oriented, stability, odds, daily))
        ranked_values.append(ranked)
        on_progress(len(elites), limit)
    correlations = np.array([[abs(_mean_correlation(a, b)) for b in ranked_values] for a in ranked_values])
    return Harvest(tuple(elites), needs.threshold, len(cleared), tuple(e.valid.fs for _, e in scored),
                   tuple(rejected), correlations.reshape(len(elites), len(elites)), tries)


def rejection(store: Store, node: NodeRow, evaluation: EvaluationRow, needs: Requirements) -> str | None:
    """Why the node cannot be an elite, judged from what the store holds (no values needed); None if it may."""
    if evaluation.valid.rank_ic <= 0:  # metrics are oriented by train: <= 0 is a sign flip
        return "RankIC changes sign between train and valid"
    if not evaluation.train.robust_fs > 0:
        return f"no edge across train's folds (robust train FS {evaluation.train.robust_fs:.4f})"
    if not valid_t(evaluation.valid) >= needs.min_valid_t:
        return f"valid RankIC t {valid_t(evaluation.valid):.2f} below {needs.min_valid_t:g}: not told apart from noise"
    profile = store.profile(node.node_id)
    if profile is not None and profile.level_bet and not needs.allow_level_bets:
        return "a level bet (its ranks follow a price or volume level)"
    return None


def valid_t(metrics: SegmentMetrics) -> float:
    """The t-statistic of a segment's daily RankIC: RankICIR times the square root of its scored days."""
    return metrics.rank_icir * math.sqrt(metrics.n_days)


def _mean_correlation(a: np.ndarray, b: np.ndarray) -> float:
    daily = daily_correlation(a, b)
    return float(np.nanmean(daily)) if np.any(~np.isnan(daily)) else 0.0


def _lineages(store: Store) -> Callable[[int], tuple[str, ...]]:
    """A function node_id -> its lineage as text, following migrants back to the node they came from."""
    nodes, origins = {n.node_id: n for n in store.nodes()}, migration_origins(store)
    return lambda node_id: tuple(f"node {n.node_id} (island {n.island}, {n.kind}): {n.idea}"
                                 for n in lineage(node_id, nodes, origins))


def exported_source(code: str, node: NodeRow, metrics: Mapping[str, Mapping[str, float]], orientation: int,
                    lineage: Sequence[str], experience: object | None) -> str:
    """The program with its module docstring rewritten to document the harvested factor."""
    program = parse_program(code)
    lines = [program.docstring.strip() or node.idea, ""]
    why = getattr(experience, "why", "")
    if why:
        lines += [f"Hypothesis: {why}", ""]
    lines += [f"Harvested node {node.node_id} (island {node.island}, iteration {node.iteration}); "
              f"content id {program.program_id}.",
              f"Orientation {orientation:+d}: " + ("higher values predict higher returns." if orientation > 0
                                                   else "LOWER values predict higher returns (use -factor)."),
              "", "Metrics (daily, oriented; FS = (10*IC + ICIR + 10*RankIC + RankICIR)/4):"]
    for segment in ("train", "valid", "test"):
        m = metrics.get(segment) or {}
        if m:
            lines.append(f"  {segment:<5} FS {m['fs']:.4f}  IC {m['ic']:.4f}  ICIR {m['icir']:.3f}  "
                         f"RankIC {m['rank_ic']:.4f}  RankICIR {m['rank_icir']:.3f}")
    lines += ["", "Lineage (seed first):", *(f"  {step}" for step in lineage)]
    return set_docstring(code, "\n".join(lines))


def export(result: Harvest, dataset: Dataset, out_dir: Path, run_dir: Path) -> Path:
    """Write each elite's program, its values (date, symbol, factor) as Parquet, and manifest.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for k, elite in enumerate(result.elites, start=1):
        stem = f"elite_{k:02d}_node_{elite.node.node_id}"
        (out_dir / f"{stem}.py").write_text(elite.source)
        long_values(elite.values, dataset).to_parquet(out_dir / f"{stem}.parquet", index=False)
        entries.append({"file": f"{stem}.py", "values": f"{stem}.parquet", "node_id": elite.node.node_id,
                        "island": elite.node.island, "program_id": elite.node.program_id,
                        "params": dict(elite.node.params), "orientation": elite.orientation,
                        "metrics": elite.metrics, "lineage": list(elite.lineage),
                        "stability": asdict(elite.stability), "significance": asdict(elite.significance)})
    manifest = {"run": str(run_dir), "data": dataset.panel.source, "fingerprint": dataset.panel.fingerprint(),
                "threshold": result.threshold, "cleared_threshold": result.cleared, "tries": result.tries,
                "valid_fs_quantiles": _quantiles(result.valid_fs),
                "values_note": "factor = orientation * program values: higher predicts higher forward returns",
                "rejected": [{"node_id": n, "why": why} for n, why in result.rejected],
                "correlations": result.correlations.round(4).tolist(), "elites": entries}
    path = out_dir / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, allow_nan=True) + "\n")
    return path


def long_values(values: np.ndarray, dataset: Dataset) -> pd.DataFrame:
    """Factor values [T, N] as the long table alphalens and qlib read: date, symbol, factor (finite only)."""
    days, stocks = np.nonzero(np.isfinite(values))
    symbols = pa.array(dataset.panel.symbols).take(stocks).to_pandas()  # pandas converts each string: 20x slower
    return pd.DataFrame({"date": dataset.panel.dates[days], "symbol": symbols, "factor": values[days, stocks]})


def _quantiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    qs = np.quantile(np.asarray(values), [0.0, 0.25, 0.5, 0.75, 0.9, 1.0])
    return dict(zip(["min", "q25", "median", "q75", "q90", "max"], map(float, qs)))
