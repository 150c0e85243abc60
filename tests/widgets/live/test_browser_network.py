"""BrowserNetwork and the live views' browser side, driven as the frontend drives them."""

from __future__ import annotations

import numpy as np

from cnn_widgets import CNNModel, Session
from cnn_widgets.widgets import DenseView, DigitPad, MapGrid, ProbabilityBars
from cnn_widgets.widgets.live.browser_network import browser_network

from ...conftest import make_tiny_cnn
from .test_pad import stroke


def test_the_weights_go_once_as_one_binary_buffer_and_every_view_shares_them(wire, mnist_model):
    session = Session(mnist_model)
    mark = wire.mark()
    pad, grid, dense, bars = DigitPad(session), MapGrid(session, "conv2"), DenseView(session), ProbabilityBars(session)
    network, why = browser_network(session)
    assert network is not None and why == ""
    refs = {pad.canvas.network, grid.browser.network, dense.browser.network, bars.browser.network,
            pad.browser.network}
    assert refs == {f"anywidget:{network.model_id}"}  # one front-end model, referenced by all
    opened = [m for m in wire.since(mark) if m.comm_id == network.model_id and m.msg_type == "comm_open"]
    assert len(opened) == 1
    assert sum(len(b) for b in opened[0].buffers) >= 4 * 174_092  # float32 weights as binary buffers
    assert len(str(opened[0].data)) < 40_000  # not as JSON numbers
    assert network.header["layers"][0]["name"] == "conv1" and network.version == mnist_model.version
    session.close()


def test_during_a_stroke_the_live_views_send_nothing_and_at_pen_up_their_kernel_pictures(wire, mnist_model):
    session = Session(mnist_model)
    pad, grid, dense, bars = DigitPad(session), MapGrid(session, "conv1"), DenseView(session), ProbabilityBars(session)
    views = {grid.picture.image.model_id, dense.picture.image.model_id, bars.bars.model_id, pad.preview.model_id,
             grid.browser.model_id, dense.browser.model_id, bars.browser.model_id}
    network, _ = browser_network(session)
    mark = wire.mark()
    from .test_pad import send

    send(pad, {"type": "stroke", "id": "s1", "width": 20, "points": [140.0, 40.0, 140.0, 90.0], "start": True})
    send(pad, {"type": "stroke", "id": "s1", "width": 20, "points": [140.0, 140.0, 140.0, 190.0]})
    assert pad.wait(10)
    during = [m for m in wire.since(mark) if m.comm_id in views | {network.model_id}]
    assert during == [] and session.live.updates >= 1  # the kernel computed, and said nothing
    send(pad, {"type": "stroke", "id": "s1", "width": 20, "points": [140.0, 240.0], "end": True})
    assert pad.wait(10)
    after = {m.comm_id for m in wire.since(mark)}
    assert {grid.picture.image.model_id, dense.picture.image.model_id, bars.bars.model_id,
            pad.preview.model_id} <= after  # the kernel's pictures, once the stroke ended
    assert network.model_id not in after  # the browser made this image itself: not sent back
    assert bars.prediction == "1"
    session.close()


def test_an_image_not_from_the_pad_is_sent_to_the_browser_and_a_blank_predicts_nothing(wire, mnist_model):
    session = Session(mnist_model)
    pad, bars = DigitPad(session), ProbabilityBars(session)
    network, _ = browser_network(session)
    assert "draw a digit" in bars.label.value and bars.prediction == ""  # a blank pad predicts nothing
    first = network.image_id
    session.show_test_image(3)
    assert pad.wait(10)
    assert network.image_id > first
    sent = np.frombuffer(network.image, "<f4").reshape(28, 28)
    np.testing.assert_array_equal(sent, session.live.image)
    assert bars.prediction != ""
    session.close()


