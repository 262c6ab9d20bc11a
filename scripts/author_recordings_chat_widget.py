"""Write the recording the interactive chat notebook (12) needs besides the documented ones.

Run from the repo root: ``python scripts/author_recordings_chat_widget.py``. The widget streams every turn
with the documentation's streaming parameters, so turn 1 replays the documented stream
(``how-many-languages-stream``) and turn 2, the follow-up question, needs a streamed answer. The one here
is authored: written by this project, NOT a model's answer. It reuses the text and token counts of the
non-streamed ``multi-turn-follow-up`` recording, so both paths tell the same story.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # import the shared builders next to this file

from author_recordings import (
    BIG,
    DOC_ANSWER,
    FOLLOW_UP,
    FOLLOW_UP_ANSWER,
    QUESTION,
    SYSTEM,
    authored,
    stream,
    usage,
    write,
)  # noqa: E402

# The documentation's streaming parameters, as the chat widget sends them on every turn.
STREAM_PARAMETERS = {"stream": True, "temperature": 0, "top_p": 1, "max_tokens": 2048}


def main() -> None:
    write(
        BIG,
        "chat-widget-follow-up-stream",
        authored(
            "Turn 2 of the chat widget notebook: the follow-up question after the documented answer, streamed "
            "with the documentation's streaming parameters. Same text and usage as multi-turn-follow-up."
        ),
        {"messages": [SYSTEM, QUESTION, {"role": "assistant", "content": DOC_ANSWER}, FOLLOW_UP], **STREAM_PARAMETERS},
        {
            "status": 200,
            "stream": stream(FOLLOW_UP_ANSWER, usage(103, 41), rid="authored-chat-widget-2", created=1718726730),
        },
    )
    print("wrote data/recordings/" + BIG + "/chat-widget-follow-up-stream.json")


if __name__ == "__main__":
    main()
