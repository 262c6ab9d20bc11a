"""What a process needs in its environment to run the notebooks offline, against a replay server.

``make run``, ``make lab`` and the tests set it for you; ``python -m helpers.mock env`` prints it for a Jupyter or a
shell you start yourself.
"""

from __future__ import annotations

import os
from typing import Mapping

from .config import LOCAL_HOSTS

# Offline switches for libraries that otherwise reach out to the internet (see README, 'Offline').
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # LiteLLM: use the bundled model cost map, no download at import
    "HF_HUB_OFFLINE": "1",  # LiteLLM streaming: no tokenizer download from the Hugging Face hub
    "LITELLM_OFFLINE_MODE": "true",  # LiteLLM's own switch: nothing fetched by itself (and no fallback warning)
    "LITELLM_TELEMETRY": "False",
}


def no_proxy_for_loopback(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """NO_PROXY and no_proxy with the loopback hosts added to what is already there. With HTTP_PROXY set (venue and
    corporate networks), requests, httpx, curl and the SDKs would otherwise send the replay server's traffic to the
    proxy."""
    hosts: list[str] = []
    for host in [*environ.get("NO_PROXY", "").split(","), *environ.get("no_proxy", "").split(","), *LOCAL_HOSTS]:
        if host.strip() and host.strip() not in hosts:
            hosts.append(host.strip())
    return {"NO_PROXY": ",".join(hosts), "no_proxy": ",".join(hosts)}  # clients differ in which spelling they read


def offline_env(deployment_env: Mapping[str, str]) -> dict[str, str]:
    """The offline switches, loopback kept off any proxy, and the deployments' variables (``MockServer.env()``)."""
    return {**OFFLINE_ENV, **no_proxy_for_loopback(), **deployment_env}
