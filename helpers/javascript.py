"""Whether this machine can run the JavaScript notebooks, and what to do when it cannot.

Only the JavaScript notebook needs Node.js: without it, ``make run`` and ``make test`` run every Python notebook and
skip the JavaScript ones, saying how to enable them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

NODE_MINIMUM = (20, 12)
ENABLE_HINT = "install Node.js 20.12+ with npm (https://nodejs.org), then run make setup"


def is_javascript_notebook(path: Path) -> bool:
    """A notebook whose kernel is not Python (its metadata names the kernel)."""
    import json

    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {}).get("kernelspec", {})
    except (OSError, ValueError):
        return False
    return spec.get("language") in ("javascript", "typescript") or spec.get("name", "python3") not in (
        "python3",
        "python",
    )


def javascript_unavailable(kernel: str = "jslab") -> str | None:
    """Why the JavaScript notebooks cannot run here, or ``None`` when they can."""
    node = shutil.which("node")
    if node is None:
        return f"Node.js is not on PATH: {ENABLE_HINT}"
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
        major, minor = (int(part) for part in version.lstrip("v").split(".")[:2])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return f"node --version did not answer: {ENABLE_HINT}"
    if (major, minor) < NODE_MINIMUM:
        return f"Node.js {version} is older than 20.12: {ENABLE_HINT}"
    from jupyter_client.kernelspec import find_kernel_specs

    if kernel not in find_kernel_specs():
        return f"the {kernel} kernel is not installed: run make setup"
    return None
