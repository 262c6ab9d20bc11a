"""JupyterLab with the replay server behind it (unless AZURE_INFERENCE_ENDPOINT points at a live endpoint).

The server runs in this process; JupyterLab and every kernel it starts inherit the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys

from helpers.config import read_dotenv
from helpers.mock import DEMO_KEY, MockServer
from helpers.pytest_plugin import offline_env


def main() -> int:
    read_dotenv()  # a .env file counts as much as exported variables; exported ones win
    if os.environ.get("AZURE_INFERENCE_ENDPOINT"):
        print("AZURE_INFERENCE_ENDPOINT is set (in the environment or .env): JupyterLab will use your live endpoint.")
        return subprocess.call([sys.executable, "-m", "jupyter", "lab", *sys.argv[1:]])
    with MockServer(key=DEMO_KEY, port=8000) as mock:
        os.environ.update(offline_env(mock))
        print(f"Replay server on {mock.base_url}; notebooks will use it. Ctrl+C stops both.")
        try:
            return subprocess.call([sys.executable, "-m", "jupyter", "lab", "--notebook-dir", "notebooks", *sys.argv[1:]])
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
