"""The deployments the replay server emulates (``data/deployments.json``), and the variables that point notebooks at
them.

Two setups share the server:

- **today** (December 2026): one Foundry resource holding Llama-3.3-70B-Instruct, Llama 4 Scout and Maverick, reached
  through its OpenAI v1 endpoint (``/openai/v1``, the current path) or its Azure AI model inference endpoint
  (``/models``, retired with its API on 2026-08-26); the request's ``model`` names the deployment;
- **the page's** (mid-2024): one serverless endpoint per model under ``/<deployment-name>`` (models retired on
  2026-06-13), kept as the documentation's history.

Managed compute deployments (``/<deployment-name>`` plus the ``azureml-model-deployment`` header) belong to both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data"

# How a notebook reaches a deployment: the --endpoint-kind of scripts/run_notebooks.py, and Settings.kind.
ENDPOINT_KINDS = ("openai-v1", "foundry-models", "serverless")
DEFAULT_ENDPOINT_KIND = "openai-v1"  # today's path; `make test` compares the committed outputs under it
SETUP_OF_KIND = {"openai-v1": "today", "foundry-models": "today", "serverless": "page"}
# Where each kind lives on the replay server (a live resource has the same paths under its own host).
RESOURCE_PATHS = {"openai-v1": "/openai/v1", "foundry-models": "/models"}


@dataclass
class Deployment:
    name: str
    model_name: str
    kind: str  # "foundry" (on the Foundry resource), "serverless" or "managed" (endpoints of their own)
    env_prefix: str
    setups: list[str] = field(default_factory=lambda: ["today"])
    status: str = "current"
    retired_on: str | None = None
    replaced_by: str | None = None
    max_images: int = 0
    source: str = ""
    azureml_deployment: str | None = None
    auth: str = "key"  # how notebooks authenticate offline: "key", or "entra" (the replay server's stand-in token)
    model_type: str = "chat-completions"
    model_provider_name: str = "Meta"

    def info(self) -> dict[str, str]:
        """What ``GET /info`` answers (the page's example shape)."""
        return {
            "model_name": self.model_name,
            "model_type": self.model_type,
            "model_provider_name": self.model_provider_name,
        }

    @property
    def own_endpoint(self) -> bool:
        """Serverless and managed deployments are endpoints of their own, under ``/<name>``."""
        return self.kind in ("serverless", "managed")


def load_deployments(path: Path = DATA_DIR / "deployments.json") -> dict[str, Deployment]:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {d["name"]: Deployment(**d) for d in raw["deployments"]}


def deployments_for(deployments: dict[str, Deployment], kind: str) -> list[Deployment]:
    """The deployment behind each variable prefix in one setup (``kind`` picks the setup)."""
    if kind not in SETUP_OF_KIND:
        raise ValueError(f"endpoint kind must be one of {', '.join(ENDPOINT_KINDS)}, not {kind!r}")
    return [dep for dep in deployments.values() if SETUP_OF_KIND[kind] in dep.setups]


def endpoint_url(dep: Deployment, base_url: str, kind: str) -> str:
    """The URL a notebook uses for ``dep`` when the Foundry deployments are reached through ``kind``."""
    if dep.own_endpoint:
        return f"{base_url}/{dep.name}"
    return f"{base_url}{RESOURCE_PATHS[kind]}"


def client_env(
    deployments: dict[str, Deployment], base_url: str, key: str, kind: str = DEFAULT_ENDPOINT_KIND
) -> dict[str, str]:
    """The variables that point every notebook at a replay server at ``base_url`` taking ``key``."""
    out: dict[str, str] = {}
    for dep in deployments_for(deployments, kind):
        prefix = dep.env_prefix
        out[f"{prefix}_ENDPOINT"] = endpoint_url(dep, base_url, kind)
        out[f"{prefix}_CREDENTIAL"] = key
        # On a Foundry resource the model names the deployment; serverless endpoints ignore it.
        out[f"{prefix}_MODEL"] = dep.model_name if dep.own_endpoint else dep.name
        # Every variable a notebook reads is set, even when empty: a .env file only fills in unset variables,
        # so none of a live setup's values (say AUTH=entra, or a DEPLOYMENT) can leak into an offline run.
        out[f"{prefix}_DEPLOYMENT"] = dep.azureml_deployment or ""
        out[f"{prefix}_AUTH"] = dep.auth
    return out


def deployment_prefixes() -> list[str]:
    """The variable prefixes of every deployment (AZURE_INFERENCE, AZURE_INFERENCE_SMALL, ...), the main one first."""
    prefixes: list[str] = []
    for dep in load_deployments().values():
        if dep.env_prefix not in prefixes:
            prefixes.append(dep.env_prefix)
    return prefixes
