"""What an LLM-proposer run did, in the figures of issue 19's measurement.

    python reports/llm/measure.py RUN_DIR [RUN_DIR ...]

Per run: proposals of the searched iterations (seeds left out) and how many ran (executable rate), the share of
repair calls among LLM calls (debug share), the best and mean valid FS of the searched programs that ran, and the
Spearman rank correlation of their train and valid FS. Reads the run store only; never the test segment.
"""
from __future__ import annotations

import math
import statistics
import sys
from pathlib import Path

from factorengine.store import RUN_DATABASE, Duplicate, ProposalFailed, Store


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    for rank, i in enumerate(order):
        ranks[i] = float(rank)
    return ranks


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman rank correlation (no ties expected among float FS values)."""
    if len(a) < 3:
        return math.nan
    return statistics.correlation(_ranks(a), _ranks(b))


def measure(run_dir: Path) -> str:
    """One line of figures for a run."""
    with Store.open(run_dir / RUN_DATABASE, read_only=True) as store:
        searched = [n for n in store.nodes() if n.kind not in ("seed", "migrant")]
        rejected = len(store.events(ProposalFailed)) + len(store.events(Duplicate))
        scored = [(e.fs("train"), e.fs("valid")) for n in searched if (e := store.evaluation(n.node_id)).train
                  and not math.isnan(e.fs("train")) and not math.isnan(e.fs("valid"))]
        totals = store.llm_totals()
    ran = sum(not n.failed for n in searched)
    valid = [v for _, v in scored]
    share = totals.by_purpose.get("repair", 0) / totals.calls if totals.calls else math.nan
    return (f"{run_dir.name}: {len(searched)} searched programs ({ran} ran, {len(searched) - ran} failed; "
            f"{rejected} proposals rejected or duplicates), executable {ran / max(1, len(searched)):.0%}; "
            f"{totals.calls} LLM calls, debug share {share:.0%}; valid FS best {max(valid):.4f}, mean "
            f"{statistics.fmean(valid):.4f}; train-valid rank correlation "
            f"{spearman([t for t, _ in scored], valid):.2f} (n={len(scored)})")


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(measure(Path(path)))
