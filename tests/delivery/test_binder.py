"""Binder's pinned environment covers every dependency of the package."""

from __future__ import annotations

import re

import pytest

from ..conftest import REPO

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_requirements_pin_every_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = [line.split("#")[0].strip() for line in (REPO / "binder" / "requirements.txt").read_text().splitlines()]
    pins = {_name(line): line for line in lines if line}
    assert all("==" in line for line in pins.values()), "every Binder requirement is pinned"
    for requirement in project["dependencies"]:
        name = _name(requirement)
        wanted = "tensorflow-cpu" if name == "tensorflow" else name  # the CPU-only build on Binder
        assert wanted in pins, f"{name} is not pinned in binder/requirements.txt"


def test_post_build_installs_the_package_and_the_low_latency_websocket():
    script = (REPO / "binder" / "postBuild").read_text()
    assert script.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in script
    assert "pip install --no-deps" in script and "cnn_widgets.delivery.server.LowLatencyConnection" in script
