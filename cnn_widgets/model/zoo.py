"""Untrained CNNs to start from: the seeds' MNIST CNN and the Fashion-MNIST tutorial's CNN."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .backend import keras
from .wrapper import CNNModel

__all__ = ["FASHION_CLASSES", "fashion_cnn", "mnist_cnn", "reinitialize"]

#: The ten Fashion-MNIST classes, in label order.
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot")


def mnist_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    classes: int = 10,
    hidden: int = 70,
    seed: int | None = None,
) -> "CNNModel":
    """Build the seeds' CNN, untrained.

    Conv2D 32 3×3 ReLU → MaxPool 2×2 → Conv2D 64 3×3 ReLU → MaxPool 2×2 →
    Conv2D 128 3×3 ReLU → Flatten → Dense ``hidden`` ReLU → Dense ``classes`` softmax.

    Args:
        input_shape: ``(height, width, channels)`` of the images.
        classes: Number of output classes.
        hidden: Units of the hidden dense layer.
        seed: Seed of the weight initialisers (same seed → same initial weights).

    Raises:
        TypeError, ValueError: A shape that is not ``(height, width, channels)`` of
            whole numbers with height and width ≥ 18 (three 3×3 convolutions and
            two poolings need that much), fewer than 2 classes, fewer than 1 hidden
            unit, or a seed that is not a whole number ≥ 0.
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if shape is None or len(shape) != 3 or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"input_shape must be (height, width, channels) of whole numbers; got {input_shape!r}")
    if min(shape[:2]) < 18 or shape[2] < 1:
        raise ValueError(f"input_shape needs height and width ≥ 18 and ≥ 1 channel; got {shape}")
    for what, value, least in (("classes", classes, 2), ("hidden", hidden, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{what} must be a whole number ≥ {least}; got {value!r}")
        if value < least:
            raise ValueError(f"{what} must be ≥ {least}; got {value}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a whole number ≥ 0 or None; got {seed!r}")
    init = keras.initializers.GlorotUniform
    seeds = iter(range(0 if seed is None else seed * 10, 10_000))

    def kernel() -> Any:
        return init(seed=None if seed is None else next(seeds))

    layers = keras.layers
    net = keras.Sequential(
        [
            keras.Input(shape=shape, name="image"),
            layers.Conv2D(32, 3, activation="relu", kernel_initializer=kernel(), name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, activation="relu", kernel_initializer=kernel(), name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Conv2D(128, 3, activation="relu", kernel_initializer=kernel(), name="conv3"),
            layers.Flatten(name="flatten"),
            layers.Dense(hidden, activation="relu", kernel_initializer=kernel(), name="dense"),
            layers.Dense(classes, activation="softmax", kernel_initializer=kernel(), name="output"),
        ],
        name="mnist_cnn",
    )
    return CNNModel(net)



def fashion_cnn(seed: int | None = None, classes: Sequence[str] = FASHION_CLASSES) -> Any:
    """The small CNN of the Fashion-MNIST tutorial (seed 003), untrained.

    Conv2D 8 3×3 ReLU → Conv2D 16 3×3 ReLU → MaxPool 2×2 → Flatten → Dense 10
    softmax, on 28×28 grey images.

    Args:
        seed: Seed of the weight initialisers (same seed → same initial weights).
        classes: The class names (default Fashion-MNIST's ten).
    """
    init = keras.initializers.GlorotUniform
    layers = keras.layers

    def kernel(offset: int) -> Any:
        return init(seed=None if seed is None else seed * 10 + offset)

    net = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1), name="image"),
            layers.Conv2D(8, 3, activation="relu", kernel_initializer=kernel(0), name="conv1"),
            layers.Conv2D(16, 3, activation="relu", kernel_initializer=kernel(1), name="conv2"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(len(classes), activation="softmax", kernel_initializer=kernel(2), name="output"),
        ],
        name="fashion_cnn",
    )
    return CNNModel(net, class_names=list(classes))



def reinitialize(model: Any, seed: int) -> Any:
    """Give every layer of ``model`` fresh weights from its own initialisers, seeded.

    The same seed gives the same weights (for any architecture); the model's
    caches are dropped (:meth:`CNNModel.changed`). Returns the model.

    Raises:
        ValueError: ``seed`` is not a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer ≥ 0; got {seed!r}")
    for index, layer in enumerate(model.keras_model.layers):
        for init_name, weight_name in (("kernel_initializer", "kernel"), ("bias_initializer", "bias"),
                                       ("depthwise_initializer", "depthwise_kernel"),
                                       ("pointwise_initializer", "pointwise_kernel")):
            initializer = getattr(layer, init_name, None)
            variable = getattr(layer, weight_name, None)
            if initializer is None or variable is None:
                continue
            config = initializer.get_config()
            if "seed" in config:
                initializer = type(initializer).from_config({**config, "seed": int(seed) * 1000 + index})
            variable.assign(initializer(tuple(variable.shape), dtype=variable.dtype))
    model.changed()
    return model

