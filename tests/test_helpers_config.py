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
from helpers.auth import ENTRA_SCOPES, entra_scope
from helpers.config import (
    ENDPOINT_FORMS,
    ENDPOINT_KINDS,
    ConfigError,
    Settings,
    endpoint_kind,
    endpoint_problem,
    load_settings,
    mask,
    nearest_kind,
)
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
    assert (s.endpoint, s.credential, s.auth, s.model, s.deployment) == (
        ENDPOINT,
        KEY,
        "key",
        "Meta-Llama-3.1-405B-Instruct",
        "",
    )
    assert not s.is_local


def test_reads_a_dotenv_file_and_the_environment_wins(clean_env):
    (clean_env / ".env").write_text(
        f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_CREDENTIAL={KEY}\nAZURE_INFERENCE_MODEL=from-dotenv\n",
        encoding="utf-8",
    )
    assert load_settings().credential == KEY
    os.environ["AZURE_INFERENCE_MODEL"] = "from-shell"
    os.environ["AZURE_INFERENCE_CREDENTIAL"] = "z" * 32
    s = load_settings()
    assert (s.endpoint, s.model, s.credential) == (ENDPOINT, "from-shell", "z" * 32)


def test_dotenv_in_a_parent_folder_is_found(clean_env, monkeypatch):
    (clean_env / ".env").write_text(
        f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_CREDENTIAL={KEY}\n", encoding="utf-8"
    )
    (clean_env / "notebooks").mkdir()
    monkeypatch.chdir(clean_env / "notebooks")
    assert load_settings().endpoint == ENDPOINT


def test_dotenv_false_ignores_the_file(clean_env):
    (clean_env / ".env").write_text(
        f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_CREDENTIAL={KEY}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError):
        load_settings(dotenv=False)


def test_other_prefix_with_entra_needs_no_key(clean_env):
    os.environ.update(
        {
            "AZURE_INFERENCE_MANAGED_ENDPOINT": "https://my-endpoint.eastus2.inference.ml.azure.com",
            "AZURE_INFERENCE_MANAGED_AUTH": " Entra ",
            "AZURE_INFERENCE_MANAGED_DEPLOYMENT": "llama-3-2-3b-instruct-1",
        }
    )
    s = load_settings("AZURE_INFERENCE_MANAGED")
    assert (s.auth, s.credential, s.deployment, s.prefix) == (
        "entra",
        "",
        "llama-3-2-3b-instruct-1",
        "AZURE_INFERENCE_MANAGED",
    )
    assert s.kind == "managed"  # the host says so; and the deployment header to send
    assert s.describe().endswith(
        "(managed, live endpoint), auth: Microsoft Entra ID"
    )  # a live endpoint: the real thing
    local = helpers.Settings("http://127.0.0.1:8000/Llama-3.2-3B-Instruct-managed", auth="entra")
    assert local.describe().endswith("auth: Microsoft Entra ID (offline: the replay server's stand-in token)")


def test_the_session_environment_points_at_the_replay_server(mock_server):
    """The default kind is today's: the emulated Foundry resource's OpenAI v1 endpoint, the model naming the
    deployment."""
    s = load_settings()
    assert s.is_local and s.endpoint == mock_server.openai_v1_endpoint
    assert (s.kind, s.model, s.auth) == ("openai-v1", "Llama-3.3-70B-Instruct", "key")
    managed = load_settings("AZURE_INFERENCE_MANAGED")
    assert managed.auth == "entra" and managed.deployment and managed.is_local and managed.kind == "managed"


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
    (
        "AZURE_INFERENCE_ENDPOINT",
        ENDPOINT + "/chat/completions?api-version=2024-05-01-preview",
        "without '?...' or '#...'",
    ),
    ("AZURE_INFERENCE_ENDPOINT", ENDPOINT + "#main", "without '?...' or '#...'"),
    ("AZURE_INFERENCE_ENDPOINT", ENDPOINT + "?", "without '?...' or '#...'"),
    (
        "AZURE_INFERENCE_ENDPOINT",
        "https://someone:pa55word-pa55word@my-llama.eastus2.models.ai.azure.com",
        "user name or password",
    ),
    (
        "AZURE_INFERENCE_ENDPOINT",
        "https://my-llama.eastus2.inference.ml.azure.com/score",
        "without '/v1', '/chat/completions', '/info' or '/score'",
    ),
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


