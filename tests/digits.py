"""Hand-made digit drawings as strokes: our own test set of "user drawings".

Each digit is one or more polylines in a unit box (x right, y down). ``drawings``
varies size, position, aspect, slant, brush width and adds a little jitter, then
places the strokes on a 280×280 canvas as pointer paths, the way DigitPad gets them.
"""

from __future__ import annotations

import numpy as np

Stroke = list[tuple[float, float]]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 24) -> Stroke:
    """Points on an ellipse from angle ``start`` to ``stop`` (degrees, 0 = right, 90 = down)."""
    angles = np.radians(np.linspace(start, stop, n))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


TEMPLATES: dict[int, list[Stroke]] = {
    0: [_arc(0.5, 0.5, 0.28, 0.45, -90, 275, 40)],
    1: [[(0.42, 0.12), (0.55, 0.02), (0.55, 0.98)]],
    2: [_arc(0.5, 0.3, 0.3, 0.25, 190, 360, 16) + [(0.75, 0.45), (0.2, 0.97), (0.88, 0.97)]],
    3: [_arc(0.48, 0.27, 0.3, 0.24, 200, 450, 20) + _arc(0.48, 0.73, 0.32, 0.25, 270, 520, 20)],
    4: [[(0.3, 0.02), (0.15, 0.6), (0.88, 0.6)], [(0.68, 0.25), (0.65, 0.98)]],
    5: [[(0.82, 0.04), (0.3, 0.04), (0.24, 0.44)] + _arc(0.48, 0.68, 0.32, 0.28, 235, 505, 20)],
    6: [[(0.75, 0.02), (0.45, 0.3)] + _arc(0.5, 0.7, 0.28, 0.28, 200, 560, 30)],
    7: [[(0.12, 0.05), (0.88, 0.05), (0.42, 0.98)]],
    8: [_arc(0.5, 0.26, 0.22, 0.22, 90, 450, 24) + _arc(0.5, 0.72, 0.28, 0.26, -90, 270, 28)],
    9: [_arc(0.48, 0.3, 0.26, 0.26, 0, 360, 28) + [(0.74, 0.3), (0.72, 0.98)]],
}


def drawings(per_digit: int, seed: int = 0, canvas: int = 280):
    """Yield ``(label, strokes, brush_width)``: strokes as lists of canvas ``(x, y)`` points."""
    rng = np.random.default_rng(seed)
    for label, template in TEMPLATES.items():
        for _ in range(per_digit):
            size = rng.uniform(70, 250)  # height of the digit on the canvas
            aspect = rng.uniform(0.75, 1.15)
            slant = rng.uniform(-0.25, 0.25)
            width = size * aspect
            top = rng.uniform(0, canvas - size)
            left = rng.uniform(0, canvas - width * 0.9)
            brush = float(np.clip(size * rng.uniform(0.08, 0.13), 6, 30))
            strokes = []
            for polyline in template:
                points = []
                for x, y in polyline:
                    jitter = rng.normal(0, 0.008, 2)
                    u, v = x + jitter[0] + slant * (0.5 - y), y + jitter[1]
                    points.append((left + u * width, top + v * size))
                strokes.append(points)
            yield label, strokes, brush
