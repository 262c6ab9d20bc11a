"""Edit and re-run: after Run All, each code cell of every Python notebook runs again on its own without an error.

Workshop attendees run everything, then change a cell and run it again. A notebook whose last cells close its clients
(or stop a server) breaks that. Here each notebook runs top to bottom on a fresh kernel, then every code cell runs once
more, last cell first, in the same kernel.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers.javascript import is_javascript_notebook

ROOT = Path(__file__).resolve().parents[1]
PYTHON_NOTEBOOKS = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if not is_javascript_notebook(p)]


def raises_on_purpose(cell: nbformat.NotebookNode) -> bool:
    """nbval's markers for a cell whose error is the lesson."""
    return "NBVAL_RAISES_EXCEPTION" in cell.source or "raises-exception" in cell.metadata.get("tags", [])


@pytest.mark.parametrize("path", PYTHON_NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_runs_again_after_run_all(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    code_cells = [(index, cell) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    failed = []
    with client.setup_kernel():
        for index, cell in code_cells:  # Run All
            client.execute_cell(cell, index)
        for index, cell in reversed(code_cells):  # then each cell again, on its own
            if raises_on_purpose(cell):
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                failed.append(
                    f"cell {index} ({cell.source.splitlines()[0][:60]!r}): {str(exc).strip().splitlines()[-1][:200]}"
                )
    assert not failed, f"{path.name}: after Run All, these cells fail when run again:\n" + "\n".join(failed)
