"""DenseView: the units of a dense (MLP) layer as a small picture."""

from __future__ import annotations

import html
import math
import threading
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from ...render import COLORMAPS, default_columns, mosaic
from ..picture import Picture, style
from ..view import SessionView
from .live_view import drawing_open, live_view

__all__ = ["DenseView"]


class DenseView(SessionView, widgets.VBox):
    """A dense layer's activations, one square per unit, in rows of ``columns``.

    The seed's part VI: the MLP behind the convolutions reacts to the pattern of
    the last conv layer; this shows how its hidden units answer a drawing.

    Args:
        session: The session whose drawing to follow (or its live model, or a model).
        layer: A flat layer with weights (dense); default the last one before the
            output. The ``layer`` trait can be changed later.
        columns: Units per row; default about ``sqrt(2·units)`` of each layer.
        colormap: Colour map of the squares.

    Raises:
        ValueError: The model has no hidden dense layer, or ``layer`` has maps.
    """

    layer = traitlets.Unicode(help="the dense layer shown")
    hovered = traitlets.Unicode("", help="what the pointer is over: layer, unit, value")

    def __init__(self, session: Any = None, layer: str | None = None, *, columns: int | None = None,
                 colormap: str = "viridis", **kwargs: Any) -> None:
        self._attach(session)
        self.live = live = self.session.live
        model = live.model
        self._flat = [row.name for row in model.layers_table() if not row.is_spatial and row.params > 0]
        if layer is None:
            if len(self._flat) < 2:
                raise ValueError("this model has no hidden dense layer before its output; pass layer=")
            layer = self._flat[-2]
        self._check_layer(layer)
        if colormap not in COLORMAPS:
            raise ValueError(f"unknown colour map {colormap!r}; choose one of {', '.join(COLORMAPS)}")
        if columns is not None and (isinstance(columns, bool) or not isinstance(columns, (int, np.integer))
                                    or columns < 1):
            raise ValueError(f"columns must be a whole number ≥ 1 (units per row), or None; got {columns!r}")
        self.colormap, self._columns = colormap, columns
        self._lock = threading.Lock()
        self._values = np.zeros(0, np.float32)
        self.title = widgets.HTML()
        self.picture = Picture("cnnw-dense-picture")
        self.hover_label = widgets.HTML("&nbsp;")
        self.hover_label.add_class("cnnw-dense-hover")
        # the units drawn in the browser on every frame of a stroke (None: the kernel draws them)
        self.browser = live_view(self, "dense", colormap=colormap)
        if self.browser is not None:
            self.picture.add_class("cnnw-dense-kernel")
            self.hover_label.add_class("cnnw-dense-kernel")
        super().__init__([style(), self.title, self.picture, self.hover_label,
                          *([self.browser] if self.browser is not None else [])], **kwargs)
        self.add_class("cnnw-dense-view")
        self.layer = layer
        self.picture.on_pointer(move=self._hover, leave=self._leave, refused=self._refused)
        self._watch(live, self._changed, "activations")

    def _check_layer(self, name: str) -> None:
        row = self.live.model.layer(name)  # unknown names: the list of valid ones
        if name not in self._flat:
            why = "has maps" if row.is_spatial else "has no weights"
            raise ValueError(f"layer {name!r} {why}; DenseView shows a flat layer with weights: "
                             f"{', '.join(self._flat)}")

    @traitlets.validate("layer")
    def _valid_layer(self, proposal: dict[str, Any]) -> str:
        try:
            self._check_layer(proposal["value"])
        except ValueError as error:
            raise traitlets.TraitError(str(error)) from None
        return proposal["value"]

    @traitlets.observe("layer")
    def _layer_changed(self, change: dict[str, Any]) -> None:
        units = int(self.live.model.layer(self.layer).output_shape[-1])
        self.columns = self._columns or default_columns(units)
        self.title.value = f"<b>{html.escape(self.layer)}</b> — {units} units"
        self.refresh()

    def _changed(self, change: dict[str, Any]) -> None:
        if self.browser is not None and drawing_open(self.session):
            return  # the browser draws every frame of a stroke; the kernel's picture once it ends
        self.refresh()

    def _grid(self, values: np.ndarray) -> np.ndarray:
        rows = math.ceil(values.size / self.columns)
        padded = np.full(rows * self.columns, np.nan, np.float32)
        padded[: values.size] = values
        return padded.reshape(rows, self.columns)

    def refresh(self) -> None:
        """Draw the layer from the live model's activations."""
        values = self.live.activations.get(self.layer)
        if values is None or self.closed:
            return
        values = np.asarray(values, np.float32).reshape(-1)
        grid = self._grid(values)
        if self.browser is not None:
            with self.browser.hold_sync():
                self.browser.layer, self.browser.columns = self.layer, self.columns
                self.browser.zoom = max(1, round(360 / max(self.columns, 1)))
        with self._lock:
            tiles = mosaic(np.nan_to_num(grid, nan=0.0)[..., None], normalize="layer")
            indices = tiles.indices.copy()
            indices[np.isnan(grid)] = 255  # unused squares take the gap colour
            self._values = values
            self.picture.show_indices(indices, self.colormap, 360)

    def _hover(self, x: float, y: float) -> None:
        index = int(y) * self.columns + int(x)
        if not (0 <= x < self.columns and 0 <= index < self._values.size):
            self._leave()
            return
        self.hovered = f"{self.layer} · unit {index} · {float(self._values[index]):.3f}"
        self.hover_label.value = self.hovered

    def _leave(self) -> None:
        self.hovered = ""
        self.hover_label.value = "&nbsp;"

    def _refused(self, message: str) -> None:
        self.hovered = ""
        self.hover_label.value = f'<span class="cnnw-error">{html.escape(message)}</span>'
