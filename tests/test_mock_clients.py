"""The client matrix: the same prompt, sent through every client path, hits the same recording.

Each path drives the real library (azure-ai-inference sync and async, openai sync and async,
LangChain, LiteLLM, raw ``requests`` and ``curl``), once plain and once streamed, and must get the
documented answer with the documented usage (19 + 72 = 91 tokens). Where a client exposes the
raw response, the ``x-replay-recording`` header shows which recording answered.

``client_matrix`` is also used by ``test_mock_record.py`` (through the recording proxy) and by the
offline test below (in a subprocess with non-loopback connections refused).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOYMENT = "Meta-Llama-3.1-405B-Instruct"
RECORDINGS = ROOT / "data" / "recordings" / DEPLOYMENT

SYSTEM = "You are a helpful assistant."
QUESTION = "How many languages are in the world?"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
# The documented streaming request's parameters (recording how-many-languages-stream).
STREAM_PARAMS = {"temperature": 0, "top_p": 1, "max_tokens": 2048}
USAGE = (19, 72, 91)
PLAIN_RECORDING = f"{DEPLOYMENT}/how-many-languages"
STREAM_RECORDING = f"{DEPLOYMENT}/how-many-languages-stream"


def documented_answer() -> str:
    raw = json.loads((RECORDINGS / "how-many-languages.json").read_text(encoding="utf-8"))
    return raw["response"]["body"]["choices"][0]["message"]["content"]


@dataclass
class Outcome:
    """What one client got: the text, (prompt, completion, total) tokens, and the recording header."""

    text: str
    usage: tuple[int, int, int] | None
    recording: str | None  # None where the client hides response headers (or in record mode)


def _usage(obj: Any) -> tuple[int, int, int] | None:
    if obj is None:
        return None
    get = obj.get if isinstance(obj, dict) else (lambda name: getattr(obj, name, None))
    if get("prompt_tokens") is not None:
        return int(get("prompt_tokens")), int(get("completion_tokens")), int(get("total_tokens"))
    if get("input_tokens") is not None:  # LangChain usage_metadata
        return int(get("input_tokens")), int(get("output_tokens")), int(get("total_tokens"))
    return None


def _collect(chunks: list[Any]) -> tuple[str, tuple[int, int, int] | None]:
    """Text and usage from the chunks of azure-ai-inference, openai, LiteLLM or raw JSON."""
    text, usage = [], None
    for chunk in chunks:
        choices = chunk.get("choices") if isinstance(chunk, dict) else getattr(chunk, "choices", None)
        if choices:
            delta = choices[0]["delta"] if isinstance(chunk, dict) else choices[0].delta
            content = delta.get("content") if isinstance(delta, dict) else getattr(delta, "content", None)
            text.append(content or "")
        got = _usage(chunk.get("usage") if isinstance(chunk, dict) else getattr(chunk, "usage", None))
        usage = got or usage
    return "".join(text), usage


def _sse_json(lines: list[str]) -> list[dict[str, Any]]:
    """Parse raw server-sent events, checking the framing the azure-ai-inference parser needs."""
    out = []
    for line in lines:
        if not line.strip():
            continue
        assert line.startswith("data: "), f"not a data-only SSE line: {line!r}"
        if line == "data: [DONE]":
            out.append("[DONE]")
            continue
        out.append(json.loads(line[len("data: ") :]))
    assert out and out[-1] == "[DONE]", "the stream must end with data: [DONE]"
    return out[:-1]


# -- one function per client path: (settings) -> {"plain": Outcome, "stream": Outcome} --------------


def azure_sync(settings) -> dict[str, Outcome]:
    import helpers

    seen: list[str | None] = []
    hook = lambda pipeline_response: seen.append(pipeline_response.http_response.headers.get("x-replay-recording"))  # noqa: E731
    with helpers.azure_client(settings) as client:
        response = client.complete(messages=MESSAGES, raw_response_hook=hook)
        plain = Outcome(response.choices[0].message.content, _usage(response.usage), seen[-1])
        stream = client.complete(messages=MESSAGES, stream=True, raw_response_hook=hook, **STREAM_PARAMS)
        with stream:
            text, usage = _collect(list(stream))
        return {"plain": plain, "stream": Outcome(text, usage, seen[-1])}


def azure_async(settings) -> dict[str, Outcome]:
    import helpers

    async def run() -> dict[str, Outcome]:
        seen: list[str | None] = []
        hook = lambda pipeline_response: seen.append(pipeline_response.http_response.headers.get("x-replay-recording"))  # noqa: E731
        async with helpers.azure_async_client(settings) as client:
            response = await client.complete(messages=MESSAGES, raw_response_hook=hook)
            plain = Outcome(response.choices[0].message.content, _usage(response.usage), seen[-1])
            stream = await client.complete(messages=MESSAGES, stream=True, raw_response_hook=hook, **STREAM_PARAMS)
            async with stream:
                chunks = [chunk async for chunk in stream]
            text, usage = _collect(chunks)
            return {"plain": plain, "stream": Outcome(text, usage, seen[-1])}

    return asyncio.run(run())


def openai_sync(settings) -> dict[str, Outcome]:
    import helpers

    with helpers.openai_client(settings) as client:
        raw = client.chat.completions.with_raw_response.create(model=settings.model, messages=MESSAGES)
        response = raw.parse()
        plain = Outcome(
            response.choices[0].message.content, _usage(response.usage), raw.headers.get("x-replay-recording")
        )
        raw = client.chat.completions.with_raw_response.create(
            model=settings.model, messages=MESSAGES, stream=True, **STREAM_PARAMS
        )
        text, usage = _collect(list(raw.parse()))
        return {"plain": plain, "stream": Outcome(text, usage, raw.headers.get("x-replay-recording"))}


def openai_async(settings) -> dict[str, Outcome]:
    import helpers

    async def run() -> dict[str, Outcome]:
        async with helpers.async_openai_client(settings) as client:
            raw = await client.chat.completions.with_raw_response.create(model=settings.model, messages=MESSAGES)
            response = raw.parse()
            plain = Outcome(
                response.choices[0].message.content, _usage(response.usage), raw.headers.get("x-replay-recording")
            )
            raw = await client.chat.completions.with_raw_response.create(
                model=settings.model, messages=MESSAGES, stream=True, **STREAM_PARAMS
            )
            chunks = [chunk async for chunk in raw.parse()]
            text, usage = _collect(chunks)
            return {"plain": plain, "stream": Outcome(text, usage, raw.headers.get("x-replay-recording"))}

    return asyncio.run(run())


def langchain(settings) -> dict[str, Outcome]:
    import helpers

    llm = helpers.langchain_chat(settings, include_response_headers=True)
    message = llm.invoke(MESSAGES)
    plain = Outcome(
        message.content,
        _usage(message.usage_metadata),
        message.response_metadata.get("headers", {}).get("x-replay-recording"),
    )
    # LangChain sends max_tokens as max_completion_tokens, an extra parameter: it needs the header.
    llm = helpers.langchain_chat(
        settings, include_response_headers=True, default_headers={"extra-parameters": "pass-through"}, **STREAM_PARAMS
    )
    chunks = list(llm.stream(MESSAGES))
    usage = None
    for chunk in chunks:
        usage = _usage(chunk.usage_metadata) or usage
    header = next(
        (c.response_metadata["headers"].get("x-replay-recording") for c in chunks if "headers" in c.response_metadata),
        None,
    )
    return {"plain": plain, "stream": Outcome("".join(c.content for c in chunks), usage, header)}


def litellm_path(settings) -> dict[str, Outcome]:
    import litellm

    import helpers

    params = helpers.litellm_params(settings)
    response = litellm.completion(messages=MESSAGES, **params)
    headers = response._hidden_params.get("additional_headers") or {}
    plain = Outcome(
        response.choices[0].message.content, _usage(response.usage), headers.get("llm_provider-x-replay-recording")
    )
    stream = litellm.completion(
        messages=MESSAGES, stream=True, stream_options={"include_usage": True}, **STREAM_PARAMS, **params
    )
    headers = stream._hidden_params.get("additional_headers") or {}
    text, usage = _collect(list(stream))
    return {"plain": plain, "stream": Outcome(text, usage, headers.get("llm_provider-x-replay-recording"))}


def raw_requests(settings) -> dict[str, Outcome]:
    import requests

    import helpers

    url, headers = helpers.rest_url(settings), helpers.rest_headers(settings)
    with requests.Session() as session:
        r = session.post(url, headers=headers, json={"messages": MESSAGES}, timeout=10)
        r.raise_for_status()
        body = r.json()
        plain = Outcome(
            body["choices"][0]["message"]["content"], _usage(body["usage"]), r.headers.get("x-replay-recording")
        )
        with session.post(
            url, headers=headers, json={"messages": MESSAGES, "stream": True, **STREAM_PARAMS}, stream=True, timeout=10
        ) as r:
            r.raise_for_status()
            assert r.headers["content-type"].startswith("text/event-stream")
            text, usage = _collect(_sse_json([line for line in r.iter_lines(decode_unicode=True)]))
            return {"plain": plain, "stream": Outcome(text, usage, r.headers.get("x-replay-recording"))}


def _curl(url: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[dict[str, str], str]:
    command = ["curl", "-sS", "-N", "--max-time", "20", "-D", "-", "-X", "POST", url, "--data-binary", "@-"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(command, input=json.dumps(body), capture_output=True, text=True, timeout=30, check=True)
    head, _, payload = done.stdout.replace("\r\n", "\n").partition("\n\n")
    status = head.splitlines()[0]
    assert " 200" in status, f"curl got {status}: {payload[:300]}"
    parsed = {}
    for line in head.splitlines()[1:]:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return parsed, payload


def curl(settings) -> dict[str, Outcome]:
    import helpers

    url, headers = helpers.rest_url(settings), helpers.rest_headers(settings)
    head, payload = _curl(url, headers, {"messages": MESSAGES})
    body = json.loads(payload)
    plain = Outcome(body["choices"][0]["message"]["content"], _usage(body["usage"]), head.get("x-replay-recording"))
    head, payload = _curl(url, headers, {"messages": MESSAGES, "stream": True, **STREAM_PARAMS})
    assert head["content-type"].startswith("text/event-stream")
    text, usage = _collect(_sse_json(payload.split("\n")))
    return {"plain": plain, "stream": Outcome(text, usage, head.get("x-replay-recording"))}


CLIENTS: dict[str, Callable[[Any], dict[str, Outcome]]] = {
    "azure-ai-inference": azure_sync,
    "azure-ai-inference aio": azure_async,
    "openai": openai_sync,
    "openai async": openai_async,
    "langchain": langchain,
    "litellm": litellm_path,
    "requests": raw_requests,
    "curl": curl,
}


def client_matrix(settings) -> dict[tuple[str, str], Outcome]:
    """Run every client path against ``settings``: {(client, "plain" | "stream"): Outcome}."""
    results = {}
    for name, run in CLIENTS.items():
        for mode, outcome in run(settings).items():
            results[(name, mode)] = outcome
    return results


def assert_documented_answers(results: dict[tuple[str, str], Outcome], headers: dict[str, str] | None) -> None:
    """Every path got the documented text and usage; ``headers`` maps mode -> expected recording name."""
    answer = documented_answer()
    for (name, mode), outcome in results.items():
        assert outcome.text == answer, f"{name} ({mode}) got a different text: {outcome.text[:80]!r}"
        assert outcome.usage == USAGE, f"{name} ({mode}) got usage {outcome.usage}"
        if headers is not None:
            assert outcome.recording == headers[mode], f"{name} ({mode}) was answered by {outcome.recording}"


def local_settings(endpoint: str, key: str):
    import helpers

    return helpers.Settings(endpoint=endpoint, credential=key, model=DEPLOYMENT)


# -- tests ----------------------------------------------------------------------------------------


def test_every_client_path_hits_the_same_recording(mock_server):
    results = client_matrix(local_settings(mock_server.endpoint(DEPLOYMENT), mock_server.settings.key))
    assert len(results) == 2 * len(CLIENTS)
    assert_documented_answers(results, {"plain": PLAIN_RECORDING, "stream": STREAM_RECORDING})


def test_langchain_max_tokens_without_header_is_the_services_400(mock_server):
    """The pitfall the LangChain notebook teaches: max_tokens goes out as max_completion_tokens."""
    import openai

    import helpers

    llm = helpers.langchain_chat(
        local_settings(mock_server.endpoint(DEPLOYMENT), mock_server.settings.key), max_tokens=2048
    )
    with pytest.raises(openai.BadRequestError) as caught:
        llm.invoke(MESSAGES)
    assert caught.value.status_code == 400
    assert "max_completion_tokens" in str(caught.value.body)


OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys, time
    attempts = []
    LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0"}

    def _host(address):
        return address[0] if isinstance(address, tuple) else address

    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name not in LOOPBACK:
            attempts.append(("getaddrinfo", str(name)))
            raise socket.gaierror(socket.EAI_NONAME, "non-loopback lookups are refused by the test")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in LOOPBACK:
            attempts.append(("connect", str(address)))
            raise ConnectionRefusedError("non-loopback connections are refused by the test")
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in LOOPBACK:
            attempts.append(("connect_ex", str(address)))
            return 111
        return real_connect_ex(self, address)

    socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex = getaddrinfo, connect, connect_ex

    started = time.monotonic()
    import litellm, openai, azure.ai.inference, langchain_azure_ai.chat_models  # imports under the guard
    imported = time.monotonic() - started
    from tests.test_mock_clients import CLIENTS, local_settings, DEPLOYMENT
    from helpers.mock import MockServer

    timings, results = {}, {}
    with MockServer() as mock:
        settings = local_settings(mock.endpoint(DEPLOYMENT), mock.settings.key)
        for name, run in CLIENTS.items():
            t = time.monotonic()
            outcomes = run(settings)
            timings[name] = time.monotonic() - t
            results[name] = {mode: [o.text, o.usage] for mode, o in outcomes.items()}
    print(json.dumps({"attempts": attempts, "imported": imported, "timings": timings, "results": results}))
    """
)


def test_offline_no_client_reaches_beyond_loopback(tmp_path):
    """Every client path, LiteLLM's import and streaming included, with non-loopback connections refused."""
    from helpers.offline import OFFLINE_ENV

    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_INFERENCE")}
    env.update(OFFLINE_ENV)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["attempts"] == [], f"a client tried to reach the internet: {report['attempts']}"
    answer = documented_answer()
    for name, modes in report["results"].items():
        for mode, (text, usage) in modes.items():
            assert text == answer and tuple(usage) == USAGE, (name, mode)
    # A stall (LiteLLM's tokenizer download times out after ~30 s) would show here; normal runs take a few seconds.
    slow = {name: round(t, 1) for name, t in report["timings"].items() if t > 20}
    assert not slow, f"client paths stalled: {slow}"
    assert elapsed < 150
