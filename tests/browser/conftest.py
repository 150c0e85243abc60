"""Real-browser fixtures: Voila on 127.0.0.1 and Debian's Chromium driven by Playwright.

Without Chromium the browser tests are skipped, except where CNN_WIDGETS_REQUIRE_BROWSER
is set (CI sets it, after installing Chromium), where that is a failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from cnn_widgets.delivery.server import VOILA_OPTION

from ..conftest import REPO, mnist_file

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(os.environ.get("CNN_WIDGETS_ARTIFACTS", REPO / "artifacts"))


def chromium() -> str:
    found = next((path for path in CHROMIUM_CANDIDATES if os.access(path, os.X_OK)), None)
    if found is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CNN_WIDGETS_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class VoilaServer:
    """Voila serving one notebook on 127.0.0.1 in its own process group."""

    def __init__(self, notebook: Path, home: Path, extra: tuple[str, ...] = (VOILA_OPTION,)) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = home / "voila.log"
        env = dict(os.environ, HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2", JUPYTER_PLATFORM_DIRS="1")
        data = mnist_file()
        if data is not None:
            env["CNN_WIDGETS_MNIST"] = str(data)
        self._log = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={self.port}",
             "--Voila.ip=127.0.0.1", "--Voila.port_retries=0", "--Voila.token=", "--show_tracebacks=True",
             *extra],
            cwd=notebook.parent, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Voila exited early:\n{self.log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Voila did not listen within 90 s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory) -> Iterator["object"]:
    executable = chromium()
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, url: str):
    """A fresh context whose requests may only reach 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
                  else route.abort())
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    return context, page


@pytest.fixture(scope="module")
def explorer_server(tmp_path_factory) -> Iterator[VoilaServer]:
    from cnn_widgets.delivery.cli import dashboard_notebook

    chromium()  # skip before starting anything when there is no browser
    home = tmp_path_factory.mktemp("voila-home")
    notebook = dashboard_notebook(home / "00_explorer.ipynb")
    server = VoilaServer(notebook, home)
    try:
        yield server
    finally:
        server.stop()


#: A notebook with the pad alone, the embedded model following it and its prediction:
#: what the pad's browser tests need, independent of the Explorer's layout.
PAD_NOTEBOOK = """\
import ipywidgets as widgets
from cnn_widgets import DigitPad, Session

session = Session()
pad = DigitPad(session)
prediction = widgets.HTML("-")
prediction.add_class("cnnw-pad-prediction")

def _predicted(change):
    prediction.value = str(session.model.class_names[int(change["new"].argmax())])

session.live.observe(_predicted, "probabilities")
widgets.VBox([pad, prediction])
"""


def pad_notebook(path: Path, *more: str) -> Path:
    """Write :data:`PAD_NOTEBOOK` (then the cells ``more``) to ``path``."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in (PAD_NOTEBOOK, *more)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def pad_server(tmp_path_factory) -> Iterator[VoilaServer]:
    chromium()
    home = tmp_path_factory.mktemp("voila-pad")
    server = VoilaServer(pad_notebook(home / "pad.ipynb"), home)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def remote_pad(pad_server) -> Iterator[object]:
    """The pad server behind a proxy that holds every chunk 60 ms each way (a remote kernel)."""
    from .proxy import DelayProxy

    with DelayProxy(pad_server.port, delay=0.060) as proxy:
        yield proxy


@pytest.fixture
def pad_page(browser, pad_server):
    """A fresh page with the pad on screen."""
    from .pages import wait_for_pad

    context, page = open_page(browser, pad_server.url)
    try:
        wait_for_pad(page)
        yield page
    finally:
        context.close()


@pytest.fixture
def explorer_page(browser, explorer_server):
    """A fresh page with the Explorer on screen (pad and every map grid drawn)."""
    from .pages import wait_for_explorer

    context, page = open_page(browser, explorer_server.url)
    try:
        wait_for_explorer(page)
        yield page
    finally:
        context.close()


def save_screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
