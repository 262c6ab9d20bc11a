"""The command line: ``python -m helpers.mock serve|record``.

``serve --port 0`` runs in a subprocess: it must print the emulated Foundry resource's two endpoints
(``openai-v1-endpoint <url>``, ``models-endpoint <url>``), then one ``endpoint <name> <url>`` line per deployment
(a Foundry deployment's url is ``<base>/openai/v1 (model <name>)``) on standard output, and then answer on those URLs,
with the key from ``AZURE_INFERENCE_CREDENTIAL`` (else the demo key) and the quota given by ``--rpm``/``--tpm``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from helpers.config import mask
from helpers.mock import DEMO_KEY, MockSettings
from helpers.mock.__main__ import build_parser, settings_from_args
from helpers.mock.deployments import deployments_for, load_deployments

ROOT = Path(__file__).resolve().parents[1]
BIG = "Meta-Llama-3.1-405B-Instruct"
SMALL = "Meta-Llama-3.1-8B-Instruct"
DEPLOYMENTS = load_deployments(ROOT / "data" / "deployments.json")
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "How many languages are in the world?"},
]
TEST_KEY = "cli-test-key-for-the-mock-000000"  # 32 characters; not a real key


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_INFERENCE")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


ENDPOINT_LINE = re.compile(r"endpoint (\S+) (http://127\.0\.0\.1:\d+/\S+)(?: \(model (\S+)\))?")


class Served:
    """A ``serve`` subprocess, its endpoint lines, and its standard error (read in the background).

    ``resource``: the Foundry resource's endpoints by kind; ``endpoints``: each deployment's URL as printed (a Foundry
    deployment's is the resource's v1 endpoint); ``models``: the model a Foundry deployment's line names."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "helpers.mock", "serve", "--port", "0", *args],
            cwd=ROOT,
            env=env or _env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True)
        self._reader.start()
        self.lines: list[str] = []
        self.resource: dict[str, str] = {}
        self.endpoints: dict[str, str] = {}
        self.models: dict[str, str] = {}
        timer = threading.Timer(30, self.proc.kill)  # never hang the test run
        timer.start()
        try:
            for heading, kind in (("openai-v1-endpoint", "openai-v1"), ("models-endpoint", "foundry-models")):
                line = self._line()
                first, url = line.split()
                assert first == heading, line
                self.resource[kind] = url
            while len(self.endpoints) < len(DEPLOYMENTS):
                line = self._line()
                match = ENDPOINT_LINE.fullmatch(line)
                assert match, line
                name, url, model = match.groups()
                self.endpoints[name] = url
                if model:
                    self.models[name] = model
        except BaseException:  # a start that fails a check must not leave its server running
            self.stop()
            raise
        finally:
            timer.cancel()

    def _line(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"serve exited early: {''.join(self.stderr)[-2000:]}")
        self.lines.append(line.rstrip("\n"))
        return self.lines[-1]

    def chat(self, deployment: str, key: str = DEMO_KEY, body: dict | None = None) -> requests.Response:
        body = body or {"messages": MESSAGES}
        if deployment in self.models:  # on the resource, the body's model names the deployment
            body = {**body, "model": self.models[deployment]}
        return requests.post(
            self.endpoints[deployment] + "/chat/completions", json=body, headers={"api-key": key}, timeout=10
        )

    def stop(self) -> None:
        self.proc.terminate()  # only the process this test started
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)  # all of standard error read


@pytest.fixture(scope="module")
def served():
    server = Served("--rpm", "2", "--tpm", "50")
    yield server
    server.stop()


def test_serve_prints_the_resource_and_one_endpoint_line_per_deployment(served):
    assert len(served.lines) == 2 + len(DEPLOYMENTS)
    port = re.fullmatch(r"openai-v1-endpoint http://127\.0\.0\.1:(\d+)/openai/v1", served.lines[0]).group(1)
    assert port != "0", "the real port, not 0"
    base = f"http://127.0.0.1:{port}"
    assert served.lines[1] == f"models-endpoint {base}/models"
    assert served.resource == {"openai-v1": f"{base}/openai/v1", "foundry-models": f"{base}/models"}
    expected = [
        f"endpoint {name} {base}/{name}" if dep.own_endpoint else f"endpoint {name} {base}/openai/v1 (model {name})"
        for name, dep in DEPLOYMENTS.items()
    ]
    assert served.lines[2:] == expected
    assert set(served.models) == {name for name, dep in DEPLOYMENTS.items() if dep.kind == "foundry"} != set()


