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
  picture, and the paper says so; batch norm's linear part, a scale per channel,
  is applied (as if folded into the convolution before it, :mod:`cnn_widgets.model.folding`).

Decoding starts from a single active cell of map ``k``, so a conv layer's first
step gives its raw filter ``f_k``. The result is as large as the map's receptive
field (for the embedded CNN: conv1 3×3, pool1 4×4, conv2 8×8, pool2 10×10,
conv3 18×18) and lines up with the receptive field of a cell in the layer table:
:func:`place` puts it on the input at the place of any cell, clipped to the image.

``response_error`` is the paper's check (equation 3): the network's response of
a map against the correlation of the image with the map's decoded filter. The
paper's figures in code: :func:`responses` (Fig. 3: a layer's true responses to one
image beside those computed with the decoded filters), :func:`decoded_top_images`
beside :func:`top_images` (Fig. 4d: the images the network likes most against those
the decoded filter matches best) and :func:`raw_kernels` (Fig. 4b: a deeper layer's
kernels before decoding, one input channel at a time).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = ["DecodedFilters", "LayerResponses", "ResponseError", "UNPOOL_MODES", "decode_filters",
           "decoded_top_images", "place", "raw_kernels", "response_error", "responses", "top_images"]

UNPOOL_MODES = ("nearest", "bilinear", "bicubic")
_PASS_THROUGH = {"ReLU", "Activation", "BatchNormalization", "Dropout", "SpatialDropout2D", "LeakyReLU",
                 "GaussianNoise", "Identity", "LayerNormalization"}


@dataclass(frozen=True)
class DecodedFilters:
    """The decoded filters of one layer.

    Attributes:
        layer: The layer.
        filters: ``(len(maps), height, width, channels)`` in input-image space; the
            size is the layer's receptive field.
        unpool: The unpooling mode used.
        maps: The map index of each filter (all maps of the layer unless a subset
            was decoded).
    """

    layer: str
    filters: np.ndarray
    unpool: str
    maps: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.maps is None:
            object.__setattr__(self, "maps", np.arange(len(self.filters)))

    def position(self, map_index: int) -> int:
        """Where map ``map_index``'s filter lies in :attr:`filters`.

        Raises:
            ValueError: That map was not decoded.
        """
        found = np.flatnonzero(self.maps == map_index) if _is_index(map_index) else np.zeros(0, int)
        if found.size == 0:
            raise ValueError(f"map {map_index!r} was not decoded; these filters are of maps "
                             f"{_few(self.maps)}")
        return int(found[0])

    def filter(self, map_index: int) -> np.ndarray:
        """The decoded filter of map ``map_index`` ``(height, width, channels)``."""
        return self.filters[self.position(map_index)]

    def thresholded(self, fraction: float = 0.3) -> np.ndarray:
        """The paper's threshold view: +1 / −1 where a filter exceeds ``fraction`` of
        its largest magnitude (positive / negative), 0 elsewhere.

        Raises:
            ValueError: ``fraction`` is not a number in [0, 1].
        """
        if isinstance(fraction, (bool, np.bool_)) or not isinstance(fraction, numbers.Real) \
                or not 0 <= fraction <= 1:
            raise ValueError(f"fraction must be a number in [0, 1] (of each filter's largest magnitude); "
                             f"got {fraction!r}")
        peak = np.abs(self.filters).max(axis=(1, 2, 3), keepdims=True)
        limit = fraction * np.maximum(peak, 1e-12)
        return (np.sign(self.filters) * (np.abs(self.filters) >= limit)).astype(np.float32)


