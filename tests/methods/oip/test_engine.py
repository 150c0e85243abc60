"""The compiled engine computes what the network computes: each image's own map, its value and
its gradient, whatever the layers under the target (cut borders, the first convolution's own
gradient, SAME padding, strides, dropout, a functional model)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnn_widgets import CNNModel
from cnn_widgets.methods.oip.engine import Engine, blur_kernel, masks_for

from ...conftest import make_tiny_cnn


def _sequential(*layers, size=15, channels=1) -> CNNModel:
    net = keras.Sequential([keras.Input((size, size, channels)), *layers, keras.layers.Flatten(),
                            keras.layers.Dense(2, activation="softmax")])
    return CNNModel(net)


def _functional() -> CNNModel:
    inputs = keras.Input((14, 14, 2), name="pixels")
    x = keras.layers.Conv2D(3, 3, activation="relu", name="a")(inputs)
    x = keras.layers.Dropout(0.3, name="drop")(x)
    x = keras.layers.MaxPooling2D(2, name="p")(x)
    x = keras.layers.Conv2D(4, 2, activation="relu", name="b")(x)
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x))
    return CNNModel(keras.Model(inputs, out))


MODELS = {
    "tiny": lambda: CNNModel(make_tiny_cnn(size=12, filters=4, seed=3)),
    "valid chain": lambda: _sequential(keras.layers.Conv2D(3, 3, activation="relu", name="c1"),
                                       keras.layers.MaxPooling2D(2, name="p1"),
                                       keras.layers.Conv2D(5, 3, activation="relu", name="c2"),
                                       keras.layers.MaxPooling2D(2, name="p2")),
    "strides and dilation": lambda: _sequential(
        keras.layers.Conv2D(3, 3, strides=2, activation="relu", name="c1"),
        keras.layers.Conv2D(4, 2, dilation_rate=2, activation="tanh", name="c2"), size=17),
    "same padding": lambda: _sequential(keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="c1"),
                                        keras.layers.MaxPooling2D(2, padding="same", name="p1"),
                                        keras.layers.Conv2D(2, 3, activation="relu", name="c2")),
    "two channels, dropout": _functional,
}


def _reference(model: CNNModel, layer: str, x: np.ndarray, maps: np.ndarray, masks: np.ndarray):
    """Each image's objective on its own map, and the RMS of its gradient, from Keras itself."""
    net = model.keras_model
    head = keras.Model(net.inputs[0], net.get_layer(layer).output)
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = head(x, training=False)
        own = tf.gather(tf.transpose(out, (0, 3, 1, 2)), maps, axis=1, batch_dims=1)
        value = tf.reduce_sum(own * masks, axis=(1, 2))
        total = tf.reduce_sum(value)
    grad = tape.gradient(total, x)
    return value.numpy(), np.sqrt(np.mean(np.square(grad.numpy()), axis=(1, 2, 3))), grad.numpy()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_head_gives_the_networks_value_and_gradient(name):
    model = MODELS[name]()
    rng = np.random.default_rng(0)
    for layer in model.spatial_layers:
        info = model.layer(layer)
        rows, cols, count = (int(v) for v in info.output_shape)
        n = 6
        x = rng.standard_normal((n, *model.input_shape)).astype(np.float32)
        maps = (np.arange(n) % count).astype(np.int32)
        nodes = np.full((n, 2), -1, np.int32)
        nodes[1::2] = [rows // 2, cols - 1]  # every other item one node (the last column: the far border)
        masks = masks_for(nodes, rows, cols)
        value, rms = Engine(model, layer, False).probe(x, maps, masks)
        expected_value, expected_rms, _ = _reference(model, layer, x, maps, masks)
        np.testing.assert_allclose(value, expected_value, rtol=1e-4, atol=1e-5, err_msg=f"{name} {layer}")
        np.testing.assert_allclose(rms, expected_rms, rtol=1e-4, atol=1e-6, err_msg=f"{name} {layer}")


def test_one_step_moves_along_the_networks_gradient_and_stays_in_the_pixel_box():
    model = MODELS["valid chain"]()
    engine = Engine(model, "c2", False)
    rng = np.random.default_rng(1)
    x = np.clip(rng.standard_normal((4, 15, 15, 1)).astype(np.float32), *model.standardize(np.array([0.0, 1.0])))
    rows, cols = model.layer("c2").output_shape[:2]
    maps, masks = np.arange(4, dtype=np.int32), masks_for(np.full((4, 2), -1, np.int32), rows, cols)
    flags, counts = np.zeros(4, bool), np.zeros(4, np.int32)
    moved, row, rescuing, fired, revived, waits = engine._ascend(x, maps, masks, flags, counts, flags, flags,
                                                                 tf.constant(0.05))
    value, _, grad = _reference(model, "c2", x, maps, masks)
    np.testing.assert_allclose(row.numpy(), value, rtol=1e-4, atol=1e-6)  # nobody was rescuing
    low, high = model.standardize(np.array([0.0, 1.0]))
    rms = np.sqrt(np.mean(grad ** 2, axis=(1, 2, 3), keepdims=True))
    expected = np.clip(x + 0.05 * grad / (rms + 1e-8), low, high)
    np.testing.assert_allclose(moved.numpy(), expected, atol=1e-5)
    assert (rescuing.numpy() == (value == 0)).all() and not revived.numpy().any() and not bool(waits)


def test_the_blur_kernel_sums_to_one_and_fits_the_image():
    narrow = blur_kernel(0.5, 1, 28)
    assert narrow.shape == (3, 3, 1, 1) and narrow.sum() == pytest.approx(1.0)
    wide = blur_kernel(12.0, 2, 12)  # σ as large as the image: cut to 11 px each side
    assert wide.shape == (23, 23, 2, 1) and wide[..., 0, 0].sum() == pytest.approx(1.0)
