"""Write the recordings behind notebooks 08 (async throughput under quota) and 09 (cost and quota tracking).

Run from the repository root: ``python scripts/author_recordings_throughput.py``. The notebooks fan out
many small requests at once, each asking for a different number ("Say the number 17."), so every answer
shows which request it belongs to: that is how notebook 08 proves that no request was lost or answered
twice. All answers are written by this project (provenance ``authored``); they are NOT model output.
Token counts are plausible estimates for a Llama 3 chat prompt this size, not measured.

- ``throughput-say-number-NNN``: N = 1..COUNT, non-streamed.
- ``throughput-say-number-stream-NNN``: N = 1..STREAMED, streamed (notebook 08 cuts these halfway on purpose).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # to import the shared builders below

from author_recordings import RECORDINGS, ROOT, SMALL, authored, completion, stream, usage, write  # noqa: E402

COUNT = 100  # notebook 08 sends up to this many requests
STREAMED = 3  # streamed variants, for the cut-stream section of notebook 08
NUMBER_SYSTEM = {"role": "system", "content": "Reply with the number only, in digits."}
MAX_TOKENS = 5
PROMPT_TOKENS = 30  # estimate: chat template + system + user turn
COMPLETION_TOKENS = 2  # the number (one token up to 999) + end of turn


def number_request(n: int, streamed: bool = False) -> dict:
    body: dict = {
        "messages": [NUMBER_SYSTEM, {"role": "user", "content": f"Say the number {n}."}],
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
    }
    if streamed:
        body["stream"] = True
    return body


def throughput_examples() -> None:
    use = usage(PROMPT_TOKENS, COMPLETION_TOKENS)
    for n in range(1, COUNT + 1):
        write(
            SMALL,
            f"throughput-say-number-{n:03d}",
            authored(
                f"One of {COUNT} numbered requests that notebooks 08 and 09 send at once; the answer names "
                "the number so the notebook can match it to its request. Token counts are estimates."
            ),
            number_request(n),
            {
                "status": 200,
                "body": completion(
                    str(n), use, model=SMALL, rid=f"authored-throughput-{n:03d}", created=1718727000 + n
                ),
            },
        )
    for n in range(1, STREAMED + 1):
        write(
            SMALL,
            f"throughput-say-number-stream-{n:03d}",
            authored(
                "The streamed variant of a numbered request; notebook 08 has the replay server cut it after "
                "two chunks to show how a broken stream is detected and retried. Token counts are estimates."
            ),
            number_request(n, streamed=True),
            {
                "status": 200,
                "stream": stream(
                    str(n),
                    use,
                    model=SMALL,
                    rid=f"authored-throughput-stream-{n:03d}",
                    created=1718727200 + n,
                    first_ms=120.0,
                    gap_ms=20.0,
                ),
            },
        )


if __name__ == "__main__":
    throughput_examples()
    print(f"wrote throughput-* recordings under {(RECORDINGS / SMALL).relative_to(ROOT)}")
