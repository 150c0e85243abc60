"""FiltersTakeShape: seed 004 — five image-sized filters trained on one image take its shape."""

from __future__ import annotations

import base64
import html
import math
from typing import Any

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

from ...render import scale, to_png
from ...session import Job

from ...methods.shapes import ShapeRun, filters_take_shape
from ..picture import size, style
from ..controls import Picker
from ..view import SessionView, StatusLine

__all__ = ["FiltersTakeShape"]

_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _grey_png(image: np.ndarray) -> bytes:
    return to_png(scale(image, 0.0, 1.0), "grey")


def _signed_png(values: np.ndarray) -> bytes:
    peak = max(float(np.abs(values).max()), 1e-12)
    return to_png(scale(values, -peak, peak), "diverging")


class FiltersTakeShape(SessionView, widgets.VBox):
    """Train five filters as large as the image on ONE image and watch them take its shape.

    Shows the image, the five random filters, the five trained ones, the emergence
    (Play / scrub, and how alike each filter and the image become), and the
    multiply-and-sum view: image × filter, pixel by pixel, and the sum that is the
    filter's answer — large once the filter looks like the image.

    Args:
        session: A :class:`~cnn_widgets.session.session.Session` (its test images and its
            drawing are the images on offer), a model, or None for the embedded one.
        sample: Index of the test image to start with.
        **settings: ``steps``, ``learning_rate``, ``seed``.
    """

    sample = traitlets.Int(4, help="index of the test image trained on")
    steps = traitlets.Int(120, help="gradient-descent steps")
    learning_rate = traitlets.Float(0.005, help="step size of the gradient descent, in (0, 10]")
    seed = traitlets.Int(0, help="seed of the random filters")
    frame = traitlets.Int(0, help="the emergence frame shown")
    map_index = traitlets.Int(0, help="the filter shown in the multiply-and-sum view")
    result = traitlets.Instance(ShapeRun, allow_none=True, read_only=True, help="the last run, or None")

    def __init__(self, session: Any = None, *, sample: int = 4, **settings: Any) -> None:
        self._attach(session)
        self._job: Job | None = None
        self._source = "sample"
        self.sample_box = widgets.IntText(description="test image", layout=size("170px"))
        self.drawing_button = widgets.Button(description="use the drawing", icon="pencil", layout=size("150px"))
        self.steps_box = widgets.IntText(description="steps", layout=size("150px"))
        self.rate_box = widgets.FloatText(description="learning rate", layout=size("190px"),
                                          style={"description_width": "85px"})
        self.seed_box = widgets.IntText(description="seed", layout=size("140px"))
        self.run_button = widgets.Button(description="Train the five filters", icon="play", button_style="primary",
                                         layout=size("190px"))
        self.status_line = StatusLine("cnnw-shapes-status")
        self.image_view = widgets.Image(format="png", layout=size("112px"))
        self.initial_view = widgets.Image(format="png", layout=size("560px"))
        self.trained_view = widgets.Image(format="png", layout=size("560px"))
        self.emerging_view = widgets.Image(format="png", layout=size("560px"))
        self.play = widgets.Play(0, min=0, max=0, interval=120, description="play the emergence")
        self.frame_slider = widgets.IntSlider(0, min=0, max=0, description="frame", readout=False,
                                              layout=size("300px"))
        self._jslink((self.play, "value"), (self.frame_slider, "value"))
        self.frame_label = widgets.HTML("&nbsp;")
        x_scale, y_scale = bqplot.LinearScale(min=0.0), bqplot.LinearScale(min=-1.0, max=1.0)
        self.curves = bqplot.Lines(x=[0.0, 1.0], y=[[0.0, 0.0]], scales={"x": x_scale, "y": y_scale}, colors=_COLOURS)
        self.chart = bqplot.Figure(
            marks=[self.curves], title="each filter vs the image (correlation)",
            animation_duration=0,
            axes=[bqplot.Axis(scale=x_scale, label="step"),
                  bqplot.Axis(scale=y_scale, side="left", tick_format=".1f", num_ticks=5)],
            fig_margin={"top": 30, "bottom": 40, "left": 45, "right": 10}, layout=size("420px", "220px"))
        self.filter_picker = Picker(description="filter", options=[0], layout=size("140px"))
        self.product_views = [widgets.Image(format="png", layout=size("112px")) for _ in range(3)]
        self.sum_label = widgets.HTML("&nbsp;")
        self.gif_button = widgets.Button(description="GIF", icon="download", disabled=True, layout=size("80px"))
        self.downloads = widgets.HTML()
        for image in [self.image_view, self.initial_view, self.trained_view, self.emerging_view,
                      *self.product_views]:
            image.add_class("cnnw-pixelated")
        for item, css in ((self.run_button, "cnnw-shapes-run"), (self.trained_view, "cnnw-shapes-trained"),
                          (self.drawing_button, "cnnw-shapes-drawing"), (self.status_line, "cnnw-shapes-line"),
                          (self.emerging_view, "cnnw-shapes-emerging"), (self.sum_label, "cnnw-shapes-sum"),
                          (self.play, "cnnw-shapes-play")):
            item.add_class(css)

        def titled(title: str, child: widgets.Widget) -> widgets.VBox:
            return widgets.VBox([widgets.HTML(f"<small>{html.escape(title)}</small>"), child])

        products = widgets.HBox([titled(t, v) for t, v in zip(("image", "filter", "image × filter"),
                                                                self.product_views)])
        super().__init__([
            style(),
            widgets.HTML("<b>Filters take shape</b> — five 28×28 filters trained on one image"),
            widgets.HBox([self.sample_box, self.drawing_button, self.steps_box, self.rate_box, self.seed_box,
                          self.run_button]),
            self.status_line,
            widgets.HBox([titled("the image", self.image_view),
                          widgets.VBox([titled("five random filters", self.initial_view),
                                        titled("the same five after training", self.trained_view)])]),
            widgets.HBox([widgets.VBox([widgets.HBox([self.play, self.frame_slider, self.frame_label]),
                                        self.emerging_view,
                                        widgets.HBox([self.gif_button, self.downloads])]), self.chart]),
            widgets.HTML("<b>Multiply and sum</b>: a filter's answer is the sum of image × filter, pixel by "
                         "pixel — large where the filter has large values under the ink"),
            widgets.HBox([self.filter_picker, products, self.sum_label]),
        ])
        self.add_class("cnnw-filters-take-shape")
        with self.hold_trait_notifications():
            for name, value in settings.items():
                if name not in ("steps", "learning_rate", "seed"):
                    raise TypeError(f"unknown setting {name!r}; the settings are: steps, learning_rate, seed")
                setattr(self, name, value)
            if self.session.data.test_set is not None:
                self.sample = sample
            else:
                self._source = "drawing"  # no test images: the drawing is the image
        for control, name in ((self.sample_box, "sample"), (self.steps_box, "steps"), (self.rate_box, "learning_rate"),
                              (self.seed_box, "seed"), (self.frame_slider, "frame"),
                              (self.filter_picker, "map_index")):
            self._bind(control, name)
        self.run_button.on_click(lambda _: self.run())
        self.drawing_button.on_click(lambda _: self.use_drawing())
        self.gif_button.on_click(lambda _: self.offer_gif())
        self.observe(lambda change: self._show_frame(), ["frame", "map_index"])
        self.observe(lambda change: self.run(source="sample"), "sample")
        self.run()

    # ------------------------------------------------------------------ settings
    def _bind(self, control: widgets.Widget, name: str) -> None:
        control.value = getattr(self, name)

        def from_control(change: dict[str, Any]) -> None:
            try:
                setattr(self, name, change["new"])
            except traitlets.TraitError as error:
                self.status_line.say(str(error), error=True)
                control.value = getattr(self, name)

        control.observe(from_control, "value")
        self.observe(lambda change: setattr(control, "value", change["new"]), name)

    @staticmethod
    def _check(name: str, value: Any, ok: Any, allowed: str) -> Any:
        if value is None or isinstance(value, bool) or not math.isfinite(float(value)) or not ok(float(value)):
            raise traitlets.TraitError(f"{name} must be {allowed}; got {value!r}")
        return value

    @traitlets.validate("sample")
    def _valid_sample(self, proposal: dict[str, Any]) -> int:
        test = self.session.data.test_set
        count = len(test) if test is not None else 0
        if count == 0:
            raise traitlets.TraitError(f"no test images here ({self.session.data.message}); use the drawing")
        return self._check("test image", proposal["value"], lambda v: 0 <= v < count, f"0–{count - 1}")

    @traitlets.validate("steps")
    def _valid_steps(self, proposal: dict[str, Any]) -> int:
        return self._check("steps", proposal["value"], lambda v: 1 <= v <= 5000, "an integer 1–5000")

    @traitlets.validate("learning_rate")
    def _valid_rate(self, proposal: dict[str, Any]) -> float:
        return self._check("learning rate", proposal["value"], lambda v: 0 < v <= 10, "a number in (0, 10]")

    @traitlets.validate("seed")
    def _valid_seed(self, proposal: dict[str, Any]) -> int:
        return self._check("seed", proposal["value"], lambda v: 0 <= v < 2 ** 32, "an integer ≥ 0")

    @traitlets.validate("frame")
    def _valid_frame(self, proposal: dict[str, Any]) -> int:
        count = len(self.result.frames) if self.result is not None else 1
        return self._check("frame", proposal["value"], lambda v: 0 <= v < count, f"0–{count - 1}")

    @traitlets.validate("map_index")
    def _valid_chosen(self, proposal: dict[str, Any]) -> int:
        count = self.result.frames.shape[1] if self.result is not None else 1
        return self._check("filter", proposal["value"], lambda v: 0 <= v < count, f"0–{count - 1}")

    # ------------------------------------------------------------------ running
    def use_drawing(self) -> Job | None:
        """Train on the session's drawing (what the pad shows) instead of a test image."""
        return self.run(source="drawing")

    def run(self, source: str | None = None) -> Job | None:
        """Train the filters with the current settings on the session's worker."""
        if self.closed:
            return None
        self._source = source or self._source
        try:
            image, label, what = self._image()
        except ValueError as error:
            self.status_line.say(str(error), error=True)
            return None
        settings = dict(steps=self.steps, learning_rate=self.learning_rate, seed=self.seed,
                        frame_every=max(1, self.steps // 60))
        self.status_line.say(f"training five filters on {what} …")

        def work(job: Job) -> ShapeRun:
            return filters_take_shape(image, label, **settings)

        def done(result: ShapeRun) -> None:
            self._show(result, what)

        def failed(error: BaseException) -> None:
            self.status_line.say(f"could not train the filters: {error}", error=True)

        self._job = self.session.worker.submit(work, name="filters take shape", key=("shapes", id(self)),
                                               on_done=done, on_error=failed)
        return self._job

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run has finished; False on timeout."""
        return self._job.wait(timeout) if self._job is not None else True

    def _image(self) -> tuple[np.ndarray, int, str]:
        live = self.session.live
        if self._source == "drawing":
            drawing = live.image
            if drawing is None or float(np.max(drawing)) <= 0:
                raise ValueError("the drawing is empty: draw a digit on the pad first")
            probabilities = live.probabilities
            label = int(np.argmax(probabilities)) if probabilities is not None else 0
            return np.asarray(drawing, np.float32), label, f"the drawing (taken as class {label})"
        test = self.session.data.test_set
        if test is None:
            raise ValueError(f"no test images here ({self.session.data.message}); use the drawing")
        image, label = test.images[self.sample], int(test.labels[self.sample])
        return image, label, f"test image {self.sample} (a {label})"

    # ------------------------------------------------------------------ pictures
    def _show(self, result: ShapeRun, what: str) -> None:
        last = len(result.frames) - 1
        count = result.frames.shape[1]
        self.set_trait("result", result)
        with self.hold_sync(), self.hold_trait_notifications():
            self.image_view.value = _grey_png(result.image)
            self.initial_view.value = to_png(result.picture(0), "diverging")
            self.trained_view.value = to_png(result.picture(-1), "diverging")
            self.play.max = self.frame_slider.max = last
            self.filter_picker.options = list(range(count))
            final = np.abs(result.similarity[-1])
            self.map_index = int(np.nanargmax(final)) if np.isfinite(final).any() else 0
            self.frame = last
            with self.curves.hold_sync():
                self.curves.x = np.asarray(result.frame_steps, float)
                self.curves.y = result.similarity.T.astype(np.float64)
            self.gif_button.disabled = False
        self._show_frame()
        alike = ", ".join(f"{v:+.2f}" if np.isfinite(v) else "undefined (a flat image)" for v in result.similarity[-1])
        self.status_line.say(f"trained on {what}: {result.settings['steps']} steps, probability of its class "
                             f"{result.probability[0]:.2f} → {result.probability[-1]:.2f}; correlation of each "
                             f"filter with the image {alike}")

    def _show_frame(self) -> None:
        result = self.result
        if result is None:
            return
        index = min(self.frame, len(result.frames) - 1)
        now = result.multiply_and_sum(self.map_index, index)
        start = result.multiply_and_sum(self.map_index, 0)
        with self.hold_sync():
            self.emerging_view.value = to_png(result.picture(index), "diverging")
            self.frame_label.value = html.escape(f"step {result.frame_steps[index]} of {result.frame_steps[-1]}")
            self.product_views[0].value = _grey_png(now.image)
            self.product_views[1].value = _signed_png(now.filter)
            self.product_views[2].value = _signed_png(now.product)
            self.sum_label.value = html.escape(
                f"filter {self.map_index} at step {result.frame_steps[index]}: sum = {now.total:+.3f} "
                f"(random start: {start.total:+.3f}); correlation with the image "
                f"{_correlation_text(result.similarity[index, self.map_index])}")

    def offer_gif(self) -> bytes:
        """Make a download link (data URI) for the emergence GIF."""
        if self.result is None:
            self.status_line.say("nothing trained yet", error=True)
            return b""
        data = self.result.gif_bytes()
        encoded = base64.b64encode(data).decode()
        self.downloads.value = (f'<a download="filters_take_shape.gif" href="data:image/gif;base64,{encoded}" '
                                f'class="cnnw-shapes-download">save filters_take_shape.gif '
                                f"({len(data) // 1024 + 1} KB)</a>")
        return data

    def _closing(self) -> None:
        if self._job is not None:
            self._job.cancel()


def _correlation_text(value: float) -> str:
    """A correlation as text; a flat image or filter has none (NaN)."""
    return f"{value:+.2f}" if np.isfinite(value) else "undefined (a flat image)"
