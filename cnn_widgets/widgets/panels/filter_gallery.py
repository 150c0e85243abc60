"""FilterGallery and ReceptiveField: the filters in image space, and what a cell sees."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from ...methods.decode import (UNPOOL_MODES, DecodedFilters, decode_filters, decoded_top_images, raw_kernels, responses,
                      top_images)
from ...methods.decode_checks import decoding_table
from ...render import DEFAULT_COLORMAP, mosaic
from ...data import DataSet
from ...session import Job

from ..live.browser_network import browser_network
from ..live.live_view import drawing_open
from ..picture import Picture, size, style, zoom_for
from ..controls import Picker, Toggles, WholeNumber, keep_in_step
from ..view import SessionView, StatusLine

__all__ = ["FilterGallery", "ReceptiveField"]

VIEWS = ("plain", "thresholded")


def _signed(maps: np.ndarray, columns: int | None = None) -> Any:
    """Maps (h, w, count) as a mosaic on a diverging scale centred on 0, one scale per map."""
    peak = np.maximum(np.abs(maps).max(axis=(0, 1)), 1e-12)
    return mosaic(maps / peak, value_range=(-1.0, 1.0), columns=columns)



class FilterGallery(SessionView, widgets.VBox):
    """Raw kernels, decoded filters, and the checks of Rafegas & Vanrell's paper.

    - **Raw kernels** of any conv layer, one input channel at a time (the paper's
      Fig. 4b: a deeper layer's filters before decoding).
    - **Decoded filters** (filter decoding with substitution) of any conv or pooling
      layer, in image space: red where a filter wants ink, blue where it wants none;
      "thresholded" shows only the strong parts (the paper's second view).
    - Clicking a filter shows the test images its map likes most, found by the
      network, beside those found by correlating with the decoded filter (Fig. 4d).
    - **Your drawing** on the layer: the network's responses beside the responses
      computed with the decoded filters (Fig. 3).

    Decoding and the top images run as jobs on the session's worker.

    Args:
        session: A :class:`~cnn_widgets.session.session.Session`, or a model / live model /
            None (a session of its own).
        layer: Default the last conv layer.
        images: Images (no labels) to search for top activations instead of the
            session's test set (prefer ``Session(model, data=(images, labels))``).
    """

    layer = traitlets.Unicode(help="the layer whose filters are decoded")
    unpool = traitlets.Enum(UNPOOL_MODES, "nearest", help="how pooling layers are undone when decoding")
    view = traitlets.Enum(VIEWS, "plain", help="the decoded filters as they are, or thresholded")
    map_index = WholeNumber(-1, help="the decoded filter whose top images are shown; -1 for none")
    kernel_layer = traitlets.Unicode(help="the conv layer whose raw kernels are shown")
    kernel_channel = WholeNumber(0, help="the input channel of the raw kernels shown")
    decoded = traitlets.Instance(DecodedFilters, allow_none=True, help="the decoded filters shown, or None")
    active = traitlets.Bool(True, help="compute the drawing's responses (Fig. 3) while it changes")
    status = traitlets.Unicode("", help="the last message, plain text")

    def __init__(self, session: Any = None, layer: str | None = None, *, images: Any = None,
                 **kwargs: Any) -> None:
        self._attach(session)
        model = self.model = self.session.model
        self.live = self.session.live
        self._convs = [row.name for row in model.layers_table() if row.kind == "Conv2D"]
        if not self._convs:
            raise ValueError("the filter gallery needs a model with Conv2D layers")
        layer = layer or self._convs[-1]
        if layer not in model.spatial_layers:
            model.layer(layer)
            raise ValueError(f"layer {layer!r} has no maps to decode; choose one of: {', '.join(model.spatial_layers)}")
        if images is not None:
            images = np.asarray(images)
            if images.ndim < 3 or len(images) == 0:
                raise ValueError(f"images must be a batch of images (N, height, width[, channels]) with N ≥ 1; got "
                                 f"shape {images.shape}")
            model.prepare(images[:1])
            self._data: DataSet | None = DataSet(images, np.zeros(len(images), int),
                                                  f"{len(images):,} images given to the gallery")
        else:
            self._data = self.session.data.test_set
        self._cache: dict[tuple[Any, ...], DecodedFilters] = {}
        self._tiles: Any = None
        self.top_network: np.ndarray | None = None
        self.top_decoded: np.ndarray | None = None

        self.what = widgets.HTML()
        self.what.add_class("cnnw-filter-what")
        self.kernel_layer_picker = Picker(options=self._convs, description="kernels of",
                                                    layout=size("200px"))
        self.channel_picker = widgets.BoundedIntText(0, min=0, max=0, description="input channel",
                                                     style={"description_width": "90px"}, layout=size("180px"))
        self.kernels = Picture("cnnw-filter-kernels")
        self.kernels_title = widgets.HTML()
        self.layer_picker = Picker(options=model.spatial_layers, description="layer", layout=size("190px"))
        self.unpool_picker = Toggles(options=list(UNPOOL_MODES), description="unpool",
                                     style={"button_width": "70px", "description_width": "50px"})
        self.view_picker = Toggles(options=list(VIEWS), description="view",
                                   style={"button_width": "90px", "description_width": "40px"})
        self.decoded_picture = Picture("cnnw-filter-decoded")
        self.title = widgets.HTML()
        self.top = Picture("cnnw-filter-top")
        self.top_title = widgets.HTML()
        self.responses_title = widgets.HTML()
        self.network_responses = Picture("cnnw-filter-network-responses")
        self.decoded_responses = Picture("cnnw-filter-decoded-responses")
        self.table = widgets.HTML()  # Table 1 of the paper for this layer, with its chance column
        self.table.add_class("cnnw-filter-table")
        self.status_line = StatusLine("cnnw-filter-status")
        for picker, css in ((self.layer_picker, "cnnw-filter-layer"), (self.kernel_layer_picker, "cnnw-filter-kernel-layer"),
                            (self.unpool_picker, "cnnw-filter-unpool"), (self.view_picker, "cnnw-filter-view")):
            picker.add_class(css)
        super().__init__([
            style(), widgets.HTML("<b>Filters</b> — what the maps look for, in image space"), self.what,
            widgets.HBox([self.kernel_layer_picker, self.channel_picker]), self.kernels_title, self.kernels,
            widgets.HBox([self.layer_picker, self.unpool_picker, self.view_picker],
                         layout=widgets.Layout(flex_flow="row wrap")), self.status_line,
            self.title, self.decoded_picture, self.top_title, self.top,
            self.responses_title,
            widgets.HBox([widgets.VBox([widgets.HTML("<small>the network</small>"), self.network_responses]),
                          widgets.VBox([widgets.HTML("<small>the decoded filters</small>"), self.decoded_responses])],
                         layout=widgets.Layout(grid_gap="16px")),
            self.table,
        ], **kwargs)
        self.add_class("cnnw-filter-gallery")
        with self.hold_trait_notifications():
            self.kernel_layer = self._convs[0]
            self.layer = layer
        keep_in_step(self, "layer", self.layer_picker)
        keep_in_step(self, "unpool", self.unpool_picker)
        keep_in_step(self, "view", self.view_picker)
        keep_in_step(self, "kernel_layer", self.kernel_layer_picker)
        keep_in_step(self, "kernel_channel", self.channel_picker)
        self.decoded_picture.on_pointer(click=self._clicked, refused=lambda message: self._say(message, error=True))
        self._watch(self.live, self._drawing_changed, "activations")
        self._describe()
        self._show_kernels()
        self.refresh()

    # ------------------------------------------------------------------ settings
    @traitlets.validate("layer")
    def _valid_layer(self, proposal: dict[str, Any]) -> str:
        name = proposal["value"]
        if name not in self.model.spatial_layers:
            raise traitlets.TraitError(f"layer {name!r} has no maps to decode; choose one of: "
                                       f"{', '.join(self.model.spatial_layers)}")
        return name

    @traitlets.validate("kernel_layer")
    def _valid_kernel_layer(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in self._convs:
            raise traitlets.TraitError(f"layer {proposal['value']!r} has no kernels; choose one of: "
                                       f"{', '.join(self._convs)}")
        return proposal["value"]

    @traitlets.validate("kernel_channel")
    def _valid_channel(self, proposal: dict[str, Any]) -> int:
        channels = self._channels(self.kernel_layer) if self.kernel_layer else 1
        if not 0 <= proposal["value"] < channels:
            raise traitlets.TraitError(f"input channel {proposal['value']} is out of range: {self.kernel_layer} "
                                       f"has {channels} input channels (0–{channels - 1})")
        return proposal["value"]

    @traitlets.validate("map_index")
    def _valid_map(self, proposal: dict[str, Any]) -> int:
        count = int(self.model.layer(self.layer).output_shape[-1])
        if not -1 <= proposal["value"] < count:
            raise traitlets.TraitError(f"map {proposal['value']} is out of range: {self.layer} has {count} maps "
                                       f"(0–{count - 1}), or -1 for none")
        return proposal["value"]

    def _channels(self, layer: str) -> int:
        return int(self.model.keras_model.get_layer(layer).kernel.shape[2])

    def _describe(self) -> None:
        data = self._data
        source = (f"top images from {len(data):,} images: {data.source}" if data is not None
                  else f"no top images ({self.session.data.message})")
        self.what.value = ("<small>Raw kernels one input channel at a time; decoded filters (filter decoding "
                           "with substitution) of any layer; the drawing's responses two ways. "
                           f"{html.escape(source)}.</small>")

    # ------------------------------------------------------------------ raw kernels (Fig. 4b)
    @traitlets.observe("kernel_layer", "kernel_channel")
    def _kernels_changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "kernel_layer":
            channels = self._channels(change["new"])
            with self.hold_trait_notifications():
                if self.kernel_channel >= channels:
                    self.kernel_channel = 0
                self.channel_picker.max = channels - 1
        self._show_kernels()

    def _show_kernels(self) -> None:
        if not self.kernel_layer:
            return
        kernels = raw_kernels(self.model, self.kernel_layer, self.kernel_channel)
        self.kernels.show_mosaic(_signed(kernels), "diverging", 300 if kernels.shape[-1] <= 32 else 480)
        kh, kw, count = kernels.shape
        channels = self._channels(self.kernel_layer)
        self.kernels_title.value = (
            f"<small>the {count} raw {kh}×{kw} kernels of <b>{html.escape(self.kernel_layer)}</b> for input "
            f"channel {self.kernel_channel} of {channels} (red +, blue −)</small>")

    # ------------------------------------------------------------------ decoded filters
    @traitlets.observe("layer", "unpool", "view")
    def _changed(self, change: dict[str, Any]) -> None:
        if change["name"] == "layer":
            self.map_index = -1
        self.refresh()

    def _decoded(self, layer: str, unpool: str) -> DecodedFilters:
        key = (self.model.version, layer, unpool)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[0] == key[0]}  # old versions go
            self._cache[key] = decode_filters(self.model, layer, unpool)
        return self._cache[key]

    def refresh(self) -> Job | None:
        """Decode the current layer (a job on the worker) and show its filters."""
        if self.closed:
            return None
        layer, unpool, view = self.layer, self.unpool, self.view

        def work(job: Job) -> DecodedFilters:
            job.report(0.0, f"decoding {layer}")
            return self._decoded(layer, unpool)

        def show(decoded: DecodedFilters) -> None:
            if self.closed or (layer, unpool, view) != (self.layer, self.unpool, self.view):
                return
            filters = decoded.thresholded() if view == "thresholded" else decoded.filters
            self._tiles = _signed(np.moveaxis(filters.mean(axis=-1), 0, -1))
            self.decoded_picture.show_mosaic(self._tiles, "diverging", 480)
            h, w = decoded.filters.shape[1:3]
            self.title.value = (f"<small>{len(filters)} decoded filters of <b>{html.escape(layer)}</b>, {h}×{w} px "
                                f"(its receptive field), unpooling: {unpool}; click one for its top images</small>")
            self.decoded = decoded
            self._outline()
            self._show_responses()
            self._show_table(layer, unpool)

        return self.session.worker.submit(work, name=f"decoding the filters of {layer}", key=("filters", id(self)),
                                          on_done=show, on_error=self._failed)

    def _clicked(self, x: float, y: float) -> None:
        where = self._tiles.locate(x, y) if self._tiles is not None else None
        if where is not None:
            self.map_index = where[0]

    @traitlets.observe("map_index")
    def _selected(self, change: dict[str, Any]) -> None:
        self._outline()
        self._find_top()

    def _outline(self) -> None:
        self.decoded_picture.outline_tile(self._tiles, self.map_index, "#00aa00")

    # ------------------------------------------------------------------ top images (Fig. 4d)
    def _find_top(self) -> Job | None:
        if self.map_index < 0 or self.closed:
            return None
        data = self._data
        if data is None:
            self.top_title.value = f"<small>no top images: {html.escape(self.session.data.message)}</small>"
            return None
        layer, unpool, chosen = self.layer, self.unpool, self.map_index

        def work(job: Job) -> tuple[np.ndarray, np.ndarray]:
            job.report(0.0, "the network's top images")
            by_network = top_images(self.model, layer, chosen, data.images, k=8)
            job.report(0.5, "the decoded filter's top images")
            decoded = self._decoded(layer, unpool)
            return by_network, decoded_top_images(self.model, decoded, chosen, data.images, k=8)

        def show(found: tuple[np.ndarray, np.ndarray]) -> None:
            if self.closed or (layer, chosen) != (self.layer, self.map_index):
                return
            self.top_network, self.top_decoded = found
            picks = np.concatenate(found)
            grey = self.model.prepare(data.images[picks]).mean(axis=-1)
            tiles = mosaic(np.moveaxis(grey, 0, -1), value_range=(0.0, 1.0), columns=8)
            self.top.show_mosaic(tiles, "grey", 560)
            shared = len(set(found[0].tolist()) & set(found[1].tolist()))
            self.top_title.value = (
                f"<small>map {chosen} of {html.escape(layer)}: the 8 of {len(data):,} images with its strongest "
                f"cell (top row, the network) and with the strongest correlation with its decoded filter "
                f"(bottom row); {shared} in both (two random sets of 8 share {64 / len(data):.3f} on "
                f"average)</small>")

        return self.session.worker.submit(work, name=f"top images of {layer} map {chosen}",
                                          key=("filters-top", id(self)), on_done=show, on_error=self._failed)

    def _show_table(self, layer: str, unpool: str) -> Job | None:
        """Table 1 for the layer shown: equation 3's error beside its chance level (a job)."""
        data = self._data
        if data is None or int(self.model.layer(layer).output_shape[-1]) < 2:
            self.table.value = ""
            return None

        def work(job: Job) -> Any:
            job.report(0.0, f"Table 1 for {layer}")
            return decoding_table(self.model, data.images[:500], layers=[layer], unpools=[unpool])

        def show(table: Any) -> None:
            if self.closed or (layer, unpool) != (self.layer, self.unpool):
                return
            row = table.rows[0]
            self.table.value = (
                f"<small><b>Table 1</b> (equation 3 on {table.images} images, mean ± std): {html.escape(layer)}, "
                f"{unpool}: error {row.error:.4f} ± {row.error_std:.4f}; chance (each map against another map's "
                f"decoded filter) {row.chance:.4f} ± {row.chance_std:.4f}: "
                f"{f'{row.ratio:.1f}× better than chance' if np.isfinite(row.ratio) else 'exact (the raw kernels)'}. "
                f"{html.escape(table.note)}</small>")

        return self.session.worker.submit(work, name=f"Table 1 for {layer}", key=("filters-table", id(self)),
                                          on_done=show, on_error=self._failed)

    # ------------------------------------------------------------------ the drawing (Fig. 3)
    def _drawing_changed(self, change: dict[str, Any]) -> None:
        self._show_responses()

    @traitlets.observe("active")
    def _following(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._show_responses()

    def _show_responses(self) -> Job | None:
        """The drawing's responses two ways (Fig. 3), computed on the worker (newest drawing wins)."""
        decoded, image = self.decoded, self.live.image
        if not self.active or decoded is None or image is None or self.closed or self.live.error:
            return None
        if not np.any(np.asarray(image) > 0):
            self.responses_title.value = ("<small>draw a digit: its responses on this layer, by the network and "
                                          "by the decoded filters, appear here</small>")
            for picture in (self.network_responses, self.decoded_responses):
                picture.layout.display = "none"
            return None

        def show(found: Any) -> None:
            if self.closed or found.layer != self.layer:
                return
            for picture in (self.network_responses, self.decoded_responses):
                picture.layout.display = None
            columns = None
            for picture, values in ((self.network_responses, found.network), (self.decoded_responses, found.decoded)):
                tiles = mosaic(values, value_range=(0.0, 1.0), columns=columns)
                columns = tiles.columns
                picture.show_mosaic(tiles, DEFAULT_COLORMAP, 300)
            self.responses_title.value = (
                f"<small>the drawing on <b>{html.escape(found.layer)}</b>: the network's responses (left; a conv "
                "layer before its ReLU) and the image correlated with the decoded filters (right), each map "
                f"scaled to 0–1; mean squared difference {found.error:.4f}</small>")

        def failed(error: BaseException) -> None:
            self._say(f"the drawing's responses cannot be computed: {error}", error=True)

        return self.session.worker.submit(
            lambda job: responses(self.model, decoded.layer, image, decoded=decoded),
            name=f"the drawing's responses on {decoded.layer}", key=("filters-responses", id(self)), quiet=True,
            on_done=show, on_error=failed)

    def _model_changed(self) -> None:
        self._show_kernels()
        self.refresh()  # decoded filters are kept per model version: decoded again

    def _failed(self, error: BaseException) -> None:
        self._say(f"{type(error).__name__}: {error}" if not isinstance(error, ValueError) else str(error), True)

    def _closing(self) -> None:
        for key in ("filters", "filters-top", "filters-responses"):
            self.session.worker.cancel((key, id(self)))


class ReceptiveField(SessionView, widgets.VBox):
    """The current image with the input region one map cell sees outlined.

    Follow a :class:`MapGrid`: clicking a cell there outlines its receptive field
    here (3×3 for conv1, 8×8 for conv2, 18×18 for conv3 on the embedded model),
    using the layer table's geometry.

    Args:
        session: A :class:`~cnn_widgets.session.session.Session` (or its live model, or a model).
    """

    def __init__(self, session: Any = None, **kwargs: Any) -> None:
        self._attach(session)
        self.live = self.session.live
        self.picture = Picture("cnnw-receptive-field")
        self.label = widgets.HTML("<small>click a cell of a map to see what it sees</small>")
        self.label.add_class("cnnw-receptive-label")
        self.region: tuple[int, int, int, int] | None = None
        super().__init__([style(), widgets.HTML("<b>receptive field</b>"), self.picture, self.label], **kwargs)
        self.add_class("cnnw-receptive-field-view")
        self._watch(self.live, lambda change: self._draw_image(), "image")
        self._draw_image()

    def follow(self, grid: Any) -> None:
        """Outline the field of the cell clicked last in ``grid``."""
        self._watch(grid, lambda change: self.show_cell(grid.layer, *change["new"]) if change["new"] else None,
                    "cell")

    def show_cell(self, layer: str, row: int, col: int) -> None:
        """Outline what cell ``(row, col)`` of ``layer``'s maps sees (errors go to the label)."""
        try:
            info = self.live.model.layer(layer)
            if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (row, col)):
                raise ValueError(f"a cell is two whole numbers (row, col); got ({row!r}, {col!r})")
            self.region = info.input_region(int(row), int(col))
        except ValueError as error:
            self.label.value = f'<small class="cnnw-error">{html.escape(str(error))}</small>'
            return
        top, left, bottom, right = self.region
        self.picture.highlight([(left, top, right - left, bottom - top, "#ff00ff")])
        field = info.receptive_field
        self.label.value = (f"<small>{html.escape(layer)} cell ({row}, {col}) sees rows {top}–{bottom - 1}, columns "
                            f"{left}–{right - 1} (field {field[0]}×{field[1]})</small>")

    def _draw_image(self) -> None:
        image = self.live.image
        if image is None or self.closed:
            return
        if drawing_open(self.session) and browser_network(self.session)[0] is not None:
            return  # the browser shows the image while the pen is down; this picture once the stroke ends
        height, width = image.shape[:2]
        self.picture.show(self.live.image_png(), (width, height), zoom_for(width, 224))  # encoded once per update
