"""ConfusionBrowser: computed on the worker, cells and images clicked as the frontend does."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets

from cnn_widgets.data import DataSet

from cnn_widgets.session import Session

from cnn_widgets.widgets import ConfusionBrowser

from ...conftest import make_tiny_cnn
from ..helpers import canvas_event, choose, click


def cell_click(browser, row, column) -> None:
    """A click on a GridHeatMap cell: bqplot sends the cell's datum."""
    browser.heat._handle_custom_msgs(browser.heat, {"event": "element_click", "data": {
        "rowNum": row, "columnNum": column, "row": str(row), "column": str(column), "color": 0}}, [])


def shown(browser: ConfusionBrowser) -> ConfusionBrowser:
    assert browser.session.worker.wait(120)
    return browser


@pytest.fixture(scope="module")
def rgb():
    from cnn_widgets import CNNModel

    model = CNNModel(make_tiny_cnn(channels=3, classes=3, seed=4), mean=0.5, std=0.25)
    rng = np.random.default_rng(11)
    images = rng.integers(0, 256, (240, 8, 8, 3), dtype=np.uint8)
    return model, DataSet(images, rng.integers(0, 3, 240), "240 random RGB images")


@pytest.fixture
def session(rgb):
    session = Session(rgb[0], data=rgb[1])
    yield session
    session.close()


def numpy_counts(model, data):
    predicted = np.argmax(model.predict(data.images), axis=1)
    counts = np.zeros((model.classes, model.classes), int)
    np.add.at(counts, (data.labels, predicted), 1)
    return counts


def test_matrix_of_a_users_rgb_model_equals_numpy(session, rgb):
    browser = shown(ConfusionBrowser(session))
    counts = numpy_counts(*rgb)
    np.testing.assert_array_equal(browser.confusion.counts, counts)
    np.testing.assert_array_equal(browser.heat.color, counts)
    assert list(browser.heat.row) == ["0", "1", "2"] and browser.heat.display_format == ".0f"
    off = counts * (1 - np.eye(3, dtype=int))
    if np.diag(counts).min() > off.max():  # the mistakes set the red scale, the diagonal is light green
        assert browser.colours.mid == off.max() and browser.colours.max == np.diag(counts).min()
        assert browser.colours.colors == ["#ffffff", "#ef6548", "#c7e9c0"]
    else:  # a class mostly wrong (random images): one red scale up to the largest cell
        assert browser.colours.mid is None and browser.colours.max == counts.max()
    assert "240 images (240 random RGB images)" in browser.summary.value
    choose(browser.values_picker, "rates")
    assert browser.values == "rates" and browser.heat.display_format == ".0%"
    np.testing.assert_allclose(browser.heat.color, counts / counts.sum(axis=1, keepdims=True))


def test_click_a_cell_see_its_images_click_one_to_put_it_on_the_pad(session, rgb):
    model, data = rgb
    picked = []
    browser = shown(ConfusionBrowser(session, on_pick=picked.append))
    true, predicted = max(((t, p) for t in range(3) for p in range(3) if t != p),
                          key=lambda cell: browser.confusion.counts[cell])
    cell_click(browser, true, predicted)
    count = int(browser.confusion.counts[true, predicted])
    assert browser.selected == (true, predicted)
    assert f"<b>{count}</b> {true}s read as {predicted}" in browser.images_title.value
    assert browser.images.image.value and browser._tiles.count == min(count, 32)
    first = int(browser.confusion.indices(true, predicted)[0])
    x, y = browser._tiles.origin(0)
    zoom = browser.images.zoom
    canvas_event(browser.images.overlay, "mouse_move", (x + 2) * zoom, (y + 2) * zoom)
    assert f"test image {first}: true {true}, read as {predicted}" in browser.hover_label.value
    canvas_event(browser.images.overlay, "mouse_down", (x + 2) * zoom, (y + 2) * zoom)
    assert browser.picked == first and picked == [first]
    assert session.live.wait(10)  # computed off the comm thread, once
    np.testing.assert_allclose(session.live.image, model.prepare(data.images[first])[0])
    assert session.live.source == f"test image #{first} (class {true})"
    assert int(np.argmax(session.live.probabilities)) == predicted  # every view now shows that image


def test_bad_clicks_are_reported_and_the_browser_stays_usable(session):
    browser = shown(ConfusionBrowser(session))
    for row, column in ((None, 1), (7, 0), (-1, 0), ("1", 0), (float("nan"), 0)):
        cell_click(browser, row, column)
        assert browser.selected == () and browser.status_line.error
    with pytest.raises(traitlets.TraitError, match="classes 0–2"):
        browser.selected = (0, 3)
    for x, y in ((None, None), (float("nan"), 0.0), (float("inf"), 1.0), (-4.0, 2.0)):
        canvas_event(browser.images.overlay, "mouse_down", x, y)
    assert browser.picked == -1
    browser.pick(10_000)
    assert "no test image #10000: the test set has images 0–" in browser.status and browser.picked == -1
    cell_click(browser, 1, 1)
    assert browser.selected == (1, 1) and "read right" in browser.images_title.value


