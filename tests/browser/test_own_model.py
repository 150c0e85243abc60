"""``cnn-widgets serve --model my.keras --data my.npz --classes names.txt`` in Chromium (issue 21):
an RGB CNN the pad cannot feed, its data set picked with the real mouse, a picture file
dropped in, every grid following, a tab opened."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from ..conftest import stop_process_group
from .conftest import ARTIFACTS, _free_port, chromium

STATUS = ".cnnw-image-source-status"
GRIDS = """() => { const p = [...document.querySelectorAll('img.cnnw-grid-picture')];
  return p.length === 3 && p.every(i => i.src && i.naturalWidth > 0) ? p.map(i => i.src) : null; }"""


def _own_files(folder: Path) -> list[str]:
    """An RGB 32×32 CNN saved as a user would, 20 labelled images and three class names."""
    from cnn_widgets import CNNModel
    from cnn_widgets.model.backend import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(16, 3, activation="relu", name="conv2")(keras.layers.MaxPooling2D(2, name="pool1")(x))
    net = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x)))
    model = CNNModel(net).save(folder / "mine.keras")
    rng = np.random.default_rng(0)
    np.savez(folder / "mine.npz", x_test=rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8),
             y_test=np.arange(20) % 3)
    (folder / "names.txt").write_text("cat\ndog\ncow\n", encoding="utf-8")
    return ["--model", str(model), "--data", str(folder / "mine.npz"), "--classes", str(folder / "names.txt")]


@pytest.fixture(scope="module")
def served_own(tmp_path_factory) -> Iterator[str]:
    chromium()
    home = tmp_path_factory.mktemp("serve-own")
    files = _own_files(home)
    log, port = home / "serve.log", _free_port()
    env = dict(os.environ, HOME=str(home), JUPYTER_PLATFORM_DIRS="1")
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cnn_widgets.delivery.cli", "serve", "--no-browser", "--port", str(port), *files],
            cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"serve ended early:\n{log.read_text()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"serve did not listen:\n{log.read_text()}"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_process_group(process)


def _click(page, selector: str) -> None:
    """A click with the real mouse at the element's centre."""
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    assert box is not None, f"{selector} is not on the page"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def _status_is(page, text: str) -> None:
    page.wait_for_function("([s, t]) => { const e = document.querySelector(s); "
                           "return e && e.textContent.trim() === t; }",
                           arg=[STATUS, text], timeout=60_000)


def test_an_own_rgb_cnn_served_with_its_data_and_class_names(served_own, browser, tmp_path):
    from PIL import Image

    context = browser.new_context(viewport={"width": 1280, "height": 900})  # the session's browser
    page = context.new_page()
    try:
        page.goto(served_own, wait_until="domcontentloaded", timeout=120_000)
        page.wait_for_selector(".cnnw-image-source", timeout=120_000)
        assert page.locator("canvas.cnnw-pad-canvas").count() == 0  # an RGB model: no pad
        assert page.locator(".cnnw-early-pad").count() == 0  # nor one while its kernel started
        _status_is(page, "1 of 20: test image #0 (class cat)")
        first = page.wait_for_function(GRIDS, timeout=60_000).json_value()
        _click(page, ".cnnw-source-next")  # the next image of the data set
        _status_is(page, "2 of 20: test image #1 (class dog)")
        page.wait_for_function(f"(old) => {{ const now = ({GRIDS})(); "
                               "return now && now.every((s, i) => s !== old[i]); }",
                               arg=first, timeout=60_000)  # every grid follows
        picture = tmp_path / "red.png"
        buffer = io.BytesIO()
        Image.new("RGB", (50, 30), (255, 0, 0)).save(buffer, "PNG")
        picture.write_bytes(buffer.getvalue())
        with page.expect_file_chooser() as chooser:  # the file button, clicked as a user does
            _click(page, ".cnnw-source-file")
        chooser.value.set_files(str(picture))
        _status_is(page, "picture file: red.png, 50×30 RGB → 32×32 RGB")
        page.wait_for_function("() => document.querySelector('.cnnw-source-seen').textContent"
                               ".includes('red.png, 50×30 RGB → 32×32 RGB')", timeout=60_000)
        _click(page, ".lm-TabBar-tab:has-text('Filters'), .p-TabBar-tab:has-text('Filters')")
        page.wait_for_selector(".cnnw-filter-what", timeout=120_000)  # the gallery itself, not its placeholder
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "own_model_served.png"), full_page=True)
    finally:
        page.close(run_before_unload=True)
        context.close()
