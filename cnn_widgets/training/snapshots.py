"""Training with snapshots: watch filters, maps and class patterns take shape.

:func:`train_with_snapshots` trains a :class:`~cnn_widgets.CNNModel` in place with
:meth:`CNNModel.train <cnn_widgets.CNNModel.train>` and, at chosen points, records
what a lecturer wants to show (a :class:`Snapshot`): the first layer's kernels, the
decoded filters of a chosen layer (:func:`cnn_widgets.methods.decode.decode_filters`), the
OIP of a chosen map (:func:`cnn_widgets.methods.oip.run.optimize`, a few steps from the same
noise each time), the maps of one test digit, the 4-vs-9 Cohen's d of every map of
a layer (:func:`cnn_widgets.methods.fcp.compare`), test accuracy and the confusion matrix.

The points are: before the first batch, several times in the first epoch (where
most change happens: at 1/16, 1/8, 1/4 and 1/2 of it by default) and at the end of
every epoch. A :class:`Replay` holds the snapshots in order and turns any of them
into a picture, a PNG or a GIF of the whole run ("the filters taking shape").

Data (:func:`training_data`): the full MNIST training split from a path, the
``CNN_WIDGETS_MNIST`` variable or the downloader; offline, a clearly labelled
fallback on the 10,000 test images shipped in the package, with 1,000 of them held
out for validation (and the snapshots measured on those).

Also here: the small CNN of the Fashion-MNIST tutorial (:func:`fashion_cnn`) and
:func:`reinitialize`, which gives any model fresh seeded weights.

Nothing here imports ipywidgets; TensorFlow is reached through the model.
"""

from __future__ import annotations

import io
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..methods.confusion import confusion_from_predictions
from ..render.pictures import mosaic, scale

__all__ = ["FASHION_CLASSES", "KINDS", "PauseGate", "Replay", "Snapshot", "SnapshotPlan", "SnapshotRecorder",
           "TrainingData", "TrainingRun", "fashion_cnn", "reinitialize", "train_with_snapshots",
           "training_data"]

#: The ten Fashion-MNIST classes, in label order.
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot")
#: What a snapshot shows, each as a picture: name → (title, colour map).
KINDS = {
    "kernels": ("first-layer kernels", "diverging"),
    "decoded": ("decoded filters", "diverging"),
    "oip": ("OIP of one map", "grey"),
    "maps": ("maps of one test digit", "grey"),
    "ranking": ("Cohen's d per map", "diverging"),
    "confusion": ("confusion matrix (rows: true class)", "viridis"),
}
#: |d| drawn full height in the ranking picture (larger values are clipped).
RANKING_SCALE = 3.0


