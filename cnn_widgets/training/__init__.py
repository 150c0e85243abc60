"""Watching a network learn: snapshots while it trains (:mod:`.snapshots`), their
replay as pictures and GIFs (:mod:`.replay`), and :func:`train_with_snapshots`
(:mod:`.run`). The data a run trains on is chosen in :mod:`cnn_widgets.data.training`."""

from .replay import KINDS, Replay
from .run import TrainingRun, train_with_snapshots
from .snapshots import Snapshot, SnapshotPlan, SnapshotRecorder

__all__ = ["KINDS", "Replay", "Snapshot", "SnapshotPlan", "SnapshotRecorder", "TrainingRun",
           "train_with_snapshots"]
