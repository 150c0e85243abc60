"""CNNModel: the one TensorFlow/Keras model wrapper every widget and the CLI drive.

It takes images in raw pixel scale (floats in [0, 1], or uint8 0–255), applies the
standardisation the model was trained with, and answers with class probabilities
(:meth:`CNNModel.predict`) or with the activations of any set of layers from one
compiled call (:meth:`CNNModel.activations`). Its file side lives in
:mod:`.persistence`, its training in :mod:`.fitting`, its logit gradients in
:mod:`.gradients`.

Example:
    >>> from cnn_widgets import CNNModel
    >>> model = CNNModel.default()                 # the embedded MNIST CNN
    >>> maps = model.activations(image)            # every layer, one call
    >>> maps["conv3"].shape
    (1, 3, 3, 128)
    >>> mine = CNNModel(my_keras_model, mean=0.5, std=0.25)
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .backend import CONV_TYPES, keras, tf
from .fitting import Fitting
from .gradients import Gradients
from .graph import usable_graph
from .inputs import as_channel_vector, check_batch_size, class_names_for, padded, prepare_images
from .layers import LayerInfo, describe_layers, layer_parameters
from .persistence import Persistence

__all__ = ["CNNModel", "XLA_MAX_BATCH"]

#: Largest batch sent through XLA (when ``jit_compile``); larger ones use graph mode.
XLA_MAX_BATCH = 32


class CNNModel(Persistence, Fitting, Gradients):
    """A Keras CNN, its standardisation and one compiled call for all its layers.

    Args:
        keras_model: A built ``keras.Model`` (Sequential or functional) with one
            image input ``(height, width, channels)``, channels last, and at least
            one 2-D convolution.
        mean: Standardisation mean in pixel scale [0, 1]: one number or one per
            channel. The wrapper feeds the network ``(pixels - mean) / std``.
        std: Standardisation spread, same form as ``mean``; must be > 0.
        class_names: A name per output class; default ``"0", "1", …``.
        metadata: Free-form facts about the model (data set, accuracy, training).
        jit_compile: Compile the forward call of small batches (up to
            ``XLA_MAX_BATCH`` images) with XLA: on a CPU about 2.4× faster for one
            image than plain graph mode (0.8 against 1.9 ms), but each new batch
            size (rounded up to a power of two) costs one compilation (~0.5 s) and
            the first one ~75 MB of kernel memory. Off by default: a Binder pod
            has 1–2 GB, and 1.9 ms is far inside a stroke's frame budget.

    Raises:
        TypeError: ``keras_model`` is not a Keras model.
        ValueError: The model has no 2-D convolution, is not built, or takes an
            input that is not one image tensor.
    """

    def __init__(
        self,
        keras_model: keras.Model,
        *,
        mean: float | Sequence[float] = 0.0,
        std: float | Sequence[float] = 1.0,
        class_names: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        jit_compile: bool = False,
    ) -> None:
        if not isinstance(keras_model, keras.Model):
            raise TypeError(
                f"CNNModel wraps a keras.Model (Sequential or functional); got {type(keras_model).__name__}"
            )
        try:
            inputs = keras_model.inputs
        except (AttributeError, ValueError):
            inputs = None
        if not inputs:
            raise ValueError(
                "the Keras model is not built: give it a keras.Input(shape=(H, W, C)) "
                "or call model.build((None, H, W, C)) first"
            )
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            shapes = [tuple(t.shape) for t in inputs]
            raise ValueError(
                "CNNModel needs a model with one image input of shape (batch, height, width, "
                f"channels); got inputs {shapes}"
            )
        #: What was changed to make the model usable (sub-models opened, layers renamed), one line each.
        keras_model, self.graph_notes = usable_graph(keras_model)
        inputs = keras_model.inputs
        convs = [layer for layer in keras_model.layers if isinstance(layer, CONV_TYPES)]
        if not convs:
            kinds = ", ".join(type(layer).__name__ for layer in keras_model.layers)
            raise ValueError(
                "CNNModel needs a model with at least one 2-D convolution layer "
                f"(Conv2D, SeparableConv2D or DepthwiseConv2D); this one has: {kinds}"
            )
        if any(getattr(layer, "data_format", "channels_last") != "channels_last" for layer in convs):
            raise ValueError("only channels_last models are supported (images shaped H, W, C)")

        self.keras_model = keras_model
        self.input_shape: tuple[int | None, int | None, int] = tuple(inputs[0].shape[1:])  # type: ignore[assignment]
        channels = self.input_shape[2]
        if channels is None:
            raise ValueError("the model's input must declare its number of channels")
        self.mean = as_channel_vector(mean, channels, "mean")
        self.std = as_channel_vector(std, channels, "std")
        if np.any(self.std <= 0):
            raise ValueError(f"std must be > 0; got {self.std.tolist()}")
        if not isinstance(jit_compile, (bool, np.bool_)):
            raise TypeError(f"jit_compile must be True or False; got {jit_compile!r}")
        self.jit_compile = bool(jit_compile)
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict; got {type(metadata).__name__}")
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._layers = describe_layers(keras_model)
        self._by_name = {row.name: row for row in self._layers}
        classes = int(keras_model.outputs[0].shape[-1])
        self.class_names: list[str] = class_names_for(class_names, classes)
        self._outputs_probabilities = self._ends_in_softmax()
        self._calls: dict[tuple[tuple[str, ...], bool], Any] = {}
        self._calls_lock = threading.RLock()
        self._helpers: dict[Any, Any] = {}
        self._listeners: list[Callable[[int], Any]] = []
        #: Bumped whenever weights or standardisation change (:meth:`train`,
        #: :meth:`changed`); every cache of a computed result is keyed on it.
        self.version = 0

    # ------------------------------------------------------------------ describing
    def layers_table(self) -> list[LayerInfo]:
        """Ordered rows: name, kind, output shape, parameters, receptive field."""
        return list(self._layers)

    @property
    def layer_names(self) -> list[str]:
        """All layer names, input layer excluded, in order."""
        return [row.name for row in self._layers]

    def layer(self, name: str) -> LayerInfo:
        """The table row of one layer.

        Raises:
            ValueError: Unknown layer name (the message lists the valid ones).
        """
        try:
            return self._by_name[name]
        except (KeyError, TypeError):
            raise ValueError(
                f"unknown layer {name!r}; this model's layers are: {', '.join(self.layer_names)}"
            ) from None

    def spatial_layer(self, name: str, purpose: str = "") -> LayerInfo:
        """The table row of a layer with maps (conv, pooling, …).

        Args:
            name: The layer.
            purpose: What the maps are wanted for, e.g. ``"to decode"`` (said in the error).

        Raises:
            ValueError: Unknown layer, or one without maps (the message lists those with maps).
        """
        info = self.layer(name)
        if not info.is_spatial:
            what = f" {purpose}" if purpose else ""
            raise ValueError(f"layer {name!r} ({info.kind}) has no maps{what}; choose one of: "
                             f"{', '.join(self.spatial_layers)}")
        return info

    @property
    def spatial_layers(self) -> list[str]:
        """Layers whose output is a stack of maps (conv, pooling, …)."""
        return [row.name for row in self._layers if row.is_spatial]

    @property
    def classes(self) -> int:
        """Number of output classes."""
        return len(self.class_names)

    def class_index(self, value: Any, what: str = "class") -> int:
        """``value`` as one of this model's class indices.

        Raises:
            TypeError: Not an integer (booleans and floats included).
            ValueError: Out of range; the message names ``what`` and the classes.
        """
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{what} must be a class index (an int); got {value!r}")
        if not 0 <= int(value) < self.classes:
            raise ValueError(f"{what} {value} is out of range: this model has classes 0–{self.classes - 1}")
        return int(value)

    def layer_parameters(self, name: str) -> dict[str, Any]:
        """What one layer computes, as plain numbers (see :func:`.layers.layer_parameters`).

        Raises:
            ValueError: Unknown layer name.
        """
        self.layer(name)
        return layer_parameters(self.keras_model, name, self._by_name)

    def __repr__(self) -> str:
        shape = "×".join(str(s) for s in self.input_shape)
        return f"CNNModel({self.keras_model.name!r}, input {shape}, {len(self._layers)} layers)"

    # ------------------------------------------------------------------ computing
    def prepare(self, images: Any) -> np.ndarray:
        """Validate images and bring them to a float32 batch ``(N, H, W, C)`` in [0, 1].

        Accepts one image ``(H, W)`` / ``(H, W, C)`` or a batch ``(N, H, W)`` /
        ``(N, H, W, C)``; floats in [0, 1] or uint8 0–255.

        Raises:
            TypeError: Not a numeric array, or integers other than uint8.
            ValueError: Wrong rank, size or channel count; empty batch; NaN/inf;
                floats outside [0, 1].
        """
        return prepare_images(images, self.input_shape)

    def activations(
        self,
        images: Any,
        layers: str | Iterable[str] | None = None,
        *,
        batch_size: int = 256,
    ) -> dict[str, np.ndarray]:
        """Activations of the requested layers, all from one compiled call.

        Args:
            images: One image or a batch (see :meth:`prepare`).
            layers: A layer name, several, or ``None`` for every layer.
            batch_size: Images per compiled call; larger inputs are split.

        Returns:
            Layer name → array with the batch axis first, e.g. ``(N, 26, 26, 32)``.
        """
        names = self._layer_tuple(layers)
        batch_size = check_batch_size(batch_size)
        batch = self.prepare(images)
        if batch.shape[0] <= batch_size:
            return self._run(names, batch)
        parts = [self._run(names, batch[i:i + batch_size]) for i in range(0, batch.shape[0], batch_size)]
        return {name: np.concatenate([p[name] for p in parts]) for name in names}

    def _run(self, names: tuple[str, ...], batch: np.ndarray) -> dict[str, np.ndarray]:
        """One compiled call, in plain graph mode; with ``jit_compile`` small batches
        (the live path) go through XLA, large ones still through graph mode, where
        oneDNN is as fast and nothing is compiled per shape (each XLA compilation
        costs ~0.5 s and tens of MB)."""
        count = batch.shape[0]
        jit = self.jit_compile and count <= XLA_MAX_BATCH
        batch = padded(batch, XLA_MAX_BATCH if jit else 0) if jit or count > 64 else batch
        outputs = self._compiled(names, jit)(batch)
        return {name: value.numpy()[:count] for name, value in outputs.items()}

    def predict(self, images: Any, *, batch_size: int = 256) -> np.ndarray:
        """Class probabilities, shape ``(N, classes)``, rows summing to 1."""
        output = self.layer_names[-1]
        return self.to_probabilities(self.activations(images, output, batch_size=batch_size)[output])

    def to_probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """The output layer's values ``(N, classes)`` as probabilities.

        Identity for a model that ends in a softmax; a softmax of the logits otherwise.
        """
        if self._outputs_probabilities:
            return outputs
        shifted = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)

    def evaluate(self, images: Any, labels: Any, *, batch_size: int = 256) -> float:
        """Fraction of images whose most probable class equals the label."""
        labels = np.asarray(labels)
        if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integer class indices; got {labels.dtype}")
        labels = labels.reshape(-1)
        if labels.size and (labels.min() < 0 or labels.max() >= self.classes):
            raise ValueError(f"labels must be class indices in 0..{self.classes - 1}; got {labels.min()}..{labels.max()}")
        probabilities = self.predict(images, batch_size=batch_size)
        if labels.shape[0] != probabilities.shape[0]:
            raise ValueError(f"{probabilities.shape[0]} images but {labels.shape[0]} labels")
        return float(np.mean(np.argmax(probabilities, axis=1) == labels))

    def standardize(self, batch: np.ndarray) -> np.ndarray:
        """Pixels in [0, 1] → what the network takes: ``(pixels - mean) / std``."""
        return (batch - self.mean) / self.std

    def unstandardize(self, batch: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`standardize`."""
        return batch * self.std + self.mean

    def _ends_in_softmax(self) -> bool:
        last = self.keras_model.layers[-1]
        if isinstance(last, keras.layers.Softmax):
            return True
        activation = getattr(last, "activation", None)
        return getattr(activation, "__name__", "") == "softmax"

    def _layer_tuple(self, layers: str | Iterable[str] | None) -> tuple[str, ...]:
        if layers is None:
            return tuple(self.layer_names)
        if isinstance(layers, str):
            layers = [layers]
        try:
            names = tuple(dict.fromkeys(layers))
        except TypeError:
            raise TypeError(
                f"layers must be a layer name, a list of names or None; got {type(layers).__name__}. "
                f"This model's layers are: {', '.join(self.layer_names)}"
            ) from None
        if not names:
            raise ValueError(f"no layers requested; choose from: {', '.join(self.layer_names)}")
        for name in names:
            self.layer(name)
        return names

    def _compiled(self, names: tuple[str, ...], jit: bool) -> Any:
        """One ``tf.function`` per set of layers; fixed signature, so no retracing."""
        key = (names, jit)
        with self._calls_lock:
            call = self._calls.get(key)
            if call is None:
                outputs = {name: self.keras_model.get_layer(name).output for name in names}
                extractor = keras.Model(self.keras_model.inputs[0], outputs)
                mean = tf.constant(self.mean)
                std = tf.constant(self.std)
                spec = tf.TensorSpec((None, *self.input_shape), tf.float32)

                @tf.function(input_signature=[spec], jit_compile=jit, reduce_retracing=True)
                def call(batch: tf.Tensor) -> dict[str, tf.Tensor]:
                    return extractor((batch - mean) / std, training=False)

                self._calls[key] = call
            return call

    # ------------------------------------------------------------------ caches and changes
    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """A compiled helper kept with this model: built once per ``key`` and model
        :attr:`version`, then reused.

        The OIP engine, FCP and filter decoding keep their ``tf.function`` s here, so
        they live (and are traced) once per model, and go away with it; after
        :meth:`train` (a new version) they are built again with the new weights and
        standardisation.
        """
        with self._calls_lock:
            if key not in self._helpers:
                self._helpers[key] = build()
            return self._helpers[key]

    def on_change(self, callback: Callable[[int], Any], remove: bool = False) -> None:
        """Call ``callback(version)`` after every :meth:`changed` (new weights or
        standardisation), on the thread that changed the model.

        Args:
            callback: A function of the new version.
            remove: Stop calling it.

        Raises:
            TypeError: ``callback`` is not callable.
        """
        if not callable(callback):
            raise TypeError(f"callback must be a function of the new version; got {type(callback).__name__}")
        with self._calls_lock:
            if remove:
                self._listeners = [c for c in self._listeners if c != callback]
            elif callback not in self._listeners:
                self._listeners.append(callback)

    def changed(self) -> int:
        """Record that weights or standardisation changed: drop every cached helper and
        compiled call, bump :attr:`version` and tell the :meth:`on_change` listeners.
        Call it after changing ``keras_model``'s weights yourself; :meth:`train` calls
        it. Returns the new version."""
        with self._calls_lock:
            self._helpers.clear()
            self._calls.clear()
            self.version += 1
            version, listeners = self.version, list(self._listeners)
        for callback in listeners:
            callback(version)
        return version
