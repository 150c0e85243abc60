"""Strokes drawn with a round brush, rasterised in Python from pointer coordinates.

The drawing pad sends pointer positions; :class:`Ink` keeps the strokes (so the
last one can be undone) and an anti-aliased raster of them, updated per segment
in a few microseconds — no canvas pixels ever travel back from the browser.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["Ink", "draw_segment", "draw_polyline"]

#: Segments whose window is wider than this are drawn one by one (rare: pens move a few px per event).
_BATCH_WINDOW = 96
#: Largest coordinate (pixels, either sign) and brush width a stroke may have.
LIMIT = 1e6
MAX_WIDTH = 1e4
#: Largest raster side (pixels) an :class:`Ink` may have.
MAX_SIDE = 4096


def _number(value: object, what: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a number; got {type(value).__name__}")
    number = float(value)
    if not np.isfinite(number) or abs(number) > limit:
        raise ValueError(f"{what} must be a finite number within ±{limit:g}; got {value!r}")
    return number


def _side(value: object) -> int:
    """A raster side: a whole number of pixels in 1–``MAX_SIDE``, else a TypeError/ValueError."""
    allowed = f"height and width must be whole numbers of pixels, 1–{MAX_SIDE}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{allowed}; got {value!r} ({type(value).__name__})")
    if not 1 <= value <= MAX_SIDE:
        raise ValueError(f"{allowed}; got {value!r}")
    return int(value)


def _point(x: object, y: object) -> tuple[float, float]:
    """``(x, y)`` as plain floats, or a ValueError/TypeError naming what is allowed."""
    return _number(x, "x", LIMIT), _number(y, "y", LIMIT)


def draw_segment(raster: np.ndarray, start: tuple[float, float], end: tuple[float, float],
                 width: float) -> None:
    """Draw one straight piece of a round-brush stroke into ``raster`` (in place).

    Coordinates are ``(x, y)`` in raster pixels (x to the right, y down), the
    centre of pixel ``[r, c]`` being ``(c + 0.5, r + 0.5)``. Ink is 1 inside the
    brush, fading to 0 over one pixel at its edge; overlapping ink keeps the maximum.
    """
    radius = width / 2.0
    (x0, y0), (x1, y1) = start, end
    height, breadth = raster.shape
    c_lo = max(int(np.floor(min(x0, x1) - radius - 1)), 0)
    c_hi = min(int(np.ceil(max(x0, x1) + radius + 1)), breadth)
    r_lo = max(int(np.floor(min(y0, y1) - radius - 1)), 0)
    r_hi = min(int(np.ceil(max(y0, y1) + radius + 1)), height)
    if c_lo >= c_hi or r_lo >= r_hi:
        return
    px = np.arange(c_lo, c_hi, dtype=np.float32)[None, :] + 0.5
    py = np.arange(r_lo, r_hi, dtype=np.float32)[:, None] + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 < 1e-12:  # a segment far shorter than a pixel is a dot (and its length² may not even be a float32)
        t = np.float32(0.0)
    else:
        t = np.clip(((px - x0) * dx + (py - y0) * dy) / length2, 0.0, 1.0)
    distance = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
    coverage = np.clip(radius + 0.5 - distance, 0.0, 1.0)
    window = raster[r_lo:r_hi, c_lo:c_hi]
    np.maximum(window, coverage, out=window)


def draw_polyline(raster: np.ndarray, points: Sequence[tuple[float, float]], width: float) -> None:
    """Draw the segments between consecutive ``points`` into ``raster`` (in place).

    The same pixels as :func:`draw_segment` on each segment in turn, bit for bit, but
    all short segments are computed at once: a batch of a pointer's points costs one
    vectorised pass instead of one per segment.
    """
    if len(points) < 2:
        return
    ends = np.asarray(points, np.float64)
    a, b = ends[:-1], ends[1:]
    radius = width / 2.0
    lo = np.floor(np.minimum(a, b) - radius - 1).astype(np.int64)
    hi = np.ceil(np.maximum(a, b) + radius + 1).astype(np.int64)
    short = (hi - lo).max(axis=1) <= _BATCH_WINDOW
    for k in np.flatnonzero(~short):
        draw_segment(raster, (float(a[k, 0]), float(a[k, 1])), (float(b[k, 0]), float(b[k, 1])), width)
    if not short.any():
        return
    a, b, lo, hi = a[short], b[short], lo[short], hi[short]
    side = int((hi - lo).max())
    steps = np.arange(side)
    # pixel centres of each segment's window, as draw_segment makes them (float32)
    px = (lo[:, 0, None] + steps[None, :]).astype(np.float32)[:, None, :] + np.float32(0.5)
    py = (lo[:, 1, None] + steps[None, :]).astype(np.float32)[:, :, None] + np.float32(0.5)
    d = b - a
    length2 = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]
    x0, y0 = (a[:, 0].astype(np.float32)[:, None, None], a[:, 1].astype(np.float32)[:, None, None])
    dx, dy = d[:, 0].astype(np.float32)[:, None, None], d[:, 1].astype(np.float32)[:, None, None]
    moving = length2 > 0
    t = np.zeros((len(a), side, side), np.float32)
    if moving.any():
        t[moving] = np.clip(((px[moving] - x0[moving]) * dx[moving] + (py[moving] - y0[moving]) * dy[moving])
                            / length2[moving].astype(np.float32)[:, None, None], 0.0, 1.0)
    distance = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
    coverage = np.clip(np.float32(radius + 0.5) - distance, 0.0, 1.0)
    height, breadth = raster.shape
    for k in range(len(a)):
        c_lo, r_lo = max(int(lo[k, 0]), 0), max(int(lo[k, 1]), 0)
        c_hi, r_hi = min(int(hi[k, 0]), breadth), min(int(hi[k, 1]), height)
        if c_lo >= c_hi or r_lo >= r_hi:
            continue
        window = raster[r_lo:r_hi, c_lo:c_hi]
        np.maximum(window, coverage[k, r_lo - lo[k, 1]:r_hi - lo[k, 1], c_lo - lo[k, 0]:c_hi - lo[k, 0]],
                   out=window)


class Ink:
    """A drawing made of strokes, with its raster.

    Args:
        height: Raster rows (canvas pixels), 1–``MAX_SIDE``.
        width: Raster columns, 1–``MAX_SIDE``.

    Raises:
        TypeError: A side is not a whole number.
        ValueError: A side is not in 1–``MAX_SIDE``.

    Example:
        >>> ink = Ink(280, 280)
        >>> ink.begin(40, 40, width=18)
        >>> ink.extend(200, 220)
        >>> ink.raster.max()
        1.0
    """

    def __init__(self, height: int, width: int) -> None:
        height, width = _side(height), _side(width)
        self.raster = np.zeros((height, width), np.float32)
        self.base = np.zeros((height, width), np.float32)  # a loaded picture under the strokes
        self.strokes: list[tuple[float, list[tuple[float, float]]]] = []
        self.version = 0  # bumped on every change, so readers can tell stale copies

    @property
    def empty(self) -> bool:
        """True when nothing is drawn or loaded."""
        return not self.strokes and not self.base.any()

    def load(self, picture: np.ndarray) -> None:
        """Replace the drawing by a picture (same shape as the raster, ink in [0, 1]).

        Strokes drawn afterwards go on top of it; :meth:`clear` removes it.

        Raises:
            TypeError: Not a numeric array.
            ValueError: Another shape, or NaN/infinite values (nothing is changed).
        """
        array = np.asarray(picture)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) \
                or np.issubdtype(array.dtype, np.complexfloating):
            raise TypeError(f"picture must be a real numeric array; got dtype {array.dtype}")
        if array.shape != self.raster.shape:
            raise ValueError(f"picture shape {array.shape} differs from the raster's {self.raster.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError("picture contains NaN or infinite values; ink must be finite, in [0, 1]")
        picture = array.astype(np.float32)
        self.strokes.clear()
        self.base[...] = np.clip(picture, 0.0, 1.0)
        self.raster[...] = self.base
        self.version += 1

    def begin(self, x: float, y: float, width: float) -> None:
        """Start a stroke at ``(x, y)`` with a brush ``width`` pixels wide (a dot).

        Raises:
            TypeError: A coordinate or the width is not a number.
            ValueError: NaN, infinite or beyond ±``LIMIT`` pixels; width not in (0, ``MAX_WIDTH``].
        """
        width = _number(width, "brush width", MAX_WIDTH)
        if not width > 0:
            raise ValueError(f"brush width must be > 0 pixels; got {width}")
        # plain floats: the same arithmetic whatever number type the caller has
        point = _point(x, y)
        self.strokes.append((width, [point]))
        draw_segment(self.raster, point, point, width)
        self.version += 1

    def extend(self, x: float, y: float) -> tuple[float, float] | None:
        """Continue the current stroke to ``(x, y)``; returns the previous point.

        Does nothing (returns ``None``) when no stroke is under way. A point that
        names no pixel (as for :meth:`begin`) is refused and nothing is kept.
        """
        if not self.strokes:
            return None
        width, points = self.strokes[-1]
        previous, point = points[-1], _point(x, y)
        points.append(point)
        draw_segment(self.raster, previous, point, width)
        self.version += 1
        return previous

    def extend_many(self, points: Sequence[tuple[float, float]]) -> None:
        """Continue the current stroke through ``points`` (the same ink as :meth:`extend`
        on each point, computed in one pass). Does nothing when no stroke is under way."""
        if not self.strokes or not len(points):
            return
        width, path = self.strokes[-1]
        new = [_point(x, y) for x, y in points]  # all or nothing
        draw_polyline(self.raster, [path[-1], *new], width)
        path.extend(new)
        self.version += 1

    def undo(self) -> bool:
        """Remove the last stroke; returns False when there was none."""
        if not self.strokes:
            return False
        self.strokes.pop()
        self.raster[...] = self.base
        for width, points in self.strokes:
            draw_segment(self.raster, points[0], points[0], width)
            draw_polyline(self.raster, points, width)
        self.version += 1
        return True

    def clear(self) -> None:
        """Remove every stroke and any loaded picture."""
        self.strokes.clear()
        self.base[...] = 0
        self.raster[...] = 0
        self.version += 1
