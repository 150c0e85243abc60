"""Training a CNNModel in place: the seeds' recipe, progress, pause, cancel, divergence caught."""

from __future__ import annotations

import datetime as _dt
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .backend import keras

__all__ = ["OPTIMIZERS", "Fitting", "TrainingProgress", "check_training_settings"]

#: The optimizers :meth:`Fitting.train` offers: name → the recipe in words.
OPTIMIZERS = {"sgd": "SGD with Nesterov momentum", "adam": "Adam (beta1 0.9, beta2 0.999)"}


@dataclass
class TrainingProgress:
    """What :meth:`CNNModel.train` reports to its ``progress`` hook.

    Attributes:
        epoch: Current epoch, counted from 1.
        epochs: Number of epochs asked for.
        step: Batches done in this epoch.
        steps: Batches per epoch.
        logs: Running loss/accuracy (and validation figures at an epoch's end).
        epoch_done: True on the call that closes a complete epoch (a cancelled
            epoch ends with a last report that has it False).
        elapsed: Seconds of training so far, time spent paused left out.
    """

    epoch: int
    epochs: int
    step: int
    steps: int
    logs: dict[str, float] = field(default_factory=dict)
    epoch_done: bool = False
    elapsed: float = 0.0

    @property
    def fraction(self) -> float:
        """Fraction of the whole run done, 0–1."""
        return min(1.0, ((self.epoch - 1) * self.steps + self.step) / max(self.epochs * self.steps, 1))



