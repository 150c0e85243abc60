"""TrainingLab in Voila and Chromium: Train from the page, live updates from the worker
thread reach the browser, Play replays the snapshots (Play → slider is a frontend link)."""

from __future__ import annotations

import base64
import re

from .conftest import save_screenshot
from .pages import image_bytes

# True once the picture ``selector`` shows the PNG whose base64 is ``png`` (its blob fetched).
_SHOWS = """async ([selector, png]) => {
  const img = document.querySelector(selector);
  if (!img || !img.src) return false;
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  let text = '';
  bytes.forEach((b) => { text += String.fromCharCode(b); });
  return btoa(text) === png;
}"""


def test_train_in_the_page_then_play_the_replay(page_of):
    from playwright.sync_api import expect

    page = page_of("lab.ipynb")  # TrainingLab(epochs=1, images=2000, batch_size=100)
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
    assert last.startswith("blob:http://127.0.0.1"), last  # an ipywidgets Image: the kernel's PNG as a blob
    trained = image_bytes(page, "img.cnnw-replay-kernels")
    assert trained.startswith(b"\x89PNG")
    curve = page.locator(".cnnw-training-loss .curve path.line").first  # the training loss, drawn
    expect(curve).to_have_attribute("d", re.compile(r"M.+L.+L"))
    save_screenshot(page, "training_lab")
    page.locator(".cnnw-replay-play button").first.click()  # Play: from the start again
    expect(label).to_contain_text("before training", timeout=10_000)
    expect(kernels).not_to_have_attribute("src", last, timeout=10_000)  # another frame's picture
    expect(label).to_contain_text(f"{total}/{total}: end of epoch 1", timeout=30_000)
    # ... and the replay ends on the picture the training ended with
    page.wait_for_function(_SHOWS, arg=["img.cnnw-replay-kernels", base64.b64encode(trained).decode()],
                           polling=100, timeout=10_000)


def test_the_drawing_stays_live_while_training_and_the_filters_take_its_shape(page_of):
    from playwright.sync_api import expect

    from .pages import draw_digit, wait_for_kernel_ink, wait_for_pad

    page = page_of("shared.ipynb")  # pad, probabilities, TrainingLab(epochs=3), FiltersTakeShape on one session
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
    expect(trained).not_to_have_attribute("src", before, timeout=10_000)
    save_screenshot(page, "training_while_drawing")
