"""Configuration from the environment: where the endpoint is, and how to authenticate.

Variables (``PREFIX`` is ``AZURE_INFERENCE`` for the main deployment; other deployments use their own,
such as ``AZURE_INFERENCE_VISION``):

- ``PREFIX_ENDPOINT``    the endpoint URL; its form tells the endpoint kind (``ENDPOINT_FORMS`` below), e.g. today's
                         ``https://<resource>.openai.azure.com/openai/v1``
- ``PREFIX_MODEL``       the deployment's name on a Foundry resource (required there); serverless endpoints ignore it
- ``PREFIX_CREDENTIAL``  the key; not needed with Entra ID
- ``PREFIX_AUTH``        ``key`` (default) or ``entra`` (Microsoft Entra ID: Foundry resources and managed compute)
- ``PREFIX_DEPLOYMENT``  managed compute only: the deployment to route to (``azureml-model-deployment``)
- ``PREFIX_ENDPOINT_KIND`` only when the URL does not tell: ``openai-v1``, ``foundry-models``, ``serverless``,
  ``managed``

A ``.env`` file in the working folder or a parent is read first; variables already set win.
Any problem raises one ``ConfigError`` that names the variable, shows an example value and says
how to run offline. The key itself never appears in a message; ``mask()`` shows its last 4 characters.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlparse

from dotenv import find_dotenv, load_dotenv

from .constants import API_VERSION, DEMO_KEY

DEFAULT_MODEL = "Meta-Llama-3.1-405B-Instruct"  # serverless endpoints (the page's) ignore the name
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# The endpoint kinds, told apart by the URL's form (README, "Which endpoint do I have?").
ENDPOINT_FORMS = {
    "openai-v1": (
        "https://<resource>.openai.azure.com/openai/v1 (a Foundry resource's OpenAI v1 endpoint: today's path)"
    ),
    "foundry-models": (
        "https://<resource>.services.ai.azure.com/models (Azure AI model inference endpoint: retired 2026-08-26)"
    ),
    "serverless": (
        "https://<name>.<region>.models.ai.azure.com (the page's serverless endpoints: models retired 2026-06-13)"
    ),
    "managed": "https://<endpoint>.<region>.inference.ml.azure.com (managed compute)",
}
ENDPOINT_KINDS = tuple(ENDPOINT_FORMS)
EXAMPLES = {
    "ENDPOINT": "https://<resource>.openai.azure.com/openai/v1",
    "CREDENTIAL": "<the key from the resource's or deployment's page>",
    "AUTH": "key   # or entra, for Microsoft Entra ID (Foundry resources and managed compute)",
    "MODEL": "Llama-3.3-70B-Instruct   # your deployment's name",
    "ENDPOINT_KIND": "openai-v1",
}


# A host name (my-llama.eastus2.models.ai.azure.com), perhaps with a port and a path: labels, then a top-level domain
# of letters. Keys and tokens (a JWT's segments are long and mix in digits) do not look like that.
HOST_NAME = re.compile(r"(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}(?::\d+)?(?:/\S*)?")
MANAGED_ENDPOINT_EXAMPLE = "https://<your-endpoint>.<region>.inference.ml.azure.com"


def offline_hint(prefix: str = "AZURE_INFERENCE") -> str:
    """How to run against the local replay server instead of a live endpoint."""
    return (
        "To run offline instead, leave AZURE_INFERENCE_ENDPOINT unset, in your shell and in .env (delete the line or "
        "comment it out): then 'make lab' and 'make run' start the replay server for you. Or run 'make serve' (the "
        "replay server on port 8000) and put what '.venv/bin/python -m helpers.mock env' prints in .env: every "
        f"deployment's variables, {prefix}_ENDPOINT among them, with the public demo key {DEMO_KEY}."
    )


OFFLINE_HINT = offline_hint()


class ConfigError(ValueError):
    """A missing or malformed setting. The message names the variable and the fix."""


def mask(secret: str) -> str:
    """Show only the last 4 characters of a secret: ``****************************abcd``."""
    return "*" * max(len(secret) - 4, 4) + secret[-4:] if len(secret) > 8 else "*" * len(secret)


@dataclass(frozen=True)
class Settings:
    """One deployment's connection settings. ``repr`` never shows the key."""

    endpoint: str
    credential: str = field(default="", repr=False)
    auth: str = "key"
    model: str = DEFAULT_MODEL
    deployment: str = ""
    prefix: str = "AZURE_INFERENCE"
    kind: str = "serverless"  # one of ENDPOINT_KINDS

    @property
    def is_local(self) -> bool:
        """True when the endpoint is on this machine (the replay server)."""
        return urlparse(self.endpoint).hostname in LOCAL_HOSTS

    @property
    def on_resource(self) -> bool:
        """A Foundry resource's endpoint (openai-v1 or foundry-models): ``model`` names the deployment."""
        return self.kind in ("openai-v1", "foundry-models")

    def describe(self) -> str:
        """Where and how this connects, with the key masked: safe to print."""
        where = "local replay server" if self.is_local else "live endpoint"
        how = (
            f"key {mask(self.credential)}"
            if self.auth == "key"
            else "Microsoft Entra ID" + (" (offline: the replay server's stand-in token)" if self.is_local else "")
        )
        deployment = f", deployment {self.model}" if self.on_resource else ""
        return f"{self.endpoint} ({self.kind}{deployment}, {where}), auth: {how}"


