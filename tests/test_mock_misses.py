"""A request no recording answers gets a 404 that says what differs from the closest recording and lists the
recorded questions, as text to paste."""

from __future__ import annotations

import httpx

from helpers.mock import DEMO_KEY
from helpers.mock.misses import differences, question

AUTH = {"api-key": DEMO_KEY}
SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
RECORDED = [SYSTEM, {"role": "user", "content": "How many languages are in the world?"}]


def _miss(mock_server, **body):
    response = httpx.post(
        f"{mock_server.openai_v1_endpoint}/chat/completions",
        headers=AUTH,
        timeout=10,
        json={"model": "Llama-3.3-70B-Instruct", "messages": RECORDED, **body},
    )
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "RecordingNotFound"
    return response.json()["error"]["message"]


def test_an_own_question_is_named_and_the_recorded_questions_are_listed(mock_server):
    message = _miss(mock_server, messages=[SYSTEM, {"role": "user", "content": "What is the capital of Australia?"}])
    assert (
        "the question: 'What is the capital of Australia?' instead of 'How many languages are in the world?'" in message
    )
    assert "The questions on Llama-3.3-70B-Instruct: 'How many languages are in the world?'" in message
    assert "data/recordings" not in message and ".json" not in message  # questions, not file names


def test_a_changed_parameter_is_named_with_both_values(mock_server):
    assert "temperature: 0.5 instead of not sent" in _miss(mock_server, temperature=0.5)


def test_a_dropped_system_message_and_the_stream_flag_are_named():
    assert differences({"messages": RECORDED[1:]}, {"messages": RECORDED}) == [
        "the conversation: 1 messages instead of 2"
    ]
    assert differences({"messages": RECORDED, "stream": True}, {"messages": RECORDED}) == [
        "the stream flag: True instead of False"
    ]


def test_the_question_is_the_last_user_message_text_items_included():
    body = {
        "messages": [
            SYSTEM,
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is here?"},
                    {"type": "image_url", "image_url": {"url": "x"}},
                ],
            },
        ]
    }
    assert question(body) == "What is here? [image]"
