"""Own models with names TensorFlow refuses as scopes and with nested sub-models (issue 21)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.methods.decode import decode_filters


def _head(x):
    return keras.layers.Dense(3, activation="softmax", name="out")(keras.layers.Flatten(name="flat")(x))


def test_a_conv_named_with_a_space_works_everywhere_under_a_tensorflow_name():
    inputs = keras.Input((10, 10, 1))
    x = keras.layers.Conv2D(3, 3, name="conv 1")(inputs)
    x = keras.layers.ReLU(name="Schicht ä")(x)
    net = keras.Model(inputs, _head(x))
    model = CNNModel(net)
    assert model.layer_names == ["conv_1", "Schicht__", "flat", "out"]
    assert model.graph_notes == ["layers renamed for TensorFlow: 'conv 1' → 'conv_1', 'Schicht ä' → 'Schicht__'"]
    image = np.random.default_rng(0).random((10, 10)).astype(np.float32)
    maps = model.activations(image)  # one compiled call: no "not a valid scope name"
    np.testing.assert_allclose(maps["out"], net(image[None, ..., None]).numpy(), atol=1e-6)
    assert decode_filters(model, "conv_1").filters.shape == (3, 3, 3, 1)
    with pytest.raises(ValueError, match="unknown layer 'conv 1'; this model's layers are: conv_1"):
        model.layer("conv 1")


def test_names_that_clash_once_sanitised_get_numbers():
    inputs = keras.Input((10, 10, 1))
    x = keras.layers.Conv2D(2, 3, name="a b")(inputs)
    x = keras.layers.Conv2D(2, 3, name="a_b")(x)
    x = keras.layers.Conv2D(2, 3, name="-edge")(x)
    model = CNNModel(keras.Model(inputs, _head(x)))
    assert model.layer_names[:3] == ["a_b_2", "a_b", "L-edge"]
    model.activations(np.zeros((10, 10), np.float32))


@pytest.mark.parametrize("outer", ["functional", "sequential"])
def test_convs_nested_in_a_sub_model_are_opened_into_a_flat_model(outer):
    features = keras.Sequential([keras.Input((10, 10, 1)), keras.layers.Conv2D(3, 3, name="c1"),
                                 keras.layers.MaxPooling2D(2, name="p1")], name="features")
    if outer == "functional":
        inputs = keras.Input((10, 10, 1))
        net = keras.Model(inputs, _head(features(inputs)))
    else:
        net = keras.Sequential([keras.Input((10, 10, 1)), features, keras.layers.Flatten(name="flat"),
                                keras.layers.Dense(3, activation="softmax", name="out")])
    model = CNNModel(net)
    assert model.layer_names == ["c1", "p1", "flat", "out"]
    assert model.graph_notes == ["sub-models opened into one flat model: 'features'"]
    images = np.random.default_rng(1).random((4, 10, 10)).astype(np.float32)
    np.testing.assert_allclose(model.predict(images), net(images[..., None]).numpy(), atol=1e-6)
    np.testing.assert_allclose(decode_filters(model, "c1").filters,
                               np.moveaxis(features.get_layer("c1").get_weights()[0], -1, 0), atol=1e-6)


def test_a_subclassed_sub_model_is_refused_by_name():
    class Block(keras.Model):
        def __init__(self):
            super().__init__(name="block")
            self.conv = keras.layers.Conv2D(2, 3)

        def call(self, x):
            return self.conv(x)

    inputs = keras.Input((10, 10, 1))
    net = keras.Model(inputs, _head(Block()(inputs)))
    with pytest.raises(ValueError, match="sub-model 'block' \\(Block\\) is not a Sequential or functional model"):
        CNNModel(net)


def test_the_explorer_says_what_was_changed_to_show_the_model():
    from cnn_widgets.widgets.explorer import Explorer

    inputs = keras.Input((10, 10, 1))
    model = CNNModel(keras.Model(inputs, _head(keras.layers.Conv2D(3, 3, name="conv 1")(inputs))))
    explorer = Explorer(model, data=False)
    try:
        assert explorer.status_line.text == "layers renamed for TensorFlow: 'conv 1' → 'conv_1'"
        assert [grid.layer for grid in explorer.grids] == ["conv_1"]
    finally:
        explorer.close()
