"""Notebook kernels import ``helpers``; that must not pull in the replay server's web stack.

Benchmarks (bench/notebook_suite.py) showed importing starlette and uvicorn in every kernel costs time in each
notebook. The constants both sides need live in ``helpers.constants`` for that reason.
"""

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_helpers_does_not_import_the_replay_server():
    loaded = _modules_after("import helpers")
    assert "helpers" in loaded
    assert not {"starlette", "uvicorn", "helpers.mock.app"} & loaded


def test_the_replay_server_uses_the_same_demo_key_as_the_helpers():
    import requests

    from helpers.constants import DEMO_KEY
    from helpers.mock import MockServer, MockSettings

    # The key a default replay server checks, not the name it imports (that would compare DEMO_KEY with itself).
    assert MockSettings().key == DEMO_KEY
    # And a server started with the defaults takes the helpers' key and refuses another.
    with MockServer() as mock:
        info = mock.endpoint("Meta-Llama-3.1-405B-Instruct") + "/info"
        assert requests.get(info, headers={"api-key": DEMO_KEY}, timeout=5).status_code == 200
        assert requests.get(info, headers={"api-key": DEMO_KEY[::-1]}, timeout=5).status_code == 401


def test_the_test_harness_imports_the_replay_server_only_where_it_starts_one():
    """xdist's controller loads helpers.pytest_plugin too, but runs no test and no server."""
    loaded = _modules_after("import sys; sys.modules['rfc3987_syntax'] = None; import helpers.pytest_plugin")
    assert "helpers.pytest_plugin" in loaded
    assert not {"starlette", "uvicorn", "helpers.mock.app"} & loaded
