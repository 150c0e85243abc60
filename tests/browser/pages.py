"""Helpers that drive the drawing pad and the Explorer in a real browser (tests and benchmarks).

Everything is drawn with the real mouse (Playwright ``page.mouse``): Chromium then
delivers pointer moves aligned to frames, as for a user, and a measurement starts at
the event's ``timeStamp``. Every path stays on the pad.
"""

from __future__ import annotations

import base64
import statistics
from typing import Any, Iterable

from ..digits import TEMPLATES

PAD = "canvas.cnnw-pad-canvas"
#: Pictures that every stroke repaints: the live views the browser draws (each counts its
#: paints in data-painted), or the kernel's pictures where the kernel computes the model.
REPAINTED = ".cnnw-live-maps, .cnnw-live-dense, .cnnw-live-image, .cnnw-live-bars"
KERNEL_REPAINTED = "img.cnnw-grid-picture, img.cnnw-dense-picture, img.cnnw-preview"

# Page-side probes. `armInk(kind)` resolves with the ms from the next `kind` event on
# the pad (pointermove / pointerdown) to the first animation frame whose canvas pixel
# under the pointer is inked, and, if `kernel` is set, the ms until the kernel's
# answer (the preview picture) arrived. `armRepaint(selector)` resolves with the ms
# from the next pointermove to every picture in `selector` having a new src plus one
# frame. Both resolve -1 on timeout.
_PROBES = """
() => {
  if (window.__cnnw) return;
  const pad = () => document.querySelector('canvas.cnnw-pad-canvas');
  window.__cnnw = {
    armInk(kind, kernel) {
      const canvas = pad();
      const ctx = canvas.getContext('2d');
      const preview = document.querySelector('img.cnnw-preview');
      const before = preview ? preview.src : null;
      let event = null, ink = null, answer = null;
      return new Promise((resolve) => {
        const done = () => {
          canvas.removeEventListener(kind, listen);
          clearTimeout(timer);
          resolve({ink: ink === null ? -1 : ink, kernel: answer === null ? -1 : answer});
        };
        const timer = setTimeout(done, 4000);
        const listen = (e) => { if (!event) event = e; };
        canvas.addEventListener(kind, listen);
        const check = () => {
          if (event && ink === null) {
            const rect = canvas.getBoundingClientRect();
            const ratio = canvas.width / rect.width;
            const x = Math.floor((event.clientX - rect.left) * ratio);
            const y = Math.floor((event.clientY - rect.top) * ratio);
            if (ctx.getImageData(x, y, 1, 1).data[0] > 127) ink = performance.now() - event.timeStamp;
          }
          if (event && kernel && answer === null && preview && preview.src !== before)
            answer = performance.now() - event.timeStamp;
          if (ink !== null && (!kernel || answer !== null)) done();
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      });
    },
    armRepaint(selector) {
      const canvas = pad();
      const pictures = [...document.querySelectorAll(selector)];
      const mark = (p) => p.src || p.dataset.painted;
      const before = pictures.map(mark);
      let start = null;
      return new Promise((resolve) => {
        const finish = (value) => { observer.disconnect(); clearTimeout(timer);
                                    canvas.removeEventListener('pointermove', listen); resolve(value); };
        const timer = setTimeout(() => finish(-1), 4000);
        const listen = (e) => { if (start === null) start = e.timeStamp; };
        canvas.addEventListener('pointermove', listen);
        const observer = new MutationObserver(() => {
          if (start !== null && pictures.every((p, k) => mark(p) !== before[k]))
            requestAnimationFrame(() => finish(performance.now() - start));
        });
        pictures.forEach((p) => observer.observe(p, {attributes: true, attributeFilter: ['src', 'data-painted']}));
      });
    },
  };
}
"""

# Resolves once the preview picture has not changed for `ms` (the kernel has answered
# everything sent so far), so that the next answer belongs to the next event.
_QUIET = """
(ms) => new Promise((resolve) => {
  const img = document.querySelector('img.cnnw-preview');
  let last = img ? img.src : null, since = performance.now();
  const check = () => {
    if (img && img.src !== last) { last = img.src; since = performance.now(); }
    if (performance.now() - since > ms) resolve(); else requestAnimationFrame(check);
  };
  check();
})
"""
_ARM_INK = "([kind, kernel]) => { window.__cnnwResult = window.__cnnw.armInk(kind, kernel); }"
_ARM_REPAINT = "(selector) => { window.__cnnwResult = window.__cnnw.armRepaint(selector); }"
_RESULT = "() => window.__cnnwResult"

