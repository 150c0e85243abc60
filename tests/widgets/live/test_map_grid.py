"""MapGrid: one mosaic per layer, driven by activations, pickers and pointer events."""

from __future__ import annotations

import io

import numpy as np
import pytest
import traitlets
from PIL import Image

from cnn_widgets.drawing.ink import Ink
from cnn_widgets.session import LiveModel

from cnn_widgets.drawing.preprocess import to_mnist
from cnn_widgets.widgets import MapGrid

from ...digits import drawings
from ..helpers import canvas_event, choose


def picture(grid: MapGrid) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(grid.picture.image.value)).convert("RGB"))


def drawn(index: int = 0) -> np.ndarray:
    label, strokes, brush = list(drawings(1, seed=2))[index]
    ink = Ink(280, 280)
    for stroke in strokes:
        ink.begin(*stroke[0], width=brush)
        for point in stroke[1:]:
            ink.extend(*point)
    return to_mnist(ink.raster)


@pytest.fixture
def live(mnist_model):
    return LiveModel(mnist_model, image=drawn(3))


def test_one_picture_of_all_maps_at_native_resolution(live):
    grid = MapGrid(live, "conv1")
    pixels = picture(grid)
    assert pixels.shape == (4 * 26 + 3, 8 * 26 + 7, 3)  # 32 maps of 26×26, 8 a row, 1 px gaps
    assert "conv1" in grid.title.value and "32 maps of 26×26" in grid.title.value
    assert grid.picture.image.layout.width == f"{pixels.shape[1] * grid.picture.zoom}px"
    assert "cnnw-pixelated" in grid.picture.image._dom_classes


def test_new_activations_repaint_within_16_kb(live, wire):
    grid = MapGrid(live, "conv1")
    mark = wire.mark()
    live.image = drawn(7)
    updates = [m for m in wire.since(mark) if m.comm_id == grid.picture.image.model_id]
    assert len(updates) == 1, "one message per grid update"
    assert updates[0].size <= 16 * 1024
    sizes = {}
    for layer in live.model.spatial_layers:
        grid.layer = layer
        sizes[layer] = len(grid.picture.image.value)
    assert max(sizes.values()) <= 16 * 1024


def test_layer_colormap_and_scale_pickers(live):
    grid = MapGrid(live, "conv1", colormap="grey")
    grey = picture(grid)
    assert np.all(grey[..., 0] == grey[..., 1])  # grey levels
    choose(grid.colormap_picker, "jet")
    assert grid.colormap == "jet"
    jet = picture(grid)
    assert not np.all(jet[..., 0] == jet[..., 1])
    shared = grid.picture.image.value
    choose(grid.normalize_picker, "map")
    assert grid.normalize == "map" and grid.picture.image.value != shared
    choose(grid.layer_picker, "conv3")
    assert "128 maps of 3×3" in grid.title.value
    assert picture(grid).shape[:2] == (8 * 3 + 7, 16 * 3 + 15)


def test_shared_scale_keeps_map_strengths_comparable(live):
    grid = MapGrid(live, "conv2", colormap="grey")
    maps = live.activations["conv2"]
    strongest, weakest = np.argmax(maps.max(axis=(0, 1))), np.argmin(maps.max(axis=(0, 1)))
    pixels = picture(grid)[..., 0]
    tiles = grid._mosaic
    def tile(index):
        x, y = tiles.origin(index)
        return pixels[y:y + 11, x:x + 11]
    assert tile(strongest).max() == 255 and tile(weakest).max() < 255
    grid.normalize = "map"
    pixels = picture(grid)[..., 0]
    if maps[..., weakest].max() > 0:
        assert tile(weakest).max() == 255


def test_hover_tells_map_cell_and_value(live):
    grid = MapGrid(live, "conv2")
    zoom = grid.picture.zoom
    # map 9 is the second map of the second row (8 a row); its cell (4, 6)
    x, y = grid._mosaic.origin(9)
    canvas_event(grid.picture.overlay, "mouse_move", (x + 6 + 0.5) * zoom, (y + 4 + 0.5) * zoom)
    value = live.activations["conv2"][4, 6, 9]
    assert grid.hovered == f"conv2 · map 9 · cell (4, 6) · {value:.3f}"
    assert grid.hover_label.value == grid.hovered
    gap_x = (x + 11 + 0.5) * zoom  # the gap right of map 9
    canvas_event(grid.picture.overlay, "mouse_move", gap_x, (y + 1) * zoom)
    assert grid.hovered == ""


def test_click_selects_a_map_and_outlines_it(live, wire):
    grid = MapGrid(live, "pool1")
    zoom = grid.picture.zoom
    x, y = grid._mosaic.origin(17)
    mark = wire.mark()
    canvas_event(grid.picture.overlay, "mouse_down", (x + 2) * zoom, (y + 2) * zoom)
    assert grid.map_index == 17
    assert grid.picture._rects and grid.picture._rects[0][:2] == (x, y)
    assert wire.since(mark), "the outline was drawn"
    grid.layer = "conv3"
    assert grid.map_index == -1 and not grid.picture._rects


