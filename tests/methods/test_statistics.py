"""layer_statistics: per image and map, the strongest cell and the mean; kept per model version."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.methods.statistics import layer_statistics

from ..conftest import make_tiny_cnn


def test_layer_statistics_follow_the_model_version():
    model = CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))
    images = np.random.default_rng(0).random((40, 12, 12)).astype(np.float32)
    peaks, means = layer_statistics(model, "conv", images, batch_size=16)
    values = model.activations(images, "conv")["conv"]
    np.testing.assert_allclose(peaks, values.max(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(means, values.mean(axis=(1, 2)), rtol=1e-5)
    assert layer_statistics(model, "conv", images, batch_size=16)[0] is peaks  # kept
    conv = model.keras_model.get_layer("conv")
    kernel, bias = conv.get_weights()
    conv.set_weights([kernel * 2, bias])
    model.changed()
    again = layer_statistics(model, "conv", images, batch_size=16)[0]
    np.testing.assert_allclose(again, model.activations(images, "conv")["conv"].max(axis=(1, 2)), rtol=1e-6)
    assert again is not peaks and not np.allclose(again, peaks)


@pytest.mark.parametrize(
    "images, batch_size, error, message",
    [
        (np.zeros((0, 12, 12, 1), np.float32), 256, ValueError, "images must hold at least one image"),
        (None, 256, TypeError, "images must be an array of images; got NoneType"),
        ("abc", 256, TypeError, "images must be an array of images; got str"),
        (np.zeros((2, 12, 12), np.float32), 0, ValueError, "batch_size must be a whole number ≥ 1"),
        (np.zeros((2, 12, 12), np.float32), 2.5, TypeError, "batch_size must be a whole number ≥ 1"),
    ],
)
def test_bad_layer_statistics_arguments_are_refused(images, batch_size, error, message):
    model = CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))
    with pytest.raises(error, match=message):
        layer_statistics(model, "conv", images, batch_size=batch_size)
