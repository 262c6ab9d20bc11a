"""Every notebook runs to the end under the endpoint kinds other than the default (outputs not compared): the retired
``/models`` endpoint of today's Foundry resource (``foundry-models``), and the page's 2024 setup (``serverless``).

The default kind (``openai-v1``) is covered by nbval, which compares the committed outputs. Offline: the session's
AZURE_INFERENCE_* variables are cleared (``live_setup``), so ``scripts/run_notebooks.py`` starts its own replay server
and points every deployment at it through the kind asked for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_run_notebooks import ROOT, run_notebooks

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("kind", ["foundry-models", "serverless"])
def test_every_notebook_runs_under_the_other_endpoint_kinds(live_setup: Path, capsys, kind):
    out_dir = live_setup / "out"
    code = run_notebooks.main([*map(str, NOTEBOOKS), "--endpoint-kind", kind, "--build-dir", str(out_dir)])
    out = capsys.readouterr().out
    assert f"running offline against the replay server, {kind} endpoint" in out
    names = {path.name for path in NOTEBOOKS}
    table = {
        line.split()[0]: line.split(None, 3)[1:]
        for line in out.splitlines()
        if line.split()[:1] and line.split()[0] in names
    }
    failed = {name: row[2] if len(row) > 2 else row[0] for name, row in table.items() if row[0] != "ok"}
    assert set(table) == names, out
    assert not failed, f"under --endpoint-kind {kind}: " + "; ".join(
        f"{name}: {why}" for name, why in sorted(failed.items())
    )
    assert code == 0, out
    for path in NOTEBOOKS:
        assert (out_dir / path.name).is_file()
