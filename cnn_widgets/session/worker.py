"""Concurrency for the views: one worker for heavy jobs, latest-wins for the live path, a pause gate.

- :class:`Worker` runs heavy jobs (class patterns, decoding, OIPs, training) one
  after the other on one long-lived thread, with progress, cancel and keyed
  replacement, so the kernel stays free to answer strokes and clicks.
- :class:`LatestWins` runs only the newest of a stream of jobs (the drawing): while
  one runs, a newer submission replaces the waiting one, at most ``rate`` a second.
- :class:`PauseGate` lets training hold after its current batch while the user draws.

Nothing here imports ipywidgets or TensorFlow.
"""

from __future__ import annotations

import math
import os
import threading
import time
import traceback
from typing import Any, Callable, Generic, TypeVar

import numpy as np

__all__ = ["Cancelled", "Job", "LatestWins", "PauseGate", "Worker"]

T = TypeVar("T")
_NOTHING = object()


class Cancelled(Exception):
    """Raised inside a job (by :meth:`Job.report` or :meth:`Job.check`) once it is cancelled."""


class Job:
    """A handle on one piece of work given to a :class:`Worker`.

    The work function receives its job and may call :meth:`report` with its progress;
    that call raises :class:`Cancelled` once the job is cancelled, which ends the job.

    Attributes:
        name: What the job does, in words (shown in the status line).
        key: Jobs with the same key replace each other (``None``: never replaced).
        quiet: A job too small to be worth the status line (only its failure is told).
        state: ``"waiting"``, ``"running"``, ``"done"``, ``"failed"`` or ``"cancelled"``.
        progress: Fraction done, 0–1, as last reported.
        message: What the job last said it was doing.
        result: What the work function returned (when done).
        error: The exception it raised (when failed).
    """

    def __init__(self, work: Callable[["Job"], Any], name: str, key: Any,
                 on_done: Callable[[Any], Any] | None, on_error: Callable[[BaseException], Any] | None,
                 on_progress: Callable[["Job"], Any] | None, quiet: bool = False) -> None:
        self.work, self.name, self.key, self.quiet = work, name, key, quiet
        self.on_done, self.on_error, self.on_progress = on_done, on_error, on_progress
        self.state = "waiting"
        self.progress = 0.0
        self.message = ""
        self.result: Any = None
        self.error: BaseException | None = None
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._told: Callable[["Job"], Any] | None = None  # the worker's listener, set when queued

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    @property
    def finished(self) -> bool:
        """True once the job is done, failed or cancelled."""
        return self._finished.is_set()

    @property
    def cancel_event(self) -> threading.Event:
        """The event set by :meth:`cancel` (for APIs that take one, e.g. ``CNNModel.train``)."""
        return self._cancel

    def cancel(self) -> None:
        """Ask the job to stop: a waiting job never starts, a running one stops at its next report."""
        self._cancel.set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the job was cancelled."""
        if self._cancel.is_set():
            raise Cancelled(self.name)

    def report(self, progress: float | None = None, message: str | None = None) -> None:
        """Record progress (0–1) and what is being done; raises :class:`Cancelled` when cancelled."""
        self.check()
        if progress is not None:
            if isinstance(progress, bool) or not isinstance(progress, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(progress):
                raise ValueError(f"progress must be a number in [0, 1] (the fraction done); got {progress!r}")
            self.progress = min(max(float(progress), 0.0), 1.0)
        if message is not None:
            self.message = message
        if self.on_progress is not None:
            self.on_progress(self)
        if self._told is not None:
            self._told(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished; False on timeout."""
        return self._finished.wait(timeout)

    def __repr__(self) -> str:
        return f"Job({self.name!r}, {self.state}, {self.progress:.0%})"


