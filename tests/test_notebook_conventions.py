"""Conventions every notebook keeps, checked on the committed files (nbval checks that their outputs still hold)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 13


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_comes_after_a_markdown_line_that_says_what_and_why(path):
    cells = nbformat.read(path, as_version=4).cells
    bare = [
        i
        for i, cell in enumerate(cells)
        if cell.cell_type == "code"
        and (i == 0 or cells[i - 1].cell_type != "markdown" or not cells[i - 1].source.strip())
    ]
    assert not bare, f"{path.name}: code cells {bare} have no markdown cell right before them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_hold_no_uncaught_error(path):
    """A cell that shows an error on purpose catches it and prints it; a traceback output means a cell failed."""
    nb = nbformat.read(path, as_version=4)
    failed = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not failed, f"{path.name}: cells {failed} were saved with an error"
