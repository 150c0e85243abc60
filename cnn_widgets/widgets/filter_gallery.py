"""FilterGallery and ReceptiveField: the filters in image space, and what a cell sees."""

from __future__ import annotations

import html
from typing import Any, Callable

import ipywidgets as widgets
import numpy as np
import traitlets

from ..decode import UNPOOL_MODES, decode_filters, top_images
from ..render import mosaic, scale
from .picture import Picture, size, style

__all__ = ["FilterGallery", "ReceptiveField"]


def _signed(maps: np.ndarray) -> Any:
    """Maps (h, w, count) as a mosaic on a diverging scale centred on 0, one scale per map."""
    peak = np.maximum(np.abs(maps).max(axis=(0, 1)), 1e-12)
    return mosaic(maps / peak, value_range=(-1.0, 1.0))


class FilterGallery(widgets.VBox):
    """The first layer's raw kernels, and the decoded filters of any conv or pooling layer.

    Decoded filters (Rafegas & Vanrell's filter decoding with substitution) show
    each map's filter in image space: red where it wants ink, blue where it wants
    none. "thresholded" shows only the strong parts (the paper's second view).
    Clicking a filter shows the test images that activate its map most.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        layer: Default the last conv layer.
        data: Images to search for top activations; default the MNIST test
            images when they can be loaded.
    """

    layer = traitlets.Unicode()
    unpool = traitlets.Unicode("nearest")
    view = traitlets.Unicode("plain")
    selected_map = traitlets.Int(-1)

    def __init__(self, model: Any, layer: str | None = None, *, data: Any = None,
                 load: Callable[[], Any] | None = None, **kwargs: Any) -> None:
        self.model = model
        convs = [row.name for row in model.layers_table() if row.is_conv]
        self._images = None
        if data is None:
            try:
                if tuple(model.input_shape) == (28, 28, 1):
                    from ..data import load_mnist

                    data = (load or load_mnist)()[1][0][:2000]
            except (OSError, ValueError, RuntimeError):
                data = None
        if data is not None:
            self._images = model.prepare(data)

        first = model.keras_model.get_layer(convs[0])
        kernels = np.asarray(first.kernel)  # (kh, kw, in, out)
        raw = kernels.mean(axis=2)  # channels averaged for RGB
        self.kernels = Picture("cnnw-filter-kernels")
        self.kernels.show_mosaic(_signed(raw), "diverging", 300)
        self.layer_picker = widgets.Dropdown(options=model.spatial_layers, description="layer", layout=size("190px"))
        self.unpool_picker = widgets.ToggleButtons(options=list(UNPOOL_MODES), style={"button_width": "70px"})
        self.view_picker = widgets.ToggleButtons(options=["plain", "thresholded"], style={"button_width": "90px"})
        self.decoded = Picture("cnnw-filter-decoded")
        self.title = widgets.HTML()
        self.top = Picture("cnnw-filter-top")
        self.top_title = widgets.HTML("<small>click a filter: the test images its map likes most</small>")
        super().__init__([
            style(), widgets.HTML(f"<b>Filters</b> — the {raw.shape[-1]} raw {raw.shape[0]}×{raw.shape[1]} "
                                  f"kernels of {first.name} (red +, blue −)"),
            self.kernels,
            widgets.HBox([self.layer_picker, self.unpool_picker, self.view_picker]),
            self.title, self.decoded, self.top_title, self.top,
        ], **kwargs)
        self.add_class("cnnw-filter-gallery")
        with self.hold_trait_notifications():
            self.layer = layer or convs[-1]
        traitlets.link((self, "layer"), (self.layer_picker, "value"))
        traitlets.link((self, "unpool"), (self.unpool_picker, "value"))
        traitlets.link((self, "view"), (self.view_picker, "value"))
        self.decoded.on_pointer(click=self._clicked)
        self.render()

    @traitlets.observe("layer", "unpool", "view")
    def _changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "layer":
            self.selected_map = -1
        self.render()

    def render(self) -> None:
        """Decode the current layer and show its filters."""
        decoded = decode_filters(self.model, self.layer, self.unpool)
        filters = decoded.thresholded() if self.view == "thresholded" else decoded.filters
        self._tiles = _signed(np.moveaxis(filters.mean(axis=-1), 0, -1))
        self.decoded.show_mosaic(self._tiles, "diverging", 480)
        h, w = decoded.filters.shape[1:3]
        self.title.value = (f"<small>{len(filters)} decoded filters of <b>{self.layer}</b>, {h}×{w} px "
                            f"(its receptive field), unpooling: {self.unpool}</small>")
        self._outline()

    def _clicked(self, x: float, y: float) -> None:
        where = self._tiles.locate(x, y)
        if where is not None:
            self.selected_map = where[0]

    @traitlets.observe("selected_map")
    def _selected(self, change: dict[str, Any]) -> None:
        self._outline()
        if self.selected_map < 0 or self._images is None:
            return
        best = top_images(self.model, self.layer, self.selected_map, self._images, k=8)
        grey = self._images[best].mean(axis=-1)
        tiles = mosaic(np.moveaxis(grey, 0, -1), value_range=(0.0, 1.0), columns=8)
        self.top.show_mosaic(tiles, "grey", 700)
        self.top_title.value = (f"<small>the 8 of {len(self._images)} test images with the strongest "
                                f"cell in map {self.selected_map} of {self.layer}</small>")

    def _outline(self) -> None:
        self.decoded.outline_tile(self._tiles, self.selected_map, "#00aa00")


class ReceptiveField(widgets.VBox):
    """The current image with the input region one map cell sees outlined.

    Follow a :class:`MapGrid`: clicking a cell there outlines its receptive field
    here (3×3 for conv1, 8×8 for conv2, 18×18 for conv3 on the embedded model),
    using the layer table's geometry.

    Args:
        live: The :class:`~cnn_widgets.live.LiveModel` whose image to show.
    """

    def __init__(self, live: Any, **kwargs: Any) -> None:
        self.live = live
        self.picture = Picture("cnnw-receptive-field")
        self.label = widgets.HTML("<small>click a cell of a map to see what it sees</small>")
        self.label.add_class("cnnw-receptive-label")
        self.region: tuple[int, int, int, int] | None = None
        super().__init__([style(), widgets.HTML("<b>receptive field</b>"), self.picture, self.label], **kwargs)
        self.add_class("cnnw-receptive-field-view")
        live.observe(lambda change: self._draw_image(), "image")
        self._draw_image()

    def follow(self, grid: Any) -> None:
        """Outline the field of the cell clicked last in ``grid``."""
        grid.observe(lambda change: self.show_cell(grid.layer, *change["new"]) if change["new"] else None,
                     "selected_cell")

    def show_cell(self, layer: str, row: int, col: int) -> None:
        """Outline what cell ``(row, col)`` of ``layer``'s maps sees."""
        info = self.live.model.layer(layer)
        try:
            self.region = info.input_region(row, col)
        except ValueError as error:
            self.label.value = f'<small class="cnnw-error">{html.escape(str(error))}</small>'
            return
        top, left, bottom, right = self.region
        self.picture.highlight([(left, top, right - left, bottom - top, "#ff00ff")])
        field = info.receptive_field
        self.label.value = (f"<small>{layer} cell ({row}, {col}) sees rows {top}–{bottom - 1}, columns "
                            f"{left}–{right - 1} (field {field[0]}×{field[1]})</small>")

    def _draw_image(self) -> None:
        image = self.live.image
        if image is None:
            return
        grey = image if image.ndim == 2 else image.mean(axis=-1)
        self.picture.show_indices(scale(grey, 0.0, 1.0), "grey", 224)
