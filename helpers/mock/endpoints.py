"""The endpoint kinds the replay server answers: their routes, how each finds its deployment, and their errors.

=================  =====================================  ====================================================
kind               routes (under the server's base URL)   the deployment is ...
=================  =====================================  ====================================================
openai-v1          /openai/v1/chat/completions,           the body's ``model`` (required); no api-version
(today's path)     /openai/v1/models
foundry-models     /models/chat/completions, /models/info the body's ``model`` or the ``x-ms-model-mesh-model-name``
(retired API)                                             header; api-version from MODEL_INFERENCE_API_VERSIONS
serverless         /<name>/chat/completions, /<name>/info the URL (one model per endpoint); ``model`` is ignored
managed            the same, plus the header              ``azureml-model-deployment`` picks the deployment
                   ``azureml-model-deployment``
=================  =====================================  ====================================================

The first two are one emulated Foundry resource holding every ``foundry`` deployment of ``data/deployments.json``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import error_bodies
from .deployments import RESOURCE_PATHS, Deployment  # noqa: F401 (RESOURCE_PATHS: the routes of each kind)

# The Azure AI Model Inference API's versions (Azure/azure-rest-api-specs, specification/ai/data-plane/ModelInference:
# preview/2024-05-01-preview, stable/2025-04-01 and stable/2025-05-01). Leaving it out is accepted: LangChain's
# AzureAIChatCompletionsModel sends none.
MODEL_INFERENCE_API_VERSIONS = ("2024-05-01-preview", "2025-04-01", "2025-05-01")
# The OpenAI v1 endpoint takes no api-version; "preview" opts in to preview features (Azure OpenAI v1 API lifecycle).
OPENAI_V1_API_VERSIONS = ("preview",)
# Retired Meta models, for the 404 a request naming one gets on the resource (Foundry Models retirement schedule).
RETIRED_ON = "2026-06-13"
RETIRED_MODELS = {
    "Meta-Llama-3.1-405B-Instruct": "Llama-3.3-70B-Instruct",
    "Meta-Llama-3.1-8B-Instruct": "Llama-3.3-70B-Instruct or Llama-4-Scout-17B-16E-Instruct",
    "Llama-3.2-11B-Vision-Instruct": "Llama-4-Maverick-17B-128E-Instruct-FP8",
    "Llama-3.2-90B-Vision-Instruct": "Llama-4-Maverick-17B-128E-Instruct-FP8",
}


def api_version_problem(request: Request, kind: str) -> JSONResponse | None:
    """A 400 naming the supported versions when the request's ``api-version`` is not one of its kind's."""
    version = request.query_params.get("api-version")
    supported = OPENAI_V1_API_VERSIONS if kind == "openai-v1" else MODEL_INFERENCE_API_VERSIONS
    if version is None or version in supported:
        return None
    if kind == "openai-v1":
        advice = "The OpenAI v1 endpoint takes no api-version (or 'preview' for preview features)."
    else:
        advice = f"Supported versions: {', '.join(supported)}."
    return error_bodies.unsupported_api_version(version, advice)


def model_on_resource(request: Request, kind: str, body: dict[str, Any]) -> str | None:
    """The deployment a request to the resource names: ``model`` in the body or, on /models, the header."""
    model = body.get("model")
    if isinstance(model, str) and model.strip():
        return model.strip()
    if kind == "foundry-models":
        return request.headers.get("x-ms-model-mesh-model-name", "").strip() or None
    return None


def resource_deployment(deployments: dict[str, Deployment], kind: str, name: str | None) -> Deployment | JSONResponse:
    """The Foundry deployment called ``name``, or the service's answer for a missing, unknown or retired one."""
    on_resource = [dep.name for dep in deployments.values() if dep.kind == "foundry"]
    if name is None:
        return error_bodies.missing_model(kind)
    dep = deployments.get(name)
    if dep is not None and dep.kind == "foundry":
        return dep
    if name in RETIRED_MODELS:
        note = (
            f" (replay server: {name} was retired on {RETIRED_ON}; deploy {RETIRED_MODELS[name]} instead. "
            f"Deployments on this resource: {', '.join(on_resource)}.)"
        )
    else:
        note = f" (replay server: deployments on this resource: {', '.join(on_resource)}.)"
    return error_bodies.unknown_deployment(kind, name, note)


def models_list(deployments: dict[str, Deployment]) -> dict[str, Any]:
    """``GET /openai/v1/models``, in the OpenAI API's list shape, for the resource's deployments."""
    data = [
        {"id": dep.name, "object": "model", "created": 0, "owned_by": dep.model_provider_name}
        for dep in deployments.values()
        if dep.kind == "foundry"
    ]
    return {"object": "list", "data": data}


def image_problem(body: dict[str, Any], dep: Deployment) -> JSONResponse | None:
    """A text-only deployment refuses image content; a vision one takes ``max_images`` per request."""
    from .rules import image_count

    count = image_count(body)
    if count and dep.max_images == 0:
        return error_bodies.images_not_supported(dep.name)
    if count > dep.max_images:
        return error_bodies.too_many_images(dep.max_images)
    return None
