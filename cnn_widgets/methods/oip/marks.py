"""What an OIP tile is, beyond its pixels: how its map was rescued, whether it grew a pattern
or is still the test digit it started from, and the input box a node item can change.

A map that fires on no noise may start from the real image it fires on most (the last
rescue, :mod:`.rescue`). Measured on the embedded model (conv2 atlas, 100 steps, seed 0):
the seven maps rescued this way fire only faintly on their best digit (mean ≈ 0.005) and
the ascent barely moves it (objective +0.001…0.006, correlation 0.88–0.97 with the start).
Softer starts (the digit mixed with noise, or its contrast halved) make most of them dead
again, so such a tile is not passed off as a grown pattern: the result keeps its start
digit, its objective there, its gain and its correlation with the start, and pictures frame
it (see :func:`~.pictures.pattern_picture`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MARKS", "STILL_START", "field_boxes", "pixel_correlation", "rescue_text"]

#: Correlation with its start image above which a data-started tile is "still that image".
STILL_START = 0.8

#: The marks pictures draw on tiles, for a legend.
MARKS = {
    "cross": "no pattern: the map stayed dead",
    "corner": "the map fires on none of the real images given",
    "frame": "started from a test image (the map fires on no noise); see the result's rescue notes",
    "field": "node OIP: outside the node's receptive field greyed, the field outlined",
}

_HOW = {"": "grown from its first noise", "wavelength": "revived by longer-wavelength noise",
        "pre-activation": "revived by ascending its pre-activation (before the ReLU) until it fired",
        "dead": "stayed dead: no pattern"}


def pixel_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images' pixels; NaN when either is constant."""
    x = np.asarray(a, np.float64).ravel()
    y = np.asarray(b, np.float64).ravel()
    x, y = x - x.mean(), y - y.mean()
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y / norm) if norm > 1e-12 else float("nan")


def field_boxes(info: Any, nodes: np.ndarray) -> np.ndarray:
    """``(n, 4)`` input boxes ``(top, left, bottom, right)`` (bottom/right exclusive) each item's
    objective sees: a node's receptive field, clipped to the image; the whole image for a map mean."""
    height, width = (int(s) for s in info.input_size)
    boxes = np.tile(np.asarray([0, 0, height, width], np.int32), (len(nodes), 1))
    for item, (row, col) in enumerate(np.asarray(nodes)):
        if row >= 0 and info.jump is not None:
            boxes[item] = info.input_region(int(row), int(col))
    return boxes


def rescue_text(revival: str, start_index: int, start_objective: float, final: float,
                correlation: float) -> str:
    """One line: how an item came alive (and, from a real image, which, its gain and whether it moved)."""
    if revival != "data":
        return _HOW.get(revival, revival)
    moved = ("still that image, no pattern grown" if np.isfinite(correlation) and correlation >= STILL_START
             else "moved away from it")
    return (f"fires on no noise: started from test image {start_index} (objective there {start_objective:.2g}); "
            f"objective now {final:.2g} (gain {final - start_objective:+.2g}); correlation with the start "
            f"{correlation:.2f}: {moved}")
