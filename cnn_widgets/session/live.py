"""The live model: every layer's activations of the image in front of the network.

Nothing here imports ipywidgets: only traitlets.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import traitlets

__all__ = ["LiveModel"]


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

