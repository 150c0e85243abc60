"""DigitPad: draw a digit with mouse, touch or pen; see the 28×28 image the network gets.

The ink is drawn in the browser by the pad's own front-end module
(``pad.js``, shipped as an anywidget: no build step, no CDN, so it works
offline in Voila, JupyterLab and Notebook 7). The browser sends the stroke points,
at most one message per animation frame; the kernel rasterises them with
:class:`~cnn_widgets.drawing.ink.Ink` and :func:`~cnn_widgets.drawing.preprocess.to_mnist` — the same
path as a drawing made in code — and is the single source of truth for what a
(re)loaded page shows.
"""

from __future__ import annotations

import math
import pathlib
import threading
from typing import Any, Sequence

import anywidget
import ipywidgets as widgets
import numpy as np
import traitlets

from ...drawing.ink import Ink
from ...session import LatestWins

from ...drawing.preprocess import to_mnist
from ...render import scale, to_png
from ..picture import style
from ..view import Picker, StatusLine

__all__ = ["DigitPad", "InkCanvas", "BRUSH_MIN", "BRUSH_MAX"]

BRUSH_MIN = 1  #: thinnest brush, pad pixels
BRUSH_MAX = 64  #: widest brush, pad pixels
MAX_POINTS = 4096  #: most points one message may carry (the browser sends ≤ 2048)
_HERE = pathlib.Path(__file__).parent


