"""The first hour with ``cnn-widgets serve``, as a newcomer meets it, in Chromium.

The command itself serves here (one per module, as a user starts it): reloading the page
frees its kernel, the page asks nothing of any other server, the pad, a grid and the tab
bar share a 1280×720 screen, and the terminal says nothing that looks like trouble. The
Explorer in a 700 px notebook column (the session's Voila) keeps every pad control
reachable and strokes land on the pad.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from ..conftest import stop_process_group
from .conftest import ARTIFACTS, _free_port, chromium
from .pages import PAD, draw_digit, wait_for_explorer, wait_for_kernel_ink, wait_for_pad

#: What the kernels of the dashboard may hold together after a reload (issue 22).
KERNEL_BUDGET_MB = 800
#: Lines that looked like trouble in serve's terminal (issue 22); none may appear.
NOISE = ("not trusted", "without encryption", "ping timeout", "No web browser found", "Traceback",
         "cannot be longer than", "403 POST")


@dataclass
class Served:
    """``cnn-widgets serve`` running in its own process group."""

    process: subprocess.Popen
    url: str
    log: Path
    external: list[str] = field(default_factory=list)

    def kernels(self) -> list[float]:
        """RSS in MB of every kernel in the server's process tree."""
        import psutil

        sizes = []
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if "ipykernel" in " ".join(child.cmdline()):
                    sizes.append(child.memory_info().rss / 2**20)
            except psutil.Error:  # a kernel that ended while we looked
                pass
        return sizes

    def page(self, browser, width: int = 1280, height: int = 720, wait_until: str = "domcontentloaded"):
        """A fresh page of the dashboard; every request to another server is failed and counted."""
        context = browser.new_context(viewport={"width": width, "height": height})

        def route(route) -> None:
            if route.request.url.startswith(self.url):
                route.continue_()
            else:
                self.external.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.goto(self.url, wait_until=wait_until, timeout=120_000)
        return context, page


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    chromium()
    home = tmp_path_factory.mktemp("serve-home")
    log = home / "serve.log"
    port = _free_port()
    env = dict(os.environ, HOME=str(home), JUPYTER_PLATFORM_DIRS="1")
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cnn_widgets.delivery.cli", "serve", "--no-browser", "--port", str(port)],
            cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"serve ended early:\n{log.read_text()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"serve did not listen:\n{log.read_text()}"
                time.sleep(0.2)
        yield Served(process, f"http://127.0.0.1:{port}/", log)
    finally:
        stop_process_group(process)


def _kernels_settled(served: Served, at_most: int, patience_s: float = 60) -> list[float]:
    """The kernels once at most ``at_most`` are left (a shutdown takes a moment), or as they
    are when ``patience_s`` ran out (the assertion then fails on them)."""
    deadline = time.monotonic() + patience_s
    while True:
        kernels = served.kernels()
        if len(kernels) <= at_most or time.monotonic() > deadline:
            return kernels
        time.sleep(0.25)


def _leave(context, page) -> None:
    """Close the tab as a user does (the page's ``beforeunload`` runs), then its context."""
    page.close(run_before_unload=True)
    context.close()


def _box(page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not on the page"
    return box


def _inside(box: dict[str, float], width: float, height: float) -> bool:
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and \
        box["y"] + box["height"] <= height


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


# True when a canvas shows no ink.
_BLANK = """(selector) => { const c = document.querySelector(selector);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 0) return false;
  return true; }"""
_PAD_BLANK = f"() => ({_BLANK})({PAD!r})"
_EARLY_BLANK = f"() => ({_BLANK})('canvas.cnnw-early-pad-canvas')"

# Texts cut by their box: elements whose content is wider than the box shows.
_CUT = """(selector) => [...document.querySelectorAll(selector)]
  .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map((e) => e.textContent.trim())"""


def test_the_first_screen_at_1280x720_holds_pad_grid_and_tabs_and_nothing_comes_from_outside(served,
                                                                                          browser):
    context, page = served.page(browser)
    try:
        wait_for_explorer(page)
        tabs = ".cnnw-explorer-tabs .lm-TabBar, .cnnw-explorer-tabs .p-TabBar"
        page.wait_for_selector(tabs)
        for selector in (PAD, ".cnnw-map-grid", tabs):  # the first grid is conv1
            box = _box(page, selector)
            assert _inside(box, 1280, 720), f"{selector} is not on the first 1280×720 screen: {box}"
        assert page.evaluate(_CUT, ".cnnw-map-grid button") == []  # "shared scale" in full
        sees, conv1 = _box(page, "text=the network sees"), _box(page, ".cnnw-grid-title")
        assert not _overlap(sees, conv1), (sees, conv1)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "explorer_1280x720.png"))
    finally:
        _leave(context, page)
    assert served.external == [], f"the page asked other servers: {sorted(set(served.external))}"


EARLY_PAD = "canvas.cnnw-early-pad-canvas"


