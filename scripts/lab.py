"""JupyterLab with the replay server behind it (unless AZURE_INFERENCE_ENDPOINT points at a live endpoint).

    python scripts/lab.py                      # replay server on port 8000, JupyterLab in notebooks/
    python scripts/lab.py --replay-port 8001   # another port; any other option goes to `jupyter lab`

The server runs in this process; JupyterLab and every kernel it starts inherit the environment.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from helpers.config import ConfigError, load_settings, read_dotenv
from helpers.mock import DEMO_KEY, MockServer
from helpers.pytest_plugin import offline_env

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def jupyter_lab(extra: list[str]) -> int:
    return subprocess.call([sys.executable, "-m", "jupyter", "lab", "--notebook-dir", str(NOTEBOOKS), *extra])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replay-port", type=int, default=8000, help="port of the replay server (default 8000)")
    args, extra = parser.parse_known_args(argv)

    read_dotenv()  # a .env file counts as much as exported variables; exported ones win
    if os.environ.get("AZURE_INFERENCE_ENDPOINT"):
        try:  # a typo or a placeholder left in: one clear message now, not an error in every notebook
            settings = load_settings(dotenv=False)
        except ConfigError as exc:
            print(f"Cannot use the live endpoint: {exc}", file=sys.stderr)
            return 2
        print(f"JupyterLab will use your live endpoint: {settings.describe()}")
        return jupyter_lab(extra)
    try:
        mock = MockServer(key=DEMO_KEY, port=args.replay_port)
    except OSError as exc:
        print(f"Cannot start the replay server on 127.0.0.1:{args.replay_port} ({exc.strerror}): is another one (make serve, "
              f"make lab) running? Stop it, or pick another port: make lab PORT={args.replay_port + 1}.", file=sys.stderr)
        return 2
    with mock:
        os.environ.update(offline_env(mock))
        print(f"Replay server on {mock.base_url}; notebooks will use it. Ctrl+C stops both.")
        try:
            return jupyter_lab(extra)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
