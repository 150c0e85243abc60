"""Real-browser fixtures: Voila on 127.0.0.1 and Debian's Chromium driven by Playwright.

One Voila serves, for the whole test session, a folder of every notebook the browser
tests open (:data:`NOTEBOOKS`); each page is a fresh kernel, shut down when the page's
test ends. Every test here is ``slow``.

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
from typing import Callable, Iterator

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
HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before xdist's, which puts the group into the node id
def pytest_collection_modifyitems(config, items) -> None:
    """Every test in this folder is slow (a browser, a server, kernels). Under pytest-xdist
    (``--dist loadgroup``) the pages run on one worker, so one Voila serves them; the deck
    goes with the other users of the slides notebook's one run (group ``slides``)."""
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if HERE in path.parents:
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("slides" if path.name == "test_slides.py" else "browser"))


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
    """Voila serving one notebook, or a folder of them, on 127.0.0.1 in its own process group.

    A folder's notebook ``name`` is at :meth:`page` ``(name)``; a notebook alone at :attr:`url`.
    """

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
            cwd=notebook if notebook.is_dir() else notebook.parent, env=env, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
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

    def page(self, name: str, base: str | None = None) -> str:
        """The URL of notebook ``name`` of the folder this server serves (``base``: the
        server's address as the page sees it, e.g. a proxy's)."""
        return f"{base or self.url}voila/render/{name}"

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
    """A fresh context whose requests may only reach 127.0.0.1; close it with :func:`close_page`."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
                  else route.abort())
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    return context, page


# What Voila's page asks on `beforeunload` (which closing a browser context never runs):
# shut down this page's kernel. Resolves with the HTTP status, or null on a page that is
# no Voila page (or has no kernel yet).
_SHUTDOWN_KERNEL = """async () => {
  const data = document.getElementById('jupyter-config-data');
  if (!data) return null;
  const config = JSON.parse(data.textContent);
  if (!config.kernelId) return null;
  const xsrf = (document.cookie.match(/\\b_xsrf=([^;]*)/) || [])[1];
  const answer = await fetch(config.baseUrl + 'voila/api/shutdown/' + config.kernelId,
                             {method: 'POST', headers: xsrf ? {'X-XSRFToken': decodeURIComponent(xsrf)} : {}});
  return answer.status;
}"""


def close_page(context, page) -> None:
    """Shut down the page's kernel (the server runs for the whole session), then close the context."""
    try:
        status = page.evaluate(_SHUTDOWN_KERNEL)
    finally:
        context.close()
    assert status in (None, 204), f"the page's kernel was not shut down (HTTP {status})"


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

#: Strokes set in Python before the page opens (a 7): what a page that opens late shows.
PAD_STROKES = [(22, [(60, 60), (220, 60), (120, 240)])]

LAB_NOTEBOOK = """\
from cnn_widgets import TrainingLab
lab = TrainingLab(epochs=1, images=2000, batch_size=100)
lab
"""

#: The pad, the probabilities, TrainingLab and FiltersTakeShape on one session.
SHARED_NOTEBOOK = """\
import ipywidgets as widgets
from cnn_widgets import DigitPad, FiltersTakeShape, ProbabilityBars, Session, TrainingLab
session = Session()
pad = DigitPad(session)
lab = TrainingLab(session, epochs=3, batch_size=128)  # the embedded model trains on: long enough to draw meanwhile
shapes = FiltersTakeShape(session, steps=40)
widgets.VBox([widgets.HBox([pad, ProbabilityBars(session)]), lab, shapes])
"""

#: The Explorer in a column 700 px wide, as in a narrow JupyterLab panel (what does not fit is cut).
COLUMN_NOTEBOOK = """\
import ipywidgets as widgets
from cnn_widgets import Explorer
column = widgets.VBox([Explorer()], layout=widgets.Layout(width="700px", overflow="hidden"))
column.add_class("cnnw-column")
column
"""

#: The pad and the live views on one session: what the browser computes (tests/browser/test_live_views.py).
LIVE_NOTEBOOK = """\
import ipywidgets as widgets
from cnn_widgets import DenseView, DigitPad, MapGrid, ProbabilityBars, Session

session = Session()
pad = DigitPad(session)
grids = [MapGrid(session, "conv1"), MapGrid(session, "conv3")]
selected = widgets.HTML("none")
selected.add_class("cnnw-kernel-selection")

def _selected(change, grid=grids[0]):
    selected.value = f"{grid.layer} map {grid.map_index} cell {tuple(grid.cell)}"

grids[0].observe(_selected, ["map_index", "cell"])
widgets.VBox([widgets.HBox([pad, ProbabilityBars(session)]), widgets.HBox(grids), DenseView(session), selected])
"""

#: Every notebook the browser tests open: file name → its code cells (``explorer.ipynb``
#: is the dashboard that ``cnn-widgets serve`` writes).
NOTEBOOKS: dict[str, tuple[str, ...]] = {
    "pad.ipynb": (PAD_NOTEBOOK,),
    "pad_strokes.ipynb": (PAD_NOTEBOOK, f"pad.set_strokes({PAD_STROKES!r})"),
    "lab.ipynb": (LAB_NOTEBOOK,),
    "shared.ipynb": (SHARED_NOTEBOOK,),
    "column.ipynb": (COLUMN_NOTEBOOK,),
    "live.ipynb": (LIVE_NOTEBOOK,),
}


def write_notebook(path: Path, *cells: str) -> Path:
    """A notebook of the code ``cells`` at ``path``."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="session")
def voila(tmp_path_factory) -> Iterator[VoilaServer]:
    """One Voila for the session, serving a folder of the dashboard and :data:`NOTEBOOKS`."""
    from cnn_widgets.delivery.dashboard import dashboard_notebook

    chromium()  # skip before starting anything when there is no browser
    home = tmp_path_factory.mktemp("voila-home")
    folder = home / "notebooks"
    folder.mkdir()
    dashboard_notebook(folder / "explorer.ipynb")
    for name, cells in NOTEBOOKS.items():
        write_notebook(folder / name, *cells)
    # No _xsrf cookie reaches Voila's pages, so a POST from the page (the kernel's shutdown,
    # Voila's own on `beforeunload` included) is refused (403) unless the check is off.
    server = VoilaServer(folder, home, extra=(VOILA_OPTION, '--Voila.tornado_settings={"disable_check_xsrf": True}'))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page_of(browser, voila) -> Iterator[Callable[[str], object]]:
    """``page_of(name, base=None)``: a fresh page of notebook ``name`` (through ``base``, e.g. a
    proxy's address), closed, kernel and all, after the test."""
    opened = []

    def open_(name: str, base: str | None = None):
        context, page = open_page(browser, voila.page(name, base))
        opened.append((context, page))
        return page

    yield open_
    for context, page in opened:
        close_page(context, page)


@pytest.fixture(scope="module")
def remote_voila(voila) -> Iterator[object]:
    """The session's Voila behind a proxy that holds every chunk 60 ms each way (a remote kernel)."""
    from .proxy import DelayProxy

    with DelayProxy(voila.port, delay=0.060) as proxy:
        yield proxy


@pytest.fixture
def pad_page(page_of):
    """A fresh page with the pad on screen."""
    from .pages import wait_for_pad

    page = page_of("pad.ipynb")
    wait_for_pad(page)
    return page


@pytest.fixture
def explorer_page(page_of):
    """A fresh page with the Explorer on screen (pad and every map grid drawn)."""
    from .pages import wait_for_explorer

    page = page_of("explorer.ipynb")
    wait_for_explorer(page)
    return page


def save_screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
