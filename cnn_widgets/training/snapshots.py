"""Snapshots of a network while it trains: what a lecturer wants to show, at planned points.

A :class:`SnapshotRecorder` records a :class:`Snapshot` (the first layer's kernels,
the decoded filters of a chosen layer, the OIP of a chosen map grown a few steps
from the same noise each time, the maps of one test digit, the 4-vs-9 Cohen's d of
every map of a layer, test accuracy and the confusion matrix) before the first
batch, several times in the first epoch (where most change happens: at 1/16, 1/8,
1/4 and 1/2 of it by default) and at the end of every epoch.
:class:`~cnn_widgets.training.replay.Replay` turns them into pictures.

Nothing here imports ipywidgets; TensorFlow is reached through the model.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..methods.confusion import confusion_from_predictions

__all__ = ["Snapshot", "SnapshotPlan", "SnapshotRecorder"]


@dataclass(frozen=True)
class SnapshotPlan:
    """What to record and when.

    Attributes:
        first_epoch: Snapshots inside the first epoch (at 1/2, 1/4, 1/8 … of it).
        every_epoch: A snapshot at the end of every epoch.
        decode_layer: Layer whose decoded filters are recorded (None: skip).
        oip_layer, oip_map_index: The map whose OIP is grown (None: skip).
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
    oip_map_index: int = 0
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
                                 ("oip_map_index", self.oip_map_index, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer ≥ {low}; got {value!r}")
        if self.oip_layer is not None and self.oip_map_index >= model.layer(self.oip_layer).output_shape[-1]:
            raise ValueError(f"oip_map_index must be 0–{model.layer(self.oip_layer).output_shape[-1] - 1}")
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

    def replay(self) -> Any:
        """The snapshots so far as a :class:`~cnn_widgets.training.replay.Replay`."""
        from .replay import Replay

        return Replay(self.frames, self.model.class_names, self.plan)

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
        from ..methods.fcp import PatternSums

        return PatternSums().add(values[self.labels == label]).pattern(label, self.model.class_names[int(label)])

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
            from ..methods.oip import optimize

            oip = optimize(model, plan.oip_layer, [plan.oip_map_index], steps=plan.oip_steps,
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