# 10,000 pointer events dispatched on the pad, `perFrame` per animation frame, through
# the pad's own listeners (the frontend path); resolves with what the pad sent.
_FLOOD = """
async ({events, perFrame}) => {
  const canvas = document.querySelector('canvas.cnnw-pad-canvas');
  const rect = canvas.getBoundingClientRect();
  const sent0 = Number(canvas.dataset.sent || 0);
  const at = (i) => ({clientX: rect.left + 20 + (i * 7) % 240, clientY: rect.top + 20 + (i * 3) % 240});
  const fire = (type, i) => canvas.dispatchEvent(new PointerEvent(type, {
    pointerId: 7, pointerType: 'pen', isPrimary: true, bubbles: true, button: 0,
    buttons: type === 'pointerup' ? 0 : 1, ...at(i)}));
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const t0 = performance.now();
  fire('pointerdown', 0);
  let slowest = 0;
  for (let i = 1; i <= events; i += perFrame) {
    const start = performance.now();
    for (let k = i; k < Math.min(i + perFrame, events + 1); k++) fire('pointermove', k);
    slowest = Math.max(slowest, performance.now() - start);
    await frame();
  }
  fire('pointerup', events);
  await frame(); await frame();
  return {messages: Number(canvas.dataset.sent) - sent0, ms: performance.now() - t0, slowestFrameMs: slowest};
}
"""

_IMAGE_BYTES = """
async (selector) => {
  const img = document.querySelector(selector);
  const buffer = await (await fetch(img.src)).arrayBuffer();
  let text = '';
  new Uint8Array(buffer).forEach((b) => { text += String.fromCharCode(b); });
  return btoa(text);
}
"""


# True when the kernel's picture of the ink (img.cnnw-pad-ink, sent after the image and
# every view) shows what the pad shows: intersection over union of the inked pixels.
_KERNEL_HAS_INK = """
(level) => {
  const img = document.querySelector('img.cnnw-pad-ink');
  const pad = document.querySelector('canvas.cnnw-pad-canvas');
  if (!img.complete || !img.naturalWidth) return false;
  const w = img.naturalWidth, h = img.naturalHeight, step = pad.width / w;
  const scratch = document.createElement('canvas');
  scratch.width = w; scratch.height = h;
  const ctx = scratch.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const kernel = ctx.getImageData(0, 0, w, h).data;
  const shown = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data;
  let both = 0, either = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    // the kernel's picture holds every other pixel of its raster: compare like with like
    const a = kernel[4 * (y * w + x)] > 127;
    const b = shown[4 * (Math.floor(y * step) * pad.width + Math.floor(x * step))] > 127;
    both += a && b; either += a || b;
  }
  return either === 0 || both / either >= level;
}
"""


def wait_for_kernel_ink(page, level: float = 0.97, timeout_ms: int = 15_000) -> None:
    """Wait until the kernel has the pad's ink: its picture of the ink (sent after the
    image and every view's update) matches the pad."""
    page.wait_for_function(_KERNEL_HAS_INK, arg=level, timeout=timeout_ms)


def wait_for_pad(page, timeout_ms: int = 120_000) -> None:
    """Wait until the pad's browser module has drawn the pad."""
    page.wait_for_selector(f"{PAD}[data-ready]", state="visible", timeout=timeout_ms)
    page.evaluate(_PROBES)


def wait_for_explorer(page, timeout_ms: int = 120_000) -> None:
    """Wait until the pad and every map grid picture are on screen."""
    wait_for_pad(page, timeout_ms)
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('img.cnnw-grid-picture')];"
        " return p.length > 0 && p.every(i => i.src && i.naturalWidth > 0); }",
        timeout=timeout_ms,
    )
    page.wait_for_function(  # where the browser computes, its views have drawn too
        "() => [...document.querySelectorAll('.cnnw-live')].every(v => Number(v.dataset.painted || 0) > 0)",
        timeout=timeout_ms,
    )


def pad_box(page, pad: str = PAD) -> dict[str, float]:
    """The pad's box on screen, scrolled into view (``pad``: the canvas's selector)."""
    canvas = page.locator(pad)
    canvas.scroll_into_view_if_needed()
    return canvas.bounding_box()


_BLANK = """() => { const c = document.querySelector('canvas.cnnw-pad-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 0) return false;
  return true; }"""


def clear(page) -> None:
    """Click the pad's clear button; wait until the pad is blank."""
    page.locator(".cnnw-clear").first.click()
    page.wait_for_function(_BLANK)


def set_brush(page, width: int) -> None:
    """Set the brush with the pad's slider, as a user does (a pad without one keeps its brush)."""
    slider = page.locator(".cnnw-pad-brush input")
    if slider.count():
        slider.fill(str(int(width)))


def draw_strokes(page, strokes: Iterable[list[tuple[float, float]]], steps: int = 3, pad: str = PAD) -> None:
    """Draw strokes given in pad pixels with the real mouse (points kept on the pad)."""
    box = pad_box(page, pad)
    side = box["width"]

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + min(max(x, 1.0), side - 1.0), box["y"] + min(max(y, 1.0), side - 1.0)

    for stroke in strokes:
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(*point), steps=steps)
        page.mouse.up()


