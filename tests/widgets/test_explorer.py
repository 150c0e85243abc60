"""Explorer: the composed dashboard, on the embedded model and on the user's own."""

from __future__ import annotations

import base64
import json

import keras
import numpy as np

from cnn_widgets import CNNModel, Explorer, MapGrid

import pytest
import traitlets

from cnn_widgets.session import Session

from ..conftest import REPO
from .conftest import wire  # noqa: F401  (fixture)
from .helpers import canvas_event
from .live.test_pad import stroke


def test_explorer_wires_pad_to_every_view():
    explorer = Explorer()
    assert [g.layer for g in explorer.grids] == ["conv1", "pool1", "conv2", "pool2", "conv3"]
    before = [g.picture.image.value for g in explorer.grids] + [explorer.dense.picture.image.value]
    stroke(explorer.pad, [(150, 30), (150, 80), (150, 140), (150, 200), (150, 250)])  # a "1", as the browser sends it
    assert explorer.pad.wait(30)
    after = [g.picture.image.value for g in explorer.grids] + [explorer.dense.picture.image.value]
    assert all(a != b for a, b in zip(after, before))
    assert explorer.probabilities.prediction == "1"
    np.testing.assert_allclose(explorer.live.image, explorer.pad.image)
    explorer.close()


def test_every_part_is_a_view_of_one_session_and_close_ends_it(wire):  # noqa: F811
    explorer = Explorer()
    session = explorer.session
    parts = [explorer.pad, explorer.probabilities, explorer.receptive_field, *explorer.grids, explorer.dense,
             explorer.oip, explorer.fcp, explorer.filters]
    assert all(part.session is session for part in parts)
    session.worker.submit(lambda job: None, name="warm").wait(30)
    explorer.close()
    assert session.closed and not session.worker.alive and all(part.comm is None for part in parts)
    mark = wire.mark()
    session.live.image = np.ones((28, 28), np.float32) * 0.5
    assert wire.since(mark) == []


def test_a_session_is_shown_as_it_is():
    session = Session()
    explorer = Explorer(session)
    assert explorer.session is session and explorer.model is session.model
    with pytest.raises(ValueError, match="give data to the Session"):
        Explorer(session, data=(np.zeros((1, 28, 28)), np.zeros(1, int)))
    explorer.close()
    assert explorer.closed and explorer.oip.closed and not session.closed  # the session was given: it stays
    other = MapGrid(session, "conv2")
    session.close()
    assert other.closed  # closing a session closes its views


def test_the_status_line_shows_session_and_drawing_errors():
    explorer = Explorer()
    explorer.session.say("FCP 4 vs 9 failed: <b>bad</b>", error=True)
    assert "FCP 4 vs 9 failed" in explorer.status_line.value and "&lt;b&gt;" in explorer.status_line.value
    explorer.live.image = np.zeros((5, 5), np.float32)  # what a wrongly wired pad would send
    assert explorer.status_line.error and "cannot be shown" in explorer.status_line.text
    explorer.close()


def test_a_bare_keras_model_gets_a_clear_error():
    inputs = keras.Input((28, 28, 1))
    net = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs))))
    with pytest.raises(TypeError, match="give a CNNModel, not a bare Keras model"):
        Explorer(net)


def test_explorer_on_an_rgb_model_has_no_pad_but_every_view():
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(inputs)
    x = keras.layers.MaxPooling2D(name="p1")(x)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="c2")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(12, activation="relu", name="hidden")(x)
    net = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    explorer = Explorer(model=CNNModel(net))
    assert explorer.pad is None
    assert [g.layer for g in explorer.grids] == ["c1", "p1", "c2"] and explorer.dense.layer == "hidden"
    before = explorer.grids[0].picture.image.value
    explorer.live.image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    assert explorer.grids[0].picture.image.value != before


