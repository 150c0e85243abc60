"""The drawing pad in Voila, driven by the real mouse in Debian's Chromium.

The ink is drawn in the browser: it must be on screen before the kernel's answer comes
back through a proxy that puts the kernel 60 ms away each way (as on Binder).
"""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image

from cnn_widgets.drawing.preprocess import to_mnist

from ..digits import drawings
from .conftest import ARTIFACTS, save_screenshot
from .pages import (canvas_png, clear, draw_digit, draw_strokes, flood, image_bytes, ink_latencies, set_brush,
                    summary, wait_for_kernel_ink, wait_for_pad)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), np.float32) / 255.0


#: True once the pad shows ink (argument: true for grey ink only, as in a loaded sample).
_INKED = """(grey) => { const c = document.querySelector('canvas.cnnw-pad-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4) if (grey ? d[i] > 0 && d[i] < 255 : d[i] > 127) return true;
  return false; }"""


def settled(page, action) -> None:
    """Run ``action`` (drawing on the pad), then wait until the kernel has that ink."""
    action()
    wait_for_kernel_ink(page)


def test_ink_appears_before_the_kernel_answers(page_of, remote_voila):
    """Through a proxy 60 ms each way: the ink is drawn in the page, and the network's image
    too (the browser computes it); the kernel, which answers only once a stroke ends, still
    gets every stroke."""
    page = page_of("pad.ipynb", base=remote_voila.url)
    wait_for_pad(page)
    page.wait_for_selector("canvas.cnnw-pad-canvas[data-network]", timeout=60_000)
    chunks = remote_voila.chunks
    samples = ink_latencies(page, moves=30, downs=20)
    figures = {kind: {"ink": summary([s["ink"] for s in values])} for kind, values in samples.items()}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "ink_latency_remote.json").write_text(json.dumps({**figures, "samples": samples}, indent=1))
    assert {kind: len(values) for kind, values in samples.items()} == {"move": 30, "down": 20}
    for kind, values in samples.items():
        assert all(s["ink"] >= 0 for s in values), f"{kind}: lost samples {values}"
    assert remote_voila.chunks - chunks >= 50  # the strokes went to the kernel, through the proxy
    computed = int(page.locator("canvas.cnnw-pad-canvas").get_attribute("data-computed"))
    assert computed >= 30  # the browser computed the network's image as the pen moved
    wait_for_kernel_ink(page)  # and the kernel has the same ink once the strokes ended


def test_drawn_digits_are_recognised_with_the_real_mouse(pad_page):
    correct, results = 0, []
    prediction = pad_page.locator(".cnnw-pad-prediction")
    for label, strokes, brush in drawings(3, seed=11):
        set_brush(pad_page, round(brush))
        settled(pad_page, lambda: draw_strokes(pad_page, strokes, steps=2))
        guess = prediction.inner_text().strip()  # the kernel's answer to the finished drawing
        results.append((label, guess))
        correct += guess == str(label)
        settled(pad_page, lambda: clear(pad_page))
    save_screenshot(pad_page, "pad_drawn_digit")
    assert correct / len(results) >= 0.95, results


def test_a_flood_of_pointer_events_leaves_no_backlog_and_the_kernel_image_matches_the_ink(pad_page):
    frames = pad_page.evaluate("() => new Promise(r => { let n = 0, t0 = performance.now();"
                               " const f = () => (++n < 30 ? requestAnimationFrame(f) : r((performance.now() - t0) / n));"
                               " requestAnimationFrame(f); })")
    result = {}
    settled(pad_page, lambda: result.update(flood(pad_page, events=10_000, per_frame=200)))
    # at most one message per animation frame (50 frames of events, then pen-up)
    assert result["messages"] <= result["ms"] / frames + 2, (result, frames)
    assert result["messages"] >= 10_000 // 2048  # every point reached the kernel
    canvas = pixels(canvas_png(pad_page))
    kernel_ink = pixels(image_bytes(pad_page, "img.cnnw-pad-ink"))  # the kernel's raster, every other pixel
    drawn, kept = canvas[::2, ::2] > 0.5, kernel_ink > 0.5
    assert (drawn & kept).sum() / (drawn | kept).sum() >= 0.97
    preview = pixels(image_bytes(pad_page, "img.cnnw-preview"))
    assert np.abs(preview - to_mnist(canvas)).mean() <= 0.02


def test_undo_clear_and_samples_show_the_kernel_s_ink(pad_page):
    page = pad_page
    settled(page, lambda: draw_digit(page, 7))
    seven = pixels(canvas_png(page))
    preview_seven = image_bytes(page, "img.cnnw-preview")
    settled(page, lambda: draw_strokes(page, [[(30, 250), (250, 250)]]))
    assert (pixels(canvas_png(page)) != seven).any()
    settled(page, lambda: page.locator(".cnnw-pad-tools .cnnw-undo").click())
    np.testing.assert_array_equal(pixels(canvas_png(page)), seven)
    assert image_bytes(page, "img.cnnw-preview") == preview_seven  # the kernel undid the same stroke
    page.locator(".cnnw-sample").click()
    page.wait_for_function("() => document.querySelector('.cnnw-pad-status').innerText.includes('class 7')")
    page.wait_for_function(_INKED, arg=True)
    sample = pixels(canvas_png(page))
    preview = pixels(image_bytes(page, "img.cnnw-preview"))
    np.testing.assert_allclose(sample[5::10, 5::10], preview, atol=2 / 255)  # the sample, drawn on the pad
    settled(page, lambda: clear(page))
    assert not pixels(canvas_png(page)).any()
    assert image_bytes(page, "img.cnnw-preview") != preview_seven


def test_a_drawing_set_in_python_is_on_the_pad_when_the_page_opens(page_of):
    """The browser module draws the kernel's strokes when it renders: what a page that
    opens late, or reloads (JupyterLab keeps the kernel), shows."""
    page = page_of("pad_strokes.ipynb")  # the pad's notebook, then pad.set_strokes(PAD_STROKES): a 7
    wait_for_pad(page)
    page.wait_for_function(_INKED, arg=False)
    wait_for_kernel_ink(page)  # the kernel's own picture of its ink matches the pad
    assert page.locator(".cnnw-pad-prediction").inner_text().strip() == "7"