def _brush(value: Any) -> int:
    """``value`` as a brush width, or a ValueError/TypeError naming what is allowed."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"brush must be a number of pad pixels; got {type(value).__name__}")
    if not math.isfinite(value) or int(value) != value:
        raise ValueError(f"brush must be a whole number of pad pixels; got {value!r}")
    if not BRUSH_MIN <= value <= BRUSH_MAX:
        raise ValueError(f"brush must be {BRUSH_MIN}–{BRUSH_MAX} pad pixels; got {value!r}")
    return int(value)


class InkCanvas(anywidget.AnyWidget):
    """The pad's drawing surface: ink drawn in the browser, stroke points sent to the kernel.

    Its traits are what the browser shows; :class:`DigitPad` sets them and handles
    its messages.
    """

    _esm = _HERE / "pad.js"
    _css = _HERE / "pad.css"
    size = traitlets.Int(280, help="side of the square pad, pixels").tag(sync=True)
    brush = traitlets.Int(20, help="brush width, pad pixels").tag(sync=True)
    rate = traitlets.Float(30.0, help="most stroke messages a second (the kernel's update rate)").tag(sync=True)
    brush_min = traitlets.Int(BRUSH_MIN).tag(sync=True)
    brush_max = traitlets.Int(BRUSH_MAX).tag(sync=True)
    strokes = traitlets.List(help="[{id, width, points: [x0, y0, x1, y1, ...]}] in pad pixels").tag(sync=True)
    base = traitlets.Bytes(b"", help="PNG of a loaded picture under the strokes (empty: none)").tag(sync=True)

    @traitlets.validate("brush")
    def _valid_brush(self, proposal: dict[str, Any]) -> int:
        return _brush(proposal["value"])


class DigitPad(widgets.VBox):
    """A drawing pad whose ``image`` trait is the drawing as an MNIST-style 28×28 image.

    The browser draws the ink and sends the points; the kernel keeps them in an
    :class:`~cnn_widgets.drawing.ink.Ink` and recomputes ``image`` on a worker thread,
    newest drawing first, at most ``rate`` times per second, so observers (the
    network views) never fall behind the pen.

    Args:
        session: A :class:`cnn_widgets.session.session.Session`; its test set feeds the
            "load" control. None: the MNIST test split shipped in the package.
        size: Side of the square pad in pixels.
        brush: Brush width in pad pixels (``BRUSH_MIN``–``BRUSH_MAX``).
        rate: Most ``image`` updates per second while drawing.

    Example:
        >>> pad = DigitPad()
        >>> traitlets.dlink((pad, "image"), (live, "image"))
        >>> pad.set_strokes([(18, [(140, 40), (140, 240)])])   # a "1", drawn in code
        >>> pad
    """

    image = traitlets.Instance(np.ndarray, help="the drawing as a (28, 28) float32 image in [0, 1]")
    brush = traitlets.Int(20, help="brush width in pad pixels")
    status = traitlets.Unicode("", help="the last message shown under the pad (plain text)")
    _closed = False

    def __init__(self, session: Any = None, *, size: int = 280, brush: int = 20, rate: float = 30.0,
                 **kwargs: Any) -> None:
        brush = _brush(brush)
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 28 <= size <= 2000:
            raise ValueError(f"size must be a whole number of pixels, 28–2000; got {size!r}")
        if not isinstance(rate, (int, float)) or not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number of updates per second; got {rate!r}")
        self.session = session
        self.size = int(size)
        self.ink = Ink(self.size, self.size)
        self._ids: list[str] = []  # one per Ink stroke: the browser's stroke ids
        self._open: str | None = None  # id of the stroke under the pen
        self._made = 0
        self._loaded_version = -1
        self._picture_version = -1
        self._samples: Any = None
        self._base_picture: np.ndarray | None = None  # a loaded picture at its own size (for the browser)
        self._rng = np.random.default_rng()
        self._lock = threading.RLock()
        self._closed = False
        self.updates = LatestWins(self._update, rate=rate, on_error=self._worker_failed)

        self.canvas = InkCanvas(size=self.size, brush=brush, rate=float(rate))
        self.canvas.on_msg(self._on_message)
        side = f"{self.size}px"
        # The ink as a PNG under the live canvas: what a saved or exported notebook shows.
        self.picture = widgets.Image(format="png", layout=widgets.Layout(
            width=side, height=side, grid_area="1 / 1 / 2 / 2", align_self="flex-start"))
        self.picture.add_class("cnnw-pad-ink")
        self.canvas.layout = widgets.Layout(grid_area="1 / 1 / 2 / 2")
        self.surface = widgets.GridBox([self.picture, self.canvas], layout=widgets.Layout(
            grid_template_columns=side, width=side, overflow="hidden"))
        self.surface.add_class("cnnw-pad-surface")
        self.preview = widgets.Image(format="png", layout=widgets.Layout(width="112px", height="112px"))
        self.preview.add_class("cnnw-pixelated")
        self.preview.add_class("cnnw-preview")
        self.sample_class = Picker(options=list(range(10)), value=7, description="sample",
                                   layout=widgets.Layout(width="140px"))
        self.sample_button = widgets.Button(description="load", tooltip="load a real MNIST test digit",
                                            layout=widgets.Layout(width="60px"))
        self.sample_button.add_class("cnnw-sample")
        self.status_label = StatusLine("cnnw-pad-status")
        self.status_label.layout.width = f"{self.size + 120}px"

        traitlets.link((self, "brush"), (self.canvas, "brush"))
        self.sample_button.on_click(lambda _: self.load_sample(self.sample_class.value))
        self.sample_class.observe(self._sample_class_chosen, "value")
        preview_box = widgets.VBox([widgets.HTML("<b>the network sees</b>"), self.preview])
        super().__init__(
            [
                style(),
                widgets.HBox([self.surface, preview_box]),
                widgets.HBox([self.sample_class, self.sample_button]),
                self.status_label,
            ],
            **kwargs,
        )
        self.brush = brush
        self.add_class("cnnw-digit-pad")
        self._offer_samples()
        if session is not None:
            session.on_close(self.close)
        if "image" not in kwargs:
            self._set_image(np.zeros((28, 28), np.float32), picture=True)

    @traitlets.validate("brush")
    def _valid_brush(self, proposal: dict[str, Any]) -> int:
        return _brush(proposal["value"])

    # ------------------------------------------------------------------ the drawing, in code
    def set_strokes(self, strokes: Sequence[tuple[float, Sequence[tuple[float, float]]]]) -> None:
        """Replace the drawing by ``strokes``: ``(width, [(x, y), ...])`` in pad pixels.

        The same path as strokes drawn by hand: the browser shows them, ``image``
        follows. Raises ValueError/TypeError (and changes nothing) on bad input.
        """
        checked = []
        for number, stroke in enumerate(strokes):
            try:
                width, points = stroke
            except (TypeError, ValueError):
                raise TypeError(f"stroke {number} must be (width, [(x, y), ...]); got {stroke!r:.60}") from None
            width = float(_brush(width) if float(width).is_integer() else width)
            if not BRUSH_MIN <= width <= BRUSH_MAX:
                raise ValueError(f"stroke {number}: width must be {BRUSH_MIN}–{BRUSH_MAX}; got {width}")
            array = np.asarray(points, dtype=float)
            if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
                raise ValueError(f"stroke {number}: points must be a non-empty list of (x, y); "
                                 f"got shape {array.shape}")
            if not np.all(np.isfinite(array)):
                raise ValueError(f"stroke {number}: points must be finite (no NaN or inf)")
            checked.append((width, array))
        with self._lock:
            self.ink.clear()
            self._ids.clear()
            self._open = None
            for width, array in checked:
                self.ink.begin(array[0, 0], array[0, 1], width)
                self.ink.extend_many(array[1:].tolist())
                self._ids.append(self._new_id())
            self._sync_canvas(base=True)
        self._show("")
        self._changed()

    def load_image(self, picture: Any) -> None:
        """Replace the drawing by a picture (2-D, ink in [0, 1] or uint8 0–255), scaled to the pad.

        Strokes drawn afterwards go on top of it. ``image`` becomes the picture run
        through :func:`~cnn_widgets.drawing.preprocess.to_mnist`; use :meth:`load_sample` for
        a data-set image as it is.
        """
        big, _ = self._prepare(picture)
        with self._lock:
            self.ink.load(big)
            self._ids.clear()
            self._open = None
            self._sync_canvas(base=True)
        self._show("")
        self._changed()

    def _sample_class_chosen(self, change: dict[str, Any]) -> None:
        if change["new"] is None:  # the frontend sent {"index": null}: keep the last class
            self.sample_class.value = change["old"]
            self._show(f"no sample class chosen (an empty choice); kept {change['old']!r}; choose 0–9", error=True)

    def load_sample(self, digit: int) -> None:
        """Replace the drawing by a random test image of class ``digit``.

        ``image`` is the image exactly as in the data set. Says why not in the
        status line when there is no test set.
        """
        data = self._test_set()
        if data is None:
            self._show(f"No sample: {self._no_samples}", error=True)
            return
        choices = np.flatnonzero(np.asarray(data[1]).reshape(-1) == digit)
        if choices.size == 0:
            self._show(f"No sample: the test set has no image of class {digit}", error=True)
            return
        self.load_test_image(int(self._rng.choice(choices)))

    def load_test_image(self, index: int) -> None:
        """Replace the drawing by test image ``index`` of the session's test set, as it is
        (e.g. a mistake picked in the confusion browser). Says why not in the status line.

        Raises:
            TypeError: ``index`` is not a whole number.
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be a whole number; got {index!r}")
        data = self._test_set()
        if data is None:
            self._show(f"No test image: {self._no_samples}", error=True)
            return
        images, labels = data
        if not 0 <= index < len(images):
            self._show(f"No test image #{index}: the test set has images 0–{len(images) - 1}", error=True)
            return
        try:
            big, picture = self._prepare(images[index])
        except (TypeError, ValueError) as error:
            self._show(f"No test image: {error}", error=True)
            return
        with self._lock:
            self.ink.load(big)
            self._ids.clear()
            self._open = None
            self._loaded_version = self.ink.version
            self._sync_canvas(base=True)
        self._show(f"test image #{index} (class {int(np.asarray(labels).reshape(-1)[index])})")
        self._set_image(picture, picture=True)  # the real image: the network sees the data set as is

    def clear(self) -> None:
        """Remove the drawing."""
        with self._lock:
            self.ink.clear()
            self._ids.clear()
            self._open = None
            self._sync_canvas(base=True)
        self._changed()

    def undo(self) -> None:
        """Remove the last stroke."""
        with self._lock:
            if not self.ink.undo():
                return
            self._ids.pop()
            self._open = None
            self._sync_canvas()
        self._changed()

    def close(self) -> None:
        """Stop the worker and close every part of the pad; nothing is sent afterwards."""
        if self._closed or not hasattr(self, "status_label"):
            return super().close()
        self._closed = True
        self.updates.close()
        boxes = list(self.children)
        for part in (self.canvas, self.picture, self.surface, self.preview, self.sample_class,
                     self.sample_button, self.status_label, *boxes):
            for child in getattr(part, "children", ()):
                child.close()
            part.close()
        super().close()

    # ------------------------------------------------------------------ frontend messages
    def _on_message(self, _: Any, content: Any, buffers: Any) -> None:
        if self._closed:
            return
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if kind == "stroke":
                self._stroke(content)
            elif kind == "undo":
                self.undo()
            elif kind == "clear":
                self.clear()
            elif kind == "brush":
                self.brush = _brush(content.get("value"))
            else:
                raise ValueError(f"unknown pad message {kind!r}; expected stroke, undo, clear or brush")
        except (TypeError, ValueError, traitlets.TraitError) as error:
            self._show(f"Ignored a pointer message: {error}", error=True)
            if kind == "stroke" and isinstance(content.get("id"), str):
                self.canvas.send({"type": "rejected", "id": content["id"][:64]})
            with self._lock:
                self._open = None
                self._sync_canvas()
            self.canvas.send_state("brush")

    def _stroke(self, content: dict[str, Any]) -> None:
        stroke_id, width, points = content.get("id"), content.get("width"), content.get("points")
        if not isinstance(stroke_id, str) or not 0 < len(stroke_id) <= 64:
            raise TypeError(f"stroke id must be a string of 1–64 characters; got {stroke_id!r:.40}")
        if isinstance(width, bool) or not isinstance(width, (int, float)) or not math.isfinite(width) \
                or not BRUSH_MIN <= width <= BRUSH_MAX:
            raise ValueError(f"stroke width must be a number, {BRUSH_MIN}–{BRUSH_MAX}; got {width!r:.40}")
        if not isinstance(points, list) or len(points) % 2 or len(points) > 2 * MAX_POINTS:
            raise ValueError("points must be a flat list [x0, y0, x1, y1, ...] of at most "
                             f"{MAX_POINTS} points")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in points):
            raise TypeError("points must be numbers (got null or a non-number)")
        array = np.asarray(points, dtype=float).reshape(-1, 2)
        if not np.all(np.isfinite(array)):
            raise ValueError("points must be finite (got NaN or inf)")
        limit = 4.0 * self.size
        if array.size and np.abs(array).max() > limit:
            raise ValueError(f"points must lie within ±{limit:g} pad pixels")
        start, end = bool(content.get("start")), bool(content.get("end"))
        with self._lock:
            if (start or self._open != stroke_id) and len(array):
                # a new stroke (or the rest of one whose start was refused)
                self.ink.begin(array[0, 0], array[0, 1], float(width))
                self._ids.append(stroke_id)
                self._open = stroke_id
                array = array[1:]
            if self._open == stroke_id:
                self.ink.extend_many(array.tolist())
                if end:
                    self._open = None
                    self._sync_canvas()
        self._changed()

    # ------------------------------------------------------------------ kernel → browser
    def _sync_canvas(self, base: bool = False) -> None:
        """Send the kernel's drawing to the browser (called with the lock held)."""
        strokes = [{"id": stroke_id, "width": width,
                    "points": [round(v, 2) for point in points for v in point]}
                   for stroke_id, (width, points) in zip(self._ids, self.ink.strokes)]
        with self.canvas.hold_sync():
            if base:
                loaded = self.ink.base.any() and self._base_picture is not None
                self.canvas.base = to_png(scale(self._base_picture, 0.0, 1.0), "grey") if loaded else b""
            self.canvas.strokes = strokes

    def _prepare(self, picture: Any) -> tuple[np.ndarray, np.ndarray]:
        """A picture as (pad-sized ink, the picture in [0, 1]); remembers the small one for the browser."""
        from PIL import Image

        array = np.asarray(picture)
        if array.ndim == 3 and array.shape[-1] == 1:
            array = array[..., 0]
        if array.ndim != 2 or array.size == 0:
            raise ValueError(f"a picture must be a 2-D array (height, width); got shape {array.shape}")
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise TypeError(f"a picture must be numeric; got dtype {array.dtype}")
        if array.dtype == np.uint8:
            small = array.astype(np.float32) / 255.0
        else:
            small = array.astype(np.float32)
            if not np.all(np.isfinite(small)) or small.min() < 0 or small.max() > 1:
                raise ValueError("a picture of floats must hold values in [0, 1] (no NaN or inf)")
        big = np.asarray(Image.fromarray(small, mode="F").resize((self.size, self.size), Image.Resampling.NEAREST))
        self._base_picture = small
        return big, small

    # ------------------------------------------------------------------ samples
    def _offer_samples(self) -> None:
        self._no_samples = ""
        if self.session is None:
            return  # the shipped MNIST test split: always there
        data = self.session.data.test_set
        if data is None:
            self._no_samples = self.session.data.message or "no test images"
            self.sample_button.disabled = self.sample_class.disabled = True
            self.sample_button.tooltip = self._no_samples
            self._show(f"load: {self._no_samples}")

    def _test_set(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self._samples is None:
            if self.session is not None:
                data = self.session.data.test_set
                if data is None:
                    self._no_samples = self.session.data.message or "no test images"
                    return None
                self._samples = (data.images, data.labels)
            else:
                from ...data.mnist import mnist_test_split

                self._samples = mnist_test_split()
        return self._samples

    # ------------------------------------------------------------------ the image
    def _changed(self) -> None:
        if not self._closed:
            self.updates.submit(self.ink.version)

    def _new_id(self) -> str:
        self._made += 1
        return f"py-{self._made}"

    def _update(self, _: int) -> None:
        # Always the newest drawing, whatever version was submitted; nothing to do
        # when the ink has not changed since a sample was loaded (that image is exact).
        with self._lock:
            version = self.ink.version
            raster = self.ink.raster.copy()
            settled = self._open is None
        if version == self._loaded_version:
            return
        self._set_image(to_mnist(raster), picture=settled, raster=raster, version=version)

    def _set_image(self, image: np.ndarray, picture: bool = False, raster: np.ndarray | None = None,
                   version: int | None = None) -> None:
        if self._closed:
            return
        version = self.ink.version if version is None else version
        # the preview first: it is on its way while the views below compute
        self.preview.value = to_png(scale(image, 0.0, 1.0), "grey")
        self.image = image
        if picture and version != self._picture_version:
            # the exported picture: once a stroke is finished (not per move), after the views
            self._picture_version = version
            ink = self.ink.raster.copy() if raster is None else raster
            self.picture.value = to_png(scale(ink[::2, ::2], 0.0, 1.0), "grey")

    def _show(self, message: str, error: bool = False) -> None:
        self.status = message
        self.status_label.say(message, error)

    def _worker_failed(self, error: BaseException, details: str) -> None:
        self._show(f"Could not update the image: {error}", error=True)
