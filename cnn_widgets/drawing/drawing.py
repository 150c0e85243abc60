"""Drawing: what is on the pad, kept in the kernel, and the image the network gets from it.

The pad's browser module draws the ink itself and sends the stroke points; a session
keeps them here (the kernel is the source of truth: a reloaded page draws what this
holds). A drawing is strokes — each with the id the browser gave it — over an optional
loaded picture; or, until the next stroke, an image shown exactly as it is (a test
digit). :meth:`Drawing.image` is what the network gets: the ink cropped, fitted and
centred the way MNIST was made (:func:`~cnn_widgets.drawing.preprocess.to_mnist`),
or the exact image.

Every change tells the listeners (:meth:`Drawing.on_change`) on the thread that made
it; they must return at once (the session hands the work to its live model's
latest-wins runner). Nothing here imports ipywidgets or TensorFlow.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Callable, Sequence

import numpy as np

from ..checks import whole_number
from .ink import Ink
from .preprocess import to_mnist

__all__ = ["BRUSH_MAX", "BRUSH_MIN", "Drawing", "MAX_POINTS", "check_brush"]

BRUSH_MIN = 1  #: thinnest brush, pad pixels
BRUSH_MAX = 64  #: widest brush, pad pixels
MAX_POINTS = 4096  #: most points one stroke message may carry (the browser sends ≤ 2048)


def check_brush(value: Any) -> int:
    """``value`` as a brush width in pad pixels, ``BRUSH_MIN``–``BRUSH_MAX``.

    Raises:
        TypeError: Not a number.
        ValueError: Not a whole number of pixels, or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"brush must be a whole number of pad pixels, {BRUSH_MIN}–{BRUSH_MAX}; "
                        f"got {type(value).__name__}")
    if not math.isfinite(value) or int(value) != value:
        raise ValueError(f"brush must be a whole number of pad pixels, {BRUSH_MIN}–{BRUSH_MAX}; got {value!r}")
    return whole_number(int(value), "brush", BRUSH_MIN, BRUSH_MAX, unit="pad pixels")


def _grey_picture(picture: Any) -> np.ndarray:
    """A 2-D picture (ink in [0, 1], or uint8 0–255) as float32 in [0, 1]."""
    array = np.asarray(picture)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"a picture must be a 2-D array (height, width); got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) \
            or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"a picture must be real numbers; got dtype {array.dtype}")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    small = array.astype(np.float64)
    if not np.all(np.isfinite(small)) or small.min() < 0 or small.max() > 1:
        raise ValueError("a picture of floats must hold values in [0, 1] (no NaN or inf)")
    return small.astype(np.float32)


