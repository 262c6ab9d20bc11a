"""Write the recordings behind notebook 11 (managed compute with Microsoft Entra ID).

Run from the repository root: ``python scripts/author_recordings_managed.py``. The replay server's managed
deployment (``Llama-3.2-3B-Instruct-managed`` in ``data/deployments.json``; deployment name
``llama-3-2-3b-instruct-1``) answers the cookbook's basic question. The documentation page shows no answer
from a managed deployment, so this one is written by this project (provenance ``authored``): it is NOT a
model's output, and it only stands in for what a small Llama model on managed compute returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # to import the shared builders below

from author_recordings import MANAGED, QUESTION, RECORDINGS, ROOT, SYSTEM, authored, completion, usage, write  # noqa: E402

MODEL_NAME = "Llama-3.2-3B-Instruct"  # the model behind the managed deployment (its /info model_name)
ANSWER = (
    "There are roughly 7,000 languages spoken in the world today. The exact number changes over time, "
    "as some languages lose their last speakers and linguists describe others for the first time."
)


def managed_examples() -> None:
    write(
        MANAGED,
        "managed-how-many-languages",
        authored(
            "The cookbook's basic question sent to a managed compute deployment with a Microsoft Entra ID "
            "token (notebook 11). Same request on every client path."
        ),
        {"messages": [SYSTEM, QUESTION]},
        {
            "status": 200,
            "body": completion(ANSWER, usage(19, 38), model=MODEL_NAME, rid="authored-managed-1", created=1718726900),
        },
    )


if __name__ == "__main__":
    managed_examples()
    print(f"wrote managed-* recordings under {RECORDINGS.relative_to(ROOT)}")
