"""The local stand-in model (serve --local-model, make lab): first-token latency and tokens per second.

Streams unrecorded questions through the replay server's v1 endpoint, as a notebook would: the cold first request
(the model loads), then one stream at a time, then 4 at once. First token: from sending the request to the first
chunk with text. Tokens per second: completion tokens (the model's tokenizer, from the stream's usage) over the time
from the first text chunk to the last; for 4 streams also all their tokens over the wall time.

    .venv/bin/python bench/local_model.py [--rounds 3] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from _common import DEMO_KEY, fmt, machine, median, table, write_result  # noqa: E402

from helpers.mock import MockServer  # noqa: E402
from helpers.mock.local_model import cpu_threads, unavailable_reason  # noqa: E402

TOPICS = [
    "a lighthouse",
    "a red bicycle",
    "the moon",
    "a small garden",
    "an old clock",
    "a paper boat",
    "rain",
    "a fox",
]


def one_stream(base_url: str, topic: str, max_tokens: int, seed: int) -> dict[str, float]:
    body = {
        "model": "Llama-3.3-70B-Instruct",
        "stream": True,
        "max_tokens": max_tokens,
        "temperature": 0.7,
        "seed": seed,
        "messages": [{"role": "user", "content": f"Write a short story about {topic}."}],
    }
    start = time.perf_counter()
    first = last = None
    tokens = 0
    with httpx.stream(
        "POST",
        f"{base_url}/openai/v1/chat/completions",
        json=body,
        timeout=120,
        headers={"Authorization": f"Bearer {DEMO_KEY}"},
    ) as response:
        assert response.headers.get("x-replay-provenance") == "local-model", response.read()
        for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            if chunk["choices"][0]["delta"].get("content"):
                last = time.perf_counter()
                first = first or last
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    assert first is not None and last is not None
    return {
        "first": first - start,
        "tokens": tokens,
        "rate": (tokens - 1) / (last - first) if last > first else float("nan"),
        "start": start,
        "end": last,
    }


def concurrent(base_url: str, n: int, max_tokens: int, seed: int) -> tuple[list[dict[str, float]], float]:
    results: list[dict[str, float]] = [{} for _ in range(n)]

    def run(i: int) -> None:
        results[i] = one_stream(base_url, TOPICS[(seed + i) % len(TOPICS)], max_tokens, seed + i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = max(r["end"] for r in results) - start
    return results, sum(r["tokens"] for r in results) / wall


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--max-tokens", type=int, default=128)
    args = p.parse_args(argv)
    if (reason := unavailable_reason()) is not None:
        print(f"skipped: {reason}")
        return 0
    info = machine()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with MockServer(local_model=True, rpm=0, tpm=0) as mock:
        t0 = time.perf_counter()
        cold = one_stream(mock.base_url, TOPICS[0], 16, 0)
        cold_total = time.perf_counter() - t0
        singles, fours, four_rates = [], [], []
        for r in range(args.rounds):
            singles.append(one_stream(mock.base_url, TOPICS[r % len(TOPICS)], args.max_tokens, 100 + r))
            results, aggregate = concurrent(mock.base_url, 4, args.max_tokens, 200 + 10 * r)
            fours.extend(results)
            four_rates.append(aggregate)
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows = [
        ["cold: first request (loads the model)", fmt(cold["first"], 2), "", ""],
        [
            f"1 stream ({args.rounds} runs, median)",
            fmt(median([s["first"] for s in singles]), 2),
            fmt(median([s["rate"] for s in singles])),
            fmt(median([s["rate"] for s in singles])),
        ],
        [
            f"4 concurrent streams ({args.rounds} rounds, median)",
            fmt(median([s["first"] for s in fours]), 2),
            fmt(median([s["rate"] for s in fours])),
            fmt(median(four_rates)),
        ],
    ]
    body = (
        f"SmolLM2-135M-Instruct Q4_1 through xllamacpp, {cpu_threads()} threads, up to {args.max_tokens} tokens a "
        f"stream, temperature 0.7. Load average {fmt(load_before, 1)} before, {fmt(load_after, 1)} after (other work "
        "on the machine slows these numbers).\n\n"
        + table(["run", "first token (s)", "tokens/s per stream", "tokens/s in all"], rows)
        + f"\n\nCold first request, whole: {fmt(cold_total, 2)} s for {cold['tokens']} tokens.\n"
    )
    write_result("local_model", "Local stand-in model (make lab)", body, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
