"""Session: the one object under every widget — model, live model, data, worker, status.

Every widget is a view over a :class:`Session`. The session owns

- the model (:class:`~cnn_widgets.CNNModel`), and ``model_version``, which every view
  follows (a retrained model is shown again, or the view says it is stale);
- the drawing (:class:`~cnn_widgets.drawing.drawing.Drawing`) for models that take grey
  images: the pads show it, and every change goes to
- the live model (:class:`~cnn_widgets.session.live.LiveModel`): the one place where the
  image in front of the network is computed, once per change, off the comm thread;
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

import sys
import time
from typing import Any, Callable

import numpy as np
import traitlets

from ..data.provider import DataProvider
from ..drawing.drawing import Drawing
from .worker import Job, Worker

__all__ = ["Session"]


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
        live: The live model: the image in front of the network and every layer's activations.
        drawing: What is drawn on the session's pads (None for a model that does not take
            grey images of a fixed size).
        data: The :class:`DataProvider`.
        worker: The :class:`Worker` for heavy jobs.
    """

    status = traitlets.Unicode("", help="one line: what the session is doing, or what went wrong")
    status_error = traitlets.Bool(False, help="True when status reports an error")
    model_version = traitlets.Int(0, help="the model's version: changes when its weights or standardisation "
                                          "change (training); views follow it")
    closed = traitlets.Bool(False, help="True once close() ran")

    #: Shortest time between two progress lines of a running job, seconds.
    PROGRESS_EVERY_S = 0.1

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
            from ..model import CNNModel

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
        self._last_progress = 0.0
        height, width, channels = model.input_shape
        self.drawing: Drawing | None = None
        if channels == 1 and height is not None and width is not None:
            self.drawing = Drawing(image_shape=(height, width))
            self.drawing.on_change(self._drawing_changed)
        self.model_version = model.version
        model.on_change(self._model_changed)

    # ------------------------------------------------------------------ the live path
    def _drawing_changed(self, what: str) -> None:
        """Every change of the drawing: one request to the live model (newest wins)."""
        self.live.request(self.drawing.image)

    def show_test_image(self, index: Any) -> str:
        """Put test image ``index`` in front of the network, as it is: on the drawing (the
        pads show it) or, for a model without one, straight to the live model. One
        request to the live model, computed off the calling thread.

        Returns:
            What it is, e.g. ``"test image #12 (class 4)"``.

        Raises:
            TypeError: ``index`` is not a whole number.
            ValueError: No test images, or no image ``index`` (the message says why).
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be a whole number; got {index!r}")
        data = self.data.test_set
        if data is None:
            raise ValueError(self.data.message or "no test images")
        if not 0 <= index < len(data):
            raise ValueError(f"no test image #{index}: the test set has images 0–{len(data) - 1}")
        label = int(data.labels[index])
        name = self.model.class_names[label] if 0 <= label < self.model.classes else str(label)
        source = f"test image #{int(index)} (class {name})"
        if self.drawing is not None:
            self.drawing.load_image(data.images[int(index)], source)
        else:
            image = self.model.prepare(data.images[int(index)])[0]
            self.live.show(image[..., 0] if image.shape[-1] == 1 else image, source)
        return source

    def _model_changed(self, version: int) -> None:
        self.model_version = version
        self.live.refresh()

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
            now = time.monotonic()
            if job.progress and now - self._last_progress < self.PROGRESS_EVERY_S:
                return  # a progress line ~10 times a second, not one per report
            self._last_progress = now
            self.say(f"{job.name}: {job.message or 'working'}"
                     + (f" ({job.progress:.0%})" if job.progress else "") + " …")
        elif job.state == "failed" and job.on_error is None:
            self.say(f"{job.name} failed: {job.message}", error=True)
        elif job.state == "failed" and not self.worker.waiting:  # its view shows the error; no "working" left
            self.say(f"{job.name}: not done (its panel says why)")
        elif job.state in ("done", "cancelled") and not self.worker.waiting:  # the last job told its end
            self.say(f"{job.name}: {'done' if job.state == 'done' else 'cancelled'}")

    # ------------------------------------------------------------------ life
    def close(self) -> None:
        """Stop the worker, detach every registered observer, close the views' parts."""
        if self.closed:
            return
        self.model.on_change(self._model_changed, remove=True)
        if self.drawing is not None:
            self.drawing.on_change(self._drawing_changed, remove=True)
        self.worker.close()
        if getattr(self.live, "session", None) is self:
            self.live.close()
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

