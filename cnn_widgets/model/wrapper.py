"""CNNModel: the one TensorFlow/Keras model wrapper every widget and the CLI drive.

It takes images in raw pixel scale (floats in [0, 1], or uint8 0–255), applies the
standardisation the model was trained with, and answers with class probabilities
(:meth:`CNNModel.predict`) or with the activations of any set of layers from one
compiled call (:meth:`CNNModel.activations`).

Example:
    >>> from cnn_widgets import CNNModel
    >>> model = CNNModel.default()                 # the embedded MNIST CNN
    >>> maps = model.activations(image)            # every layer, one call
    >>> maps["conv3"].shape
    (1, 3, 3, 128)
    >>> mine = CNNModel(my_keras_model, mean=0.5, std=0.25)
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import threading
import time
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np


def _import_tensorflow() -> tuple[Any, Any]:
    """Import TensorFlow and Keras without their C++ start-up lines on stderr.

    TensorFlow's native code logs oneDNN and CUDA notices straight to file
    descriptor 2 while it imports and while its first device initialises (before
    ``TF_CPP_MIN_LOG_LEVEL`` or absl logging can filter them). They would land in
    notebook outputs, on the dashboard and in ``serve``'s terminal, so descriptor 2
    points at /dev/null for those few seconds. Python errors are not affected:
    they are raised after it is restored. ``CNN_WIDGETS_DEBUG=1`` keeps them.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("CNN_WIDGETS_DEBUG"):
        import keras as keras_module
        import tensorflow as tf_module

        return keras_module, tf_module
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        import keras as keras_module
        import tensorflow as tf_module

        tf_module.constant(0.0)  # the first op initialises the devices (the CUDA probe logs here)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return keras_module, tf_module


keras, tf = _import_tensorflow()

from .layers import LayerInfo, describe_layers  # noqa: E402  (layers imports keras: after the quiet import)
from ..checks import MissingFile, as_path, checked_output  # noqa: E402

__all__ = ["CNNModel", "TrainingProgress", "mnist_cnn"]

#: File names of the embedded model inside ``cnn_widgets/assets``.
DEFAULT_MODEL_FILE = "mnist_cnn.keras"
#: Largest batch sent through XLA (when ``jit_compile``); larger ones use graph mode.
XLA_MAX_BATCH = 32
_CONV_TYPES = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)


def _metadata_path(path: Path) -> Path:
    return path.with_suffix(".json")


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


