"""The server: every route answers, the store file is never written, a change shows in the version, a run being
written still serves its last commit."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest

from factorengine.dashboard.encode import to_json
from factorengine.dashboard.server import STATIC
from factorengine.store import RUN_DATABASE, Stopped, Store
from tests.factorengine.dashboard.conftest import served


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def _state(path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.mark.parametrize("which", ["run_dir", pytest.param("harvested_dir", marks=pytest.mark.slow)])
def test_every_route_answers_and_the_store_file_is_left_byte_for_byte(which, request):
    run_dir = request.getfixturevalue(which)
    database = run_dir / RUN_DATABASE
    before = _state(database)
    with served(run_dir) as server:
        overview = json.loads(_get(server.url + "api/overview")[2])
        nodes = [n["node_id"] for n in overview["overview"]["tree"]]
        answers = [_get(server.url + path) for path in ["", "api/version", *(f"api/node/{n}" for n in nodes),
                                                        *(f"static/{f.name}" for f in STATIC.iterdir())]]
    assert [status for status, _, _ in answers] == [200] * len(answers)
    assert answers[0][1] == "text/html; charset=utf-8" and b"/static/uPlot.iife.min.js" in answers[0][2]
    assert (overview["harvest"] is None) == (which == "run_dir")
    assert _state(database) == before


def test_an_unknown_node_or_file_is_404_and_no_path_leaves_the_static_folder(run_dir):
    with served(run_dir) as server:
        answers = [_get(server.url + path)[0] for path in ("api/node/999999999999", "api/nothing", "static/x.js",
                                                           "static/..%2Fserver.py", "static/../server.py")]
    assert answers == [404] * 5


def test_the_version_changes_when_the_run_commits(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    with served(copy) as server:
        before = json.loads(_get(server.url + "api/version")[2])["version"]
        assert json.loads(_get(server.url + "api/version")[2])["version"] == before
        with Store.open(copy / RUN_DATABASE) as writer, writer.transaction():
            writer.add_event(Stopped("test"))
        assert json.loads(_get(server.url + "api/version")[2])["version"] != before


def test_a_run_being_written_serves_its_last_commit(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    with served(copy) as server, Store.open(copy / RUN_DATABASE) as writer:
        n_nodes = len(writer.nodes())
        with writer.transaction():  # a writer in the middle of an iteration
            writer.add_event(Stopped("in flight"))
            status, _, body = _get(server.url + "api/overview")
        assert status == 200 and json.loads(body)["overview"]["run"]["nodes"] == n_nodes


def test_the_server_listens_on_the_loopback_address_by_default(run_dir):
    with served(run_dir) as server:
        assert server.server_address[0] == "127.0.0.1" and server.url.startswith("http://127.0.0.1:")


def test_json_has_null_for_nan_and_lists_for_arrays():
    assert json.loads(to_json({"a": float("nan"), 1: np.array([1.0, np.inf]), "b": (np.int64(3), "x")})) == {
        "a": None, "1": [1.0, None], "b": [3, "x"]}


def test_the_vendored_chart_library_ships_with_its_licence():
    assert (STATIC / "uPlot-LICENSE.txt").read_text().startswith("The MIT License")
    assert (STATIC / "uPlot.iife.min.js").read_text().startswith("/*! https://github.com/leeoniya/uPlot (v1.6.32)")
    assert os.path.getsize(STATIC / "uPlot.iife.min.js") < 100_000


LIBRARIES_SCRIPT = """import json, sys
from pathlib import Path
before = set(sys.modules)
from factorengine.dashboard.server import open_dashboard
server = open_dashboard(Path(sys.argv[1]))
statuses = [server.dashboard.answer(path)[0] for path in ("/", "/api/version", "/api/overview", "/api/node/1")]
server.server_close()
names = {name.split(".")[0] for name in set(sys.modules) - before}
print(json.dumps([statuses, sorted(names - set(sys.stdlib_module_names) - {"factorengine"})]))
"""


@pytest.mark.parametrize("which", ["run_dir", pytest.param("harvested_dir", marks=pytest.mark.slow)])
def test_serving_a_run_loads_numpy_and_the_standard_library_only_harvested_or_not(which, request):
    result = subprocess.run([sys.executable, "-c", LIBRARIES_SCRIPT, str(request.getfixturevalue(which))],
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.splitlines()[-1] == "[[200, 200, 200, 200], [\"numpy\"]]"