@pytest.mark.parametrize(
    "variable, value, words", BAD_VALUES, ids=[f"{v[0].split('_')[-1]}={v[1]!r}" for v in BAD_VALUES]
)
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
    (clean_env / ".env").write_text(
        f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}/v1\nAZURE_INFERENCE_CREDENTIAL={KEY}\n", encoding="utf-8"
    )
    assert_clear_error(_error(), "AZURE_INFERENCE_ENDPOINT", secret=KEY)
    (clean_env / ".env").write_text(
        f"AZURE_INFERENCE_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_CREDENTIAL=\n", encoding="utf-8"
    )
    for name in (
        "AZURE_INFERENCE_ENDPOINT",
        "AZURE_INFERENCE_CREDENTIAL",
    ):  # the first load put them in the environment
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
        f"AZURE_INFERENCE_MANAGED_AUTH=key\nAZURE_INFERENCE_MANAGED_DEPLOYMENT=live-two\n",
        encoding="utf-8",
    )
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
    assert s.describe() == f"{ENDPOINT} (serverless, live endpoint), auth: key {'*' * 28}{KEY[-4:]}"
    v1 = Settings(
        endpoint="https://my-resource.openai.azure.com/openai/v1",
        credential=KEY,
        model="Llama-3.3-70B-Instruct",
        kind="openai-v1",
    )
    assert v1.describe() == (
        "https://my-resource.openai.azure.com/openai/v1 (openai-v1, deployment Llama-3.3-70B-Instruct, "
        f"live endpoint), auth: key {'*' * 28}{KEY[-4:]}"
    )
    assert KEY not in repr(v1)


@pytest.mark.parametrize(
    "secret, shown", [(KEY, "*" * 28 + "2345"), ("short", "*****"), ("", ""), ("123456789", "*****6789")]
)
def test_mask(secret, shown):
    assert mask(secret) == shown


def test_config_error_is_a_value_error_exported_from_helpers():
    assert issubclass(helpers.ConfigError, ValueError)


@pytest.mark.parametrize(
    "endpoint, local",
    [
        ("http://127.0.0.1:8000/Meta-Llama-3.1-405B-Instruct", True),
        ("http://localhost:8000/x", True),
        ("http://[::1]:8000/x", True),
        (ENDPOINT, False),
    ],
)
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
    (clean_env / ".env").write_text(
        f"AZURE_INFERENCE_SMALL_ENDPOINT={ENDPOINT}\nAZURE_INFERENCE_SMALL_CREDENTIAL={KEY}\n", encoding="utf-8"
    )
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
    settings = Settings(
        mock_server.endpoint("Llama-3.2-3B-Instruct-managed"), auth="entra", deployment="llama-3-2-3b-instruct-1"
    )
    assert endpoint_problem(settings) is None


def test_endpoint_problem_names_an_endpoint_that_does_not_answer():
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    problem = endpoint_problem(Settings(f"http://127.0.0.1:{port}/Meta-Llama-3.1-405B-Instruct", KEY), timeout=5)
    assert problem.startswith(f"cannot reach http://127.0.0.1:{port}/Meta-Llama-3.1-405B-Instruct")


def test_an_endpoint_without_https_is_shown_with_the_fix(clean_env):
    # a host name is not a secret: shown, with the URL it was meant to be (a bare string could be a key: masked)
    os.environ.update(
        {"AZURE_INFERENCE_ENDPOINT": "my-llama.eastus2.models.ai.azure.com", "AZURE_INFERENCE_CREDENTIAL": KEY}
    )
    assert "did you mean 'https://my-llama.eastus2.models.ai.azure.com'?" in _error()
    header, claims = (
        base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
        for part in ({"alg": "RS256", "typ": "JWT"}, {"aud": "https://ml.azure.com", "oid": secrets.token_hex(8)})
    )
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

    monkeypatch.setattr(
        httpx, "get", lambda *args, **kwargs: httpx.Response(status, json={"error": {"code": str(status)}})
    )
    problem = endpoint_problem(Settings(ENDPOINT, KEY))
    assert (
        (
            problem
            == (
                f"{ENDPOINT} refused the key (HTTP {status}): check that AZURE_INFERENCE_CREDENTIAL is this "
                "endpoint's key"
            )
        )
        if stops
        else problem is None
    )


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
    deployments = [
        helpers.config.Settings(endpoint=f"https://{name}.example.invalid", prefix=prefix)
        for name, prefix in (
            ("main", "AZURE_INFERENCE"),
            ("small", "AZURE_INFERENCE_SMALL"),
            ("guard", "AZURE_INFERENCE_GUARD"),
        )
    ]
    problems = helpers.config.endpoint_problems(deployments)
    assert [(s.prefix, p) for s, p in problems] == [
        ("AZURE_INFERENCE_SMALL", "no answer from https://small.example.invalid")
    ]
    # what to do: do without another deployment; go offline when it is the main one
    assert "unset AZURE_INFERENCE_SMALL_ENDPOINT" in helpers.config.unusable_hint(problems[0][0])
    assert helpers.config.unusable_hint(deployments[0]) == helpers.config.OFFLINE_HINT


