"""Configuration from the environment: where the endpoint is, and how to authenticate.

Variables (``PREFIX`` is ``AZURE_INFERENCE`` for the main deployment; other deployments use their own,
such as ``AZURE_INFERENCE_VISION``):

- ``PREFIX_ENDPOINT``    the endpoint URL, e.g. ``https://my-llama.eastus2.models.ai.azure.com``
- ``PREFIX_CREDENTIAL``  the endpoint key (a 32-character string); not needed with Entra ID
- ``PREFIX_AUTH``        ``key`` (default) or ``entra`` (Microsoft Entra ID, managed compute only)
- ``PREFIX_MODEL``       model name sent by clients that require one (serverless endpoints ignore it)
- ``PREFIX_DEPLOYMENT``  managed compute only: the deployment to route to (``azureml-model-deployment``)

A ``.env`` file in the working folder or a parent is read first; variables already set win.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlparse

from dotenv import find_dotenv, load_dotenv

DEFAULT_MODEL = "Meta-Llama-3.1-405B-Instruct"
OFFLINE_HINT = (
    "To run offline instead, start the replay server in another terminal with "
    "'python -m helpers.mock serve' and set the variables it prints (see README, 'Offline')."
)


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

    @property
    def is_local(self) -> bool:
        """True when the endpoint is on this machine (the replay server)."""
        return urlparse(self.endpoint).hostname in ("127.0.0.1", "localhost", "::1")

    def describe(self) -> str:
        where = "local replay server" if self.is_local else "live endpoint"
        how = f"key {mask(self.credential)}" if self.auth == "key" else "Microsoft Entra ID"
        return f"{self.endpoint} ({where}), auth: {how}"


def _require(name: str, example: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set (or is empty). Set it, for example:\n    export {name}={example}\nor put it in a .env file (copy .env.example). {OFFLINE_HINT}")
    return value


def load_settings(prefix: str = "AZURE_INFERENCE", dotenv: bool = True) -> Settings:
    """Read ``PREFIX_*`` variables (and ``.env``) into ``Settings``, or raise ``ConfigError``."""
    if dotenv:
        load_dotenv(find_dotenv(usecwd=True), override=False)
    endpoint = _require(f"{prefix}_ENDPOINT", "https://<your-host>.<region>.models.ai.azure.com").rstrip("/")
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"{prefix}_ENDPOINT must be a URL like https://<your-host>.<region>.models.ai.azure.com, not {endpoint!r}. {OFFLINE_HINT}")
    if parsed.scheme == "http" and parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"{prefix}_ENDPOINT uses http:// for a remote host; Azure endpoints need https://.")
    if endpoint.endswith(("/chat/completions", "/v1")):
        raise ConfigError(f"{prefix}_ENDPOINT should be the endpoint's base URL, without '/v1' or '/chat/completions': {endpoint!r}.")

    auth = os.environ.get(f"{prefix}_AUTH", "key").strip().lower() or "key"
    if auth not in ("key", "entra"):
        raise ConfigError(f"{prefix}_AUTH must be 'key' or 'entra', not {auth!r}.")
    credential = ""
    if auth == "key":
        credential = _require(f"{prefix}_CREDENTIAL", "<the 32-character key from the deployment's page>")
        if any(c.isspace() for c in credential) or credential.lower().startswith("bearer"):
            raise ConfigError(f"{prefix}_CREDENTIAL should be the bare key: no spaces, no 'Bearer ' prefix.")
    model = os.environ.get(f"{prefix}_MODEL", "").strip() or DEFAULT_MODEL
    deployment = os.environ.get(f"{prefix}_DEPLOYMENT", "").strip()
    return Settings(endpoint, credential, auth, model, deployment, prefix)
