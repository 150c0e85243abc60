"""Filter decoding with substitution (Rafegas & Vanrell): filters brought back to image space.

Assumption of the paper: an activation measures how similar the region below it
is to the filter. So, going down from a map of layer L to the input:

* at a **convolution**, each value of the decoded stack is replaced by the
  layer's filter, weighted by that value, overlapping copies summed — a
  transposed convolution with the layer's own kernel (its bias is left out);
* at a **pooling** layer, the decoded stack is upsampled by the pooling stride
  ("unpooling": nearest, bilinear or bicubic — the paper's Table 1 compares them);
* layers that act per pixel (activations, normalisation, dropout) are passed
  through: ReLU, biases and the max of max-pooling are not part of the linear
  picture, and the paper says so.

Decoding starts from a single active cell of map ``k``, so a conv layer's first
step gives its raw filter ``f_k``. The result is as large as the map's receptive
field (for the embedded CNN: conv1 3×3, pool1 4×4, conv2 8×8, pool2 10×10,
conv3 18×18) and lines up with the receptive field of a cell in the layer table:
:func:`place` puts it on the input at the place of any cell, clipped to the image.

``response_error`` is the paper's check (equation 3): the network's response of
a map against the correlation of the image with the map's decoded filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = ["DecodedFilters", "ResponseError", "UNPOOL_MODES", "decode_filters", "place", "response_error",
           "top_images"]

UNPOOL_MODES = ("nearest", "bilinear", "bicubic")
_PASS_THROUGH = {"ReLU", "Activation", "BatchNormalization", "Dropout", "SpatialDropout2D", "LeakyReLU",
                 "GaussianNoise", "Identity", "LayerNormalization"}


@dataclass(frozen=True)
class DecodedFilters:
    """The decoded filters of one layer.

    Attributes:
        layer: The layer.
        filters: ``(maps, height, width, channels)`` in input-image space; the size
            is the layer's receptive field.
        unpool: The unpooling mode used.
    """

    layer: str
    filters: np.ndarray
    unpool: str

    def thresholded(self, fraction: float = 0.3) -> np.ndarray:
        """The paper's threshold view: +1 / −1 where a filter exceeds ``fraction`` of
        its largest magnitude (positive / negative), 0 elsewhere."""
        peak = np.abs(self.filters).max(axis=(1, 2, 3), keepdims=True)
        limit = fraction * np.maximum(peak, 1e-12)
        return (np.sign(self.filters) * (np.abs(self.filters) >= limit)).astype(np.float32)


@dataclass(frozen=True)
class ResponseError:
    """Equation 3 of the paper for one layer: mean and spread of the squared error."""

    layer: str
    unpool: str
    mean: float
    std: float
    images: int


def _chain(model: Any, layer: str) -> list[Any]:
    """The Keras layers from the first one up to ``layer``, which must form a chain."""
    import keras

    from .layers import _inbound_names

    info = model.layer(layer)
    if not info.is_spatial:
        spatial = ", ".join(model.spatial_layers)
        raise ValueError(f"layer {layer!r} ({info.kind}) has no maps to decode; choose a conv or pooling "
                         f"layer: {spatial}")
    net = model.keras_model
    inputs = {t._keras_history[0].name for t in net.inputs}
    chain, name = [], layer
    while name not in inputs:
        item = net.get_layer(name)
        chain.append(item)
        parents = _inbound_names(item)
        if len(parents) != 1:
            raise ValueError(f"filter decoding needs a chain of layers; {name!r} has {len(parents)} inputs")
        name = parents[0]
    for item in chain:
        kind = type(item).__name__
        if isinstance(item, keras.layers.Conv2D) and kind == "Conv2D":
            continue
        if kind in ("MaxPooling2D", "AveragePooling2D") or kind in _PASS_THROUGH:
            continue
        raise ValueError(f"filter decoding cannot pass layer {item.name!r} ({kind}); it knows Conv2D, "
                         "pooling and per-pixel layers")
    return chain[::-1]


def decode_filters(model: Any, layer: str, unpool: str = "nearest",
                   maps: Sequence[int] | None = None) -> DecodedFilters:
    """Decode every map (or ``maps``) of ``layer`` into input-image space.

    Args:
        model: A :class:`~cnn_widgets.CNNModel` whose layers up to ``layer`` form a
            chain of Conv2D, pooling and per-pixel layers.
        layer: A conv or pooling layer.
        unpool: ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
        maps: Map indices; default all.

    Raises:
        ValueError: Unknown layer, a layer without maps (dense), an unknown
            unpooling mode, or a layer decoding cannot pass.
    """
    import tensorflow as tf

    if unpool not in UNPOOL_MODES:
        raise ValueError(f"unknown unpooling mode {unpool!r}; choose one of {', '.join(UNPOOL_MODES)}")
    chain = _chain(model, layer)
    count = int(model.layer(layer).output_shape[-1])
    chosen = np.arange(count) if maps is None else np.asarray(list(maps), int)
    if chosen.size == 0 or chosen.min() < 0 or chosen.max() >= count:
        raise ValueError(f"maps must be indices 0–{count - 1} of {layer!r}")
    stack = tf.one_hot(chosen, count, dtype=tf.float32)[:, None, None, :]  # one active cell per map
    for item in reversed(chain):
        kind = type(item).__name__
        if kind == "Conv2D":
            kernel = tf.convert_to_tensor(item.kernel, tf.float32)  # (kh, kw, in, out)
            (sh, sw), (dh, dw) = item.strides, item.dilation_rate
            kh, kw = kernel.shape[0], kernel.shape[1]
            n, h, w = stack.shape[0], stack.shape[1], stack.shape[2]
            size = ((h - 1) * sh + (kh - 1) * dh + 1, (w - 1) * sw + (kw - 1) * dw + 1)
            # substitution: each value is replaced by the filter it stands for, overlaps summed
            stack = tf.nn.conv2d_transpose(stack, kernel, (n, *size, kernel.shape[2]), (sh, sw),
                                           padding="VALID", dilations=(dh, dw))
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            sh, sw = item.strides
            stack = tf.image.resize(stack, (stack.shape[1] * sh, stack.shape[2] * sw), method=unpool)
    return DecodedFilters(layer, stack.numpy().astype(np.float32), unpool)


def place(model: Any, decoded: DecodedFilters, index: int, row: int = 0, col: int = 0) -> np.ndarray:
    """Put decoded filter ``index`` on the input at the receptive field of cell ``(row, col)``.

    Returns:
        An array of the input's shape, zero outside the field; parts of the
        filter that fall outside the image (padding, border cells) are cut off.
    """
    info = model.layer(decoded.layer)
    height, width, channels = model.input_shape
    canvas = np.zeros((height, width, channels), np.float32)
    filt = decoded.filters[index]
    top = int(round(info.start[0] + row * info.jump[0] - (filt.shape[0] - 1) / 2))
    left = int(round(info.start[1] + col * info.jump[1] - (filt.shape[1] - 1) / 2))
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + filt.shape[0], height), min(left + filt.shape[1], width)
    canvas[r0:r1, c0:c1] = filt[r0 - top:r1 - top, c0 - left:c1 - left]
    return canvas


def _correlate(model: Any, decoded: DecodedFilters, images: np.ndarray) -> np.ndarray:
    """Each image correlated with each decoded filter at the cells of the layer: (N, h, w, maps)."""
    import tensorflow as tf

    info = model.layer(decoded.layer)
    rows, cols = info.output_shape[0], info.output_shape[1]
    fh, fw = decoded.filters.shape[1:3]
    top = int(round(info.start[0] - (fh - 1) / 2))
    left = int(round(info.start[1] - (fw - 1) / 2))
    need_h = top + (rows - 1) * info.jump[0] + fh
    need_w = left + (cols - 1) * info.jump[1] + fw
    pad = ((0, 0), (max(-top, 0), max(need_h - images.shape[1], 0)),
           (max(-left, 0), max(need_w - images.shape[2], 0)), (0, 0))
    padded = np.pad(images, pad)
    padded = padded[:, max(top, 0):, max(left, 0):]
    kernel = np.transpose(decoded.filters, (1, 2, 3, 0))  # (fh, fw, channels, maps)
    out = tf.nn.conv2d(padded, kernel, strides=info.jump, padding="VALID")
    return out.numpy()[:, :rows, :cols]


def _unit(values: np.ndarray) -> np.ndarray:
    """Contrast-range normalisation per image and map: each map's cells to [0, 1]."""
    low = values.min(axis=(1, 2), keepdims=True)
    span = values.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 1e-12, (values - low) / np.maximum(span, 1e-12), 0.0)


