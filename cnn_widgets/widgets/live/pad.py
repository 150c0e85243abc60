"""DigitPad: draw a digit with mouse, touch or pen; see the image the network gets.

The pad is a view of its session's drawing (:class:`~cnn_widgets.drawing.drawing.Drawing`).
The ink is drawn in the browser by the pad's own front-end module (``pad.js``, an
anywidget: no build step, no CDN, so it works offline in Voila, JupyterLab and
Notebook 7), which sends the stroke points at most once per animation frame. The pad
hands them to the drawing — nothing more on the comm thread — and the session's live
model turns the newest drawing into the image and every layer's activations on its
own runner. The kernel is the source of truth for what a (re)loaded page shows.

Where the browser computes the model (:mod:`.browser_network`), the pad's module also
makes the image from the strokes (as the kernel does: Ink's raster, ``to_mnist``) and
has the browser's network compute every layer on each frame, so the live views follow
the pen with no kernel message. The kernel tells the browser what changed, not
everything: a finished stroke is answered with that stroke alone. The browser keeps
the strokes in its localStorage (keyed by the page) and gives them to a new kernel
after a reload.
"""

from __future__ import annotations

import pathlib
from typing import Any, Sequence

import anywidget
import ipywidgets as widgets
import numpy as np
import traitlets

from ...drawing.drawing import BRUSH_MAX, BRUSH_MIN, check_brush
from ...render import grey_png
from ..controls import Picker
from ..picture import style
from ..view import SessionView, StatusLine
from .browser_network import browser_network, widget_ref
from .live_view import drawing_open, live_view

__all__ = ["DigitPad", "InkCanvas"]

_HERE = pathlib.Path(__file__).parent
#: The pad's module: its image for the network (pad_image.js), then the pad itself (pad.js).
ESM = (_HERE / "pad_image.js").read_text() + (_HERE / "pad.js").read_text()


class InkCanvas(anywidget.AnyWidget):
    """The pad's drawing surface: ink drawn in the browser, stroke points sent to the kernel.

    Its traits are what the browser shows; :class:`DigitPad` sets them and handles
    its messages.
    """

    _esm = ESM
    _css = _HERE / "pad.css"
    size = traitlets.Int(280, help="side of the square pad, pixels").tag(sync=True)
    brush = traitlets.Int(20, help="brush width, pad pixels").tag(sync=True)
    rate = traitlets.Float(30.0, help="most stroke messages a second (the kernel's update rate)").tag(sync=True)
    brush_min = traitlets.Int(BRUSH_MIN, help="thinnest brush, pad pixels").tag(sync=True)
    brush_max = traitlets.Int(BRUSH_MAX, help="widest brush, pad pixels").tag(sync=True)
    strokes = traitlets.List(help="[{id, width, points: [x0, y0, x1, y1, ...]}] in pad pixels").tag(sync=True)
    base = traitlets.Bytes(b"", help="PNG of a loaded picture under the strokes (empty: none)").tag(sync=True)
    base_ink = traitlets.Bytes(b"", help="the loaded picture's ink, float32 rows × cols (empty: none)").tag(
        sync=True)
    base_shape = traitlets.List(help="[rows, cols] of base_ink").tag(sync=True)
    exact = traitlets.Bool(False, help="the network gets the loaded image as it is (no stroke since)").tag(
        sync=True)
    image_shape = traitlets.List([28, 28], help="[rows, cols] of the grey image the network takes").tag(sync=True)
    network = traitlets.Unicode("", help="the BrowserNetwork that computes the drawing in the browser "
                                         "(an anywidget reference; empty: the kernel computes)").tag(sync=True)

    @traitlets.validate("brush")
    def _valid_brush(self, proposal: dict[str, Any]) -> int:
        return check_brush(proposal["value"])