def _is_index(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _few(maps: np.ndarray) -> str:
    values = [int(m) for m in maps]
    return ", ".join(map(str, values[:12])) + (f" … ({len(values)} maps)" if len(values) > 12 else "")


def _check_map_list(maps: Any, layer: str, count: int) -> np.ndarray:
    if maps is None:
        return np.arange(count)
    values = [maps] if np.isscalar(maps) else list(maps)
    if not values or not all(_is_index(v) for v in values):
        raise ValueError(f"maps must be map indices (whole numbers 0–{count - 1}) of {layer!r}; got {maps!r}")
    chosen = np.asarray([int(v) for v in values])
    if chosen.min() < 0 or chosen.max() >= count:
        bad = int(chosen[(chosen < 0) | (chosen >= count)][0])
        raise ValueError(f"map {bad} is out of range: {layer} has {count} maps (0–{count - 1})")
    return chosen


@dataclass(frozen=True)
class LayerResponses:
    """Fig. 3 of the paper for one image: a layer's responses two ways.

    Attributes:
        layer: The layer.
        maps: The map of each response.
        network: ``(h, w, len(maps))``: the network's response (a conv layer before
            its ReLU), each map normalised to [0, 1] over its cells.
        decoded: The same cells computed by correlating the image with the decoded
            filters, normalised the same way.
        error: Equation 3 for this image: the mean squared difference.
    """

    layer: str
    maps: np.ndarray
    network: np.ndarray
    decoded: np.ndarray
    error: float


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
    from ..model.folding import DECODED_CONVS
    from ..model.layers import inbound_names

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
        parents = inbound_names(item)
        if len(parents) != 1:
            raise ValueError(f"filter decoding needs a chain of layers; {name!r} has {len(parents)} inputs")
        name = parents[0]
    for item in chain:
        kind = type(item).__name__
        if kind in DECODED_CONVS:  # depthwise and separable ones as plain kernels (model.folding)
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
    from ..model.backend import tf
    from ..model.folding import DECODED_CONVS, bn_scale, plain_kernel

    if unpool not in UNPOOL_MODES:
        raise ValueError(f"unknown unpooling mode {unpool!r}; choose one of {', '.join(UNPOOL_MODES)}")
    chain = _chain(model, layer)
    count = int(model.layer(layer).output_shape[-1])
    chosen = _check_map_list(maps, layer, count)
    stack = tf.one_hot(chosen, count, dtype=tf.float32)[:, None, None, :]  # one active cell per map
    for item in reversed(chain):
        kind = type(item).__name__
        if kind == "BatchNormalization":  # its linear part: a scale per channel (folded into the conv)
            stack = stack * bn_scale(item)
        elif kind in DECODED_CONVS:
            kernel = tf.convert_to_tensor(plain_kernel(item), tf.float32)  # (kh, kw, in, out)
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
    return DecodedFilters(layer, stack.numpy().astype(np.float32), unpool, chosen)


def place(model: Any, decoded: DecodedFilters, map_index: int, row: int = 0, col: int = 0) -> np.ndarray:
    """Put the decoded filter of map ``map_index`` on the input at the receptive field
    of cell ``(row, col)``.

    Returns:
        An array of the input's shape, zero outside the field; parts of the
        filter that fall outside the image (padding, border cells) are cut off.

    Raises:
        ValueError: The map was not decoded, or the cell is outside the map.
    """
    info = model.layer(decoded.layer)
    rows, cols = info.output_shape[0], info.output_shape[1]
    if not (_is_index(row) and _is_index(col)):
        raise ValueError(f"row and col must be whole numbers (rows 0–{rows - 1}, cols 0–{cols - 1}); "
                         f"got ({row!r}, {col!r})")
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"cell ({row!r}, {col!r}) is outside the {rows}×{cols} maps of {decoded.layer!r}")
    height, width, channels = model.input_shape
    canvas = np.zeros((height, width, channels), np.float32)
    filt = decoded.filter(map_index)
    top = int(round(info.start[0] + row * info.jump[0] - (filt.shape[0] - 1) / 2))
    left = int(round(info.start[1] + col * info.jump[1] - (filt.shape[1] - 1) / 2))
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + filt.shape[0], height), min(left + filt.shape[1], width)
    canvas[r0:r1, c0:c1] = filt[r0 - top:r1 - top, c0 - left:c1 - left]
    return canvas


