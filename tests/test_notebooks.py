"""Every notebook runs top to bottom headless (nbclient), with the real data file.

Skipped without the MNIST file (they would download it); CI has it.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys

import nbformat
import pytest

from .conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, mnist_path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("CNN_WIDGETS_MNIST", str(mnist_path))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_static_slides_keep_their_pictures(mnist_path, tmp_path):
    """``jupyter nbconvert --execute --to slides``: every picture slide carries its PNG."""
    env = dict(os.environ, CNN_WIDGETS_MNIST=str(mnist_path), HOME=str(tmp_path))
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "slides",
                    "--output-dir", str(tmp_path), str(REPO / "notebooks" / "slides.ipynb")],
                   check=True, capture_output=True, env=env, timeout=600)
    page = (tmp_path / "slides.slides.html").read_text()
    pictures = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', page)
    assert len(pictures) >= 5  # conv1, conv3, the OIP, the FCP difference, decoded filters
    for picture in pictures:
        data = base64.b64decode(picture)
        assert data.startswith(b"\x89PNG") and len(data) > 200
