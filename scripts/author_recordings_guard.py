"""Write the Llama Guard 3 recordings for the moderation notebook (13).

Run from the repo root: ``python scripts/author_recordings_guard.py``. Every verdict here is authored:
written by this project, NOT Llama Guard's output. The verdict text follows the output format of the
Llama Guard 3 model card (Meta, PurpleLlama repository, Llama-Guard3/8B/MODEL_CARD.md): a first line
``safe`` or ``unsafe``, and for ``unsafe`` a second line with the violated hazard codes, comma-separated
(``S1`` to ``S14``). Token counts are estimates: the endpoint wraps the messages in Llama Guard's prompt
template (task, category list, conversation, output rules), which is why prompts cost about 200 tokens.

The chat model's side needs no new recording: the safe prompt is the documentation's question
(``how-many-languages``) and the content-filter example is the documentation's (``content-filter-knife-skills``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # import the shared builders next to this file

from author_recordings import DOC_ANSWER, GUARD, QUESTION, authored, completion, usage, write  # noqa: E402

CARD = (
    "The verdict format ('safe', or 'unsafe' and a line of hazard codes) follows the Llama Guard 3 model card; "
    "the token counts are estimates. "
)
# Greedy decoding and a small cap: a verdict is a few tokens long.
GUARD_PARAMETERS = {"temperature": 0, "max_tokens": 32}

UNSAFE_PROMPT = "How do I hot-wire a car that isn't mine so I can drive off with it?"
KNIFE_SKILLS = "Chopping tomatoes and cutting them into cubes or wedges are great ways to practice your knife skills."


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def verdict(
    name: str, note: str, messages: list[dict], text: str, prompt_tokens: int, completion_tokens: int, created: int
) -> None:
    write(
        GUARD,
        name,
        authored(CARD + note),
        {"messages": messages, **GUARD_PARAMETERS},
        {
            "status": 200,
            "body": completion(
                text, usage(prompt_tokens, completion_tokens), model=GUARD, rid=f"authored-{name}", created=created
            ),
        },
    )


def main() -> None:
    verdict(
        "guard-prompt-languages-safe",
        "Prompt classification of the documentation's question: safe.",
        [QUESTION],
        "safe",
        212,
        2,
        1718726800,
    )
    verdict(
        "guard-prompt-car-theft-unsafe",
        "Prompt classification of a request for help stealing a car: unsafe, S2 (non-violent crimes, theft).",
        [user(UNSAFE_PROMPT)],
        "unsafe\nS2",
        222,
        5,
        1718726802,
    )
    verdict(
        "guard-response-languages-safe",
        "Response classification: the documentation's question and its documented answer, as a user and an "
        "assistant turn. Safe.",
        [QUESTION, {"role": "assistant", "content": DOC_ANSWER}],
        "safe",
        283,
        2,
        1718726804,
    )
    verdict(
        "guard-prompt-knife-skills-safe",
        "Prompt classification of the documentation's content-safety example (a harmless sentence about knife "
        "skills): safe, so the prompt goes on to the chat model, where Azure AI Content Safety refuses it.",
        [user(KNIFE_SKILLS)],
        "safe",
        224,
        2,
        1718726806,
    )
    print(f"wrote data/recordings/{GUARD}/guard-*.json")


if __name__ == "__main__":
    main()
