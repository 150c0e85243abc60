"""The live views computed in the browser (Voila, Chromium, the real mouse): every view follows
the pen with no kernel message during a stroke; hover is answered in the page, a click reaches
the kernel; a blank pad predicts nothing; a reloaded page brings back the drawing."""

from __future__ import annotations

import json

import pytest

from .conftest import close_page, save_screenshot
from .pages import clear, draw_digit, pad_box, wait_for_kernel_ink, wait_for_pad

_PAINTED = """() => [...document.querySelectorAll('.cnnw-live')].map((v) => Number(v.dataset.painted || 0))"""
_PREDICTION = "() => (document.querySelector('.cnnw-live-prediction') || {}).innerText || ''"


@pytest.fixture
def live_page(browser, voila):
    """The live notebook, with every websocket frame the kernel sends recorded (from the start)."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
                  else route.abort())
    page = context.new_page()
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload.encode() if isinstance(payload, str) else bytes(payload))))
    page.goto(voila.page("live.ipynb"), wait_until="domcontentloaded")
    wait_for_pad(page)
    page.wait_for_selector("canvas.cnnw-pad-canvas[data-network]", timeout=60_000)
    page.wait_for_function(f"() => ({_PAINTED})().length === 5 && ({_PAINTED})().every((n) => n > 0)",
                           timeout=60_000)
    page.frames_received = frames
    yield page
    close_page(context, page)


def message_type(frame: bytes) -> str:
    """The msg_type of one kernel websocket frame (JSON, or the v1 binary protocol's header part)."""
    if frame[:1] == b"{":
        return json.loads(frame).get("header", {}).get("msg_type", "")
    count = int.from_bytes(frame[:8], "little")
    offsets = [int.from_bytes(frame[8 * (k + 1):8 * (k + 2)], "little") for k in range(count)]
    return json.loads(frame[offsets[1]:offsets[2]]).get("msg_type", "")  # parts: channel, header, ...


def comm_messages(frames: list[bytes]) -> int:
    """Widget messages (comm_msg) the kernel sent, not the status messages that answer the pad's."""
    return sum(message_type(frame) == "comm_msg" for frame in frames)


def quiet(page, frames: list[bytes], ms: int = 600) -> None:
    """Wait until the kernel has sent nothing for ``ms``."""
    while True:
        count = len(frames)
        page.wait_for_timeout(ms)
        if len(frames) == count:
            return


def test_every_view_follows_the_pen_with_no_kernel_message(live_page):
    page, frames = live_page, live_page.frames_received
    assert "draw a digit" in page.evaluate(_PREDICTION)  # a blank pad predicts nothing
    box = pad_box(page)
    quiet(page, frames)
    before_frames, before_paint = len(frames), page.evaluate(_PAINTED)
    page.mouse.move(box["x"] + 140, box["y"] + 40)
    page.mouse.down()
    repaints = []
    for k in range(1, 21):
        painted = page.evaluate(_PAINTED)
        page.mouse.move(box["x"] + 140, box["y"] + 40 + 9 * k)
        page.wait_for_function(f"(p) => ({_PAINTED})().every((n, i) => n > p[i])", arg=painted)
        repaints.append(page.evaluate(_PAINTED))
    page.wait_for_timeout(300)
    mid_stroke = frames[before_frames:]
    assert len(mid_stroke) > 0  # the kernel still hears the strokes (status messages come back)
    assert comm_messages(mid_stroke) == 0, "no widget message from the kernel during a stroke"
    assert all(a > b for a, b in zip(repaints[-1], before_paint))  # every view, every move
    page.mouse.up()
    wait_for_kernel_ink(page)  # at pen-up the kernel answers (its pictures, for a saved notebook)
    assert comm_messages(frames[before_frames:]) > 0
    assert page.evaluate(_PREDICTION).startswith("prediction: 1")
    save_screenshot(page, "live_views_one")


def test_hover_is_answered_in_the_page_and_a_click_reaches_the_kernel(live_page):
    page, frames = live_page, live_page.frames_received
    draw_digit(page, 7)
    wait_for_kernel_ink(page)
    quiet(page, frames)
    overlay = page.locator(".cnnw-live-maps canvas.cnnw-live-overlay").first
    box = overlay.bounding_box()
    count = len(frames)
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    hover = page.locator(".cnnw-live-maps .cnnw-live-hover").first
    page.wait_for_function("(el) => el.innerText.startsWith('conv1 · map 0 · cell')", arg=hover.element_handle())
    page.wait_for_timeout(300)
    assert comm_messages(frames[count:]) == 0  # hover: no kernel round trip
    # map 1 is the second tile of the first row (26×26 tiles, 1-pixel gap, zoom from the picture)
    zoom = box["width"] / (8 * 27 - 1)
    page.mouse.click(box["x"] + (27 + 3.5) * zoom, box["y"] + 2.5 * zoom)
    page.wait_for_function("() => document.querySelector('.cnnw-kernel-selection').innerText === "
                           "'conv1 map 1 cell (2, 3)'")


def test_a_reload_brings_back_the_drawing(live_page):
    page = live_page
    clear(page)
    draw_digit(page, 4)
    wait_for_kernel_ink(page)
    inked = "() => { const c = document.querySelector('canvas.cnnw-pad-canvas');" \
            " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;" \
            " let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] > 127; return n; }"
    before = page.evaluate(inked)
    page.reload(wait_until="domcontentloaded")
    wait_for_pad(page)
    page.wait_for_function(f"(n) => ({inked})() >= 0.97 * n", arg=before, timeout=60_000)
    wait_for_kernel_ink(page)  # the new kernel has the strokes too
    page.wait_for_function(f"() => ({_PREDICTION})().startsWith('prediction:')", timeout=60_000)
