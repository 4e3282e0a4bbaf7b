"""`factorengine harvest`: export a run's elites, combine them (and the seeds) with LightGBM and by average rank,
judge the elites' models against the seeds' on test, and backtest the elites' LightGBM."""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Callable

from factorengine.data import segment_ranges
from factorengine.errors import FactorEngineError
from factorengine.harvest import HARVEST_DIR
from factorengine.harvest.elites import Requirements
from factorengine.harvest.run import HarvestRun, Settings, harvest_run
from factorengine.segments import describe_segments
from factorengine.store.recorded import open_run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `harvest`."""
    parser.description = ("Choose the run's elite programs (valid FS, sign, level bets, yearly stability, "
                          "significance, correlation), export them, combine them and the seeds (LightGBM fitted "
                          "on train days, and the average rank), judge the elites' models against the seeds' on "
                          "test and backtest the elites' LightGBM on test.")
    parser.add_argument("run_dir", type=Path, help="the run's directory (holding run.db)")
    parser.add_argument("--out", type=Path, help=f"output directory (default: RUN_DIR/{HARVEST_DIR})")
    settings = Settings()
    needs = settings.needs
    parser.add_argument("--threshold", type=float, default=needs.threshold,
                        help="valid FS to clear")
    parser.add_argument("--max-corr", type=float, default=needs.max_corr,
                        help="largest |rank correlation| between two elites on valid")
    parser.add_argument("--top", type=int, default=needs.top, help="elites taken when none clears")
    parser.add_argument("--allow-level-bets", action="store_true",
                        help="keep programs flagged as bets on price or volume levels")
    parser.add_argument("--min-valid-t", type=float, default=needs.min_valid_t,
                        help="smallest t-statistic of the valid RankIC an elite needs")
    parser.add_argument("--min-stable-share", type=float, default=needs.min_stable_share,
                        help="share of train and valid years with a positive RankIC an elite needs")
    parser.add_argument("--max-p", type=float, default=needs.max_p,
                        help="largest p-value of the valid RankIC deflated for the run's trials, 1: any")
    parser.add_argument("--k", type=int, default=settings.k, help="stocks held by the TopkDropout portfolio")
    parser.add_argument("--n-drop", type=int, default=settings.n_drop, help="stocks replaced per day")
    parser.add_argument("--cost-bps", type=float, default=settings.cost_bps,
                        help="trading cost per unit traded, in bps")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Harvest, model, backtest; write the elites, manifest.json and results.json."""
    out = args.out or args.run_dir / HARVEST_DIR
    try:
        store, dataset = open_run(args.run_dir, read_only=False)  # harvest records the test FS it judges
    except FactorEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(describe_segments(segment_ranges(dataset.panel.dates, dataset.splits)))
    needs = Requirements(args.threshold, args.max_corr, args.top, args.allow_level_bets, args.min_valid_t,
                         args.min_stable_share, args.max_p)
    line = StageLine()
    with store:
        harvested = harvest_run(store, dataset, Settings(needs, args.k, args.n_drop, args.cost_bps), out,
                                args.run_dir, on_stage=line.stage, on_progress=line.progress)
    if harvested is None:
        print("error: no program of this run was scored; nothing to harvest", file=sys.stderr)
        return 1
    print("\n".join(summary(harvested)))
    print(f"wrote: {out} ({_size_mb(out):.1f} MB: {len(harvested.harvest.elites)} elite programs with their "
          "values, manifest.json, results.json)", file=sys.stderr)
    print(f"next: factorengine report {args.run_dir}", file=sys.stderr)
    return 0


class StageLine:
    """Shows harvest's stages on stderr as `[   12s] stage`, and their progress as `[   13s] stage 23/70`.

    A progress line is printed at most every `interval_s` seconds (and when a stage's work is done), rewritten in
    place on a terminal.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, interval_s: float = 1.0) -> None:
        self.clock, self.interval_s = clock, interval_s
        self.started, self.shown, self.words = clock(), -math.inf, ""

    def stage(self, words: str) -> None:
        """A stage starts."""
        self.words = words
        self._print(self.clock(), words, final=True)

    def progress(self, done: int, total: int) -> None:
        """`done` of the stage's `total` steps are done."""
        now = self.clock()
        if done >= total or now - self.shown >= self.interval_s:
            self.shown = now
            self._print(now, f"{self.words} {done}/{total}", final=done >= total)

    def _print(self, now: float, text: str, final: bool) -> None:
        line = f"[{now - self.started:5.0f}s] {text}"
        if sys.stderr.isatty():  # rewritten in place until the stage's work is done
            print(line.ljust(100), end="\n" if final else "\r", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


def _size_mb(directory: Path) -> float:
    """Total size of the files in `directory`, in MB."""
    return sum(f.stat().st_size for f in directory.iterdir() if f.is_file()) / 1e6


def summary(harvested: HarvestRun) -> list[str]:
    """The harvest in a few lines, the verdict first."""
    chosen, results = harvested.harvest, harvested.results
    lines = [results.verdict.line(),
             f"elites: {len(chosen.elites)} ({chosen.cleared} programs cleared valid FS {chosen.threshold}; "
             f"{len(chosen.rejected)} rejected); {results.held_sign_share:.0%} of them held their sign on test"]
    for key, model in results.models.items():
        m = model.metrics["test"]
        lines.append(f"{key}: test IC {m.ic:.4f} ICIR {m.icir:.3f} RankIC {m.rank_ic:.4f} "
                     f"RankICIR {m.rank_icir:.3f}")
    b = results.backtest
    lines.append(f"TopkDropout(k={b.k}, n={b.n_drop}) on test: annual "
                 f"{b.metrics.annual_return:.2%}, excess {b.metrics.excess_annual_return:.2%}, "
                 f"Sharpe {b.metrics.sharpe:.2f}, IR {b.metrics.information_ratio:.2f}, "
                 f"max drawdown {b.metrics.max_drawdown:.2%}, turnover {b.metrics.mean_turnover:.2%}/day")
    return lines