def test_serve_answers_on_every_endpoint(served):
    auth = {"Authorization": f"Bearer {DEMO_KEY}"}
    for name, url in served.endpoints.items():
        if name in served.models:  # a Foundry deployment has no /<name>/info: the resource's /models/info names it
            r = requests.get(
                served.resource["foundry-models"] + "/info",
                params={"model": served.models[name]},
                headers=auth,
                timeout=10,
            )
        else:
            r = requests.get(url + "/info", headers=auth, timeout=10)
        assert r.status_code == 200 and r.json()["model_name"] == DEPLOYMENTS[name].model_name
    listed = requests.get(served.resource["openai-v1"] + "/models", headers=auth, timeout=10)
    assert listed.status_code == 200 and [m["id"] for m in listed.json()["data"]] == list(served.models)


def test_rpm_and_tpm_options(served):
    # --tpm 50: the documented answer costs 91 tokens, so the second request on the 405B is over quota.
    first = served.chat(BIG)
    assert first.status_code == 200 and first.headers["x-replay-recording"] == f"{BIG}/how-many-languages"
    over = served.chat(BIG)
    assert over.status_code == 429 and "50 tokens" in over.json()["error"]["message"]
    assert over.headers.get("Retry-After")
    # --rpm 2: on the 8B (no recordings, no tokens spent), the third request is over quota.
    assert [served.chat(SMALL).status_code for _ in range(3)] == [404, 404, 429]


def test_serve_keeps_stdout_to_endpoint_lines(served):
    served.chat(SMALL, key="wrong")
    assert served.proc.poll() is None, "still serving"
    assert len(served.lines) == 2 + len(DEPLOYMENTS)


def test_key_from_azure_inference_credential_and_a_quiet_stream_cut():
    server = Served("--cut-stream-after", "2", env=_env(AZURE_INFERENCE_CREDENTIAL=TEST_KEY))
    try:
        assert server.chat(BIG, key=TEST_KEY).status_code == 200
        denied = server.chat(BIG, key=DEMO_KEY)
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "Unauthorized"
        body = {"messages": MESSAGES, "stream": True, "temperature": 0, "top_p": 1, "max_tokens": 2048}
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            with requests.post(
                server.endpoints[BIG] + "/chat/completions",
                json=body,
                headers={"api-key": TEST_KEY},
                stream=True,
                timeout=10,
            ) as r:
                list(r.iter_lines())
        assert server.chat(BIG, key=TEST_KEY).status_code == 200, "still serving after the cut"
    finally:
        server.stop()
    stderr = "".join(server.stderr)
    assert TEST_KEY not in "".join(server.lines) + stderr, "the key is never printed"
    assert "stream cut after 2 chunks" in stderr
    assert f"accepting the key from AZURE_INFERENCE_CREDENTIAL ({mask(TEST_KEY)}), not the demo key" in stderr
    assert "Traceback" not in stderr and "Exception in ASGI application" not in stderr, stderr[-2000:]


def test_serve_with_the_demo_key_by_default(served):
    assert "not the demo key" not in "".join(served.stderr)
    assert served.chat(SMALL, key="wrong").status_code == 401
    assert requests.get(served.endpoints[BIG] + "/info", headers={"api-key": DEMO_KEY}, timeout=10).status_code == 200


