"""MapGrid: every map of one layer as one mosaic picture.

Where the browser computes the model, the grid's :class:`~.live_view.LiveView` draws the
mosaic on every frame of a stroke, answers hover and sends clicks; the kernel's picture
(under it, hidden while the browser draws) is redrawn once a stroke ends.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from ...render import COLORMAPS, Mosaic, default_columns, mosaic
from ..picture import Picture, style
from ..controls import Picker, Toggles, keep_in_step
from ..view import SessionView
from .live_view import drawing_open, live_view

__all__ = ["MapGrid"]

_TARGET_WIDTH = 420  # screen pixels a mosaic is enlarged to, about


class MapGrid(SessionView, widgets.VBox):
    """All maps of one layer, tiled into one picture at native resolution.

    The browser enlarges the picture without smoothing. Hovering tells map, cell
    and value; clicking a map sets ``map_index``.

    Args:
        session: The :class:`~cnn_widgets.session.session.Session` whose drawing to show (or
            its live model, or a model: then the grid makes its own session).
        layer: A layer with maps (conv, pooling); default the first one.
        colormap: ``"viridis"`` (default: perceptual, brightness follows the value), ``"jet"``
            one click away in the picker, ``"grey"`` or ``"diverging"`` (:data:`cnn_widgets.render.COLORMAPS`).
        normalize: ``"layer"``: one scale for all maps, so they compare;
            ``"map"``: each map stretched to its own range.
    """

    layer = traitlets.Unicode(help="the layer shown")
    colormap = traitlets.Enum(list(COLORMAPS), "viridis", help="the colour map of the maps")
    normalize = traitlets.Enum(["layer", "map"], "layer",
                               help="'layer': one scale for all maps, so they compare; 'map': each its own")
    map_index = traitlets.Int(-1, help="index of the clicked map; -1 for none")
    cell = traitlets.Tuple(help="(row, col) of the clicked cell of that map; () for none")
    hovered = traitlets.Unicode("", help="what the pointer is over: layer, map, cell, value")
    max_maps = traitlets.Int(0, help="show only the first max_maps maps (0: all), a bounded picture for big layers; "
                                     "the title says how many of how many")

    def __init__(self, session: Any = None, layer: str | None = None, *, colormap: str = "viridis",
                 normalize: str = "layer", **kwargs: Any) -> None:
        self._attach(session)
        self.live = live = self.session.live
        model = live.model
        choices = model.spatial_layers
        if layer is None:
            layer = choices[0]
        if layer not in choices:
            model.layer(layer)  # unknown names get the list of valid ones
            raise ValueError(f"layer {layer!r} has no maps; choose one of: {', '.join(choices)}")
        if colormap not in COLORMAPS:
            raise ValueError(f"unknown colour map {colormap!r}; choose one of {', '.join(COLORMAPS)}")
        self._lock = threading.RLock()
        self._mosaic: Mosaic | None = None
        self._maps: np.ndarray | None = None

        self.title = widgets.HTML()
        self.title.add_class("cnnw-grid-title")
        self.layer_picker = Picker(options=choices, description="layer",
                                             layout=widgets.Layout(width="180px"))
        # every colour map on offer, so the picker follows whatever the grid starts with
        self.colormap_picker = Picker(options=list(COLORMAPS), layout=widgets.Layout(width="90px"))
        self.normalize_picker = Toggles(options=[("shared scale", "layer"), ("per map", "map")],
                                                      style={"button_width": "100px"})
        self.picture = Picture("cnnw-grid-picture")
        self.hover_label = widgets.HTML("&nbsp;")
        self.hover_label.add_class("cnnw-grid-hover")
        # the mosaic drawn in the browser, on every frame of a stroke (None: the kernel draws it)
        self.browser = live_view(self, "maps", layer=layer, colormap=colormap, normalize=normalize)
        if self.browser is not None:
            self.picture.add_class("cnnw-grid-kernel")
            self.hover_label.add_class("cnnw-grid-kernel")

        super().__init__(
            [
                style(),
                self.title,
                widgets.HBox([self.layer_picker, self.colormap_picker, self.normalize_picker]),
                self.picture,
                self.hover_label,
                *([self.browser] if self.browser is not None else []),
            ],
            **kwargs,
        )
        self.add_class("cnnw-map-grid")
        with self.hold_trait_notifications():
            self.layer, self.colormap, self.normalize = layer, colormap, normalize
        # The widget's settings win; a choice the trait refuses puts the picker back.
        keep_in_step(self, "layer", self.layer_picker)
        keep_in_step(self, "normalize", self.normalize_picker)
        keep_in_step(self, "colormap", self.colormap_picker)
        self.picture.on_pointer(move=self._hover, click=self._click, leave=self._leave, refused=self._refused)
        self._watch(live, self._activations_changed, "activations")
        if self.browser is not None:
            self._watch(self.browser, self._browser_selected, ["map_index", "cell"])
        self.refresh()

    # ------------------------------------------------------------------ drawing
    @traitlets.validate("layer")
    def _valid_layer(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in self.live.model.spatial_layers:
            raise traitlets.TraitError(
                f"layer {proposal['value']!r} has no maps; choose one of: "
                f"{', '.join(self.live.model.spatial_layers)}"
            )
        return proposal["value"]

    @traitlets.validate("max_maps")
    def _valid_max_maps(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 0:
            raise traitlets.TraitError(f"max_maps must be 0 (all maps) or a count ≥ 1; got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("layer", "colormap", "normalize", "max_maps")
    def _settings_changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "layer":
            self.map_index, self.cell = -1, ()
        self.refresh()

    def _activations_changed(self, change: dict[str, Any]) -> None:
        if self.browser is not None and drawing_open(self.session):
            return  # the browser draws every frame of a stroke; the kernel's picture once it ends
        self.refresh()

    def refresh(self) -> None:
        """Draw the current layer from the live model's activations."""
        maps = self.live.activations.get(self.layer)
        if maps is None or self.closed:
            return
        total = maps.shape[-1]
        if 0 < self.max_maps < total:
            maps = maps[..., :self.max_maps]  # the first maps only: the title says of how many
        if self.browser is not None:
            height, width, count = maps.shape
            columns = default_columns(count, (height, width))
            zoom = max(1, round(_TARGET_WIDTH / max(columns * (width + 1) - 1, 1)))
            with self.browser.hold_sync():
                self.browser.layer, self.browser.colormap, self.browser.normalize = (
                    self.layer, self.colormap, self.normalize)
                self.browser.columns, self.browser.zoom = columns, zoom
        with self._lock:
            tiles = mosaic(maps, normalize=self.normalize)
            height, width, count = maps.shape
            # Only the picture changes per stroke: one message per grid update.
            shown = f"{count}" if count == total else f"first {count} of {total}"
            self.title.value = f"<b>{self.layer}</b> — {shown} maps of {height}×{width}"
            self.picture.show_mosaic(tiles, self.colormap, _TARGET_WIDTH)
            first = self._mosaic is None or self._mosaic.tile != tiles.tile
            self._mosaic, self._maps = tiles, maps
        if first:
            self._outline()

    # ------------------------------------------------------------------ pointer
    def _hover(self, x: float, y: float) -> None:
        where = self._mosaic.locate(x, y) if self._mosaic is not None else None
        if where is None or self._maps is None:
            self._leave()
            return
        index, row, col = where
        value = float(self._maps[row, col, index])
        self.hovered = f"{self.layer} · map {index} · cell ({row}, {col}) · {value:.3f}"
        self.hover_label.value = self.hovered

    def _say(self, message: str, error: bool = False) -> None:
        """A refused choice, shown where the hover line is."""
        self._refused(message)

    def _refused(self, message: str) -> None:
        self.hovered = ""
        self.hover_label.value = f'<span class="cnnw-error">{html.escape(message)}</span>'

    def _leave(self) -> None:
        self.hovered = ""
        self.hover_label.value = "&nbsp;"

    def _click(self, x: float, y: float) -> None:
        where = self._mosaic.locate(x, y) if self._mosaic is not None else None
        if where is not None:
            with self.hold_trait_notifications():
                self.map_index = where[0]
                self.cell = (where[1], where[2])

    @traitlets.validate("map_index")
    def _valid_map(self, proposal: dict[str, Any]) -> int:
        count = self.live.activations.get(self.layer, np.zeros((1, 1, 0))).shape[-1]
        value = proposal["value"]
        if not -1 <= value < max(count, 1):
            raise traitlets.TraitError(f"map {value} is out of range: {self.layer} has {count} maps (0–{count - 1})")
        return value

    @traitlets.validate("cell")
    def _valid_cell(self, proposal: dict[str, Any]) -> tuple[int, ...]:
        cell = tuple(proposal["value"])
        if cell == ():
            return cell
        shape = self.live.activations.get(self.layer, np.zeros((0, 0, 0))).shape
        rows, cols = (shape[0], shape[1]) if len(shape) == 3 else (0, 0)
        if len(cell) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                                     for v in cell) or not (0 <= cell[0] < rows and 0 <= cell[1] < cols):
            raise traitlets.TraitError(f"cell must be (row, col) inside the {rows}×{cols} maps of "
                                       f"{self.layer} (rows 0–{rows - 1}, cols 0–{cols - 1}), or () for none; "
                                       f"got {cell!r}")
        return int(cell[0]), int(cell[1])

    @traitlets.observe("map_index")
    def _selection_changed(self, change: dict[str, Any]) -> None:
        self._outline()
        if getattr(self, "browser", None) is not None:
            self._mirroring = True  # the browser outlines it too; not a click of its own
            try:
                self.browser.map_index = change["new"]
            finally:
                self._mirroring = False

    def _browser_selected(self, change: dict[str, Any]) -> None:
        """A click in the browser: the selection reaches the kernel (checked, as any other)."""
        if self.closed or getattr(self, "_mirroring", False):
            return
        browser = self.browser
        try:
            with self.hold_trait_notifications():
                self.map_index = browser.map_index
                self.cell = tuple(browser.cell)
        except traitlets.TraitError as error:
            self._refused(str(error))
            with browser.hold_sync():
                browser.map_index, browser.cell = self.map_index, list(self.cell)

    def _outline(self) -> None:
        self.picture.outline_tile(self._mosaic, self.map_index)