def _correlate(model: Any, decoded: DecodedFilters, images: np.ndarray) -> np.ndarray:
    """Each image correlated with each decoded filter at the cells of the layer: (N, h, w, maps)."""
    from ..model.backend import tf

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
    from ..model.backend import tf

    from ..model.layers import inbound_names

    item = model.keras_model.get_layer(layer)
    if type(item).__name__ != "Conv2D" or getattr(item.activation, "__name__", "") == "linear":
        return model.activations(batch, layer)[layer]
    (parent,) = inbound_names(item)
    below = (model.standardize(batch) if parent not in model.layer_names
             else model.activations(batch, parent)[parent])
    out = tf.nn.conv2d(below, tf.convert_to_tensor(item.kernel), item.strides, item.padding.upper(),
                       dilations=item.dilation_rate)
    if item.use_bias:
        out = out + tf.convert_to_tensor(item.bias)
    return out.numpy()


def _contrast_normalised(model: Any, images: Any) -> np.ndarray:
    """The paper's single contrast-range normalisation: each image to [0, 1]."""
    batch = model.prepare(images)
    low = batch.min(axis=(1, 2, 3), keepdims=True)
    span = np.maximum(batch.max(axis=(1, 2, 3), keepdims=True) - low, 1e-12)
    return (batch - low) / span


def _decoded_for(model: Any, layer: str, unpool: str, decoded: DecodedFilters | None) -> DecodedFilters:
    if decoded is None:
        return decode_filters(model, layer, unpool)
    if decoded.layer != layer:
        raise ValueError(f"these decoded filters are of layer {decoded.layer!r}, not {layer!r}")
    return decoded


def response_error(model: Any, layer: str, images: Any, unpool: str = "nearest",
                   decoded: DecodedFilters | None = None, batch_size: int = 256) -> ResponseError:
    """Equation 3 of the paper: how well correlation with decoded filters predicts the network.

    For each image (contrast-normalised to [0, 1]) and map, the network's response
    ``CNN(I, layer, k)`` — for a conv layer before its ReLU, like the paper's
    LeNet, whose ReLU is a layer of its own — and the correlation ``I ⋆ df_k`` at
    the same cells are each normalised to [0, 1] over the map's cells (their
    scales differ by the biases and the input standardisation, which are affine),
    and their mean squared difference is taken. Returned: the mean over images
    and maps, and the spread (std) of the per-image-and-map errors. With
    ``decoded`` a subset of maps, only those maps are compared.
    """
    decoded = _decoded_for(model, layer, unpool, decoded)
    normalised = _contrast_normalised(model, images)
    errors = []
    for start in range(0, len(normalised), batch_size):
        part = normalised[start:start + batch_size]
        network = _response(model, layer, part)[..., decoded.maps]
        ours = _correlate(model, decoded, part)
        errors.append(((_unit(network) - _unit(ours)) ** 2).mean(axis=(1, 2)))
    flat = np.concatenate(errors).ravel()
    return ResponseError(layer, decoded.unpool, float(flat.mean()), float(flat.std()), len(normalised))


def responses(model: Any, layer: str, image: Any, unpool: str = "nearest",
              decoded: DecodedFilters | None = None) -> LayerResponses:
    """Fig. 3 of the paper: one image's responses on ``layer``, by the network and by the
    decoded filters, each map normalised to [0, 1] over its cells (as in equation 3).

    Args:
        model: The model.
        layer: A conv or pooling layer.
        image: One image.
        unpool: Unpooling mode, when ``decoded`` is not given.
        decoded: Decoded filters of ``layer`` (all maps or a subset).
    """
    decoded = _decoded_for(model, layer, unpool, decoded)
    batch = np.asarray(image)
    normalised = _contrast_normalised(model, batch)
    if len(normalised) != 1:
        raise ValueError(f"responses takes one image; got a batch of {len(normalised)}")
    network = _unit(_response(model, layer, normalised)[..., decoded.maps])[0]
    ours = _unit(_correlate(model, decoded, normalised))[0]
    return LayerResponses(layer, decoded.maps.copy(), network.astype(np.float32), ours.astype(np.float32),
                          float(((network - ours) ** 2).mean()))


