"""Small CNNs of every kind the browser's forward pass covers (tests of the portable spec and
of the browser's parity with Keras)."""

from __future__ import annotations

from typing import Callable

import numpy as np


def _finish(net, seed: int, **kwargs):
    from cnn_widgets import CNNModel

    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if type(layer).__name__ == "BatchNormalization":  # inference statistics that are not the identity
            channels = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.5, channels).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.3, 2.0, channels).astype(np.float32))
            layer.gamma.assign(rng.uniform(0.5, 1.5, channels).astype(np.float32))
            layer.beta.assign(rng.normal(0, 0.3, channels).astype(np.float32))
    return CNNModel(net, **kwargs)


def rgb32():
    """An RGB 32×32 CNN: same padding, pooling, valid conv, ELU, per-channel standardisation."""
    import keras

    init = keras.initializers.GlorotUniform
    net = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", kernel_initializer=init(1), name="c1"),
        keras.layers.MaxPooling2D(2, name="p1"),
        keras.layers.Conv2D(12, 3, activation="elu", kernel_initializer=init(2), name="c2"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(10, activation="softmax", kernel_initializer=init(3), name="out"),
    ])
    return _finish(net, 1, mean=[0.5, 0.45, 0.4], std=[0.25, 0.2, 0.3])


def strided_same():
    """Same padding with strides and dilation, tanh and sigmoid, global pooling, odd sizes."""
    import keras

    init = keras.initializers.GlorotUniform
    net = keras.Sequential([
        keras.Input((23, 19, 1)),
        keras.layers.Conv2D(6, 5, strides=2, padding="same", activation="tanh", kernel_initializer=init(4),
                            bias_initializer="random_normal", name="s1"),
        keras.layers.Conv2D(8, 3, dilation_rate=2, padding="same", activation="sigmoid",
                            kernel_initializer=init(5), name="d2"),
        keras.layers.MaxPooling2D(3, strides=2, padding="same", name="p2"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(3, activation="softmax", kernel_initializer=init(6), name="out"),
    ])
    return _finish(net, 2)


def batch_norm():
    """Conv → BatchNormalization (non-trivial statistics) → ReLU layer → Dropout → pooling → dense."""
    import keras

    init = keras.initializers.GlorotUniform
    net = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 3, use_bias=False, kernel_initializer=init(7), name="c1"),
        keras.layers.BatchNormalization(name="bn1"),
        keras.layers.ReLU(max_value=6.0, name="relu1"),
        keras.layers.Dropout(0.5, name="drop"),
        keras.layers.MaxPooling2D(2, name="p1"),
        keras.layers.Conv2D(8, 3, kernel_initializer=init(8), name="c2"),
        keras.layers.LeakyReLU(negative_slope=0.1, name="leaky"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(16, kernel_initializer=init(9), name="hidden"),
        keras.layers.BatchNormalization(name="bn2"),
        keras.layers.Activation("swish", name="act"),
        keras.layers.Dense(10, activation="softmax", kernel_initializer=init(10), name="out"),
    ])
    return _finish(net, 3, mean=0.13, std=0.31)


def average_pooling():
    """Rescaling, average pooling (same and valid), logits with a separate Softmax layer."""
    import keras

    init = keras.initializers.GlorotUniform
    net = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Rescaling(2.0, offset=-1.0, name="rescale"),
        keras.layers.Conv2D(8, 3, activation="relu", kernel_initializer=init(11), name="c1"),
        keras.layers.AveragePooling2D(3, strides=2, padding="same", name="a1"),
        keras.layers.Conv2D(8, 3, activation="softplus", kernel_initializer=init(12), name="c2"),
        keras.layers.AveragePooling2D(2, name="a2"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(4, kernel_initializer=init(13), name="logits"),
        keras.layers.Softmax(name="out"),
    ])
    return _finish(net, 4)


def embedded():
    from cnn_widgets import CNNModel

    return CNNModel.default()


#: Name → builder of a CNNModel.
ZOO: dict[str, Callable[[], object]] = {
    "embedded": embedded, "rgb32": rgb32, "strided_same": strided_same, "batch_norm": batch_norm,
    "average_pooling": average_pooling,
}


def images_for(model, count: int = 2, seed: int = 0) -> np.ndarray:
    """``count`` images in [0, 1] of the model's input shape (smooth blobs, not noise)."""
    rng = np.random.default_rng(seed)
    height, width, channels = model.input_shape
    ys, xs = np.mgrid[0:height, 0:width]
    out = np.zeros((count, height, width, channels), np.float32)
    for n in range(count):
        for c in range(channels):
            for _ in range(3):
                cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(2, height / 3)
                out[n, :, :, c] += np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * r * r))
    return np.clip(out, 0, 1)
