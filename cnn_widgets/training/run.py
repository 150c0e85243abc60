"""Training with snapshots: :func:`train_with_snapshots` and what it returns."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from ..data.training import TrainingData
from .replay import Replay
from .snapshots import Snapshot, SnapshotPlan, SnapshotRecorder

__all__ = ["TrainingRun", "train_with_snapshots"]


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
        progress: Also called with every :class:`~cnn_widgets.model.TrainingProgress`.
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
    from ..model.fitting import check_training_settings

    checked = {k: v for k, v in settings.items()
               if k in ("epochs", "batch_size", "learning_rate", "lr_decay", "momentum", "l2", "shift")}
    check_training_settings(**checked)  # before any weight is touched
    began = time.perf_counter()
    if fresh is not None:
        from ..model.zoo import reinitialize  # TensorFlow: only when it is used

        reinitialize(model, fresh)
    if settings.pop("standardize", False):
        # measured here, not inside train(): the first snapshot must see the
        # standardisation the run trains with, and the compiled helpers stay valid
        model.standardize_on(data.images)
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
    replay = recorder.replay() if recorder is not None else Replay([], model.class_names, plan)
    return TrainingRun(history=history, replay=replay, data=data, settings=dict(settings, fresh=fresh),
                       cancelled=cancelled, seconds=time.perf_counter() - began,
                       snapshot_seconds=recorder.seconds if recorder is not None else 0.0,
                       batches=seen["batches"])

