"""DenseView and ProbabilityBars follow the live model."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from cnn_widgets import CNNModel
from cnn_widgets.session import LiveModel

from cnn_widgets.render import default_columns
from cnn_widgets.widgets import DenseView, ProbabilityBars

from ..conftest import make_tiny_cnn
from .helpers import canvas_event


def test_probability_bars_highlight_the_prediction(mnist_model, wire):
    live = LiveModel(mnist_model)
    bars = ProbabilityBars(live)
    image = np.zeros((28, 28), np.float32)
    image[4:24, 13:15] = 1.0  # a "1"
    mark = wire.mark()
    live.image = image
    probabilities = live.probabilities
    np.testing.assert_allclose(bars.bars.y, probabilities, rtol=1e-6)
    assert bars.prediction == "1"
    assert list(bars.bars.color) == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]  # 1 = the highlight colour
    assert "cnnw-predicted-class'>1<" in bars.label.value
    updates = [m for m in wire.since(mark) if m.comm_id == bars.bars.model_id]
    assert len(updates) == 1, "y and colours go in one message"
    assert list(bars.bars.x) == [str(i) for i in range(10)]
    assert bars.bars.tooltip is not None


def test_dense_view_shows_every_unit_and_hover_values(mnist_model):
    live = LiveModel(mnist_model)
    view = DenseView(live)
    assert view.layer == "dense" and view.columns == 10
    before = view.picture.image.value
    image = np.zeros((28, 28), np.float32)
    image[6:22, 8:20] = 1.0
    live.image = image
    assert view.picture.image.value != before
    zoom = view.picture.zoom
    canvas_event(view.picture.overlay, "mouse_move", (3 + 0.5) * zoom, (2 + 0.5) * zoom)
    assert view.hovered == f"dense · unit 23 · {live.activations['dense'][23]:.3f}"


def test_dense_view_needs_a_flat_layer(mnist_model):
    live = LiveModel(mnist_model)
    with pytest.raises(ValueError, match="has maps"):
        DenseView(live, "conv3")
    with pytest.raises(ValueError, match="no hidden dense layer"):
        DenseView(LiveModel(CNNModel(make_tiny_cnn())))


def test_dense_view_layer_can_change(mnist_model):
    live = LiveModel(mnist_model)
    view = DenseView(live)
    image = np.zeros((28, 28), np.float32)
    image[6:22, 8:20] = 1.0
    live.image = image
    view.layer = "output"
    assert "output</b> — 10 units" in view.title.value and view.columns == default_columns(10)
    zoom = view.picture.zoom
    canvas_event(view.picture.overlay, "mouse_move", 0.5 * zoom, 0.5 * zoom)
    assert view.hovered == f"output · unit 0 · {live.activations['output'][0]:.3f}"
    for bad in ("conv3", "flatten", "nope"):
        with pytest.raises(traitlets.TraitError):
            view.layer = bad
    assert view.layer == "output"


def test_views_close_and_stop_following(mnist_model, wire):
    live = LiveModel(mnist_model)
    bars, view = ProbabilityBars(live), DenseView(live)
    bars.close()
    view.close()
    mark = wire.mark()
    image = np.zeros((28, 28), np.float32)
    image[4:20, 10:14] = 1.0
    live.image = image
    assert wire.since(mark) == []


def test_dense_view_refuses_a_pointer_without_a_position_with_a_message(mnist_model):
    view = DenseView(LiveModel(mnist_model))
    for x, y in ((None, 3.0), (float("nan"), 1.0), (float("inf"), 2.0)):
        canvas_event(view.picture.overlay, "mouse_move", x, y)
        assert view.hovered == "" and "ignored a pointer event without a position" in view.hover_label.value
    zoom = view.picture.zoom
    canvas_event(view.picture.overlay, "mouse_move", 0.5 * zoom, 0.5 * zoom)
    assert view.hovered.startswith("dense · unit 0 · ")  # still usable


def test_dense_view_refuses_columns_that_are_no_count(mnist_model):
    for columns in (0, -3, 2.5):
        with pytest.raises(ValueError, match="columns must be a whole number ≥ 1"):
            DenseView(LiveModel(mnist_model), columns=columns)


def test_a_misspelt_setting_is_refused_not_dropped(mnist_model):
    from cnn_widgets.widgets import MapGrid, OIPExplorer

    live = LiveModel(mnist_model)
    for build in (lambda: MapGrid(live, colourmap="grey"), lambda: OIPExplorer(live, setps=5),
                  lambda: ProbabilityBars(live, bogus=1)):
        with pytest.raises(TypeError, match="got unexpected keyword arguments"):
            build()
    assert MapGrid(live, colormap="grey", layout={"width": "300px"}).colormap == "grey"  # real traits still pass
