"""The live model: every layer's activations of the image in front of the network.

It is the one place where the live path computes: an image goes in, one compiled
forward pass gives every layer (``activations``) and the class probabilities, and
the views observing those traits repaint. Two ways in:

- :meth:`LiveModel.request` (what the pad and the views' clicks use): the image is
  made and computed on the live model's own latest-wins runner, never on the thread
  that asked (the comm thread stays free), newest request first, at most ``rate`` a
  second; requests that were overtaken are dropped;
- setting ``image`` (what code in a notebook cell does): computed at once, on the
  thread that set it.

Nothing here imports ipywidgets: only traitlets.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np
import traitlets

from ..render import image_png
from .worker import LatestWins

__all__ = ["LiveModel"]

Request = Callable[[], "tuple[np.ndarray, str]"]


class LiveModel(traitlets.HasTraits):
    """A model that follows an image: set ``image`` (or :meth:`request` one), read every
    layer's activations.

    Args:
        model: The wrapped model (:class:`cnn_widgets.CNNModel`).
        rate: Most forward passes a second for requests (a frame budget).

    Example:
        >>> live = LiveModel(CNNModel.default())
        >>> live.image = x_test[0] / 255          # computed now
        >>> live.activations["conv1"].shape
        (26, 26, 32)
    """

    image = traitlets.Instance(np.ndarray, allow_none=True, help="the image in front of the network, pixels in [0, 1]")
    source = traitlets.Unicode("", help="what the image is: '' for a blank input, 'your drawing', 'test image #12 "
                                        "(class 4)', …")
    activations = traitlets.Dict(help="layer name → activations of the image (no batch axis)")
    probabilities = traitlets.Instance(np.ndarray, allow_none=True, help="class probabilities of the image")
    error = traitlets.Unicode("", help="why the last image could not be used; empty when fine")
    updates = traitlets.Int(0, help="forward passes done so far (one per new image)")

    def __init__(self, model: Any, *, rate: float = 30.0, **kwargs: Any) -> None:
        if not all(hasattr(model, name) for name in ("input_shape", "activations", "layer_names")):
            raise TypeError(f"LiveModel wraps a CNNModel (cnn_widgets.CNNModel(keras_model)); got "
                            f"{type(model).__name__}")
        self.model = model
        self._lock = threading.Lock()
        self._png: tuple[int, bytes] | None = None
        self._portable: tuple[int, Any] | None = None
        self.runner: LatestWins[Request] = LatestWins(self._run, rate=rate, on_error=self._failed)
        super().__init__(**kwargs)
        if self.image is None:
            self.image = np.zeros(self._blank_shape(), np.float32)

    def _blank_shape(self) -> tuple[int, ...]:
        height, width, channels = self.model.input_shape
        if height is None or width is None:
            raise ValueError("LiveModel needs a model with a fixed input size")
        return (height, width) if channels == 1 else (height, width, channels)

    # ------------------------------------------------------------------ requests
    def request(self, make: Request) -> None:
        """Compute ``make()`` — ``(image, source)`` — on the runner, newest request first.

        ``make`` runs on the runner thread when the request's turn comes, so it sees
        the newest state (e.g. the drawing as it is then); a failure is shown in
        :attr:`error`. Returns at once.
        """
        if not callable(make):
            raise TypeError(f"make must be a function returning (image, source); got {type(make).__name__}")
        self.runner.submit(make)

    def show(self, image: np.ndarray, source: str = "") -> None:
        """:meth:`request` of a given image."""
        self.request(lambda: (image, source))

    def refresh(self) -> None:
        """Compute the current image again (e.g. after the model's weights changed)."""
        self.request(lambda: (self.image, self.source))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every request is computed; False on timeout."""
        return self.runner.wait(timeout)

    def close(self) -> None:
        """Stop the runner (requests after this are refused)."""
        self.runner.close()

    def _run(self, make: Request) -> None:
        image, source = make()
        with self.hold_trait_notifications():
            self.source = source
            self.image = image

    def _failed(self, error: BaseException, details: str) -> None:
        self.error = f"{type(error).__name__}: {error}" if not isinstance(error, (ValueError, TypeError)) \
            else str(error)

    # ------------------------------------------------------------------ computing
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
        with self.hold_trait_notifications():
            self.error = ""
            self.activations = outputs
            self.probabilities = probabilities
            self.updates += 1

    def portable(self) -> Any:
        """The model as the browser computes it (:class:`~cnn_widgets.model.portable.PortableSpec`),
        made once per model version.

        Raises:
            ValueError: (``NotPortable``) a layer the browser does not compute; one line naming it.
        """
        from ..model.portable import portable_spec  # TensorFlow's side: imported when first asked

        version = getattr(self.model, "version", 0)
        with self._lock:
            if self._portable is None or self._portable[0] != version:
                try:
                    self._portable = (version, portable_spec(self.model))
                except ValueError as error:
                    self._portable = (version, error)
            made = self._portable[1]
        if isinstance(made, BaseException):
            raise made
        return made

    def image_png(self) -> bytes:
        """The current image as a PNG, encoded once per update (every view that shows it shares it)."""
        with self._lock:
            if self._png is None or self._png[0] != self.updates:
                image = np.asarray(self.image, np.float32)
                grey = image if image.ndim == 2 else image[..., 0] if image.shape[-1] == 1 else image
                self._png = (self.updates, image_png(np.clip(grey, 0.0, 1.0)))
            return self._png[1]
