"""The layer table: what each layer of a CNN outputs and which input pixels it sees.

The receptive-field arithmetic follows the seed text (``cnn-basics``): for a chain
of convolutions and poolings, a layer's receptive field ``r``, the input distance
``j`` between neighbouring cells (its *jump*) and the input position of its first
cell's centre ``c`` are::

    j_out = j_in * stride
    r_out = r_in + (kernel - 1) * dilation * j_in
    c_out = c_in + ((kernel - 1) * dilation / 2 - pad_before) * j_in

starting from ``r = 1, j = 1, c = 0`` on the input. For the embedded MNIST CNN this
gives 3 → 4 → 8 → 10 → 18 pixels for conv1, pool1, conv2, pool2, conv3.
Non-spatial layers (Flatten, Dense, global pooling) see the whole input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LayerInfo", "describe_layers", "format_table", "inbound_names", "layer_parameters"]

#: Keras layers that slide a window over the image (kernel, strides, padding).
_WINDOW_LAYERS = {
    "Conv2D": "conv",
    "SeparableConv2D": "conv",
    "DepthwiseConv2D": "conv",
    "MaxPooling2D": "pool",
    "AveragePooling2D": "pool",
}


@dataclass(frozen=True)
class LayerInfo:
    """One row of the layer table.

    Attributes:
        name: The Keras layer name, e.g. ``"conv2"``.
        kind: The Keras class name, e.g. ``"Conv2D"``.
        output_shape: Output shape of one image (no batch axis), e.g. ``(11, 11, 64)``.
        params: Number of weights, biases included.
        receptive_field: ``(height, width)`` in input pixels that one output cell
            depends on; the whole input for non-spatial layers; ``None`` where a
            layer's geometry is unknown.
        jump: ``(rows, cols)`` input pixels between neighbouring cells of a map,
            ``None`` for non-spatial layers.
        start: Input position (row, col) of the centre of cell ``(0, 0)``,
            ``None`` for non-spatial layers.
        input_size: ``(height, width)`` of the model's input.
    """

    name: str
    kind: str
    output_shape: tuple[int | None, ...]
    params: int
    receptive_field: tuple[int, int] | None
    jump: tuple[int, int] | None
    start: tuple[float, float] | None
    input_size: tuple[int | None, int | None]

    @property
    def is_spatial(self) -> bool:
        """True for layers whose output is a stack of 2-D maps ``(H, W, maps)``."""
        return len(self.output_shape) == 3

    @property
    def is_conv(self) -> bool:
        """True for 2-D convolution layers."""
        return _WINDOW_LAYERS.get(self.kind) == "conv"

    @property
    def maps(self) -> int | None:
        """Number of maps (spatial layers) or units (flat layers)."""
        return self.output_shape[-1] if self.output_shape else None

    def input_region(self, row: int, col: int) -> tuple[int, int, int, int]:
        """Input pixels that cell ``(row, col)`` of a map sees.

        Returns:
            ``(top, left, bottom, right)``, bottom/right exclusive, clipped to the
            input image.

        Raises:
            ValueError: For a non-spatial layer, a layer of unknown geometry, or a
                cell outside the map.
        """
        if not self.is_spatial or self.jump is None or self.start is None:
            raise ValueError(
                f"layer {self.name!r} ({self.kind}) has no map cells with a known "
                "receptive field; use a conv or pooling layer"
            )
        for what, value in (("row", row), ("col", col)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"cell {what} must be a whole number (an int); got {value!r}")
        height, width = self.output_shape[0], self.output_shape[1]
        if not (0 <= row < (height or 0) and 0 <= col < (width or 0)):
            raise ValueError(
                f"cell ({row}, {col}) is outside the {height}×{width} maps of {self.name!r}"
            )
        assert self.receptive_field is not None
        bounds = []
        for index, start, jump, size, limit in zip(
            (row, col), self.start, self.jump, self.receptive_field, self.input_size
        ):
            centre = start + index * jump
            first = int(round(centre - (size - 1) / 2))
            last = first + size
            bounds.append((max(first, 0), last if limit is None else min(last, limit)))
        (top, bottom), (left, right) = bounds
        return top, left, bottom, right


#: Per axis: receptive field, jump and start of a layer's cells.
_Geometry = tuple[tuple[int, int], tuple[int, int], tuple[float, float]]


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    return int(value[0]), int(value[1])


def _pad_before(padding: str, size_in: int | None, size_out: int | None, kernel: int,
                stride: int, dilation: int) -> float:
    if padding == "valid" or size_in is None or size_out is None:
        return 0.0
    total = max((size_out - 1) * stride + (kernel - 1) * dilation + 1 - size_in, 0)
    return float(total // 2)


def inbound_names(layer: Any) -> list[str]:
    """Names of the layers that feed ``layer`` (first call of the layer)."""
    import keras

    try:
        tensors = keras.tree.flatten(layer.input)
    except (AttributeError, ValueError):
        return []
    names = []
    for tensor in tensors:
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            names.append(history[0].name)
    return names


def describe_layers(keras_model: Any) -> list[LayerInfo]:
    """Build the layer table of a built Keras model with one image input.

    Args:
        keras_model: A built ``keras.Model`` (Sequential or functional).

    Returns:
        One :class:`LayerInfo` per layer, in the model's order, input layer excluded.
    """
    import keras

    if not isinstance(keras_model, keras.Model):
        raise TypeError(f"describe_layers takes a keras.Model; got {type(keras_model).__name__}")
    try:
        inputs = keras_model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs or len(inputs[0].shape) != 4:
        raise ValueError("describe_layers needs a built model with one image input (batch, H, W, C)")
    input_shape = tuple(keras_model.inputs[0].shape[1:])
    input_size = (input_shape[0], input_shape[1])
    geometry: dict[str, _Geometry | None] = {}
    input_names = {t._keras_history[0].name for t in keras_model.inputs}
    for name in input_names:
        geometry[name] = ((1, 1), (1, 1), (0.0, 0.0))

    rows = []
    previous: _Geometry | None = ((1, 1), (1, 1), (0.0, 0.0))
    for layer in keras_model.layers:
        if layer.name in input_names:
            continue
        kind = type(layer).__name__
        out_shape = tuple(layer.output.shape[1:])
        in_shape = tuple(keras.tree.flatten(layer.input)[0].shape[1:])
        parents = [geometry.get(n) for n in inbound_names(layer)] or [previous]
        if any(p is None for p in parents):
            parent = None
        else:
            # Merging branches (Add, Concatenate): the widest field wins.
            parent = max(parents, key=lambda g: g[0])  # type: ignore[index]

        geo: _Geometry | None
        if len(out_shape) != 3:
            geo = None  # flat output: sees the whole input
        elif parent is None:
            geo = None
        elif kind in _WINDOW_LAYERS:
            config = layer.get_config()
            kernel = _pair(config.get("kernel_size", config.get("pool_size")))
            strides = _pair(config.get("strides") or kernel)
            dilation = _pair(config.get("dilation_rate", 1))
            padding = config.get("padding", "valid")
            rf, jump, start = parent
            new_rf, new_jump, new_start = [], [], []
            for axis in range(2):
                pad = _pad_before(padding, in_shape[axis], out_shape[axis], kernel[axis],
                                  strides[axis], dilation[axis])
                new_rf.append(rf[axis] + (kernel[axis] - 1) * dilation[axis] * jump[axis])
                new_jump.append(jump[axis] * strides[axis])
                new_start.append(
                    start[axis] + ((kernel[axis] - 1) * dilation[axis] / 2 - pad) * jump[axis]
                )
            geo = (tuple(new_rf), tuple(new_jump), tuple(new_start))  # type: ignore[assignment]
        elif len(in_shape) == 3 and in_shape[:2] == out_shape[:2]:
            geo = parent  # element-wise or per-pixel layers keep the geometry
        else:
            geo = None  # a spatial layer whose geometry we do not know
        geometry[layer.name] = geo
        if len(out_shape) == 3:
            previous = geo

        if len(out_shape) != 3:
            receptive_field = input_size if None not in input_size else None
            jump_start: tuple[Any, Any] = (None, None)
        elif geo is None:
            receptive_field, jump_start = None, (None, None)
        else:
            receptive_field, jump_start = geo[0], (geo[1], geo[2])
        rows.append(
            LayerInfo(
                name=layer.name,
                kind=kind,
                output_shape=out_shape,
                params=int(layer.count_params()),
                receptive_field=receptive_field,  # type: ignore[arg-type]
                jump=jump_start[0],
                start=jump_start[1],
                input_size=input_size,
            )
        )
    return rows


def format_table(rows: list[LayerInfo]) -> str:
    """The layer table as aligned text (name, kind, output, parameters, receptive field)."""
    rows = list(rows)
    for row in rows:
        if not isinstance(row, LayerInfo):
            raise TypeError(f"format_table takes LayerInfo rows (model.layers_table()); got {type(row).__name__}")
    header = ("layer", "kind", "output shape", "params", "receptive field")
    lines = [header]
    for row in rows:
        shape = "×".join("?" if s is None else str(s) for s in row.output_shape)
        if row.receptive_field is None:
            field = "?"
        else:
            field = "×".join(str(s) for s in row.receptive_field)
            if not row.is_spatial:
                field += " (all)"
        lines.append((row.name, row.kind, shape, f"{row.params:,}", field))
    total = sum(row.params for row in rows)
    lines.append(("total", "", "", f"{total:,}", ""))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    aligned = [
        "  ".join(cell.rjust(w) if i == 3 else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths)))
        .rstrip()
        for line in lines
    ]
    return "\n".join(aligned)


def layer_parameters(keras_model: Any, name: str, known: Any) -> dict[str, Any]:
    """What one layer computes, as plain numbers (the cell inspector redoes it in NumPy).

    Returns:
        ``kind`` (Keras class name), ``inputs`` (names of the layers feeding it;
        empty for the image), ``activation`` (``"linear"`` when none) and, by
        kind, ``kernel``/``bias`` (NumPy; ``bias`` None without one),
        ``strides``, ``padding``, ``dilation`` (Conv2D), ``pool_size``,
        ``strides``, ``padding`` (pooling).

    Args:
        keras_model: The Keras model.
        name: A layer of it (checked by the caller).
        known: The layer names the table lists (inputs from elsewhere are left out).
    """
    import keras

    layer = keras_model.get_layer(name)
    config = layer.get_config()
    activation = config.get("activation", "linear")
    params: dict[str, Any] = {
        "kind": type(layer).__name__,
        "inputs": [n for n in inbound_names(layer) if n in known],
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
