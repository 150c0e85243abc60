"""Batch norm folded into convolutions; depthwise and separable convolutions as plain kernels;
decoding through them (issue 21)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.methods.decode import decode_filters
from cnn_widgets.model.folding import bn_scale, fold_batch_norm, plain_kernel


def _bn_model(seed: int = 3) -> keras.Model:
    """conv → BN → ReLU → pool → conv → BN → ReLU → flatten → dense, with BN statistics far from 1."""
    keras.utils.set_random_seed(seed)
    net = keras.Sequential([
        keras.Input((16, 16, 1)),
        keras.layers.Conv2D(4, 3, name="conv1"), keras.layers.BatchNormalization(name="bn1"),
        keras.layers.ReLU(name="relu1"), keras.layers.MaxPooling2D(2, name="pool1"),
        keras.layers.Conv2D(6, 3, name="conv2"), keras.layers.BatchNormalization(name="bn2"),
        keras.layers.ReLU(name="relu2"), keras.layers.Flatten(name="flat"), keras.layers.Dense(3, name="out"),
    ])
    rng = np.random.default_rng(seed)
    for name in ("bn1", "bn2"):
        layer = net.get_layer(name)
        n = layer.gamma.shape[0]
        layer.set_weights([rng.uniform(-2, 2, n), rng.normal(0, 1, n), rng.normal(0, 1, n), rng.uniform(0.05, 5, n)])
    return net


def test_folded_twin_computes_the_same_and_decodes_to_the_same_filters():
    net = _bn_model()
    twin = fold_batch_norm(net)
    assert [type(layer).__name__ for layer in twin.layers[1:]] == [
        "Conv2D", "ReLU", "MaxPooling2D", "Conv2D", "ReLU", "Flatten", "Dense"]
    images = np.random.default_rng(0).random((5, 16, 16, 1)).astype(np.float32)
    np.testing.assert_allclose(twin(images).numpy(), net(images, training=False).numpy(), rtol=1e-4, atol=1e-4)
    model, folded = CNNModel(net), CNNModel(twin)
    # the twin's conv computes what the model's batch norm outputs: bn1 ↔ conv1, bn2 ↔ conv2
    for ours_layer, twin_layer in (("bn1", "conv1"), ("pool1", "pool1"), ("bn2", "conv2")):
        ours, theirs = decode_filters(model, ours_layer).filters, decode_filters(folded, twin_layer).filters
        scale = max(float(np.abs(theirs).max()), 1.0)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5 * scale)
    # the conv before its batch norm decodes to its raw kernel; the batch norm scales it per map
    raw = net.get_layer("conv1").get_weights()[0]
    np.testing.assert_allclose(decode_filters(model, "conv1").filters, np.moveaxis(raw, -1, 0), atol=1e-6)
    np.testing.assert_allclose(decode_filters(model, "bn1").filters,
                               np.moveaxis(raw * bn_scale(net.get_layer("bn1")), -1, 0), atol=1e-6)


def test_fold_refuses_a_conv_with_its_own_activation_and_a_branching_model():
    net = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, activation="relu", name="c"),
                            keras.layers.BatchNormalization(name="bn"), keras.layers.Flatten(),
                            keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="'c' applies relu before the batch norm 'bn'"):
        fold_batch_norm(net)
    inputs = keras.Input((8, 8, 1))
    a = keras.layers.Conv2D(2, 3, name="a")(inputs)
    b = keras.layers.Conv2D(2, 3, name="b")(inputs)
    joined = keras.layers.Add(name="join")([a, b])
    branching = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(joined)))
    with pytest.raises(ValueError, match="folds chains of layers"):
        fold_batch_norm(branching)


@pytest.mark.parametrize("kind", ["DepthwiseConv2D", "SeparableConv2D", "grouped Conv2D"])
def test_plain_kernel_computes_what_the_layer_computes(kind):
    keras.utils.set_random_seed(5)
    if kind == "DepthwiseConv2D":
        layer = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)
    elif kind == "SeparableConv2D":
        layer = keras.layers.SeparableConv2D(5, 3, depth_multiplier=2, use_bias=False)
    else:
        layer = keras.layers.Conv2D(6, 3, groups=3, use_bias=False)
    image = np.random.default_rng(1).random((2, 9, 9, 3)).astype(np.float32)
    expected = layer(image).numpy()
    kernel = plain_kernel(layer)
    got = keras.ops.conv(image, kernel, padding="valid").numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_separable_and_depthwise_layers_decode_to_their_plain_kernels():
    keras.utils.set_random_seed(7)
    net = keras.Sequential([
        keras.Input((12, 12, 3)), keras.layers.SeparableConv2D(4, 3, name="sep"),
        keras.layers.DepthwiseConv2D(3, name="dw"), keras.layers.Flatten(), keras.layers.Dense(2),
    ])
    model = CNNModel(net)
    sep = decode_filters(model, "sep").filters
    np.testing.assert_allclose(sep, np.moveaxis(plain_kernel(net.get_layer("sep")), -1, 0), atol=1e-6)
    decoded = decode_filters(model, "dw")
    assert decoded.filters.shape == (4, 5, 5, 3)  # receptive field 5×5 on the RGB input
    assert np.abs(decoded.filters).max() > 0


def test_a_bn_that_normalises_another_axis_is_refused_by_name():
    net = keras.Sequential([keras.Input((8, 8, 2)), keras.layers.Conv2D(2, 3, name="c"),
                            keras.layers.BatchNormalization(axis=1, name="rows"), keras.layers.Flatten(),
                            keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="'rows' normalises axis 1"):
        decode_filters(CNNModel(net), "rows")
