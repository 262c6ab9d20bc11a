"""The JSON error bodies the replay server answers with.

Shapes marked *documented* are copied from the service's documentation or the wire contract
(``../shared/api-contract.md``); the others follow the REST specification's
``{"error": {"code", "message"}}`` shape and are authored here, as the replay server's own.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import JSONResponse


def spec_error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """The REST specification's error shape, with the ``x-ms-error-code`` header."""
    body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers={"x-ms-error-code": code})


def unauthorized(entra_scope: str | None = None) -> JSONResponse:
    """401. ``entra_scope``: the endpoint also takes Microsoft Entra ID tokens, for this scope, so say so."""
    if entra_scope:
        return spec_error(
            401,
            "Unauthorized",
            "Access denied due to a missing or invalid key or Microsoft Entra ID token. Send it as "
            f"'Authorization: Bearer <key or token>' (a token for the scope {entra_scope}).",
        )
    return spec_error(
        401,
        "Unauthorized",
        "Access denied due to a missing or invalid key. Send it as 'Authorization: Bearer <key>' or 'api-key: <key>'.",
    )


def extra_parameters_not_allowed(names: list[str]) -> JSONResponse:
    """Documented (seen in the wild): extra parameters sent without ``extra-parameters: pass-through``."""
    detail = (
        f"Extra parameters {names!r} are not allowed when extra-parameters is not set or set to be 'error'. "
        "Set extra-parameters to 'pass-through' to pass to the model."
    )
    return JSONResponse({"detail": detail}, status_code=400)


def too_many_images(limit: int) -> JSONResponse:
    """More images in one request than the model takes: an HTTP 400 in the model server's own body shape.

    The rule is documented (Microsoft's article on images in chat completions: some models take one image per
    turn; ../shared/api-contract.md: Llama 3.2 Vision takes one). The body is the one a user reported from
    Llama-4-Maverick-17B-128E-Instruct-FP8 on an Azure serverless deployment
    (github.com/meta-llama/llama-cookbook/issues/938), not observed on Llama 3.2 Vision itself: re-record against a
    live endpoint to confirm.
    """
    message = f"At most {limit} image(s) may be provided in one request."
    return JSONResponse(
        {"object": "error", "message": message, "type": "BadRequestError", "param": None, "code": 400}, status_code=400
    )


def invalid_value(field: str, value: Any, code: str = "invalid_value", reason: str | None = None) -> JSONResponse:
    """Documented shape (for ``parameter_not_supported``): a 422 naming the offending body field."""
    detail: dict[str, Any] = {"loc": ["body", field], "input": value}
    if reason:
        detail["msg"] = reason
    body = {"status": 422, "code": code, "detail": detail, "message": "One of the parameters contain invalid values."}
    return JSONResponse(body, status_code=422)


def rate_limited(message: str, wait_seconds: float | None) -> JSONResponse:
    """A 429. With ``wait_seconds``, two headers say how long to wait: ``Retry-After`` in whole seconds
    (rounded up, as HTTP defines it) and ``retry-after-ms``, as some Azure services send it. The
    serverless documentation promises neither, so ``wait_seconds=None`` sends none."""
    headers = {"x-ms-error-code": "429"}
    if wait_seconds is not None:
        headers["Retry-After"] = str(max(1, math.ceil(wait_seconds)))
        headers["retry-after-ms"] = str(max(1, round(wait_seconds * 1000)))
    return JSONResponse({"error": {"code": "429", "message": message}}, status_code=429, headers=headers)


def unsupported_api_version(version: str, advice: str) -> JSONResponse:
    """400 for an ``api-version`` the endpoint does not have. The replay server's own wording (the service's exact
    body for this case is not in any source this project has)."""
    return spec_error(400, "UnsupportedApiVersion", f"The api-version {version!r} is not supported. {advice}")


def missing_model(kind: str) -> JSONResponse:
    """400 for a request to a Foundry resource that names no deployment.

    ``/models``: the body users have seen (microsoft/AI-Red-Teaming-Playground-Labs#14). ``/openai/v1``: the OpenAI
    API's shape for a missing parameter, authored here (no observed body)."""
    if kind == "foundry-models":
        message = (
            "No model specified in request. Please provide a model name in the request body or as a "
            "x-ms-model-mesh-model-name header."
        )
        return JSONResponse(
            {"error": {"code": "no_model_name", "message": message, "details": message}},
            status_code=400,
            headers={"x-ms-error-code": "no_model_name"},
        )
    body = {
        "error": {
            "message": "Missing required parameter: 'model' (the deployment's name).",
            "type": "invalid_request_error",
            "param": "model",
            "code": "missing_required_parameter",
        }
    }
    return JSONResponse(body, status_code=400)


def unknown_deployment(kind: str, name: str, note: str) -> JSONResponse:
    """404 for a deployment the resource does not have (or no longer has: a retired model's deployments answer 404).

    The bodies users have seen: ``/models`` microsoft/Generative-AI-for-beginners-dotnet#302 (``unknown_model``),
    ``/openai/v1`` NousResearch/hermes-agent#47812 (``DeploymentNotFound``). ``note`` is the replay server's addition,
    marked as such in the message."""
    if kind == "foundry-models":
        body = {
            "error": {
                "code": "unknown_model",
                "message": f"Unknown model: {name}{note}",
                "details": f"Unknown model: {name}",
            }
        }
        return JSONResponse(body, status_code=404, headers={"x-ms-error-code": "unknown_model"})
    message = (
        "The API deployment for this resource does not exist. If you created the deployment within the last "
        f"5 minutes, please wait a moment and try again.{note}"
    )
    body = {"error": {"type": "invalid_request_error", "code": "DeploymentNotFound", "message": message}}
    return JSONResponse(body, status_code=404, headers={"x-ms-error-code": "DeploymentNotFound"})


def images_not_supported(deployment: str) -> JSONResponse:
    """400 for image content sent to a text-only model. The replay server's own wording: no observed body."""
    return spec_error(
        400,
        "ImageInputNotSupported",
        f"The deployment {deployment!r} takes text only: remove the "
        "image_url content items, or send them to a model that takes images (Llama 4).",
    )
