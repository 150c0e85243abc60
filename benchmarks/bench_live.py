"""Benchmark of the live path with the network in the browser (issue 20).

Prints, in this one run, with the load average beside every figure:
  * kernel side (in this process, the embedded model): widget messages and bytes the
    kernel sends per stroke frame for the live views, browser path against the kernel
    path; kernel CPU per stroke frame and per pen-up; bytes of one more stroke after 1
    and after 500 strokes (issue 21);
  * with --class-pages N: N - 1 pages of the pad and live views drawing by themselves on one
    Voila (each its kernel) while the Explorer page is measured with the real mouse;
  * a simulated class: 20 pads (20 sessions, each its pad, grids, dense view and bars)
    drawing at once in one process at 30 stroke frames a second each: kernel CPU per
    stroke frame, how many frames the latest-wins runners merged, and widget messages
    per frame (bounded: --class-seconds);
  * in Chromium with the real mouse, the Explorer in Voila (cnn-widgets serve's options),
    locally and through a proxy that holds every chunk 60 ms each way: pointer move →
    every view repainted + 1 frame, median and p95, browser path against the kernel
    path (the same Explorer with the browser network turned off), and the kernel's
    widget messages (comm_msg) per stroke frame counted on the page's websocket.

Run from the repository root: ``python benchmarks/bench_live.py [--quick] [--no-browser]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DELAY = 0.060  # the proxy's hold, each way, seconds
TARGET_MS = 37.0  # one frame (16.7 ms) + 20 ms

#: The Explorer with the browser network turned off: the kernel path, for the baseline.
KERNEL_PATH_EXPLORER = """\
from cnn_widgets import Explorer, Session
from cnn_widgets.widgets.live import browser_network

