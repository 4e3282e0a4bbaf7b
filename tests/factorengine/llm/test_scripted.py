"""The scripted server, driven by the real `openai` client: replies in order, recorded requests, every fault."""
from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import openai
import pytest
from openai.types.chat import ChatCompletion

from factorengine.commands.llm_server_command import run
from factorengine.llm.scripted import REFUSAL, Reply, ScriptedServer, load_script

# Runs the command as `factorengine llm-server SCRIPT` would, with Ctrl-C live even if the test runner ignores it.
SERVE = """
import argparse, pathlib, signal, sys
from factorengine.commands.llm_server_command import run
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.exit(run(argparse.Namespace(script=pathlib.Path(sys.argv[1]), port=0)))
"""
PROMPT = [{"role": "system", "content": "You mine factors."}, {"role": "user", "content": "Propose an edit."}]


def client(base_url: str, timeout: float = 5.0) -> openai.OpenAI:
    # verify=False: the server speaks plain HTTP, and loading the CA bundle costs ~40 ms a client.
    return openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0, timeout=timeout,
                         http_client=openai.DefaultHttpxClient(verify=False))


def ask(server: ScriptedServer, model: str = "gpt-test", timeout: float = 5.0) -> ChatCompletion:
    """Send the prompt through a fresh client of `server`."""
    with client(server.base_url, timeout) as llm:
        return llm.chat.completions.create(model=model, messages=PROMPT)


def test_normal_reply_has_the_content_the_model_and_the_usage():
    with ScriptedServer([Reply("def factor(panel): ...")]) as server:
        completion = ask(server, model="my-model")
    assert completion.choices[0].message.content == "def factor(panel): ..."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "my-model"
    prompt_tokens = len("You mine factors.Propose an edit.") // 4 + 1
    completion_tokens = len("def factor(panel): ...") // 4 + 1
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens) == (
        prompt_tokens, completion_tokens, prompt_tokens + completion_tokens)


def test_replies_are_played_in_order():
    with ScriptedServer([Reply("first"), Reply("second"), Reply("third")]) as server:
        contents = [ask(server).choices[0].message.content for _ in range(3)]
    assert contents == ["first", "second", "third"]


def test_chat_completions_are_also_served_without_the_v1_prefix():
    with ScriptedServer([Reply("bare")]) as server:
        with client(server.base_url.removesuffix("/v1")) as llm:
            completion = llm.chat.completions.create(model="gpt-test", messages=PROMPT)
    assert completion.choices[0].message.content == "bare"


def test_callable_script_sees_the_request_body():
    def echo_last_message(body: dict) -> Reply:
        return Reply(body["messages"][-1]["content"].upper())

    with ScriptedServer(echo_last_message) as server:
        assert ask(server).choices[0].message.content == "PROPOSE AN EDIT."


def test_requests_and_headers_are_recorded():
    with ScriptedServer([Reply("a"), Reply("b")]) as server:
        ask(server, model="one")
        ask(server, model="two")
    assert [request["model"] for request in server.requests] == ["one", "two"]
    assert server.requests[0]["messages"] == PROMPT
    assert [headers["authorization"] for headers in server.headers] == ["Bearer sk-test"] * 2


def test_exhausted_script_answers_500():
    with ScriptedServer([Reply("only")]) as server:
        ask(server)
        with pytest.raises(openai.InternalServerError, match="script exhausted after 1 replies") as raised:
            ask(server)
    assert raised.value.status_code == 500


def test_repeat_wraps_around():
    with ScriptedServer([Reply("a"), Reply("b")], repeat=True) as server:
        contents = [ask(server).choices[0].message.content for _ in range(5)]
    assert contents == ["a", "b", "a", "b", "a"]


def test_timeout_fault_times_the_client_out_and_shutdown_stays_prompt():
    with ScriptedServer([Reply("late", fault="timeout")], hang_s=5) as server:
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            ask(server, timeout=0.5)
        exiting = time.monotonic()
    assert exiting - started < 2
    assert time.monotonic() - exiting < 2


def test_timeout_fault_answers_after_hanging():
    with ScriptedServer([Reply("late", fault="timeout")], hang_s=0.1) as server:
        assert ask(server).choices[0].message.content == "late"


