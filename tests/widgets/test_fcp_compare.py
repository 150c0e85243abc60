"""FCPCompare driven by pickers, clicks on mosaics and bars, and a live drawing."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets.live import LiveModel
from cnn_widgets.widgets import FCPCompare

from ..test_fcp import _data, lights  # noqa: F401  (fixture)
from .helpers import canvas_event


@pytest.fixture
def data(rng):
    return _data(rng)


def test_three_mosaics_and_the_separating_maps(lights, data):  # noqa: F811
    fcp = FCPCompare(lights, data=data, classes=(0, 1))
    c = fcp.comparison
    assert c.map_ranking[0] == 1
    assert all(p.image.value for p in fcp.pictures)
    assert list(fcp.bars.x)[0] == "1" and fcp.bars.y[0] == pytest.approx(c.map_scores[1])
    assert "20 images of 0 and 20 of 1" in fcp.status
    before = [bytes(p.image.value) for p in fcp.pictures]
    fcp.b_picker.value = 2
    assert fcp.comparison.b.label == 2
    assert [bytes(p.image.value) for p in fcp.pictures][1:] != before[1:]


def test_clicks_select_a_map_and_show_single_images(lights, data):  # noqa: F811
    live = LiveModel(lights)
    fcp = FCPCompare(lights, live, data=data, classes=(0, 1))
    assert not fcp.examples.image.value
    picture = fcp.pictures[2]
    x, y = fcp._tiles.origin(1)
    canvas_event(picture.overlay, "mouse_down", (x + 1) * picture.zoom, (y + 1) * picture.zoom)
    assert fcp.selected_map == 1
    assert fcp.examples.image.value and "map 1" in fcp.examples_title.value
    fcp._bar_clicked(fcp.bars, {"event": "element_click", "data": {"index": 1}})
    assert fcp.selected_map == int(fcp.comparison.map_ranking[1])


def test_the_drawing_is_placed_between_the_classes(lights, data):  # noqa: F811
    images, labels = data
    live = LiveModel(lights)
    fcp = FCPCompare(lights, live, data=data, classes=(0, 1))
    live.image = images[labels == 0][0]
    near_a = fcp.position_bar.value
    live.image = images[labels == 1][0]
    near_b = fcp.position_bar.value
    assert near_a > 0.7 and near_b < 0.3
    assert "on the way from the mean 1 (0) to the mean 0 (1)" in fcp.position_label.value


def test_without_data_classes_come_from_drawings(lights, data):  # noqa: F811
    images, labels = data
    live = LiveModel(lights)

    def offline():
        raise RuntimeError("offline: set CNN_WIDGETS_MNIST")

    fcp = FCPCompare(lights, live, classes=(0, 1), load=offline)
    assert "no images yet" in fcp.status and "cnnw-error" in fcp.status_label.value
    for label, button in ((0, fcp.add_a), (1, fcp.add_b)):
        for image in images[labels == label][:3]:
            live.image = image
            button.click()
    assert fcp.comparison is not None and fcp.comparison.a.count == 3 and fcp.comparison.b.count == 3
    assert "No data set" in fcp.status


def test_bad_choices_show_an_error_and_stay_usable(lights, data):  # noqa: F811
    fcp = FCPCompare(lights, data=data, classes=(0, 1))
    fcp.b_picker.value = 0
    assert "two different classes" in fcp.status
    images, labels = data
    sparse = FCPCompare(lights, data=(images[labels < 2], labels[labels < 2]), classes=(0, 1))
    sparse.b_picker.value = 2
    assert "has no images" in sparse.status
    sparse.b_picker.value = 1
    assert sparse.comparison.b.label == 1 and "20 images" in sparse.status


def test_flat_layers_work(mnist_model, mnist_path):
    from cnn_widgets import load_mnist

    (_, _), (x, y) = load_mnist(mnist_path)
    fcp = FCPCompare(mnist_model, data=(x[:2000], y[:2000]))
    assert fcp.layer == "conv3" and fcp.comparison.a.mean.shape == (3, 3, 128)
    fcp.layer_picker.value = "dense"
    assert fcp.comparison.a.mean.shape == (70,) and all(p.image.value for p in fcp.pictures)


def test_the_drawing_can_be_paused(lights, data):  # noqa: F811
    images, labels = data
    live = LiveModel(lights)
    fcp = FCPCompare(lights, live, data=data, classes=(0, 1))
    fcp.follow_drawing = False
    before = fcp.position_bar.value
    live.image = images[labels == 0][0]
    assert fcp.position_bar.value == before  # untouched while paused
    fcp.follow_drawing = True
    assert fcp.position_bar.value > 0.7


def test_lazy_comparison_waits_until_shown(lights, data):  # noqa: F811
    fcp = FCPCompare(lights, LiveModel(lights), data=data, classes=(0, 1), lazy=True)
    assert fcp.comparison is None and not fcp.follow_drawing
    fcp.follow_drawing = True
    assert fcp.comparison is not None and fcp.comparison.map_ranking[0] == 1
