"""DigitPad: draw a digit with mouse, touch or pen; see the 28×28 image the network gets."""

from __future__ import annotations

import threading
from typing import Any, Callable

import ipywidgets as widgets
import numpy as np
import traitlets
from ipycanvas import Canvas, hold_canvas

from ..ink import Ink
from ..live import LatestWins
from ..preprocess import to_mnist
from ..render import scale, to_png
from .picture import style

__all__ = ["DigitPad"]


class DigitPad(widgets.VBox):
    """A drawing pad whose ``image`` trait is the drawing as an MNIST-style 28×28 image.

    Strokes are rasterised in Python from the pointer coordinates (no canvas pixels
    travel back). ``image`` is recomputed on a worker thread, newest drawing first,
    at most ``rate`` times per second, so observers (the network views) never fall
    behind the pointer.

    Args:
        size: Side of the square pad in pixels.
        brush: Initial brush width in pad pixels.
        rate: Most ``image`` updates per second while drawing.
        samples: Loads the MNIST test set for the "sample" button; default
            :func:`cnn_widgets.load_mnist`. Called once, on the first click.

    Example:
        >>> pad = DigitPad()
        >>> pad.observe(lambda change: print(change["new"].sum()), "image")
        >>> pad
    """

    image = traitlets.Instance(np.ndarray, help="the drawing as a (28, 28) float32 image in [0, 1]")
    brush = traitlets.Int(20, help="brush width in pad pixels")
    status = traitlets.Unicode("", help="the last message shown under the pad")

    def __init__(self, size: int = 280, brush: int = 20, rate: float = 30.0,
                 samples: Callable[[], Any] | None = None, **kwargs: Any) -> None:
        self.size = int(size)
        self.ink = Ink(self.size, self.size)
        self._drawing = False
        self._loaded_version = -1
        self._samples_loader = samples
        self._samples: tuple[np.ndarray, np.ndarray] | None = None
        self._rng = np.random.default_rng()
        self._lock = threading.Lock()
        self.updates = LatestWins(self._update, rate=rate, on_error=self._worker_failed)

        self.canvas = Canvas(width=self.size, height=self.size,
                             layout=widgets.Layout(width=f"{self.size}px", height=f"{self.size}px"))
        self.canvas.add_class("cnnw-pad-canvas")
        self.preview = widgets.Image(format="png", layout=widgets.Layout(width="112px", height="112px"))
        self.preview.add_class("cnnw-pixelated")
        self.preview.add_class("cnnw-preview")
        self.brush_slider = widgets.IntSlider(brush, min=4, max=48, description="brush",
                                              layout=widgets.Layout(width="220px"))
        self.clear_button = widgets.Button(description="clear", icon="eraser",
                                           layout=widgets.Layout(width="80px"))
        self.undo_button = widgets.Button(description="undo", icon="undo",
                                          layout=widgets.Layout(width="80px"))
        self.sample_class = widgets.Dropdown(options=list(range(10)), value=7, description="sample",
                                             layout=widgets.Layout(width="140px"))
        self.sample_button = widgets.Button(description="load", tooltip="load a real MNIST test digit",
                                            layout=widgets.Layout(width="60px"))
        self.status_label = widgets.HTML("")
        self.status_label.add_class("cnnw-pad-status")
        for button, css in ((self.clear_button, "cnnw-clear"), (self.undo_button, "cnnw-undo"),
                            (self.sample_button, "cnnw-sample")):
            button.add_class(css)

        traitlets.link((self, "brush"), (self.brush_slider, "value"))
        self.clear_button.on_click(lambda _: self.clear())
        self.undo_button.on_click(lambda _: self.undo())
        self.sample_button.on_click(lambda _: self.load_sample(self.sample_class.value))
        self.canvas.on_mouse_down(self._pointer_down)
        self.canvas.on_mouse_move(self._pointer_move)
        self.canvas.on_mouse_up(self._pointer_up)
        self.canvas.on_mouse_out(self._pointer_up)
        self.canvas.on_touch_start(lambda touches: self._pointer_down(*touches[0]))
        self.canvas.on_touch_move(lambda touches: self._pointer_move(*touches[0]))
        self.canvas.on_touch_end(lambda touches: self._pointer_up())
        self.canvas.on_touch_cancel(lambda touches: self._pointer_up())
        self.canvas.on_client_ready(self._client_ready)

        preview_box = widgets.VBox([widgets.HTML("<b>the network sees</b>"), self.preview])
        super().__init__(
            [
                style(),
                widgets.HBox([self.canvas, preview_box]),
                widgets.HBox([self.brush_slider, self.undo_button, self.clear_button]),
                widgets.HBox([self.sample_class, self.sample_button]),
                self.status_label,
            ],
            **kwargs,
        )
        self.add_class("cnnw-digit-pad")
        if "image" not in kwargs:
            self._set_image(np.zeros((28, 28), np.float32))

    # ------------------------------------------------------------------ pointer
    def _pointer_down(self, x: float, y: float) -> None:
        self._drawing = True
        width = float(self.brush)
        self.ink.begin(x, y, width)
        with hold_canvas():
            self.canvas.fill_style = "#ffffff"
            self.canvas.stroke_style = "#ffffff"
            self.canvas.line_cap = "round"
            self.canvas.line_join = "round"
            self.canvas.line_width = width
            self.canvas.fill_circle(x, y, width / 2)
        self.updates.submit(self.ink.version)

    def _pointer_move(self, x: float, y: float) -> None:
        if not self._drawing:
            return
        previous = self.ink.extend(x, y)
        if previous is not None:
            self.canvas.stroke_line(previous[0], previous[1], x, y)
            self.updates.submit(self.ink.version)

    def _pointer_up(self, *_: float) -> None:
        self._drawing = False

    # ------------------------------------------------------------------ actions
    def clear(self) -> None:
        """Remove the drawing."""
        self._drawing = False
        self.ink.clear()
        self.canvas.clear()
        self.updates.submit(self.ink.version)

    def undo(self) -> None:
        """Remove the last stroke."""
        self._drawing = False
        if self.ink.undo():
            self._redraw()
            self.updates.submit(self.ink.version)

    def load_sample(self, digit: int) -> None:
        """Replace the drawing by a random MNIST test image of class ``digit``.

        Shows why not under the pad when the data set is not available.
        """
        try:
            if self._samples is None:
                loader = self._samples_loader
                if loader is None:
                    from ..data import load_mnist as loader
                self._samples = loader()[1]
            images, labels = self._samples
            choices = np.flatnonzero(labels == digit)
            if choices.size == 0:
                raise ValueError(f"the test set has no image of class {digit}")
        except (OSError, ValueError, RuntimeError) as error:
            self._show(f"No sample: {error}", error=True)
            return
        index = int(self._rng.choice(choices))
        picture = images[index].astype(np.float32) / 255.0
        factor = self.size / picture.shape[0]
        big = np.kron(picture, np.ones((int(np.ceil(factor)),) * 2, np.float32))[:self.size, :self.size]
        self._drawing = False
        self.ink.load(big)
        self._loaded_version = self.ink.version
        self._redraw()
        self._show(f"MNIST test image #{index} (class {digit})")
        # The real image, not a re-processed one: the network sees the data set as is.
        self._set_image(picture)

    # ------------------------------------------------------------------ rendering
    def _redraw(self) -> None:
        with hold_canvas():
            self.canvas.clear()
            if self.ink.base.any():
                grey = (self.ink.base * 255).astype(np.uint8)
                self.canvas.put_image_data(np.dstack([grey, grey, grey, np.full_like(grey, 255)]), 0, 0)
            self.canvas.stroke_style = self.canvas.fill_style = "#ffffff"
            self.canvas.line_cap = self.canvas.line_join = "round"
            for width, points in self.ink.strokes:
                self.canvas.line_width = width
                if len(points) > 1:
                    self.canvas.stroke_lines(points)
                self.canvas.fill_circle(points[0][0], points[0][1], width / 2)

    def _client_ready(self) -> None:
        # See Picture._client_ready: a (re)loaded page needs an explicit canvas switch.
        self.canvas._canvas_manager._current_canvas = None
        if not self.ink.empty:
            self._redraw()

    def _update(self, version: int) -> None:
        # Always the newest drawing, whatever version was submitted; nothing to do
        # when the ink has not changed since a sample was loaded (that image is exact).
        if self.ink.version == self._loaded_version:
            return
        self._set_image(to_mnist(self.ink.raster.copy()))

    def _set_image(self, image: np.ndarray) -> None:
        with self._lock:
            # the preview first: it is on its way while the views below compute
            self.preview.value = to_png(scale(image, 0.0, 1.0), "grey")
            self.image = image

    def _show(self, message: str, error: bool = False) -> None:
        self.status = message
        css = ' class="cnnw-error"' if error else ""
        self.status_label.value = f"<span{css}>{message}</span>" if message else ""

    def _worker_failed(self, error: BaseException, details: str) -> None:
        self._show(f"Could not update the image: {error}", error=True)