class _NoRetracingNotice(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls … triggered tf.function retracing".

    A snapshot calls several compiled helpers of the model (each traced once, with
    a fixed signature); TensorFlow counts them together as if one function were
    retraced and prints that notice into notebooks. Nothing else is filtered.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


logging.getLogger("tensorflow").addFilter(_NoRetracingNotice())


# ---------------------------------------------------------------------------- models
def fashion_cnn(seed: int | None = None, classes: Sequence[str] = FASHION_CLASSES) -> Any:
    """The small CNN of the Fashion-MNIST tutorial (seed 003), untrained.

    Conv2D 8 3×3 ReLU → Conv2D 16 3×3 ReLU → MaxPool 2×2 → Flatten → Dense 10
    softmax, on 28×28 grey images.

    Args:
        seed: Seed of the weight initialisers (same seed → same initial weights).
        classes: The class names (default Fashion-MNIST's ten).
    """
    from ..model.wrapper import CNNModel, keras

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


class PauseGate(threading.Event):
    """A ``pause`` event for :meth:`CNNModel.train` that also holds training for a
    moment after each :meth:`touch` — e.g. after each stroke on a drawing pad.

    Training and the live drawing share the CPU cores; a training batch in flight
    makes a stroke's forward pass wait several times longer. With the gate the
    training yields: it holds after the current batch while strokes keep coming
    and goes on ``hold_s`` seconds after the last one. ``set()`` / ``clear()``
    pause and resume as with a plain event.

    Args:
        hold_s: Seconds training stays held after a touch.
    """

    def __init__(self, hold_s: float = 0.25) -> None:
        super().__init__()
        if not (isinstance(hold_s, (int, float)) and math.isfinite(hold_s) and hold_s >= 0):
            raise ValueError(f"hold_s must be a number ≥ 0 (seconds); got {hold_s!r}")
        self.hold_s = float(hold_s)
        self._until = 0.0
        self.touches = 0

    def touch(self) -> None:
        """Hold training from now until ``hold_s`` seconds from now."""
        self._until = time.monotonic() + self.hold_s
        self.touches += 1

    def release(self) -> None:
        """End a hold now (a pause set with ``set()`` stays)."""
        self._until = 0.0

    @property
    def holding(self) -> bool:
        """True while a touch holds training."""
        return time.monotonic() < self._until

    def is_set(self) -> bool:
        return super().is_set() or self.holding


# ---------------------------------------------------------------------------- data
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
        from ..data.mnist import load_mnist, mnist_test_split

        try:
            (x, y), (x_val, y_val) = load_mnist(path, timeout=timeout)
            source = f"MNIST training split ({len(x):,} images); validation on the MNIST test split"
        except (OSError, ValueError, RuntimeError) as error:
            x_all, y_all = mnist_test_split()
            (x, y), (x_val, y_val) = _split(x_all, y_all, held_out, seed)
            reason = str(error).split(". Offline")[0]
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
            x, y = np.asarray(first), np.asarray(second).reshape(-1)
            if len(x) != len(y):
                raise ValueError(f"{len(x)} images but {len(y)} labels")
            held = min(held_out, max(1, len(x) // 5))
            (x, y), (x_val, y_val) = _split(x, y, held, seed)
            source = f"{len(x) + len(x_val):,} images given; {len(x_val):,} held out for validation"
    if limit is not None and limit < len(x):
        x, y = x[:limit], y[:limit]
        source += f"; this run uses the first {limit:,} training images"
    x_val, y_val = x_val[:validation_limit], y_val[:validation_limit]
    return TrainingData(x, np.asarray(y).astype(np.int64).reshape(-1),
                        (x_val, np.asarray(y_val).astype(np.int64).reshape(-1)), source, fallback)


# ---------------------------------------------------------------------------- snapshots
@dataclass(frozen=True)
class SnapshotPlan:
    """What to record and when.

    Attributes:
        first_epoch: Snapshots inside the first epoch (at 1/2, 1/4, 1/8 … of it).
        every_epoch: A snapshot at the end of every epoch.
        decode_layer: Layer whose decoded filters are recorded (None: skip).
        oip_layer, oip_map: The map whose OIP is grown (None: skip).
        oip_steps: Gradient-ascent steps per OIP (few: the same noise every time).
        maps_layer: Layer whose maps of the test digit are recorded.
        digit: Index of that digit among the probe images.
        fcp_layer: Layer of the Cohen's d ranking (None: skip).
        classes: The two classes compared.
        probe: Validation images used for accuracy, confusion and the ranking.
    """

    first_epoch: int = 4
    every_epoch: bool = True
    decode_layer: str | None = "conv2"
    oip_layer: str | None = "conv3"
    oip_map: int = 0
    oip_steps: int = 12
    maps_layer: str | None = "conv1"
    digit: int = 0
    fcp_layer: str | None = "conv3"
    classes: tuple[int, int] = (4, 9)
    probe: int = 500

    @classmethod
    def for_model(cls, model: Any, **changes: Any) -> "SnapshotPlan":
        """A plan whose layers exist in ``model``: the last conv layer for the OIP and
        the ranking, the second conv layer (else the first) for decoding, the first
        conv layer for the maps."""
        convs = [row.name for row in model.layers_table() if row.is_conv]
        classes = (4, 9) if model.classes > 9 else (0, 1)
        plan = dict(decode_layer=convs[min(1, len(convs) - 1)], oip_layer=convs[-1], maps_layer=convs[0],
                    fcp_layer=convs[-1], classes=classes)
        plan.update(changes)
        return cls(**plan)

    def check(self, model: Any) -> None:
        """Raise ValueError for a setting that does not fit ``model``."""
        for name in ("decode_layer", "oip_layer", "maps_layer", "fcp_layer"):
            layer = getattr(self, name)
            if layer is not None and layer not in model.spatial_layers:
                raise ValueError(f"{name}={layer!r}: choose a layer with maps: {', '.join(model.spatial_layers)}")
        for name, value, low in (("first_epoch", self.first_epoch, 0), ("oip_steps", self.oip_steps, 1),
                                 ("probe", self.probe, 1), ("digit", self.digit, 0),
                                 ("oip_map", self.oip_map, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer ≥ {low}; got {value!r}")
        if self.oip_layer is not None and self.oip_map >= model.layer(self.oip_layer).output_shape[-1]:
            raise ValueError(f"oip_map must be 0–{model.layer(self.oip_layer).output_shape[-1] - 1}")
        a, b = self.classes
        if a == b or not (0 <= a < model.classes and 0 <= b < model.classes):
            raise ValueError(f"classes must be two different classes 0–{model.classes - 1}; got {self.classes}")

    def points(self, steps: int, epochs: int) -> list[int]:
        """Global batch counts at which to record (0 = before training)."""
        inside = {max(1, round(steps / 2 ** k)) for k in range(1, self.first_epoch + 1)}
        ends = {steps * e for e in range(1, epochs + 1)} if self.every_epoch else set()
        return sorted({0} | {p for p in inside if p < steps} | ends)


@dataclass(frozen=True)
class Snapshot:
    """What the network looked like at one point of training.

    Attributes:
        step: Batches done (over all epochs); 0 before training.
        epoch: Position in epochs (``step / steps``; 0.25 = a quarter of epoch 1).
        label: In words, e.g. ``"epoch 1, batch 59/469"``.
        kernels: The first conv layer's kernels ``(kh, kw, in, out)``.
        decoded: Decoded filters ``(maps, h, w, channels)`` of the plan's layer, or None.
        oip: The OIP ``(H, W, C)`` of the plan's map (pixels in [0, 1]), or None.
        maps: The plan's layer's maps ``(h, w, count)`` for the test digit, or None.
        scores: Cohen's d per map of the ranking layer (positive: first class), or None.
        ranking: Maps by decreasing |d|, or None.
        accuracy: Accuracy on the probe images.
        confusion: ``(classes, classes)`` counts: row = true class, column = predicted.
        logs: Training figures at that point (running loss/accuracy; validation at epoch ends).
        seconds: Time it took to record this snapshot.
    """

    step: int
    epoch: float
    label: str
    kernels: np.ndarray
    decoded: np.ndarray | None
    oip: np.ndarray | None
    maps: np.ndarray | None
    scores: np.ndarray | None
    ranking: np.ndarray | None
    accuracy: float
    confusion: np.ndarray
    logs: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


class SnapshotRecorder:
    """Records :class:`Snapshot` s of a model while it trains.

    Call :meth:`record` once before training, and pass :meth:`observe` as (part
    of) the ``progress`` hook of :meth:`CNNModel.train`: it records at the plan's
    points. Thread-safe to read (:meth:`replay`) while it records.

    Args:
        model: The model being trained.
        probe: ``(images, labels)`` the snapshots measure on (validation images).
        plan: What to record and when.
    """

    def __init__(self, model: Any, probe: tuple[Any, Any], plan: SnapshotPlan | None = None) -> None:
        self.model = model
        self.plan = plan or SnapshotPlan.for_model(model)
        self.plan.check(model)
        images, labels = probe
        self.images = np.asarray(images)[:self.plan.probe]
        self.labels = np.asarray(labels).reshape(-1)[:self.plan.probe].astype(np.int64)
        if len(self.images) == 0 or len(self.images) != len(self.labels):
            raise ValueError(f"probe needs images with one label each; got {len(self.images)} images "
                             f"and {len(self.labels)} labels")
        if self.plan.digit >= len(self.images):
            raise ValueError(f"digit must be 0–{len(self.images) - 1} (an index among the probe images)")
        self.first_conv = next(row.name for row in model.layers_table() if row.is_conv)
        self._frames: list[Snapshot] = []
        self._lock = threading.Lock()
        self._points: set[int] = set()
        self.seconds = 0.0  # time spent recording, all snapshots

    @property
    def frames(self) -> list[Snapshot]:
        """The snapshots so far (a copy)."""
        with self._lock:
            return list(self._frames)

    def replay(self) -> "Replay":
        """The snapshots so far as a :class:`Replay`."""
        return Replay(self.frames, self.model.class_names)

    def observe(self, report: Any) -> Snapshot | None:
        """The ``progress`` hook: record a snapshot when ``report`` is at a planned point."""
        if not self._points:
            self._points = set(self.plan.points(report.steps, report.epochs))
        step = (report.epoch - 1) * report.steps + report.step
        if step not in self._points:
            return None
        if report.step == report.steps and not report.epoch_done:
            return None  # the epoch's end is recorded on the report with the validation figures
        self._points.discard(step)
        return self.record(step, report.steps, report.logs)

    def _pattern(self, values: np.ndarray, label: int) -> Any:
        """The class pattern (:class:`cnn_widgets.methods.fcp.ClassPattern`) of ``label`` among the probe images."""
        from ..methods.fcp import ClassPattern

        chosen = values[self.labels == label].astype(np.float64)
        map_means = chosen.reshape(len(chosen), -1, chosen.shape[-1]).mean(axis=1)
        return ClassPattern(label=int(label), name=self.model.class_names[int(label)],
                            mean=chosen.mean(axis=0).astype(np.float32), std=chosen.std(axis=0).astype(np.float32),
                            count=len(chosen), map_means=map_means.astype(np.float32))

    def record(self, step: int = 0, steps: int = 1, logs: dict[str, float] | None = None) -> Snapshot:
        """Record a snapshot now (``step`` of ``steps`` per epoch; 0 = before training)."""
        began = time.perf_counter()
        model, plan = self.model, self.plan
        kernels = np.array(model.keras_model.get_layer(self.first_conv).get_weights()[0], np.float32)
        decoded = oip = maps = scores = ranking = None
        if plan.decode_layer is not None:
            from ..methods.decode import decode_filters

            decoded = decode_filters(model, plan.decode_layer).filters
        if plan.oip_layer is not None:
            from ..methods.oip.run import optimize

            oip = optimize(model, plan.oip_layer, [plan.oip_map], steps=plan.oip_steps,
                           frame_every=plan.oip_steps, seed=0).images[0]
        if plan.maps_layer is not None:
            maps = model.activations(self.images[plan.digit], plan.maps_layer)[plan.maps_layer][0]
        # one compiled call over the probe images for the predictions and the class patterns
        output = model.layer_names[-1]
        a, b = plan.classes
        ranked = plan.fcp_layer is not None and np.any(self.labels == a) and np.any(self.labels == b)
        layers = [output] + ([plan.fcp_layer] if ranked and plan.fcp_layer != output else [])
        values = model.activations(self.images, layers)
        predicted = np.argmax(model.to_probabilities(values[output]), axis=1)
        confusion = confusion_from_predictions(self.labels, predicted, model.classes).counts
        if ranked:
            from ..methods.fcp import compare_patterns

            patterns = [self._pattern(values[plan.fcp_layer], label) for label in (a, b)]
            comparison = compare_patterns(plan.fcp_layer, *patterns)
            scores, ranking = comparison.map_scores, comparison.map_ranking
        epoch, batch = divmod(step, steps)
        if step == 0:
            label = "before training"
        elif batch == 0:
            label = f"end of epoch {epoch}"
        else:
            label = f"epoch {epoch + 1}, batch {batch}/{steps}"
        seconds = time.perf_counter() - began
        snapshot = Snapshot(step=int(step), epoch=step / max(steps, 1), label=label, kernels=kernels,
                            decoded=decoded, oip=oip, maps=maps, scores=scores, ranking=ranking,
                            accuracy=float(np.mean(predicted == self.labels)), confusion=confusion,
                            logs=dict(logs or {}), seconds=seconds)
        with self._lock:
            self._frames.append(snapshot)
            self.seconds += seconds
        return snapshot


# ---------------------------------------------------------------------------- replay
def _signed_tiles(stack: np.ndarray) -> Any:
    """Tiles ``(h, w, count)`` on a diverging scale centred on 0, one scale for all of them."""
    peak = max(float(np.abs(stack).max()), 1e-12)
    return mosaic(stack, value_range=(-peak, peak))


def _ranking_picture(scores: np.ndarray, height: int = 33) -> np.ndarray:
    """One column per map: a bar up (first class) or down (second), |d| clipped at RANKING_SCALE."""
    half = height // 2
    picture = np.full((height, len(scores)), 255, np.uint8)  # the gap colour: white
    picture[half, :] = 127
    for column, value in enumerate(np.clip(scores / RANKING_SCALE, -1.0, 1.0)):
        length = int(round(abs(value) * half))
        colour = scale(np.array(value), -1.0, 1.0)
        if value > 0:
            picture[half - length:half, column] = colour
        elif value < 0:
            picture[half + 1:half + 1 + length, column] = colour
    return picture


class Replay:
    """The snapshots of one run, in order, as pictures, PNGs and GIFs.

    Args:
        frames: The snapshots, as recorded.
        class_names: The model's class names (for the confusion matrix).

    Attributes:
        frames: The snapshots (the very objects recorded).
    """

    def __init__(self, frames: Sequence[Snapshot], class_names: Sequence[str] = ()) -> None:
        self.frames: tuple[Snapshot, ...] = tuple(frames)
        self.class_names = list(class_names)

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> Snapshot:
        return self.frames[index]

    def kinds(self) -> list[str]:
        """The kinds of picture these snapshots hold (see :data:`KINDS`)."""
        if not self.frames:
            return []
        first = self.frames[0]
        present = {"kernels": True, "decoded": first.decoded is not None, "oip": first.oip is not None,
                   "maps": first.maps is not None, "ranking": first.scores is not None, "confusion": True}
        return [kind for kind in KINDS if present[kind]]

    def _frame(self, index: int) -> Snapshot:
        if not self.frames:
            raise ValueError("this replay has no snapshots yet")
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not (
                -len(self.frames) <= index < len(self.frames)):
            raise ValueError(f"frame must be 0–{len(self.frames) - 1}; got {index!r}")
        return self.frames[index]

    def picture(self, kind: str, index: int = -1) -> tuple[np.ndarray, str]:
        """Frame ``index`` of ``kind`` as palette indices (uint8, 2-D) and its colour map.

        Raises:
            ValueError: An unknown kind, one not recorded, or a frame out of range.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
        frame = self._frame(index)
        colormap = KINDS[kind][1]
        if kind not in self.kinds():
            raise ValueError(f"{kind!r} was not recorded in this run; recorded: {', '.join(self.kinds())}")
        if kind == "kernels":
            return _signed_tiles(frame.kernels.mean(axis=2)).indices, colormap
        if kind == "decoded":
            return _signed_tiles(np.moveaxis(frame.decoded.mean(axis=3), 0, -1)).indices, colormap
        if kind == "oip":
            grey = frame.oip.mean(axis=2)
            low, high = float(grey.min()), float(grey.max())
            return scale(grey, low, high if high > low else low + 1.0), colormap
        if kind == "maps":
            return mosaic(frame.maps).indices, colormap
        if kind == "ranking":
            return _ranking_picture(frame.scores), colormap
        rows = frame.confusion.sum(axis=1, keepdims=True)
        return scale(frame.confusion / np.maximum(rows, 1), 0.0, 1.0), colormap

    def png_bytes(self, kind: str, index: int = -1, *, zoom: int | None = None) -> bytes:
        """Frame ``index`` of ``kind`` as a PNG, enlarged ``zoom`` times (default: to about
        400 pixels wide)."""
        buffer = io.BytesIO()
        self._image(kind, index, zoom).save(buffer, format="PNG")
        return buffer.getvalue()

    def gif_bytes(self, kind: str, *, zoom: int | None = None, duration_ms: int = 400,
                  hold_ms: int = 1500) -> bytes:
        """Every frame of ``kind`` as an animated GIF (Pillow writes it); ``zoom`` as
        for :meth:`png_bytes`."""
        if not self.frames:
            raise ValueError("this replay has no snapshots yet")
        from ..render.pictures import animated_gif

        return animated_gif([self._image(kind, index, zoom) for index in range(len(self.frames))],
                            duration_ms, hold_ms)

    def _image(self, kind: str, index: int, zoom: int | None) -> Any:
        from ..render.pictures import palette_image

        indices, colormap = self.picture(kind, index)
        if zoom is None:
            zoom = max(1, min(16, round(400 / indices.shape[1])))
        if isinstance(zoom, bool) or not isinstance(zoom, (int, np.integer)) or not 1 <= zoom <= 64:
            raise ValueError(f"zoom must be an integer 1–64; got {zoom!r}")
        return palette_image(indices, colormap, zoom)

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(epoch positions, values)`` of a per-snapshot figure: ``"accuracy"`` (probe
        accuracy) or a log entry such as ``"loss"`` (frames without it are left out)."""
        points = [(f.epoch, f.accuracy if name == "accuracy" else f.logs.get(name)) for f in self.frames]
        points = [(x, y) for x, y in points if y is not None]
        return np.array([p[0] for p in points], float), np.array([p[1] for p in points], float)


# ---------------------------------------------------------------------------- running
@dataclass
class TrainingRun:
    """The outcome of :func:`train_with_snapshots`.

    Attributes:
        history: Metric → one value per finished epoch.
        replay: The snapshots.
        data: What it trained on.
        settings: The training settings.
        cancelled: True when stopped before the last batch.
        seconds: Wall time of the whole run (snapshots and pauses included).
        snapshot_seconds: Time spent recording snapshots.
        batches: Batches trained.
    """

    history: dict[str, list[float]]
    replay: Replay
    data: TrainingData
    settings: dict[str, Any]
    cancelled: bool = False
    seconds: float = 0.0
    snapshot_seconds: float = 0.0
    batches: int = 0

    @property
    def snapshot_share(self) -> float:
        """Snapshot time as a fraction of the time spent training without them."""
        return self.snapshot_seconds / max(self.seconds - self.snapshot_seconds, 1e-9)


def train_with_snapshots(
    model: Any,
    data: TrainingData,
    *,
    plan: SnapshotPlan | None = None,
    snapshots: bool = True,
    progress: Callable[[Any], None] | None = None,
    on_snapshot: Callable[[Snapshot, Replay], None] | None = None,
    cancel: threading.Event | None = None,
    pause: threading.Event | None = None,
    fresh: int | None = None,
    **settings: Any,
) -> TrainingRun:
    """Train ``model`` in place on ``data``, recording snapshots along the way.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        data: From :func:`training_data`.
        plan: What to record (default :meth:`SnapshotPlan.for_model`).
        snapshots: False trains without recording (the baseline of the overhead).
        progress: Also called with every :class:`~cnn_widgets.model.wrapper.TrainingProgress`.
        on_snapshot: Called with each new snapshot and the replay so far.
        cancel: Set to stop after the current batch.
        pause: While set, training waits after the current batch.
        fresh: Start from fresh weights with this seed (:func:`reinitialize`);
            None continues from the current weights.
        **settings: Passed on to :meth:`CNNModel.train` (epochs, batch_size,
            learning_rate, momentum, l2, seed, shift, …).

    Raises:
        ValueError: As :meth:`CNNModel.train`, or a plan that does not fit the model.
    """
    from ..model.wrapper import _check_training_settings

    checked = {k: v for k, v in settings.items()
               if k in ("epochs", "batch_size", "learning_rate", "lr_decay", "momentum", "l2", "shift")}
    _check_training_settings(**checked)  # before any weight is touched
    began = time.perf_counter()
    if fresh is not None:
        reinitialize(model, fresh)
    if settings.pop("standardize", False):
        # measured here, not inside train(): the first snapshot must see the
        # standardisation the run trains with, and the compiled helpers stay valid
        x = model.prepare(data.images)
        model.mean = x.mean(axis=(0, 1, 2)).astype(np.float32)
        model.std = np.maximum(x.std(axis=(0, 1, 2)), 1e-6).astype(np.float32)
        model.changed()
    recorder = SnapshotRecorder(model, data.validation, plan) if snapshots else None
    seen: dict[str, Any] = {"batches": 0, "last": None}

    def report(update: Any) -> None:
        seen["batches"] = max(seen["batches"], (update.epoch - 1) * update.steps + update.step)
        seen["last"] = update
        if recorder is not None:
            snapshot = recorder.observe(update)
            if snapshot is not None and on_snapshot is not None:
                on_snapshot(snapshot, recorder.replay())
        if progress is not None:
            progress(update)

    if recorder is not None:
        first = recorder.record(0, 1)
        if on_snapshot is not None:
            on_snapshot(first, recorder.replay())
    history = model.train(data.images, data.labels, validation=data.validation, progress=report,
                          cancel=cancel, pause=pause, **settings)
    last = seen["last"]
    cancelled = bool(cancel is not None and cancel.is_set())
    if recorder is not None and last is not None and cancelled:
        step = (last.epoch - 1) * last.steps + last.step
        if recorder.frames[-1].step != step:  # where it stopped
            snapshot = recorder.record(step, last.steps, last.logs)
            if on_snapshot is not None:
                on_snapshot(snapshot, recorder.replay())
    replay = recorder.replay() if recorder is not None else Replay([], model.class_names)
    return TrainingRun(history=history, replay=replay, data=data, settings=dict(settings, fresh=fresh),
                       cancelled=cancelled, seconds=time.perf_counter() - began,
                       snapshot_seconds=recorder.seconds if recorder is not None else 0.0,
                       batches=seen["batches"])
