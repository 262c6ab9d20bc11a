""".devcontainer/devcontainer.json (Codespaces, VS Code Dev Containers): the rules of the Dev Container spec this
file relies on, checked by hand. No registry package was found that ships the spec's JSON schema
(devContainer.base.schema.json; @devcontainers/cli 0.89.0 on npm does not), so it is not validated against it, and
the container itself is not built here (docs/instructors.md, "Codespaces")."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
# The properties of the spec's base schema (containers.dev/implementors/json_reference) this file may use.
KNOWN = {
    "name",
    "image",
    "features",
    "postCreateCommand",
    "forwardPorts",
    "portsAttributes",
    "customizations",
    "remoteUser",
    "containerEnv",
    "remoteEnv",
    "onCreateCommand",
    "updateContentCommand",
    "postStartCommand",
    "hostRequirements",
    "waitFor",
}
ON_AUTO_FORWARD = {"notify", "openBrowser", "openBrowserOnce", "openPreview", "silent", "ignore"}


def test_only_properties_of_the_spec():
    assert set(CONFIG) <= KNOWN, set(CONFIG) - KNOWN


def test_the_image_and_node_feature():
    assert CONFIG["image"] == "mcr.microsoft.com/devcontainers/python:3.11"
    node = CONFIG["features"]["ghcr.io/devcontainers/features/node:1"]
    assert node == {"version": "22"}  # Node.js 20 reached its end of life on 2026-04-30
    assert all(re.fullmatch(r"[a-z0-9.-]+(/[a-z0-9._-]+)+:\d+", feature) for feature in CONFIG["features"])


def test_setup_runs_once_the_container_is_created():
    assert CONFIG["postCreateCommand"] == "make setup"


def test_ports_are_forwarded_and_labelled():
    assert CONFIG["forwardPorts"] == [8888, 8000]
    attributes = CONFIG["portsAttributes"]
    assert set(attributes) == {str(port) for port in CONFIG["forwardPorts"]}
    for port in attributes.values():
        assert isinstance(port["label"], str) and port["label"]
        assert port.get("onAutoForward", "notify") in ON_AUTO_FORWARD


def test_the_makefile_defaults_match_the_forwarded_ports():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PORT\s*=\s*8000$", makefile, re.M)  # make lab's replay server; JupyterLab takes 8888
