"""Draw the sample image(s) in ``data/images/`` that the vision notebook sends to the model.

    python scripts/make_sample_images.py

The picture is made up and drawn here, so the project owns it outright (no third-party license).
It is kept small on purpose: a local image travels inside the request as a base64 data URL, and
the replay server's recordings store that request body in full.

The output is byte-for-byte reproducible for a given matplotlib and Pillow version (no timestamps or
software tags in the file). The recordings in ``data/recordings/Llama-3.2-11B-Vision-Instruct/vision-*.json``
embed these exact bytes: after changing a picture, run ``python scripts/author_recordings_vision.py`` too.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "data" / "images"

# The chart's data. The authored answers in scripts/author_recordings_vision.py describe exactly this.
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri"]
BICYCLES = [12, 18, 9, 22, 15]
TITLE = "Bicycles parked outside the library"


def bar_chart() -> bytes:
    """A small bar chart with labeled bars, as an optimized 16-color PNG."""
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    bars = ax.bar(DAYS, BICYCLES, color="#3b7dd8")
    ax.bar_label(bars, padding=2)
    ax.set_title(TITLE, fontsize=11)
    ax.set_ylabel("bicycles")
    ax.set_ylim(0, 25)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    raw = io.BytesIO()
    fig.savefig(raw, format="png", metadata={"Software": None})  # no version tag in the file
    plt.close(fig)

    raw.seek(0)
    image = Image.open(raw).convert("RGB").quantize(colors=16)  # flat colors: a palette keeps it tiny
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    path = IMAGES / "bar-chart.png"
    data = bar_chart()
    path.write_bytes(data)
    print(f"wrote {path.relative_to(ROOT)} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
