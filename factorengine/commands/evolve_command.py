"""`factorengine evolve` and `factorengine resume`: run or continue a search, with a live progress line."""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from factorengine.commands.progress import ProgressLines, report_island_event
from factorengine.config import BACKENDS, PROPOSERS, ConfigError, RunConfig, as_dict, load_config, override
from factorengine.data import Dataset, make_dataset, open_panel, segment_ranges
from factorengine.data.dataset import DATA_ENV
from factorengine.errors import FactorEngineError
from factorengine.search.archipelago import check_cluster, run_archipelago, run_island
from factorengine.search.island import Seed
from factorengine.segments import describe_segments
from factorengine.store import RUN_DATABASE, Seeds, Store
from factorengine.store.recorded import recorded_config, recorded_dataset, recorded_seeds, segments_event

logger = logging.getLogger(__name__)


def add_evolve_arguments(evolve: argparse.ArgumentParser) -> None:
    """Add the arguments of `evolve`: each option overrides its key of the run config."""
    evolve.description = ("Search for factors; without --data, on the synthetic market. Each option overrides "
                          "its key of the run config; the defaults shown are those of factorengine/defaults.toml.")
    d = RunConfig()
    evolve.add_argument("--data", help=f"panel file or directory (default: ${DATA_ENV}, else synthetic)")
    evolve.add_argument("--config", type=Path, help="run config TOML (default: factorengine/defaults.toml)")
    evolve.add_argument("--run-dir", type=Path, help="where the run is stored (default: runs/run-<date>-<time>)")
    evolve.add_argument("--iterations", type=int,
                        help=f"search iterations after the seeds (default: {d.search.iterations})")
    evolve.add_argument("--proposer", choices=PROPOSERS, help="how programs are proposed: mutate (offline) or "
                        f"llm (the [llm] endpoint) (default: {d.search.proposer})")
    evolve.add_argument("--llm-replay", metavar="RUN_DB", help="answer LLM requests from a recorded run's "
                        "database instead of the endpoint (offline; with --proposer llm)")
    evolve.add_argument("--seed", type=int, help=f"random seed of the run (default: {d.search.seed})")
    evolve.add_argument("--seeds", metavar="DIR", help="directory of seed programs, relative to the current "
                        f"directory (default: {d.search.seeds_dir})")
    evolve.add_argument("--trials", type=int,
                        help=f"tuning trials per new program, 0: no tuning (default: {d.tuning.n_trials})")
    evolve.add_argument("--max-evaluations", type=int, help="stop each island after this many sandbox "
                        f"evaluations, 0: no limit (default: {d.search.max_evaluations})")
    evolve.add_argument("--islands", type=int,
                        help=f"island processes searching in parallel (default: {d.islands.n_islands})")
    evolve.add_argument("--valid-start", metavar="DATE", help="YYYY-MM-DD where train ends and valid begins, after "
                        "the label horizon's gap (default: [data] valid_start, else by train_fraction)")
    evolve.add_argument("--test-start", metavar="DATE", help="YYYY-MM-DD where valid ends and test begins, after "
                        "the label horizon's gap (default: [data] test_start, else by the fractions)")
    evolve.add_argument("--backend", choices=BACKENDS, help="what runs the islands: processes on this machine or "
                        f"Ray actors ([islands] address) (default: {d.islands.backend})")
    _add_address(evolve)
    evolve.set_defaults(run=run_evolve)


def add_resume_arguments(resume: argparse.ArgumentParser) -> None:
    """Add the arguments of `resume`."""
    resume.description = ("Continue a stopped or crashed run from its last committed iteration, with the config, "
                          "data and segments it was started with (the data are checked against the run's "
                          "fingerprint).")
    resume.add_argument("run_dir", type=Path, help="the run's directory (holding run.db)")
    resume.add_argument("--iterations", type=int, help="raise the run's search iterations to this number "
                        "(default: the run's)")
    resume.add_argument("--max-evaluations", type=int,
                        help="change the run's evaluation budget per island (default: the run's)")
    _add_address(resume)
    resume.set_defaults(run=run_resume)


def _add_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", metavar="auto|HOST:PORT", help="with --backend ray: the Ray cluster to join "
                        "(`ray start --head` prints it; auto: the one started on this machine) (default: the "
                        "config's [islands] address, empty: a Ray instance of this run's own)")


