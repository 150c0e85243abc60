"""Session: the one object under every widget — model, live model, data, worker, status.

Every widget is a view over a :class:`Session`. The session owns

- the model (:class:`~cnn_widgets.CNNModel`) and the live model that follows the drawing;
- one data provider (:class:`DataProvider`): the images the views draw on, tried once,
  with one clear message when something is missing;
- one long-lived background worker (:class:`Worker`) for heavy jobs (class patterns,
  top images, decoding, OIPs, training), with progress and cancel, so the kernel stays
  free to answer strokes and clicks;
- one status channel (:attr:`Session.status`, plain text; views escape it once);
- :meth:`Session.close`, which stops the worker and detaches every observer that was
  registered through :meth:`Session.watch`.

Nothing here imports ipywidgets; TensorFlow is reached only through the model.

Example:
    >>> session = Session()                       # the embedded MNIST CNN and its test split
    >>> grid = MapGrid(session, "conv2")          # views share it
    >>> job = session.worker.submit(lambda job: heavy(job), name="FCP 4 vs 9")
    >>> session.close()
"""

from __future__ import annotations

import math
import os
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import traitlets

__all__ = ["Session", "Worker", "Job", "Cancelled", "DataProvider", "DataSet"]


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


@dataclass(frozen=True)
class DataSet:
    """Images with labels and where they come from.

    Attributes:
        images: uint8 ``(N, H, W)`` or ``(N, H, W, C)``, or floats in [0, 1].
        labels: Integer class labels, one per image.
        source: One line naming the data (shown by the views).
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def of_class(self, label: int) -> np.ndarray:
        """Indices of the images of class ``label``.

        Raises:
            TypeError: ``label`` is not a whole number (a class index).
        """
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
            raise TypeError(f"label must be a class index (a whole number); got {label!r}")
        return np.flatnonzero(self.labels == label)


class DataProvider:
    """The session's images: given ones, else the MNIST test split shipped in the package.

    The embedded split is offered to models that take 28×28 grey images and have ten
    classes; other models get data only when it is given. The provider is tried once;
    when it has nothing, :attr:`message` says why, in one line.

    Args:
        model: The session's model.
        data: ``(images, labels)`` or a :class:`DataSet` to use instead of the
            embedded split; ``False`` for none.
    """

    def __init__(self, model: Any, data: Any = None) -> None:
        self._model = model
        self._given = data
        self._test: DataSet | None = None
        self._tried = False
        self._lock = threading.Lock()
        self.message = ""

    @property
    def test_set(self) -> DataSet | None:
        """The test images the views draw on, or None (then :attr:`message` says why)."""
        with self._lock:
            if not self._tried:
                self._tried = True
                try:
                    self._test = self._load()
                except (OSError, ValueError, TypeError) as error:
                    self.message = f"no test images: {error}"
                if self._test is None and not self.message:
                    self.message = ("no test images for this model: give the session data=(images, labels) "
                                    "to see class patterns, samples and top images")
            return self._test

    @property
    def available(self) -> bool:
        """True when there are test images."""
        return self.test_set is not None

    def _load(self) -> DataSet | None:
        given = self._given
        if given is False:
            return None
        if isinstance(given, DataSet):
            return self._checked(given)
        if given is not None:
            try:
                images, labels = given
            except (TypeError, ValueError):
                raise TypeError("data must be (images, labels) or a DataSet; "
                                f"got {type(given).__name__}") from None
            return self._checked(DataSet(np.asarray(images), np.asarray(labels).reshape(-1),
                                         f"{len(np.asarray(labels).reshape(-1)):,} images given to the session"))
        if tuple(self._model.input_shape) == (28, 28, 1) and self._model.classes == 10:
            from ..data.mnist import MNIST_SOURCE, mnist_test_split

            images, labels = mnist_test_split()
            return DataSet(images, labels, MNIST_SOURCE)
        return None

    def _checked(self, data: DataSet) -> DataSet:
        if data.images.shape[0] != data.labels.shape[0]:
            raise ValueError(f"{data.images.shape[0]} images but {data.labels.shape[0]} labels")
        if data.images.shape[0] == 0:
            raise ValueError("the data set is empty")
        if not np.issubdtype(data.labels.dtype, np.integer):
            raise TypeError(f"labels must be integers; got {data.labels.dtype}")
        low, high = int(data.labels.min()), int(data.labels.max())
        if low < 0 or high >= self._model.classes:
            raise ValueError(f"labels must lie in 0..{self._model.classes - 1}; got {low}..{high}")
        self._model.prepare(data.images[:1])  # shape and range fit the model, or a clear error
        return data


class Session(traitlets.HasTraits):
    """The model, the live model, the data, one worker and one status line, shared by views.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`; default the embedded MNIST CNN.
        data: ``(images, labels)`` or a :class:`DataSet` for the views (class
            patterns, samples, top images); default the MNIST test split shipped in
            the package when the model takes 28×28 grey digits; ``False`` for none.
        live: An existing :class:`~cnn_widgets.session.live.LiveModel` to share (default: a new one).

    Attributes:
        model: The wrapped model.
        live: The live model that follows the drawing.
        data: The :class:`DataProvider`.
        worker: The :class:`Worker` for heavy jobs.
    """

    status = traitlets.Unicode("", help="one line: what the session is doing, or what went wrong")
    status_error = traitlets.Bool(False, help="True when status reports an error")
    closed = traitlets.Bool(False)

    def __init__(self, model: Any = None, *, data: Any = None, live: Any = None) -> None:
        super().__init__()
        from .live import LiveModel

        if live is not None and not isinstance(live, LiveModel):
            raise TypeError(f"live must be a LiveModel (or None for a new one); got {type(live).__name__}")
        if live is not None and model is not None and live.model is not model:
            raise ValueError("live is a LiveModel of another model; give the model it wraps, or no model")
        if model is None:
            model = live.model if live is not None else None
        if model is None:
            from ..model.wrapper import CNNModel

            model = CNNModel.default()
        _check_model(model)
        self.model = model
        self.live = live if live is not None else LiveModel(model)
        if getattr(self.live, "session", None) is None:
            self.live.session = self
        self.data = DataProvider(model, data)
        self.worker = Worker(on_change=self._job_changed)
        self._observers: list[tuple[Any, Callable[..., Any], Any, Any]] = []
        self._closers: list[Callable[[], Any]] = []

    # ------------------------------------------------------------------ views
    @classmethod
    def of(cls, source: Any = None) -> "Session":
        """The session behind ``source``: a session, a live model, a model, or None.

        A model or nothing gets a new session of its own; a live model gets the session
        it belongs to (or a new one around it).

        Raises:
            TypeError: ``source`` is none of those.
        """
        if isinstance(source, Session):
            if source.closed:
                raise ValueError("this session is closed; create a new Session()")
            return source
        if source is None:
            return cls()
        from .live import LiveModel

        if isinstance(source, LiveModel):
            return source.session if getattr(source, "session", None) is not None else cls(live=source)
        return cls(source)

    def watch(self, owner: Any, handler: Callable[..., Any], names: Any = traitlets.All, *,
              view: Any = None) -> None:
        """``owner.observe(handler, names)``, undone by :meth:`close` or ``unwatch(view)``.

        Views register their observers of shared objects (the live model, other
        views) here, so a closed view or session leaves nothing behind that still
        computes on every stroke.

        Args:
            owner: The object observed (e.g. the live model).
            handler: The observer.
            names: Trait names, as for ``observe``.
            view: The view the observer belongs to (for :meth:`unwatch`).
        """
        if not callable(getattr(owner, "observe", None)):
            raise TypeError(f"owner must have traits to observe (a HasTraits, e.g. a widget); got "
                            f"{type(owner).__name__}")
        if not callable(handler):
            raise TypeError(f"handler must be a function of a change; got {type(handler).__name__}")
        owner.observe(handler, names)
        self._observers.append((owner, handler, names, view))

    def unwatch(self, view: Any = None) -> None:
        """Detach the observers registered through :meth:`watch` for ``view`` (default: all)."""
        keep = []
        for owner, handler, names, owner_view in self._observers:
            if view is None or owner_view is view:
                try:
                    owner.unobserve(handler, names)
                except ValueError:
                    pass
            else:
                keep.append((owner, handler, names, owner_view))
        self._observers = keep

    def on_close(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` when the session closes (views close their own parts)."""
        self._closers.append(callback)

    # ------------------------------------------------------------------ status
    def say(self, message: str | None, error: bool = False) -> None:
        """Put one line in the status channel (plain text; views escape it); None clears it."""
        with self.hold_trait_notifications():
            self.status = "" if message is None else " ".join(str(message).split())
            self.status_error = bool(error)

    def _job_changed(self, job: Job) -> None:
        if job.quiet and job.state != "failed":
            return
        if job.state == "running":
            self.say(f"{job.name}: {job.message or 'working'}"
                     + (f" ({job.progress:.0%})" if job.progress else "") + " …")
        elif job.state == "failed" and job.on_error is None:
            self.say(f"{job.name} failed: {job.message}", error=True)
        elif job.state in ("done", "cancelled") and not self.worker.busy:
            self.say(f"{job.name}: {'done' if job.state == 'done' else 'cancelled'}")

    # ------------------------------------------------------------------ life
    def close(self) -> None:
        """Stop the worker, detach every registered observer, close the views' parts."""
        if self.closed:
            return
        self.worker.close()
        self.unwatch()
        for callback in reversed(self._closers):
            try:
                callback()
            except Exception:
                pass
        self._closers.clear()
        self.closed = True

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Session({self.model!r}, data={'yes' if self.data._test is not None else 'untried/none'})"


def _check_model(model: Any) -> None:
    needed = ("input_shape", "activations", "layers_table", "classes")
    if not all(hasattr(model, name) for name in needed):
        keras = sys.modules.get("keras")  # a Keras model exists only once Keras is imported: never import it here
        if keras is not None and isinstance(model, keras.Model):
            raise TypeError("give a CNNModel, not a bare Keras model: "
                            "Session(CNNModel(my_keras_model, mean=..., std=...))")
        raise TypeError(f"a session needs a CNNModel; got {type(model).__name__}")