def draw_digit(page, digit: int, left: float = 50, top: float = 40, size: float = 200,
               steps: int = 4, pad: str = PAD) -> None:
    """Draw a digit template on the pad with the real mouse."""
    strokes = [[(left + u * size * 0.9, top + v * size) for u, v in stroke] for stroke in TEMPLATES[digit]]
    draw_strokes(page, strokes, steps=steps, pad=pad)


def _fresh_points(count: int, spacing: float, rows: float | None = None, side: float = 280,
                  margin: float = 16) -> list[tuple[float, float]]:
    """A serpentine path over the pad, points ``spacing`` apart, rows ``rows`` apart
    (default 1.8 × spacing): drawn with a thin brush, each point lands on blank pad."""
    per_row = int((side - 2 * margin) // spacing) + 1
    rows = spacing * 1.8 if rows is None else rows
    points = []
    row = 0
    while len(points) < count:
        y = margin + row * rows
        if y > side - margin:
            raise ValueError(f"{count} points do not fit on the pad at spacing {spacing}")
        xs = [margin + k * spacing for k in range(per_row)]
        for x in (xs if row % 2 == 0 else xs[::-1]):
            points.append((x, y))
        row += 1
    return points[:count]


def ink_latencies(page, moves: int = 100, downs: int = 100, kernel: bool = False) -> dict[str, list[Any]]:
    """Ms from a real pointer event to the ink under the pointer on screen.

    ``moves`` moves of one stroke (brush 10, each 14 px onto blank pad) and
    ``downs`` pen-downs on blank spots. With ``kernel``, each sample starts once the
    kernel has answered everything before it and also waits for the kernel's answer
    (the preview picture), so ink and answer can be compared.
    """
    set_brush(page, 10)
    clear(page)
    box = pad_box(page)
    page.evaluate(_PROBES)
    result: dict[str, list[Any]] = {"move": [], "down": []}
    path = _fresh_points(moves + 1, 14)
    page.mouse.move(box["x"] + path[0][0], box["y"] + path[0][1])
    page.mouse.down()
    for x, y in path[1:]:
        if kernel:
            page.evaluate(_QUIET, 400)
        page.evaluate(_ARM_INK, ["pointermove", kernel])
        page.mouse.move(box["x"] + x, box["y"] + y)
        result["move"].append(page.evaluate(_RESULT))
    page.mouse.up()
    clear(page)
    for x, y in _fresh_points(downs, 25, rows=25, margin=14):
        page.mouse.move(box["x"] + x, box["y"] + y)
        if kernel:
            page.evaluate(_QUIET, 400)
        page.evaluate(_ARM_INK, ["pointerdown", kernel])
        page.mouse.down()
        result["down"].append(page.evaluate(_RESULT))
        page.mouse.up()
    clear(page)
    set_brush(page, 20)
    return result


def stroke_latencies(page, moves: int = 40) -> list[float]:
    """Ms from a real pointer move on the pad to every view repainted (+ one frame), per move.

    Starts a stroke, then moves the pointer over the pad, waiting for each repaint.
    """
    clear(page)
    box = pad_box(page)
    page.evaluate(_PROBES)
    path = _fresh_points(moves + 2, 20)
    page.mouse.move(box["x"] + path[0][0], box["y"] + path[0][1])
    page.mouse.down()
    samples = []
    for x, y in path[1:]:  # the first move also absorbs the clear and the pen-down updates
        page.evaluate(_ARM_REPAINT, REPAINTED)
        page.mouse.move(box["x"] + x, box["y"] + y)
        samples.append(page.evaluate(_RESULT))
    page.mouse.up()
    return samples[1:]


def flood(page, events: int = 10_000, per_frame: int = 200) -> dict[str, float]:
    """Dispatch ``events`` pointer moves on the pad through its own listeners; what it sent."""
    return page.evaluate(_FLOOD, {"events": events, "perFrame": per_frame})


def image_bytes(page, selector: str) -> bytes:
    """The bytes of a picture on the page (an ipywidgets Image's blob)."""
    return base64.b64decode(page.evaluate(_IMAGE_BYTES, selector))


def canvas_png(page) -> bytes:
    """The pad's pixels as a PNG."""
    url = page.evaluate(f"() => document.querySelector('{PAD}').toDataURL('image/png')")
    return base64.b64decode(url.split(",", 1)[1])


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(samples: list[float]) -> dict[str, float]:
    ok = [s for s in samples if s >= 0]
    return {"moves": len(samples), "lost": len(samples) - len(ok),
            "median_ms": statistics.median(ok) if ok else float("nan"),
            "p95_ms": percentile(ok, 95) if ok else float("nan")}