# -- endpoint kinds ------------------------------------------------------------------------------------------

V1 = "https://my-resource.openai.azure.com/openai/v1"
MODELS = "https://my-resource.services.ai.azure.com/models"
MANAGED_HOST = "https://my-endpoint.eastus2.inference.ml.azure.com"


@pytest.mark.parametrize(
    "endpoint, deployment, kind",
    [
        (V1, "", "openai-v1"),
        (V1 + "/", "", "openai-v1"),
        ("https://my-resource.services.ai.azure.com/openai/v1", "", "openai-v1"),
        ("https://my-resource.cognitiveservices.azure.com/openai/v1", "", "openai-v1"),
        (MODELS, "", "foundry-models"),
        (MODELS + "/", "", "foundry-models"),
        (ENDPOINT, "", "serverless"),
        (MANAGED_HOST, "", "managed"),
        (MANAGED_HOST, "llama-3-2-3b-instruct-1", "managed"),
        ("http://127.0.0.1:8000/openai/v1", "", "openai-v1"),
        ("http://localhost:8000/openai/v1/", "", "openai-v1"),
        ("http://127.0.0.1:8000/models", "", "foundry-models"),
        ("http://127.0.0.1:8000/Meta-Llama-3.1-405B-Instruct", "", "serverless"),
        (
            "http://127.0.0.1:8000/Llama-3.2-3B-Instruct-managed",
            "llama-3-2-3b-instruct-1",
            "managed",
        ),  # the header tells
    ],
)
def test_endpoint_kind_from_the_url(endpoint, deployment, kind):
    assert endpoint_kind(endpoint, deployment) == kind


@pytest.mark.parametrize(
    "endpoint, model, kind, on_resource",
    [
        (V1, "Llama-3.3-70B-Instruct", "openai-v1", True),
        (MODELS, "Llama-3.3-70B-Instruct", "foundry-models", True),
        (ENDPOINT, "", "serverless", False),
        (MANAGED_HOST, "", "managed", False),
    ],
)
def test_load_settings_tells_the_kind(clean_env, endpoint, model, kind, on_resource):
    os.environ.update({"AZURE_INFERENCE_ENDPOINT": endpoint, "AZURE_INFERENCE_CREDENTIAL": KEY})
    if model:
        os.environ["AZURE_INFERENCE_MODEL"] = model
    s = load_settings()
    assert (s.endpoint, s.kind, s.on_resource) == (endpoint, kind, on_resource)
    assert s.model == (model or "Meta-Llama-3.1-405B-Instruct")
    assert f"({kind}" in s.describe() and (f"deployment {model}" in s.describe()) is on_resource


def test_endpoint_kind_variable_overrides_the_url(clean_env):
    """A proxy or a gateway in front of the resource hides the URL's form: PREFIX_ENDPOINT_KIND says what is behind
    it."""
    os.environ.update(
        {
            "AZURE_INFERENCE_ENDPOINT": "https://gateway.example.com/llama",
            "AZURE_INFERENCE_CREDENTIAL": KEY,
            "AZURE_INFERENCE_ENDPOINT_KIND": " OpenAI-V1 ",
            "AZURE_INFERENCE_MODEL": "Llama-3.3-70B-Instruct",
        }
    )
    s = load_settings()
    assert (s.kind, s.on_resource, s.model) == ("openai-v1", True, "Llama-3.3-70B-Instruct")
    os.environ["AZURE_INFERENCE_ENDPOINT_KIND"] = "managed"
    assert load_settings().kind == "managed"
    os.environ["AZURE_INFERENCE_ENDPOINT"] = V1  # the variable wins over the URL too
    os.environ["AZURE_INFERENCE_ENDPOINT_KIND"] = "foundry-models"
    assert load_settings().kind == "foundry-models"
    os.environ["AZURE_INFERENCE_ENDPOINT_KIND"] = "azure-openai"
    message = _error()
    assert (
        "AZURE_INFERENCE_ENDPOINT_KIND must be one of openai-v1, foundry-models, serverless, managed, not "
        "'azure-openai'" in message
    )
    assert_clear_error(message, "AZURE_INFERENCE_ENDPOINT_KIND", secret=KEY)
    assert ENDPOINT_KINDS == ("openai-v1", "foundry-models", "serverless", "managed")


