"""TrainingLab in Voila and Chromium: Train from the page, live updates from the worker
thread reach the browser, Play replays the snapshots (Play → slider is a frontend link)."""

from __future__ import annotations

import re
from typing import Iterator

import nbformat
import pytest

from .conftest import VoilaServer, chromium, open_page, save_screenshot

LAB_NOTEBOOK = """\
from cnn_widgets import TrainingLab
lab = TrainingLab(epochs=1, images=2000, batch_size=100)
lab
"""


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory) -> Iterator[VoilaServer]:
    chromium()
    home = tmp_path_factory.mktemp("voila-lab")
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    notebook.cells = [nbformat.v4.new_code_cell(LAB_NOTEBOOK)]
    path = home / "lab.ipynb"
    nbformat.write(notebook, path)
    server = VoilaServer(path, home)
    try:
        yield server
    finally:
        server.stop()


def test_train_in_the_page_then_play_the_replay(browser, lab_server):
    from playwright.sync_api import expect

    context, page = open_page(browser, lab_server.url)
    try:
        train = page.locator(".cnnw-train")
        expect(train).to_be_visible(timeout=90_000)
        expect(page.locator(".cnnw-training-status")).to_contain_text("ready to train", timeout=30_000)
        train.click()
        # progress and the first snapshots arrive while it trains (sent from the worker thread)
        expect(page.locator(".cnnw-train-cancel")).to_be_enabled(timeout=30_000)
        status = page.locator(".cnnw-training-status")
        expect(status).to_contain_text("trained 1 epoch(s)", timeout=120_000)
        label = page.locator(".cnnw-replay-frame-label")
        expect(label).to_contain_text("end of epoch 1")
        total = int(re.search(r"/(\d+):", label.inner_text()).group(1))
        kernels = page.locator("img.cnnw-replay-kernels")
        last = kernels.get_attribute("src")
        assert last and last.startswith("blob:") or last.startswith("data:")
        curve = page.locator(".cnnw-training-loss .curve path.line").first  # the training loss, drawn
        expect(curve).to_have_attribute("d", re.compile(r"M.+L.+L"))
        save_screenshot(page, "training_lab")
        page.locator(".cnnw-replay-play button").first.click()  # Play: from the start again
        expect(label).to_contain_text("before training", timeout=10_000)
        expect(label).to_contain_text(f"{total}/{total}: end of epoch 1", timeout=30_000)
        assert kernels.get_attribute("src") is not None
    finally:
        context.close()
