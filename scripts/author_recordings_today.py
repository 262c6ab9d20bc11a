"""Write the recordings of today's deployments from the page's (run from the repository root).

No live endpoint is reachable where this project is built, so today's deployments (Llama-3.3-70B-Instruct and the
others on the emulated Foundry resource) answer with the page's recordings, copied and relabelled: the same requests,
the same answers with today's model name, and ``provenance.source`` set to ``authored`` with a note naming the file
it came from. They are not answers of today's models; ``make record`` against your own deployments replaces them
(a live recording wins over an authored one for the same request).

    .venv/bin/python scripts/author_recordings_today.py          # rewrite data/recordings/<today's deployment>/
    .venv/bin/python scripts/author_recordings_today.py --check  # exit 1 if a file differs from what it would write
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT / "data" / "recordings"
# The page's deployment -> today's deployment taking its place in the notebooks (data/deployments.json).
TODAY_FOR_PAGE = {
    "Meta-Llama-3.1-405B-Instruct": ("Llama-3.3-70B-Instruct", "Llama-3.3-70B-Instruct"),
    "Meta-Llama-3.1-8B-Instruct": ("Llama-4-Scout-17B-16E-Instruct", "Llama-4-Scout-17B-16E-Instruct"),
    "Llama-3.2-11B-Vision-Instruct": (
        "Llama-4-Maverick-17B-128E-Instruct-FP8",
        "Llama-4-Maverick-17B-128E-Instruct-FP8",
    ),
    "Llama-Guard-3-8B": ("Llama-Guard-3-8B-managed", "Llama-Guard-3-8B"),
}


def _renamed(value: Any, old: str, new: str) -> Any:
    """``value`` with every ``"model": old`` replaced by ``new`` (response bodies and stream chunks)."""
    if isinstance(value, dict):
        return {k: (new if k == "model" and v == old else _renamed(v, old, new)) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return value


def derived(record: dict[str, Any], page_deployment: str, source_name: str) -> dict[str, Any]:
    today_deployment, today_model = TODAY_FOR_PAGE[page_deployment]
    old_model = (
        record["response"].get("body", {}).get("model") if isinstance(record["response"].get("body"), dict) else None
    )
    old_model = old_model or page_deployment.removesuffix("-managed")
    before = record["provenance"]
    provenance = {
        "source": "authored",
        "derived_from": f"data/recordings/{page_deployment}/{source_name}",
        "derived_from_source": before.get("source"),
        "note": (
            f"The answer recorded for the page's {page_deployment} ({before.get('source')}), reused by this "
            f"project for {today_deployment} so that the notebooks run on today's deployment offline. It is "
            f"not an answer of {today_model}: record one with `make record`."
        ),
    }
    return {
        "provenance": provenance,
        "request": record["request"],
        "response": _renamed(record["response"], old_model, today_model),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a file is missing or differs")
    args = parser.parse_args(argv)
    stale = []
    for page_deployment, (today_deployment, _) in TODAY_FOR_PAGE.items():
        for path in sorted((RECORDINGS / page_deployment).glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            if record["provenance"].get("source") == "recorded-live":
                continue  # a live answer of a retired model stays with it
            target = RECORDINGS / today_deployment / path.name
            text = json.dumps(derived(record, page_deployment, path.name), indent=2, ensure_ascii=False) + "\n"
            if target.exists() and target.read_text(encoding="utf-8") == text:
                continue
            if args.check:
                stale.append(str(target.relative_to(ROOT)))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print("wrote", target.relative_to(ROOT))
    if stale:
        print("out of date (run scripts/author_recordings_today.py):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