def test_several_grids_follow_one_live_model(live):
    grids = [MapGrid(live, name) for name in live.model.spatial_layers]
    before = [g.picture.image.value for g in grids]
    live.image = drawn(9)
    assert all(g.picture.image.value != b for g, b in zip(grids, before))


def test_bad_settings_are_refused_with_the_valid_choices(live):
    with pytest.raises(ValueError, match="has no maps; choose one of: conv1, pool1"):
        MapGrid(live, "dense")
    with pytest.raises(ValueError, match="unknown layer 'conv9'"):
        MapGrid(live, "conv9")
    grid = MapGrid(live)
    with pytest.raises(traitlets.TraitError, match="choose one of"):
        grid.layer = "output"
    with pytest.raises(traitlets.TraitError, match=r"'colormap' trait .* expected any of \['viridis', 'jet', "
                                                   r"'grey', 'diverging'\], not the str 'rainbowish'"):
        grid.colormap = "rainbowish"
    with pytest.raises(traitlets.TraitError, match="out of range"):
        grid.map_index = 32
    assert grid.layer == "conv1"  # still usable


def test_every_starting_colormap_keeps_its_picker_in_step(live):
    grid = MapGrid(live, "conv2", colormap="viridis")
    assert grid.colormap_picker.value == "viridis"
    choose(grid.colormap_picker, "grey")
    assert grid.colormap == "grey"
    grid.colormap = "diverging"
    assert grid.colormap_picker.value == "diverging"


def test_a_closed_grid_sends_nothing_on_the_next_stroke(live, wire):
    grid, other = MapGrid(live, "conv1"), MapGrid(live, "conv2")
    closed_ids = {grid.model_id, grid.picture.image.model_id}
    grid.close()
    mark = wire.mark()
    live.image = drawn(5)
    senders = {m.comm_id for m in wire.since(mark)}
    assert not closed_ids & senders
    assert other.picture.image.model_id in senders  # the others still follow
    assert grid.closed and grid.picture.image.comm is None


def test_pointer_events_without_a_position_are_refused_with_a_message(live):
    grid = MapGrid(live, "conv2")
    for x, y in ((None, 3.0), (float("nan"), float("nan")), (float("-inf"), 1.0)):
        canvas_event(grid.picture.overlay, "mouse_down", x, y)
        canvas_event(grid.picture.overlay, "mouse_move", x, y)
    assert grid.map_index == -1 and "ignored a pointer event" in grid.hover_label.value
    canvas_event(grid.picture.overlay, "mouse_down", 2 * grid.picture.zoom, 2 * grid.picture.zoom)
    assert grid.map_index == 0  # still usable


def test_an_empty_choice_from_the_frontend_keeps_the_pickers_on_the_settings(live):
    grid = MapGrid(live, "conv2", colormap="grey")
    for picker in (grid.layer_picker, grid.colormap_picker):
        picker.set_state({"index": None})  # what the ipywidgets 8 frontend sends for no selection
    assert (grid.layer, grid.colormap) == ("conv2", "grey")
    assert (grid.layer_picker.value, grid.colormap_picker.value) == ("conv2", "grey")
    assert "no colormap chosen" in grid.hover_label.value
    choose(grid.layer_picker, "conv1")
    assert grid.layer == "conv1"  # still usable


def test_an_index_out_of_range_from_the_frontend_names_the_choices(live):
    grid = MapGrid(live, "conv2")
    for picker in (grid.layer_picker, grid.normalize_picker):
        for index in (99, -2):
            with pytest.raises(traitlets.TraitError, match=r"choice .* is out of range; choose 0–"):
                picker.set_state({"index": index})
    assert (grid.layer, grid.layer_picker.value, grid.normalize_picker.value) == ("conv2", "conv2", "layer")


def test_a_closed_grid_takes_late_events_without_failing(live, wire, caplog):
    grid, other = MapGrid(live, "conv2"), MapGrid(live, "conv1")
    overlay = grid.picture.overlay.model_id
    grid.close()
    other.map_index = 1  # another canvas draws: the next command on the closed one must switch canvas
    mark = wire.mark()
    with caplog.at_level("WARNING"):
        canvas_event(grid.picture.overlay, "mouse_down", 2 * grid.picture.zoom, 2 * grid.picture.zoom)
        grid.layer_picker.set_state({"index": 0})  # a message already on its way when the page closed it
        grid.map_index = 3
    assert not [r for r in caplog.records if r.exc_info]  # no exception swallowed by a callback
    assert overlay not in {m.comm_id for m in wire.since(mark)}


def test_a_selected_cell_outside_the_maps_never_lands(live):
    grid = MapGrid(live, "conv2")
    for cell in ((99, 99), (1.5, 1), (1,), (-1, 0), (True, 0)):
        with pytest.raises(traitlets.TraitError, match=r"cell must be \(row, col\) inside the 11×11 maps"):
            grid.cell = cell
    assert grid.cell == ()
    canvas_event(grid.picture.overlay, "mouse_down", 2 * grid.picture.zoom, 3 * grid.picture.zoom)
    assert grid.map_index == 0 and grid.cell == (3, 2)  # a click still selects