@pytest.mark.parametrize(
    "endpoint, kind", [(V1, "openai-v1"), (MODELS, "foundry-models"), ("http://127.0.0.1:8000/openai/v1", "openai-v1")]
)
def test_a_resource_endpoint_needs_the_deployment_name(clean_env, endpoint, kind):
    os.environ.update({"AZURE_INFERENCE_ENDPOINT": endpoint, "AZURE_INFERENCE_CREDENTIAL": KEY})
    message = _error()
    assert message.startswith("AZURE_INFERENCE_MODEL is not set: on a Foundry resource")
    assert ENDPOINT_FORMS[kind] in message and "deployment's name" in message
    assert "AZURE_INFERENCE_MODEL=Llama-3.3-70B-Instruct" in message
    assert_clear_error(message, "AZURE_INFERENCE_MODEL", secret=KEY)
    os.environ["AZURE_INFERENCE_MODEL"] = "   "  # blank counts as unset
    assert _error().startswith("AZURE_INFERENCE_MODEL is not set")
    os.environ.update({"AZURE_INFERENCE_VISION_ENDPOINT": endpoint, "AZURE_INFERENCE_VISION_CREDENTIAL": KEY})
    assert _error("AZURE_INFERENCE_VISION").startswith("AZURE_INFERENCE_VISION_MODEL is not set")


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://my-resource.openai.azure.com",
        "https://my-resource.openai.azure.com/",
        "https://my-resource.services.ai.azure.com",
        "https://my-resource.cognitiveservices.azure.com",
        "https://my-resource.services.ai.azure.com/api/projects/my-project",
    ],
)
def test_a_foundry_resource_without_the_endpoints_path_is_refused_with_advice(clean_env, endpoint):
    os.environ.update(
        {
            "AZURE_INFERENCE_ENDPOINT": endpoint,
            "AZURE_INFERENCE_CREDENTIAL": KEY,
            "AZURE_INFERENCE_MODEL": "Llama-3.3-70B-Instruct",
        }
    )
    message = _error()
    assert "is a Foundry resource without the endpoint's path" in message
    assert "add '/openai/v1' (today's OpenAI v1 endpoint) or '/models'" in message
    assert_clear_error(message, "AZURE_INFERENCE_ENDPOINT", secret=KEY)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://my-resource.openai.azure.com/openai/deployments/Llama-3.3-70B-Instruct",
        "https://my-resource.openai.azure.com/openai/deployments/llama/",
    ],
)
def test_an_azure_openai_deployment_url_is_refused_with_advice(clean_env, endpoint):
    os.environ.update({"AZURE_INFERENCE_ENDPOINT": endpoint, "AZURE_INFERENCE_CREDENTIAL": KEY})
    message = _error()
    assert "is an Azure OpenAI deployment URL" in message
    assert (
        "use the resource's OpenAI v1 endpoint instead, and put the deployment's name in AZURE_INFERENCE_MODEL"
        in message
    )
    assert_clear_error(message, "AZURE_INFERENCE_ENDPOINT", secret=KEY)


def test_an_openai_deployment_chat_url_is_refused_as_not_a_base_url(clean_env):
    os.environ.update(
        {
            "AZURE_INFERENCE_ENDPOINT": "https://my-resource.openai.azure.com/openai/deployments/llama/chat/completions",
            "AZURE_INFERENCE_CREDENTIAL": KEY,
        }
    )
    message = _error()
    assert "should be the endpoint's base URL" in message and "ends with '/openai/v1'" in message


def test_a_v1_endpoint_is_not_mistaken_for_a_trailing_v1(clean_env):
    """'/v1' after a serverless endpoint is the OpenAI-compatible route (refused as the base URL); '/openai/v1' is the
    resource's endpoint itself."""
    os.environ.update({"AZURE_INFERENCE_ENDPOINT": V1, "AZURE_INFERENCE_CREDENTIAL": KEY, "AZURE_INFERENCE_MODEL": "m"})
    assert load_settings().endpoint == V1
    os.environ["AZURE_INFERENCE_ENDPOINT"] = ENDPOINT + "/v1"
    assert "base URL" in _error()


