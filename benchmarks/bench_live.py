"""Benchmark of the live drawing path (issue: ink in the browser).

Prints, measured in this one run on the embedded model:
  * kernel cost of one stroke batch (the pad's message → every view re-rendered and
    sent), median and p95, against a naive update (``keras.Model.predict`` per batch);
  * messages and bytes the kernel sends per stroke, bytes per map-grid update;
  * backlog after a flood of 200 stroke messages per second for 10 s;
  * in Chromium (if installed), with the real mouse (Playwright ``page.mouse``), on a
    local server and through a TCP proxy that holds every chunk 60 ms each way
    (a remote kernel, as on Binder):
      - ink under the pen after a move and after a pen-down, against the old design
        measured in the same run: a pad whose ink the kernel draws (ipycanvas);
      - pointer move → every view repainted (+ one frame), against stock Voila;
      - 10,000 pointer events through the pad's own listeners: messages sent, time
        until the kernel has the final ink, and whether its picture matches the ink.

Run from the repository root: ``python benchmarks/bench_live.py [--quick] [--no-browser]``
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DELAY = 0.060  # the proxy's hold, each way, seconds

#: The old design, for the baseline: the kernel draws the ink (ipycanvas commands sent
#: back over the websocket on every pointer event), as DigitPad did before.
KERNEL_DRAWN_PAD = """\
import ipywidgets as widgets
from ipycanvas import Canvas, hold_canvas

canvas = Canvas(width=280, height=280, layout=widgets.Layout(width="280px", height="280px"))
canvas.add_class("cnnw-pad-canvas")
state = {"down": False, "last": None}

def down(x, y):
    state["down"], state["last"] = True, (x, y)
    with hold_canvas():
        canvas.fill_style = canvas.stroke_style = "#ffffff"
        canvas.line_cap = "round"
        canvas.line_width = 10
        canvas.fill_circle(x, y, 5)

def move(x, y):
    if state["down"]:
        canvas.stroke_line(*state["last"], x, y)
        state["last"] = (x, y)

def up(x, y):
    state["down"] = False

def ready():
    canvas._canvas_manager._current_canvas = None  # the workaround the old pad needed

