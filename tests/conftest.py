"""Shared fixtures: tiny Keras CNNs with known weights, and the real MNIST file if present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]


def mnist_file() -> Path | None:
    """The real MNIST .npz: $CNN_WIDGETS_MNIST, else ../shared/data/mnist.npz beside the repo."""
    named = os.environ.get("CNN_WIDGETS_MNIST")
    candidates = [Path(named)] if named else [REPO.parent / "shared" / "data" / "mnist.npz"]
    return next((p for p in candidates if p.is_file()), None)


@pytest.fixture(scope="session")
def mnist_path(tmp_path_factory) -> Path:
    """An MNIST ``.npz`` with a training split: the real file when it is here, else one
    written from the test split shipped in the package (8,000 images to train on, 2,000
    to test), so no test is skipped for want of data."""
    path = mnist_file()
    if path is not None:
        return path
    from cnn_widgets.data.mnist import mnist_test_split

    x, y = mnist_test_split()
    made = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez_compressed(made, x_train=x[:8000], y_train=y[:8000], x_test=x[8000:], y_test=y[8000:])
    return made


def make_tiny_cnn(size: int = 8, channels: int = 1, filters: int = 2, classes: int = 3,
                  softmax: bool = True, seed: int = 1):
    """An 8×8 CNN: conv(3×3, ``filters``) → maxpool 2 → flatten → dense ``classes``."""
    import keras

    net = keras.Sequential(
        [
            keras.Input((size, size, channels), name="pixels"),
            keras.layers.Conv2D(filters, 3, activation="relu", name="conv",
                                kernel_initializer=keras.initializers.GlorotUniform(seed)),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(classes, activation="softmax" if softmax else None, name="out",
                               kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
        ]
    )
    return net


@pytest.fixture
def tiny_keras():
    return make_tiny_cnn()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def stripes(n: int, seed: int | np.random.Generator = 5) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 8×8 images, 3 classes. Class 0: a bright horizontal bar; class 1: vertical;
    class 2: blank with noise. ``seed`` may be a Generator (it is drawn from)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.random((n, 8, 8)).astype(np.float32) * 0.2
    for image, label in zip(images, labels):
        where = rng.integers(2, 6)
        if label == 0:
            image[where, 1:7] = 1.0
        elif label == 1:
            image[1:7, where] = 1.0
    return images, labels
