"""ConfusionBrowser: which digits the network gets wrong — click a cell, see them, put one on the pad."""

from __future__ import annotations

import html
from typing import Any, Callable

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

from ...methods.confusion import Confusion, confusion_matrix
from ...render import mosaic
from ...session import Job

from ..picture import Picture, size, style
from .saliency_view import rgb_png
from ..controls import Toggles, keep_in_step
from ..view import SessionView, StatusLine

__all__ = ["ConfusionBrowser"]

_SHOWN = 32  # images shown for one cell, most confident first
_COLUMNS = 8
#: Cell colours: no mistakes (white), the most frequent mistake (a red black text reads on),
#: correct answers on the diagonal (light green).
_PAPER, _ERROR, _CORRECT = "#ffffff", "#ef6548", "#c7e9c0"


class ConfusionBrowser(SessionView, widgets.VBox):
    """The confusion matrix of the model on the session's test images.

    Rows are true classes, columns predicted ones; counts or rates (each row
    divided by its class size). The colour scale stops at the largest error, so
    the mistakes stand out next to the full diagonal. Click a cell to see its
    images (e.g. the 4s read as 9), most confident first; click an image to put it
    on the pad: it becomes the session's drawing (``session.live.image``), so every
    view, the FCP tab and the inspector show it.

    The matrix is computed on the session's worker (10,000 images: well under a
    second) once per model version.

    Args:
        session: The :class:`~cnn_widgets.session.session.Session` (its test set and
            drawing), or a model.
        lazy: Compute nothing until ``active`` is set (e.g. a dashboard tab opens).
        on_pick: Called with the test image's index when an image is clicked, after it
            was put in front of the network.

    Attributes:
        confusion: The :class:`~cnn_widgets.methods.confusion.Confusion` shown, or None.
    """

    confusion = traitlets.Instance(Confusion, allow_none=True, help="the matrix shown, or None")
    selected = traitlets.Tuple(help="(true, predicted) of the clicked cell; () for none")
    picked = traitlets.Int(-1, help="index in the test set of the image put on the pad; -1 for none")
    values = traitlets.Enum(["counts", "rates"], "counts", help="what the cells show")
    active = traitlets.Bool(True, help="compute when set (see lazy)")
    status = traitlets.Unicode("", help="the last message, plain text")

    def __init__(self, session: Any = None, *, lazy: bool = False,
                 on_pick: Callable[[int], Any] | None = None, **kwargs: Any) -> None:
        self._attach(session)
        self.model, self.live = self.session.model, self.session.live
        self.on_pick = on_pick
        self._shown = np.zeros(0, np.int64)
        self._tiles: Any = None
        self.computed = 0
        names = list(self.model.class_names)
        self._names = names
        self.x_scale, self.y_scale = bqplot.OrdinalScale(), bqplot.OrdinalScale(reverse=True)
        self.colours = bqplot.ColorScale(colors=[_PAPER, _ERROR], min=0.0, max=1.0)
        self.heat = bqplot.GridHeatMap(
            row=names, column=names, color=np.zeros((len(names), len(names))),
            scales={"row": self.y_scale, "column": self.x_scale, "color": self.colours},
            display_format=".0f", font_style={"font-size": "11px"}, stroke="white",
            selected_style={"stroke": "#ff00ff", "stroke-width": 3}, anchor_style={"fill": "none"})
        self.heat.on_element_click(self._cell_clicked)
        self.chart = bqplot.Figure(
            marks=[self.heat], animation_duration=0, padding_y=0.0,
            axes=[bqplot.Axis(scale=self.x_scale, label="predicted", side="top"),
                  bqplot.Axis(scale=self.y_scale, label="true", side="left")],
            fig_margin={"top": 50, "bottom": 10, "left": 60, "right": 10}, layout=size("420px", "420px"))
        self.chart.add_class("cnnw-confusion-chart")
        self.values_picker = Toggles(options=["counts", "rates"], style={"button_width": "70px"})
        self.refresh_button = widgets.Button(description="recompute", icon="refresh", layout=size("110px"),
                                             tooltip="recompute after training")
        self.summary = widgets.HTML()
        self.summary.add_class("cnnw-confusion-summary")
        self.worst = widgets.HTML()
        self.images_title = widgets.HTML("<small>click a cell to see its images</small>")
        self.images = Picture("cnnw-confusion-images")
        self.hover_label = widgets.HTML("&nbsp;")
        self.status_line = StatusLine("cnnw-confusion-status")
        self.values_picker.add_class("cnnw-confusion-values")
        self.refresh_button.add_class("cnnw-confusion-refresh")
        super().__init__([
            style(), widgets.HTML("<b>Confusion matrix</b> — what the network gets wrong, and which digits "
                                  "<small>(diagonal, green: correct; off it, white → red: mistakes, the reddest the "
                                  "most frequent)</small>"),
            widgets.HBox([self.values_picker, self.refresh_button]), self.status_line, self.summary,
            widgets.HBox([self.chart, widgets.VBox([self.worst, self.images_title, self.images, self.hover_label])]),
        ], **kwargs)
        self.add_class("cnnw-confusion-browser")
        keep_in_step(self, "values", self.values_picker)
        self.refresh_button.on_click(lambda _: self.refresh(force=True))
        self.images.on_pointer(move=self._hover, click=self._image_clicked,
                               leave=lambda: setattr(self.hover_label, "value", "&nbsp;"),
                               refused=lambda message: self._say(message, error=True))
        if lazy:
            self.active = False
            self._say("computed when this tab is opened")
        else:
            self.refresh()

    # ------------------------------------------------------------------ computing
    @traitlets.observe("active")
    def _activated(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.refresh()

    def refresh(self, force: bool = False) -> Job | None:
        """Compute the matrix on the worker (unless it is current for this model version)."""
        if self.closed or not self.active:
            return None
        current = self.confusion
        if not force and current is not None and current.version == self.model.version:
            return None
        data = self.session.data.test_set
        if data is None:
            self._say(self.session.data.message or "no test images for this model", error=True)
            return None

        def work(job: Job) -> Confusion:
            return confusion_matrix(self.model, data, progress=lambda f: job.report(f, "predicting"))

        return self.session.worker.submit(work, name=f"confusion matrix of {len(data):,} images",
                                          key=("confusion", id(self)), on_done=self._computed,
                                          on_error=self._failed)

    def _computed(self, confusion: Confusion) -> None:
        if self.closed:
            return
        self.computed += 1
        self.confusion = confusion
        self.summary.value = (f"<small>{confusion.total:,} images ({html.escape(confusion.source)}): "
                              f"accuracy <b>{confusion.accuracy:.2%}</b>, "
                              f"{confusion.total - int(np.trace(confusion.counts)):,} mistakes</small>")
        worst = ", ".join(f"{html.escape(self._names[t])} read as {html.escape(self._names[p])}: {n}"
                          for t, p, n in confusion.most_confused(4))
        self.worst.value = f"<small>most confused — {worst or 'none'}</small>"
        self._say("")
        self._draw()
        if self.selected:
            self._show_images()

    def _failed(self, error: BaseException) -> None:
        if not self.closed:
            self._say(f"the confusion matrix could not be computed: {error}", error=True)

    # ------------------------------------------------------------------ drawing
    @traitlets.observe("values")
    def _values_changed(self, change: dict[str, Any]) -> None:
        self._draw()

    def _draw(self) -> None:
        c = self.confusion
        if c is None:
            return
        matrix = c.counts.astype(np.float64) if self.values == "counts" else c.rates
        off = matrix.copy()
        np.fill_diagonal(off, 0.0)
        worst, correct = float(max(off.max(), 1e-9)), float(np.diag(matrix).min())
        with self.heat.hold_sync(), self.colours.hold_sync():
            if correct > worst:  # the mistakes set the red scale; the diagonal light green, its counts readable
                self.colours.colors, self.colours.mid, self.colours.max = [_PAPER, _ERROR, _CORRECT], worst, correct
            else:  # a class mostly wrong: one red scale up to the largest cell
                self.colours.colors, self.colours.mid, self.colours.max = [_PAPER, _ERROR], None, float(matrix.max())
            self.heat.display_format = ".0f" if self.values == "counts" else ".0%"
            self.heat.color = matrix

    @traitlets.validate("selected")
    def _valid_selected(self, proposal: dict[str, Any]) -> tuple[int, ...]:
        value = tuple(proposal["value"])
        if value == ():
            return value
        classes = self.model.classes
        if (len(value) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in value)
                or not all(0 <= int(v) < classes for v in value)):
            raise traitlets.TraitError(f"a cell is (true, predicted) with classes 0–{classes - 1}; got {value!r}")
        return tuple(int(v) for v in value)

    def _cell_clicked(self, mark: Any, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        row, column = data.get("rowNum", data.get("row")), data.get("columnNum", data.get("column"))
        try:
            self.selected = (row, column)
        except traitlets.TraitError as error:
            self._say(f"ignored a click: {error}", error=True)

    @traitlets.observe("selected")
    def _selection_changed(self, change: dict[str, Any]) -> None:
        if self.selected:
            with self.heat.hold_sync():
                self.heat.selected = [list(self.selected)]
        self._show_images()

    def _show_images(self) -> None:
        c = self.confusion
        data = self.session.data.test_set
        if c is None or data is None or not self.selected:
            return
        true, predicted = self.selected
        chosen = c.indices(true, predicted)
        self._shown = chosen[:_SHOWN]
        t, p = html.escape(self._names[true]), html.escape(self._names[predicted])
        what = f"{t}s read as {p}" if true != predicted else f"{t}s read right"
        if not len(chosen):
            self.images_title.value = f"<small>{what}: none</small>"
            self.images.show(b"", (1, 1), 1)
            self._tiles = None
            return
        images = self.model.prepare(data.images[self._shown])  # (n, H, W, C) in [0, 1]
        columns = min(_COLUMNS, len(images))
        self._tiles = mosaic(np.moveaxis(images.mean(axis=-1), 0, -1), value_range=(0.0, 1.0), columns=columns)
        width = self._tiles.indices.shape[1]
        if images.shape[-1] == 1:
            self.images.show_mosaic(self._tiles, "grey", 2 * width)  # twice native size
        else:  # colour images in colour, on the same tiles
            canvas = np.full((*self._tiles.indices.shape, 3), 255, np.uint8)
            h, w = self._tiles.tile
            for n, picture in enumerate(images):
                x, y = self._tiles.origin(n)
                canvas[y:y + h, x:x + w] = np.round(picture[..., :3] * 255)
            self.images.show(rgb_png(canvas), (width, self._tiles.indices.shape[0]),
                             max(1, round(2 * 28 / h)))
        more = f" (first {len(self._shown)} of {len(chosen)})" if len(chosen) > len(self._shown) else ""
        self.images_title.value = (f"<small><b>{len(chosen)}</b> {what}, most confident first{more}; "
                                   "click one to put it on the pad</small>")

    # ------------------------------------------------------------------ pointer
    def _locate(self, x: float, y: float) -> int | None:
        where = self._tiles.locate(x, y) if self._tiles is not None else None
        if where is None or where[0] >= len(self._shown):
            return None
        return int(self._shown[where[0]])

    def _hover(self, x: float, y: float) -> None:
        index = self._locate(x, y)
        c = self.confusion
        if index is None or c is None:
            self.hover_label.value = "&nbsp;"
            return
        self.hover_label.value = (f"<small>test image {index}: true {html.escape(self._names[c.labels[index]])}, "
                                  f"read as {html.escape(self._names[c.predictions[index]])} "
                                  f"({c.confidence[index]:.0%})</small>")

    def _image_clicked(self, x: float, y: float) -> None:
        index = self._locate(x, y)
        if index is not None:
            self.pick(index)

    def pick(self, index: int) -> None:
        """Put test image ``index`` on the pad: it becomes the session's drawing (one request
        to the live model, computed off the comm thread)."""
        try:
            self.session.show_test_image(index)
        except (TypeError, ValueError) as error:
            self._say(str(error), error=True)
            return
        self.picked = int(index)
        c = self.confusion
        if c is not None:
            self._say(f"test image {index} ({self._names[c.labels[index]]} read as "
                      f"{self._names[c.predictions[index]]}) is now the drawing")
        if self.on_pick is not None:
            self.on_pick(int(index))

    def _model_changed(self) -> None:
        self.refresh()  # the matrix is kept per model version: counted again

    def _closing(self) -> None:
        self.session.worker.cancel(("confusion", id(self)))
