"""CellInspector driven by map-grid clicks, its pickers, patch/window/bar clicks and the drawing."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from cnn_widgets.session import Session

from cnn_widgets.widgets import CellInspector, MapGrid

from ...conftest import make_tiny_cnn
from ..helpers import canvas_event, choose, click, element_click


@pytest.fixture(scope="module")
def digits():
    from cnn_widgets.data.mnist import mnist_test_split

    images, labels = mnist_test_split()
    return images[np.flatnonzero(labels == 4)[:3]], images[np.flatnonzero(labels == 9)[:3]]


@pytest.fixture
def session(mnist_model, digits):
    session = Session(mnist_model)
    session.live.image = digits[0][0]
    yield session
    session.close()


def value_of(session, inspector) -> float:
    return float(session.live.activations[inspector.layer][inspector.cell])


def click_picture(picture, x: float, y: float) -> None:
    """A mouse-down on picture pixel (x, y), in screen pixels as the frontend sends them."""
    canvas_event(picture.overlay, "mouse_down", (x + 0.5) * picture.zoom, (y + 0.5) * picture.zoom)


def test_shows_the_arithmetic_of_the_default_cell(session):
    inspector = CellInspector(session)
    e = inspector.explanation
    strongest = np.unravel_index(np.argmax(session.live.activations["conv1"]), (26, 26, 32))
    assert inspector.layer == "conv1" and inspector.cell == tuple(int(v) for v in strongest)  # a cell with signal
    assert e.value == pytest.approx(float(session.live.activations["conv1"].max()), abs=1e-5) and e.value > 0.5
    assert e.value == pytest.approx(value_of(session, inspector), abs=1e-5)
    assert f"{e.value:.4f}" in inspector.title.value
    assert f"Σ 9 products = {e.total:+.4f}" in inspector.arithmetic.value
    assert all(p.image.value for p in (inspector.patch, inspector.kernel, inspector.products, inspector.image))
    assert inspector.table.value.count("=<b>") == 9  # one channel: every product written out
    top, left, bottom, right = e.region
    assert inspector.image._rects == [(left, top, right - left, bottom - top, "#ff00ff")]


def test_follows_a_click_on_any_map_grid(session):
    inspector = CellInspector(session)
    for layer in ("conv2", "pool2", "conv3"):
        grid = MapGrid(session, layer)
        inspector.follow(grid)
        x, y = grid._mosaic.origin(5)
        click_picture(grid.picture, x + 1, y + 2)
        assert (inspector.layer, inspector.cell) == (layer, (2, 1, 5))
        assert inspector.explanation.value == pytest.approx(value_of(session, inspector), abs=1e-5)


def test_updates_live_while_drawing_without_resending_the_kernel(session, digits, wire):
    inspector = CellInspector(session, "conv2", (5, 5, 7))
    renders = inspector.renders
    mark = wire.mark()
    session.live.image = digits[1][0]
    assert inspector.renders == renders + 1
    assert inspector.explanation.value == pytest.approx(value_of(session, inspector), abs=1e-5)
    sent = {m.comm_id for m in wire.since(mark) if m.data.get("method") == "update"}
    assert inspector.patch.image.model_id in sent and inspector.products.image.model_id in sent
    assert inspector.kernel.image.model_id not in sent  # same map, same weights


def test_pool_window_click_goes_down_to_the_winner_and_back(session):
    inspector = CellInspector(session, "pool1", (6, 6, 3))
    e = inspector.explanation
    assert e.kind == "pool" and inspector.detail.children == (inspector.pool_box,)
    winner = e.winner
    assert inspector.window._rects[0][:2] == (winner[1], winner[0])
    below = e.source_of(*winner)
    click_picture(inspector.window, winner[1], winner[0])
    assert (inspector.layer, inspector.cell) == below
    assert inspector.explanation.value == pytest.approx(e.value, abs=1e-6)  # the winner's value is the max
    click(inspector.back_button)
    assert (inspector.layer, inspector.cell) == ("pool1", (6, 6, 3))
    assert inspector.back_button.disabled


def test_conv_patch_click_goes_to_that_input_cell(session):
    inspector = CellInspector(session, "conv2", (4, 4, 0))
    tiles = inspector._tiles["products"]
    x, y = tiles.origin(17)  # input channel 17
    click_picture(inspector.products, x + 2, y + 1)  # entry (i, j) = (1, 2)
    assert (inspector.layer, inspector.cell) == ("pool1", (5, 6, 17))
    inspector.back()
    click_picture(inspector.kernel, x + 2, y + 1)  # the weight of that entry: the same input
    assert (inspector.layer, inspector.cell) == ("pool1", (5, 6, 17))


def test_strongest_input_walks_down_to_the_pixels(session):
    inspector = CellInspector(session, "dense", (3,))
    layers = []
    for _ in range(8):
        layers.append(inspector.layer)
        click(inspector.down_button)
        if "pixel" in inspector.status:
            break
    assert layers == ["dense", "conv3", "pool2", "conv2", "pool1", "conv1"]
    assert inspector.status.startswith("pixel (")


def test_dense_unit_ranks_contributions_and_a_bar_click_inspects_one(session):
    inspector = CellInspector(session, "dense", (3,))
    e = inspector.explanation
    top = e.contributions(12)
    assert list(inspector.bars.y) == pytest.approx([c.product for c in top])
    assert list(inspector.bars.x)[0] == "conv3[{}, {}, {}]".format(*top[0].source[1:])
    assert "Σ 1152 products" in inspector.arithmetic.value
    element_click(inspector.bars, 2)
    assert (inspector.layer, inspector.cell) == ("conv3", top[2].source[1:])
    inspector.inspect("output", (4,))
    assert "softmax over 10 values" in inspector.arithmetic.value
    element_click(inspector.bars, 0)
    assert inspector.layer == "dense"


def test_pickers_and_typed_cells_as_the_frontend_sends_them(session):
    inspector = CellInspector(session)
    choose(inspector.layer_picker, "conv3")  # a layer picked: its strongest cell for the drawing
    strongest = np.unravel_index(np.argmax(session.live.activations["conv3"]), (3, 3, 128))
    assert (inspector.layer, inspector.cell) == ("conv3", tuple(int(v) for v in strongest))
    inspector.cell_text.set_state({"value": "2, 0, 77"})
    assert inspector.cell == (2, 0, 77)
    assert inspector.explanation.value == pytest.approx(value_of(session, inspector), abs=1e-5)
    choose(inspector.layer_picker, "flatten")
    strongest = int(np.argmax(session.live.activations["flatten"]))
    assert inspector.cell == (strongest,) and "laid out flat" in inspector.arithmetic.value


def test_bad_cells_are_refused_and_the_inspector_stays_usable(session):
    inspector = CellInspector(session, "conv2", (1, 2, 3))
    for text in ("nan, 0, 0", "11, 0, 0", "1, 2", "a, b, c", "1e9, 1, 1"):
        inspector.cell_text.set_state({"value": text})
        assert inspector.status_line.error and inspector.cell == (1, 2, 3), text
    for bad in ((float("nan"), 0, 0), (0, 0, 64), (0, 0), (-1, 0, 0), ("1", 0, 0)):
        with pytest.raises(traitlets.TraitError):
            inspector.cell = bad
    with pytest.raises(traitlets.TraitError, match="explains these layers"):
        inspector.layer = "nope"
    assert not inspector.inspect("conv1", (99, 0, 0)) and "outside" in inspector.status
    assert (inspector.layer, inspector.cell) == ("conv2", (1, 2, 3))
    for x, y in ((None, None), (float("nan"), 1.0), (float("inf"), 0.0), (-3.0, -3.0)):
        canvas_event(inspector.products.overlay, "mouse_down", x, y)
    for index in (None, 99, -1, "2"):
        inspector.bars._handle_custom_msgs(inspector.bars, {"event": "element_click", "data": {"index": index}}, [])
    assert (inspector.layer, inspector.cell) == ("conv2", (1, 2, 3))
    assert inspector.inspect("conv2", (3, 3, 3)) and not inspector.status_line.error


def test_every_cell_kind_of_a_tiny_rgb_model():
    from cnn_widgets import CNNModel

    model = CNNModel(make_tiny_cnn(channels=3, filters=2, classes=3), mean=0.5, std=0.2)
    session = Session(model, data=False)
    session.live.image = np.random.default_rng(5).random((8, 8, 3)).astype(np.float32)
    inspector = CellInspector(session)
    for layer, cell in (("conv", (2, 3, 1)), ("pool", (1, 2, 0)), ("flat", (5,)), ("out", (2,))):
        assert inspector.inspect(layer, cell)
        assert inspector.explanation.value == pytest.approx(value_of(session, inspector), abs=1e-5)
    inspector.inspect("conv", (0, 0, 0))
    assert inspector.explanation.patch.shape == (3, 3, 3)
    assert inspector.image.image.value  # the RGB image is shown
    session.close()


def test_close_stops_following_and_sends_nothing(session, digits, wire):
    inspector = CellInspector(session, "conv2", (1, 1, 1))
    grid = MapGrid(session, "conv1")
    inspector.follow(grid)
    ids = {inspector.patch.image.model_id, inspector.title.model_id, inspector.arithmetic.model_id}
    inspector.close()
    renders = inspector.renders
    mark = wire.mark()
    session.live.image = digits[1][1]
    x, y = grid._mosaic.origin(2)
    click_picture(grid.picture, x, y)
    assert inspector.renders == renders
    assert not [m for m in wire.since(mark) if m.comm_id in ids]
    assert inspector.patch.image.comm is None  # closed with the inspector


def test_a_hidden_inspector_sends_nothing_per_stroke_and_catches_up(session, digits, wire):
    inspector = CellInspector(session, "conv3", (1, 1, 9))
    inspector.active = False
    renders = inspector.renders
    mark = wire.mark()
    session.live.image = digits[1][2]
    assert inspector.renders == renders
    assert not [m for m in wire.since(mark) if m.comm_id == inspector.patch.image.model_id]
    inspector.active = True
    assert inspector.renders == renders + 1
    assert inspector.explanation.value == pytest.approx(value_of(session, inspector), abs=1e-5)


@pytest.mark.parametrize("layer, cell", [("conv1", (9, 9, 3)), ("conv3", (1, 1, 5)), ("pool2", (2, 2, 7)),
                                         ("dense", (11,))])
def test_one_stroke_costs_few_small_messages(session, digits, wire, layer, cell):
    inspector = CellInspector(session, layer, cell)
    renders, mark = inspector.renders, wire.mark()
    session.live.image = digits[1][1]
    mine = [m for m in wire.since(mark) if m.data.get("method") == "update"]
    assert inspector.renders == renders + 1
    assert 1 <= len(mine) <= 8 and sum(m.size for m in mine) <= 16 * 1024


def test_hovering_a_patch_or_window_entry_tells_its_numbers(session):
    inspector = CellInspector(session, "conv2", (4, 4, 0))
    e = inspector.explanation
    x, y = inspector._tiles["patch"].origin(17)
    picture = inspector.kernel
    canvas_event(picture.overlay, "mouse_move", (x + 2.5) * picture.zoom, (y + 1.5) * picture.zoom)
    text = inspector.hover_label.value
    assert "pool1 (5, 6, 17)" in text and f"{e.products[1, 2, 17]:+.3f}" in text
    canvas_event(picture.overlay, "mouse_out", 0, 0)
    assert inspector.hover_label.value == "&nbsp;"
    inspector.inspect("pool2", (1, 1, 3))
    winner = inspector.explanation.winner
    window = inspector.window
    canvas_event(window.overlay, "mouse_move", (winner[1] + 0.5) * window.zoom, (winner[0] + 0.5) * window.zoom)
    assert "the winner" in inspector.window_hover.value


def test_in_the_explorer_it_opens_on_the_cell_clicked_last_and_follows_while_shown(wire):
    from cnn_widgets import Explorer

    explorer = Explorer()
    assert "Inside a cell" in explorer.titles and "Inside a cell" not in explorer._panels  # built when opened
    grids = {grid.layer: grid for grid in explorer.grids}
    x, y = grids["conv2"]._mosaic.origin(3)
    click_picture(grids["conv2"].picture, x + 1, y + 1)
    explorer.tabs.set_state({"selected_index": explorer.titles.index("Inside a cell")})  # as the frontend sends it
    inspector = explorer.inspector
    assert (inspector.layer, inspector.cell) == ("conv2", (1, 1, 3)) and inspector.active
    x, y = grids["pool2"]._mosaic.origin(7)
    click_picture(grids["pool2"].picture, x + 2, y)
    assert (inspector.layer, inspector.cell) == ("pool2", (0, 2, 7))
    explorer.tabs.set_state({"selected_index": explorer.titles.index("OIP")})
    assert not inspector.active
    explorer.close()
    assert inspector.closed


def test_any_typed_text_leaves_a_valid_cell(session):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from cnn_widgets.methods.cells import check_cell

    inspector = CellInspector(session, "pool1", (3, 4, 5))

    @settings(max_examples=80, deadline=None)
    @given(st.one_of(st.text(max_size=20), st.lists(st.integers(-50, 50), max_size=4).map(
        lambda v: ", ".join(map(str, v)))))
    def check(text):
        inspector.cell_text.set_state({"value": text})
        assert check_cell(session.model, inspector.layer, inspector.cell) == inspector.cell
        assert inspector.explanation.value == pytest.approx(value_of(session, inspector), abs=1e-5)

    check()


def test_layer_picker_sent_no_or_a_wrong_index_stays_on_the_layer_and_names_the_choices(session):
    inspector = CellInspector(session, "conv2", (1, 2, 3))
    inspector.layer_picker.set_state({"index": None})
    assert inspector.layer_picker.value == "conv2" and inspector.layer_picker.index == 2
    assert (inspector.layer, inspector.cell) == ("conv2", (1, 2, 3))
    assert inspector.status_line.error and "no layer chosen" in inspector.status and "conv1" in inspector.status
    with pytest.raises(traitlets.TraitError, match=r"choice 99 is out of range; choose 0–\d+ \(conv1, pool1"):
        inspector.layer_picker.set_state({"index": 99})
    assert inspector.layer_picker.value == "conv2" and inspector.layer == "conv2"
    choose(inspector.layer_picker, "conv3")  # still usable
    assert inspector.layer == "conv3" and inspector.layer_picker.value == "conv3"


@pytest.mark.parametrize("event", ["mouse_down", "mouse_move"])
@pytest.mark.parametrize("x, y", [(None, 3.0), (float("nan"), 3.0), (3.0, float("inf"))])
def test_pointer_events_without_a_position_are_refused_with_a_message(session, event, x, y):
    inspector = CellInspector(session, "conv2", (1, 2, 3))
    for name in ("image", "patch", "kernel", "products"):
        inspector._say("")
        canvas_event(getattr(inspector, name).overlay, event, x, y)
        assert inspector.status_line.error and "without a position" in inspector.status, name
        assert (inspector.layer, inspector.cell) == ("conv2", (1, 2, 3))
    inspector.inspect("pool2", (1, 1, 3))
    inspector._say("")
    canvas_event(inspector.window.overlay, event, x, y)
    assert inspector.status_line.error and "without a position" in inspector.status
    assert (inspector.layer, inspector.cell) == ("pool2", (1, 1, 3))


def test_a_click_on_the_image_tells_that_pixel(session):
    inspector = CellInspector(session, "conv2", (1, 2, 3))
    click_picture(inspector.image, 5, 7)
    value = float(np.asarray(session.live.image, np.float32).reshape(session.model.input_shape)[7, 5, 0])
    assert f"pixel (7, 5) of the image: {value:.3f}" in inspector.status and not inspector.status_line.error


def test_opened_on_a_blank_pad_it_moves_to_a_cell_with_signal_when_ink_comes(session, digits):
    session.live.image = np.zeros((28, 28), np.uint8)
    inspector = CellInspector(session)
    assert inspector.cell == (13, 13, 0)  # nothing drawn: the middle cell of map 0
    session.live.image = digits[1][0]  # a 9 arrives: the strongest cell is shown
    assert session.live.wait(60)
    strongest = np.unravel_index(np.argmax(session.live.activations["conv1"]), (26, 26, 32))
    assert inspector.cell == tuple(int(v) for v in strongest) and inspector.explanation.value > 0.5
    inspector.inspect("conv1", (3, 3, 1))  # a cell the user chose stays when the drawing changes
    session.live.image = digits[0][0]
    assert inspector.cell == (3, 3, 1)
