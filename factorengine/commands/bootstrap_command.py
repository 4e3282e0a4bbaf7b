"""`factorengine bootstrap`: research text in, runnable seed programs out, through the configured LLM."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from factorengine.config import as_dict, load_config
from factorengine.data import make_dataset, open_panel
from factorengine.data.dataset import DATA_ENV
from factorengine.errors import FactorEngineError
from factorengine.llm.bootstrap import Bootstrapper, unique_names
from factorengine.llm.client import BudgetExhausted, LLMClient, LLMUnavailable
from factorengine.score.evaluate import Evaluator
from factorengine.store import Store

LEDGER = "bootstrap.db"  # the LLM calls of a bootstrap, in the output directory: reruns are answered from it


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `bootstrap`."""
    parser.description = ("Extract factor ideas from Markdown or text files, write each as a program, fix it from "
                          "the sandbox's errors, and keep those that run.")
    parser.add_argument("docs", nargs="+", type=Path, help="research text files (Markdown or plain text)")
    parser.add_argument("--out", type=Path, required=True, help="directory for the seed programs")
    parser.add_argument("--config", type=Path, help="run config TOML: its [llm], [budget] and [data] apply")
    parser.add_argument("--data", help=f"panel the programs are checked on (default: ${DATA_ENV}, else synthetic)")
    parser.add_argument("--rounds", type=int, default=3, help="answers per idea at most: the first plus fixes")
    parser.add_argument("--llm-replay", type=Path, metavar="DB", help="answer from a recorded bootstrap.db")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Extract, implement, check and write; print one line per idea."""
    try:
        config = load_config(args.config)
        texts = {doc.name: doc.read_text() for doc in args.docs}
        panel = open_panel(args.data or config.data.path or None, config.data.synthetic_seed)
        dataset = make_dataset(panel, config.data)
        args.out.mkdir(parents=True, exist_ok=True)
        ledger = args.out / LEDGER
        store = (Store.open(ledger) if ledger.exists() else
                 Store.create(ledger, config=as_dict(config), fingerprint=panel.fingerprint(), seed=0))
        replay = Store.open(args.llm_replay, read_only=True) if args.llm_replay else None
    except (FactorEngineError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with store, Evaluator(dataset, config.evaluation) as evaluator:
        client = LLMClient(config.llm, config.budget, store, replay=replay)
        bootstrapper = Bootstrapper(client, evaluator, list(panel.fields), config.data.horizon, args.rounds)
        ideas = []
        for source, text in texts.items():
            try:
                found = bootstrapper.extract(source, text)
            except (LLMUnavailable, BudgetExhausted) as exc:
                print(f"{source}: no ideas extracted: {exc}", file=sys.stderr)
                continue
            print(f"{source}: {len(found)} factor ideas", file=sys.stderr)
            ideas += found
        written = 0
        for idea in unique_names(ideas):
            result = bootstrapper.implement(idea, args.out)
            if result.path is not None:
                written += 1
                print(f"wrote {result.path} ({result.rounds} answer(s); train FS {result.train_fs:.4f}, "
                      f"valid FS {result.valid_fs:.4f})")
            else:
                last_line = (result.error or "").strip().splitlines()[-1:]  # a traceback's last line says what
                print(f"gave up on {idea.name} after {result.rounds} answer(s): {''.join(last_line)}")
        print(f"{written} of {len(ideas)} ideas are seeds in {args.out}; {client.totals_line()}", file=sys.stderr)
    if replay is not None:
        replay.close()
    return 0 if written else 1