class DigitPad(SessionView, widgets.VBox):
    """A drawing pad over the session's drawing, with the image the network gets beside it.

    Args:
        session: A :class:`~cnn_widgets.session.Session` (its drawing, its live model,
            its test images for "load"), or a model (a session of its own), or None
            (the embedded MNIST CNN).
        brush: Brush width in pad pixels (``BRUSH_MIN``–``BRUSH_MAX``).

    Example:
        >>> pad = DigitPad(session)
        >>> pad.set_strokes([(18, [(140, 40), (140, 240)])])   # a "1", drawn in code
        >>> session.live.wait(); session.live.probabilities.argmax()
        1
    """

    brush = traitlets.Int(20, help="brush width in pad pixels").tag(minimum=BRUSH_MIN, maximum=BRUSH_MAX)
    status = traitlets.Unicode("", help="the last message shown under the pad (plain text)")

    def __init__(self, session: Any = None, *, brush: int = 20, **kwargs: Any) -> None:
        brush = check_brush(brush)
        self._attach(session)
        self.drawing = self.session.drawing
        if self.drawing is None:
            height, width, channels = self.session.model.input_shape
            if self._own_session:
                self.session.close()
            raise ValueError(f"this model takes {height}×{width}×{channels} images; the pad draws grey images "
                             "(one channel, a fixed size): set session.live.image instead")
        self.live = self.session.live
        self.size = self.drawing.size
        self._rng = np.random.default_rng()
        self._picture_version = -1

        network, _ = browser_network(self.session)
        self.canvas = InkCanvas(size=self.size, brush=brush, rate=float(self.live.runner.rate),
                                image_shape=list(self.drawing.image_shape),
                                network=widget_ref(network) if network is not None else "")
        self._answer: tuple[str, Any] | None = None  # while this pad handles its browser's message
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
        names = self.session.model.class_names
        self.sample_class = Picker(options=[(name, index) for index, name in enumerate(names)],
                                   value=min(7, len(names) - 1), description="sample",
                                   layout=widgets.Layout(width="140px"))
        self.sample_button = widgets.Button(description="load", tooltip="load a real test image of this class",
                                            layout=widgets.Layout(width="60px"))
        self.sample_button.add_class("cnnw-sample")
        self.status_line = StatusLine("cnnw-pad-status")
        self.status_line.layout.width = f"{self.size + 120}px"
        # what the network sees, drawn by the browser on every frame (None: the kernel's picture)
        self.browser = live_view(self, "image", zoom=4)
        if self.browser is not None:
            self.preview.add_class("cnnw-preview-kernel")
        preview_box = widgets.VBox([widgets.HTML("<b>the network sees</b>"), self.preview,
                                    *([self.browser] if self.browser is not None else [])])
        super().__init__(
            [style(), widgets.HBox([self.surface, preview_box]),
             widgets.HBox([self.sample_class, self.sample_button]), self.status_line],
            **kwargs,
        )
        self.brush = brush
        self.add_class("cnnw-digit-pad")
        traitlets.link((self, "brush"), (self.canvas, "brush"))
        self.canvas.on_msg(self._on_message)
        self.sample_button.on_click(lambda _: self.load_sample(self.sample_class.value))
        self.sample_class.observe(self._sample_class_chosen, "value")
        self._offer_samples()
        self._sync_canvas(base=True)
        self._show_image()
        self._show_ink()
        self.drawing.on_change(self._drawing_changed)
        self._watch(self.live, self._image_changed, "image")
        self._watch(self.live, self._live_error, "error")

    @traitlets.validate("brush")
    def _valid_brush(self, proposal: dict[str, Any]) -> int:
        return check_brush(proposal["value"])

    @property
    def image(self) -> np.ndarray:
        """The image in front of the network (the session's live model's; read only)."""
        return self.live.image

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the network has seen the newest drawing; False on timeout."""
        return self.live.wait(timeout)

    # ------------------------------------------------------------------ the drawing, in code
    def set_strokes(self, strokes: Sequence[tuple[float, Sequence[tuple[float, float]]]]) -> None:
        """Replace the drawing by ``strokes``: ``(width, [(x, y), ...])`` in pad pixels.

        The same path as strokes drawn by hand: the browser shows them, the network
        follows. Raises ValueError/TypeError (and changes nothing) on bad input.
        """
        self.drawing.set_strokes(strokes)
        self._say("")

    def load_picture(self, picture: Any) -> None:
        """Replace the drawing by a picture (2-D, ink in [0, 1] or uint8 0–255), scaled to the pad.

        Strokes drawn afterwards go on top of it; the network gets it the way it gets
        a drawing. Use :meth:`load_test_image` for a data-set image as it is.
        """
        self.drawing.load_picture(picture)
        self._say("")

    def load_sample(self, label: int) -> None:
        """Replace the drawing by a random test image of class ``label`` (as it is in the
        data set). Says why not in the status line when there is none."""
        data = self.session.data.test_set
        if data is None:
            self._say(f"No sample: {self.session.data.message or 'no test images'}", error=True)
            return
        choices = data.of_class(label)
        if choices.size == 0:
            self._say(f"No sample: the test set has no image of class {label}", error=True)
            return
        self.load_test_image(int(self._rng.choice(choices)))

    def load_test_image(self, index: int) -> None:
        """Replace the drawing by test image ``index`` of the session's test set, as it is
        (e.g. a mistake picked in the confusion browser). Says why not in the status line.

        Raises:
            TypeError: ``index`` is not a whole number.
        """
        try:
            self.session.show_test_image(index)  # the pad says what it shows when the drawing changes
        except ValueError as error:
            self._say(f"No test image: {error}", error=True)

    def clear(self) -> None:
        """Remove the drawing."""
        self.drawing.clear()

    def undo(self) -> None:
        """Remove the last stroke."""
        self.drawing.undo()

    def _sample_class_chosen(self, change: dict[str, Any]) -> None:
        if change["new"] is None:  # the frontend sent {"index": null}: keep the last class
            self.sample_class.value = change["old"]
            self._say(f"no sample class chosen (an empty choice); kept {change['old']!r}", error=True)

    def _offer_samples(self) -> None:
        if self.session.data.test_set is None:
            why = self.session.data.message or "no test images"
            self.sample_button.disabled = self.sample_class.disabled = True
            self.sample_button.tooltip = why
            self._say(f"load: {why}")

    # ------------------------------------------------------------------ frontend messages
    def _on_message(self, _: Any, content: Any, buffers: Any) -> None:
        if self.closed:
            return
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if kind == "stroke":
                if content.get("end"):
                    self._answer = ("committed", content.get("id"))
                self.drawing.stroke(content.get("id"), content.get("width"), content.get("points"),
                                    start=bool(content.get("start")), end=bool(content.get("end")))
            elif kind == "undo":
                self._answer = ("removed", self.drawing.ids[-1] if self.drawing.ids else None)
                self.undo()
            elif kind == "clear":
                self.clear()
            elif kind == "brush":
                self.brush = check_brush(content.get("value"))
            else:
                raise ValueError(f"unknown pad message {kind!r}; expected stroke, undo, clear or brush")
            if self.status_line.error:
                self._say("")  # drawing works again (a stroke, undo, clear or brush): the refusal is history
        except (TypeError, ValueError, traitlets.TraitError) as error:
            self._say(f"Ignored a pointer message: {error}", error=True)
            if kind == "stroke" and isinstance(content.get("id"), str):
                self.canvas.send({"type": "rejected", "id": content["id"][:64]})
            self.drawing.abandon()
            self._sync_canvas()
            self.canvas.send_state("brush")
        finally:
            self._answer = None

    # ------------------------------------------------------------------ kernel → browser
    def _drawing_changed(self, what: str) -> None:
        """The drawing changed (any pad, or code): the browser gets what changed once a
        stroke ends, not on every move (its own ink is already on screen). A stroke this
        pad's browser finished or undid is answered with that stroke alone, so the traffic
        per stroke does not grow with the strokes before it; other changes send the whole
        drawing."""
        if self.closed or what == "stroke":
            return
        answer = self._answer
        if answer is not None and what == "strokes":
            self._answer = None
            kind, stroke_id = answer
            kept = self.canvas.strokes  # kept in step in place: the browser has the change already
            if kind == "committed":
                made = self.drawing.stroke_dict(stroke_id) if isinstance(stroke_id, str) else None
                if made is not None:
                    kept.append(made)
                    self.canvas.send({"type": "committed", "stroke": made})
                    return
            elif kind == "removed" and kept and kept[-1]["id"] == stroke_id:
                kept.pop()
                self.canvas.send({"type": "removed", "id": stroke_id})
                return
        self._sync_canvas(base=what in ("loaded", "cleared"))

    def _sync_canvas(self, base: bool = False) -> None:
        with self.canvas.hold_sync():
            if base:
                picture = self.drawing.picture
                loaded = picture is not None and bool(self.drawing.ink.base.any())
                self.canvas.base = grey_png(picture, 1) if loaded else b""
                self.canvas.base_ink = np.ascontiguousarray(picture, "<f4").tobytes() if loaded else b""
                self.canvas.base_shape = list(picture.shape) if loaded else []
            self.canvas.exact = self.drawing.exact
            self.canvas.strokes = self.drawing.strokes()

    def _image_changed(self, change: dict[str, Any]) -> None:
        if self.browser is not None and drawing_open(self.session):
            return  # the browser shows every frame of a stroke; the kernel's picture once it ends
        self._show_image()
        loaded = self.drawing.source
        if loaded and self.live.source == loaded and self.status != loaded:
            self._say(loaded)  # what the network sees now, e.g. a test image picked in another view
        if self.drawing.open is None:  # the exported picture: once a stroke is finished, not per move
            self._show_ink()

    def _show_image(self) -> None:
        self.preview.value = self.live.image_png()

    def _show_ink(self) -> None:
        version = self.drawing.version
        if version != self._picture_version:
            self._picture_version = version
            self.picture.value = grey_png(self.drawing.ink.raster[::2, ::2], 1)

    def _live_error(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._say(f"The network cannot take this drawing: {change['new']}", error=True)

    def _closing(self) -> None:
        if getattr(self, "drawing", None) is not None:
            self.drawing.on_change(self._drawing_changed, remove=True)

