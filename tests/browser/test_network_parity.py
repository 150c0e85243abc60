"""The browser's forward pass and preprocessing (widgets/live/network.js) in Chromium, against
Keras and to_mnist: every layer of every model of the zoo, and drawn strokes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from cnn_widgets.drawing.drawing import Drawing
from cnn_widgets.model.portable import portable_spec

from ..digits import drawings
from ..network_zoo import ZOO, images_for

NETWORK_JS = Path(__file__).resolve().parents[2] / "cnn_widgets" / "widgets" / "live" / "network.js"

#: Load network.js as a module on a blank page (no server): window.net.
_LOAD = """async (source) => {
  const url = URL.createObjectURL(new Blob([source], {type: 'text/javascript'}));
  window.net = await import(url);
  return Object.keys(window.net).length;
}"""

_FORWARD = """([header, weights, images]) => {
  const bytes = Uint8Array.from(atob(weights), (c) => c.charCodeAt(0));
  const net = window.net.loadNetwork(header, bytes.buffer);
  return images.map((image) => {
    const result = window.net.forward(net, Float32Array.from(image));
    const out = {};
    for (const [name, values] of Object.entries(result.activations)) out[name] = Array.from(values);
    return {activations: out, probabilities: Array.from(result.probabilities)};
  });
}"""

_PREPROCESS = """(cases) => cases.map((strokes) => {
  const raster = new Float32Array(280 * 280);
  for (const stroke of strokes) window.net.drawStroke(raster, 280, 280, stroke);
  return Array.from(window.net.toMnist(raster, 280, 280));
})"""


@pytest.fixture(scope="module")
def blank(browser):
    context = browser.new_context()
    context.route("**/*", lambda route: route.abort())  # nothing from any network
    page = context.new_page()
    page.set_content("<html><body>parity</body></html>")
    assert page.evaluate(_LOAD, NETWORK_JS.read_text()) >= 4
    yield page
    context.close()


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_layer_equals_keras_to_1e4(blank, name):
    model = ZOO[name]()
    spec = portable_spec(model)
    images = images_for(model, 2, seed=len(name))
    if name == "embedded":
        images[0] = Drawing().image()[0][..., None]  # the blank pad too
    results = blank.evaluate(_FORWARD, [spec.header(), base64.b64encode(spec.buffer).decode(),
                                        [image.ravel().tolist() for image in images]])
    keras_values = model.activations(images)
    probabilities = model.predict(images)
    assert set(results[0]["activations"]) == set(model.layer_names)
    for n, result in enumerate(results):
        for layer in model.layer_names:
            expected = keras_values[layer][n].ravel()
            got = np.asarray(result["activations"][layer], np.float32)
            scale = max(1.0, float(np.abs(expected).max()))
            error = float(np.abs(got - expected).max()) / scale
            assert got.shape == expected.shape and error <= 1e-4, f"{name} image {n} {layer}: {error:.2e}"
        np.testing.assert_allclose(result["probabilities"], probabilities[n], atol=1e-5)


def test_the_browser_makes_the_kernel_s_image_from_drawn_strokes(blank):
    cases, expected = [], []
    for label, strokes, brush in drawings(4, seed=5):
        # the points as the browser sends them (two decimals)
        rounded = [[(round(x, 2), round(y, 2)) for x, y in stroke] for stroke in strokes]
        drawing = Drawing()
        drawing.set_strokes([(brush, stroke) for stroke in rounded])
        expected.append(drawing.image()[0])
        cases.append([{"width": brush, "points": [v for point in stroke for v in point]} for stroke in rounded])
    images = blank.evaluate(_PREPROCESS, cases)
    assert len(images) == len(expected) >= 20
    for got, image in zip(images, expected):
        assert np.abs(np.asarray(got, np.float32).reshape(28, 28) - image).max() <= 1e-4
    assert json.dumps(images[0]) != json.dumps(images[1])  # different digits, different images
