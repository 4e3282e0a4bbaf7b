"""Sizes of the propose requests of a scripted 30-iteration llm run on the synthetic market (3 paths).

    PYTHONPATH=. python reports/llm/prompt_sizes.py [--save-example FILE]

The scripted server (the one the tests use) answers every request with a mutation of the program it is asked to
improve, so the run and its prompts are the same on every machine; the sizes are of the user message in bytes.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from factorengine.cli import main
from factorengine.llm.scripted import ScriptedServer
from tests.factorengine.llm.scripts import KEY, KEY_ENV, llm_config, mutating
from tests.factorengine.runs import copy_seeds, evolve_args


def propose_prompts(iterations: int = 30) -> list[str]:
    """The user messages of every propose request of a scripted run."""
    import os
    os.environ[KEY_ENV] = KEY
    os.environ.pop("FACTORENGINE_DATA", None)
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer(mutating()) as server:
        root = Path(tmp)
        (root / "seeds").mkdir()
        seeds = copy_seeds(root / "seeds")
        config = llm_config(root / "llm.toml", server.base_url)
        assert main([*evolve_args(root / "run", seeds, iterations, trials=2), "--config", str(config)]) == 0
        return [r["messages"][1]["content"] for r in server.requests
                if r["messages"][-1]["role"] == "user" and "## The program to improve" in r["messages"][-1]["content"]]


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save-example", type=Path, help="write the last propose prompt here")
    args = parser.parse_args()
    prompts = propose_prompts()
    sizes = [len(p.encode()) for p in prompts]
    late = sizes[len(sizes) // 2:]
    print(f"{len(sizes)} propose requests; bytes: median {statistics.median(sizes):.0f}, max {max(sizes)}, "
          f"median of the later half {statistics.median(late):.0f}; contract "
          f"{len(prompts[-1].split('## What was tried so far')[0].encode())} bytes")
    if args.save_example:
        args.save_example.write_text(prompts[-1])


if __name__ == "__main__":
    main_()