class Drawing:
    """Strokes over an optional picture, on a square pad; thread-safe.

    Args:
        size: Side of the square pad, pad pixels (28–2000).
        image_shape: ``(height, width)`` of the grey image the network takes: 28×28
            images are made like MNIST's (:func:`to_mnist`), other sizes are the ink
            resampled to that size.

    Attributes:
        ink: The raster and strokes (:class:`~cnn_widgets.drawing.ink.Ink`).
        ids: The browser's id of each stroke of ``ink``.
        picture: A loaded picture at its own size (the browser draws it under the
            strokes), or None.
    """

    def __init__(self, size: int = 280, image_shape: tuple[int, int] = (28, 28)) -> None:
        self.size = whole_number(size, "size", 28, 2000, unit="pixels")
        height, width = (whole_number(side, "image side", 1, 4096) for side in image_shape)
        self.image_shape = (height, width)
        self.ink = Ink(self.size, self.size)
        self.ids: list[str] = []
        self.open: str | None = None  # the stroke under the pen
        self.picture: np.ndarray | None = None
        self.source = ""  # what was loaded last ("" after strokes, undo or clear)
        self._exact: tuple[np.ndarray, str, int] | None = None  # an image shown as it is, until the ink changes
        self._made = 0
        self._lock = threading.RLock()
        self._listeners: list[Callable[[str], Any]] = []

    # ------------------------------------------------------------------ reading
    @property
    def version(self) -> int:
        """Changes so far (strokes, undo, clear, loads)."""
        return self.ink.version

    @property
    def empty(self) -> bool:
        """True when nothing is drawn or loaded."""
        with self._lock:
            return self.ink.empty and self._exact is None

    @property
    def exact(self) -> bool:
        """True while the network gets a loaded image exactly as it is (no stroke since)."""
        with self._lock:
            return self._exact is not None and self._exact[2] == self.ink.version

    def stroke_dict(self, stroke_id: str) -> dict[str, Any] | None:
        """One stroke as the browser takes it (see :meth:`strokes`), or None when there is none of that id."""
        with self._lock:
            index = next((k for k in range(len(self.ids) - 1, -1, -1) if self.ids[k] == stroke_id), None)
            if index is None:  # searched from the end: the stroke just finished is found at once
                return None
            width, points = self.ink.strokes[index]
            return {"id": stroke_id, "width": width, "points": [round(v, 2) for point in points for v in point]}

    def image(self) -> tuple[np.ndarray, str]:
        """What the network gets now, and what it is (``""`` for a blank pad,
        ``"your drawing"``, or the source of an exact image)."""
        with self._lock:
            if self._exact is not None and self._exact[2] == self.ink.version:
                image, source, _ = self._exact
                return image, source
            raster = self.ink.raster.copy()
            blank = self.ink.empty
        if self.image_shape == (28, 28):
            image = to_mnist(raster)
        else:
            from PIL import Image

            height, width = self.image_shape
            image = np.clip(np.asarray(Image.fromarray(raster, mode="F").resize(
                (width, height), Image.Resampling.BOX)), 0.0, 1.0).astype(np.float32)
        return image, "" if blank else "your drawing"

    def strokes(self) -> list[dict[str, Any]]:
        """The strokes as the browser takes them: ``[{id, width, points: [x0, y0, …]}]``."""
        with self._lock:
            return [{"id": stroke_id, "width": width, "points": [round(v, 2) for point in points for v in point]}
                    for stroke_id, (width, points) in zip(self.ids, self.ink.strokes)]

    # ------------------------------------------------------------------ listeners
    def on_change(self, callback: Callable[[str], Any], remove: bool = False) -> None:
        """Call ``callback(what)`` after every change; ``what`` is ``"stroke"`` (points
        added), ``"strokes"`` (a stroke ended, was undone or the strokes were set),
        ``"cleared"`` or ``"loaded"``. ``remove=True`` stops calling it."""
        if not callable(callback):
            raise TypeError(f"callback must be a function of what changed; got {type(callback).__name__}")
        with self._lock:
            self._listeners = [c for c in self._listeners if c != callback]
            if not remove:
                self._listeners.append(callback)

    def _changed(self, what: str) -> None:
        if what != "loaded":
            self.source = ""
        for callback in list(self._listeners):
            callback(what)

    # ------------------------------------------------------------------ the pad's messages
    def stroke(self, stroke_id: Any, width: Any, points: Any, start: bool = False, end: bool = False) -> None:
        """Points of a stroke drawn in the browser: ``[x0, y0, x1, y1, …]`` in pad pixels.

        Starts a new stroke when ``start`` (or when the stroke's start was refused);
        ``end`` closes it. Nothing changes when the message is refused.

        Raises:
            TypeError, ValueError: An id, width or points that name no stroke (the message says which).
        """
        if not isinstance(stroke_id, str) or not 0 < len(stroke_id) <= 64:
            raise TypeError(f"stroke id must be a string of 1–64 characters; got {stroke_id!r:.40}")
        if isinstance(width, bool) or not isinstance(width, (int, float)) or not math.isfinite(width) \
                or not BRUSH_MIN <= width <= BRUSH_MAX:
            raise ValueError(f"stroke width must be a number, {BRUSH_MIN}–{BRUSH_MAX}; got {width!r:.40}")
        if not isinstance(points, list) or len(points) % 2 or len(points) > 2 * MAX_POINTS:
            raise ValueError(f"points must be a flat list [x0, y0, x1, y1, ...] of at most {MAX_POINTS} points")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in points):
            raise TypeError("points must be numbers (got null or a non-number)")
        array = np.asarray(points, dtype=float).reshape(-1, 2)
        if not np.all(np.isfinite(array)):
            raise ValueError("points must be finite (got NaN or inf)")
        limit = 4.0 * self.size
        if array.size and np.abs(array).max() > limit:
            raise ValueError(f"points must lie within ±{limit:g} pad pixels")
        with self._lock:
            if (start or self.open != stroke_id) and len(array):
                # a new stroke (or the rest of one whose start was refused)
                self.ink.begin(array[0, 0], array[0, 1], float(width))
                self.ids.append(stroke_id)
                self.open = stroke_id
                array = array[1:]
            if self.open == stroke_id:
                self.ink.extend_many(array.tolist())
                if end:
                    self.open = None
        self._changed("strokes" if end else "stroke")

    def abandon(self) -> None:
        """Forget which stroke is under the pen (its message was refused): the next
        points start a new stroke."""
        with self._lock:
            self.open = None

    def undo(self) -> bool:
        """Remove the last stroke; False when there was none."""
        with self._lock:
            if not self.ink.undo():
                return False
            self.ids.pop()
            self.open = None
        self._changed("strokes")
        return True

    def clear(self) -> None:
        """Remove every stroke and any loaded picture."""
        with self._lock:
            self.ink.clear()
            self.ids.clear()
            self.open = None
            self.picture = None
        self._changed("cleared")

    # ------------------------------------------------------------------ drawings made in code
    def set_strokes(self, strokes: Sequence[tuple[float, Sequence[tuple[float, float]]]]) -> None:
        """Replace the drawing by ``strokes``: ``(width, [(x, y), ...])`` in pad pixels.

        Every stroke is checked first: a bad one refuses them all and changes nothing.

        Raises:
            TypeError, ValueError: The first bad stroke, by number.
        """
        if isinstance(strokes, (str, bytes)) or not isinstance(strokes, (list, tuple)):
            raise TypeError(f"strokes must be a list of (width, [(x, y), ...]); got {type(strokes).__name__}")
        checked = []
        for number, stroke in enumerate(strokes):
            try:
                width, points = stroke
            except (TypeError, ValueError):
                raise TypeError(f"stroke {number} must be (width, [(x, y), ...]); got {stroke!r:.60}") from None
            if isinstance(width, bool) or not isinstance(width, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(width) or not BRUSH_MIN <= width <= BRUSH_MAX:
                raise ValueError(f"stroke {number}: width must be a number, {BRUSH_MIN}–{BRUSH_MAX}; got {width!r:.40}")
            try:
                array = np.asarray(points, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"stroke {number}: points must be numbers (x, y); got {points!r:.60}") from None
            if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
                raise ValueError(f"stroke {number}: points must be a non-empty list of (x, y); got shape {array.shape}")
            if not np.all(np.isfinite(array)) or np.abs(array).max() > 4.0 * self.size:
                raise ValueError(f"stroke {number}: points must be finite, within ±{4 * self.size} pad pixels")
            checked.append((float(width), array))
        with self._lock:
            self.ink.clear()
            self.ids.clear()
            self.open = None
            self.picture = None
            for width, array in checked:
                self.ink.begin(array[0, 0], array[0, 1], width)
                self.ink.extend_many(array[1:].tolist())
                self.ids.append(self._new_id())
        self._changed("strokes")

    def load_picture(self, picture: Any, source: str = "a loaded picture") -> None:
        """Put a picture (2-D, ink in [0, 1] or uint8 0–255) on the pad, scaled to it;
        strokes drawn afterwards go on top. The network gets it like a drawing.

        Args:
            picture: The picture.
            source: What it is (said by the pads).

        Raises:
            TypeError, ValueError: Not a 2-D picture of ink (nothing changes).
        """
        small = _grey_picture(picture)
        big = self._scaled(small)
        with self._lock:
            self.ink.load(big)
            self.ids.clear()
            self.open = None
            self.picture = small
            self.source = str(source)
        self._changed("loaded")

    def load_image(self, image: Any, source: str) -> None:
        """Put an image the network takes as it is (e.g. a test digit) on the pad: the
        network gets exactly ``image`` until the next stroke; the pad shows it scaled.

        Args:
            image: 2-D, ink in [0, 1] or uint8, of the network's ``image_shape``.
            source: What it is, e.g. ``"test image #12 (class 4)"``.

        Raises:
            TypeError, ValueError: Not a 2-D picture of the network's size (nothing changes).
        """
        small = _grey_picture(image)
        if small.shape != self.image_shape:
            raise ValueError(f"the image is {small.shape[0]}×{small.shape[1]}; the network takes "
                             f"{self.image_shape[0]}×{self.image_shape[1]}")
        big = self._scaled(small)
        with self._lock:
            self.ink.load(big)
            self.ids.clear()
            self.open = None
            self.picture = small
            self.source = str(source)
            self._exact = (small, self.source, self.ink.version)
        self._changed("loaded")

    def _scaled(self, small: np.ndarray) -> np.ndarray:
        from PIL import Image

        return np.asarray(Image.fromarray(small, mode="F").resize((self.size, self.size),
                                                                  Image.Resampling.NEAREST))

    def _new_id(self) -> str:
        self._made += 1
        return f"py-{self._made}"