def endpoint_kind(endpoint: str, deployment: str = "") -> str:
    """The endpoint kind a URL stands for: ``/openai/v1`` and ``/models`` are a Foundry resource's two endpoints;
    a managed compute host (or a deployment header to send) is managed compute; anything else a serverless endpoint."""
    parsed = urlparse(endpoint)
    path = parsed.path.rstrip("/")
    if path.endswith("/openai/v1"):
        return "openai-v1"
    if path.endswith("/models"):
        return "foundry-models"
    if deployment or (parsed.hostname or "").endswith(".inference.ml.azure.com"):
        return "managed"
    return "serverless"


def _sibling_endpoint(endpoint: str, kind: str) -> str:
    """The same Foundry resource's other endpoint: ``/openai/v1`` <-> ``/models`` (hosts ``<resource>.openai.azure.com``
    and ``<resource>.services.ai.azure.com`` name the same resource)."""
    parsed = urlparse(endpoint)
    host = parsed.netloc
    path = parsed.path.rstrip("/")
    if kind == "foundry-models":
        path = path.removesuffix("/openai/v1") + "/models"
        host = host.replace(".openai.azure.com", ".services.ai.azure.com")
    else:
        path = path.removesuffix("/models") + "/openai/v1"
        host = host.replace(".services.ai.azure.com", ".openai.azure.com")
    return f"{parsed.scheme}://{host}{path}"


def nearest_kind(settings: Settings, supported: Iterable[str], library: str) -> Settings:
    """``settings`` for an endpoint kind ``library`` can use: the same settings when it can use theirs, otherwise the
    same Foundry resource's other endpoint, said in one printed line. ``ConfigError`` when there is none."""
    supported = tuple(supported)
    if settings.kind in supported:
        return settings
    other = "foundry-models" if settings.kind == "openai-v1" else "openai-v1"
    if not settings.on_resource or other not in supported:
        raise ConfigError(
            f"{library} cannot use a {settings.kind} endpoint ({settings.endpoint}); it takes "
            f"{', '.join(supported)}. Set {settings.prefix}_ENDPOINT to one of: "
            + "; ".join(ENDPOINT_FORMS[k] for k in supported)
        )
    from dataclasses import replace

    moved = replace(settings, endpoint=_sibling_endpoint(settings.endpoint, other), kind=other)
    print(
        f"{library} cannot use the {settings.kind} endpoint: using the same resource's {other} endpoint, "
        f"{moved.endpoint}"
    )
    return moved


def _example(prefix: str, name: str) -> str:
    """An example value; managed compute endpoints have their own URL shape."""
    if name == "ENDPOINT" and prefix.endswith("_MANAGED"):
        return MANAGED_ENDPOINT_EXAMPLE
    return EXAMPLES[name]


def _fail(prefix: str, name: str, problem: str, example: str | None = None) -> ConfigError:
    """One error shape for every problem: the variable, what is wrong, an example, the offline route."""
    var = f"{prefix}_{name}"
    return ConfigError(
        f"{var} {problem}.\n"
        f"  Set it in your shell or in a .env file (copy .env.example), for example:\n"
        f"    {var}={example or _example(prefix, name)}\n"
        f"  {offline_hint(prefix)}"
    )


def _read(prefix: str, name: str) -> str:
    value = os.environ.get(f"{prefix}_{name}", "").strip()
    if not value:
        dotenv = find_dotenv(usecwd=True)
        where = f"read {dotenv}" if dotenv else f"no .env file in {os.getcwd()} or above it"
        raise _fail(prefix, name, f"is not set (or is empty) in the environment ({where})")
    if "<" in value or ">" in value:
        raise _fail(prefix, name, "still holds a placeholder from .env.example; put your real value in")
    return value


