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


SHARED_NOTEBOOK = """\
import ipywidgets as widgets
from cnn_widgets import DigitPad, FiltersTakeShape, ProbabilityBars, Session, TrainingLab
session = Session()
pad = DigitPad(session)
lab = TrainingLab(session, epochs=3, batch_size=128)  # the embedded model trains on: long enough to draw meanwhile
shapes = FiltersTakeShape(session, steps=40)
widgets.VBox([widgets.HBox([pad, ProbabilityBars(session)]), lab, shapes])
"""


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory) -> Iterator[VoilaServer]:
    chromium()
    home = tmp_path_factory.mktemp("voila-shared")
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    notebook.cells = [nbformat.v4.new_code_cell(SHARED_NOTEBOOK)]
    path = home / "shared.ipynb"
    nbformat.write(notebook, path)
    server = VoilaServer(path, home)
    try:
        yield server
    finally:
        server.stop()


def test_the_drawing_stays_live_while_training_and_the_filters_take_its_shape(browser, shared_server):
    from playwright.sync_api import expect

    from .pages import draw_digit, wait_for_kernel_ink, wait_for_pad

    context, page = open_page(browser, shared_server.url)
    try:
        wait_for_pad(page)
        trained = page.locator("img.cnnw-shapes-trained")
        expect(trained).to_have_attribute("src", re.compile("."), timeout=60_000)
        page.locator(".cnnw-train").click()
        cancel = page.locator(".cnnw-train-cancel")
        expect(cancel).to_be_enabled(timeout=30_000)
        expect(page.locator(".cnnw-train-progress-label")).to_contain_text("left", timeout=60_000)  # batches done
        draw_digit(page, 7)
        wait_for_kernel_ink(page)  # the kernel answered the strokes (its ink picture comes after every view)
        assert cancel.is_enabled()  # ... while training runs
        expect(page.locator(".cnnw-predicted-class")).to_have_text("7", timeout=10_000)
        before = trained.get_attribute("src")
        cancel.click()
        expect(page.locator(".cnnw-training-status")).to_contain_text("cancelled", timeout=60_000)
        page.locator(".cnnw-shapes-drawing").click()
        expect(page.locator(".cnnw-shapes-line")).to_contain_text("trained on the drawing", timeout=30_000)
        expect(trained).not_to_have_attribute("src", before or "", timeout=10_000)
        save_screenshot(page, "training_while_drawing")
    finally:
        context.close()
