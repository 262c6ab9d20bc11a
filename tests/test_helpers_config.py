"""helpers.config: settings from the environment and a .env file, with one clear error per problem.

Every test runs in an empty temporary folder with no AZURE_INFERENCE_* variables; the session's
environment (which points at the replay server) is put back afterwards, including anything a
.env file added.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
from pathlib import Path

import pytest

import helpers
from helpers.config import ConfigError, Settings, endpoint_problem, load_settings, mask
from helpers.constants import DEMO_KEY

ROOT = Path(__file__).resolve().parents[1]
KEY = "abcdefghijklmnopqrstuvwxyz012345"  # 32 characters, not a real key
ENDPOINT = "https://my-llama.eastus2.models.ai.azure.com"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No AZURE_INFERENCE_* variables, cwd an empty folder; the whole environment restored afterwards."""
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("AZURE_INFERENCE")]:
        del os.environ[name]
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


def _error(prefix: str = "AZURE_INFERENCE") -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(prefix)
    return str(caught.value)


def assert_clear_error(message: str, variable: str, secret: str | None = None) -> None:
    """The message names the variable, shows an example value, says how to run offline, hides the key."""
    assert variable in message
    assert f"for example:\n    {variable}=" in message
    assert "make serve" in message and "demo-key-for-the-local-mock-0000" in message
    if secret:
        assert secret not in message


# -- reading ---------------------------------------------------------------------------------------

def test_reads_the_environment(clean_env):
    os.environ.update({"AZURE_INFERENCE_ENDPOINT": ENDPOINT + "/", "AZURE_INFERENCE_CREDENTIAL": f"  {KEY} "})
    s = load_settings()
    assert (s.endpoint, s.credential, s.auth, s.model, s.deployment) == (ENDPOINT, KEY, "key", "Meta-Llama-3.1-405B-Instruct", "")
    assert not s.is_local