def _check_endpoint(prefix: str, endpoint: str) -> str:
    parsed = urlparse(endpoint)
    # A URL or a bare host name is shown; anything else might be a key or a token put in the wrong variable: masked.
    host_name = HOST_NAME.fullmatch(endpoint) is not None
    shown = repr(endpoint) if "://" in endpoint or host_name else mask(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        advice = f" (did you mean 'https://{endpoint}'?)" if host_name else ""
        raise _fail(prefix, "ENDPOINT", f"must be a URL starting with https://, not {shown}{advice}")
    if any(c.isspace() for c in endpoint):  # e.g. a note after the value in .env, which becomes part of it
        raise _fail(prefix, "ENDPOINT", f"has a space in it: {shown} (in .env, put notes on lines of their own)")
    if parsed.scheme == "http" and parsed.hostname not in LOCAL_HOSTS:
        raise _fail(prefix, "ENDPOINT", f"uses http:// for a remote host ({shown}); Azure endpoints need https://")
    if parsed.username or parsed.password:
        raise _fail(
            prefix,
            "ENDPOINT",
            f"has a user name or password in it (user:password@); the key goes in {prefix}_CREDENTIAL",
        )
    if "?" in endpoint or "#" in endpoint:  # ?api-version=... belongs to each request, not to the base URL
        base = endpoint.split("?")[0].split("#")[0]
        raise _fail(
            prefix,
            "ENDPOINT",
            f"should be the endpoint's base URL alone, without '?...' or '#...': {base!r} followed by more",
        )
    if endpoint.endswith(("/chat/completions", "/info", "/score")) or (
        endpoint.endswith("/v1") and not endpoint.endswith("/openai/v1")
    ):  # /score: how Azure ML studio shows a managed endpoint
        raise _fail(
            prefix,
            "ENDPOINT",
            f"should be the endpoint's base URL, without '/v1', '/chat/completions', '/info' "
            f"or '/score' (a Foundry resource's OpenAI v1 endpoint ends with '/openai/v1'): {shown}",
        )
    if "/openai/deployments/" in parsed.path:  # the older Azure OpenAI route, with api-version on every request
        raise _fail(
            prefix,
            "ENDPOINT",
            f"is an Azure OpenAI deployment URL ({shown}); use the resource's OpenAI v1 "
            "endpoint instead, and put the deployment's name in " + f"{prefix}_MODEL",
        )
    host = parsed.hostname or ""
    if host.endswith((".openai.azure.com", ".services.ai.azure.com", ".cognitiveservices.azure.com")) and endpoint_kind(
        endpoint
    ) not in ("openai-v1", "foundry-models"):
        raise _fail(
            prefix,
            "ENDPOINT",
            f"is a Foundry resource without the endpoint's path ({shown}): add '/openai/v1' "
            "(today's OpenAI v1 endpoint) or '/models' (the retired model inference endpoint)",
        )
    return endpoint


def _check_key(prefix: str, key: str) -> str:
    if key.lower().startswith("bearer"):
        raise _fail(prefix, "CREDENTIAL", "should be the bare key, without a 'Bearer ' prefix")
    if any(c.isspace() for c in key) or key[0] in "'\"" or key[-1] in "'\"" or "://" in key:
        raise _fail(prefix, "CREDENTIAL", "is malformed: a key has no spaces, quotes or URL in it")
    if not (key.isascii() and key.isprintable()):  # a zero-width space or a typographic quote from a copy and paste
        raise _fail(
            prefix, "CREDENTIAL", "is malformed: it holds a character that is not plain ASCII (copied from a web page?)"
        )
    return key


def read_dotenv() -> str:
    """Load the nearest ``.env`` (in the working folder or a parent) into the environment; variables already
    set win. Returns the file's path, or ``""`` when there is none."""
    path = find_dotenv(usecwd=True)
    if path:
        load_dotenv(path, override=False)
    return path


def optional_settings(prefix: str) -> Settings | None:
    """``load_settings(prefix)`` for a deployment a notebook can do without: ``None`` when ``PREFIX_ENDPOINT`` is not
    set (in the environment or ``.env``). Once it is set, a problem with it or the other variables raises
    ``ConfigError`` as usual, rather than passing for "not configured"."""
    read_dotenv()
    if not os.environ.get(f"{prefix}_ENDPOINT", "").strip():
        from .autostart import start_if_unconfigured  # nothing configured at all: the bundled replay server

        if not start_if_unconfigured(prefix, required=False) or not os.environ.get(f"{prefix}_ENDPOINT", "").strip():
            return None
    return load_settings(prefix, dotenv=False)


def configured_settings(prefixes: Iterable[str]) -> list[Settings]:
    """``optional_settings`` for each prefix, leaving out the deployments that are not set: before a long run, a
    placeholder or typo in any of them raises ``ConfigError`` once, not in every notebook that reads it."""
    return [settings for prefix in prefixes if (settings := optional_settings(prefix))]


def load_settings(prefix: str = "AZURE_INFERENCE", dotenv: bool = True) -> Settings:
    """Read ``PREFIX_*`` variables (and ``.env``) into ``Settings``, or raise ``ConfigError``."""
    if dotenv:
        read_dotenv()
    if not os.environ.get(f"{prefix}_ENDPOINT", "").strip():
        from .autostart import start_if_unconfigured  # nothing configured at all: the bundled replay server

        start_if_unconfigured(prefix)
    endpoint = _check_endpoint(prefix, _read(prefix, "ENDPOINT").rstrip("/"))
    deployment = os.environ.get(f"{prefix}_DEPLOYMENT", "").strip()
    kind = os.environ.get(f"{prefix}_ENDPOINT_KIND", "").strip().lower() or endpoint_kind(endpoint, deployment)
    if kind not in ENDPOINT_KINDS:
        raise _fail(prefix, "ENDPOINT_KIND", f"must be one of {', '.join(ENDPOINT_KINDS)}, not {kind!r}")
    auth = os.environ.get(f"{prefix}_AUTH", "").strip().lower() or "key"
    if auth not in ("key", "entra"):
        raise _fail(prefix, "AUTH", f"must be 'key' or 'entra', not {auth!r}")
    if auth == "entra" and kind == "serverless":
        raise _fail(
            prefix,
            "AUTH",
            "is 'entra', but serverless endpoints take keys only (Microsoft Entra ID works on "
            "Foundry resources and managed compute)",
            example="key",
        )
    credential = _check_key(prefix, _read(prefix, "CREDENTIAL")) if auth == "key" else ""
    model = os.environ.get(f"{prefix}_MODEL", "").strip()
    if not model and kind in ("openai-v1", "foundry-models"):
        raise _fail(
            prefix,
            "MODEL",
            f"is not set: on a Foundry resource ({ENDPOINT_FORMS[kind]}) every request names "
            "its deployment. Put your deployment's name in it (the portal's Models + endpoints page lists them)",
        )
    return Settings(endpoint, credential, auth, model or DEFAULT_MODEL, deployment, prefix, kind)


def endpoint_problem(settings: Settings, timeout: float = 10.0) -> str | None:
    """One model-information request before a long run: why the endpoint cannot be used at all, or ``None``.

    Only two answers stop a run: no answer (a wrong host, no network, a proxy in the way) and, with a key, HTTP
    401/403 (the key is not this endpoint's). Any other answer means the endpoint is there; the notebooks show
    what it says. With Microsoft Entra ID no token is sent here: only that the endpoint answers is checked.
    """
    import httpx  # here, not at the top: notebooks import this module and never call this

    headers = {"azureml-model-deployment": settings.deployment} if settings.deployment else {}
    if settings.auth == "key":
        headers["Authorization"] = f"Bearer {settings.credential}"
    # The v1 endpoint lists models at /models; the others answer /info (on /models, for the deployment named)
    url, params = f"{settings.endpoint}/info", {"api-version": API_VERSION}
    if settings.kind == "openai-v1":
        url, params = f"{settings.endpoint}/models", {}
    elif settings.kind == "foundry-models":
        params["model"] = settings.model
    try:
        response = httpx.get(url, params=params, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"cannot reach {settings.endpoint}: {str(exc) or type(exc).__name__}"
    if settings.auth == "key" and response.status_code in (401, 403):
        return (
            f"{settings.endpoint} refused the key (HTTP {response.status_code}): check that "
            f"{settings.prefix}_CREDENTIAL is this endpoint's key"
        )
    return None


def endpoint_problems(all_settings: list[Settings]) -> list[tuple[Settings, str]]:
    """``endpoint_problem`` for several deployments, asked at the same time (an unreachable host takes the whole
    timeout): the ones that cannot be used, with why."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(len(all_settings), 1)) as pool:
        found = list(pool.map(endpoint_problem, all_settings))
    return [(settings, problem) for settings, problem in zip(all_settings, found) if problem]


def unusable_hint(settings: Settings) -> str:
    """What to do about a deployment that cannot be used: offline for the main one, do without for the others."""
    if settings.prefix == "AZURE_INFERENCE":
        return OFFLINE_HINT
    return f"Or unset {settings.prefix}_ENDPOINT: the notebooks then do without that deployment, and say so."