def mnist_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    classes: int = 10,
    hidden: int = 70,
    seed: int | None = None,
) -> "CNNModel":
    """Build the seeds' CNN, untrained.

    Conv2D 32 3×3 ReLU → MaxPool 2×2 → Conv2D 64 3×3 ReLU → MaxPool 2×2 →
    Conv2D 128 3×3 ReLU → Flatten → Dense ``hidden`` ReLU → Dense ``classes`` softmax.

    Args:
        input_shape: ``(height, width, channels)`` of the images.
        classes: Number of output classes.
        hidden: Units of the hidden dense layer.
        seed: Seed of the weight initialisers (same seed → same initial weights).

    Raises:
        TypeError, ValueError: A shape that is not ``(height, width, channels)`` of
            whole numbers with height and width ≥ 18 (three 3×3 convolutions and
            two poolings need that much), fewer than 2 classes, fewer than 1 hidden
            unit, or a seed that is not a whole number ≥ 0.
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if shape is None or len(shape) != 3 or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"input_shape must be (height, width, channels) of whole numbers; got {input_shape!r}")
    if min(shape[:2]) < 18 or shape[2] < 1:
        raise ValueError(f"input_shape needs height and width ≥ 18 and ≥ 1 channel; got {shape}")
    for what, value, least in (("classes", classes, 2), ("hidden", hidden, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{what} must be a whole number ≥ {least}; got {value!r}")
        if value < least:
            raise ValueError(f"{what} must be ≥ {least}; got {value}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a whole number ≥ 0 or None; got {seed!r}")
    init = keras.initializers.GlorotUniform
    seeds = iter(range(0 if seed is None else seed * 10, 10_000))

    def kernel() -> Any:
        return init(seed=None if seed is None else next(seeds))

    layers = keras.layers
    net = keras.Sequential(
        [
            keras.Input(shape=shape, name="image"),
            layers.Conv2D(32, 3, activation="relu", kernel_initializer=kernel(), name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, activation="relu", kernel_initializer=kernel(), name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Conv2D(128, 3, activation="relu", kernel_initializer=kernel(), name="conv3"),
            layers.Flatten(name="flatten"),
            layers.Dense(hidden, activation="relu", kernel_initializer=kernel(), name="dense"),
            layers.Dense(classes, activation="softmax", kernel_initializer=kernel(), name="output"),
        ],
        name="mnist_cnn",
    )
    return CNNModel(net)


def _check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be a whole number ≥ 1; got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1; got {batch_size}")
    return int(batch_size)


def _class_names(value: Any, classes: int) -> list[str]:
    if value is None:
        return [str(i) for i in range(classes)]
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"class_names must be a list of {classes} strings; got {type(value).__name__}")
    names = list(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"class_names must be strings; got {name!r} ({type(name).__name__})")
    if len(names) != classes:
        raise ValueError(f"class_names has {len(names)} names for {classes} classes")
    return [str(name) for name in names]


def _as_channel_vector(value: float | Sequence[float], channels: int, what: str) -> np.ndarray:
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{what} must be a number or one number per channel ({channels}); got {value!r}")
    try:
        vector = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(
            f"{what} must be a number or one number per channel ({channels}); got {value!r}"
        ) from None
    if vector.size == 1:
        vector = np.repeat(vector, channels)
    if vector.size != channels:
        raise ValueError(
            f"{what} must be one number or one per channel ({channels}); got {vector.size} values"
        )
    if not np.all(np.isfinite(vector)):
        raise ValueError(f"{what} must be finite; got {vector.tolist()}")
    return vector.astype(np.float32)


class CNNModel:
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
        convs = [layer for layer in keras_model.layers if isinstance(layer, _CONV_TYPES)]
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
        self.mean = _as_channel_vector(mean, channels, "mean")
        self.std = _as_channel_vector(std, channels, "std")
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
        self.class_names: list[str] = _class_names(class_names, classes)
        self._outputs_probabilities = self._ends_in_softmax()
        self._calls: dict[tuple[tuple[str, ...], bool], Any] = {}
        self._calls_lock = threading.RLock()
        self._helpers: dict[Any, Any] = {}
        #: Bumped whenever weights or standardisation change (:meth:`train`,
        #: :meth:`changed`); every cache of a computed result is keyed on it.
        self.version = 0

    # ------------------------------------------------------------------ building
    @classmethod
    def default(cls) -> "CNNModel":
        """The embedded MNIST CNN, pretrained, loaded from package data (no network)."""
        asset = resources.files("cnn_widgets") / "assets" / DEFAULT_MODEL_FILE
        with resources.as_file(asset) as path:
            return cls.load(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, jit_compile: bool = False) -> "CNNModel":
        """Load a model saved by :meth:`save` (Keras 3 ``.keras`` file, safe mode on).

        The metadata file beside it (same name, ``.json``) gives the standardisation
        and class names; without it the model takes pixels as they are.

        Raises:
            FileNotFoundError: No such file (a :class:`~cnn_widgets.checks.MissingFile`, also a ValueError).
            ValueError: Not a ``.keras`` file, or a corrupt or truncated one.
        """
        path = as_path(path, "path")
        if path.suffix != ".keras":
            raise ValueError(f"{path}: only Keras 3 '.keras' files are accepted (got {path.suffix!r})")
        if not path.is_file():
            raise MissingFile(f"no model file at {path}" + (" (it is a folder)" if path.is_dir() else ""))
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is not a valid .keras file (a .keras file is a zip archive); "
                             "it may be truncated or corrupt")
        try:
            net = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # Keras raises many kinds for damaged archives
            raise ValueError(f"could not load the Keras model in {path}: {error}") from error
        meta: dict[str, Any] = {}
        meta_path = _metadata_path(path)
        if meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise ValueError(f"metadata file {meta_path} is not valid JSON: {error}") from error
            if not isinstance(meta, dict):
                raise ValueError(f"metadata file {meta_path} must hold a JSON object")
        standardization = meta.get("standardization", {})
        if not isinstance(standardization, dict):
            raise ValueError(f"metadata file {meta_path}: 'standardization' must be an object with "
                             f"'mean' and 'std'; got {type(standardization).__name__}")
        try:
            return cls(
                net,
                mean=standardization.get("mean", 0.0),
                std=standardization.get("std", 1.0),
                class_names=meta.get("class_names"),
                metadata=meta,
                jit_compile=jit_compile,
            )
        except (TypeError, ValueError) as error:
            if not meta:
                raise
            raise ValueError(f"metadata file {meta_path}: {error}") from error

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the network (Keras 3 ``.keras``) and its metadata (``.json`` beside it).

        The optimizer state is not saved; the file holds architecture and weights.

        Returns:
            The path of the ``.keras`` file.

        Raises:
            TypeError: ``path`` is not a path.
            ValueError: ``path`` does not end in ``.keras``, is a folder or lies under a
                file; the metadata holds values JSON cannot store.
        """
        path = checked_output(path, (".keras",), "the model file")
        meta = dict(self.metadata)
        meta.update(
            {
                "format": 1,
                "class_names": self.class_names,
                "standardization": {"mean": self.mean.tolist(), "std": self.std.tolist()},
                "keras_version": keras.__version__,
                "saved": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            }
        )
        try:
            text = json.dumps(meta, indent=2, allow_nan=False) + "\n"
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"the metadata must hold only JSON values (str, finite numbers, bool, None, lists, "
                f"dicts): {error}"
            ) from None
        path.parent.mkdir(parents=True, exist_ok=True)
        # A fresh copy from the config: architecture and weights, no compile state.
        clean = type(self.keras_model).from_config(self.keras_model.get_config())
        clean.set_weights(self.keras_model.get_weights())
        clean.save(path)
        _metadata_path(path).write_text(text, encoding="utf-8")
        return path

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

    @property
    def spatial_layers(self) -> list[str]:
        """Layers whose output is a stack of maps (conv, pooling, …)."""
        return [row.name for row in self._layers if row.is_spatial]

    @property
    def classes(self) -> int:
        """Number of output classes."""
        return len(self.class_names)

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
        try:
            array = np.asarray(images)
        except (TypeError, ValueError):  # ragged nested lists
            raise TypeError("images must be a numeric array (floats in [0, 1] or uint8 0–255) of one "
                            "shape; got a ragged sequence") from None
        if array.dtype == np.uint8:
            array = array.astype(np.float32) / np.float32(255.0)
        elif np.issubdtype(array.dtype, np.floating):
            if array.size and not np.all(np.isfinite(array)):
                raise ValueError("images contain NaN or infinite pixels; all pixels must be finite")
            if array.size and (float(array.min()) < 0.0 or float(array.max()) > 1.0):
                raise ValueError(
                    f"float pixels must lie in [0, 1]; got values from {float(array.min()):g} to "
                    f"{float(array.max()):g}. Pass uint8 for the 0–255 scale, or divide by 255"
                )
            array = array.astype(np.float32)
        elif np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
            raise TypeError(
                f"integer pixels must be uint8 (0–255); got {array.dtype}. "
                "Convert with .astype(np.uint8), or pass floats in [0, 1]"
            )
        else:
            raise TypeError(
                f"images must be a numeric array (floats in [0, 1] or uint8 0–255); got {array.dtype}"
            )
        height, width, channels = self.input_shape
        expected = "×".join(str(s if s is not None else "any") for s in (height, width, channels))
        given = array.shape
        colour = channels == 1 and array.ndim in (3, 4) and array.shape[-1] in (3, 4) and (
            height is None or array.shape[-3] == height) and (width is None or array.shape[-2] == width)
        if colour:
            raise ValueError(
                f"this model takes grey images ({expected}); got {'an RGB' if given[-1] == 3 else 'an RGBA'} "
                f"{'image' if array.ndim == 3 else 'batch'} of shape {given}. Convert it to grey "
                "first, e.g. image.mean(axis=-1)"
            )
        if array.ndim == 2 and channels == 1:
            array = array[None, :, :, None]
        elif array.ndim == 3:
            if array.shape[-1] == channels and (height is None or array.shape[0] == height) and (
                    width is None or array.shape[1] == width):
                array = array[None]
            elif channels == 1:
                array = array[..., None]
            else:
                raise ValueError(
                    f"images of shape {array.shape} do not fit this model: it takes "
                    f"{expected} images, as (H, W, C) or a batch (N, H, W, C)"
                )
        elif array.ndim != 4:
            forms = "(H, W), (N, H, W), (H, W, C) or (N, H, W, C)" if channels == 1 else "(H, W, C) or (N, H, W, C)"
            raise ValueError(
                f"images must be one image or a batch: {forms}; got an array of rank {array.ndim}"
            )
        if array.shape[0] == 0:
            raise ValueError("the batch of images is empty; give at least one image")
        if array.shape[3] != channels:
            raise ValueError(
                f"this model takes {channels}-channel images ({expected}); got {array.shape[3]} channels "
                f"(an array of shape {given})"
            )
        if (height is not None and array.shape[1] != height) or (width is not None and array.shape[2] != width):
            raise ValueError(
                f"this model takes {height}×{width} images; got {array.shape[1]}×{array.shape[2]} "
                f"(an array of shape {given})"
            )
        if 0 in array.shape:
            raise ValueError(f"images must not have an empty axis; got an array of shape {given}")
        return array

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
        batch_size = _check_batch_size(batch_size)
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
        # Few distinct shapes: a power of two for XLA, a multiple of 64 in graph mode
        # (each new shape costs an XLA compilation or new oneDNN kernels).
        size = 1 << (count - 1).bit_length() if jit else -(-count // 64) * 64 if count > 64 else count
        if size != count:
            batch = np.concatenate([batch, np.zeros((size - count, *batch.shape[1:]), batch.dtype)])
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

    def changed(self) -> int:
        """Record that weights or standardisation changed: drop every cached helper and
        compiled call, bump :attr:`version`. Call it after changing ``keras_model``'s
        weights yourself; :meth:`train` calls it. Returns the new version."""
        with self._calls_lock:
            self._helpers.clear()
            self._calls.clear()
            self.version += 1
            return self.version

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

    # ---- looking inside (cells, saliency)
    def layer_parameters(self, name: str) -> dict[str, Any]:
        """What one layer computes, as plain numbers (the cell inspector redoes it in NumPy).

        Returns:
            ``kind`` (Keras class name), ``inputs`` (names of the layers feeding it;
            empty for the image), ``activation`` (``"linear"`` when none) and, by
            kind, ``kernel``/``bias`` (NumPy; ``bias`` None without one),
            ``strides``, ``padding``, ``dilation`` (Conv2D), ``pool_size``,
            ``strides``, ``padding`` (pooling).

        Raises:
            ValueError: Unknown layer name.
        """
        self.layer(name)
        from .layers import _inbound_names

        layer = self.keras_model.get_layer(name)
        config = layer.get_config()
        activation = config.get("activation", "linear")
        params: dict[str, Any] = {
            "kind": type(layer).__name__,
            "inputs": [n for n in _inbound_names(layer) if n in self._by_name],
            "activation": activation if isinstance(activation, str) else str(activation),
        }
        weights = [np.asarray(w, np.float32) for w in layer.get_weights()]
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            params["kernel"] = weights[0]
            params["bias"] = weights[1] if len(weights) > 1 else None
        for key in ("strides", "padding", "dilation_rate", "pool_size", "groups"):
            if key in config:
                value = config[key]
                params["dilation" if key == "dilation_rate" else key] = (
                    tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else value)
        return params

    def _logit_calls(self) -> tuple[Any, Any]:
        """Compiled ``logits(batch)`` and ``gradient(batch, a, b)`` (pixel-scale batches)."""

        def build() -> tuple[Any, Any]:
            net = self.keras_model
            last = net.layers[-1]
            mean, std = tf.constant(self.mean), tf.constant(self.std)
            if not self._outputs_probabilities:
                body, head = keras.Model(net.inputs[0], net.outputs[0]), (lambda x: x)
            elif isinstance(last, keras.layers.Softmax):
                body, head = keras.Model(net.inputs[0], last.input), (lambda x: x)
            elif isinstance(last, keras.layers.Dense):  # the same layer without its softmax
                body = keras.Model(net.inputs[0], last.input)

                def head(x: tf.Tensor) -> tf.Tensor:
                    z = tf.matmul(x, tf.convert_to_tensor(last.kernel))
                    return z + tf.convert_to_tensor(last.bias) if last.use_bias else z
            else:  # log-probabilities differ from the logits by one constant per image
                body = keras.Model(net.inputs[0], net.outputs[0])

                def head(x: tf.Tensor) -> tf.Tensor:
                    return tf.math.log(tf.maximum(x, 1e-30))
            spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
            index = tf.TensorSpec((), tf.int32)

            @tf.function(input_signature=[spec], reduce_retracing=True)
            def logits(batch: tf.Tensor) -> tf.Tensor:
                return head(body((batch - mean) / std, training=False))

            @tf.function(input_signature=[spec, index, index], reduce_retracing=True)
            def gradient(batch: tf.Tensor, a: tf.Tensor, b: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                with tf.GradientTape() as tape:
                    tape.watch(batch)
                    z = logits(batch)
                    difference = z[:, a] - z[:, b]
                    total = tf.reduce_sum(difference)  # images are independent: one sum
                return tape.gradient(total, batch), difference

            return logits, gradient

        return self.cached("logit calls", build)

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

    @staticmethod
    def _padded(batch: np.ndarray) -> np.ndarray:
        """Pad a batch to a power of two (≤ 64) or a multiple of 64: few shapes, few traces."""
        count = batch.shape[0]
        size = 1 << (count - 1).bit_length() if count <= 64 else -(-count // 64) * 64
        if size == count:
            return batch
        return np.concatenate([batch, np.zeros((size - count, *batch.shape[1:]), batch.dtype)])

    def logits(self, images: Any, *, batch_size: int = 256) -> np.ndarray:
        """The output layer's values before its softmax, shape ``(N, classes)``.

        For a model that ends in a softmax these are its logits; a model without a
        softmax gives its outputs as they are.
        """
        batch = self.prepare(images)
        logits, _ = self._logit_calls()
        parts = []
        for start in range(0, batch.shape[0], batch_size):
            part = batch[start:start + batch_size]
            parts.append(logits(self._padded(part)).numpy()[:part.shape[0]])
        return np.concatenate(parts)

    def logit_gradient(self, images: Any, class_a: int, class_b: int, *, samples: int = 1,
                       noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of ``logit A − logit B`` with respect to the pixels (in [0, 1] scale).

        With ``noise > 0`` it is SmoothGrad: the mean gradient over ``samples`` copies
        of each image with Gaussian noise of spread ``noise`` added to the pixels.

        Args:
            images: One image or a batch (see :meth:`prepare`).
            class_a: The class pushed towards.
            class_b: The class pushed away from.
            samples: Noisy copies per image (SmoothGrad); used when ``noise > 0``.
            noise: Spread of the noise, in pixel units (0.15 = 15 % of the range).
            seed: Seed of the noise.

        Returns:
            ``(gradient, difference)``: gradient ``(N, H, W, C)`` and the logit
            difference ``(N,)`` of the images as given.

        Raises:
            ValueError: A class out of range, ``samples < 1`` or negative ``noise``.
        """
        a, b = self.class_index(class_a, "class A"), self.class_index(class_b, "class B")
        if int(samples) < 1 or not np.isfinite(noise) or noise < 0:
            raise ValueError(f"samples must be ≥ 1 and noise ≥ 0; got samples={samples}, noise={noise}")
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a whole number ≥ 0; got {seed!r}")
        batch = self.prepare(images)
        _, gradient = self._logit_calls()
        count = batch.shape[0]
        clean, difference = gradient(self._padded(batch), a, b)
        difference = difference.numpy()[:count]
        if noise == 0:
            return clean.numpy()[:count], difference
        rng = np.random.default_rng(seed)
        noisy = np.repeat(batch, int(samples), axis=0)
        noisy = noisy + rng.normal(0.0, float(noise), noisy.shape).astype(np.float32)
        grads = gradient(self._padded(noisy), a, b)[0].numpy()[:noisy.shape[0]]
        return grads.reshape(count, int(samples), *batch.shape[1:]).mean(axis=1), difference

    # ------------------------------------------------------------------ training
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
        shift: int = 2,
        standardize: bool = False,
        seed: int = 0,
        validation: tuple[Any, Any] | None = None,
        progress: Callable[[TrainingProgress], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
    ) -> dict[str, list[float]]:
        """Train in place with the seeds' recipe: SGD with momentum, an LR schedule, L2.

        Args:
            images: Training images (any form :meth:`prepare` accepts).
            labels: Integer class labels, one per image.
            epochs: Passes over the data.
            batch_size: Images per SGD step.
            learning_rate: Initial learning rate.
            lr_decay: Factor applied to the learning rate after each epoch.
            momentum: SGD momentum (Nesterov).
            l2: L2 regularisation of every kernel, as decoupled weight decay
                (biases are not decayed).
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
        _check_training_settings(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                 lr_decay=lr_decay, momentum=momentum, l2=l2, shift=shift, seed=seed)
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
            axes = (0, 1, 2)
            self.mean = x.mean(axis=axes).astype(np.float32)
            self.std = np.maximum(x.std(axis=axes), 1e-6).astype(np.float32)
            self.changed()
        steps = int(np.ceil(x.shape[0] / batch_size))
        schedule = keras.optimizers.schedules.ExponentialDecay(
            learning_rate, decay_steps=steps, decay_rate=lr_decay, staircase=True
        )
        optimizer = keras.optimizers.SGD(schedule, momentum=momentum, nesterov=True, weight_decay=l2)
        optimizer.exclude_from_weight_decay(var_names=["bias"])
        self.keras_model.compile(
            optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"]
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
            "recipe": "SGD with Nesterov momentum, exponential LR decay per epoch, L2 weight decay",
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


def _check_training_settings(**settings: Any) -> None:
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