def test_a_digit_drawn_while_the_kernel_starts_reaches_the_kernel(served, browser):
    context, page = served.page(browser, wait_until="commit")  # as the page streams in
    try:
        page.wait_for_selector(f"{EARLY_PAD}[data-ready]", state="visible", timeout=60_000)
        assert page.locator(PAD).count() == 0, "the kernel was ready first: nothing to hand over"
        draw_digit(page, 7, pad=EARLY_PAD)
        assert page.locator(PAD).count() == 0, "the kernel was ready before the digit was drawn"
        wait_for_explorer(page)
        assert page.locator(".cnnw-early-pad").count() == 0  # handed over: one pad on the page
        assert not page.evaluate(_PAD_BLANK)  # DigitPad shows the strokes drawn before it came
        wait_for_kernel_ink(page)  # ... and the kernel has them
        from playwright.sync_api import expect

        expect(page.locator(".cnnw-predicted-class").first).to_have_text("7", timeout=15_000)
    finally:
        _leave(context, page)


def test_when_the_notebook_fails_the_early_pad_says_so(browser, tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("raise RuntimeError('no dashboard today')")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["cnn_widgets"] = {"early_pad": True}  # as the dashboard's
    nbformat.write(notebook, tmp_path / "broken.ipynb")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "cnn_widgets.delivery.server", "broken.ipynb", "--no-browser",
                               f"--port={port}", "--Voila.ip=127.0.0.1"], cwd=tmp_path,
                              env=dict(os.environ, HOME=str(tmp_path), JUPYTER_PLATFORM_DIRS="1"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        deadline = time.monotonic() + 90
        while True:
            try:
                page.goto(f"http://127.0.0.1:{port}/", wait_until="commit", timeout=60_000)
                break
            except Exception:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        page.wait_for_selector(f"{EARLY_PAD}[data-ready]", state="visible", timeout=60_000)
        page.wait_for_selector(".cnnw-early-pad[data-gave-up]", timeout=120_000)
        assert "did not start" in page.locator(".cnnw-early-pad-caption").text_content()
        assert page.locator(".cnnw-early-pad-clear").is_disabled()
    finally:
        context.close()
        stop_process_group(server)


def test_a_reload_shows_the_drawing_before_the_kernel_is_back(served, browser):
    context, page = served.page(browser)
    try:
        wait_for_pad(page)
        draw_digit(page, 1)
        wait_for_kernel_ink(page)
        page.reload(wait_until="commit")
        page.wait_for_selector(f"{EARLY_PAD}[data-ready]", state="visible", timeout=60_000)
        assert not page.evaluate(_EARLY_BLANK)  # the kept strokes, drawn at once
        wait_for_explorer(page)
        wait_for_kernel_ink(page)
        assert not page.evaluate(_PAD_BLANK)
    finally:
        _leave(context, page)


def test_ten_reloads_leave_one_kernel_within_the_memory_budget(served, browser):
    context, page = served.page(browser)
    figures = []
    try:
        wait_for_pad(page)
        for reload in range(10):
            page.reload(wait_until="domcontentloaded")
            wait_for_pad(page)
            kernels = _kernels_settled(served, at_most=1, patience_s=90)  # the goodbye, or the 30 s cull
            figures.append([round(size) for size in kernels])
            assert len(kernels) <= 1, f"reload {reload + 1}: {len(kernels)} kernels alive ({figures})"
            assert sum(kernels) <= KERNEL_BUDGET_MB, f"reload {reload + 1}: kernels hold {sum(kernels):.0f} MB"
        _leave(context, page)
        assert _kernels_settled(served, at_most=0, patience_s=120) == [], "the tab closed, its kernel stays"
    finally:
        context.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "kernels_after_reloads.json").write_text(json.dumps({"kernel_rss_mb": figures}))
    assert served.external == []


def test_the_terminal_says_where_and_nothing_that_looks_like_trouble(served):
    text = served.log.read_text()
    assert f"serving the dashboard at {served.url}" in text
    assert [line for line in text.splitlines() if any(noise in line for noise in NOISE)] == []


# ------------------------------------------------------------------ a 700 px notebook column
# Links and buttons of the pad: every one must be the element a click at its centre reaches.
_REACHABLE = """(selector) => [...document.querySelectorAll(selector)].map((e) => {
  e.scrollIntoView({block: 'center', inline: 'center'});
  const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  return {what: e.outerHTML.slice(0, 80), left: r.left, right: r.right,
          reachable: r.width > 0 && hit !== null && (hit === e || e.contains(hit) || hit.contains(e))};
})"""


def test_in_a_700px_column_every_pad_control_is_reachable_and_strokes_land_on_the_pad(page_of):
    page = page_of("column.ipynb")
    wait_for_explorer(page)
    column = _box(page, ".cnnw-column")
    assert column["width"] == pytest.approx(700, abs=1)
    controls = page.evaluate(_REACHABLE, ".cnnw-digit-pad button, .cnnw-digit-pad select, "
                                         ".cnnw-digit-pad input, " + PAD)
    assert len(controls) >= 5  # brush, undo, clear, sample, load and the pad
    for control in controls:
        assert control["reachable"], f"not reachable in a 700 px column: {control}"
        assert column["x"] - 1 <= control["left"] and control["right"] <= column["x"] + column["width"] + 1, control
    assert page.evaluate(_CUT, ".cnnw-column .cnnw-map-grid button") == []
    page.locator(".cnnw-clear").first.click()
    draw_digit(page, 7)
    wait_for_kernel_ink(page)  # the kernel has what the pad shows: the strokes landed on the pad
    from playwright.sync_api import expect

    expect(page.locator(".cnnw-predicted-class").first).to_have_text("7", timeout=15_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "explorer_700px_column.png"), full_page=True)
