"""DenseView: the units of a dense (MLP) layer as a small picture."""

from __future__ import annotations

import math
import threading
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from ..live import LiveModel
from ..render import default_columns, mosaic
from .picture import Picture, style

__all__ = ["DenseView"]


class DenseView(widgets.VBox):
    """A dense layer's activations, one square per unit, in rows of ``columns``.

    The seed's part VI: the MLP behind the convolutions reacts to the pattern of
    the last conv layer; this shows how its hidden units answer a drawing.

    Args:
        live: The live model to follow.
        layer: A flat layer; default the last one before the output.
        columns: Units per row; default about ``sqrt(2·units)``.
        colormap: Colour map of the squares.
    """

    layer = traitlets.Unicode()
    hovered = traitlets.Unicode("")

    def __init__(self, live: LiveModel, layer: str | None = None, *, columns: int | None = None,
                 colormap: str = "jet", **kwargs: Any) -> None:
        model = live.model
        flat = [row.name for row in model.layers_table() if not row.is_spatial and row.params > 0]
        if layer is None:
            if len(flat) < 2:
                raise ValueError("this model has no hidden dense layer before its output; pass layer=")
            layer = flat[-2]
        if model.layer(layer).is_spatial:
            raise ValueError(f"layer {layer!r} has maps; DenseView shows a flat layer, e.g. {', '.join(flat)}")
        self.live, self.colormap = live, colormap
        units = int(model.layer(layer).output_shape[-1])
        self.columns = columns or default_columns(units)
        self._lock = threading.Lock()
        self.title = widgets.HTML(f"<b>{layer}</b> — {units} units")
        self.picture = Picture("cnnw-dense-picture")
        self.hover_label = widgets.HTML("&nbsp;")
        self.hover_label.add_class("cnnw-dense-hover")
        super().__init__([style(), self.title, self.picture, self.hover_label], **kwargs)
        self.add_class("cnnw-dense-view")
        self.layer = layer
        self.picture.on_pointer(move=self._hover, leave=self._leave)
        live.observe(lambda change: self.render(), "activations")
        self.render()

    def _grid(self, values: np.ndarray) -> np.ndarray:
        rows = math.ceil(values.size / self.columns)
        padded = np.full(rows * self.columns, np.nan, np.float32)
        padded[: values.size] = values
        return padded.reshape(rows, self.columns)

    def render(self) -> None:
        """Draw the layer from the live model's activations."""
        values = self.live.activations.get(self.layer)
        if values is None:
            return
        values = np.asarray(values, np.float32).reshape(-1)
        grid = self._grid(values)
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
