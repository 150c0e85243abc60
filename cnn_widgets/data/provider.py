"""The images a session's views draw on: given ones, else the MNIST test split shipped in the package."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from .labels import class_labels

__all__ = ["DataProvider", "DataSet"]


@dataclass(frozen=True)
class DataSet:
    """Images with labels and where they come from.

    Attributes:
        images: uint8 ``(N, H, W)`` or ``(N, H, W, C)``, or floats in [0, 1].
        labels: Integer class labels, one per image.
        source: One line naming the data (shown by the views).
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def of_class(self, label: int) -> np.ndarray:
        """Indices of the images of class ``label``.

        Raises:
            TypeError: ``label`` is not a whole number (a class index).
        """
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
            raise TypeError(f"label must be a class index (a whole number); got {label!r}")
        return np.flatnonzero(self.labels == label)



class DataProvider:
    """The session's images: given ones, else the MNIST test split shipped in the package.

    The embedded split is offered to models that take 28×28 grey images and have ten
    classes; other models get data only when it is given. The provider is tried once;
    when it has nothing, :attr:`message` says why, in one line.

    Args:
        model: The session's model.
        data: ``(images, labels)`` or a :class:`DataSet` to use instead of the
            embedded split; ``False`` for none.
    """

    def __init__(self, model: Any, data: Any = None) -> None:
        self._model = model
        self._given = data
        self._test: DataSet | None = None
        self._tried = False
        self._lock = threading.Lock()
        self.message = ""

    @property
    def test_set(self) -> DataSet | None:
        """The test images the views draw on, or None (then :attr:`message` says why)."""
        with self._lock:
            if not self._tried:
                self._tried = True
                try:
                    self._test = self._load()
                except (OSError, ValueError, TypeError) as error:
                    self.message = f"no test images: {error}"
                if self._test is None and not self.message:
                    self.message = ("no test images for this model: give the session data=(images, labels) "
                                    "to see class patterns, samples and top images")
            return self._test

    @property
    def available(self) -> bool:
        """True when there are test images."""
        return self.test_set is not None

    def _load(self) -> DataSet | None:
        given = self._given
        if given is False:
            return None
        if isinstance(given, DataSet):
            return self._checked(given)
        if given is not None:
            try:
                images, labels = given
            except (TypeError, ValueError):
                raise TypeError("data must be (images, labels) or a DataSet; "
                                f"got {type(given).__name__}") from None
            labels = class_labels(labels, "labels", self._model.classes)
            return self._checked(DataSet(np.asarray(images), labels, f"{len(labels):,} images given to the session"))
        if tuple(self._model.input_shape) == (28, 28, 1) and self._model.classes == 10:
            from .mnist import MNIST_SOURCE, mnist_test_split

            images, labels = mnist_test_split()
            return DataSet(images, labels, MNIST_SOURCE)
        return None

    def _checked(self, data: DataSet) -> DataSet:
        if data.images.shape[0] != data.labels.shape[0]:
            raise ValueError(f"{data.images.shape[0]} images but {data.labels.shape[0]} labels")
        if data.images.shape[0] == 0:
            raise ValueError("the data set is empty")
        if not np.issubdtype(data.labels.dtype, np.integer):
            raise TypeError(f"labels must be integers; got {data.labels.dtype}")
        low, high = int(data.labels.min()), int(data.labels.max())
        if low < 0 or high >= self._model.classes:
            raise ValueError(f"labels must lie in 0..{self._model.classes - 1}; got {low}..{high}")
        self._model.prepare(data.images[:1])  # shape and range fit the model, or a clear error
        return data