canvas.on_mouse_down(down)
canvas.on_mouse_move(move)
canvas.on_mouse_up(up)
canvas.on_client_ready(ready)
clear = widgets.Button(description="clear")
clear.add_class("cnnw-clear")
clear.on_click(lambda _: canvas.clear())
widgets.VBox([widgets.HTML("<style>canvas.cnnw-pad-canvas{background:#000}</style>"), canvas, clear])
"""


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def record_messages() -> list[tuple[str, int]]:
    """Replace the widget comms by ones that log (comm id, message bytes)."""
    import comm
    from comm.base_comm import BaseComm

    log: list[tuple[str, int]] = []

    class Recording(BaseComm):
        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            size = len(json.dumps(data or {}, default=str)) + sum(len(b) for b in buffers or [])
            log.append((self.comm_id, size))

    comm.create_comm = lambda *args, **kwargs: Recording(*args, **kwargs)
    return log


def kernel_figures(quick: bool) -> None:
    log = record_messages()
    from cnn_widgets import Explorer
    from cnn_widgets.drawing.preprocess import to_mnist
    from cnn_widgets.render import mosaic, to_png

    explorer = Explorer()
    pad = explorer.pad

    def batch(points: list[float], start: bool = False, end: bool = False) -> None:
        pad.canvas._handle_custom_msg({"type": "stroke", "id": "bench", "width": 20, "points": points,
                                       "start": start, "end": end}, [])

    # -- update cost per stroke batch (one animation frame's points) -------------------
    batch([40, 40], start=True)
    pad.wait(5)
    costs, messages, sizes = [], [], []
    moves = 60 if quick else 200
    for i in range(moves):
        mark = len(log)
        start = time.perf_counter()
        x, y = 40 + (i * 13) % 200, 40 + (i * 7) % 200
        batch([x - 3, y - 2, x, y])
        pad.wait(5)
        costs.append((time.perf_counter() - start) * 1000)
        messages.append(len(log) - mark)
        sizes.append(sum(size for _, size in log[mark:]))
        time.sleep(0.035)  # beyond the 30-per-second frame budget: every batch is computed
    batch([], end=True)

    model = explorer.model
    net = model.keras_model
    import keras

    everything = keras.Model(net.inputs[0], {layer.name: layer.output for layer in net.layers})

    def naive_update() -> None:
        image = to_mnist(pad.drawing.ink.raster)
        values = everything.predict(model.standardize(image[None, ..., None]), verbose=0)
        for name in model.spatial_layers:
            to_png(mosaic(values[name][0]).indices, "jet")

    naive = []
    for _ in range(20 if quick else 50):
        start = time.perf_counter()
        naive_update()
        naive.append((time.perf_counter() - start) * 1000)
    ours_median, naive_median = statistics.median(costs), statistics.median(naive)
    print("kernel cost of one stroke batch (message → all views rendered and sent)")
    print(f"  cnn_widgets        median {ours_median:6.2f} ms   p95 {percentile(costs, 95):6.2f} ms")
    print(f"  naive predict()    median {naive_median:6.2f} ms   p95 {percentile(naive, 95):6.2f} ms"
          f"   → {naive_median / ours_median:.1f}× slower")
    print(f"  sent per batch: median {statistics.median(messages):.0f} messages,"
          f" {statistics.median(sizes) / 1024:.1f} KiB (the pad's own ink: 0 messages, drawn in the browser)")

    print("bytes per map-grid update (one message: the mosaic PNG), drawn digit")
    for grid in explorer.grids:
        picture_id = grid.picture.image.model_id
        grid_sizes = [size for comm_id, size in log if comm_id == picture_id][-20:]
        print(f"  {grid.layer:6s} median {statistics.median(grid_sizes):6.0f} B   max {max(grid_sizes):6.0f} B"
              f"   (budget 16384 B)")

    # -- flood -------------------------------------------------------------------
    seconds = 3 if quick else 10
    pad.clear()
    pad.wait(5)
    done0, dropped0 = pad.live.runner.done, pad.live.runner.dropped
    batch([20, 20], start=True)
    most_pending = 0
    start = time.perf_counter()
    for i in range(200 * seconds):
        target = start + i / 200
        while time.perf_counter() < target:
            time.sleep(0.0005)
        batch([20 + (i * 7) % 240, 20 + (i * 3) % 240])
        most_pending = max(most_pending, int(pad.live.runner.pending))
    flood_end = time.perf_counter()
    batch([], end=True)
    pad.wait(10)
    drain_ms = (time.perf_counter() - flood_end) * 1000
    done = pad.live.runner.done - done0
    naive_backlog = max(0.0, 200 * seconds * naive_median / 1000 - seconds)
    print(f"flood: {200 * seconds} stroke messages at 200/s for {seconds} s")
    print(f"  updates run {done} ({done / seconds:.0f}/s), merged {pad.live.runner.dropped - dropped0},"
          f" most waiting at once {most_pending}, idle {drain_ms:.0f} ms after the last message")
    print(f"  naive predict() per message would end {naive_backlog:.1f} s behind"
          f" ({200 * seconds} × {naive_median:.1f} ms)")
    explorer.close()


def _line(name: str, figures: dict[str, float], base: dict[str, float] | None = None, what: str = "") -> str:
    text = (f"  {name:44s} median {figures['median_ms']:6.1f} ms   p95 {figures['p95_ms']:6.1f} ms"
            f"   lost {figures['lost']}")
    if base is not None:
        text += f"   {what} p95 / this p95 {base['p95_ms'] / figures['p95_ms']:.1f}×"
    return text


def browser_figures(quick: bool) -> None:
    from tests.browser.conftest import (CHROMIUM_ARGS, CHROMIUM_CANDIDATES, PAD_NOTEBOOK, VoilaServer,
                                       write_notebook)
    from tests.browser.pages import (canvas_png, clear, flood, image_bytes, ink_latencies, stroke_latencies, summary,
                                     wait_for_explorer, wait_for_kernel_ink)
    from tests.browser.proxy import DelayProxy

    executable = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    if executable is None:
        print("browser: Chromium is not installed; skipped")
        return
    import nbformat
    import numpy as np
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from cnn_widgets.delivery.cli import dashboard_notebook
    from cnn_widgets.drawing.preprocess import to_mnist
    from cnn_widgets.delivery.server import VOILA_OPTION

    def pixels(png: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(png)).convert("L"), np.float32) / 255.0

    moves, downs = (30, 30) if quick else (100, 100)
    with tempfile.TemporaryDirectory() as home, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        folder = Path(home)

        def page_at(url: str, explorer: bool):
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith("http://127.0.0.1") else route.abort())
            page.goto(url)
            if explorer:
                wait_for_explorer(page)
            else:
                page.wait_for_selector("canvas.cnnw-pad-canvas", state="visible", timeout=120_000)
                page.wait_for_timeout(1000)  # the kernel-drawn pad has no ready signal of its own
            return page

        # -- ink under the pen: this pad against the kernel-drawn one -------------------
        baseline_nb = folder / "kernel_drawn.ipynb"
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(KERNEL_DRAWN_PAD)]
        nbformat.write(notebook, baseline_nb)
        ink: dict[tuple[str, str], dict[str, list]] = {}
        for name, path, ours in (("kernel-drawn ink (old pad)", baseline_nb, False),
                                     ("DigitPad, ink drawn in the browser", write_notebook(folder / "pad.ipynb", PAD_NOTEBOOK), True)):
            server = VoilaServer(path, folder, extra=(VOILA_OPTION,))
            try:
                with DelayProxy(server.port, DELAY) as proxy:
                    for where, url in (("local", server.url), ("60 ms away", proxy.url)):
                        page = page_at(url, False)
                        if ours:
                            page.wait_for_selector("canvas.cnnw-pad-canvas[data-ready]", timeout=120_000)
                        ink[(name, where)] = ink_latencies(page, moves=moves, downs=downs)
                        page.close()
            finally:
                server.stop()
        print(f"browser: ink visible under the pen (real mouse, {moves} moves, {downs} pen-downs;"
              f" event timeStamp → first frame with the pixel inked)")
        for where in ("local", "60 ms away"):
            for kind, label in (("move", "after a move"), ("down", "after a pen-down")):
                base = summary([s["ink"] for s in ink[("kernel-drawn ink (old pad)", where)][kind]])
                ours = summary([s["ink"] for s in ink[("DigitPad, ink drawn in the browser", where)][kind]])
                print(_line(f"{where:10s} {label:16s} old pad", base))
                print(_line(f"{where:10s} {label:16s} DigitPad", ours, base, "old"))

        # -- stroke → every view repainted, and the flood, on the Explorer ------------------
        explorer_nb = dashboard_notebook(folder / "00_explorer.ipynb")
        repaint: dict[str, dict[str, float]] = {}
        flood_lines = []
        for name, extra in (("stock Voila", ()), ("cnn-widgets serve (TCP_NODELAY)", (VOILA_OPTION,))):
            server = VoilaServer(explorer_nb, folder, extra=extra)
            try:
                with DelayProxy(server.port, DELAY) as proxy:
                    places = (("local", server.url),) if not extra else (("local", server.url),
                                                                         ("60 ms away", proxy.url))
                    for where, url in places:
                        page = page_at(url, True)
                        repaint[f"{name}, {where}"] = summary(stroke_latencies(page, moves=30 if quick else 60))
                        if extra:
                            clear(page)
                            wait_for_kernel_ink(page)
                            start = time.perf_counter()
                            result = flood(page, events=10_000, per_frame=200)
                            sent = time.perf_counter()
                            wait_for_kernel_ink(page, timeout_ms=60_000)
                            drained = (time.perf_counter() - sent) * 1000
                            canvas = pixels(canvas_png(page))
                            kernel = pixels(image_bytes(page, "img.cnnw-pad-ink")) > 0.5
                            drawn = canvas[::2, ::2] > 0.5
                            iou = (drawn & kernel).sum() / max((drawn | kernel).sum(), 1)
                            preview = pixels(image_bytes(page, "img.cnnw-preview"))
                            error = float(np.abs(preview - to_mnist(canvas)).mean())
                            flood_lines.append(
                                f"  {where:10s} 10,000 events in {result['ms']:.0f} ms → {result['messages']} messages"
                                f" ({10_000 / result['messages']:.0f} events each); kernel had the final ink"
                                f" {drained:.0f} ms after the last event; its picture vs the pad IoU {iou:.3f},"
                                f" image vs to_mnist(pad) mean |Δ| {error:.4f}"
                                f" (flood took {(sent - start) * 1000:.0f} ms)")
                        page.close()
            finally:
                server.stop()
        browser.close()
    print("browser: pointer move on the pad → every picture repainted + 1 frame (real mouse, Explorer in Voila)")
    base = repaint["stock Voila, local"]
    for name, figures in repaint.items():
        print(_line(name, figures, base if name != "stock Voila, local" else None, "stock"))
    print("browser: flood through the pad's own listeners (200 events per frame)")
    for line in flood_lines:
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, a 3 s flood")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-kernel", action="store_true", help="only the browser figures")
    args = parser.parse_args()
    if not args.no_kernel:
        kernel_figures(args.quick)
    if not args.no_browser:
        browser_figures(args.quick)


if __name__ == "__main__":
    main()
