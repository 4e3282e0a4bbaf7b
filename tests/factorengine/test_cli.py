"""The command line: `factorengine eval` on the synthetic market and on real data; what --help and status load."""
import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from factorengine.cli import COMMANDS, build_parser, main
from factorengine.config import RunConfig, as_dict
from factorengine.store import RUN_DATABASE, Seeds, Segments
from tests.factorengine.store import sample

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = '''"""Five-day reversal."""
from factorengine.ops import delay

SEARCH_SPACE = {"window": (2, 30)}


def factor(d, window=5):
    return -(d.close / delay(d.close, window) - 1)
'''


@pytest.fixture
def program(tmp_path, monkeypatch):
    monkeypatch.delenv("FACTORENGINE_DATA", raising=False)
    path = tmp_path / "reversal.py"
    path.write_text(PROGRAM)
    return path


def test_eval_json_reports_train_and_valid_on_the_labelled_synthetic_market(program, capsys):
    assert main(["eval", str(program), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data"].endswith("[SYNTHETIC]")
    assert set(out) >= {"train", "valid"} and "test" not in out
    assert set(out["valid"]) >= {"ic", "icir", "rank_ic", "rank_icir", "fs"}
    assert out["valid"]["rank_ic"] > 0.02


def test_eval_param_override_changes_the_result(program, capsys):
    main(["eval", str(program), "--json"])
    default = json.loads(capsys.readouterr().out)
    main(["eval", str(program), "--json", "--param", "window=20", "--include-test"])
    changed = json.loads(capsys.readouterr().out)
    assert changed["params"] == {"window": 20}
    assert changed["train"]["fs"] != default["train"]["fs"]
    assert "test" in changed


def test_eval_table_lists_every_program_in_a_directory(program, capsys):
    (program.parent / "broken.py").write_text("def factor(d, window='x'):\n    return d.close\n")
    assert main(["eval", str(program.parent)]) == 1
    out = capsys.readouterr().out
    assert "reversal" in out and "broken" in out and "error:" in out


FAILING = {  # file: what its one line says
    "syntax.py": ("def factor(d:\n    return d.close\n", "syntax.py:1: syntax error: '(' was never closed"),
    "future_delay.py": ("from factorengine.ops import delay\n\n\ndef factor(d):\n    return delay(d.close, -1)\n",
                        "refused by the static policy: line 5: delay with a negative window reads the future"),
    "shifted.py": ("def factor(d):\n    return d.close[1:]\n", "the output has shape (755, 100); expected (756, 100)"),
    "argsort.py": ("import numpy as np\n\n\ndef factor(d):\n    return np.argsort(np.argsort(d.close, axis=0), axis=0)\n",
                   "refused by the static policy: line 5: np.argsort(..., axis=0) summarizes every day"),
}


def test_eval_of_programs_that_all_fail_says_each_reason_once_and_exits_1(tmp_path, monkeypatch, capsys, caplog):
    monkeypatch.delenv("FACTORENGINE_DATA", raising=False)
    for name, (code, _) in FAILING.items():
        (tmp_path / name).write_text(code)
    assert main(["eval", str(tmp_path)]) == 1
    table = capsys.readouterr().out.splitlines()
    assert table[1].split() == ["program", "sign", "train.fs", "train.ic", "train.rank_ic", "valid.fs", "valid.ic",
                                "valid.rank_ic"]
    assert sorted(line.split()[0] for line in table[2:]) == sorted(Path(name).stem for name in FAILING)
    errors = {r.getMessage().split(":")[0]: r.getMessage() for r in caplog.records if r.levelname == "ERROR"}
    assert sorted(errors) == sorted(str(tmp_path / name) for name in FAILING)
    for name, (_, reason) in FAILING.items():
        message = errors[str(tmp_path / name)]
        assert reason in message and message.count(name) == 1 and message.count("summarizes every day") <= 1


def test_eval_reports_bad_data_without_a_traceback(program, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,symbol,close\n2020-01-01,A,1\n")
    assert main(["eval", str(program), "--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing required column(s) open, high, low, volume" in err


@pytest.mark.realdata
def test_eval_json_on_the_real_panel(real_data_dir, capsys):
    seed = ROOT / "seeds" / "reversal_5d.py"
    assert main(["eval", str(seed), "--data", str(real_data_dir / "us_main_daily.parquet"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for segment in ("train", "valid"):
        assert all(isinstance(out[segment][k], float) for k in ("ic", "icir", "rank_ic", "rank_icir", "fs"))
    assert out["train"]["n_days"] > 2000


def test_evolve_without_seeds_names_the_directory_it_looked_in_and_how_to_point_elsewhere(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("FACTORENGINE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["evolve", "--run-dir", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == (f"error: seeds: no such directory {tmp_path / 'seeds'} (relative to the current "
                                       "directory); point to the seed programs with --seeds DIR or [search] seeds_dir\n")
    (tmp_path / "empty").mkdir()
    assert main(["evolve", "--seeds", str(tmp_path / "empty"), "--run-dir", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.startswith(f"error: seeds: no seed programs (*.py) in {tmp_path / 'empty'}; ")


def _libraries_loaded(*argv: str) -> tuple[int, list[str]]:
    """The exit code of `factorengine *argv` in a fresh process, and the libraries beyond the standard one it loaded."""
    script = ("import json, sys\nbefore = set(sys.modules)\nfrom factorengine.cli import main\ntry:\n"
              "    code = main(sys.argv[1:])\nexcept SystemExit as exit:\n    code = exit.code\n"
              "names = {name.split('.')[0] for name in set(sys.modules) - before}\n"
              "print(json.dumps([code, sorted(names - set(sys.stdlib_module_names) - {'factorengine'})]))\n")
    result = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    code, libraries = json.loads(result.stdout.splitlines()[-1])
    return code, libraries


@pytest.mark.parametrize("argv, libraries", [(["--help"], []), (["--version"], []), (["llm-server", "--help"], []),
                                             (["status", "--help"], ["numpy"]), (["report", "--help"], ["numpy"]),
                                             (["null", "--help"], ["numpy"]), (["dashboard", "--help"], [])])
def test_help_loads_the_standard_library_only_and_numpy_for_the_commands_reading_a_store(argv, libraries):
    assert _libraries_loaded(*argv) == (0, libraries)


def test_status_of_a_run_loads_numpy_and_the_standard_library_only(tmp_path):
    with sample.create(tmp_path / RUN_DATABASE, config=as_dict(RunConfig())) as store:
        sample.iteration(store, sample.node(1), sample.ok(1))
        with store.transaction():
            store.add_event(Seeds((("momentum", sample.CODE),)))
            store.add_event(Segments((("train", "2020-01-01", "2020-02-29", 60, 5),)))
    assert _libraries_loaded("status", str(tmp_path)) == (0, ["numpy"])


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0 and capsys.readouterr().out == f"factorengine {version('factorengine')}\n"


@pytest.mark.parametrize("argv, verbose", [(["status", "run"], False), (["-v", "status", "run"], True),
                                           (["status", "run", "-v"], True), (["status", "--verbose", "run"], True)])
def test_verbose_is_taken_before_or_after_the_subcommand(argv, verbose):
    assert build_parser("status").parse_args(argv).verbose is verbose


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_a_description_and_help_on_every_argument(command):
    parser = build_parser(command)
    [subparser] = [action.choices[command] for action in parser._actions if hasattr(action, "choices")
                   and isinstance(action.choices, dict)]
    assert subparser.description
    assert [a.dest for a in subparser._actions if not a.help] == []


def test_help_shows_the_defaults_of_evolve_and_harvest(capsys):
    for command, shown in [("evolve", "search iterations after the seeds (default: 100)"),
                           ("harvest", "(default: 0.4)")]:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert shown in " ".join(capsys.readouterr().out.split())