def _help(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "helpers.mock", *args, "--help"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_documents_every_option():
    parser = build_parser()
    top = _help()
    assert "serve" in top and "record" in top
    assert "serve --help" in top  # the options live under the commands: the top level says where
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    for command, sub in subparsers.items():
        text = _help(command) if command == "serve" else sub.format_help()
        for action in sub._actions:
            for option in action.option_strings:
                assert option in text, f"{command} --help does not mention {option}"
            if action.option_strings and action.dest != "help":
                assert action.help and len(action.help) > 10, (
                    f"{command} {action.option_strings[0]} has no real help text"
                )
    serve_help = _help("serve")
    assert DEMO_KEY in serve_help and "AZURE_INFERENCE_CREDENTIAL" in serve_help


def test_options_reach_the_settings(monkeypatch):
    monkeypatch.delenv("AZURE_INFERENCE_CREDENTIAL", raising=False)
    args = build_parser().parse_args(
        [
            "serve",
            "--port",
            "0",
            "--rpm",
            "7",
            "--tpm",
            "700",
            "--quota-window",
            "2.5",
            "--no-retry-after",
            "--fault-rate",
            "0.25",
            "--fault-retry-after",
            "0.2",
            "--fault-statuses",
            "500,503",
            "--latency-ms",
            "12",
            "--replay-timing",
            "--cut-stream-after",
            "4",
            "--seed",
            "42",
            "--log-requests",
            "--recordings",
            "/tmp/somewhere",
        ]
    )
    s = settings_from_args(args)
    assert (s.key, s.rpm, s.tpm, s.quota_window_seconds, s.retry_after) == (DEMO_KEY, 7, 700, 2.5, False)
    assert (s.fault_rate, s.fault_statuses, s.latency_ms, s.replay_timing) == (0.25, (500, 503), 12.0, True)
    assert s.fault_retry_after_seconds == 0.2
    assert (s.cut_stream_after, s.seed, s.log_requests, str(s.recordings_dir)) == (4, 42, True, "/tmp/somewhere")
    defaults = settings_from_args(build_parser().parse_args(["serve"]))
    assert (defaults.rpm, defaults.tpm, defaults.retry_after, defaults.fault_rate, defaults.upstreams) == (
        1000,
        200_000,
        True,
        0.0,
        {},
    )
    assert defaults.fault_retry_after_seconds == 1.0
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", TEST_KEY)
    assert settings_from_args(build_parser().parse_args(["serve"])).key == TEST_KEY
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--fault-statuses", "five hundred"])


def test_record_reads_upstreams_from_the_environment(monkeypatch, tmp_path):
    for name in [k for k in os.environ if k.startswith("AZURE_INFERENCE")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # record mode reads a .env file too: none here or above
    with pytest.raises(SystemExit, match="AZURE_INFERENCE_ENDPOINT"):
        settings_from_args(build_parser().parse_args(["record"]))
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", "https://example.invalid/")
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", TEST_KEY)
    s = settings_from_args(build_parser().parse_args(["record", "--port", "0"]))
    assert s.upstreams == {BIG: ("https://example.invalid", TEST_KEY)}
    assert s.upstream_deployments == {}


def test_record_sends_the_live_deployment_name_to_a_managed_endpoint(monkeypatch, tmp_path):
    """Notebooks name the replay server's deployment; the live managed endpoint gets its own, from _DEPLOYMENT."""
    from starlette.requests import Request

    from helpers.mock.proxy import Recorder

    for name in [k for k in os.environ if k.startswith("AZURE_INFERENCE")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AZURE_INFERENCE_MANAGED_ENDPOINT", "https://my-endpoint.eastus2.inference.ml.azure.com")
    monkeypatch.setenv("AZURE_INFERENCE_MANAGED_CREDENTIAL", TEST_KEY)
    monkeypatch.setenv("AZURE_INFERENCE_MANAGED_DEPLOYMENT", "live-deployment-7")
    monkeypatch.chdir(tmp_path)
    s = settings_from_args(build_parser().parse_args(["record"]))
    managed = "Llama-3.2-3B-Instruct-managed"
    assert s.upstream_deployments == {managed: "live-deployment-7"}
    recorder = Recorder(s.upstreams, s.recordings_dir, store=None, deployments=s.upstream_deployments)
    request = Request(
        {
            "type": "http",
            "method": "POST",
            "path": f"/{managed}/chat/completions",
            "query_string": b"api-version=2024-05-01-preview",
            "headers": [
                (b"azureml-model-deployment", b"llama-3-2-3b-instruct-1"),
                (b"content-type", b"application/json"),
            ],
        }
    )
    url, headers, _ = recorder._upstream(request, managed)
    assert url == "https://my-endpoint.eastus2.inference.ml.azure.com/chat/completions?api-version=2024-05-01-preview"
    assert headers["azureml-model-deployment"] == "live-deployment-7"
    assert s.key == DEMO_KEY, "clients talk to the recording proxy with the demo key, never the live one"


def test_serve_on_a_taken_port_says_so_and_suggests_another():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "helpers.mock", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    assert done.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in done.stderr and f"make serve PORT={port + 1}" in done.stderr
    assert "Traceback" not in done.stderr


def test_record_names_a_malformed_live_variable_before_it_starts(monkeypatch, tmp_path):
    for name in [k for k in os.environ if k.startswith("AZURE_INFERENCE")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env here or above
    monkeypatch.setenv("AZURE_INFERENCE_ENDPOINT", "https://<your-host>.<region>.models.ai.azure.com")
    monkeypatch.setenv("AZURE_INFERENCE_CREDENTIAL", TEST_KEY)
    with pytest.raises(SystemExit, match="AZURE_INFERENCE_ENDPOINT still holds a placeholder"):
        settings_from_args(build_parser().parse_args(["record"]))


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--fault-rate", "1", "--fault-statuses", ","],
            "argument --fault-statuses: must list at least one HTTP status",
        ),
        (["--fault-statuses", "99"], "argument --fault-statuses: must be HTTP error statuses from 400 to 599, not 99"),
        (
            ["--fault-statuses", "500,1000"],
            "argument --fault-statuses: must be HTTP error statuses from 400 to 599, not 1000",
        ),
        (
            ["--fault-statuses", "200"],
            "argument --fault-statuses: must be HTTP error statuses from 400 to 599, not 200",
        ),
        (["--rpm", "-1"], "argument --rpm: must be a whole number >= 0, not -1"),
        (["--tpm", "-5"], "argument --tpm: must be a whole number >= 0, not -5"),
        (["--rpm", "many"], "argument --rpm: expected a whole number, got 'many'"),
        (["--cut-stream-after", "-1"], "argument --cut-stream-after: must be a whole number >= 0, not -1"),
        (["--fault-rate", "1.5"], "argument --fault-rate: must be a number from 0 to 1, not 1.5"),
        (["--fault-rate", "nan"], "argument --fault-rate: must be a number from 0 to 1, not nan"),
        (["--quota-window", "0"], "argument --quota-window: must be a finite number > 0, not 0.0"),
        (["--latency-ms", "inf"], "argument --latency-ms: must be a finite number >= 0, not inf"),
        (["--fault-retry-after", "-1"], "argument --fault-retry-after: must be a finite number >= 0, not -1.0"),
        (["--port", "99999"], "argument --port: must be a port number from 0 to 65535, not 99999"),
        (["--port", "eighty"], "argument --port: expected a port number, got 'eighty'"),
    ],
)
def test_values_that_would_break_every_request_are_refused_with_a_clear_message(capsys, args, message):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"fault_rate": 1, "fault_statuses": ()}, "MockSettings.fault_statuses must list at least one HTTP status"),
        (
            {"fault_statuses": (1000,)},
            "MockSettings.fault_statuses must be HTTP error statuses from 400 to 599, not 1000",
        ),
        (
            {"fault_statuses": (200,)},
            "MockSettings.fault_statuses must be HTTP error statuses from 400 to 599, not 200",
        ),
        ({"rpm": -1}, "MockSettings.rpm must be a whole number >= 0, not -1"),
        ({"cut_stream_after": -1}, "MockSettings.cut_stream_after must be a whole number >= 0, not -1"),
        ({"fault_rate": 1.5}, "MockSettings.fault_rate must be a number from 0 to 1, not 1.5"),
        ({"body_timeout_seconds": 0}, "MockSettings.body_timeout_seconds must be a finite number > 0, not 0"),
        ({"max_body_bytes": 0}, "MockSettings.max_body_bytes must be a whole number >= 1, not 0"),
    ],
)
def test_mock_settings_refuse_the_same_values(overrides, message):
    with pytest.raises(ValueError) as refused:
        MockSettings(**overrides)
    assert str(refused.value) == message


