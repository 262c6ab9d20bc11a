"""Write the recordings behind notebook 10 (LiteLLM Router across two deployments).

Run from the repository root: ``python scripts/author_recordings_router.py``. The notebook sends one short
question many times through a router that spreads the requests over the 405B and the 8B deployment, so
each deployment needs an answer to it. Both answers are written by this project (provenance
``authored``); they are NOT model output. They differ on purpose, and each carries its own deployment's
name in ``model``, so the notebook can show which deployment answered.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # to import the shared builders below

from author_recordings import BIG, RECORDINGS, ROOT, SMALL, SYSTEM, authored, completion, usage, write  # noqa: E402

ROUTER_QUESTION = {
    "role": "user",
    "content": "In one sentence: roughly how many languages are spoken in the world today?",
}
ANSWERS = {
    BIG: (
        "Roughly 7,000 languages are spoken in the world today, although the exact count depends on how "
        "languages and dialects are told apart.",
        usage(31, 27),
        "authored-router-405b",
    ),
    SMALL: ("About 7,000 languages are spoken around the world today.", usage(31, 13), "authored-router-8b"),
}


def router_examples() -> None:
    for deployment, (text, use, rid) in ANSWERS.items():
        write(
            deployment,
            "router-languages-one-sentence",
            authored(
                "The answer notebook 10 gets from this deployment when its LiteLLM Router sends the request "
                "here; the notebook counts which deployment answered."
            ),
            {"messages": [SYSTEM, ROUTER_QUESTION]},
            {"status": 200, "body": completion(text, use, model=deployment, rid=rid, created=1718726800)},
        )


if __name__ == "__main__":
    router_examples()
    print(f"wrote router-* recordings under {RECORDINGS.relative_to(ROOT)}")
