"""FCPCompare driven by pickers, clicks on mosaics and bars, and a live drawing, as the frontend does."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from cnn_widgets.session import Session

from cnn_widgets.widgets import FCPCompare

from ...methods.test_fcp import _data, lights  # noqa: F401  (fixture)
from ..helpers import canvas_event, choose, click, element_click


@pytest.fixture
def data(rng):
    return _data(rng)


@pytest.fixture
def session(lights, data):  # noqa: F811
    session = Session(lights, data=data)
    yield session
    session.close()


def shown(fcp: FCPCompare) -> FCPCompare:
    """Wait until the widget's job on the worker is done (as a user waits for the picture)."""
    assert fcp.session.worker.wait(60)
    return fcp


def test_three_mosaics_and_the_separating_maps(session):
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    c = fcp.comparison
    assert c.map_ranking[0] == 1
    assert all(p.image.value for p in fcp.pictures)
    assert list(fcp.bars.x)[0] == "1" and fcp.bars.y[0] == pytest.approx(c.map_scores[1])
    assert "20 images of 0 and 20 of 1" in fcp.status
    assert "Data: 60 images given to the session</small>" in fcp.source_label.value  # 20 of each of 3 classes
    before = [bytes(p.image.value) for p in fcp.pictures]
    choose(fcp.b_picker, 2)
    shown(fcp)
    assert fcp.class_b == 2 and fcp.comparison.b.label == 2
    assert [bytes(p.image.value) for p in fcp.pictures][1:] != before[1:]


def test_each_mosaic_says_its_colour_scale_and_tile_order(session):
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    c = fcp.comparison
    a, b, diff = (np.asarray(v).reshape(-1, np.asarray(v).shape[-1]) for v in (c.a.mean, c.b.mean, c.difference))
    low, high = min(float(a.min()), float(b.min()), 0.0), max(float(a.max()), float(b.max()))
    spread = float(np.abs(diff).max())
    for title in fcp.titles[:2]:
        assert f"viridis {low:.2f} to {high:.2f}, the same for A and B" in title.value
        assert "row by row" in title.value
    assert f"blue −{spread:.2f} (more in 1) to red +{spread:.2f} (more in 0)" in fcp.titles[2].value


def test_each_change_computes_each_class_once(session):
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    assert fcp.computed == 2  # A and B, once each
    choose(fcp.b_picker, 2)
    shown(fcp)
    assert fcp.computed == 3  # only the new class
    choose(fcp.b_picker, 1)
    shown(fcp)
    assert fcp.computed == 3  # both known: nothing computed again


def test_retraining_recomputes(session):
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    session.model.changed()  # what train() does
    fcp.refresh()
    shown(fcp)
    assert fcp.computed == 4


def test_clicks_select_a_map_and_show_single_images(session):
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    assert not fcp.examples.image.value
    picture = fcp.pictures[2]
    x, y = fcp._tiles.origin(1)
    canvas_event(picture.overlay, "mouse_down", (x + 1) * picture.zoom, (y + 1) * picture.zoom)
    assert fcp.map_index == 1
    assert session.worker.wait(30)  # the single images' maps are computed on the worker, not in the click
    assert fcp.examples.image.value and "map 1" in fcp.examples_title.value
    element_click(fcp.bars, 1)
    assert fcp.map_index == int(fcp.comparison.map_ranking[1])


def test_bad_pointer_events_and_bar_clicks_are_ignored(session):
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    picture = fcp.pictures[0]
    for x, y in ((None, None), (float("nan"), 1.0), (float("inf"), 0.0), (-5.0, -5.0), (1e9, 1e9)):
        canvas_event(picture.overlay, "mouse_down", x, y)
    assert fcp.map_index == -1 and "ignored a pointer event without a position" in fcp.status
    for index in (99, -1, None, "2", True, 1.5):
        fcp._say("")
        fcp.bars._handle_custom_msgs(fcp.bars, {"event": "element_click", "data": {"index": index}}, [])
        assert fcp.map_index == -1 and "ignored a click on bar" in fcp.status and fcp.status_line.error
    for data in (None, [1, 2], "x"):
        fcp.bars._handle_custom_msgs(fcp.bars, {"event": "element_click", "data": data}, [])
    assert fcp.map_index == -1
    element_click(fcp.bars, 0)
    assert fcp.map_index == 1  # still usable


def test_the_drawing_is_placed_between_the_classes(session, data):
    images, labels = data
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    session.live.image = images[labels == 0][0]
    near_a = fcp.position_bar.value
    session.live.image = images[labels == 1][0]
    near_b = fcp.position_bar.value
    assert near_a > 0.7 and near_b < 0.3
    assert "on the way from the mean 1 (0) to the mean 0 (1)" in fcp.position_label.value


def test_without_data_classes_come_from_drawings_and_can_be_removed(lights, data):  # noqa: F811
    images, labels = data
    session = Session(lights, data=False)
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    assert "no images yet" in fcp.status and fcp.status_line.error
    assert "no test images" in fcp.source_label.value
    for label, button in ((0, fcp.add_a), (1, fcp.add_b)):
        for image in images[labels == label][:3]:
            session.live.image = image
            click(button)
    shown(fcp)
    assert fcp.comparison is not None and fcp.comparison.a.count == 3 and fcp.comparison.b.count == 3
    assert "6 of your drawings" in fcp.source_label.value
    click(fcp.clear_drawings)
    shown(fcp)
    assert "no images yet" in fcp.status and fcp.clear_drawings.disabled
    session.close()


