"""FCPs — the activation patterns of a layer that a class of images shares.

On the last conv layer the embedded CNN turns a digit into 128 maps of 3×3: a
"feature-map combination pattern" (FCP, seed parts V–VI). What do all "4"s share
there that "9"s do not? :func:`compare` answers with each class's mean pattern,
its spread, their difference, and a ranking of the maps (and single nodes) that
separate the two classes.

The separation score is Cohen's d: the difference of the class means divided by
the pooled standard deviation,

    d = (mean_A − mean_B) / sqrt(((n_A − 1)·var_A + (n_B − 1)·var_B) / (n_A + n_B − 2)),

for a node on its activations, for a map on its mean activation per image. |d| = 1
means the class means lie one typical spread apart; the sign says which class the
map prefers (positive: A). Maps are ranked by |d|.

Works for any layer (conv, pooling, dense) and any two classes of any wrapped
model. Nothing here imports TensorFlow or widgets directly: it runs through the
model wrapper's one compiled call, in batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["ClassPattern", "FCPComparison", "PatternSums", "class_patterns", "compare_classes", "pattern_shape"]


@dataclass(frozen=True)
class ClassPattern:
    """One class's activations on a layer.

    Attributes:
        label: The class index.
        name: The class name.
        mean: Mean activation, the layer's output shape for one image.
        std: Standard deviation per node, same shape.
        count: Number of images.
        map_means: ``(count, maps)``: each image's mean activation per map.
    """

    label: int
    name: str
    mean: np.ndarray
    std: np.ndarray
    count: int
    map_means: np.ndarray


@dataclass(frozen=True)
class FCPComparison:
    """Two classes compared on one layer.

    Attributes:
        layer: The layer.
        a, b: The two class patterns.
        difference: ``a.mean - b.mean``.
        map_scores: Cohen's d per map (positive: larger for A).
        map_ranking: Maps ordered by decreasing |d|.
        node_scores: Cohen's d per node, the layer's shape.
    """

    layer: str
    a: ClassPattern
    b: ClassPattern
    difference: np.ndarray
    map_scores: np.ndarray
    map_ranking: np.ndarray
    node_scores: np.ndarray

    def node_ranking(self, top: int = 10) -> list[tuple[tuple[int, ...], float]]:
        """The ``top`` nodes by |d|: ``(index, d)`` with index ``(row, col, map)`` or ``(unit,)``."""
        top = _count(top, "top")
        flat = np.argsort(-np.abs(self.node_scores), axis=None)[:top]
        return [(tuple(int(i) for i in np.unravel_index(k, self.node_scores.shape)),
                 float(self.node_scores.flat[k])) for k in flat]

    def position(self, activation: np.ndarray, top: int = 16) -> float:
        """Where one image's pattern falls between the classes: 0 = like B's mean, 1 = like A's.

        The pattern is projected on the line from B's mean to A's mean, using the
        nodes of the ``top`` best-separating maps (all of them when ``top`` is 0).
        """
        top = _count(top, "top")
        try:
            activation = np.asarray(activation, np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"activation must be an array of numbers; got {type(activation).__name__}") from None
        if activation.size != self.difference.size:
            raise ValueError(f"activation must be one image's pattern on {self.layer!r}, shape "
                             f"{self.difference.shape}; got shape {activation.shape}")
        if not np.all(np.isfinite(activation)):
            raise ValueError("activation must be finite; got NaN or infinite values")
        activation = activation.reshape(self.difference.shape)
        maps = self.map_ranking[:top] if top else self.map_ranking
        delta = self.difference[..., maps]
        norm = float(np.sum(delta * delta))
        if norm == 0:
            return 0.5
        return float(np.sum((activation[..., maps] - self.b.mean[..., maps]) * delta) / norm)


def _count(value: Any, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be a whole number ≥ 0; got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must be ≥ 0; got {value}")
    return int(value)


def pattern_shape(model: Any, layer: str) -> tuple[int, ...]:
    """The output shape of ``layer`` for one image."""
    return tuple(int(s) for s in model.layer(layer).output_shape)


def _check_labels(model: Any, images: Any, labels: Any) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D array of class indices; got {labels.dtype} {labels.shape}")
    if not hasattr(images, "__len__"):
        raise TypeError(f"images must be a batch of images (an array); got {type(images).__name__}")
    count = len(images) if not isinstance(images, np.ndarray) or images.ndim > 2 else 1
    if count != labels.shape[0]:
        raise ValueError(f"{count} images but {labels.shape[0]} labels: give one label per image")
    return labels


def _check_class(model: Any, label: Any, labels: np.ndarray) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) or not (
            0 <= int(label) < model.classes):
        names = ", ".join(f"{i} ({n})" for i, n in enumerate(model.class_names))
        raise ValueError(f"unknown class {label!r}; this model's classes are {names}")
    if not np.any(labels == label):
        raise ValueError(f"class {label} ({model.class_names[int(label)]}) has no images here")
    return int(label)


def class_patterns(
    model: Any,
    images: Any,
    labels: Any,
    layer: str = "conv3",
    classes: Sequence[int] = (4, 9),
    *,
    batch_size: int = 256,
    progress: Callable[[float], Any] | None = None,
) -> dict[int, ClassPattern]:
    """Mean, spread and count of the activations of ``layer`` per class.

    The activations are accumulated batch by batch (float32 activations, float64
    sums of one pattern's size), so memory stays flat whatever the layer and class size.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        images: The images (anything ``model.predict`` takes, a batch).
        labels: One class index per image.
        layer: Any layer of the model.
        classes: The classes to describe.
        batch_size: Images per compiled call.
        progress: Called with the fraction done after each batch (it may raise to
            stop, e.g. a cancelled job).

    Raises:
        ValueError: Unknown layer or class, a class without images, or a
            different number of images and labels.
    """
    model.layer(layer)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a function of the fraction done (or None); got {type(progress).__name__}")
    labels = _check_labels(model, images, labels)
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise ValueError(f"classes must be a list of class indices, e.g. (4, 9); got {classes!r}")
    classes = list(classes)
    if not classes:
        raise ValueError("classes is empty; give the class indices to describe, e.g. (4, 9)")
    wanted = list(dict.fromkeys(_check_class(model, c, labels) for c in classes))
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number ≥ 1; got {batch_size!r}")
    images = np.asarray(images)
    indices = {label: np.flatnonzero(labels == label) for label in wanted}
    total, done = sum(len(i) for i in indices.values()), 0
    out: dict[int, ClassPattern] = {}
    for label in wanted:
        chosen = indices[label]
        sums = PatternSums()
        for start in range(0, len(chosen), batch_size):
            values = model.activations(images[chosen[start:start + batch_size]], layer,
                                       batch_size=batch_size)[layer]
            sums.add(values)
            done += len(values)
            if progress is not None:
                progress(done / total)
        out[label] = sums.pattern(label, model.class_names[label])
    return out


class PatternSums:
    """One class's activations summed batch by batch (float64 sums of one pattern's size,
    float32 map means per image): memory stays flat whatever the class size."""

    def __init__(self) -> None:
        self.count = 0
        self.sums: np.ndarray | None = None
        self.squares: np.ndarray | None = None
        self.map_means: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> "PatternSums":
        """Add a batch of activations ``(n, …)`` of one layer; returns itself."""
        wide = np.asarray(values).astype(np.float64)
        self.sums = wide.sum(axis=0) if self.sums is None else self.sums + wide.sum(axis=0)
        squares = (wide * wide).sum(axis=0)
        self.squares = squares if self.squares is None else self.squares + squares
        self.map_means.append(np.asarray(values).reshape(len(values), -1, values.shape[-1]).mean(axis=1,
                                                                                                 dtype=np.float32))
        self.count += len(values)
        return self

    def pattern(self, label: int, name: str) -> ClassPattern:
        """The class pattern of what was added.

        Raises:
            ValueError: Nothing was added.
        """
        if not self.count:
            raise ValueError(f"class {label} ({name}) has no images here")
        mean = self.sums / self.count
        std = np.sqrt(np.maximum(self.squares / self.count - mean * mean, 0.0))
        return ClassPattern(label=int(label), name=name, mean=mean.astype(np.float32), std=std.astype(np.float32),
                            count=self.count, map_means=np.concatenate(self.map_means).astype(np.float32))


def _cohen_d(mean_a: np.ndarray, std_a: np.ndarray, n_a: int, mean_b: np.ndarray, std_b: np.ndarray,
             n_b: int) -> np.ndarray:
    # population std → sample variance
    var_a = std_a.astype(np.float64) ** 2 * n_a / max(n_a - 1, 1)
    var_b = std_b.astype(np.float64) ** 2 * n_b / max(n_b - 1, 1)
    pooled = np.sqrt(((n_a - 1) * var_a + (n_b - 1) * var_b) / max(n_a + n_b - 2, 1))
    difference = mean_a.astype(np.float64) - mean_b
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(pooled > 1e-12, difference / np.maximum(pooled, 1e-12), 0.0)
    return score.astype(np.float32)


def compare_patterns(layer: str, a: ClassPattern, b: ClassPattern) -> FCPComparison:
    """Compare two class patterns of the same layer (see the module for the score)."""
    if not isinstance(a, ClassPattern) or not isinstance(b, ClassPattern):
        raise TypeError("compare_patterns takes two ClassPattern (from class_patterns)")
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"the two patterns come from different layers: shapes {a.mean.shape} and {b.mean.shape}")
    map_scores = _cohen_d(a.map_means.mean(0), a.map_means.std(0), a.count,
                          b.map_means.mean(0), b.map_means.std(0), b.count)
    return FCPComparison(
        layer=layer, a=a, b=b, difference=(a.mean - b.mean).astype(np.float32),
        map_scores=map_scores, map_ranking=np.argsort(-np.abs(map_scores), kind="stable"),
        node_scores=_cohen_d(a.mean, a.std, a.count, b.mean, b.std, b.count),
    )


def compare_classes(
    model: Any,
    images: Any,
    labels: Any,
    layer: str = "conv3",
    classes: tuple[int, int] = (4, 9),
    *,
    batch_size: int = 256,
) -> FCPComparison:
    """Class patterns of two classes on ``layer``, their difference and separating maps.

    Raises:
        ValueError: As :func:`class_patterns`, or the two classes are the same.
    """
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__len__") or len(classes) != 2 \
            or classes[0] == classes[1]:
        raise ValueError(f"compare two different classes, e.g. (4, 9); got {classes!r}")
    patterns = class_patterns(model, images, labels, layer, classes, batch_size=batch_size)
    return compare_patterns(layer, patterns[int(classes[0])], patterns[int(classes[1])])
