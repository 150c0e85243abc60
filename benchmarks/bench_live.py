"""Benchmark of the live drawing path (issue: draw and see).

Prints, measured in this one run on the embedded model:
  * kernel cost of one stroke update (pointer event → every view re-rendered),
    median and p95, against a naive update (``keras.Model.predict`` per event);
  * bytes sent per map-grid update, per layer;
  * backlog after a flood of 200 pointer events per second for 10 s;
  * in Chromium (if installed): pointer move → every view repainted, median and
    p95, served as ``cnn-widgets serve`` serves it, against stock Voila settings.

Run from the repository root: ``python benchmarks/bench_live.py [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


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
    import numpy as np

    log = record_messages()
    from cnn_widgets import Explorer
    from cnn_widgets.preprocess import to_mnist
    from cnn_widgets.render import mosaic, to_png

    explorer = Explorer()
    pad, canvas = explorer.pad, explorer.pad.canvas

    def event(name: str, x: float, y: float) -> None:
        canvas._handle_frontend_event(canvas, {"event": name, "x": x, "y": y}, [])

    # -- update cost per stroke ------------------------------------------------
    event("mouse_down", 40, 40)
    pad.updates.wait(5)
    costs = []
    moves = 60 if quick else 200
    for i in range(moves):
        start = time.perf_counter()
        event("mouse_move", 40 + (i * 13) % 200, 40 + (i * 7) % 200)
        pad.updates.wait(5)
        costs.append((time.perf_counter() - start) * 1000)
        time.sleep(0.035)  # beyond the 30-per-second frame budget: every move is computed
    event("mouse_up", 0, 0)

    model = explorer.model
    net = model.keras_model
    import keras

    everything = keras.Model(net.inputs[0], {layer.name: layer.output for layer in net.layers})

    def naive_update() -> None:
        image = to_mnist(pad.ink.raster)
        values = everything.predict(model.standardize(image[None, ..., None]), verbose=0)
        for name in model.spatial_layers:
            to_png(mosaic(values[name][0]).indices, "jet")

    naive = []
    for _ in range(20 if quick else 50):
        start = time.perf_counter()
        naive_update()
        naive.append((time.perf_counter() - start) * 1000)
    ours_median, naive_median = statistics.median(costs), statistics.median(naive)
    print("kernel cost of one stroke update (event → all views rendered and sent)")
    print(f"  cnn_widgets        median {ours_median:6.2f} ms   p95 {percentile(costs, 95):6.2f} ms")
    print(f"  naive predict()    median {naive_median:6.2f} ms   p95 {percentile(naive, 95):6.2f} ms"
          f"   → {naive_median / ours_median:.1f}× slower")

    # -- bytes per grid update ---------------------------------------------------
    print("bytes per map-grid update (one message: the mosaic PNG), drawn digit")
    for grid in explorer.grids:
        picture_id = grid.picture.image.model_id
        sizes = [size for comm_id, size in log if comm_id == picture_id][-20:]
        print(f"  {grid.layer:6s} median {statistics.median(sizes):6.0f} B   max {max(sizes):6.0f} B"
              f"   (budget 16384 B)")

    # -- flood -------------------------------------------------------------------
    seconds = 3 if quick else 10
    pad.clear()
    pad.updates.wait(5)
    done0, dropped0, submitted0 = pad.updates.done, pad.updates.dropped, pad.updates.submitted
    event("mouse_down", 20, 20)
    most_pending = 0
    start = time.perf_counter()
    for i in range(200 * seconds):
        target = start + i / 200
        while time.perf_counter() < target:
            time.sleep(0.0005)
        event("mouse_move", 20 + (i * 7) % 240, 20 + (i * 3) % 240)
        most_pending = max(most_pending, int(pad.updates.pending))
    flood_end = time.perf_counter()
    pad.updates.wait(10)
    drain_ms = (time.perf_counter() - flood_end) * 1000
    event("mouse_up", 0, 0)
    done = pad.updates.done - done0
    naive_backlog = max(0.0, 200 * seconds * naive_median / 1000 - seconds)
    print(f"flood: {200 * seconds} pointer events at 200/s for {seconds} s")
    print(f"  updates run {done} ({done / seconds:.0f}/s), merged {pad.updates.dropped - dropped0},"
          f" most waiting at once {most_pending}, idle {drain_ms:.0f} ms after the last event")
    print(f"  naive predict() per event would end {naive_backlog:.1f} s behind"
          f" ({200 * seconds} × {naive_median:.1f} ms)")
    print(f"  submitted {pad.updates.submitted - submitted0}")


def browser_figures(quick: bool) -> None:
    from tests.browser.conftest import CHROMIUM_ARGS, CHROMIUM_CANDIDATES, VoilaServer
    from tests.browser.pages import stroke_latencies, summary, wait_for_explorer

    executable = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    if executable is None:
        print("browser: Chromium is not installed; skipped")
        return
    from playwright.sync_api import sync_playwright

    from cnn_widgets.cli import dashboard_notebook
    from cnn_widgets.server import VOILA_OPTION

    print("browser: pointer move on the pad → every picture repainted (Chromium, Voila on 127.0.0.1)")
    results = {}
    with tempfile.TemporaryDirectory() as home, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        notebook = dashboard_notebook(Path(home) / "00_explorer.ipynb")
        for name, extra in (("cnn-widgets serve (TCP_NODELAY)", (VOILA_OPTION,)), ("stock Voila", ())):
            server = VoilaServer(notebook, Path(home), extra=extra)
            try:
                page = browser.new_page(viewport={"width": 1500, "height": 1100})
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith("http://127.0.0.1") else route.abort())
                page.goto(server.url)
                wait_for_explorer(page)
                results[name] = summary(stroke_latencies(page, moves=30 if quick else 60))
                page.close()
            finally:
                server.stop()
        browser.close()
    base = results["stock Voila"]["p95_ms"]
    for name, figures in results.items():
        print(f"  {name:32s} median {figures['median_ms']:6.1f} ms   p95 {figures['p95_ms']:6.1f} ms"
              f"   lost {figures['lost']}   stock p95 / this p95 {base / figures['p95_ms']:.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, a 3 s flood")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    kernel_figures(args.quick)
    if not args.no_browser:
        browser_figures(args.quick)


if __name__ == "__main__":
    main()
