"""Every 2-D convolution as one plain kernel, and batch norm folded into convolutions.

Filter decoding (:mod:`cnn_widgets.methods.decode`) substitutes each value of a map by
the filter it stands for. That needs, for every layer on the way down, its *linear*
part as a plain ``(kh, kw, in, out)`` kernel:

* ``Conv2D``: its kernel (grouped convolutions expanded to the full, block-diagonal
  kernel);
* ``DepthwiseConv2D``: channel ``c`` × multiplier ``m`` reads only input channel ``c``:
  a block-diagonal kernel ``(kh, kw, in, in·m)``;
* ``SeparableConv2D``: that depthwise kernel followed by its 1×1 pointwise kernel,
  multiplied out into one ``(kh, kw, in, out)`` kernel (exact: the pointwise step
  has stride 1 and no padding);
* ``BatchNormalization`` (at inference): ``y = scale · x + shift`` per channel with
  ``scale = gamma / sqrt(variance + epsilon)``; its linear part is ``scale``. After a
  convolution this is the same as scaling the kernel's output channels by ``scale``
  — the "folded" convolution — and :func:`fold_batch_norm` builds that twin model.

Nothing here runs a model; the arrays are read from the layers' weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DECODED_CONVS", "bn_scale", "bn_shift", "fold_batch_norm", "plain_bias", "plain_kernel"]

#: The convolution kinds filter decoding substitutes (as plain kernels).
DECODED_CONVS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")


def _weights(layer: Any) -> dict[str, np.ndarray]:
    """The layer's variables by their short name (``kernel``, ``gamma``, …)."""
    return {variable.name.split("/")[-1].split(":")[0]: np.asarray(variable, np.float32)
            for variable in layer.weights}


def _channels_last_bn(layer: Any) -> None:
    axis = layer.axis
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    rank = len(layer.input.shape)
    if [a % rank for a in axes] != [rank - 1]:
        raise ValueError(f"batch norm layer {layer.name!r} normalises axis {axis}; only the channel axis "
                         "(the last one) can be folded into a convolution")


def bn_scale(layer: Any) -> np.ndarray:
    """A batch norm layer's per-channel factor at inference: ``gamma / sqrt(variance + epsilon)``.

    Raises:
        ValueError: The layer normalises another axis than the channels (the last).
    """
    _channels_last_bn(layer)
    weights = _weights(layer)
    variance = weights["moving_variance"]
    gamma = weights.get("gamma", np.ones_like(variance))
    return (gamma / np.sqrt(variance + np.float32(layer.epsilon))).astype(np.float32)


def bn_shift(layer: Any) -> np.ndarray:
    """A batch norm layer's per-channel offset at inference: ``beta - mean · scale``."""
    weights = _weights(layer)
    mean = weights["moving_mean"]
    beta = weights.get("beta", np.zeros_like(mean))
    return (beta - mean * bn_scale(layer)).astype(np.float32)


def _depthwise_as_plain(depthwise: np.ndarray) -> np.ndarray:
    """``(kh, kw, in, mult)`` → the block-diagonal ``(kh, kw, in, in·mult)`` kernel."""
    kh, kw, channels, mult = depthwise.shape
    plain = np.zeros((kh, kw, channels, channels * mult), np.float32)
    for channel in range(channels):
        plain[:, :, channel, channel * mult:(channel + 1) * mult] = depthwise[:, :, channel, :]
    return plain


