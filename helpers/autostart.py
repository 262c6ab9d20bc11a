"""Zero setup: start the bundled replay server in this process when nothing is configured.

A notebook opened in VS Code, Codespaces, a JupyterHub or a JupyterLab started some other way has none of the
variables that ``make lab`` and ``make run`` set. When no ``AZURE_INFERENCE_*`` variable is set (in the environment or
``.env``), ``helpers.config`` calls ``start_if_unconfigured`` where ``AZURE_INFERENCE_ENDPOINT`` is missing: it starts
``helpers.mock.MockServer`` on a free port in a daemon thread (it ends with the kernel), puts every variable of
``offline_env(server.env())`` into ``os.environ`` (so ``!curl`` cells and subprocesses see them too) and prints one
line saying so. Once per process.

It never goes offline silently for someone who meant to be live: any ``AZURE_INFERENCE_*`` variable (a key, another
deployment's endpoint) or a name close to a known one (``AZURE_INFERNCE_ENDPOINT``, ``AZURE_AI_INFERENCE_ENDPOINT``)
raises ``ConfigError`` naming it instead. Under pytest the harness sets everything (helpers/pytest_plugin.py): no
start there. ``COOKBOOK_AUTOSTART=0`` turns it off.

IPython kernels of an environment set up by ``make setup`` also load it as an extension at kernel start
(``etc/ipython/ipython_kernel_config.py``, which ``make`` copies into ``.venv/etc/ipython/``), so that a notebook's
first cell can read ``os.environ["AZURE_INFERENCE_ENDPOINT"]`` without importing ``helpers``; the line is printed
with the first cell.
"""

from __future__ import annotations

import difflib
import os
import threading
from typing import Any

from .config import ConfigError, read_dotenv

PREFIX = "AZURE_INFERENCE"
# Every deployment's variables (data/deployments.json; README, "Today's deployments"): the names a typo is close to.
ROLE_PREFIXES = (PREFIX, f"{PREFIX}_SMALL", f"{PREFIX}_VISION", f"{PREFIX}_GUARD", f"{PREFIX}_MANAGED")
SUFFIXES = ("ENDPOINT", "CREDENTIAL", "MODEL", "AUTH", "DEPLOYMENT", "ENDPOINT_KIND")
KNOWN_NAMES = tuple(f"{prefix}_{suffix}" for prefix in ROLE_PREFIXES for suffix in SUFFIXES)
CLOSE_ENOUGH = 0.85  # AZURE_INFERNCE_ENDPOINT 0.98, AZURE_AI_INFERENCE_ENDPOINT 0.94; AZURE_OPENAI_ENDPOINT 0.76 is not
SWITCH = "COOKBOOK_AUTOSTART"
LINE = (
    "No AZURE_INFERENCE_* variables: started the bundled replay server at {url} "
    "(offline; answers are recordings, not live Llama)"
)

_server: Any = None  # the MockServer started in this process, if any
_lock = threading.Lock()


def _under_pytest() -> bool:
    return "PYTEST_CURRENT_TEST" in os.environ


def _switched_off() -> bool:
    return os.environ.get(SWITCH, "").strip().lower() in ("0", "no", "false", "off")


def live_looking(environ: dict[str, str] | os._Environ = os.environ) -> list[str]:
    """The variables set (not empty) that say someone meant to be live: ``AZURE_INFERENCE_*`` ones, and names close
    to a known one (a typo, ``AZURE_AI_INFERENCE_*``, another case)."""
    found = []
    for name, value in environ.items():
        if not (value or "").strip():
            continue
        upper = name.upper()
        if upper.startswith(PREFIX) or (upper.startswith("AZURE") and "INFERENCE" in upper):
            found.append(name)
        elif difflib.get_close_matches(upper, KNOWN_NAMES, n=1, cutoff=CLOSE_ENOUGH):
            found.append(name)
    return sorted(found)


def _refusal(prefix: str, found: list[str]) -> ConfigError:
    described = []
    for name in found:
        close = [] if name in KNOWN_NAMES else difflib.get_close_matches(name.upper(), KNOWN_NAMES, n=1, cutoff=0.6)
        described.append(f"{name} (did you mean {close[0]}?)" if close and close[0] != name else name)
    return ConfigError(
        f"{prefix}_ENDPOINT is not set, but {', '.join(described)} {'is' if len(found) == 1 else 'are'} (in the "
        "environment or .env): that looks like a live setup, so the bundled replay server was not started.\n"
        f"  To go live, set {prefix}_ENDPOINT (and the names above spelled as in .env.example), for example:\n"
        f"    {prefix}_ENDPOINT=https://<resource>.openai.azure.com/openai/v1\n"
        f"  To run offline, unset {', '.join(found)}: the helpers then start the replay server themselves."
    )


def start_if_unconfigured(prefix: str = PREFIX, required: bool = True) -> bool:
    """Called where ``PREFIX_ENDPOINT`` is missing. True when the replay server (started now, or earlier in this
    process) has set the variables; False when the caller should go on as before (under pytest, switched off, or,
    for an optional deployment, a live setup without it). Raises ``ConfigError`` for a live-looking setup."""
    global _server
    with _lock:
        if _server is not None:
            return True
        if _under_pytest() or _switched_off():
            return False
        read_dotenv()
        if found := live_looking():
            if not required:
                return False  # an optional deployment: not set in a live setup; load_settings() names any problem
            raise _refusal(prefix, found)
        _server = _start()
    return True


def _start() -> Any:
    from .constants import DEMO_KEY
    from .mock import MockServer  # here: importing helpers must not import the web stack (tests/test_import_cost.py)
    from .offline import offline_env

    server = MockServer(key=DEMO_KEY).start()
    os.environ.update(offline_env(server.env()))
    line = LINE.format(url=server.base_url)
    if _pending is None:
        print(line, flush=True)
    else:
        _pending.append(line)
    return server


_pending: list[str] | None = None  # set while starting from the IPython extension: the line waits for the first cell
_ipython: Any = None


def _print_pending(*_: object) -> None:
    while _pending:
        print(_pending.pop(0), flush=True)
    _ipython.events.unregister("pre_run_cell", _print_pending)


def load_ipython_extension(ipython: Any) -> None:
    """At kernel start (ipython_kernel_config.py): start when nothing is configured, so that cells reading
    ``os.environ`` directly work; the line goes out with the first cell. A live-looking setup is left alone here:
    ``helpers.load_settings()`` names it."""
    global _pending, _ipython
    _pending, _ipython = [], ipython
    try:
        start_if_unconfigured()
    except ConfigError:
        pass
    finally:
        if _pending:
            ipython.events.register("pre_run_cell", _print_pending)
        else:
            _pending = None