def test_entra_id_on_a_serverless_endpoint_is_refused(clean_env):
    os.environ.update({"AZURE_INFERENCE_ENDPOINT": ENDPOINT, "AZURE_INFERENCE_AUTH": "entra"})
    message = _error()
    assert message.startswith(
        "AZURE_INFERENCE_AUTH is 'entra', but serverless endpoints take keys only (Microsoft Entra ID "
        "works on Foundry resources and managed compute)"
    )
    assert "for example:\n    AZURE_INFERENCE_AUTH=key\n" in message


@pytest.mark.parametrize(
    "endpoint, model, kind",
    [
        (V1, "Llama-3.3-70B-Instruct", "openai-v1"),
        (MODELS, "Llama-3.3-70B-Instruct", "foundry-models"),
        (MANAGED_HOST, "", "managed"),
    ],
)
def test_entra_id_on_a_resource_or_managed_compute_needs_no_key(clean_env, endpoint, model, kind):
    os.environ.update(
        {"AZURE_INFERENCE_ENDPOINT": endpoint, "AZURE_INFERENCE_AUTH": "entra", "AZURE_INFERENCE_MODEL": model}
    )
    s = load_settings()
    assert (s.kind, s.auth, s.credential) == (kind, "entra", "")


@pytest.mark.parametrize(
    "kind, scope",
    [
        ("openai-v1", "https://ai.azure.com/.default"),
        ("foundry-models", "https://cognitiveservices.azure.com/.default"),
        ("managed", "https://ml.azure.com/.default"),
    ],
)
def test_entra_scope_per_kind(kind, scope):
    endpoint = {"openai-v1": V1, "foundry-models": MODELS, "managed": MANAGED_HOST}[kind]
    assert entra_scope(Settings(endpoint, auth="entra", model="m", kind=kind)) == scope
    assert ENTRA_SCOPES[kind] == scope


@pytest.mark.parametrize(
    "settings, supported, moved_to, kind",
    [
        (
            Settings(V1, KEY, model="Llama-3.3-70B-Instruct", kind="openai-v1"),
            ("foundry-models", "serverless", "managed"),
            "https://my-resource.services.ai.azure.com/models",
            "foundry-models",
        ),
        (
            Settings(MODELS, KEY, model="Llama-3.3-70B-Instruct", kind="foundry-models"),
            ("openai-v1", "serverless", "managed"),
            "https://my-resource.openai.azure.com/openai/v1",
            "openai-v1",
        ),
        (
            Settings("http://127.0.0.1:8000/openai/v1", KEY, model="Llama-3.3-70B-Instruct", kind="openai-v1"),
            ("foundry-models",),
            "http://127.0.0.1:8000/models",
            "foundry-models",
        ),
    ],
)
def test_nearest_kind_moves_to_the_same_resources_other_endpoint_in_one_line(
    settings, supported, moved_to, kind, capsys
):
    moved = nearest_kind(settings, supported, "some-library")
    assert (moved.endpoint, moved.kind) == (moved_to, kind)
    assert (moved.model, moved.credential, moved.auth, moved.prefix) == (
        settings.model,
        settings.credential,
        settings.auth,
        settings.prefix,
    )
    assert capsys.readouterr().out == (
        f"some-library cannot use the {settings.kind} endpoint: using the same resource's {kind} endpoint, {moved_to}\n"
    )
    assert nearest_kind(settings, (settings.kind, *supported), "some-library") is settings  # it can: unchanged, silent
    assert capsys.readouterr().out == ""


def test_azure_settings_derive_the_models_endpoint_from_the_v1_endpoint(capsys):
    v1 = Settings("https://x.openai.azure.com/openai/v1", KEY, model="Llama-3.3-70B-Instruct", kind="openai-v1")
    s = helpers.azure_settings(v1)
    assert (s.endpoint, s.kind, s.model) == (
        "https://x.services.ai.azure.com/models",
        "foundry-models",
        "Llama-3.3-70B-Instruct",
    )
    assert capsys.readouterr().out == (
        "azure-ai-inference cannot use the openai-v1 endpoint: using the same resource's "
        "foundry-models endpoint, https://x.services.ai.azure.com/models\n"
    )
    serverless = Settings(ENDPOINT, KEY)
    assert helpers.azure_settings(serverless) is serverless and capsys.readouterr().out == ""


def test_nearest_kind_without_a_sibling_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        nearest_kind(Settings(ENDPOINT, KEY), ("openai-v1",), "some-library")
    message = str(caught.value)
    assert "some-library cannot use a serverless endpoint" in message and ENDPOINT_FORMS["openai-v1"] in message
    assert "AZURE_INFERENCE_ENDPOINT" in message and KEY not in message
