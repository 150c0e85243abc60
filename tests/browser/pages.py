"""Helpers that drive the Explorer page in a real browser (tests and benchmarks share them)."""

from __future__ import annotations

import statistics

from ..digits import TEMPLATES

#: Pictures that every stroke repaints.
REPAINTED = "img.cnnw-grid-picture, img.cnnw-dense-picture, img.cnnw-preview"

# One pointer move dispatched on the pad; resolves with the ms until every picture
# in REPAINTED has a new src and the next animation frame has run (-1 on timeout).
_MOVE_AND_WAIT = """
async ({x, y, selector}) => {
  const canvas = document.querySelector('canvas.cnnw-pad-canvas');
  const pictures = [...document.querySelectorAll(selector)];
  const before = pictures.map(p => p.src);
  const rect = canvas.getBoundingClientRect();
  const changed = new Set();
  let start = 0;
  return await new Promise((resolve) => {
    const timer = setTimeout(() => { observer.disconnect(); resolve(-1); }, 3000);
    const observer = new MutationObserver(() => {
      pictures.forEach((p, k) => { if (p.src !== before[k]) changed.add(k); });
      if (changed.size === pictures.length) {
        observer.disconnect(); clearTimeout(timer);
        requestAnimationFrame(() => resolve(performance.now() - start));
      }
    });
    pictures.forEach(p => observer.observe(p, {attributes: true, attributeFilter: ['src']}));
    start = performance.now();
    canvas.dispatchEvent(new MouseEvent('mousemove', {clientX: rect.left + x, clientY: rect.top + y,
                                                      bubbles: true}));
  });
}
"""


def wait_for_explorer(page, timeout_ms: int = 120_000) -> None:
    """Wait until the pad and every map grid picture are on screen."""
    page.wait_for_selector("canvas.cnnw-pad-canvas", state="visible", timeout=timeout_ms)
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('img.cnnw-grid-picture')];"
        " return p.length > 0 && p.every(i => i.src && i.naturalWidth > 0); }",
        timeout=timeout_ms,
    )


def draw_digit(page, digit: int, left: float = 50, top: float = 40, size: float = 200,
               steps: int = 4) -> None:
    """Draw a digit template on the pad with the real mouse."""
    canvas = page.locator("canvas.cnnw-pad-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for stroke in TEMPLATES[digit]:
        points = [(box["x"] + left + u * size * 0.9, box["y"] + top + v * size) for u, v in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y, steps=steps)
        page.mouse.up()


def stroke_latencies(page, moves: int = 40) -> list[float]:
    """Milliseconds from one pointer move on the pad to every view repainted, per move.

    Starts a stroke, then moves the pointer along a zigzag, waiting for each repaint.
    """
    page.locator(".cnnw-clear").click()
    canvas = page.locator("canvas.cnnw-pad-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    samples = []
    for i in range(moves + 1):  # the first move also absorbs the clear and the pen-down updates
        x = 60 + (i % 8) * 20
        y = 60 + (i // 8) * 30 + (i % 2) * 10
        samples.append(page.evaluate(_MOVE_AND_WAIT, {"x": x, "y": y, "selector": REPAINTED}))
    page.mouse.up()
    return samples[1:]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(samples: list[float]) -> dict[str, float]:
    ok = [s for s in samples if s >= 0]
    return {"moves": len(samples), "lost": len(samples) - len(ok),
            "median_ms": statistics.median(ok) if ok else float("nan"),
            "p95_ms": percentile(ok, 95) if ok else float("nan")}