def test_lazy_computes_when_shown_and_again_only_after_training(session):
    browser = ConfusionBrowser(session, lazy=True)
    assert browser.confusion is None and browser.computed == 0 and "when this tab is opened" in browser.status
    browser.active = True
    shown(browser)
    assert browser.computed == 1
    browser.refresh()
    shown(browser)
    assert browser.computed == 1  # same model version: nothing to do
    session.model.changed()  # what train() does
    browser.refresh()
    shown(browser)
    assert browser.computed == 2 and browser.confusion.version == session.model.version
    click(browser.refresh_button)
    shown(browser)
    assert browser.computed == 3


def test_without_test_images_it_says_why(rgb):
    session = Session(rgb[0], data=False)
    browser = ConfusionBrowser(session)
    assert browser.status_line.error and "no test images" in browser.status
    session.close()


def test_embedded_model_on_the_whole_mnist_test_split(mnist_model):
    session = Session(mnist_model)
    browser = shown(ConfusionBrowser(session))
    data = session.data.test_set
    assert browser.confusion.total == 10_000
    np.testing.assert_array_equal(browser.confusion.counts, numpy_counts(mnist_model, data))
    cell_click(browser, 4, 9)
    shown_indices = browser._shown
    assert np.all(data.labels[shown_indices] == 4)
    assert np.all(browser.confusion.predictions[shown_indices] == 9)
    session.close()


def test_close_cancels_and_sends_nothing(session, wire):
    browser = ConfusionBrowser(session, lazy=True)
    ids = {browser.heat.model_id, browser.summary.model_id}
    browser.active = True
    browser.close()
    mark = wire.mark()
    assert session.worker.wait(60)
    assert not [m for m in wire.since(mark) if m.comm_id in ids]


def test_colour_images_are_shown_in_colour(session, rgb):
    import io

    from PIL import Image

    browser = shown(ConfusionBrowser(session))
    cell_click(browser, 0, 0)
    picture = np.asarray(Image.open(io.BytesIO(browser.images.image.value)).convert("RGB"))
    first = rgb[1].images[browser._shown[0]]
    np.testing.assert_array_equal(picture[:8, :8], first)
    assert browser.images.zoom == 7  # 8×8 images enlarged to about 56 px


def test_in_the_explorer_a_mistake_clicked_becomes_the_drawing():
    from cnn_widgets import Explorer

    explorer = Explorer()
    assert "Mistakes" not in explorer._panels and explorer.session.worker.done == 0
    explorer.tabs.set_state({"selected_index": explorer.titles.index("Mistakes")})
    browser = shown(explorer.confusion)
    assert browser.confusion.total == 10_000
    cell_click(browser, 4, 9)
    x, y = browser._tiles.origin(0)
    zoom = browser.images.zoom
    canvas_event(browser.images.overlay, "mouse_down", (x + 5) * zoom, (y + 5) * zoom)
    assert browser.picked == int(browser.confusion.indices(4, 9)[0])
    assert explorer.live.wait(10)
    assert explorer.probabilities.prediction == "9"  # every view shows the 4 read as 9
    explorer.close()


def test_values_picker_sent_no_or_a_wrong_index_stays_in_step(session):
    browser = shown(ConfusionBrowser(session))
    choose(browser.values_picker, "rates")
    browser.values_picker.set_state({"index": None})
    assert browser.values == "rates" and browser.values_picker.value == "rates"
    assert browser.status_line.error and "no values chosen" in browser.status
    with pytest.raises(traitlets.TraitError, match=r"choice 99 is out of range; choose 0–1 \(counts, rates\)"):
        browser.values_picker.set_state({"index": 99})
    assert browser.values == "rates" and browser.values_picker.value == "rates"
    choose(browser.values_picker, "counts")
    assert browser.values == "counts"
    browser.values = "rates"  # and the other way
    assert browser.values_picker.value == "rates"


@pytest.mark.parametrize("event", ["mouse_down", "mouse_move"])
@pytest.mark.parametrize("x, y", [(None, 3.0), (float("nan"), 3.0), (3.0, float("inf"))])
def test_pointer_events_without_a_position_on_the_images_are_refused_with_a_message(session, event, x, y):
    browser = shown(ConfusionBrowser(session))
    cell_click(browser, 1, 1)
    browser._say("")
    canvas_event(browser.images.overlay, event, x, y)
    assert browser.status_line.error and "without a position" in browser.status
    assert browser.picked == -1 and browser.selected == (1, 1)


def test_a_trained_models_diagonal_is_light_green_so_its_black_counts_read():
    """The embedded model on 2,000 shipped test digits: every class mostly right, so the
    diagonal is above the largest mistake and gets the light green end of the scale."""
    from cnn_widgets.data.mnist import mnist_test_split

    x, y = mnist_test_split()
    session = Session(data=DataSet(x[:2000], y[:2000], "2,000 test digits"))
    try:
        browser = shown(ConfusionBrowser(session))
        counts = browser.confusion.counts
        off = counts * (1 - np.eye(10, dtype=int))
        assert np.diag(counts).min() > 5 * off.max()  # accepted: the trained branch
        assert browser.colours.colors[-1] == "#c7e9c0" and browser.colours.max == np.diag(counts).min()
        assert browser.colours.mid == off.max() and "diagonal, green: correct" in browser.children[1].value
    finally:
        session.close()