def test_the_limits_themselves_are_accepted():
    args = build_parser().parse_args(
        [
            "serve",
            "--rpm",
            "0",
            "--tpm",
            "0",
            "--cut-stream-after",
            "0",
            "--fault-rate",
            "1",
            "--fault-statuses",
            "400,599",
            "--latency-ms",
            "0",
            "--fault-retry-after",
            "0",
        ]
    )
    s = settings_from_args(args)
    assert (s.rpm, s.tpm, s.cut_stream_after, s.fault_rate, s.fault_statuses, s.latency_ms) == (
        0,
        0,
        0,
        1.0,
        (400, 599),
        0.0,
    )


def test_env_prints_what_points_every_deployment_at_the_server(tmp_path, monkeypatch):
    """`python -m helpers.mock env` as a .env file: each deployment's settings load and reach its own URL."""
    from helpers.config import load_settings, read_dotenv
    from helpers.mock.__main__ import env_lines

    monkeypatch.delenv("AZURE_INFERENCE_CREDENTIAL", raising=False)
    lines = env_lines(8123)
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    for name in [line.split("=", 1)[0] for line in lines]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    read_dotenv()
    today = deployments_for(DEPLOYMENTS, "openai-v1")  # the default kind: today's deployments, through /openai/v1
    assert {dep.env_prefix for dep in today} == {dep.env_prefix for dep in DEPLOYMENTS.values()}
    for dep in today:
        settings = load_settings(dep.env_prefix, dotenv=False)
        if dep.own_endpoint:  # managed compute: an endpoint of its own
            assert (settings.endpoint, settings.kind) == (f"http://127.0.0.1:8123/{dep.name}", dep.kind)
        else:  # on the Foundry resource: its v1 endpoint, the model naming the deployment
            assert (settings.endpoint, settings.kind, settings.model) == (
                "http://127.0.0.1:8123/openai/v1",
                "openai-v1",
                dep.name,
            )
        assert settings.is_local
        assert settings.auth == dep.auth and settings.deployment == (dep.azureml_deployment or "")
        assert settings.credential == DEMO_KEY or settings.auth == "entra"
    assert "LITELLM_LOCAL_MODEL_COST_MAP=True" in lines


