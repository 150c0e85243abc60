"""Benchmark of delivery (issue: deliver it where it is used).

Starts ``cnn-widgets serve`` as a user would, opens the page in Chromium and prints:
  * time from the command to a drawable page (the pad and every map grid on screen);
  * resident memory (RSS) of the dashboard's kernel, after it opened, and after
    drawing a digit, growing an OIP atlas and opening the FCP and filter tabs
    (Binder guarantees 1 GB; our budget is 800 MB).

Linux only (reads /proc). Run from the repository root: ``python benchmarks/bench_deliver.py``
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def kernel_rss_mb(root: int) -> float:
    """RSS of the ipykernel process among the descendants of ``root``."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    family, grew = {root}, True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in family} - family
        family |= children
        grew = bool(children)
    for pid in family:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if b"ipykernel" in command:
            rss = next(line for line in status.splitlines() if line.startswith("VmRSS"))
            return int(rss.split()[1]) / 1024
    return float("nan")


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS, CHROMIUM_CANDIDATES
    from tests.browser.pages import draw_digit, wait_for_explorer

    executable = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    if executable is None:
        sys.exit("Chromium is not installed (apt-get install chromium)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = tempfile.mkdtemp()
    env = dict(os.environ, HOME=home, TF_CPP_MIN_LOG_LEVEL="2")
    start = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "cnn_widgets.cli", "serve", "--no-browser", "--port", str(port)],
                              cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith("http://127.0.0.1") else route.abort())
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
                    break
                except Exception:
                    time.sleep(0.2)
            wait_for_explorer(page)
            ready = time.perf_counter() - start
            opened = kernel_rss_mb(server.pid)
            draw_digit(page, 4)
            expect(page.locator(".cnnw-predicted-class")).to_have_text("4", timeout=15_000)
            page.locator(".cnnw-oip-explorer .widget-toggle-buttons button").nth(1).click()  # atlas
            page.locator(".cnnw-oip-run").click()
            expect(page.locator(".cnnw-oip-status")).to_contain_text("objective", timeout=120_000)
            page.locator(".cnnw-explorer-tabs .lm-TabBar-tab").nth(1).click()
            expect(page.locator(".cnnw-fcp-status")).to_contain_text("images of", timeout=60_000)
            page.locator(".cnnw-explorer-tabs .lm-TabBar-tab").nth(2).click()
            page.locator(".cnnw-filter-gallery canvas.cnnw-overlay").nth(1).click()  # a decoded filter
            expect(page.locator(".cnnw-filter-gallery")).to_contain_text("strongest cell", timeout=60_000)
            used = kernel_rss_mb(server.pid)
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)
    print("cnn-widgets serve, Chromium on 127.0.0.1")
    print(f"  command → drawable page (pad and all map grids shown)   {ready:5.1f} s")
    print(f"  kernel RSS, dashboard open                              {opened:5.0f} MB")
    print(f"  kernel RSS after a drawing, an OIP atlas, FCP and filters {used:5.0f} MB   (budget 800 MB)")


if __name__ == "__main__":
    main()