class Worker:
    """One long-lived thread that runs heavy jobs one after the other.

    Jobs run in the order given. A job submitted with a ``key`` replaces a waiting job
    with the same key and cancels a running one (the newest settings win), so a user
    flicking through a picker starts one computation, not ten.

    Args:
        name: The thread's name.
        on_change: Called with a job whenever it starts, reports or ends (the
            session turns this into its status line). Runs on the worker thread.

    Attributes:
        done: Jobs that ran to their end (done, failed or cancelled while running).
    """

    def __init__(self, name: str = "cnn-widgets-worker",
                 on_change: Callable[[Job], Any] | None = None) -> None:
        if on_change is not None and not callable(on_change):
            raise TypeError(f"on_change must be a function of a Job (or None); got {type(on_change).__name__}")
        self._name = name
        self._on_change = on_change
        self._queue: list[Job] = []
        self._current: Job | None = None
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.done = 0

    def submit(self, work: Callable[[Job], Any], *, name: str, key: Any = None,
               on_done: Callable[[Any], Any] | None = None,
               on_error: Callable[[BaseException], Any] | None = None,
               on_progress: Callable[[Job], Any] | None = None, quiet: bool = False) -> Job:
        """Queue ``work(job)`` and return its :class:`Job`.

        Args:
            work: Called on the worker thread with the job; its return value is the result.
            name: What it does, in words.
            key: Replace the waiting (and cancel the running) job with this key.
            on_done: Called with the result, on the worker thread.
            on_error: Called with the exception, on the worker thread; without it the
                error goes to the worker's ``on_change`` listener as a failed job.
            on_progress: Called with the job at each :meth:`Job.report`.
            quiet: Keep the job out of the status line unless it fails (e.g. a
                computation that follows every stroke).

        Raises:
            TypeError: ``work`` or a callback is not callable, or ``name`` is not a string.
            RuntimeError: The worker is closed.
        """
        if not callable(work):
            raise TypeError(f"work must be a function taking the job; got {type(work).__name__}")
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"name must be a non-empty string saying what the job does; got {name!r}")
        for what, callback in (("on_done", on_done), ("on_error", on_error), ("on_progress", on_progress)):
            if callback is not None and not callable(callback):
                raise TypeError(f"{what} must be a function or None; got {type(callback).__name__}")
        job = Job(work, name, key, on_done, on_error, on_progress, bool(quiet))
        job._told = self._notify
        with self._condition:
            if self._closed:
                raise RuntimeError("this session is closed; create a new one")
            if key is not None:
                for old in [j for j in self._queue if j.key == key]:
                    self._queue.remove(old)
                    self._end(old, "cancelled")
                if self._current is not None and self._current.key == key:
                    self._current.cancel()
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._condition.notify_all()
        return job

    def cancel(self, key: Any = None) -> None:
        """Cancel the jobs with ``key`` (waiting and running); every job when ``key`` is None."""
        with self._condition:
            jobs = list(self._queue) + ([self._current] if self._current is not None else [])
        for job in jobs:
            if key is None or job.key == key:
                job.cancel()

    @property
    def busy(self) -> bool:
        """True while a job waits or runs."""
        with self._condition:
            return bool(self._queue) or self._current is not None

    @property
    def waiting(self) -> int:
        """Jobs queued behind the running one."""
        with self._condition:
            return len(self._queue)

    @property
    def current(self) -> Job | None:
        """The running job, if any."""
        return self._current

    @property
    def alive(self) -> bool:
        """True while the worker thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job waits or runs; False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._queue and self._current is None, timeout)

    def close(self, timeout: float | None = 5.0) -> None:
        """Cancel every job and end the thread (waits up to ``timeout`` s for a running job)."""
        with self._condition:
            self._closed = True
            waiting, self._queue = self._queue, []
            if self._current is not None:
                self._current.cancel()
            self._condition.notify_all()
        for job in waiting:
            job.cancel()
            self._end(job, "cancelled")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._queue or self._closed)
                if self._closed:
                    return
                job = self._current = self._queue.pop(0)
            try:
                self._run(job)
            finally:
                with self._condition:
                    self._current = None
                    self.done += 1
                    self._condition.notify_all()

    def _run(self, job: Job) -> None:
        if job.cancelled:
            self._end(job, "cancelled")
            return
        job.state = "running"
        self._notify(job)
        try:
            job.result = job.work(job)
            job.check()  # a job cancelled on its last step has not delivered
        except Cancelled:
            self._end(job, "cancelled")
            return
        except Exception as error:  # the worker outlives any job
            job.error = error
            job.message = f"{type(error).__name__}: {error}"
            handler = job.on_error
            self._end(job, "failed")
            if handler is not None:
                self._call(handler, error)
            else:
                traceback.print_exception(error) if os.environ.get("CNN_WIDGETS_DEBUG") else None
            return
        job.progress = 1.0
        if job.on_done is not None:
            self._call(job.on_done, job.result)
        self._end(job, "done")

    def _call(self, function: Callable[[Any], Any], value: Any) -> None:
        try:
            function(value)
        except Exception as error:  # a failing view must not stop the worker
            job = Job(lambda _: None, f"{getattr(function, '__qualname__', 'callback')}", None,
                      None, None, None)
            job.error, job.message = error, f"{type(error).__name__}: {error}"
            self._end(job, "failed")

    def _end(self, job: Job, state: str) -> None:
        job.state = state
        job._finished.set()
        self._notify(job)

    def _notify(self, job: Job) -> None:
        if self._on_change is not None:
            try:
                self._on_change(job)
            except Exception:  # the status line is never worth a dead worker
                pass


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
    def rate(self) -> float:
        """Most job starts per second (0: no cap)."""
        return 1.0 / self._interval if self._interval else 0.0

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
        with self._condition:
            return self._condition.wait_for(lambda: not self.busy, timeout)

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