def test_rate_limit_fault_sends_retry_after():
    with ScriptedServer([Reply(fault="429", retry_after=2)]) as server:
        with pytest.raises(openai.RateLimitError) as raised:
            ask(server)
    assert raised.value.status_code == 429
    assert raised.value.response.headers["retry-after"] == "2"
    assert raised.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_faults_answer_their_status(status):
    with ScriptedServer([Reply(fault=str(status))]) as server:
        with pytest.raises(openai.InternalServerError) as raised:
            ask(server)
    assert raised.value.status_code == status


def test_disconnect_fault_is_a_connection_error():
    with ScriptedServer([Reply(fault="disconnect"), Reply("after")]) as server:
        with pytest.raises(openai.APIConnectionError) as raised:
            ask(server)
        assert ask(server).choices[0].message.content == "after"
    assert not isinstance(raised.value, openai.APITimeoutError)


def test_empty_fault_answers_empty_content():
    with ScriptedServer([Reply("ignored", fault="empty")]) as server:
        completion = ask(server)
    assert completion.choices[0].message.content == ""
    assert completion.choices[0].finish_reason == "stop"


def test_truncated_fault_answers_half_the_content_with_finish_reason_length():
    with ScriptedServer([Reply("0123456789", fault="truncated")]) as server:
        choice = ask(server).choices[0]
    assert (choice.message.content, choice.finish_reason) == ("01234", "length")


def test_refusal_fault_answers_a_refusal_without_content():
    with ScriptedServer([Reply("ignored", fault="refusal")]) as server:
        message = ask(server).choices[0].message
    assert message.content is None
    assert message.refusal == REFUSAL


def test_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="'bogus'.*timeout, 429"):
        Reply(fault="bogus")


def test_models_and_unknown_paths():
    with ScriptedServer([]) as server:
        with client(server.base_url) as llm:
            assert [model.id for model in llm.models.list()] == ["scripted"]
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(server.base_url + "/nowhere", timeout=5)
        error = json.load(raised.value)  # before the exit closes the connection
    assert raised.value.code == 404
    assert "no route" in error["error"]["message"]


def test_exit_is_prompt_and_ends_idle_keep_alive_connections():
    threads = threading.active_count()
    with ScriptedServer([Reply("a")]) as server:
        ask(server)
        exiting = time.monotonic()
    assert time.monotonic() - exiting < 1
    assert threading.active_count() == threads


def test_load_script_round_trip(tmp_path):
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"replies": [{"content": "hello"}, {"fault": "429", "retry_after": 1.5}],
                                "repeat": True}))
    assert load_script(path) == ([Reply("hello"), Reply(fault="429", retry_after=1.5)], True)


@pytest.mark.parametrize(("text", "complaint"), [
    (None, "cannot read"),
    ("{not json", "cannot read"),
    ('{"replies": [{"content": "a"}], "loop": true}', "only the keys"),
    ('{"replies": []}', "non-empty list"),
    ('{"replies": [{"content": "a"}, {"text": "b"}]}', "reply 2 must be an object with only the keys"),
    ('{"replies": [{"fault": "slow"}]}', "reply 1: unknown fault 'slow'; allowed: timeout"),
    ('{"replies": [{"fault": "429", "retry_after": "soon"}]}', "number of seconds"),
])
def test_load_script_errors_name_the_file_and_the_fix(tmp_path, text, complaint):
    path = tmp_path / "script.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ValueError, match=complaint) as raised:
        load_script(path)
    assert str(path) in str(raised.value)


def test_llm_server_command_serves_quietly_until_ctrl_c(tmp_path):
    path = tmp_path / "script.json"
    path.write_text('{"replies": [{"content": "offline"}]}')
    with subprocess.Popen([sys.executable, "-c", SERVE, str(path)], stderr=subprocess.PIPE, text=True) as process:
        try:
            announced = re.fullmatch(r"serving (\S+); set \[llm\] base_url to it \(Ctrl-C stops\)\n",
                                     process.stderr.readline())
            with client(announced[1]) as llm:
                completion = llm.chat.completions.create(model="gpt-test", messages=PROMPT)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=5) == 0
            assert process.stderr.read() == ""
        finally:
            process.kill()
    assert completion.choices[0].message.content == "offline"


def test_llm_server_command_rejects_a_bad_script(tmp_path, capsys):
    path = tmp_path / "script.json"
    path.write_text('{"replies": [{"fault": "slow"}]}')
    assert run(argparse.Namespace(script=path, port=0)) == 2
    assert capsys.readouterr().err.startswith(f"error: {path}: reply 1: unknown fault 'slow'")
