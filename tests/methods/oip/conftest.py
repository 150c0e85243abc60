"""Models for the OIP tests: a tiny CNN with known weights, and one with a dead and a shy map."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnn_widgets import CNNModel

from ...conftest import make_tiny_cnn


@pytest.fixture(scope="package")
def tiny() -> CNNModel:
    """12×12 images: conv (4 maps of 10×10, ReLU) → pool (5×5) → flat → out."""
    return CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))


def shy_model(shy: float = 0.93) -> CNNModel:
    """16×16 images. Map 0: dead for any input (zero kernel, negative bias). Map 1: fires only
    where a 3×3 patch is almost all ink (mean > ``shy``) — never on pixel noise; at 0.93 easily
    on long wavelengths, at 0.97 yet on a digit-like white square. Map 2: an edge."""
    inputs = keras.Input((16, 16, 1))
    conv = keras.layers.Conv2D(3, 3, activation="relu", name="conv")
    x = conv(inputs)
    net = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x)))
    kernel = np.zeros((3, 3, 1, 3), np.float32)
    kernel[..., 0, 1] = 1.0 / 9
    kernel[:, 0, 0, 2], kernel[:, 2, 0, 2] = 1.0, -1.0
    conv.set_weights([kernel, np.array([-1.0, -shy, 0.0], np.float32)])
    return CNNModel(net)


def mean_of_own_map(model: CNNModel, layer: str, result) -> np.ndarray:
    """What the network says each result image's own map averages (the objective, recomputed)."""
    values = model.activations(result.images, layer)[layer].mean(axis=(1, 2))
    return values[np.arange(len(result.maps)), result.maps]