def test_reads_a_dotenv_file_and_the_environment_wins(clean_env):
    (clean_env / ".env").write_text(
        f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_CREDENTIAL={KEY}\nAZURE_INFERENCE_MODEL=from-dotenv\n", encoding="utf-8")
    assert load_settings().credential == KEY
    os.environ["AZURE_INFERENCE_MODEL"] = "from-shell"
    os.environ["AZURE_INFERENCE_CREDENTIAL"] = "z" * 32
    s = load_settings()
    assert (s.endpoint, s.model, s.credential) == (ENDPOINT, "from-shell", "z" * 32)


def test_dotenv_in_a_parent_folder_is_found(clean_env, monkeypatch):
    (clean_env / ".env").write_text(f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_CREDENTIAL={KEY}\n", encoding="utf-8")
    (clean_env / "notebooks").mkdir()
    monkeypatch.chdir(clean_env / "notebooks")
    assert load_settings().endpoint == ENDPOINT


def test_dotenv_false_ignores_the_file(clean_env):
    (clean_env / ".env").write_text(f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_CREDENTIAL={KEY}\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_settings(dotenv=False)


def test_other_prefix_with_entra_needs_no_key(clean_env):
    os.environ.update({
        "AZURE_INFERENCE_MANAGED_ENDPOINT": "https://my-endpoint.eastus2.inference.ml.azure.com",
        "AZURE_INFERENCE_MANAGED_AUTH": " Entra ",
        "AZURE_INFERENCE_MANAGED_DEPLOYMENT": "llama-3-2-3b-instruct-1",
    })
    s = load_settings("AZURE_INFERENCE_MANAGED")
    assert (s.auth, s.credential, s.deployment, s.prefix) == ("entra", "", "llama-3-2-3b-instruct-1", "AZURE_INFERENCE_MANAGED")
    assert s.describe().endswith("(live endpoint), auth: Microsoft Entra ID")  # a live endpoint: the real thing
    local = helpers.Settings("http://127.0.0.1:8000/Llama-3.2-3B-Instruct-managed", auth="entra")
    assert local.describe().endswith("auth: Microsoft Entra ID (offline: the replay server's stand-in token)")


def test_the_session_environment_points_at_the_replay_server(mock_server):
    s = load_settings()
    assert s.is_local and s.endpoint == mock_server.endpoint("Meta-Llama-3.1-405B-Instruct")
    managed = load_settings("AZURE_INFERENCE_MANAGED")
    assert managed.auth == "entra" and managed.deployment and managed.is_local


# -- one clear error per problem -------------------------------------------------------------------

BAD_VALUES = [
    # (variable, value or None for unset, words the message must contain)
    ("AZURE_INFERENCE_ENDPOINT", None, "is not set"),
    ("AZURE_INFERENCE_ENDPOINT", "", "is empty"),
    ("AZURE_INFERENCE_ENDPOINT", "   ", "is empty"),
    ("AZURE_INFERENCE_ENDPOINT", "my-llama.eastus2.models.ai.azure.com", "must be a URL"),
    ("AZURE_INFERENCE_ENDPOINT", "ftp://my-llama.eastus2.models.ai.azure.com", "must be a URL"),
    ("AZURE_INFERENCE_ENDPOINT", "http://my-llama.eastus2.models.ai.azure.com", "need https://"),
    ("AZURE_INFERENCE_ENDPOINT", ENDPOINT + "/v1", "base URL"),
    ("AZURE_INFERENCE_ENDPOINT", ENDPOINT + "/chat/completions", "base URL"),
    ("AZURE_INFERENCE_ENDPOINT", ENDPOINT + "/info", "base URL"),
    ("AZURE_INFERENCE_ENDPOINT", ENDPOINT + "/chat/completions?api-version=2024-05-01-preview", "without '?...' or '#...'"),
    ("AZURE_INFERENCE_ENDPOINT", ENDPOINT + "#main", "without '?...' or '#...'"),
    ("AZURE_INFERENCE_ENDPOINT", ENDPOINT + "?", "without '?...' or '#...'"),
    ("AZURE_INFERENCE_ENDPOINT", "https://someone:pa55word-pa55word@my-llama.eastus2.models.ai.azure.com", "user name or password"),
    ("AZURE_INFERENCE_ENDPOINT", "https://my-llama.eastus2.inference.ml.azure.com/score", "without '/v1', '/chat/completions', '/info' or '/score'"),
    ("AZURE_INFERENCE_ENDPOINT", "https://<your-host>.<region>.models.ai.azure.com", "placeholder"),
    ("AZURE_INFERENCE_ENDPOINT", ENDPOINT + "   (the 405B one)", "has a space in it"),
    ("AZURE_INFERENCE_CREDENTIAL", None, "is not set"),
    ("AZURE_INFERENCE_CREDENTIAL", "", "is empty"),
    ("AZURE_INFERENCE_CREDENTIAL", "<your-key>", "placeholder"),
    ("AZURE_INFERENCE_CREDENTIAL", f"Bearer {KEY}", "without a 'Bearer ' prefix"),
    ("AZURE_INFERENCE_CREDENTIAL", f"{KEY[:16]} {KEY[16:]}", "malformed"),
    ("AZURE_INFERENCE_CREDENTIAL", f'"{KEY}"', "malformed"),
    ("AZURE_INFERENCE_CREDENTIAL", f"{KEY}'", "malformed"),
    ("AZURE_INFERENCE_CREDENTIAL", f"{KEY}\u200b", "not plain ASCII"),
    # Typographic quotes (U+2018, U+2019) around or inside a key copied from a formatted page.
    ("AZURE_INFERENCE_CREDENTIAL", f"{KEY}\u2019", "not plain ASCII"),
    ("AZURE_INFERENCE_CREDENTIAL", f"\u2018{KEY}\u2019", "not plain ASCII"),
    ("AZURE_INFERENCE_CREDENTIAL", f"{KEY[:16]}\u2019{KEY[16:]}", "not plain ASCII"),
    ("AZURE_INFERENCE_CREDENTIAL", ENDPOINT, "malformed"),
    ("AZURE_INFERENCE_AUTH", "aad", "must be 'key' or 'entra'"),
]


@pytest.mark.parametrize("variable, value, words", BAD_VALUES, ids=[f"{v[0].split('_')[-1]}={v[1]!r}" for v in BAD_VALUES])
def test_missing_empty_or_malformed_value_raises_one_clear_error(clean_env, variable, value, words):
    os.environ.update({"AZURE_INFERENCE_ENDPOINT": ENDPOINT, "AZURE_INFERENCE_CREDENTIAL": KEY})
    if value is None:
        del os.environ[variable]
    else:
        os.environ[variable] = value
    message = _error()
    assert words in message
    assert_clear_error(message, variable, secret=KEY)


def test_malformed_value_in_dotenv_file(clean_env):
    (clean_env / ".env").write_text(f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}/v1\nAZURE_INFERENCE_CREDENTIAL={KEY}\n", encoding="utf-8")
    assert_clear_error(_error(), "AZURE_INFERENCE_ENDPOINT", secret=KEY)
    (clean_env / ".env").write_text(f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_CREDENTIAL=\n", encoding="utf-8")
    for name in ("AZURE_INFERENCE_ENDPOINT", "AZURE_INFERENCE_CREDENTIAL"):  # the first load put them in the environment
        os.environ.pop(name, None)
    assert_clear_error(_error(), "AZURE_INFERENCE_CREDENTIAL")


def test_unedited_copy_of_env_example_is_reported(clean_env):
    shutil.copy(ROOT / ".env.example", clean_env / ".env")
    message = _error()
    assert "placeholder from .env.example" in message
    assert_clear_error(message, "AZURE_INFERENCE_ENDPOINT")


def test_error_names_the_prefix_it_was_asked_for(clean_env):
    message = _error("AZURE_INFERENCE_VISION")
    assert_clear_error(message, "AZURE_INFERENCE_VISION_ENDPOINT")
    assert "AZURE_INFERENCE_VISION_ENDPOINT among them" in message


def test_the_offline_hint_gives_every_deployments_variables_not_one_url(clean_env):
    """One URL is not enough against 'make serve': a notebook whose other deployment is unset falls back to the main
    one and finds no recording. The hint names the command that prints them all."""
    for message in (_error(), _error("AZURE_INFERENCE_VISION")):
        assert "python -m helpers.mock env" in message and "127.0.0.1:8000/" not in message


def test_a_managed_deployment_gets_a_managed_endpoint_example(clean_env):
    message = _error("AZURE_INFERENCE_MANAGED")
    assert "AZURE_INFERENCE_MANAGED_ENDPOINT=https://<your-endpoint>.<region>.inference.ml.azure.com" in message
    assert "models.ai.azure.com" not in message


def test_offline_variables_leave_nothing_for_a_live_dotenv_to_fill_in(clean_env, mock_server):
    """A .env file fills in unset variables only: the replay server's environment sets every variable a notebook
    reads, so a live setup's AUTH=entra or DEPLOYMENT in .env cannot reach an offline run."""
    (clean_env / ".env").write_text(
        f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_AUTH=entra\nAZURE_INFERENCE_DEPLOYMENT=live-one\n"
        f"AZURE_INFERENCE_MANAGED_AUTH=key\nAZURE_INFERENCE_MANAGED_DEPLOYMENT=live-two\n", encoding="utf-8")
    os.environ.update(mock_server.env())
    main = load_settings()
    assert main.is_local and (main.auth, main.deployment) == ("key", "")
    managed = load_settings("AZURE_INFERENCE_MANAGED")
    assert managed.is_local and managed.auth == "entra" and managed.deployment not in ("", "live-two")


def test_a_key_put_in_the_endpoint_variable_is_masked(clean_env):
    os.environ.update({"AZURE_INFERENCE_ENDPOINT": KEY, "AZURE_INFERENCE_CREDENTIAL": KEY})
    message = _error()
    assert KEY not in message and KEY[-4:] in message


# -- the key is never shown ------------------------------------------------------------------------

def test_key_is_masked_in_describe_and_hidden_in_repr():
    s = Settings(endpoint=ENDPOINT, credential=KEY)
    assert KEY not in s.describe() and KEY not in repr(s) and KEY not in str(s)
    assert s.describe() == f"{ENDPOINT} (live endpoint), auth: key {'*' * 28}{KEY[-4:]}"


@pytest.mark.parametrize("secret, shown", [(KEY, "*" * 28 + "2345"), ("short", "*****"), ("", ""), ("123456789", "*****6789")])
def test_mask(secret, shown):
    assert mask(secret) == shown


def test_config_error_is_a_value_error_exported_from_helpers():
    assert issubclass(helpers.ConfigError, ValueError)


@pytest.mark.parametrize("endpoint, local", [
    ("http://127.0.0.1:8000/Meta-Llama-3.1-405B-Instruct", True),
    ("http://localhost:8000/x", True),
    ("http://[::1]:8000/x", True),
    (ENDPOINT, False),
])
def test_is_local(endpoint, local):
    assert Settings(endpoint=endpoint).is_local is local


def test_every_variable_the_notebooks_read_is_in_env_example():
    """.env.example is where a live user starts: each deployment's variables are listed there."""
    import json
    import re

    listed = set(re.findall(r"(AZURE_INFERENCE[A-Z_]*?_(?:ENDPOINT|CREDENTIAL))=", (ROOT / ".env.example").read_text()))
    prefixes = [d["env_prefix"] for d in json.loads((ROOT / "data" / "deployments.json").read_text())["deployments"]]
    assert listed == {f"{p}_{name}" for p in prefixes for name in ("ENDPOINT", "CREDENTIAL")}


def test_env_example_has_no_note_after_a_value():
    """python-dotenv and Node's loadEnvFile keep text after an unquoted value: a note there would become part of it."""
    import re

    for line in (ROOT / ".env.example").read_text().splitlines():
        assignment = line.lstrip("# ")
        if re.fullmatch(r"AZURE_INFERENCE_[A-Z_]+=.*", assignment):
            assert " " not in assignment.split("=", 1)[1], f"note after a value: {line!r}"


def test_an_optional_deployment_is_none_only_when_its_endpoint_is_not_set(clean_env):
    assert helpers.optional_settings("AZURE_INFERENCE_SMALL") is None
    (clean_env / ".env").write_text(f"AZURE_INFERENCE_SMALL_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_SMALL_CREDENTIAL={KEY}\n", encoding="utf-8")
    assert helpers.optional_settings("AZURE_INFERENCE_SMALL").endpoint == ENDPOINT  # .env counts


def test_an_optional_deployment_set_halfway_is_an_error_not_a_skip(clean_env):
    """A live user who set the endpoint but mistyped the key must see why, not 'skipped'."""
    os.environ["AZURE_INFERENCE_GUARD_ENDPOINT"] = ENDPOINT
    with pytest.raises(ConfigError, match="AZURE_INFERENCE_GUARD_CREDENTIAL is not set"):
        helpers.optional_settings("AZURE_INFERENCE_GUARD")


# -- endpoint_problem: the one check the scripts make before a live run ----------------------------------


def test_endpoint_problem_is_none_for_an_endpoint_that_answers(mock_server):
    settings = Settings(mock_server.endpoint("Meta-Llama-3.1-405B-Instruct"), DEMO_KEY)
    assert endpoint_problem(settings) is None


def test_endpoint_problem_names_a_refused_key_without_showing_it(mock_server):
    wrong = "wrongwrongwrongwrongwrongwrong00"
    problem = endpoint_problem(Settings(mock_server.endpoint("Meta-Llama-3.1-405B-Instruct"), wrong))
    assert "refused the key (HTTP 401)" in problem and "AZURE_INFERENCE_CREDENTIAL" in problem
    assert wrong not in problem


def test_endpoint_problem_with_entra_id_only_checks_that_the_endpoint_answers(mock_server):
    # no token is fetched for the check: the replay server's 401 to a request without one is not a problem
    settings = Settings(mock_server.endpoint("Llama-3.2-3B-Instruct-managed"), auth="entra", deployment="llama-3-2-3b-instruct-1")
    assert endpoint_problem(settings) is None


def test_endpoint_problem_names_an_endpoint_that_does_not_answer():
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    problem = endpoint_problem(Settings(f"http://127.0.0.1:{port}/Meta-Llama-3.1-405B-Instruct", KEY), timeout=5)
    assert problem.startswith(f"cannot reach http://127.0.0.1:{port}/Meta-Llama-3.1-405B-Instruct")


def test_an_endpoint_without_https_is_shown_with_the_fix(clean_env):
    # a host name is not a secret: shown, with the URL it was meant to be (a bare string could be a key: masked)
    os.environ.update({"AZURE_INFERENCE_ENDPOINT": "my-llama.eastus2.models.ai.azure.com", "AZURE_INFERENCE_CREDENTIAL": KEY})
    assert "did you mean 'https://my-llama.eastus2.models.ai.azure.com'?" in _error()
    header, claims = (base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                      for part in ({"alg": "RS256", "typ": "JWT"}, {"aud": "https://ml.azure.com", "oid": secrets.token_hex(8)}))
    jwt = f"{header}.{claims}.{secrets.token_hex(16)}"  # made here: a token-shaped string must not be committed
    for secret in (KEY, jwt):  # a key or a token in the wrong variable stays masked
        os.environ["AZURE_INFERENCE_ENDPOINT"] = secret
        assert secret not in _error() and "did you mean" not in _error()


def test_endpoint_problem_names_the_error_when_it_has_no_message(monkeypatch):
    import httpx

    def silent_timeout(*args, **kwargs):
        raise httpx.ReadTimeout("")

    monkeypatch.setattr(httpx, "get", silent_timeout)
    assert endpoint_problem(Settings(ENDPOINT, KEY)) == f"cannot reach {ENDPOINT}: ReadTimeout"


@pytest.mark.parametrize("status, stops", [(401, True), (403, True), (404, False), (500, False)])
def test_endpoint_problem_stops_only_on_a_refused_key(monkeypatch, status, stops):
    import httpx

    monkeypatch.setattr(httpx, "get", lambda *args, **kwargs: httpx.Response(status, json={"error": {"code": str(status)}}))
    problem = endpoint_problem(Settings(ENDPOINT, KEY))
    assert (problem == f"{ENDPOINT} refused the key (HTTP {status}): check that AZURE_INFERENCE_CREDENTIAL is this endpoint's key") if stops else problem is None


def test_a_missing_variable_says_which_env_file_was_read_or_that_there_was_none(clean_env):
    assert f"(no .env file in {clean_env} or above it)" in _error()
    (clean_env / ".env").write_text(f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}\n", encoding="utf-8")
    message = _error()
    assert "AZURE_INFERENCE_CREDENTIAL is not set" in message and f"(read {clean_env / '.env'})" in message


def test_deployments_are_asked_at_the_same_time(monkeypatch):
    """Before a live run every configured deployment is asked once; an unreachable one takes the whole timeout, so
    they are asked at once, not one after the other (a barrier only opens when all three are waiting)."""
    import threading

    barrier = threading.Barrier(3, timeout=10)

    def endpoint_problem(settings):
        barrier.wait()
        return f"no answer from {settings.endpoint}" if "small" in settings.endpoint else None

    monkeypatch.setattr(helpers.config, "endpoint_problem", endpoint_problem)
    deployments = [helpers.config.Settings(endpoint=f"https://{name}.example.invalid", prefix=prefix)
                   for name, prefix in (("main", "AZURE_INFERENCE"), ("small", "AZURE_INFERENCE_SMALL"), ("guard", "AZURE_INFERENCE_GUARD"))]
    problems = helpers.config.endpoint_problems(deployments)
    assert [(s.prefix, p) for s, p in problems] == [("AZURE_INFERENCE_SMALL", "no answer from https://small.example.invalid")]
    # what to do: do without another deployment; go offline when it is the main one
    assert "unset AZURE_INFERENCE_SMALL_ENDPOINT" in helpers.config.unusable_hint(problems[0][0])
    assert helpers.config.unusable_hint(deployments[0]) == helpers.config.OFFLINE_HINT