def plain_kernel(layer: Any) -> np.ndarray:
    """The linear part of a 2-D convolution layer as one ``(kh, kw, in, out)`` kernel.

    Raises:
        ValueError: Not a Conv2D, DepthwiseConv2D or SeparableConv2D.
    """
    kind = type(layer).__name__
    weights = _weights(layer)
    if kind == "Conv2D":
        kernel = weights["kernel"]
        groups = int(getattr(layer, "groups", 1) or 1)
        if groups == 1:
            return kernel
        kh, kw, per_group, out = kernel.shape
        plain = np.zeros((kh, kw, per_group * groups, out), np.float32)
        step = out // groups
        for group in range(groups):
            plain[:, :, group * per_group:(group + 1) * per_group, group * step:(group + 1) * step] = \
                kernel[:, :, :, group * step:(group + 1) * step]
        return plain
    if kind == "DepthwiseConv2D":
        return _depthwise_as_plain(weights["kernel"])
    if kind == "SeparableConv2D":
        depthwise = _depthwise_as_plain(weights["depthwise_kernel"])  # (kh, kw, in, in·mult)
        pointwise = weights["pointwise_kernel"][0, 0]                  # (in·mult, out)
        return np.tensordot(depthwise, pointwise, axes=([3], [0])).astype(np.float32)
    raise ValueError(f"layer {layer.name!r} ({kind}) is not a 2-D convolution; plain kernels exist for "
                     f"{', '.join(DECODED_CONVS)}")


def plain_bias(layer: Any) -> np.ndarray:
    """The bias of a 2-D convolution layer, zeros without one (one per output channel)."""
    weights = _weights(layer)
    out = plain_kernel(layer).shape[-1]
    bias = weights.get("bias")
    return np.zeros(out, np.float32) if bias is None else bias.astype(np.float32)


def _folded_conv(conv: Any, norm: Any) -> Any:
    """A Conv2D computing ``norm(conv(x))`` (the activation of ``conv`` must be linear)."""
    scale = bn_scale(norm)
    config = conv.get_config()
    config.update(use_bias=True, name=conv.name, kernel_regularizer=None, bias_regularizer=None,
                  activity_regularizer=None, kernel_constraint=None, bias_constraint=None)
    folded = type(conv).from_config(config)
    folded.build(conv.input.shape)
    weights = _weights(conv)
    kernel = weights["kernel"] * scale  # scales each output channel
    bias = plain_bias(conv) * scale + bn_shift(norm)
    folded.set_weights([kernel, bias])
    return folded


def fold_batch_norm(keras_model: Any) -> Any:
    """The twin of a chain model with every ``Conv2D → BatchNormalization`` pair merged
    into one Conv2D (same outputs at inference, one layer fewer per pair).

    Args:
        keras_model: A Keras model whose layers form a chain (each feeds the next).

    Returns:
        A new ``keras.Model``; other layers are copies with the same weights.

    Raises:
        ValueError: The layers do not form a chain, or a convolution that feeds a batch
            norm has an activation of its own (then the two do not fold).
    """
    from .backend import keras
    from .layers import inbound_names

    layers = [layer for layer in keras_model.layers if not isinstance(layer, keras.layers.InputLayer)]
    previous = keras_model.inputs[0]._keras_history[0].name
    for layer in layers:
        if inbound_names(layer) != [previous]:
            raise ValueError(f"fold_batch_norm folds chains of layers; {layer.name!r} is not fed by "
                             f"{previous!r} alone")
        previous = layer.name
    inputs = keras.Input(tuple(keras_model.inputs[0].shape[1:]), name=keras_model.inputs[0]._keras_history[0].name)
    x, index = inputs, 0
    while index < len(layers):
        layer = layers[index]
        following = layers[index + 1] if index + 1 < len(layers) else None
        if type(layer).__name__ == "Conv2D" and type(following).__name__ == "BatchNormalization":
            if getattr(layer.activation, "__name__", "linear") != "linear":
                raise ValueError(f"{layer.name!r} applies {layer.activation.__name__} before the batch norm "
                                 f"{following.name!r}; only a linear convolution folds")
            x = _folded_conv(layer, following)(x)
            index += 2
            continue
        copy = type(layer).from_config(layer.get_config())
        x = copy(x)
        copy.set_weights(layer.get_weights())
        index += 1
    return keras.Model(inputs, x, name=f"{keras_model.name}_folded")
