"""The live path: a latest-wins worker and a model that follows an image.

Pointer events arrive one message per ``mousemove``, unthrottled. They must never
wait on inference, and inference must never fall behind them. :class:`LatestWins`
runs jobs on one worker thread: while a job runs, newer submissions replace the
pending one (so at most one waits and at most one runs), and jobs start at most
``rate`` times per second. :class:`LiveModel` turns an image into every layer's
activations with one compiled call; views observe its traits.

Nothing here imports ipywidgets: only traitlets.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable, Generic, TypeVar

import numpy as np
import traitlets

__all__ = ["LatestWins", "LiveModel"]

T = TypeVar("T")
_NOTHING = object()


class LatestWins(Generic[T]):
    """Run the newest submitted job on a worker thread; drop the ones it replaced.

    Args:
        work: Called with a submitted job, on the worker thread.
        rate: Most job starts per second (frame budget); ``None`` for no cap.
        on_error: Called with the exception (and its traceback text) when
            ``work`` raises; the worker carries on with the next job.

    Attributes:
        submitted: Jobs submitted so far.
        done: Jobs run to completion (or to an error).
        dropped: Jobs replaced before they started.
    """

    def __init__(self, work: Callable[[T], Any], *, rate: float | None = 30.0,
                 on_error: Callable[[BaseException, str], Any] | None = None) -> None:
        if not callable(work):
            raise TypeError(f"work must be callable; got {type(work).__name__}")
        if rate is not None:
            if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
                raise TypeError(f"rate must be a number of job starts per second or None; got {rate!r}")
            if not np.isfinite(rate) or rate < 0:
                raise ValueError(f"rate must be a finite number ≥ 0 (0 or None: no cap); got {rate}")
        self._work = work
        self._interval = 0.0 if not rate else 1.0 / rate
        self._on_error = on_error
        self._condition = threading.Condition()
        self._pending: Any = _NOTHING
        self._running = False
        self._closed = False
        self._last_start = float("-inf")
        self._thread: threading.Thread | None = None
        self.submitted = self.done = self.dropped = 0

    def submit(self, job: T) -> None:
        """Queue ``job``, replacing any job that has not started yet."""
        with self._condition:
            if self._closed:
                raise RuntimeError("this LatestWins worker is closed")
            if self._pending is not _NOTHING:
                self.dropped += 1
            self._pending = job
            self.submitted += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="cnn-widgets-live", daemon=True)
                self._thread.start()
            self._condition.notify_all()

    @property
    def pending(self) -> bool:
        """True while a job waits to start."""
        return self._pending is not _NOTHING

    @property
    def busy(self) -> bool:
        """True while a job waits or runs."""
        return self._pending is not _NOTHING or self._running

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing waits or runs; returns False on timeout."""
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout == timeout):
            raise ValueError(f"timeout must be a number of seconds or None; got {timeout!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while self.busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._condition.wait(remaining)
        return True

    def close(self) -> None:
        """Stop the worker after the job it is running; pending work is dropped."""
        with self._condition:
            self._closed = True
            self._pending = _NOTHING
            self._condition.notify_all()

    def _loop(self) -> None:
        while True:
            with self._condition:
                while True:
                    if self._closed:
                        return
                    if self._pending is not _NOTHING:
                        wait = self._last_start + self._interval - time.monotonic()
                        if wait <= 0:
                            break
                        self._condition.wait(wait)  # frame budget: newer jobs may arrive
                    else:
                        self._condition.wait()
                job, self._pending = self._pending, _NOTHING
                self._running = True
                self._last_start = time.monotonic()
            try:
                self._work(job)
            except Exception as error:  # the worker must survive a failing job
                if self._on_error is not None:
                    self._on_error(error, traceback.format_exc())
            finally:
                with self._condition:
                    self._running = False
                    self.done += 1
                    self._condition.notify_all()


class LiveModel(traitlets.HasTraits):
    """A model that follows an image: set ``image``, read every layer's activations.

    Setting ``image`` runs one compiled forward pass (all layers at once) in the
    thread that set it and then updates ``activations`` and ``probabilities``.
    Link a drawing pad's ``image`` to it and point views at it.

    Args:
        model: The wrapped model (:class:`cnn_widgets.CNNModel`).

    Example:
        >>> live = LiveModel(CNNModel.default())
        >>> traitlets.dlink((pad, "image"), (live, "image"))
    """

    image = traitlets.Instance(np.ndarray, allow_none=True, help="the image, pixels in [0, 1]")
    activations = traitlets.Dict(help="layer name → activations of the image (no batch axis)")
    probabilities = traitlets.Instance(np.ndarray, allow_none=True, help="class probabilities")
    error = traitlets.Unicode("", help="why the last image could not be used; empty when fine")

    def __init__(self, model: Any, **kwargs: Any) -> None:
        if not all(hasattr(model, name) for name in ("input_shape", "activations", "layer_names")):
            raise TypeError(f"LiveModel wraps a CNNModel (cnn_widgets.CNNModel(keras_model)); got "
                            f"{type(model).__name__}")
        self.model = model
        self._lock = threading.Lock()
        super().__init__(**kwargs)
        if self.image is None:
            self.image = np.zeros(self._blank_shape(), np.float32)

    def _blank_shape(self) -> tuple[int, ...]:
        height, width, channels = self.model.input_shape
        if height is None or width is None:
            raise ValueError("LiveModel needs a model with a fixed input size")
        return (height, width) if channels == 1 else (height, width, channels)

    @traitlets.observe("image")
    def _forward(self, change: dict[str, Any]) -> None:
        image = change["new"]
        if image is None:
            return
        try:
            with self._lock:
                values = self.model.activations(image)
        except (ValueError, TypeError) as error:
            self.error = str(error)
            return
        output = self.model.layer_names[-1]
        outputs = {name: value[0] for name, value in values.items()}
        probabilities = self.model.to_probabilities(outputs[output])
        self.error = ""
        with self.hold_trait_notifications():
            self.activations = outputs
            self.probabilities = probabilities