def test_pictures_survive_a_static_export(tmp_path):
    """Run the dashboard notebook headless, keep the widget state: every picture is in it."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(REPO / "notebooks" / "00_explorer.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    classes = [c for m in images for c in m["state"].get("_dom_classes", [])]
    assert classes.count("cnnw-grid-picture") == 5 and "cnnw-dense-picture" in classes
    shown_at_start = {"cnnw-grid-picture", "cnnw-dense-picture", "cnnw-preview"}
    for model in images:
        if not shown_at_start & set(model["state"].get("_dom_classes", [])):
            continue  # e.g. the OIP pictures, empty until a pattern has been grown
        # binary values are kept beside the state, base64-encoded, under their path
        (buffer,) = [b for b in model.get("buffers", []) if b["path"] == ["value"]]
        png = base64.b64decode(buffer["data"])
        assert png.startswith(b"\x89PNG"), "every picture is stored as a PNG in the widget state"
    bars = [m for m in state.values() if m["model_name"] == "BarsModel"]
    assert bars, "the probability bars are bqplot marks, kept in the state"
    html = json.dumps(state)
    assert "cnnw-prediction" in html


def test_panels_are_built_when_their_tab_opens():
    explorer = Explorer()
    assert explorer.titles[:3] == ["OIP", "FCP", "Filters"]
    assert "FCP" not in explorer._panels and explorer.session.worker.done == 0  # nothing computed at start
    explorer.tabs.set_state({"selected_index": explorer.titles.index("FCP")})  # as the frontend sends it
    explorer.session.worker.wait(120)
    fcp = explorer.fcp
    assert explorer.tabs.children[1] is fcp and fcp.active and fcp.comparison.a.count == 982
    explorer.tabs.set_state({"selected_index": explorer.titles.index("Filters")})
    assert not fcp.active and explorer.tabs.children[2] is explorer.filters
    with pytest.raises(ValueError, match="already has a panel 'FCP'"):
        explorer.add_panel("FCP", lambda: None)
    with pytest.raises(ValueError, match="no panel 'Nope'"):
        explorer.panel("Nope")
    explorer.close()


def test_a_tab_that_does_not_exist_is_refused_with_the_tabs_named():
    explorer = Explorer()
    for index in (99, -3):
        with pytest.raises(traitlets.TraitError, match=r"tab .* does not exist; choose 0–\d+ \(OIP, FCP, Filters"):
            explorer.tabs.set_state({"selected_index": index})  # a frontend out of step
    assert explorer.tabs.selected_index == 0
    explorer.tabs.set_state({"selected_index": explorer.titles.index("Filters")})
    assert explorer.tabs.children[2] is explorer.filters  # still usable
    explorer.close()


def test_a_mistake_picked_in_the_confusion_browser_goes_onto_the_pad(wire):  # noqa: F811
    import ipywidgets

    explorer = Explorer()
    explorer.tabs.set_state({"selected_index": explorer.titles.index("Mistakes")})
    assert explorer.session.worker.wait(120)
    browser = explorer.confusion
    data = explorer.session.data.test_set
    browser.heat._handle_custom_msgs(browser.heat, {"event": "element_click", "data": {  # the 4s read as 9
        "rowNum": 4, "columnNum": 9, "row": "4", "column": "9", "color": 0}}, [])
    assert explorer.session.worker.wait(60) and explorer.live.wait(10)
    index = int(browser.confusion.indices(4, 9)[0])
    x, y = browser._tiles.origin(0)
    passes, mark = explorer.live.updates, wire.mark()
    canvas_event(browser.images.overlay, "mouse_down", (x + 2) * browser.images.zoom, (y + 2) * browser.images.zoom)
    assert explorer.live.wait(10)
    assert explorer.live.updates - passes == 1  # one forward pass for the pick
    pictures = [m.comm_id for m in wire.since(mark) if m.data.get("method") == "update"
                and isinstance(ipywidgets.Widget.widgets.get(m.comm_id), ipywidgets.Image)]
    assert len(pictures) == len(set(pictures)) <= len(explorer.grids) + 4  # each picture once: grids, dense, preview, field, ink
    assert f"test image #{index} (class 4)" in explorer.pad.status and explorer.live.source == explorer.pad.status
    np.testing.assert_allclose(explorer.live.image, data.images[index] / 255.0, atol=1e-6)
    assert explorer.probabilities.prediction == "9"
    explorer.pad.load_test_image(10**6)
    assert "No test image: no test image #1000000" in explorer.pad.status
    with pytest.raises(TypeError, match="whole number"):
        explorer.pad.load_test_image(2.5)
    explorer.close()


def test_a_closed_dashboard_leaves_nothing_behind_in_the_widget_state():
    import ipywidgets
    from ipywidgets.embed import embed_data

    explorer = Explorer()
    play = explorer.oip.play
    explorer.close()
    links = [w for w in ipywidgets.Widget._active_widgets.values() if isinstance(w, ipywidgets.widgets.widget_link.Link)]
    assert not any(link.source[0] is play for link in links)  # the Play → frame link closed with it
    embed_data(views=[ipywidgets.HTML("x")])  # what saving a notebook's widget state does: nothing names a closed widget