def run_evolve(args: argparse.Namespace) -> int:
    """Create a run and search."""
    try:
        config = override(load_config(args.config), "search", iterations=args.iterations,
                          proposer=args.proposer, seed=args.seed, seeds_dir=args.seeds,
                          max_evaluations=args.max_evaluations)
        config = override(override(config, "tuning", n_trials=args.trials), "islands", n_islands=args.islands,
                          backend=args.backend, address=args.address)
        config = override(config, "data", valid_start=args.valid_start, test_start=args.test_start)
        if args.llm_replay:
            replay = Path(args.llm_replay)
            replay = replay / RUN_DATABASE if replay.is_dir() else replay
            Store.open(replay, read_only=True).close()  # a bad path fails here, not in every island
            config = override(override(config, "llm", replay=str(replay.resolve())), "search", proposer="llm")
        panel = open_panel(args.data or config.data.path or None, config.data.synthetic_seed)
        if not panel.is_synthetic:
            config = override(config, "data", path=str(Path(panel.source).resolve()))
        dataset = make_dataset(panel, config.data)  # bad segment settings fail here, before anything is written
        seeds = _read_seeds(Path(config.search.seeds_dir))
        check_cluster(config)  # before the run directory exists: an unreachable cluster leaves nothing behind
        run_dir = args.run_dir or Path("runs") / time.strftime("run-%Y%m%d-%H%M%S")
        run_dir.mkdir(parents=True, exist_ok=True)
        store = Store.create(run_dir / RUN_DATABASE, config=as_dict(config), fingerprint=panel.fingerprint(),
                             seed=config.search.seed)
    except (FactorEngineError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with store.transaction():
        store.add_event(Seeds(tuple((s.name, s.code) for s in seeds)))
        store.add_event(segments_event(dataset))
    print(f"run: {run_dir}  data: {panel.source}{' [SYNTHETIC]' if panel.is_synthetic else ''}", file=sys.stderr)
    return _search(store, config, dataset, seeds, run_dir)


def run_resume(args: argparse.Namespace) -> int:
    """Reopen a run, check its data and continue from its last committed iteration."""
    try:
        store = Store.open(args.run_dir / RUN_DATABASE)
        config = override(recorded_config(store), "search", iterations=args.iterations,
                          max_evaluations=args.max_evaluations)
        config = override(config, "islands", address=args.address)
        check_cluster(config)
        dataset = recorded_dataset(store, config)
        seeds = [Seed(name, code) for name, code in recorded_seeds(store)]
    except (FactorEngineError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return _search(store, config, dataset, seeds, args.run_dir)


def _read_seeds(directory: Path) -> list[Seed]:
    files = sorted(directory.glob("*.py"))
    if not files:
        where = f"{directory.resolve()}{'' if directory.is_absolute() else ' (relative to the current directory)'}"
        what = "no seed programs (*.py) in" if directory.is_dir() else "no such directory"
        raise ConfigError(f"seeds: {what} {where}; point to the seed programs with --seeds DIR or "
                          "[search] seeds_dir")
    return [Seed(path.stem, path.read_text()) for path in files]


def _search(store: Store, config: RunConfig, dataset: Dataset, seeds: list[Seed], run_dir: Path) -> int:
    print(describe_segments(segment_ranges(dataset.panel.dates, dataset.splits)), file=sys.stderr)
    stopped = f"\nstopped; every finished iteration is stored. Continue with: factorengine resume {run_dir}"
    if config.islands.n_islands > 1:
        try:
            result = run_archipelago(store, config, dataset, seeds, watch=ProgressLines(several=True),
                                     on_event=report_island_event)
        except KeyboardInterrupt:
            print(stopped, file=sys.stderr)
            return 130
        finally:
            store.close()
        lost = [o for o in result.islands if not o.finished]
        for outcome in lost:
            print(f"error: island {outcome.island} stopped after {outcome.restarts} restarts: {outcome.last_error}",
                  file=sys.stderr)
        print(f"\n{'stopped' if lost else 'done'}: {run_dir}. {_next_steps(run_dir)}", file=sys.stderr)
        return 1 if lost else 0
    try:
        run_island(store, config, dataset, seeds, watch=ProgressLines(several=False))
    except KeyboardInterrupt:
        print(stopped, file=sys.stderr)
        return 130
    finally:
        store.close()
    print(f"\ndone: {run_dir}. {_next_steps(run_dir)}", file=sys.stderr)
    return 0


def _next_steps(run_dir: Path) -> str:
    """What to run after a search: look at it, harvest it, report it."""
    return (f"Next: factorengine harvest {run_dir}, then factorengine report {run_dir} "
            f"(factorengine status {run_dir} shows the run)")
