"""Write the vision recordings for notebooks/07_vision.ipynb (deployment Llama-3.2-11B-Vision-Instruct).

    python scripts/author_recordings_vision.py

All three are ``authored``: written by this project, NOT a model's answers. They show the request
shapes for image input (an image by public URL, a local image as a base64 data URL) and the error a
request with two images gets. The chart's data URL is built from ``data/images/bar-chart.png`` as
committed (drawn by ``scripts/make_sample_images.py``): redraw the image, then run this again, or the
notebook's requests will no longer match.

The strings here are the notebook's exact requests; change both together.
"""

from __future__ import annotations

import base64
from pathlib import Path

from author_recordings import VISION, authored, completion, usage, write  # scripts/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "data" / "images" / "bar-chart.png"

# A photo on Wikimedia Commons that many vision API examples use (a boardwalk through a grassy field).
PHOTO_URL = (
    "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/"
    "2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"
)
DESCRIBE = "Describe this image in two sentences."

PHOTO_ANSWER = (
    "The photo shows a wooden boardwalk running straight ahead through a wide field of tall, bright green grass, "
    "with trees and shrubs along the horizon. Above it, a blue sky is streaked with thin white clouds."
)
CHART_ANSWER = (
    'This is a bar chart titled "Bicycles parked outside the library" that counts the bicycles on each weekday from '
    "Monday to Friday. Thursday has the tallest bar with 22 bicycles and Wednesday the shortest with 9, while Monday "
    "has 12, Tuesday 18 and Friday 15."
)


def data_url(path: Path, image_format: str = "png") -> str:
    """The same string ``azure.ai.inference.models.ImageUrl.load(image_file=..., image_format=...)`` builds."""
    return f"data:image/{image_format};base64,{base64.b64encode(path.read_bytes()).decode('utf-8')}"


def user_turn(text: str, *urls: str) -> dict:
    items = [{"type": "text", "text": text}]
    items += [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    return {"role": "user", "content": items}


def main() -> None:
    chart = data_url(CHART)
    write(
        VISION,
        "vision-public-url",
        authored(
            "Shows an answer to an image passed by public URL (the Wikimedia Commons boardwalk photo). "
            "The description was written by this project, not by a model; the token counts are made up."
        ),
        {"messages": [user_turn(DESCRIBE, PHOTO_URL)]},
        {
            "status": 200,
            "body": completion(
                PHOTO_ANSWER, usage(18, 44), model=VISION, rid="authored-vision-url", created=1727300000
            ),
        },
    )
    write(
        VISION,
        "vision-data-url-chart",
        authored(
            "Shows an answer to a local image sent as a base64 data URL (data/images/bar-chart.png, drawn by "
            "scripts/make_sample_images.py). The description matches the chart's data; the token counts are made up."
        ),
        {"messages": [user_turn(DESCRIBE, chart)]},
        {
            "status": 200,
            "body": completion(
                CHART_ANSWER, usage(18, 52), model=VISION, rid="authored-vision-chart", created=1727300010
            ),
        },
    )
    # Two images in one turn need no recording: the replay server's rules answer it (helpers/mock/rules.py,
    # check_images), as the service does whether or not anything was recorded.
    print(f"wrote 2 recordings under data/recordings/{VISION} (chart data URL: {len(chart)} characters)")


if __name__ == "__main__":
    main()
