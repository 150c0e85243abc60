"""FilterGallery and ReceptiveField driven as the ipywidgets-8 frontend drives them."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnn_widgets import CNNModel
from cnn_widgets.methods.decode import decode_filters, decoded_top_images, raw_kernels, responses, top_images
from cnn_widgets.methods.decode_checks import decoding_table
from cnn_widgets.session import Session

from cnn_widgets.widgets import FilterGallery, MapGrid, ReceptiveField

from ...conftest import make_tiny_cnn
from ..helpers import canvas_event


@pytest.fixture(scope="module")
def session():
    with Session() as shared:  # the embedded model and its shipped test split
        yield shared


def test_gallery_shows_decoded_filters_and_the_top_images_two_ways(session):
    gallery = FilterGallery(session)
    assert session.worker.wait(120)
    assert gallery.layer == "conv3" and gallery.decoded.filters.shape == (128, 18, 18, 1)
    assert gallery.decoded_picture.size == (16 * 18 + 15, 8 * 18 + 7)  # 128 filters of 18×18
    assert "18×18 px (its receptive field)" in gallery.title.value
    assert "10,000 images" in gallery.what.value and "MNIST" in gallery.what.value
    plain = bytes(gallery.decoded_picture.image.value)
    gallery.view_picker.set_state({"index": 1})
    assert session.worker.wait(120)
    assert gallery.view == "thresholded" and bytes(gallery.decoded_picture.image.value) != plain
    gallery.layer_picker.set_state({"index": 2})
    assert session.worker.wait(120)
    assert gallery.layer == "conv2" and gallery.decoded_picture.size == (8 * 8 + 7, 8 * 8 + 7)
    before = bytes(gallery.decoded_picture.image.value)
    gallery.unpool_picker.set_state({"index": 2})
    assert session.worker.wait(120)
    assert gallery.unpool == "bicubic" and bytes(gallery.decoded_picture.image.value) != before
    table = decoding_table(session.model, session.data.test_set.images[:500], layers=["conv2"], unpools=["bicubic"])
    assert "<b>Table 1</b> (equation 3 on 500 images" in gallery.table.value and "conv2, bicubic" in gallery.table.value
    assert f"chance (each map against another map's decoded filter) {table.rows[0].chance:.4f}" in gallery.table.value
    x, y = gallery._tiles.origin(10)
    zoom = gallery.decoded_picture.zoom
    canvas_event(gallery.decoded_picture.overlay, "mouse_down", (x + 2) * zoom, (y + 2) * zoom)
    assert session.worker.wait(120)
    assert gallery.map_index == 10 and gallery.top.image.value
    images = session.data.test_set.images
    np.testing.assert_array_equal(gallery.top_network, top_images(session.model, "conv2", 10, images, k=8))
    decoded = decode_filters(session.model, "conv2", "bicubic")
    np.testing.assert_array_equal(gallery.top_decoded, decoded_top_images(session.model, decoded, 10, images, k=8))
    assert "map 10 of conv2" in gallery.top_title.value and "in both" in gallery.top_title.value
    assert "two random sets of 8 share 0.006 on average" in gallery.top_title.value  # 8 · 8 / 10,000
    gallery.close()


def test_raw_kernels_of_a_deeper_layer_one_channel_at_a_time(session):
    gallery = FilterGallery(session)
    assert gallery.kernel_layer == "conv1" and gallery.channel_picker.max == 0
    first = bytes(gallery.kernels.image.value)
    gallery.kernel_layer_picker.set_state({"index": 1})
    assert gallery.kernel_layer == "conv2" and gallery.channel_picker.max == 31
    assert "64 raw 3×3 kernels of <b>conv2</b> for input channel 0 of 32" in gallery.kernels_title.value
    channel0 = bytes(gallery.kernels.image.value)
    assert channel0 != first
    gallery.channel_picker.set_state({"value": 5})
    assert gallery.kernel_channel == 5 and bytes(gallery.kernels.image.value) != channel0
    assert raw_kernels(session.model, "conv2", 5).shape == (3, 3, 64)
    gallery.close()


def test_the_drawing_two_ways_fig_3(session):
    gallery = FilterGallery(session, "conv2")
    assert session.worker.wait(120)
    image = np.zeros((28, 28), np.float32)
    image[6:22, 12:16] = 1.0
    session.live.image = image
    assert session.worker.wait(30)  # the responses are computed on the worker, not in the live model's observer
    expected = responses(session.model, "conv2", image)
    assert f"{expected.error:.4f}" in gallery.responses_title.value
    assert gallery.network_responses.image.value and gallery.decoded_responses.image.value
    before = bytes(gallery.network_responses.image.value)
    gallery.active = False
    done = session.worker.done
    session.live.image = np.zeros((28, 28), np.float32)
    assert session.worker.wait(30) and session.worker.done == done  # not following: no job
    assert bytes(gallery.network_responses.image.value) == before
    gallery.close()
    gallery.active = True
    session.live.image = image[::-1].copy()
    assert session.worker.wait(30) and session.worker.done == done  # closed: nothing either
    assert bytes(gallery.network_responses.image.value) == before


def test_bad_traits_never_land(session):
    gallery = FilterGallery(session)
    assert session.worker.wait(120)
    for name, value in (("layer", "dense"), ("unpool", "area"), ("view", "x"), ("map_index", 128),
                        ("map_index", 2.0), ("kernel_layer", "pool1"), ("kernel_channel", 1)):
        before = getattr(gallery, name)
        with pytest.raises(traitlets.TraitError):
            setattr(gallery, name, value)
        assert getattr(gallery, name) == before
    assert gallery.layer_picker.value == gallery.layer == "conv3"
    canvas_event(gallery.decoded_picture.overlay, "mouse_down", float("nan"), 3.0)
    assert gallery.map_index == -1
    assert "ignored a pointer event without a position" in gallery.status and gallery.status_line.error
    gallery.close()


def test_without_data_the_top_images_say_why():
    model = CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))
    with Session(model) as bare:
        gallery = FilterGallery(bare)
        assert bare.worker.wait(120)
        assert "no top images" in gallery.what.value
        gallery.map_index = 1
        assert "no top images" in gallery.top_title.value and gallery.top_network is None


def test_given_images_are_searched(mnist_model):
    images = np.random.default_rng(0).random((30, 28, 28)).astype(np.float32)
    gallery = FilterGallery(mnist_model, images=images)  # a model first: a session of its own
    assert gallery.session.worker.wait(120)
    gallery.map_index = 3
    assert gallery.session.worker.wait(120)
    np.testing.assert_array_equal(gallery.top_network, top_images(mnist_model, "conv3", 3, images, k=8))
    assert "30 images given to the gallery" in gallery.what.value
    gallery.close()
    assert gallery.session.closed


def test_receptive_field_follows_a_clicked_cell(session):
    grid = MapGrid(session, "conv3")
    field = ReceptiveField(session)
    field.follow(grid)
    x, y = grid._mosaic.origin(40)
    zoom = grid.picture.zoom
    canvas_event(grid.picture.overlay, "mouse_down", (x + 2.5) * zoom, (y + 1.5) * zoom)
    assert grid.cell == (1, 2)
    assert field.region == session.model.layer("conv3").input_region(1, 2) == (4, 8, 22, 26)
    assert field.picture._rects[0][:4] == (8, 4, 18, 18)
    assert "conv3 cell (1, 2) sees rows 4–21, columns 8–25 (field 18×18)" in field.label.value
    grid.layer = "conv1"
    canvas_event(grid.picture.overlay, "mouse_down", 0.5 * grid.picture.zoom, 0.5 * grid.picture.zoom)
    assert field.region == (0, 0, 3, 3)
    field.show_cell("conv1", 1.5, 2)
    assert "whole numbers" in field.label.value and field.region == (0, 0, 3, 3)
    field.close()
    canvas_event(grid.picture.overlay, "mouse_down", 5.5 * grid.picture.zoom, 5.5 * grid.picture.zoom)
    assert field.region == (0, 0, 3, 3)  # closed: follows nothing
    grid.close()


_SENT = st.one_of(st.none(), st.booleans(), st.integers(-5, 200), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(max_size=4))


@pytest.fixture(scope="module")
def fuzzed(session):
    gallery = FilterGallery(session)
    assert session.worker.wait(120)
    yield gallery
    gallery.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picker=st.sampled_from(["layer_picker", "unpool_picker", "view_picker", "kernel_layer_picker",
                               "channel_picker"]), key=st.sampled_from(["value", "index"]), value=_SENT,
       x=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)), y=st.floats(-10, 400))
def test_fuzzed_frontend_messages_never_corrupt_the_gallery(session, fuzzed, picker, key, value, x, y):
    gallery = fuzzed
    try:
        getattr(gallery, picker).set_state({key: value})
    except (traitlets.TraitError, TypeError, ValueError, KeyError, IndexError):
        pass
    gallery.decoded_picture.overlay._handle_frontend_event(gallery.decoded_picture.overlay,
                                                           {"event": "mouse_down", "x": x, "y": y}, [])
    assert session.worker.wait(120)
    model = session.model
    assert gallery.layer in model.spatial_layers and gallery.layer_picker.value == gallery.layer
    assert gallery.unpool_picker.value == gallery.unpool and gallery.view_picker.value == gallery.view
    assert gallery.kernel_layer_picker.value == gallery.kernel_layer
    assert gallery.channel_picker.value == gallery.kernel_channel
    assert -1 <= gallery.map_index < int(model.layer(gallery.layer).output_shape[-1])
    assert gallery.decoded is not None and gallery.decoded.layer == gallery.layer


def test_images_that_are_no_batch_of_images_are_refused(session):
    for data in (5, np.zeros(10), np.zeros((0, 28, 28))):
        with pytest.raises(ValueError, match=r"images must be a batch of images \(N, height, width"):
            FilterGallery(session, images=data)
