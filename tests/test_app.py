"""Explorer: the composed dashboard, on the embedded model and on the user's own."""

from __future__ import annotations

import base64
import json

import keras
import numpy as np

from cnn_widgets import CNNModel, Explorer

from .conftest import REPO
from .widgets.helpers import draw


def test_explorer_wires_pad_to_every_view():
    explorer = Explorer()
    assert [g.layer for g in explorer.grids] == ["conv1", "pool1", "conv2", "pool2", "conv3"]
    before = [g.picture.image.value for g in explorer.grids] + [explorer.dense.picture.image.value]
    draw(explorer.pad.canvas, [(150, 30), (150, 140), (150, 250)])  # a "1"
    assert explorer.pad.updates.wait(5)
    after = [g.picture.image.value for g in explorer.grids] + [explorer.dense.picture.image.value]
    assert all(a != b for a, b in zip(after, before))
    assert explorer.probabilities.prediction == "1"
    np.testing.assert_allclose(explorer.live.image, explorer.pad.image)


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
