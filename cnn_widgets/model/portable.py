"""The model as a portable spec: layers, their settings and float32 weights, for a browser.

The live views compute in the browser (``widgets/live/network.js``): the kernel sends the
model once per version as a :class:`PortableSpec` — one JSON-able list of layers (type,
configuration, output shape, where each weight array lies) and one float32 buffer of
every weight, batch norm folded to its inference scale and shift. A model with a layer
the browser does not compute is refused with one line (:class:`NotPortable`), and the
caller falls back to the kernel path.

Layers covered: InputLayer; Conv2D (valid/same padding, strides, dilation); MaxPooling2D,
AveragePooling2D (valid/same); GlobalAverage/MaxPooling2D; Flatten; Dense;
BatchNormalization (last axis); Dropout and its kin (the identity at inference);
Rescaling, ReLU, Softmax, LeakyReLU, ELU and Activation layers; the activations below,
on grey or RGB inputs. The model must be a chain: each layer feeds the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .layers import inbound_names

__all__ = ["ACTIVATIONS", "NotPortable", "PortableSpec", "portable_spec"]

#: Activations the browser computes (Keras names).
ACTIVATIONS = ("linear", "relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "softmax", "elu", "selu",
               "softplus", "softsign", "swish", "silu", "leaky_relu", "exponential")

#: Layers that are the identity at inference.
_IDENTITY = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianDropout", "GaussianNoise",
             "AlphaDropout", "ActivityRegularization")


class NotPortable(ValueError):
    """The browser cannot compute this model; the message is one line naming why."""


@dataclass
class PortableSpec:
    """A model as the browser computes it.

    Attributes:
        input_shape: ``(height, width, channels)``.
        mean: Standardisation mean per channel (pixels in [0, 1] → ``(x - mean) / std``).
        std: Standardisation spread per channel.
        layers: One dict per layer, in order: ``name``, ``type``, ``config``, ``shape`` (output,
            no batch axis) and ``weights``: ``[[offset, length, shape], …]`` into :attr:`buffer`
            (offsets and lengths in float32 values).
        buffer: Every weight, float32, little-endian, one after the other.
        probabilities: True when the last layer's output is already probabilities (softmax).
        class_names: The class names.
    """

    input_shape: tuple[int, int, int]
    mean: list[float]
    std: list[float]
    layers: list[dict[str, Any]] = field(default_factory=list)
    buffer: bytes = b""
    probabilities: bool = True
    class_names: list[str] = field(default_factory=list)

    def header(self) -> dict[str, Any]:
        """Everything but the buffer, as plain JSON values."""
        return {"input_shape": list(self.input_shape), "mean": self.mean, "std": self.std, "layers": self.layers,
                "probabilities": self.probabilities, "class_names": self.class_names}

    @property
    def parameters(self) -> int:
        """Number of float32 values in the buffer."""
        return len(self.buffer) // 4


def _refuse(layer: Any, why: str) -> NotPortable:
    return NotPortable(f"the browser cannot compute layer {layer.name!r} ({type(layer).__name__}): {why}; "
                       "the live views are computed in the kernel")


def _activation(layer: Any, value: Any) -> str:
    """A Keras activation (name or function) as one of :data:`ACTIVATIONS`."""
    name = value if isinstance(value, str) else getattr(value, "__name__", repr(value))
    name = {"swish": "silu", None: "linear"}.get(name, name)
    if name not in ACTIVATIONS:
        raise _refuse(layer, f"activation {name!r} is not one of {', '.join(ACTIVATIONS)}")
    return name


def _pair(value: Any) -> list[int]:
    if isinstance(value, int):
        return [value, value]
    return [int(v) for v in value]


def _channels_last(layer: Any) -> None:
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise _refuse(layer, "only channels_last layers are computed")


class _Weights:
    """Collects float32 arrays into one buffer."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.offset = 0

    def add(self, array: Any) -> list[Any]:
        values = np.ascontiguousarray(np.asarray(array, dtype="<f4"))
        if not np.all(np.isfinite(values)):
            raise NotPortable("a weight array holds NaN or infinite values; the live views are computed in the kernel")
        self.parts.append(values.tobytes())
        entry = [self.offset, int(values.size), list(values.shape)]
        self.offset += int(values.size)
        return entry


