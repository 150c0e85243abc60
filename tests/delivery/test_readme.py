"""The README's own promises: its code runs as written, its commands are the real ones."""

from __future__ import annotations

import re

import pytest

from ..conftest import REPO

README = (REPO / "README.md").read_text()


def _block_after(heading: str) -> str:
    """The first ```python block after ``heading``."""
    start = README.index(heading)
    match = re.search(r"```python\n(.*?)```", README[start:], re.S)
    assert match, f"no python block after {heading!r}"
    return match.group(1)


@pytest.mark.slow  # trains a small Keras model
def test_the_own_model_snippet_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_block_after("### Your own Keras CNN"), "README.md", "exec"), namespace)  # noqa: S102
    assert (tmp_path / "my_cnn.keras").is_file() and (tmp_path / "my_cnn.json").is_file()
    assert namespace["model"].class_names[0] == "plane"
    assert namespace["model"].predict(namespace["x_train"][:2]).shape == (2, 10)


def test_the_readme_opens_the_notebooks_with_the_lab_extra():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(requirement.startswith("jupyterlab-rise") for requirement in extras["lab"])
    assert '.venv/bin/pip install -e ".[lab]" && .venv/bin/jupyter lab notebooks/' in README
    assert not any(requirement.startswith("jupyterlab") for requirement in extras["test"])  # tests need no Lab
