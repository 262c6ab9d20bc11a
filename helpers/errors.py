"""One error formatter for the service's error shapes, whichever library raised them.

``service_error(exc)`` reads the HTTP status and JSON body out of the exception types of
azure-ai-inference (``HttpResponseError``), openai and LangChain (``openai.APIStatusError``),
LiteLLM (its exceptions carry ``status_code``), requests and httpx (``HTTPError`` with ``.response``).
``explain_error(exc)`` prints what went wrong and what to do about it.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any

ADVICE = {
    "content_filter": (
        "Azure AI Content Safety flagged the prompt. Rephrase it; the request was not sent to the model and cannot "
        "succeed as is."
    ),
    "parameter_not_supported": (
        "This model does not support that value. For JSON, ask for it in the prompt and validate the reply."
    ),
    "invalid_value": (
        "A parameter is out of range or of the wrong type. Check the documented ranges (temperature and top_p in "
        "[0, 1], penalties in [-2, 2])."
    ),
    "extra_parameters": (
        "A parameter outside the API's list was sent without the header. Add 'extra-parameters: pass-through' (or "
        "'drop' to have it ignored)."
    ),
    "unauthorized": (
        "The key or token was refused. A key: check the *_CREDENTIAL variable is this resource's or endpoint's key. "
        "Microsoft Entra ID: check you are signed in and the token's scope is this endpoint's "
        "(https://ai.azure.com/.default on a Foundry resource's v1 endpoint, https://ml.azure.com/.default on "
        "managed compute)."
    ),
    "rate_limited": (
        "Over the deployment's quota of requests or tokens per minute (the portal shows it). Wait and retry with "
        "backoff, honouring Retry-After when sent."
    ),
    "server_error": (
        "The service failed or is unavailable. A 500 or 503 is worth retrying with backoff (helpers.with_retries); "
        "after a 502 or 504 the request may have been processed, so retry only what is safe to repeat."
    ),
    "no_answer": (
        "The request got no HTTP answer. Check the *_ENDPOINT variable and the network; offline, check that the "
        "replay server runs (make lab, make serve)."
    ),
    "too_many_images": (
        "This model takes one image per request. Send one request per image, or combine the pictures into one image "
        "first."
    ),
    "no_recording": (
        "Offline, answers come from data/recordings. Send one of the recorded requests (the closest are named above) "
        "or record this one against a live endpoint (README, 'Recording')."
    ),
    "not_found": (
        "Wrong URL or deployment. The *_ENDPOINT variable should be the endpoint's base URL; on managed compute, the "
        "azureml-model-deployment header (*_DEPLOYMENT) must name one of the endpoint's deployments."
    ),
}


@dataclass
class ServiceError:
    """What an error response said: HTTP status, a short kind, the service's code and message."""

    status: int | None
    kind: str
    code: str | None
    message: str
    body: Any = field(default=None, repr=False)
    retry_after: float | None = None


def _json(text: Any) -> Any:
    if isinstance(text, (dict, list)):
        return text
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _status_body_headers(exc: BaseException) -> tuple[int | None, Any, dict[str, str]]:
    """Pull status, parsed body and headers out of any of the five libraries' exceptions."""
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None) or getattr(response, "status_code", None)
    if hasattr(exc, "litellm_response_headers") and exc.litellm_response_headers is None:
        status, response = None, None  # LiteLLM reports a connection that failed as a made-up 500, without headers
    # LiteLLM keeps the real response headers aside; the others on the response object.
    raw_headers = getattr(exc, "litellm_response_headers", None) or getattr(response, "headers", None) or {}
    headers = {str(k).lower(): str(v) for k, v in dict(raw_headers).items()}
    body: Any = None
    if response is not None:  # the answer as the service sent it, whichever library holds it
        try:
            body = response.json()
        except Exception:  # noqa: BLE001 - any library's response type, any decoding failure
            try:  # an httpx response opened with client.stream(...) and never read raises here too
                text = getattr(response, "text", None)
                body = _json(text() if callable(text) else text) or None
            except Exception:  # noqa: BLE001
                body = None
    if not isinstance(body, (dict, list)) and getattr(exc, "body", None) is not None:  # openai / LangChain
        body = exc.body
        if isinstance(body, dict) and "error" not in body and "detail" not in body and "status" not in body:
            body = {"error": body}  # the openai SDK unwraps {"error": {...}} into exc.body
    if not isinstance(body, (dict, list)):  # LiteLLM puts the raw answer in its message
        message = str(getattr(exc, "message", "") or exc)
        start = message.find("{")
        parsed = _json(message[start:]) if start >= 0 else None
        body = parsed if isinstance(parsed, (dict, list)) else (body or message)
    return (int(status) if status else None), body, headers


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds: it holds either a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": a time in UTC whose zone the sender did not know; not local time
        when = when.replace(tzinfo=timezone.utc)
    return max(when.timestamp() - time.time(), 0.0)


def wait_requested(headers: dict[str, str]) -> float | None:
    """Seconds the service asks to wait: ``retry-after-ms`` (milliseconds, sent by some Azure services)
    first, then ``Retry-After``; ``None`` when it sends neither. ``headers`` has lower-case names."""
    try:
        ms = float(headers.get("retry-after-ms") or "nan")
        if math.isfinite(ms):
            return max(ms, 0.0) / 1000
    except ValueError:
        pass
    return retry_after_seconds(headers.get("retry-after"))


def service_error(exc: BaseException) -> ServiceError:
    """Status, kind, code and message of an error response, from any of the libraries' exceptions."""
    status, body, headers = _status_body_headers(exc)
    code = message = None
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        code = inner.get("code")
        message = inner.get("message") or inner.get("detail")
        if isinstance(message, dict) or message is None and isinstance(inner.get("detail"), dict):
            message = json.dumps(inner.get("detail"))
    message = str(message or body or exc)
    if code == "content_filter":
        kind = "content_filter"
    elif code == "parameter_not_supported":
        kind = "parameter_not_supported"
    elif status == 400 and "extra-parameters" in message.lower().replace("extra parameters", "extra-parameters"):
        kind = "extra_parameters"
    elif status == 400 and "image(s) may be provided" in message:
        kind = "too_many_images"
    elif status == 422:
        kind = "invalid_value"
    elif status in (401, 403):
        kind = "unauthorized"
    elif status == 429:
        kind = "rate_limited"
    elif code == "RecordingNotFound":
        kind = "no_recording"
    elif status == 404:
        kind = "not_found"
    elif status and status >= 500:
        kind = "server_error"
    else:
        kind = "other"
    return ServiceError(status, kind, str(code) if code is not None else None, message, body, wait_requested(headers))


def explain_error(exc: BaseException) -> ServiceError:
    """Print what the service said and what to do; return the parsed ``ServiceError``."""
    err = service_error(exc)
    if err.status is None and err.kind == "other" and err.code is None and not isinstance(err.body, dict):
        print(f"No HTTP answer ({type(exc).__name__}): {err.message[:300]}")  # nothing the service said
        print(f"  what to do:   {ADVICE['no_answer']}")
        return err
    status = (
        f"HTTP {err.status}" if err.status is not None else "An error inside the answer"
    )  # e.g. an error event in a stream
    print(
        f"{status} ({err.kind}{', code ' + err.code if err.code and err.code != err.kind else ''}) from "
        f"{type(exc).__name__}"
    )
    print(f"  service says: {err.message if len(err.message) <= 500 else err.message[:500] + ' ...'}")
    if err.kind in ADVICE:
        print(f"  what to do:   {ADVICE[err.kind]}")
    return err