def _response(model: Any, layer: str, batch: np.ndarray) -> np.ndarray:
    """The network's response of ``layer``; for a conv layer, before its activation
    function (as in the paper, whose LeNet has ReLU as layers of their own)."""
    import tensorflow as tf

    from .layers import _inbound_names

    item = model.keras_model.get_layer(layer)
    if type(item).__name__ != "Conv2D" or getattr(item.activation, "__name__", "") == "linear":
        return model.activations(batch, layer)[layer]
    (parent,) = _inbound_names(item)
    below = (model.standardize(batch) if parent not in model.layer_names
             else model.activations(batch, parent)[parent])
    out = tf.nn.conv2d(below, tf.convert_to_tensor(item.kernel), item.strides, item.padding.upper(),
                       dilations=item.dilation_rate)
    if item.use_bias:
        out = out + tf.convert_to_tensor(item.bias)
    return out.numpy()


def response_error(model: Any, layer: str, images: Any, unpool: str = "nearest",
                   decoded: DecodedFilters | None = None, batch_size: int = 256) -> ResponseError:
    """Equation 3 of the paper: how well correlation with decoded filters predicts the network.

    For each image (contrast-normalised to [0, 1]) and map, the network's response
    ``CNN(I, layer, k)`` — for a conv layer before its ReLU, like the paper's
    LeNet, whose ReLU is a layer of its own — and the correlation ``I ⋆ df_k`` at
    the same cells are each normalised to [0, 1] over the map's cells (their
    scales differ by the biases and the input standardisation, which are affine),
    and their mean squared difference is taken. Returned: the mean over images
    and maps, and the spread (std) of the per-image-and-map errors.
    """
    decoded = decoded or decode_filters(model, layer, unpool)
    batch = model.prepare(images)
    low = batch.min(axis=(1, 2, 3), keepdims=True)
    span = np.maximum(batch.max(axis=(1, 2, 3), keepdims=True) - low, 1e-12)
    normalised = (batch - low) / span
    errors = []
    for start in range(0, len(batch), batch_size):
        part = normalised[start:start + batch_size]
        network = _response(model, layer, part)
        ours = _correlate(model, decoded, part)
        errors.append(((_unit(network) - _unit(ours)) ** 2).mean(axis=(1, 2)))
    flat = np.concatenate(errors).ravel()
    return ResponseError(layer, decoded.unpool, float(flat.mean()), float(flat.std()), len(batch))


def top_images(model: Any, layer: str, map_index: int, images: Any, k: int = 4,
               batch_size: int = 256) -> np.ndarray:
    """Indices of the ``k`` images whose strongest cell of map ``map_index`` is strongest."""
    info = model.layer(layer)
    if not info.is_spatial:
        raise ValueError(f"layer {layer!r} has no maps; choose one of: {', '.join(model.spatial_layers)}")
    count = int(info.output_shape[-1])
    if not 0 <= map_index < count:
        raise ValueError(f"map {map_index} is out of range: {layer} has {count} maps (0–{count - 1})")
    values = model.activations(images, layer, batch_size=batch_size)[layer][..., map_index]
    peaks = values.reshape(len(values), -1).max(axis=1)
    return np.argsort(-peaks, kind="stable")[:k]
