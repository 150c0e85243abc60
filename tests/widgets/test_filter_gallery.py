"""FilterGallery and ReceptiveField driven by pickers and clicks."""

from __future__ import annotations

import numpy as np

from cnn_widgets.decode import decode_filters
from cnn_widgets.live import LiveModel
from cnn_widgets.widgets import FilterGallery, MapGrid, ReceptiveField

from .helpers import canvas_event


def test_gallery_shows_kernels_and_decoded_filters(mnist_model):
    images = np.random.default_rng(0).random((30, 28, 28)).astype(np.float32)
    gallery = FilterGallery(mnist_model, data=images)
    assert gallery.kernels.image.value and gallery.layer == "conv3"
    assert gallery.decoded.size == (16 * 18 + 15, 8 * 18 + 7)  # 128 filters of 18×18
    assert "18×18 px (its receptive field)" in gallery.title.value
    plain = bytes(gallery.decoded.image.value)
    gallery.view_picker.value = "thresholded"
    assert bytes(gallery.decoded.image.value) != plain
    gallery.layer_picker.value = "conv2"
    assert gallery.decoded.size == (8 * 8 + 7, 8 * 8 + 7)
    before = bytes(gallery.decoded.image.value)
    gallery.unpool_picker.value = "bicubic"
    assert bytes(gallery.decoded.image.value) != before
    x, y = gallery._tiles.origin(10)
    zoom = gallery.decoded.zoom
    canvas_event(gallery.decoded.overlay, "mouse_down", (x + 2) * zoom, (y + 2) * zoom)
    assert gallery.selected_map == 10 and gallery.top.image.value
    assert "map 10 of conv2" in gallery.top_title.value
    assert decode_filters(mnist_model, "conv2").filters.shape == (64, 8, 8, 1)


def test_receptive_field_follows_a_clicked_cell(mnist_model):
    live = LiveModel(mnist_model)
    grid = MapGrid(live, "conv3")
    field = ReceptiveField(live)
    field.follow(grid)
    x, y = grid._mosaic.origin(40)
    zoom = grid.picture.zoom
    canvas_event(grid.picture.overlay, "mouse_down", (x + 2.5) * zoom, (y + 1.5) * zoom)
    assert grid.selected_cell == (1, 2)
    assert field.region == mnist_model.layer("conv3").input_region(1, 2) == (4, 8, 22, 26)
    assert field.picture._rects[0][:4] == (8, 4, 18, 18)
    assert "conv3 cell (1, 2) sees rows 4–21, columns 8–25 (field 18×18)" in field.label.value
    grid.layer = "conv1"
    canvas_event(grid.picture.overlay, "mouse_down", 0.5 * grid.picture.zoom, 0.5 * grid.picture.zoom)
    assert field.region == (0, 0, 3, 3)
