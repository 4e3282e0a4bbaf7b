"""`factorengine dashboard`: serves a run until interrupted; bad input is one line, never a traceback, and the
store is never written."""
import signal
import socket
import subprocess
import sys
import urllib.request

from factorengine.cli import build_parser, main
from factorengine.store import RUN_DATABASE
from tests.factorengine.store.sample import create, iteration, node, ok


def _run(tmp_path):
    with create(tmp_path / RUN_DATABASE) as store:
        iteration(store, node(1), ok(1))
    return tmp_path


def test_it_serves_on_127_0_0_1_unless_host_says_otherwise(tmp_path):
    args = build_parser("dashboard").parse_args(["dashboard", str(tmp_path)])
    assert (args.host, args.port) == ("127.0.0.1", 8765)


def test_a_directory_without_a_run_is_one_line(tmp_path, capsys):
    assert main(["dashboard", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: no run database at {tmp_path / RUN_DATABASE}: check the run directory (a run is created " \
                  "by `evolve`)\n"


def test_a_corrupted_store_is_one_line_and_left_as_it_was(tmp_path, capsys):
    database = _run(tmp_path) / RUN_DATABASE
    damaged = database.read_bytes()[:4096] + b"\x00garbage" * 512
    database.write_bytes(damaged)
    assert main(["dashboard", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {database} ") and err.count("\n") == 1 and "Traceback" not in err
    assert database.read_bytes() == damaged


def test_a_port_in_use_is_one_line(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", str(_run(tmp_path)), "--port", str(port)]) == 2
    assert capsys.readouterr().err == f"error: 127.0.0.1:{port} is in use: choose another with --port\n"


def test_the_command_prints_its_address_serves_the_page_and_stops_cleanly_on_ctrl_c(tmp_path):
    run_dir = _run(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "factorengine.cli", "dashboard", str(run_dir), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = line.split(": ", 1)[1].split()[0]
        assert line == f"dashboard of {run_dir}: {url} (Ctrl-C stops it)\n" and url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200 and b"<title>FactorEngine dashboard</title>" in response.read()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in err

