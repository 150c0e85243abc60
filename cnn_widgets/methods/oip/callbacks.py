"""What an OIP run tells while it runs: :class:`OIPCallback` and three reusable ones.

A run calls, in this order: ``on_begin`` once; ``on_step`` after every step (the
objectives only: no image leaves the compiled loop for it); ``on_preview`` with the
images when the callback's ``wants_preview`` said yes at the end of a stretch of
steps; and ``on_end`` once, always: after the last step, after a cancel, and after
an error (then with ``None``), from a ``finally``.

- :class:`ProgressBar` prints a progress bar (the command line);
- :class:`ReportProgress` hands the fraction done to a function, a few times a second
  (a worker job's ``report``);
- :class:`ThrottledPreview` hands the images to a drawing function at most
  ``per_second`` times a second (a live picture).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ...checks import finite_number

if TYPE_CHECKING:  # pragma: no cover
    from .results import OIPResult

__all__ = ["OIPCallback", "ProgressBar", "ReportProgress", "ThrottledPreview"]


class OIPCallback:
    """Base class of what an OIP run reports; every hook does nothing unless overridden."""

    def on_begin(self, maps: np.ndarray, steps: int) -> None:
        """Before the first step: the map of each image and the steps asked for."""

    def on_step(self, step: int, objectives: np.ndarray) -> None:
        """After ``step`` steps (1…steps): each image's objective when that step began."""

    def wants_preview(self, step: int) -> bool:
        """Asked after a stretch of steps: should :meth:`on_preview` get the images now?
        (Copying the images out of the compiled loop costs time: say yes only to draw.)"""
        return False

    def on_preview(self, step: int, images: np.ndarray) -> None:
        """The images after ``step`` steps, ``(n, H, W, C)`` in the pixel range [0, 1]."""

    def on_end(self, result: "OIPResult | None") -> None:
        """After the last step or a cancel (the result), or after an error (None). Always called."""


def as_callbacks(callbacks: Any) -> list[OIPCallback]:
    """``callbacks`` (one, a list, or None) as a list of :class:`OIPCallback`."""
    if callbacks is None:
        return []
    listed = list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
    for callback in listed:
        if not isinstance(callback, OIPCallback):
            raise TypeError(f"callbacks must be OIPCallback objects (or a list of them); got "
                            f"{type(callback).__name__}")
    return listed


class Callbacks:
    """Several callbacks told as one (the run's side)."""

    def __init__(self, callbacks: Sequence[OIPCallback]) -> None:
        self.callbacks = list(callbacks)

    def begin(self, maps: np.ndarray, steps: int) -> None:
        for callback in self.callbacks:
            callback.on_begin(maps.copy(), steps)

    def steps(self, first: int, rows: Sequence[np.ndarray]) -> None:
        """``rows[k]``: the objectives when step ``first + k`` began."""
        for offset, row in enumerate(rows):
            for callback in self.callbacks:
                callback.on_step(first + offset, row)

    def wanting_preview(self, step: int) -> list[OIPCallback]:
        return [callback for callback in self.callbacks if callback.wants_preview(step)]

    def end(self, result: "OIPResult | None") -> None:
        """Every ``on_end``, even when one of them fails (the first failure is raised after)."""
        failure: BaseException | None = None
        for callback in self.callbacks:
            try:
                callback.on_end(result)
            except Exception as error:  # noqa: BLE001 - the others are still told
                failure = failure or error
        if failure is not None:
            raise failure


class ProgressBar(OIPCallback):
    """A progress bar on the command line with the mean objective (Keras' Progbar)."""

    def __init__(self) -> None:
        self.bar: Any = None

    def on_begin(self, maps: np.ndarray, steps: int) -> None:
        from ...model.backend import keras

        self.bar = keras.utils.Progbar(steps, stateful_metrics=["objective"])

    def on_step(self, step: int, objectives: np.ndarray) -> None:
        self.bar.update(step, values=[("objective", float(objectives.mean()))])


class _Throttle:
    """At most ``per_second`` events a second, timed by ``clock`` (seconds)."""

    def __init__(self, per_second: Any, clock: Callable[[], float]) -> None:
        self.interval = 1.0 / finite_number(per_second, "per_second", 0.0, above=True)
        if not callable(clock):
            raise TypeError(f"clock must be a function giving seconds; got {type(clock).__name__}")
        self.clock = clock
        self.last: float | None = None

    def due(self) -> bool:
        return self.last is None or self.clock() - self.last >= self.interval

    def mark(self) -> None:
        self.last = self.clock()


class ReportProgress(OIPCallback):
    """Hands ``report(fraction done, message)`` the progress: the first and the last step,
    and in between at most ``per_second`` times a second.

    Args:
        report: E.g. a worker job's ``report`` (a function of a fraction 0–1 and a message).
        per_second: Most reports a second.
        clock: Seconds (tests give their own).
    """

    def __init__(self, report: Callable[[float, str], Any], per_second: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not callable(report):
            raise TypeError(f"report must be a function of (fraction, message); got {type(report).__name__}")
        self.report = report
        self.throttle = _Throttle(per_second, clock)
        self.steps = 1

    def on_begin(self, maps: np.ndarray, steps: int) -> None:
        self.steps = steps
        self.throttle.last = None

    def on_step(self, step: int, objectives: np.ndarray) -> None:
        if step == self.steps or self.throttle.due():
            self.throttle.mark()
            self.report(step / self.steps, f"step {step} of {self.steps}")


class ThrottledPreview(OIPCallback):
    """Hands ``draw(step, images)`` the images at most ``per_second`` times a second, and
    so that drawing takes at most ``share`` of the run's time.

    The time to the next preview is counted from the end of the last drawing: at least
    ``1 / per_second``, and at least as long as that drawing took × ``(1 - share) / share``
    (a slow picture of many maps is drawn less often than a quick one of one map).

    Args:
        draw: A function of the step and the images ``(n, H, W, C)`` in [0, 1].
        per_second: Most previews a second.
        share: Most of the run's time spent drawing, in (0, 1] (1: no limit but ``per_second``).
        clock: Seconds (tests give their own).
    """

    def __init__(self, draw: Callable[[int, np.ndarray], Any], per_second: float = 10.0, share: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not callable(draw):
            raise TypeError(f"draw must be a function of (step, images); got {type(draw).__name__}")
        self.draw = draw
        self.throttle = _Throttle(per_second, clock)
        self.share = finite_number(share, "share", 0.0, 1.0, above=True)
        self.pause = self.throttle.interval
        self.drawn = 0

    def on_begin(self, maps: np.ndarray, steps: int) -> None:
        self.throttle.last = None  # the first stretch of a run is always shown
        self.pause = self.throttle.interval

    def wants_preview(self, step: int) -> bool:
        return self.throttle.last is None or self.throttle.clock() - self.throttle.last >= self.pause

    def on_preview(self, step: int, images: np.ndarray) -> None:
        start = self.throttle.clock()
        self.draw(step, images)
        self.drawn += 1
        self.throttle.mark()
        took = self.throttle.last - start
        self.pause = max(self.throttle.interval, took * (1.0 - self.share) / self.share)
