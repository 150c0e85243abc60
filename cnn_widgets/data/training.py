"""What a training run trains on: the MNIST training split, or a labelled fallback.

:func:`training_data` gives the full MNIST training split from a path, the
``CNN_WIDGETS_MNIST`` variable or the downloader; offline, a clearly labelled
fallback on the 10,000 test images shipped in the package, with 1,000 of them held
out for validation. Given data is split the same way when it has no validation part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .labels import class_labels

__all__ = ["TrainingData", "training_data"]


@dataclass(frozen=True)
class TrainingData:
    """What a run trains on and is measured on.

    Attributes:
        images, labels: The training images (uint8 or floats in [0, 1]) and labels.
        validation: ``(images, labels)`` evaluated after each epoch.
        source: One line saying where the data comes from (shown by the widgets).
        fallback: True when no training split was available and the run trains on
            the shipped test images (with a held-out part for validation).
    """

    images: np.ndarray
    labels: np.ndarray
    validation: tuple[np.ndarray, np.ndarray]
    source: str
    fallback: bool = False

    def __len__(self) -> int:
        return int(self.images.shape[0])



def _split(images: np.ndarray, labels: np.ndarray, held_out: int, seed: int) -> tuple[Any, Any]:
    order = np.random.default_rng([seed, 7]).permutation(len(images))
    val, train = order[:held_out], order[held_out:]
    return (images[train], labels[train]), (images[val], labels[val])



def training_data(model: Any = None, data: Any = None, *, path: Any = None, limit: int | None = None,
                  validation_limit: int = 2000, held_out: int = 1000, timeout: float = 10.0,
                  seed: int = 0) -> TrainingData:
    """The data to train ``model`` on, with one line saying what it is.

    Args:
        model: The model (its input shape and classes decide whether MNIST fits).
        data: ``((x_train, y_train), (x_val, y_val))`` (what :func:`load_mnist`
            returns) or ``(x, y)`` (then ``held_out`` images are split off for
            validation); ``None``: MNIST for a 28×28 grey ten-class model.
        path: A local MNIST ``.npz`` (else ``$CNN_WIDGETS_MNIST``, else the download).
        limit: Train on the first ``limit`` images only (quick runs).
        validation_limit: At most this many validation images.
        held_out: Images held out for validation when none are given.
        timeout: Seconds the MNIST download may wait.
        seed: Seed of the held-out split.

    Raises:
        ValueError: No data given for a model MNIST does not fit, a bad ``limit``,
            or data of the wrong form.
    """
    for name, value, low in (("limit", limit, 1), ("validation_limit", validation_limit, 1),
                             ("held_out", held_out, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                  or value < low):
            raise ValueError(f"{name} must be an integer ≥ {low}; got {value!r}")
    fallback = False
    if data is None:
        if model is not None and (tuple(model.input_shape) != (28, 28, 1) or model.classes != 10):
            raise ValueError(f"this model takes {model.input_shape} images with {model.classes} classes; "
                             "MNIST does not fit it: give data=((x_train, y_train), (x_val, y_val))")
        from .mnist import load_mnist, mnist_test_split

        try:
            (x, y), (x_val, y_val) = load_mnist(path, timeout=timeout)
            source = f"MNIST training split ({len(x):,} images); validation on the MNIST test split"
        except (OSError, ValueError, RuntimeError) as error:
            x_all, y_all = mnist_test_split()
            (x, y), (x_val, y_val) = _split(x_all, y_all, held_out, seed)
            # the download's own error (a URL error, a DNS failure) says nothing to a reader here
            reason = "offline, or the download failed, and no MNIST file was named" \
                if isinstance(error, RuntimeError) else str(error).split(". Offline")[0]
            source = (f"trained on the {len(x_all):,} MNIST test images — no training split available "
                      f"({reason}); {len(x):,} for training, {len(x_val):,} held out for validation "
                      "(accuracies are measured on those)")
            fallback = True
    else:
        try:
            first, second = data
        except (TypeError, ValueError):
            raise ValueError("data must be ((x_train, y_train), (x_val, y_val)) or (x, y)") from None
        if isinstance(first, (tuple, list)):
            (x, y), (x_val, y_val) = (np.asarray(first[0]), np.asarray(first[1])), (
                np.asarray(second[0]), np.asarray(second[1]))
            source = f"{len(x):,} training images given; {len(x_val):,} validation images"
        else:
            x, y = np.asarray(first), class_labels(second)  # checked before the split: name the bad one
            if len(x) != len(y):
                raise ValueError(f"{len(x)} images but {len(y)} labels")
            held = min(held_out, max(1, len(x) // 5))
            (x, y), (x_val, y_val) = _split(x, y, held, seed)
            source = f"{len(x) + len(x_val):,} images given; {len(x_val):,} held out for validation"
    if limit is not None and limit < len(x):
        x, y = x[:limit], y[:limit]
        source += f"; this run uses the first {limit:,} training images"
    x_val, y_val = x_val[:validation_limit], y_val[:validation_limit]
    classes = None if model is None else model.classes
    return TrainingData(x, class_labels(y, "labels", classes, len(x)),
                        (x_val, class_labels(y_val, "validation labels", classes, len(x_val))), source, fallback)