def test_a_click_in_the_browser_reaches_the_kernel_and_a_bad_one_is_put_back(mnist_model):
    session = Session(mnist_model)
    grid = MapGrid(session, "conv2")
    grid.browser.set_state({"map_index": 5, "cell": [3, 4]})  # what views.js sends on a click
    assert (grid.map_index, grid.cell) == (5, (3, 4))
    grid.browser.set_state({"map_index": 99, "cell": [1, 1]})
    assert (grid.map_index, grid.cell) == (5, (3, 4)) and grid.browser.map_index == 5
    assert "out of range" in grid.hover_label.value
    grid.map_index = 7  # chosen in the kernel (another view): the browser outlines it
    assert grid.browser.map_index == 7 and grid.cell == (3, 4)
    grid.layer = "conv3"
    assert grid.browser.layer == "conv3" and grid.browser.map_index == -1
    session.close()


def test_a_model_the_browser_cannot_run_keeps_the_kernel_path_and_says_so_once():
    import keras

    net = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                            keras.layers.UpSampling2D(name="up"), keras.layers.Flatten(),
                            keras.layers.Dense(3, activation="softmax", name="out")])
    session = Session(CNNModel(net), data=False)
    grids = [MapGrid(session, "conv"), MapGrid(session, "up")]
    bars = ProbabilityBars(session)
    assert all(view.browser is None for view in (*grids, bars))
    assert session.status == ("the browser cannot compute layer 'up' (UpSampling2D): this layer type has no "
                              "browser code; the live views are computed in the kernel")
    session.live.image = np.random.default_rng(0).random((12, 12)).astype(np.float32)
    assert grids[0].picture.image.value  # the kernel draws, as before
    session.close()


def test_closing_the_last_view_closes_the_network(mnist_model):
    session = Session(mnist_model)
    grid, bars = MapGrid(session, "conv1"), ProbabilityBars(session)
    network, _ = browser_network(session)
    grid.close()
    assert network.comm is not None
    bars.close()
    assert network.comm is None
    again, _ = browser_network(session)
    assert again is not network and again.comm is not None
    session.close()


def test_a_tiny_model_is_computed_in_the_browser_too():
    session = Session(CNNModel(make_tiny_cnn()), data=False)
    grid = MapGrid(session, "conv")
    assert grid.browser is not None and grid.browser.columns >= 1 and grid.browser.zoom >= 1
    session.close()


def test_a_stroke_drawn_in_the_browser_is_answered_with_that_stroke(wire, mnist_model):
    pad = DigitPad(mnist_model)
    mark = wire.mark()
    stroke(pad, [(60, 60), (200, 200)], stroke_id="only")
    answers = [m.data["content"] for m in wire.since(mark) if m.comm_id == pad.canvas.model_id]
    assert answers == [{"type": "committed", "stroke": {"id": "only", "width": 20, "points": [60.0, 60.0, 200.0,
                                                                                               200.0]}}]
    pad.close()


def test_the_receptive_field_picture_waits_for_the_pen_up_where_the_browser_computes(wire, mnist_model):
    """Its image went to the browser on every frame of a stroke (the last kernel message per frame)."""
    from cnn_widgets.widgets import ReceptiveField

    from .test_pad import send

    session = Session(mnist_model)
    pad, field = DigitPad(session), ReceptiveField(session)
    mark = wire.mark()
    send(pad, {"type": "stroke", "id": "s1", "width": 20, "points": [140.0, 40.0, 140.0, 90.0], "start": True})
    send(pad, {"type": "stroke", "id": "s1", "width": 20, "points": [140.0, 140.0, 140.0, 190.0]})
    assert pad.wait(10) and session.live.updates >= 1
    assert [m for m in wire.since(mark) if m.comm_id == field.picture.image.model_id] == []
    send(pad, {"type": "stroke", "id": "s1", "width": 20, "points": [140.0, 240.0], "end": True})
    assert pad.wait(10)
    assert len([m for m in wire.since(mark) if m.comm_id == field.picture.image.model_id]) == 1  # once, at pen-up
    session.close()