def test_env_prints_no_key_of_yours():
    done = subprocess.run(
        [sys.executable, "-m", "helpers.mock", "env"],
        cwd=ROOT,
        env=_env(AZURE_INFERENCE_CREDENTIAL=TEST_KEY),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (
        TEST_KEY not in done.stdout
        and "AZURE_INFERENCE_CREDENTIAL=<the key in your AZURE_INFERENCE_CREDENTIAL>" in done.stdout
    )


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"request": {', "not a readable JSON file"),  # edited by hand: a brace missing
        ('{"provenance": {"source": "authored"}, "request": {"body": {"messages": []}}}', "needs request.body"),
        (
            '{"provenance": {"source": "from a blog"}, "request": {"body": {}}, "response": {}}',
            "provenance.source must be one of",
        ),
        (
            '{"provenance": {"source": "authored"}, "request": {"body": {}}, "response": {"status": "OK"}}',
            "response.status must be",
        ),
        (
            '{"provenance": {"source": "authored"}, "request": {"body": {}}, "response": {"stream": '
            '[{"data": "[DONE]", "delay_ms": -5}]}}',
            "response.stream must be a list of events",
        ),
        (
            '{"provenance": {"source": "authored"}, "request": {"body": {}}, "response": {"stream": "data: [DONE]"}}',
            "response.stream must be",
        ),
        (
            '{"provenance": {"source": "authored"}, "request": {"body": {}}, "response": {"headers": {"x-count": 3}}}',
            "response.headers must",
        ),
    ],
)
def test_a_recording_that_does_not_load_stops_the_server_with_its_file_name(tmp_path, content, message):
    folder = tmp_path / "recordings" / BIG
    folder.mkdir(parents=True)
    (folder / "edited-by-hand.json").write_text(content)
    done = subprocess.run(
        [sys.executable, "-m", "helpers.mock", "serve", "--port", "0", "--recordings", str(tmp_path / "recordings")],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "edited-by-hand.json" in done.stderr and message in done.stderr, done.stderr


def test_a_recordings_folder_that_does_not_exist_is_refused(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "helpers.mock", "serve", "--port", "0", "--recordings", str(tmp_path / "typo")],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and f"there is no folder {tmp_path / 'typo'}" in done.stderr
