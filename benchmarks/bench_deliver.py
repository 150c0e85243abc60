"""Benchmark of delivery: start-up time and kernel memory, as a Binder user meets them.

Prints:
  * ``cnn-widgets serve`` → the page's own pad to draw on (while the kernel starts), → the
    live pad (DigitPad), and → every map grid on screen, in Chromium
    (p95 of ``--runs`` starts, with the load average), and the terminal's lines other
    than serve's own;
  * the RSS of a **Voila kernel** running the dashboard (with the Python given by
    ``--binder-python``, which should have ``tensorflow-cpu`` as on Binder): opened,
    after drawing, every tab, atlases of every layer, FCP on every layer, and the
    spread over ten repeated atlases (the tour of ``tour.py``, run inside that kernel);
  * the same tour in a plain Python process with this interpreter (the full
    ``tensorflow`` wheel).

Budgets (issue 10): start-up ≤ 10 s on 2 cores; dashboard open ≤ 700 MB, after the
tour ≤ 800 MB, ten repeated atlases within ±20 MB. Ratios are against the budgets.

Linux only (reads /proc). Run from the repository root::

    python benchmarks/bench_deliver.py [--binder-python .venv-cpu/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _browser(playwright):
    from tests.browser.conftest import CHROMIUM_ARGS, CHROMIUM_CANDIDATES

    executable = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    if executable is None:
        sys.exit("Chromium is not installed (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


def _page(browser, url: str):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.route("**/*", lambda route: route.continue_()
               if route.request.url.startswith("http://127.0.0.1") else route.abort())
    deadline = time.monotonic() + 120
    while True:
        try:
            page.goto(url, wait_until="commit", timeout=120_000)  # Voila streams the page
            return page
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def startup(python: str, runs: int) -> dict[str, list[float]]:
    """Seconds from ``cnn-widgets serve`` to a drawable pad and to every grid drawn, per start
    (a fresh server each, the browser asking from the first moment, as ``serve`` opening it does)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.pages import wait_for_explorer, wait_for_pad

    times: dict[str, list[float]] = {"early": [], "pad": [], "grids": [], "loads": []}
    noise: list[str] = []
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        for _ in range(runs):
            port, home = _free_port(), tempfile.mkdtemp()
            log = Path(home) / "serve.log"
            env = dict(os.environ, HOME=home)
            env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user has it
            start = time.perf_counter()
            with log.open("w") as out:
                server = subprocess.Popen([python, "-m", "cnn_widgets.delivery.cli", "serve", "--no-browser", "--port",
                                           str(port)], cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)
            try:
                page = _page(browser, f"http://127.0.0.1:{port}/")
                page.wait_for_selector("canvas.cnnw-early-pad-canvas[data-ready]", state="visible", timeout=120_000)
                times["early"].append(time.perf_counter() - start)
                wait_for_pad(page)
                times["pad"].append(time.perf_counter() - start)
                wait_for_explorer(page)
                times["grids"].append(time.perf_counter() - start)
                times["loads"].append(os.getloadavg()[0])
                page.close()
            finally:
                _stop(server)
            noise += [line for line in log.read_text().splitlines()
                      if line.strip() and not line.startswith("cnn-widgets:")]
        browser.close()
    print(f"  lines in serve's terminal other than its own: {len(noise)}"
          + (f" (e.g. {noise[0][:80]})" if noise else ""))
    return times


_TOUR_CELL = """\
import json, sys
sys.path.insert(0, {benchmarks!r})
from tour import tour
from IPython.display import display, HTML
lines = []
figures = tour(explorer, lambda name, value: lines.append(f"{{name}}: {{value}}"))
display(HTML('<pre class="bench-result">' + json.dumps(figures) + '</pre>'))
"""


def voila_tour(python: str) -> dict:
    """The tour inside a Voila kernel serving the dashboard, the page open in Chromium."""
    import nbformat
    from playwright.sync_api import sync_playwright

    from cnn_widgets.delivery.server import VOILA_OPTION

    folder = Path(tempfile.mkdtemp())
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("from cnn_widgets import Explorer\nexplorer = Explorer()\nexplorer"),
                      nbformat.v4.new_code_cell(_TOUR_CELL.format(benchmarks=str(REPO / "benchmarks")))]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "tour.ipynb")
    port = _free_port()
    env = dict(os.environ, HOME=str(folder))
    server = subprocess.Popen([python, "-m", "voila", "tour.ipynb", "--no-browser", f"--port={port}",
                               "--Voila.ip=127.0.0.1", "--Voila.port_retries=0", "--Voila.token=", VOILA_OPTION,
                               "--MappingKernelManager.cull_idle_timeout=0"],
                              cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        with sync_playwright() as playwright:
            browser = _browser(playwright)
            page = _page(browser, f"http://127.0.0.1:{port}/")
            result = page.locator("pre.bench-result")
            result.wait_for(timeout=600_000)
            figures = json.loads(result.inner_text())
            browser.close()
    finally:
        _stop(server)
    return figures


def plain_tour() -> dict:
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "tour.py")], capture_output=True, text=True,
                         check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _print_tour(title: str, figures: dict) -> None:
    print(title)
    for name in ("dashboard open", "after drawing", "every tab opened", "atlases of every layer", "FCP on every layer"):
        budget = 700 if name == "dashboard open" else 800
        print(f"  {name:28s} {figures[name]:5d} MB   ({figures[name] / budget:.2f} × the {budget} MB budget)")
    repeated = figures["repeated atlases"]
    print(f"  ten repeated conv3 atlases   {min(repeated)}–{max(repeated)} MB (spread {max(repeated) - min(repeated)} MB,"
          f" budget ±20)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binder-python", default=str(REPO / ".venv-cpu" / "bin" / "python"),
                        help="a Python with tensorflow-cpu and the package (default .venv-cpu)")
    parser.add_argument("--runs", type=int, default=5, help="start-up runs (default 5)")
    parser.add_argument("--startup-only", action="store_true", help="only the start-up figures")
    args = parser.parse_args()
    binder = args.binder_python if Path(args.binder_python).exists() else sys.executable
    cpu_only = subprocess.run([binder, "-c", "import importlib.metadata as m; print(m.version('tensorflow-cpu'))"],
                              capture_output=True, text=True).returncode == 0
    print(f"Binder-like Python: {binder} ({'tensorflow-cpu' if cpu_only else 'NOT tensorflow-cpu'}), {os.cpu_count()} cores")
    times = startup(binder, args.runs)
    names = {"early": "a pad to draw on (the page's own, while the kernel starts)",
             "pad": "the live pad (DigitPad, strokes go to the network)", "grids": "every grid drawn"}
    for what in names:
        print(f"  cnn-widgets serve → {names[what]}: "
              f"p95 {_p95(times[what]):.1f} s, all {', '.join(f'{t:.1f}' for t in times[what])} "
              f"({_p95(times[what]) / 10:.2f} × the 10 s budget)")
    print(f"  1-minute load average at each start's end: {', '.join(f'{x:.2f}' for x in times['loads'])}; now {_load()}")
    if args.startup_only:
        return
    _print_tour("Voila kernel, tensorflow-cpu (RSS of the kernel):", voila_tour(binder))
    plain = plain_tour()
    _print_tour(f"Plain Python process, full tensorflow wheel (python alone {plain['python']} MB, "
                f"after import tensorflow {plain['tensorflow imported']} MB):", plain)


if __name__ == "__main__":
    main()