session = Session()
browser_network._NETWORKS[session] = "turned off for the benchmark's baseline"
Explorer(session)
"""


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


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


def _explorer(browser: bool):
    from cnn_widgets import Explorer, Session
    from cnn_widgets.widgets.live import browser_network

    session = Session()
    if not browser:
        browser_network._NETWORKS[session] = "turned off for the baseline"
    return Explorer(session)


def kernel_figures(quick: bool, log: list[tuple[str, int]]) -> None:
    frames = 40 if quick else 120
    print(f"kernel: one stroke frame (the pad's message → every view updated), Explorer, {frames} frames  [{load()}]")
    for browser in (False, True):
        explorer = _explorer(browser)
        pad = explorer.pad

        def send(points, start=False, end=False, stroke_id="bench"):
            pad.canvas._handle_custom_msg({"type": "stroke", "id": stroke_id, "width": 20, "points": points,
                                           "start": start, "end": end}, [])

        send([40.0, 40.0], start=True)
        pad.wait(10)
        live_ids = {pad.preview.model_id, pad.picture.model_id, explorer.probabilities.bars.model_id,
                    explorer.probabilities.label.model_id}
        for view in [*explorer.grids, explorer.dense]:
            live_ids |= {view.picture.image.model_id, view.title.model_id, view.hover_label.model_id}
        for view in [pad, *explorer.grids, explorer.dense, explorer.probabilities]:
            if getattr(view, "browser", None) is not None:
                live_ids.add(view.browser.model_id)
        counts, sizes, cpu, live_counts = [], [], [], []
        for i in range(frames):
            mark = len(log)
            begin = time.process_time()
            x, y = 40 + (i * 13) % 200, 40 + (i * 7) % 200
            send([float(x - 3), float(y - 2), float(x), float(y)])
            pad.wait(10)
            cpu.append((time.process_time() - begin) * 1000)
            counts.append(len(log) - mark)
            live_counts.append(sum(1 for comm_id, _ in log[mark:] if comm_id in live_ids))
            sizes.append(sum(size for _, size in log[mark:]))
            time.sleep(0.035)  # beyond the frame budget: every frame is computed
        mark = len(log)
        begin = time.process_time()
        send([], end=True)
        pad.wait(10)
        up_cpu, up_count = (time.process_time() - begin) * 1000, len(log) - mark
        name = "browser path" if browser else "kernel path (today)"
        print(f"  {name:20s} per frame: {statistics.mean(live_counts):.2f} widget messages from the live views "
              f"(pad, grids, dense, bars), {statistics.median(counts):.0f} from the whole Explorer, "
              f"{statistics.median(sizes) / 1024:.1f} KiB, kernel CPU median {statistics.median(cpu):.1f} ms "
              f"p95 {percentile(cpu, 95):.1f} ms; pen-up: {up_count} messages, CPU {up_cpu:.1f} ms  [{load()}]")
        explorer.close()

    # -- stroke sync: bytes of one more stroke after 1 and after 500 -----------------------
    from cnn_widgets import DigitPad

    pad = DigitPad()
    sizes = {}
    for k in range(500):
        mark = len(log)
        pad.canvas._handle_custom_msg({"type": "stroke", "id": f"s{k:03d}", "width": 20,
                                       "points": [40.0 + k % 200, 40.0, 60.0 + k % 200, 200.0], "start": True,
                                       "end": True}, [])
        if k in (0, 499):
            sizes[k + 1] = sum(size for comm_id, size in log[mark:] if comm_id == pad.canvas.model_id)
    pad.close()
    print(f"  stroke sync: bytes to the browser for one more stroke after 1 stroke {sizes[1]} B, after 500 "
          f"{sizes[500]} B (ratio {sizes[500] / sizes[1]:.2f}; was the whole drawing each time)  [{load()}]")


def class_figures(seconds: float, log: list[tuple[str, int]], pads: int = 20) -> None:
    """20 pads drawing at once in one process: kernel CPU per stroke frame, merged frames."""
    from cnn_widgets import DenseView, DigitPad, MapGrid, ProbabilityBars, Session
    from cnn_widgets.model import CNNModel

    model = CNNModel.default()
    rigs = []
    for _ in range(pads):
        session = Session(model)
        pad = DigitPad(session)
        views = [MapGrid(session, name) for name in model.spatial_layers] + [DenseView(session),
                                                                             ProbabilityBars(session)]
        rigs.append((session, pad, views))
    sent = [0] * pads

    def draw(k: int, stop: float) -> None:
        pad = rigs[k][1]
        i = 0
        pad.canvas._handle_custom_msg({"type": "stroke", "id": f"c{k}", "width": 20, "points": [40.0, 40.0],
                                       "start": True}, [])
        while time.perf_counter() < stop:
            x, y = 40 + (i * 13 + 7 * k) % 200, 40 + (i * 7 + 3 * k) % 200
            pad.canvas._handle_custom_msg({"type": "stroke", "id": f"c{k}", "width": 20,
                                           "points": [float(x), float(y)]}, [])
            sent[k] += 1
            i += 1
            time.sleep(1 / 30)

    done0 = sum(rig[1].live.runner.done for rig in rigs)
    mark = len(log)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    stop = wall0 + seconds
    threads = [threading.Thread(target=draw, args=(k, stop)) for k in range(pads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for rig in rigs:
        rig[1].wait(30)
    cpu, wall = (time.process_time() - cpu0) * 1000, (time.perf_counter() - wall0)
    frames = sum(sent)
    computed = sum(rig[1].live.runner.done for rig in rigs) - done0
    views = {v.picture.image.model_id for rig in rigs for v in rig[2] if hasattr(v, "picture")}
    view_messages = sum(1 for comm_id, _ in log[mark:] if comm_id in views)
    print(f"class: {pads} pads drawing at once in one process, 30 stroke frames/s each, {wall:.1f} s: "
          f"{frames} frames, {computed} forward passes ({frames - computed} merged by latest-wins), "
          f"kernel CPU {cpu / max(frames, 1):.2f} ms per stroke frame ({cpu / 1000 / wall:.2f} cores busy), "
          f"live-view widget messages per frame {view_messages / max(frames, 1):.2f}  [{load()}]")
    for session, pad, views in rigs:
        session.close()


def browser_figures(quick: bool) -> None:
    from tests.browser.conftest import CHROMIUM_ARGS, CHROMIUM_CANDIDATES, VoilaServer, write_notebook
    from tests.browser.pages import (KERNEL_REPAINTED, REPAINTED, clear, stroke_latencies, summary,
                                     wait_for_explorer)
    from tests.browser.proxy import DelayProxy
    from tests.browser.test_live_views import comm_messages

    executable = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    if executable is None:
        print("browser: Chromium is not installed; skipped")
        return
    from playwright.sync_api import sync_playwright

    from cnn_widgets.delivery.dashboard import dashboard_notebook
    from cnn_widgets.delivery.server import VOILA_OPTION

    moves = 30 if quick else 60
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as home, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        folder = Path(home) / "notebooks"
        folder.mkdir()
        dashboard_notebook(folder / "explorer.ipynb")
        write_notebook(folder / "kernel_path.ipynb", KERNEL_PATH_EXPLORER)
        server = VoilaServer(folder, Path(home), extra=(VOILA_OPTION,))
        try:
            with DelayProxy(server.port, DELAY) as proxy:
                for notebook, selector, name in (("kernel_path.ipynb", KERNEL_REPAINTED, "kernel path (today)"),
                                                 ("explorer.ipynb", REPAINTED, "browser path")):
                    for where, base in (("local", None), ("60 ms away", proxy.url)):
                        page = browser.new_page(viewport={"width": 1500, "height": 1100})
                        page.route("**/*", lambda route: route.continue_()
                                   if route.request.url.startswith("http://127.0.0.1") else route.abort())
                        frames: list[bytes] = []
                        page.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(
                            p.encode() if isinstance(p, str) else bytes(p))))
                        page.goto(server.page(notebook, base))
                        wait_for_explorer(page, 240_000)
                        clear(page)
                        page.wait_for_timeout(1500)
                        import tests.browser.pages as pages

                        saved = pages.REPAINTED
                        pages.REPAINTED = selector
                        mark = len(frames)
                        samples = stroke_latencies(page, moves=moves)
                        pages.REPAINTED = saved
                        results[f"{name}, {where}"] = {**summary(samples), "messages": comm_messages(frames[mark:])
                                                       / (len(samples) + 2), "load": load()}
                        page.close()
        finally:
            server.stop()
            browser.close()
    print(f"browser: pointer move → every view repainted + 1 frame, Explorer in Voila, real mouse, {moves} moves "
          f"(target p95 ≤ {TARGET_MS:.0f} ms)")
    for where in ("local", "60 ms away"):
        base = results[f"kernel path (today), {where}"]
        for name in ("kernel path (today)", "browser path"):
            figures = results[f"{name}, {where}"]
            ratio = base["p95_ms"] / figures["p95_ms"] if figures["p95_ms"] == figures["p95_ms"] else float("nan")
            print(f"  {where:10s} {name:20s} median {figures['median_ms']:6.1f} ms  p95 {figures['p95_ms']:6.1f} ms"
                  f"  lost {figures['lost']}  kernel widget messages per stroke frame {figures['messages']:.2f}"
                  + (f"  (kernel p95 / browser p95 {ratio:.1f}×)" if name == "browser path" else "")
                  + f"  [{figures['load']}]")


# Draws in a pad page by itself for `ms`: strokes of 40 points, one pointer event per frame,
# through the pad's own listeners (a student drawing), while another page is measured.
_SCRIBBLE = """(ms) => {
  const c = document.querySelector('canvas.cnnw-pad-canvas');
  const r = c.getBoundingClientRect();
  const fire = (type, x, y) => c.dispatchEvent(new PointerEvent(type, {pointerId: 9, pointerType: 'pen',
    isPrimary: true, bubbles: true, button: 0, buttons: type === 'pointerup' ? 0 : 1,
    clientX: r.left + x, clientY: r.top + y}));
  const end = performance.now() + ms;
  let i = 0, down = false;
  const step = () => {
    const k = i % 40, x = 30 + 5 * k, y = 40 + 40 * (Math.floor(i / 40) % 5);
    i += 1;
    if (performance.now() > end) { if (down) fire('pointerup', x, y); return; }
    if (k === 0) { if (down) fire('pointerup', x, y); fire('pointerdown', x, y); down = true; }
    else fire('pointermove', x, y);
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}"""


def class_browser_figures(pads: int, quick: bool) -> None:
    """A class on one server: ``pads`` - 1 pages drawing by themselves while the Explorer page
    is measured with the real mouse (repaint p95 against the same page drawing alone)."""
    from tests.browser.conftest import (CHROMIUM_ARGS, CHROMIUM_CANDIDATES, LIVE_NOTEBOOK, VoilaServer,
                                        write_notebook)
    from tests.browser.pages import stroke_latencies, summary, wait_for_explorer, wait_for_pad

    executable = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    if executable is None:
        return
    from playwright.sync_api import sync_playwright

    from cnn_widgets.delivery.dashboard import dashboard_notebook
    from cnn_widgets.delivery.server import VOILA_OPTION

    moves = 30 if quick else 60
    with tempfile.TemporaryDirectory() as home, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        folder = Path(home) / "notebooks"
        folder.mkdir()
        dashboard_notebook(folder / "explorer.ipynb")
        write_notebook(folder / "live.ipynb", LIVE_NOTEBOOK)
        server = VoilaServer(folder, Path(home), extra=(VOILA_OPTION,))
        try:
            measured = browser.new_page(viewport={"width": 1500, "height": 1100})
            measured.goto(server.page("explorer.ipynb"))
            wait_for_explorer(measured, 240_000)
            alone = summary(stroke_latencies(measured, moves=moves))
            alone_load = load()
            others = []
            for _ in range(pads - 1):
                page = browser.new_page(viewport={"width": 900, "height": 700})
                page.goto(server.page("live.ipynb"))
                others.append(page)
            for page in others:
                wait_for_pad(page, 600_000)
            for page in others:
                page.evaluate(_SCRIBBLE, 120_000)
            measured.bring_to_front()
            together = summary(stroke_latencies(measured, moves=moves))
            together_load = load()
            for page in others:
                page.close()
            measured.close()
        finally:
            server.stop()
            browser.close()
    print(f"class: one server, {pads - 1} pages drawing by themselves (their strokes to their own kernels) while "
          f"the Explorer page is measured, {moves} real-mouse moves (pointer move → every view repainted + 1 frame)")
    print(f"  drawing alone        median {alone['median_ms']:6.1f} ms  p95 {alone['p95_ms']:6.1f} ms  lost "
          f"{alone['lost']}  [{alone_load}]")
    print(f"  with {pads - 1:2d} drawing too  median {together['median_ms']:6.1f} ms  p95 {together['p95_ms']:6.1f} ms"
          f"  lost {together['lost']}  (p95 together / alone {together['p95_ms'] / alone['p95_ms']:.2f})"
          f"  [{together_load}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-kernel", action="store_true", help="only the browser figures")
    parser.add_argument("--class-seconds", type=float, default=5.0, help="how long the simulated class draws")
    parser.add_argument("--class-pages", type=int, default=0,
                        help="also a class of this many pages (kernels) on one server; 0: skip (each is ~700 MB)")
    args = parser.parse_args()
    if not args.no_kernel:
        log = record_messages()
        kernel_figures(args.quick, log)
        class_figures(args.class_seconds, log)
    if not args.no_browser:
        browser_figures(args.quick)
        if args.class_pages > 1:
            class_browser_figures(args.class_pages, args.quick)


if __name__ == "__main__":
    main()