class Fitting:
    """:class:`~cnn_widgets.CNNModel`'s training: :meth:`train` and its checks."""

    def train(
        self,
        images: Any,
        labels: Any,
        *,
        epochs: int = 12,
        batch_size: int = 128,
        learning_rate: float = 0.05,
        lr_decay: float = 0.8,
        momentum: float = 0.9,
        l2: float = 5e-4,
        optimizer: str = "sgd",
        shift: int = 2,
        standardize: bool = False,
        seed: int = 0,
        validation: tuple[Any, Any] | None = None,
        progress: Callable[[TrainingProgress], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
    ) -> dict[str, list[float]]:
        """Train in place with the seeds' recipe: SGD with momentum, an LR schedule, L2 (or Adam,
        seed 003's optimizer: ``optimizer="adam"``, typically with ``learning_rate=0.001``).

        Args:
            images: Training images (any form :meth:`prepare` accepts).
            labels: Integer class labels, one per image.
            epochs: Passes over the data.
            batch_size: Images per SGD step.
            learning_rate: Initial learning rate.
            lr_decay: Factor applied to the learning rate after each epoch.
            momentum: SGD momentum (Nesterov); not used by Adam (its β1 = 0.9, β2 = 0.999).
            l2: L2 regularisation of every kernel, as decoupled weight decay
                (biases are not decayed; with Adam this makes it AdamW).
            optimizer: One of :data:`OPTIMIZERS`: ``"sgd"`` (Nesterov momentum) or ``"adam"``.
            shift: Random translation of each training image by up to this many
                pixels in each direction (0 turns augmentation off).
            standardize: Measure mean and std of ``images`` and use them from now
                on. Only for an untrained model: a trained one expects the
                standardisation it was trained with.
            seed: Seed of the shuffling and augmentation.
            validation: Optional ``(images, labels)`` evaluated after each epoch.
            progress: Called with a :class:`TrainingProgress` after each batch
                (on the training thread; a snapshot recorder can look at the
                weights there).
            cancel: Set this event to stop after the current batch.
            pause: While this event is set, training waits after the current
                batch (a set ``cancel`` ends the wait).

        Returns:
            The history: metric name → one value per finished epoch (also kept
            in ``metadata["history"]``).

        Raises:
            ValueError: A setting out of its range (the message names the range),
                or images and labels that do not fit the model or each other.
        """
        check_training_settings(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                 lr_decay=lr_decay, momentum=momentum, l2=l2, shift=shift, seed=seed)
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}")
        if not isinstance(standardize, (bool, np.bool_)):
            raise TypeError(f"standardize must be True or False; got {standardize!r}")
        if progress is not None and not callable(progress):
            raise TypeError(f"progress must be a function of a TrainingProgress (or None); got {type(progress).__name__}")
        for name, event in (("cancel", cancel), ("pause", pause)):
            if event is not None and not callable(getattr(event, "is_set", None)):
                raise TypeError(f"{name} must be a threading.Event (or None); got {type(event).__name__}")
        if validation is not None and (isinstance(validation, (str, bytes)) or not isinstance(
                validation, (tuple, list)) or len(validation) != 2):
            raise TypeError(f"validation must be a pair (images, labels) or None; got {type(validation).__name__}"
                            + (f" of {len(validation)}" if isinstance(validation, (tuple, list)) else ""))
        x = self.prepare(images)
        if x.shape[0] == 0:
            raise ValueError("no training images: give at least one image")
        if shift > min(x.shape[1:3]) // 2:
            raise ValueError(f"shift must be at most {min(x.shape[1:3]) // 2} pixels (half the image side); got {shift}")
        y = self._train_labels(labels, x.shape[0], "labels")
        if standardize:
            self.standardize_on(x)
        steps = int(np.ceil(x.shape[0] / batch_size))
        schedule = keras.optimizers.schedules.ExponentialDecay(
            learning_rate, decay_steps=steps, decay_rate=lr_decay, staircase=True
        )
        if optimizer == "adam":
            stepper = keras.optimizers.Adam(schedule, weight_decay=l2 or None)
        else:
            stepper = keras.optimizers.SGD(schedule, momentum=momentum, nesterov=True, weight_decay=l2)
        if l2:
            stepper.exclude_from_weight_decay(var_names=["bias"])
        self.keras_model.compile(
            optimizer=stepper, loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        background = self.standardize(np.zeros(x.shape[-1], np.float32))
        data = _ShiftedBatches(self.standardize(x), y, batch_size, shift, seed, background)
        val = None
        if validation is not None:
            val_x = self.prepare(validation[0])
            val = (self.standardize(val_x), self._train_labels(validation[1], val_x.shape[0], "validation labels"))
        callback = _ProgressCallback(epochs, steps, progress, cancel, pause)
        before = self.keras_model.get_weights()
        try:
            # shuffle=False: the batches are already shuffled, by the seed; Keras' own
            # shuffle of the batch order is unseeded and would make runs differ.
            history = self.keras_model.fit(
                data, epochs=epochs, validation_data=val, callbacks=[callback], verbose=0, shuffle=False
            )
            if callback.diverged is None and not self._answers_finitely(x[:16]):
                callback.diverged = (callback.epoch, callback.step)  # the last step's update overflowed
            if callback.diverged is not None:
                self.keras_model.set_weights(before)  # never leave a model that answers NaN
        finally:
            self.changed()  # new weights (also after a cancel): every cache is stale
        if callback.diverged is not None:
            epoch, step = callback.diverged
            raise ValueError(f"training diverged: the loss stopped being a finite number at epoch {epoch}, step "
                             f"{step}; the weights from before training are kept. Use a smaller learning_rate "
                             f"(got {learning_rate:g}) or l2 (got {l2:g})")
        self.metadata["training"] = {
            "recipe": OPTIMIZERS[optimizer] + ", exponential LR decay per epoch, L2 weight decay",
            "optimizer": optimizer,
            "epochs": epochs,
            "epochs_done": len(history.history.get("loss", [])),
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "lr_decay": lr_decay,
            "momentum": momentum,
            "l2": l2,
            "shift": shift,
            "seed": seed,
            "images": int(x.shape[0]),
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        result = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.metadata["history"] = {k: [round(v, 5) for v in vals] for k, vals in result.items()}
        return result


    def standardize_on(self, images: Any) -> None:
        """Measure the per-channel mean and std of ``images`` (pixel scale) and feed the
        network ``(pixels - mean) / std`` from now on (a new :attr:`version`). Only for an
        untrained model: a trained one expects the standardisation it was trained with."""
        x = images if isinstance(images, np.ndarray) and images.dtype == np.float32 and images.ndim == 4 \
            else self.prepare(images)
        self.mean = x.mean(axis=(0, 1, 2)).astype(np.float32)
        self.std = np.maximum(x.std(axis=(0, 1, 2)), 1e-6).astype(np.float32)
        self.changed()

    def _answers_finitely(self, batch: np.ndarray) -> bool:
        """Finite weights, and finite outputs on ``batch`` (pixels, not standardised)."""
        if not all(np.all(np.isfinite(w)) for w in self.keras_model.get_weights()):
            return False
        return bool(np.all(np.isfinite(np.asarray(self.keras_model(self.standardize(batch), training=False)))))


    def _train_labels(self, labels: Any, count: int, what: str) -> np.ndarray:
        """``labels`` as ``count`` integer classes of this model, or a ValueError/TypeError saying why not."""
        y = np.asarray(labels)
        if y.dtype == np.bool_ or not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"{what} must be integer class indices in 0..{self.classes - 1}; got {y.dtype}")
        y = y.reshape(-1)
        if y.shape[0] != count:
            raise ValueError(f"{count} images but {y.shape[0]} {what}")
        if y.size and (y.min() < 0 or y.max() >= self.classes):
            raise ValueError(f"{what} must be integers in 0..{self.classes - 1}; got {y.min()}..{y.max()}")
        return y



def check_training_settings(**settings: Any) -> None:
    """ValueError naming the allowed range for any setting of :meth:`CNNModel.train` outside it."""
    ranges = {
        "epochs": ("an integer ≥ 1", lambda v: v >= 1, True),
        "batch_size": ("an integer ≥ 1", lambda v: v >= 1, True),
        "shift": ("an integer ≥ 0 (pixels)", lambda v: v >= 0, True),
        "learning_rate": ("a number > 0", lambda v: v > 0, False),
        "lr_decay": ("a number in (0, 1]", lambda v: 0 < v <= 1, False),
        "momentum": ("a number in [0, 1)", lambda v: 0 <= v < 1, False),
        "l2": ("a number ≥ 0", lambda v: v >= 0, False),
        "seed": ("a whole number ≥ 0", lambda v: v >= 0, True),
    }
    for name, value in settings.items():
        allowed, ok, integral = ranges[name]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or (
                integral and not float(value).is_integer()):
            raise ValueError(f"{name} must be {allowed}; got {value!r}")
        if not np.isfinite(float(value)) or not ok(float(value)):
            raise ValueError(f"{name} must be {allowed}; got {value!r}")



class _ShiftedBatches(keras.utils.PyDataset):
    """Shuffled batches with random translations; the same seed gives the same batches."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, shift: int, seed: int,
                 background: np.ndarray) -> None:
        super().__init__()
        self.x, self.y = x, y
        self.batch_size, self.shift, self.seed = batch_size, shift, seed
        self.fill = background  # what a blank pixel looks like after standardisation
        self.epoch = 0
        self._order = np.random.default_rng([seed, 0]).permutation(len(x))

    def __len__(self) -> int:
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        picks = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x, y = self.x[picks], self.y[picks]
        if self.shift:
            x = self._translate(x, np.random.default_rng([self.seed, self.epoch, index]))
        return x, y

    def _translate(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        s = self.shift
        n, h, w, c = x.shape
        padded = np.empty((n, h + 2 * s, w + 2 * s, c), dtype=x.dtype)
        padded[...] = self.fill
        padded[:, s:s + h, s:s + w] = x
        dy, dx = rng.integers(0, 2 * s + 1, size=(2, n))
        rows = dy[:, None] + np.arange(h)[None, :]
        cols = dx[:, None] + np.arange(w)[None, :]
        return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))



class _ProgressCallback(keras.callbacks.Callback):
    """Reports after each batch, stops on ``cancel``, waits while ``pause`` is set."""

    def __init__(self, epochs: int, steps: int, progress: Callable[[TrainingProgress], None] | None,
                 cancel: threading.Event | None, pause: threading.Event | None = None) -> None:
        super().__init__()
        self.epochs, self.steps = epochs, steps
        self.progress, self.cancel, self.pause = progress, cancel, pause
        self.epoch = self.step = 0
        self._start = time.perf_counter()
        self._paused = 0.0
        self.diverged: tuple[int, int] | None = None  # (epoch, step) where the loss stopped being finite

    def _report(self, logs: dict | None, epoch_done: bool) -> None:
        if self.progress is not None:
            values = {k: float(v) for k, v in (logs or {}).items()}
            elapsed = time.perf_counter() - self._start - self._paused
            self.progress(TrainingProgress(self.epoch, self.epochs, self.step, self.steps, values,
                                           epoch_done, elapsed))

    def _stopped(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start, self._paused = time.perf_counter(), 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch, self.step = epoch + 1, 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.step = batch + 1
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged = (self.epoch, self.step)
            self.model.stop_training = True
            return
        self._report(logs, False)
        if self.pause is not None and self.pause.is_set() and not self._stopped():
            began = time.perf_counter()
            while self.pause.is_set() and not self._stopped():
                (self.cancel.wait if self.cancel is not None else time.sleep)(0.05)
            self._paused += time.perf_counter() - began
        if self._stopped():
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._report(logs, self.step == self.steps)

