"""Write the recordings that do not come from a live endpoint: documented examples and authored ones.

Run it after changing one of them: ``python scripts/author_recordings.py``. Live recordings come from
``make record`` instead and are never touched here. Every file states its provenance:

- ``documented-example``: request and answer copied from Microsoft's "How to use Meta Llama models"
  page (``../shared/seed/``). Where the page shows only part of an answer (the first and last chunk
  of a stream), the rest is filled in here and the ``note`` says which part.
- ``authored``: written by this project to demonstrate a feature. It is NOT a model's answer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT / "data" / "recordings"
BIG = "Meta-Llama-3.1-405B-Instruct"
SMALL = "Meta-Llama-3.1-8B-Instruct"
VISION = "Llama-3.2-11B-Vision-Instruct"
GUARD = "Llama-Guard-3-8B"
MANAGED = "Llama-3.2-3B-Instruct-managed"
DOC = "Microsoft Learn, 'How to use Meta Llama family models' (zh-TW edition), its examples"

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
QUESTION = {"role": "user", "content": "How many languages are in the world?"}
DOC_ANSWER = (
    "As of now, it's estimated that there are about 7,000 languages spoken around the world. However, this number "
    "can vary as some languages become extinct and new ones develop. It's also important to note that the number of "
    "speakers can greatly vary between languages, with some having millions of speakers and others only a few "
    "hundred."
)
DOC_USAGE = {"prompt_tokens": 19, "total_tokens": 91, "completion_tokens": 72}


def completion(
    content: str,
    usage: dict,
    model: str = BIG,
    rid: str = "0a1234b5de6789f01gh2i345j6789klm",
    created: int = 1718726686,
    finish: str = "stop",
    logprobs: object = None,
    choices: list | None = None,
) -> dict:
    if choices is None:
        choices = [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "tool_calls": None},
                "finish_reason": finish,
                "logprobs": logprobs,
            }
        ]
    return {
        "id": rid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        "usage": usage,
    }


def usage(prompt: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt, "total_tokens": prompt + completion_tokens, "completion_tokens": completion_tokens}


def pieces(text: str) -> list[str]:
    """Split text the way a tokenizer-driven stream roughly does: a word with its leading space."""
    return re.findall(r"\s*\S+", text)


def stream(
    content: str,
    use: dict,
    model: str = BIG,
    rid: str = "23b54589eba14564ad8a2e6978775a39",
    created: int = 1718726371,
    first_ms: float = 180.0,
    gap_ms: float = 28.0,
) -> list[dict]:
    def chunk(delta: dict, finish: str | None = None, with_usage: bool = False) -> dict:
        out = {
            "id": rid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        if with_usage:
            out["usage"] = use
        return out

    events = [{"delay_ms": first_ms, "data": chunk({"role": "assistant", "content": ""})}]
    for i, piece in enumerate(pieces(content)):
        events.append({"delay_ms": gap_ms + (i % 3) * 4, "data": chunk({"content": piece})})
    events.append({"delay_ms": gap_ms, "data": chunk({"content": ""}, "stop", with_usage=True)})
    events.append({"delay_ms": 1.0, "data": "[DONE]"})
    return events


def write(deployment: str, name: str, provenance: dict, body: dict, response: dict) -> None:
    folder = RECORDINGS / deployment
    folder.mkdir(parents=True, exist_ok=True)
    record = {"provenance": provenance, "request": {"body": body}, "response": response}
    (folder / f"{name}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def documented(note: str) -> dict:
    return {"source": "documented-example", "from": DOC, "note": note}


def authored(note: str) -> dict:
    return {"source": "authored", "note": "Written by this project, not a model's answer. " + note}


# --- the documentation page's examples ------------------------------------------------------------
def documented_examples() -> None:
    write(
        BIG,
        "how-many-languages",
        documented("Request and answer as the page shows them."),
        {"messages": [SYSTEM, QUESTION]},
        {"status": 200, "body": completion(DOC_ANSWER, DOC_USAGE)},
    )

    write(
        BIG,
        "how-many-languages-stream",
        documented(
            "The page shows the request, the first chunk (role) and the last chunk (finish_reason, usage). "
            "The content chunks in between are the documented answer split into words by this project, "
            "and the chunk timings (delay_ms) are authored."
        ),
        {"messages": [SYSTEM, QUESTION], "stream": True, "temperature": 0, "top_p": 1, "max_tokens": 2048},
        {"status": 200, "stream": stream(DOC_ANSWER, DOC_USAGE)},
    )

    write(
        BIG,
        "how-many-languages-parameters",
        documented("The page's 'more parameters' request and its answer."),
        {
            "messages": [SYSTEM, QUESTION],
            "presence_penalty": 0.1,
            "frequency_penalty": 0.8,
            "max_tokens": 2048,
            "stop": ["<|endoftext|>"],
            "temperature": 0,
            "top_p": 1,
            "response_format": {"type": "text"},
        },
        {"status": 200, "body": completion(DOC_ANSWER, DOC_USAGE)},
    )

    write(
        BIG,
        "content-filter-knife-skills",
        documented("The page's content-safety example: the prompt and the 400 the endpoint returns."),
        {
            "messages": [
                {"role": "system", "content": "You are an AI assistant that helps people find information."},
                {
                    "role": "user",
                    "content": (
                        "Chopping tomatoes and cutting them into cubes or wedges are great ways to practice your "
                        "knife skills."
                    ),
                },
            ]
        },
        {
            "status": 400,
            "body": {
                "error": {
                    "message": (
                        "The response was filtered due to the prompt triggering Microsoft's content management "
                        "policy. Please modify your prompt and retry."
                    ),
                    "type": None,
                    "param": "prompt",
                    "code": "content_filter",
                    "status": 400,
                }
            },
        },
    )


# --- authored to demonstrate what the page only describes -----------------------------------------
JSON_SYSTEM = {
    "role": "system",
    "content": "You are a helpful assistant. Answer with one JSON object and nothing else.",
}
JSON_QUESTION = {
    "role": "user",
    "content": (
        "Name the three languages with the most native speakers. Use this shape: "
        '{"languages": [{"name": "...", "native_speakers_millions": 0}]}'
    ),
}
JSON_RETRY = {
    "role": "user",
    "content": "That reply was not valid JSON. Send only the JSON object: no prose, no code fences.",
}
JSON_OBJECT = (
    '{"languages": [{"name": "Mandarin Chinese", "native_speakers_millions": 940}, '
    '{"name": "Spanish", "native_speakers_millions": 485}, {"name": "English", "native_speakers_millions": 380}]}'
)
JSON_FENCED = "Here is the JSON you asked for:\n\n```json\n" + JSON_OBJECT + "\n```"

FOLLOW_UP = {"role": "user", "content": "Which of them has the most native speakers?"}
FOLLOW_UP_ANSWER = (
    "Mandarin Chinese has the most native speakers, with roughly 940 million people who grew up speaking it. "
    "Spanish and English follow, although English has more speakers overall once second-language speakers are counted."
)
LOGPROB_TOKENS = [
    ("As", -0.0312),
    (" of", -0.0008),
    (" now", -0.0121),
    (",", -0.0004),
    (" it", -0.0451),
    ("'s", -0.0002),
    (" estimated", -0.0035),
    (" that", -0.0009),
    (" there", -0.0011),
    (" are", -0.0001),
    (" about", -0.1733),
    (" 7", -0.0127),
]


def logprobs_block() -> dict:
    return {
        "content": [
            {"token": t, "logprob": lp, "bytes": list(t.encode()), "top_logprobs": []} for t, lp in LOGPROB_TOKENS
        ]
    }


def authored_examples() -> None:
    write(
        BIG,
        "json-by-prompting-first-try",
        authored(
            "A typical failure when asking Llama for JSON by prompt: the object arrives wrapped in prose and a code "
            "fence."
        ),
        {"messages": [JSON_SYSTEM, JSON_QUESTION]},
        {"status": 200, "body": completion(JSON_FENCED, usage(58, 61), rid="authored-json-1", created=1718726700)},
    )
    write(
        BIG,
        "json-by-prompting-retry",
        authored("The retry after telling the model its reply was not valid JSON."),
        {"messages": [JSON_SYSTEM, JSON_QUESTION, {"role": "assistant", "content": JSON_FENCED}, JSON_RETRY]},
        {"status": 200, "body": completion(JSON_OBJECT, usage(145, 52), rid="authored-json-2", created=1718726702)},
    )

    content = "".join(t for t, _ in LOGPROB_TOKENS)
    write(
        BIG,
        "extra-parameter-logprobs",
        authored(
            "Shows the shape of a logprobs answer (the page's logprobs request, capped at 12 tokens). The numbers "
            "are made up."
        ),
        {"messages": [SYSTEM, QUESTION], "logprobs": True, "max_tokens": 12},
        {
            "status": 200,
            "body": completion(
                content,
                usage(19, 12),
                rid="authored-logprobs",
                created=1718726710,
                finish="length",
                logprobs=logprobs_block(),
            ),
        },
    )
    two = ["As of now, it's estimated that there are about 7", "Roughly 7,000 languages are spoken in the world"]
    write(
        BIG,
        "extra-parameter-n-2",
        authored("Shows the shape of an answer with two choices (extra parameter n=2, capped at 12 tokens each)."),
        {"messages": [SYSTEM, QUESTION], "n": 2, "max_tokens": 12},
        {
            "status": 200,
            "body": completion(
                "",
                usage(19, 24),
                rid="authored-n-2",
                created=1718726712,
                choices=[
                    {
                        "index": i,
                        "message": {"role": "assistant", "content": text, "tool_calls": None},
                        "finish_reason": "length",
                        "logprobs": None,
                    }
                    for i, text in enumerate(two)
                ],
            ),
        },
    )

    write(
        BIG,
        "multi-turn-follow-up",
        authored("A second turn after the documented answer, to show how history is sent back."),
        {"messages": [SYSTEM, QUESTION, {"role": "assistant", "content": DOC_ANSWER}, FOLLOW_UP]},
        {
            "status": 200,
            "body": completion(FOLLOW_UP_ANSWER, usage(103, 41), rid="authored-multi-turn", created=1718726720),
        },
    )


if __name__ == "__main__":
    documented_examples()
    authored_examples()
    print(f"wrote recordings under {RECORDINGS.relative_to(ROOT)}")
