"""The model as a portable spec for the browser: what it holds, and the layers it refuses."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets.model.portable import NotPortable, portable_spec

from ..network_zoo import ZOO, batch_norm


def test_the_embedded_model_is_a_chain_of_known_layers_with_every_weight():
    model = ZOO["embedded"]()
    spec = portable_spec(model)
    assert [layer["type"] for layer in spec.layers] == ["conv", "maxpool", "conv", "maxpool", "conv", "flatten",
                                                       "dense", "dense"]
    assert [layer["name"] for layer in spec.layers] == model.layer_names
    assert spec.parameters == model.keras_model.count_params() == 174_092
    assert len(spec.buffer) == 4 * 174_092  # float32, ≤ 0.7 MB
    conv1 = spec.layers[0]
    assert conv1["config"] == {"kernel": [3, 3], "strides": [1, 1], "dilation": [1, 1], "padding": "valid",
                               "activation": "relu", "bias": True}
    offset, length, shape = conv1["weights"][0]
    kernel = np.frombuffer(spec.buffer, "<f4", length, 4 * offset).reshape(shape)
    np.testing.assert_array_equal(kernel, model.keras_model.get_layer("conv1").get_weights()[0])
    assert spec.probabilities and spec.class_names == [str(k) for k in range(10)]
    assert spec.header()["input_shape"] == [28, 28, 1]


def test_batch_norm_becomes_its_inference_scale_and_shift():
    model = batch_norm()
    spec = portable_spec(model)
    bn = next(layer for layer in spec.layers if layer["name"] == "bn1")
    assert bn["type"] == "scale"
    (o1, n1, _), (o2, n2, _) = bn["weights"]
    scale = np.frombuffer(spec.buffer, "<f4", n1, 4 * o1)
    shift = np.frombuffer(spec.buffer, "<f4", n2, 4 * o2)
    layer = model.keras_model.get_layer("bn1")
    x = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    np.testing.assert_allclose(x * scale + shift, layer(x[:, None, None, :], training=False).numpy()[:, 0, 0],
                               atol=1e-5)
    assert next(layer for layer in spec.layers if layer["name"] == "drop")["type"] == "identity"
    assert next(layer for layer in spec.layers if layer["name"] == "relu1")["config"]["max_value"] == 6.0


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_model_of_the_zoo_is_portable(name):
    model = ZOO[name]()
    spec = portable_spec(model)
    assert [layer["name"] for layer in spec.layers] == model.layer_names
    assert [tuple(layer["shape"]) for layer in spec.layers] == [model.layer(n).output_shape for n in model.layer_names]


def _model(*layers, shape=(12, 12, 1)):
    import keras

    from cnn_widgets import CNNModel

    return CNNModel(keras.Sequential([keras.Input(shape), *layers]))


def test_layers_the_browser_does_not_compute_are_refused_in_one_line_naming_the_layer():
    import keras

    cases = [
        (_model(keras.layers.Conv2D(2, 3, name="c"), keras.layers.UpSampling2D(name="up"),
                keras.layers.Flatten(), keras.layers.Dense(2)),
         "the browser cannot compute layer 'up' (UpSampling2D): this layer type has no browser code"),
        (_model(keras.layers.Conv2D(2, 3, activation="gelu", name="g"), keras.layers.Flatten(),
                keras.layers.Dense(2)),
         "layer 'g' (Conv2D): activation 'gelu' is not one of"),
        (_model(keras.layers.DepthwiseConv2D(3, name="dw"), keras.layers.Flatten(), keras.layers.Dense(2)),
         "layer 'dw' (DepthwiseConv2D)"),
    ]
    inputs = keras.Input((12, 12, 1))
    a = keras.layers.Conv2D(2, 3, name="a")(inputs)
    b = keras.layers.Conv2D(2, 3, name="b")(inputs)
    joined = keras.layers.Add(name="add")([a, b])
    from cnn_widgets import CNNModel

    branches = CNNModel(keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(joined))))
    cases.append((branches, "the browser computes a chain of layers; layer 'b' takes"))
    for model, message in cases:
        with pytest.raises(NotPortable, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
            portable_spec(model)
        assert "\n" not in str(caught.value) and str(caught.value).endswith("the live views are computed in the kernel")
        assert isinstance(caught.value, ValueError)
