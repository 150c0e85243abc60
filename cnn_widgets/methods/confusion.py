"""The confusion matrix of a model on a labelled data set, with the images behind each cell.

Rows are true classes, columns predicted ones. ``counts[t, p]`` images of class ``t``
were read as ``p``; ``rates`` divides each row by its class size, so the diagonal is
each class's recall. :meth:`Confusion.indices` gives the images of one cell, most
confident first (the 4s read most surely as 9 come first).

Example:
    >>> confusion = confusion_matrix(model, session.data.test_set)
    >>> confusion.counts[4, 9], confusion.indices(4, 9)[:5]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["Confusion", "confusion_matrix", "confusion_from_predictions"]

#: Images per model call while counting (a multiple of 64: few compiled shapes).
CHUNK = 2048


@dataclass(frozen=True)
class Confusion:
    """A confusion matrix and what it was made from.

    Attributes:
        counts: ``(classes, classes)`` int64; rows true class, columns predicted.
        labels: True class of every image ``(N,)``.
        predictions: Predicted class of every image ``(N,)``.
        confidence: Probability the model gave its prediction ``(N,)``.
        class_names: A name per class.
        source: What the images are (one line).
        version: The model's ``version`` it was computed with.
    """

    counts: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    confidence: np.ndarray = field(repr=False)
    class_names: tuple[str, ...]
    source: str = ""
    version: int = 0

    @property
    def classes(self) -> int:
        """Number of classes."""
        return int(self.counts.shape[0])

    @property
    def total(self) -> int:
        """Number of images."""
        return int(self.counts.sum())

    @property
    def accuracy(self) -> float:
        """Fraction of images on the diagonal."""
        return float(np.trace(self.counts) / max(self.total, 1))

    @property
    def rates(self) -> np.ndarray:
        """Each row divided by its class size (rows of absent classes are 0)."""
        sizes = self.counts.sum(axis=1, keepdims=True)
        return np.divide(self.counts, sizes, out=np.zeros(self.counts.shape), where=sizes > 0)

    def _class(self, value: Any, what: str) -> int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{what} must be a class index (an int); got {value!r}")
        if not 0 <= int(value) < self.classes:
            raise ValueError(f"{what} {value} is out of range: classes are 0–{self.classes - 1}")
        return int(value)

    def indices(self, true: int, predicted: int) -> np.ndarray:
        """Indices of the images of class ``true`` predicted as ``predicted``, most confident first.

        Raises:
            ValueError: A class out of range.
        """
        t, p = self._class(true, "true class"), self._class(predicted, "predicted class")
        chosen = np.flatnonzero((self.labels == t) & (self.predictions == p))
        return chosen[np.argsort(-self.confidence[chosen], kind="stable")]

    def most_confused(self, count: int = 5) -> list[tuple[int, int, int]]:
        """The ``count`` largest off-diagonal cells as ``(true, predicted, images)``."""
        off = self.counts.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(-off, axis=None, kind="stable")[:count]
        cells = [(int(i // self.classes), int(i % self.classes)) for i in order]
        return [(t, p, int(off[t, p])) for t, p in cells if off[t, p] > 0]


def confusion_from_predictions(labels: Any, predictions: Any, classes: int, *,
                               confidence: Any = None, class_names: Sequence[str] | None = None,
                               source: str = "", version: int = 0) -> Confusion:
    """A :class:`Confusion` from true and predicted labels (one ``bincount``).

    Raises:
        ValueError: Lengths differ, or labels outside ``0..classes-1``.
    """
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    predictions = np.asarray(predictions).reshape(-1).astype(np.int64)
    if labels.shape != predictions.shape:
        raise ValueError(f"{labels.size} labels but {predictions.size} predictions")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.size and (values.min() < 0 or values.max() >= classes):
            raise ValueError(f"{name} must lie in 0..{classes - 1}; got {values.min()}..{values.max()}")
    counts = np.bincount(labels * classes + predictions, minlength=classes * classes).reshape(classes, classes)
    confidence = np.ones(labels.size) if confidence is None else np.asarray(confidence, np.float64).reshape(-1)
    names = tuple(class_names) if class_names is not None else tuple(str(i) for i in range(classes))
    return Confusion(counts, labels, predictions, confidence, names, source, version)


def confusion_matrix(model: Any, data: Any, *, progress: Callable[[float], Any] | None = None,
                     batch_size: int = 256) -> Confusion:
    """The confusion matrix of ``model`` on ``data`` (``model.predict`` in chunks).

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        data: A :class:`~cnn_widgets.session.session.DataSet` or ``(images, labels)``.
        progress: Called with the fraction done after each chunk (a worker job's
            ``lambda f: job.report(f)`` makes it cancellable).
        batch_size: Images per compiled call.

    Raises:
        ValueError: No images, lengths differ, or labels outside the model's classes.
        TypeError: ``data`` is neither.
    """
    source = getattr(data, "source", "")
    if hasattr(data, "images") and hasattr(data, "labels"):
        images, labels = data.images, data.labels
    else:
        try:
            images, labels = data
        except (TypeError, ValueError):
            raise TypeError(f"data must be a DataSet or (images, labels); got {type(data).__name__}") from None
    images = np.asarray(images)
    labels = np.asarray(labels).reshape(-1)
    if images.shape[0] == 0:
        raise ValueError("no images: the data set is empty")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers; got {labels.dtype}")
    version = getattr(model, "version", 0)
    predicted, confidence = [], []
    for start in range(0, images.shape[0], CHUNK):
        probabilities = model.predict(images[start:start + CHUNK], batch_size=batch_size)
        predicted.append(np.argmax(probabilities, axis=1))
        confidence.append(np.max(probabilities, axis=1))
        if progress is not None:
            progress(min(start + CHUNK, images.shape[0]) / images.shape[0])
    return confusion_from_predictions(labels, np.concatenate(predicted), model.classes,
                                      confidence=np.concatenate(confidence), class_names=model.class_names,
                                      source=source, version=version)
