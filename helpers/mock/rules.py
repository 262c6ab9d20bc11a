"""The service's request rules, applied before any recording is looked up.

Each check returns an error response, or ``None`` when the request passes. They follow the
Azure AI Model Inference API specification (2024-05-01-preview) and the Llama documentation.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from . import error_bodies

KNOWN_PARAMETERS = {
    "messages",
    "frequency_penalty",
    "presence_penalty",
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "stream",
    "response_format",
    "tools",
    "tool_choice",
    "seed",
    "model",
}
# (low, high) inclusive; None means unbounded on that side.
RANGES: dict[str, tuple[float | None, float | None]] = {
    "frequency_penalty": (-2, 2),
    "presence_penalty": (-2, 2),
    "temperature": (0, 1),
    "top_p": (0, 1),
    "max_tokens": (0, None),
}
ROLES = {"system", "user", "assistant", "tool"}
TOOL_CHOICES = {"auto", "none", "required"}  # or a named function: {"type": "function", "function": {"name": ...}}
IMAGE_DETAILS = ("auto", "low", "high")  # a tuple: `in` must not fail on an unhashable value
EXTRA_PARAMETER_MODES = {"error", "drop", "pass-through"}


def check_messages(body: dict[str, Any]) -> JSONResponse | None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error_bodies.invalid_value(
            "messages", messages, reason="'messages' is required: a list of at least one message."
        )
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str) or message["role"] not in ROLES:
            return error_bodies.invalid_value(
                f"messages[{i}]", message, reason=f"Each message needs a role, one of {sorted(ROLES)}."
            )
        if message.get("content") is None and message["role"] in (
            "system",
            "user",
        ):  # assistant and tool turns may have none
            return error_bodies.invalid_value(
                f"messages[{i}].content", None, reason=f"A {message['role']} message needs content."
            )
        problem = check_content(message.get("content"), f"messages[{i}].content")
        if problem:
            return problem
    return None


def check_content(content: Any, field: str) -> JSONResponse | None:
    """Content is a string or a list of text and image_url items (null too: an assistant turn with tool calls)."""
    if content is None or isinstance(content, str):
        return None
    if not isinstance(content, list):
        return error_bodies.invalid_value(field, content, reason="Content must be a string or a list of content items.")
    for j, item in enumerate(content):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text" and isinstance(item.get("text"), str):
            continue
        image = item.get("image_url") if kind == "image_url" else None
        if (
            isinstance(image, dict)
            and isinstance(image.get("url"), str)
            and image.get("detail") in (None, *IMAGE_DETAILS)
        ):
            continue
        return error_bodies.invalid_value(
            f"{field}[{j}]",
            item,
            reason="Each content item is {'type': 'text', 'text': ...} or {'type': 'image_url', 'image_url': "
            f"{{'url': ..., 'detail': one of {sorted(IMAGE_DETAILS)}}}}}.",
        )
    return None


def check_ranges(body: dict[str, Any]) -> JSONResponse | None:
    for name, (low, high) in RANGES.items():
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return error_bodies.invalid_value(name, value, reason=f"'{name}' must be a number.")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"[{low}, {high if high is not None else 'inf'}]"
            return error_bodies.invalid_value(name, value, reason=f"'{name}' must be in {bounds}.")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, float) and not max_tokens.is_integer():
        return error_bodies.invalid_value("max_tokens", max_tokens, reason="'max_tokens' must be an integer.")
    stop = body.get("stop")
    if stop is not None and (not isinstance(stop, list) or not stop or not all(isinstance(s, str) for s in stop)):
        return error_bodies.invalid_value("stop", stop, reason="'stop' must be a non-empty list of strings.")
    if body.get("stream") is not None and not isinstance(body["stream"], bool):  # null: absent, as for every field
        return error_bodies.invalid_value("stream", body["stream"], reason="'stream' must be true or false.")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        return error_bodies.invalid_value("seed", seed, reason="'seed' must be an integer.")
    return None


def check_response_format(body: dict[str, Any], model_name: str) -> JSONResponse | None:
    fmt = body.get("response_format")
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None  # an object with a type, never a bare string
    if kind not in ("text", "json_object", "json_schema"):
        return error_bodies.invalid_value("response_format", fmt)
    if kind != "text" and "llama" in model_name.lower():
        return error_bodies.invalid_value("response_format", kind, code="parameter_not_supported")
    return None


def _is_function_tool(tool: Any) -> bool:
    """``{"type": "function", "function": {"name": ..., ...}}``: the one kind of tool the API defines (and a named
    ``tool_choice``)."""
    function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
    return isinstance(function, dict) and isinstance(function.get("name"), str)


def check_tools(body: dict[str, Any]) -> JSONResponse | None:
    """``tools``: at least one function definition; ``tool_choice``: auto, none, required or a named function
    (the wire contract)."""
    tools = body.get("tools")
    if tools is not None and (not isinstance(tools, list) or not tools or not all(_is_function_tool(t) for t in tools)):
        return error_bodies.invalid_value(
            "tools",
            tools,
            reason="'tools' must be a list of at least one {'type': 'function', 'function': {'name': ..., ...}}.",
        )
    choice = body.get("tool_choice")
    if choice is None or (isinstance(choice, str) and choice in TOOL_CHOICES):
        return None
    if _is_function_tool(choice):
        return None
    return error_bodies.invalid_value(
        "tool_choice",
        choice,
        reason=(
            f"'tool_choice' must be one of {sorted(TOOL_CHOICES)} or {{'type': 'function', 'function': {{'name': "
            f"...}}}}."
        ),
    )


def extra_parameter_names(body: dict[str, Any]) -> list[str]:
    return [name for name in body if name not in KNOWN_PARAMETERS]


def apply_extra_parameters(body: dict[str, Any], header: str | None) -> tuple[dict[str, Any], JSONResponse | None]:
    """Enforce the ``extra-parameters`` header: error (default), drop, or pass-through."""
    mode = (header or "error").strip().lower()
    if mode not in EXTRA_PARAMETER_MODES:
        return body, error_bodies.spec_error(
            400,
            "invalid_header",
            f"Header 'extra-parameters' must be one of {sorted(EXTRA_PARAMETER_MODES)}, not {header!r}.",
        )
    extras = extra_parameter_names(body)
    if not extras or mode == "pass-through":
        return body, None
    if mode == "drop":
        return {k: v for k, v in body.items() if k not in extras}, None
    return body, error_bodies.extra_parameters_not_allowed(extras)


def image_count(body: dict[str, Any]) -> int:
    """How many ``image_url`` content items the request holds, over all its messages."""
    return sum(
        1
        for message in body.get("messages") or []
        if isinstance(message, dict) and isinstance(message.get("content"), list)
        for item in message["content"]
        if isinstance(item, dict) and item.get("type") == "image_url"
    )


def check_request(body: dict[str, Any], model_name: str) -> JSONResponse | None:
    """All body checks, in the order the service reports them. The model server's image limit comes after them, and
    depends on the deployment (``endpoints.image_problem``)."""
    return check_messages(body) or check_ranges(body) or check_response_format(body, model_name) or check_tools(body)