def test_a_drawing_the_model_cannot_take_is_not_added(lights):  # noqa: F811
    session = Session(lights, data=False)
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    session.live.image = np.zeros((5, 5), np.float32)  # the wrong size: the live model reports it
    assert session.live.error
    click(fcp.add_a)
    assert "cannot be added" in fcp.status and fcp._own == {}
    session.close()


def test_bad_values_never_land_and_the_pickers_stay_in_step(session, data):
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    for name, value in (("class_a", 11), ("class_b", -1), ("layer", "pixels"), ("layer", "nope"),
                        ("map_index", 3), ("map_index", -2)):
        with pytest.raises(traitlets.TraitError):
            setattr(fcp, name, value)
    assert (fcp.class_a, fcp.class_b, fcp.layer, fcp.map_index) == (0, 1, "maps", -1)
    assert (fcp.a_picker.value, fcp.b_picker.value, fcp.layer_picker.value) == (0, 1, "maps")
    choose(fcp.b_picker, 0)
    assert "two different classes" in fcp.status
    choose(fcp.b_picker, 1)
    shown(fcp)
    assert fcp.comparison.b.label == 1
    with pytest.raises(ValueError, match="class 7 does not exist"):
        fcp.add_drawing(7)


def test_a_class_without_images_says_so(lights, data):  # noqa: F811
    images, labels = data
    session = Session(lights, data=(images[labels < 2], labels[labels < 2]))
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    choose(fcp.b_picker, 2)
    shown(fcp)
    assert "no images yet" in fcp.status
    choose(fcp.b_picker, 1)
    shown(fcp)
    assert fcp.comparison.b.label == 1 and "20 images" in fcp.status
    session.close()


def test_flat_layers_on_the_shipped_test_split(mnist_model):
    session = Session(mnist_model)
    fcp = shown(FCPCompare(session))
    assert fcp.layer == "conv3" and fcp.comparison.a.mean.shape == (3, 3, 128)
    assert fcp.comparison.a.count == int(np.sum(session.data.test_set.labels == 4))
    assert "MNIST test split" in fcp.source_label.value
    choose(fcp.layer_picker, "dense")
    shown(fcp)
    assert fcp.comparison.a.mean.shape == (70,) and all(p.image.value for p in fcp.pictures)
    session.close()


def test_the_drawing_can_be_paused(session, data):
    images, labels = data
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    fcp.active = False
    before = fcp.position_bar.value
    session.live.image = images[labels == 0][0]
    assert fcp.position_bar.value == before  # untouched while paused
    fcp.active = True
    assert fcp.position_bar.value > 0.7


def test_lazy_comparison_waits_until_shown(session):
    fcp = FCPCompare(session, classes=(0, 1), lazy=True)
    assert session.worker.done == 0 and fcp.comparison is None and not fcp.active
    fcp.active = True
    shown(fcp)
    assert fcp.comparison is not None and fcp.comparison.map_ranking[0] == 1


def test_a_closed_widget_computes_and_sends_nothing(session, data, wire):
    images, labels = data
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    fcp.close()
    mark = wire.mark()
    session.live.image = images[0]
    assert wire.since(mark) == []
    assert fcp.refresh() is None and session.worker.done == 1


def test_an_empty_choice_from_the_frontend_keeps_the_pickers_in_step(session):
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    for picker in (fcp.a_picker, fcp.layer_picker):
        picker.set_state({"index": None})  # what the ipywidgets 8 frontend sends for no selection
    assert (fcp.class_a, fcp.layer) == (0, "maps")
    assert (fcp.a_picker.value, fcp.layer_picker.value) == (0, "maps")
    assert "no layer chosen" in fcp.status
    choose(fcp.a_picker, 2)
    shown(fcp)
    assert fcp.comparison.a.label == 2  # still usable


def test_an_empty_drawing_is_not_added(session):
    fcp = shown(FCPCompare(session, classes=(0, 1)))
    counts = (fcp.comparison.a.count, fcp.comparison.b.count)
    session.live.image = np.zeros(session.model.input_shape, np.float32)  # a cleared pad
    click(fcp.add_a)
    shown(fcp)
    assert "the drawing is empty" in fcp.status and fcp._own == {} and fcp.clear_drawings.disabled
    assert (fcp.comparison.a.count, fcp.comparison.b.count) == counts


def test_two_equal_classes_are_refused_when_built(session):
    with pytest.raises(ValueError, match="classes must be two different classes"):
        FCPCompare(session, classes=(1, 1))


def test_classes_that_are_no_pair_are_refused_when_built(session):
    for classes in (5, "01", (0, 1, 2), (0, 1.5)):
        with pytest.raises(ValueError, match="classes must be two class indices in 0–"):
            FCPCompare(session, classes=classes)
