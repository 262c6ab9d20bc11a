"""Live smoke test: the response shapes the replay server assumes, checked against a live Llama on GitHub Models.

GitHub Models is a different service from Azure (https://models.github.ai/inference, a GitHub token with
``models: read``, model IDs like ``meta/Llama-3.3-70B-Instruct``), but it speaks the same OpenAI-compatible chat
completions API and is the only live Llama CI can reach. Checked, with the OpenAI SDK and its raw responses:

- a chat completion's fields (id, object, created, model, choices[0].message, finish_reason, usage);
- stream framing: ``data: {...}`` lines of ``chat.completion.chunk`` objects, ended by ``data: [DONE]``, and usage where
  a chunk carries it;
- the error for an unknown model: its status and body shape (``{"error": {"code", "message"}}``).

Prints what it found. Without GITHUB_TOKEN, or when the API refuses the token (401/403), it prints a
``::notice::skipped ...`` line and exits 0: skipped, never passed. Any other mismatch prints ``::error::`` and exits 1.

    GITHUB_TOKEN=... python scripts/live_smoke_github_models.py
"""

from __future__ import annotations

import json
import os
import sys

BASE_URL = os.environ.get("GITHUB_MODELS_BASE_URL", "https://models.github.ai/inference")  # another only for tests
MODEL = "meta/Llama-3.3-70B-Instruct"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Say hello in five words."},
]


def skipped(reason: str) -> int:
    print(f"::notice::skipped live smoke test on GitHub Models: {reason} (nothing was checked)")
    return 0


def main() -> int:
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        return skipped("GITHUB_TOKEN is not set")
    import openai

    client = openai.OpenAI(base_url=BASE_URL, api_key=token, max_retries=2, timeout=60)
    problems: list[str] = []

    def check(condition: bool, what: str) -> None:
        print(f"  {'ok  ' if condition else 'FAIL'} {what}")
        if not condition:
            problems.append(what)

    # 1. A whole chat completion
    try:
        raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, max_tokens=30)
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        return skipped(f"the API refused the token (HTTP {exc.status_code})")
    body = json.loads(raw.text)
    print(f"chat completion: HTTP {raw.status_code}, keys {sorted(body)}")
    check(body.get("object") == "chat.completion", f"object is 'chat.completion' ({body.get('object')!r})")
    check(
        isinstance(body.get("id"), str) and isinstance(body.get("created"), int), "id is a string, created an integer"
    )
    check(isinstance(body.get("model"), str), f"model is a string ({body.get('model')!r})")
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    check(
        message.get("role") == "assistant" and isinstance(message.get("content"), str),
        "choices[0].message has role 'assistant' and string content",
    )
    check(
        choice.get("finish_reason") in ("stop", "length"),
        f"finish_reason is stop or length ({choice.get('finish_reason')!r})",
    )
    usage = body.get("usage") or {}
    check(
        all(isinstance(usage.get(k), int) for k in ("prompt_tokens", "completion_tokens", "total_tokens")),
        f"usage has prompt_tokens, completion_tokens, total_tokens ({usage})",
    )

    # 2. A stream, read line by line as the server framed it
    with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES, max_tokens=30, stream=True
    ) as response:
        content_type = response.headers.get("content-type", "")
        lines = [line for line in response.iter_lines() if line.strip()]
    data = [line.removeprefix("data:").strip() for line in lines if line.startswith("data:")]
    chunks = [json.loads(d) for d in data if d != "[DONE]"]
    with_usage = [c for c in chunks if c.get("usage")]
    print(
        f"stream: {content_type}, {len(lines)} lines, {len(chunks)} chunks, {len(with_usage)} with usage, "
        f"last line {lines[-1] if lines else None!r}"
    )
    check(content_type.startswith("text/event-stream"), "content-type is text/event-stream")
    check(len(data) == len(lines), "every line is a 'data:' line (no event:, id: or comments)")
    check(bool(data) and data[-1] == "[DONE]", "the stream ends with 'data: [DONE]'")
    check(
        bool(chunks) and all(c.get("object") == "chat.completion.chunk" for c in chunks),
        "every chunk's object is 'chat.completion.chunk'",
    )
    check(all("delta" in ch for c in chunks for ch in c.get("choices", [])), "every choice in a chunk has a delta")
    if with_usage:
        print(f"  usage where present: {with_usage[-1]['usage']}")

    # 3. An unknown model
    try:
        client.chat.completions.create(model="meta/no-such-model", messages=MESSAGES, max_tokens=5)
        check(False, "an unknown model is refused")
    except openai.APIStatusError as exc:
        try:
            raw_error = json.loads(exc.response.text)
        except ValueError:
            raw_error = exc.response.text
        inner = raw_error.get("error") if isinstance(raw_error, dict) else None
        print(f"unknown model: HTTP {exc.status_code}, body {exc.response.text[:300]}")
        check(exc.status_code in (400, 404), f"status is 400 or 404 ({exc.status_code})")
        check(
            isinstance(inner, dict) and isinstance(inner.get("message"), str) and "code" in inner,
            "body is {'error': {'code', 'message'}} (the shape the replay server answers)",
        )

    if problems:
        for problem in problems:
            print(f"::error::live smoke test on GitHub Models: {problem}")
        return 1
    print("live smoke test on GitHub Models: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