def decoded_top_images(model: Any, decoded: DecodedFilters, map_index: int, images: Any, k: int = 4,
                       batch_size: int = 1024) -> np.ndarray:
    """Fig. 4d of the paper: indices of the ``k`` images whose correlation with the decoded
    filter of ``map_index`` is strongest at some cell (images contrast-normalised)."""
    k = _check_k(k)
    images = _check_images(images)
    position = decoded.position(map_index)
    one = DecodedFilters(decoded.layer, decoded.filters[position:position + 1], decoded.unpool,
                         decoded.maps[position:position + 1])
    peaks = []
    for start in range(0, len(images), batch_size):
        part = _contrast_normalised(model, images[start:start + batch_size])
        peaks.append(_correlate(model, one, part)[..., 0].reshape(len(part), -1).max(axis=1))
    return np.argsort(-np.concatenate(peaks), kind="stable")[:k]


def raw_kernels(model: Any, layer: str, channel: int = 0) -> np.ndarray:
    """Fig. 4b of the paper: a conv layer's kernels before decoding, for one input channel.

    Returns:
        ``(kh, kw, maps)``: the weights each map gives input channel ``channel``.

    Raises:
        ValueError: Not a plain Conv2D layer, or a channel out of range.
    """
    info = model.layer(layer)
    item = model.keras_model.get_layer(layer)
    if type(item).__name__ != "Conv2D":
        convs = [row.name for row in model.layers_table() if row.kind == "Conv2D"]
        raise ValueError(f"layer {layer!r} ({info.kind}) has no kernels to show; choose a Conv2D layer: "
                         f"{', '.join(convs)}")
    kernel = np.asarray(item.kernel)  # (kh, kw, in, out)
    channels = kernel.shape[2]
    if not _is_index(channel) or not 0 <= channel < channels:
        raise ValueError(f"channel must be a whole number 0–{channels - 1} (the inputs of {layer!r}); "
                         f"got {channel!r}")
    return kernel[:, :, int(channel), :].astype(np.float32)


def _check_images(images: Any) -> Any:
    if images is None or isinstance(images, (str, bytes)) or not hasattr(images, "__len__") \
            or not hasattr(images, "__getitem__"):
        raise TypeError(f"images must be an array of images (N, height, width[, channels]); got "
                        f"{type(images).__name__}")
    return images


def _check_k(k: Any) -> int:
    if not _is_index(k) or k < 1:
        raise ValueError(f"k must be a whole number ≥ 1; got {k!r}")
    return int(k)


def top_images(model: Any, layer: str, map_index: int, images: Any, k: int = 4,
               batch_size: int = 256) -> np.ndarray:
    """Indices of the ``k`` images whose strongest cell of map ``map_index`` is strongest.

    The layer's per-image peaks are computed in batches and kept per model version
    and image array (see :func:`cnn_widgets.methods.statistics.layer_statistics`).
    """
    from .statistics import layer_statistics

    info = model.layer(layer)
    if not info.is_spatial:
        raise ValueError(f"layer {layer!r} has no maps; choose one of: {', '.join(model.spatial_layers)}")
    count = int(info.output_shape[-1])
    if not _is_index(map_index) or not 0 <= map_index < count:
        raise ValueError(f"map {map_index!r} is out of range: {layer} has {count} maps (0–{count - 1})")
    k = _check_k(k)
    peaks, _ = layer_statistics(model, layer, _check_images(images), batch_size=batch_size)
    return np.argsort(-peaks[:, int(map_index)], kind="stable")[:k]