def _layer(layer: Any, weights: _Weights) -> tuple[str, dict[str, Any], list[Any]]:
    """``(type, config, weight entries)`` of one Keras layer, or :class:`NotPortable`."""
    kind = type(layer).__name__
    config = layer.get_config()
    if kind == "Conv2D":
        _channels_last(layer)
        if int(config.get("groups", 1)) != 1:
            raise _refuse(layer, "grouped convolutions are not computed")
        padding = str(config["padding"]).lower()
        if padding not in ("valid", "same"):
            raise _refuse(layer, f"padding {padding!r} is not 'valid' or 'same'")
        strides, dilation = _pair(config["strides"]), _pair(config["dilation_rate"])
        if max(strides) > 1 and max(dilation) > 1:
            raise _refuse(layer, "strides and dilation together are not allowed by Keras either")
        kernel, *bias = layer.get_weights()
        entries = [weights.add(kernel)]  # (kh, kw, in, out)
        if bias:
            entries.append(weights.add(bias[0]))
        return "conv", {"kernel": list(kernel.shape[:2]), "strides": strides, "dilation": dilation,
                        "padding": padding, "activation": _activation(layer, config.get("activation")),
                        "bias": bool(bias)}, entries
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        _channels_last(layer)
        padding = str(config["padding"]).lower()
        pool = _pair(config["pool_size"])
        strides = _pair(config["strides"] if config.get("strides") is not None else pool)
        return "maxpool" if kind.startswith("Max") else "avgpool", \
            {"pool": pool, "strides": strides, "padding": padding}, []
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        _channels_last(layer)
        if config.get("keepdims"):
            raise _refuse(layer, "keepdims=True is not computed")
        return "globalavg" if "Average" in kind else "globalmax", {}, []
    if kind == "Flatten":
        return "flatten", {}, []
    if kind == "Dense":
        kernel, *bias = layer.get_weights()
        if len(layer.input.shape) != 2:
            raise _refuse(layer, "a Dense layer on maps (not after Flatten) is not computed")
        entries = [weights.add(kernel)]
        if bias:
            entries.append(weights.add(bias[0]))
        return "dense", {"activation": _activation(layer, config.get("activation")), "bias": bool(bias)}, entries
    if kind == "BatchNormalization":
        axis = config["axis"]
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        rank = len(layer.input.shape)
        if axis not in (-1, rank - 1):
            raise _refuse(layer, f"batch norm over axis {axis} (only the last, channels) is computed")
        channels = int(layer.input.shape[-1])
        gamma = np.asarray(layer.gamma.numpy() if layer.gamma is not None else np.ones(channels), np.float64)
        beta = np.asarray(layer.beta.numpy() if layer.beta is not None else np.zeros(channels), np.float64)
        mean = np.asarray(layer.moving_mean.numpy(), np.float64)
        variance = np.asarray(layer.moving_variance.numpy(), np.float64)
        scale = gamma / np.sqrt(variance + float(config["epsilon"]))
        return "scale", {}, [weights.add(scale), weights.add(beta - mean * scale)]
    if kind in _IDENTITY:
        return "identity", {}, []
    if kind == "Rescaling":
        scale, offset = (np.broadcast_to(np.asarray(config[key], np.float64), (int(layer.input.shape[-1]),))
                         for key in ("scale", "offset"))
        return "scale", {}, [weights.add(scale), weights.add(offset)]
    if kind == "ReLU":
        slope = float(config.get("negative_slope") or 0.0)
        top = config.get("max_value")
        return "relu", {"max_value": None if top is None else float(top), "negative_slope": slope,
                        "threshold": float(config.get("threshold") or 0.0)}, []
    if kind == "LeakyReLU":
        slope = config.get("negative_slope", config.get("alpha", 0.3))
        return "relu", {"max_value": None, "negative_slope": float(slope), "threshold": 0.0}, []
    if kind == "ELU":
        if float(config.get("alpha", 1.0)) != 1.0:
            raise _refuse(layer, "ELU with alpha other than 1 is not computed")
        return "activation", {"activation": "elu"}, []
    if kind == "Softmax":
        axis = config.get("axis", -1)
        if axis not in (-1, [-1], (-1,), len(layer.input.shape) - 1):
            raise _refuse(layer, f"softmax over axis {axis} (only the last) is computed")
        return "activation", {"activation": "softmax"}, []
    if kind == "Activation":
        return "activation", {"activation": _activation(layer, config.get("activation"))}, []
    raise _refuse(layer, "this layer type has no browser code")


def portable_spec(model: Any) -> PortableSpec:
    """The model as :class:`PortableSpec`, or :class:`NotPortable` naming the first layer
    the browser cannot compute.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.

    Raises:
        NotPortable: A layer type, setting or model shape (branches) the browser does not compute.
    """
    keras_model = model.keras_model
    height, width, channels = model.input_shape
    if height is None or width is None:
        raise NotPortable("the model takes images of any size; the browser computes a fixed input size")
    inputs = {t._keras_history[0].name for t in keras_model.inputs}
    weights = _Weights()
    layers: list[dict[str, Any]] = []
    previous = next(iter(inputs))
    for layer in keras_model.layers:
        if layer.name in inputs:
            continue
        feeds = inbound_names(layer)
        if feeds != [previous]:
            raise NotPortable(f"the browser computes a chain of layers; layer {layer.name!r} takes "
                              f"{', '.join(feeds) or 'no input'} (not only {previous!r}); "
                              "the live views are computed in the kernel")
        kind, config, entries = _layer(layer, weights)
        shape = [int(s) for s in layer.output.shape[1:]]
        layers.append({"name": layer.name, "type": kind, "config": config, "shape": shape, "weights": entries})
        previous = layer.name
    outputs = [t._keras_history[0].name for t in keras_model.outputs]
    if outputs != [previous]:
        raise NotPortable(f"the model's output is {', '.join(outputs)}, not its last layer {previous!r}; "
                          "the live views are computed in the kernel")
    return PortableSpec(
        input_shape=(int(height), int(width), int(channels)),
        mean=[float(v) for v in np.asarray(model.mean).reshape(-1)],
        std=[float(v) for v in np.asarray(model.std).reshape(-1)],
        layers=layers, buffer=b"".join(weights.parts),
        probabilities=bool(model._outputs_probabilities), class_names=list(model.class_names))
