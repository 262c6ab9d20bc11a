"""serve --local-model: a request no recording matches is answered by the small local stand-in model, labelled as such.

Runs for real after make setup (which installs xllamacpp and the model file); skips, saying why, only without them.
Requests use tiny max_tokens, so the whole file takes a few seconds.
"""

from __future__ import annotations

import httpx
import pytest

import helpers
from helpers.mock import DEMO_KEY, MockServer
from helpers.mock.local_model import MODEL_LABEL, unavailable_reason

QUESTION = [{"role": "user", "content": "Name one colour of the rainbow. (an unrecorded question for the local model)"}]
AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}


@pytest.fixture(scope="module")
def local():
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"local stand-in model not installed: {reason}")
    with MockServer(local_model=True) as mock:
        yield mock


def _labelled(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["x-replay-provenance"] == "local-model"
    assert response.headers["x-replay-recording"].startswith("local-model/")
    assert "local stand-in model" in helpers.answered_by(response) and "not by Llama" in helpers.answered_by(response)
    body = response.json()
    assert body["model"] == MODEL_LABEL
    return body


def test_openai_sdk_on_the_v1_endpoint_gets_a_labelled_answer(local):
    from openai import OpenAI

    client = OpenAI(base_url=f"{local.base_url}/openai/v1", api_key=DEMO_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="Llama-3.3-70B-Instruct", messages=QUESTION, max_tokens=8
    )
    assert raw.headers["x-replay-provenance"] == "local-model"
    answer = raw.parse()
    assert answer.model == MODEL_LABEL and answer.choices[0].message.content
    assert answer.usage.completion_tokens <= 8 and answer.usage.prompt_tokens > 0


@pytest.mark.parametrize(
    "path,model",
    [
        ("/models/chat/completions?api-version=2024-05-01-preview", "Llama-4-Scout-17B-16E-Instruct"),
        ("/Meta-Llama-3.1-8B-Instruct/chat/completions", None),
        ("/Llama-3.2-3B-Instruct-managed/v1/chat/completions", None),
    ],
)
def test_raw_httpx_on_models_serverless_and_managed(local, path, model):
    body = {"messages": QUESTION, "max_tokens": 6, **({"model": model} if model else {})}
    answer = _labelled(httpx.post(local.base_url + path, json=body, headers=AUTH, timeout=60))
    usage = answer["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_max_tokens_ends_with_length(local):
    body = {
        "model": "Llama-3.3-70B-Instruct",
        "messages": [{"role": "user", "content": "Write a long story about a dragon."}],
        "max_tokens": 5,
    }
    answer = _labelled(httpx.post(f"{local.base_url}/openai/v1/chat/completions", json=body, headers=AUTH, timeout=60))
    assert answer["choices"][0]["finish_reason"] == "length"
    assert answer["usage"]["completion_tokens"] <= 5


def test_temperature_zero_answers_the_same_twice(local):
    body = {"model": "Llama-3.3-70B-Instruct", "messages": QUESTION, "max_tokens": 12, "temperature": 0}
    first, second = (
        _labelled(httpx.post(f"{local.base_url}/openai/v1/chat/completions", json=body, headers=AUTH, timeout=60))
        for _ in range(2)
    )
    assert first["choices"][0]["message"]["content"] == second["choices"][0]["message"]["content"]


def test_stop_ends_the_answer_before_the_stop_sequence(local):
    body = {
        "model": "Llama-3.3-70B-Instruct",
        "messages": [{"role": "user", "content": "Count from 1 to 10, one number a line."}],
        "max_tokens": 40,
        "temperature": 0,
        "stop": ["4"],
    }
    answer = _labelled(httpx.post(f"{local.base_url}/openai/v1/chat/completions", json=body, headers=AUTH, timeout=60))
    assert "4" not in answer["choices"][0]["message"]["content"]
    assert answer["choices"][0]["finish_reason"] == "stop"


def test_a_stream_ends_with_usage_and_done(local):
    body = {"model": "Llama-3.3-70B-Instruct", "messages": QUESTION, "max_tokens": 6, "stream": True}
    with httpx.stream(
        "POST", f"{local.base_url}/openai/v1/chat/completions", json=body, headers=AUTH, timeout=60
    ) as response:
        assert response.status_code == 200 and response.headers["x-replay-provenance"] == "local-model"
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [helpers.streams.parse_sse_line(line) for line in lines[:-1]]
    assert all(chunk["model"] == MODEL_LABEL for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    assert 0 < chunks[-1]["usage"]["completion_tokens"] <= 6


def test_the_openai_sdk_streams_it_and_print_stream_labels_it(local, capsys):
    from openai import OpenAI

    client = OpenAI(base_url=f"{local.base_url}/openai/v1", api_key=DEMO_KEY, max_retries=0)
    stream = client.chat.completions.create(
        model="Llama-3.3-70B-Instruct", messages=QUESTION, max_tokens=6, stream=True
    )
    result = helpers.print_stream(stream)
    assert "local stand-in model" in capsys.readouterr().out
    assert result.text and result.usage is not None and result.usage.completion_tokens <= 6


def test_the_service_rules_still_come_first(local):
    extra = {"model": "Llama-3.3-70B-Instruct", "messages": QUESTION, "max_tokens": 5, "logit_bias": {}}
    response = httpx.post(f"{local.base_url}/openai/v1/chat/completions", json=extra, headers=AUTH, timeout=60)
    assert response.status_code == 400 and response.headers["x-replay-provenance"] != "local-model"
    image = {
        "model": "Llama-3.3-70B-Instruct",
        "max_tokens": 5,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            }
        ],
    }
    assert (
        httpx.post(f"{local.base_url}/openai/v1/chat/completions", json=image, headers=AUTH, timeout=60).status_code
        == 400
    )
    assert httpx.post(f"{local.base_url}/openai/v1/chat/completions", json=extra, timeout=60).status_code == 401


def test_without_local_model_the_same_request_gets_404(mock_server):
    body = {"model": "Llama-3.3-70B-Instruct", "messages": QUESTION, "max_tokens": 5}
    response = httpx.post(f"{mock_server.base_url}/openai/v1/chat/completions", json=body, headers=AUTH, timeout=60)
    assert response.status_code == 404 and response.headers["x-replay-provenance"] != "local-model"
