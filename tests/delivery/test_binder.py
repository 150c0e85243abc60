"""Binder's pinned environment covers every dependency of the package."""

from __future__ import annotations

import re

import pytest

from ..conftest import REPO, stop_process_group

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
    assert "pip install --no-deps" in script
    assert "from cnn_widgets.delivery.server import configure_server\nconfigure_server(c)" in _post_build_config()


def _post_build_config() -> str:
    """The jupyter_server_config.py lines postBuild writes (its heredoc)."""
    script = (REPO / "binder" / "postBuild").read_text()
    found = re.search(r"<<'PY'\n(.*?)\nPY\n", script, flags=re.S)
    assert found, "postBuild writes no Jupyter Server config"
    return found.group(1) + "\n"


@pytest.mark.slow
def test_binder_voila_serves_the_dashboard_template_and_frees_kernels(tmp_path):
    """postBuild's template and server config, in a real Jupyter Server with Voila's extension."""
    import json
    import os
    import shutil
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from cnn_widgets.delivery.server import CULL_OPTIONS, install_template

    script = (REPO / "binder" / "postBuild").read_text()
    assert "install_template()" in script  # what postBuild runs, here into a temporary data folder
    data, config, home = tmp_path / "data", tmp_path / "config", tmp_path / "home"
    folder = install_template(data)
    assert json.loads((folder / "conf.json").read_text()) == {"base_template": "lab"}
    config.mkdir()
    (config / "jupyter_server_config.py").write_text(_post_build_config())
    home.mkdir()
    shutil.copy(REPO / "notebooks" / "00_explorer.ipynb", home)
    env = dict(os.environ, JUPYTER_DATA_DIR=str(data), JUPYTER_CONFIG_DIR=str(config), HOME=str(home))
    shown = subprocess.run([sys.executable, "-m", "jupyter_server", "--show-config"], env=env, cwd=home,
                           capture_output=True, text=True, timeout=120)
    for option in CULL_OPTIONS:  # culling as serve has it
        name, value = option.removeprefix("--MappingKernelManager.").split("=")
        assert re.search(rf"\.{name} = {value}\b", shown.stdout), (option, shown.stdout[-2000:])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = "binder-test"
    server = subprocess.Popen([sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
                               f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"],
                              env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "Jupyter Server did not start"
                time.sleep(0.3)
        with urllib.request.urlopen(f"{base}/voila/render/00_explorer.ipynb?token={token}", timeout=240) as page:
            cookies = page.headers.get_all("Set-Cookie") or []
            html = page.read().decode()
        assert any(cookie.startswith("_xsrf=") for cookie in cookies)  # the page's goodbye is accepted
        assert "window.cnnwEarlyPad" in html  # a pad to draw on while the kernel starts
        assert "navigator.sendBeacon" in html  # the second goodbye
        (tmp_path / "page.html").write_text(html)
        assert "cdn.jsdelivr.net" not in html  # nothing from a CDN
        assert "application/vnd.jupyter.widget-view+json" in html  # the Explorer ran
    finally:
        stop_process_group(server)
