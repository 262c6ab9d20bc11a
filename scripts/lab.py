"""JupyterLab with the replay server behind it (unless AZURE_INFERENCE_ENDPOINT points at a live endpoint).

    python scripts/lab.py                      # replay server on port 8000, JupyterLab in notebooks/
    python scripts/lab.py --replay-port 8001   # another port; any other option goes to `jupyter lab`
    python scripts/lab.py --no-local-model     # a request no recording matches gets the replay server's 404

A request that matches no recording is answered by a small local stand-in model (SmolLM2-135M-Instruct on this
computer, never Llama; helpers/mock/local_model.py), labelled as such, so that an edited prompt still gets an answer.

The server runs in this process; JupyterLab and every kernel it starts inherit the environment.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from helpers.config import (
    ConfigError,
    configured_settings,
    endpoint_problems,
    load_settings,
    read_dotenv,
    unusable_hint,
)
from helpers.mock import DEMO_KEY, MockServer
from helpers.mock.deployments import deployment_prefixes
from helpers.offline import offline_env

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def jupyter_lab(extra: list[str]) -> int:
    """Run JupyterLab until it exits; on Ctrl+C (or SIGTERM to this script), stop it the way that stops its kernels too.

    SIGTERM makes Jupyter shut its kernels down without asking, which takes a moment; a second Ctrl+C meanwhile
    kills it outright (its Python kernels, and the JavaScript one, then exit when they notice their parent is gone).
    """
    lab = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--notebook-dir", str(NOTEBOOKS), *root_options(extra), *extra]
    )
    try:
        return lab.wait()
    except KeyboardInterrupt:
        lab.terminate()
    try:
        lab.wait(timeout=30)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        lab.kill()
        lab.wait()
    return 0


def root_options(extra: list[str]) -> list[str]:
    """``--allow-root`` when this runs as root (containers, WSL, cloud VMs), where Jupyter refuses to start without
    it."""
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        print("Running as root (a container or a VM?): starting JupyterLab with --allow-root.")
        return ["--allow-root"]
    return []


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (a process manager, kill) stops JupyterLab and the replay server like Ctrl+C


def local_model_wanted(wanted: bool) -> bool:
    """Whether the replay server gets its local stand-in model: asked for, and installed (else one line says why
    not)."""
    if not wanted:
        return False
    from helpers.mock.local_model import unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"No local stand-in model ({reason}): a request no recording matches gets a 404.")
        return False
    print(
        "A request no recording matches is answered by a small local stand-in model (SmolLM2-135M-Instruct on this "
        "computer, not Llama on Azure), labelled as such. --no-local-model turns it off."
    )
    return True


def port_number(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--replay-port", type=port_number, default=8000, help="port of the replay server (default 8000)"
    )
    parser.add_argument(
        "--local-model",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="answer requests that no recording matches with a small local stand-in model (default: on)",
    )
    args, extra = parser.parse_known_args(argv)

    read_dotenv()  # a .env file counts as much as exported variables; exported ones win
    if os.environ.get("AZURE_INFERENCE_ENDPOINT"):
        try:  # a typo or a placeholder left in: one clear message now, not an error in every notebook
            settings = load_settings(dotenv=False)
            # the other deployments set in .env or the shell (vision, small, guard, managed): the same checks
            others = configured_settings(prefix for prefix in deployment_prefixes() if prefix != settings.prefix)
        except ConfigError as exc:
            print(f"Cannot use the live endpoint: {exc}", file=sys.stderr)
            return 2
        print(f"JupyterLab will use your live endpoint: {settings.describe()}")
        for other in others:
            print(f"  and {other.prefix}: {other.describe()}")
        for checked, problem in endpoint_problems([settings, *others]):  # warnings only: the network may come back
            print(
                f"Warning: {problem}. The notebooks that use it will fail until it answers.\n  "
                f"{unusable_hint(checked)}",
                file=sys.stderr,
            )
        return jupyter_lab(extra)
    try:
        # Streams arrive at their recorded pace, word by word, as from a live endpoint (nbval runs stay unpaced).
        mock = MockServer(
            key=DEMO_KEY, port=args.replay_port, replay_timing=True, local_model=local_model_wanted(args.local_model)
        )
    except OSError as exc:
        print(
            f"Cannot start the replay server on 127.0.0.1:{args.replay_port} ({exc.strerror}): is another one (make "
            f"serve, make lab) running? Stop it, or pick another port: make lab PORT={args.replay_port + 1}.",
            file=sys.stderr,
        )
        return 2
    except ValueError as exc:  # a recording that does not load (edited by hand?): which file, and why
        print(f"Cannot start the replay server: {exc}", file=sys.stderr)
        return 2
    with mock:
        os.environ.update(offline_env(mock.env()))
        print(
            f"Replay server on {mock.base_url} (streams at their recorded pace); notebooks will use it. Ctrl+C stops "
            "both."
        )
        return jupyter_lab(extra)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(main())
