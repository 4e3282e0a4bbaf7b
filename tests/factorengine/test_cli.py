"""The command line: `factorengine eval` on the synthetic market and on real data."""
import json
from pathlib import Path

import pytest

from factorengine.cli import main

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
