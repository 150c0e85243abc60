"""The arithmetic behind one number of a layer, redone in NumPy from the weights.

For a cell of a convolution: the input patch it reads (every input channel, k×k),
the kernel, the element-wise products, their sum, the bias, the activation and the
value. For a pooling cell: the window and which input won. For a dense unit: the
inputs that contribute most (weight × activation), ranked. The value equals what
:meth:`CNNModel.activations` gives for that cell (the tests check it to 1e-5 on
every layer), so what the inspector shows is what the network computed.

Only NumPy here: the weights come from :meth:`CNNModel.layer_parameters`, the
activations of the layer below from :meth:`CNNModel.activations` (or the live model).

Example:
    >>> maps = {k: v[0] for k, v in model.activations(image).items()}
    >>> cell = explain_cell(model, "conv2", (4, 5, 17), image=image, activations=maps)
    >>> cell.total + cell.bias == cell.pre_activation
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["CellExplanation", "Contribution", "explain_cell", "check_cell", "cell_shape", "supported_layers",
           "ACTIVATIONS"]

#: Layers that pass values through unchanged when the network predicts.
_IDENTITY = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
             "AlphaDropout", "ActivityRegularization"}
_KINDS = {"Conv2D": "conv", "Dense": "dense", "MaxPooling2D": "pool", "AveragePooling2D": "pool",
          "Flatten": "reshape", "Activation": "activation", **{k: "identity" for k in _IDENTITY}}


def _softmax(z: np.ndarray) -> np.ndarray:
    from scipy.special import softmax

    return softmax(z, axis=-1)


def _erf(z: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(z)


#: Activation functions by their Keras names (the layer's whole vector in, same shape out).
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "relu6": lambda z: np.clip(z, 0.0, 6.0),
    "leaky_relu": lambda z: np.where(z >= 0, z, 0.2 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "selu": lambda z: 1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * np.expm1(np.minimum(z, 0.0))),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "hard_sigmoid": lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0),
    "tanh": np.tanh,
    "softplus": lambda z: np.logaddexp(0.0, z),
    "softsign": lambda z: z / (1.0 + np.abs(z)),
    "silu": lambda z: z / (1.0 + np.exp(-z)),
    "swish": lambda z: z / (1.0 + np.exp(-z)),
    "gelu": lambda z: 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0))),
    "exponential": np.exp,
    "softmax": _softmax,
}


@dataclass(frozen=True)
class Contribution:
    """One input of a dense unit.

    Attributes:
        index: Position in the layer's input vector.
        source: ``(layer, row, col, map)`` of that input in the spatial layer it was
            flattened from, or ``(layer, index)`` for a flat input.
        activation: The input's value for the image.
        weight: Its weight into the unit.
        product: ``weight × activation``.
    """

    index: int
    source: tuple[Any, ...]
    activation: float
    weight: float
    product: float


@dataclass(frozen=True)
class CellExplanation:
    """How one cell of one layer got its value.

    Attributes:
        layer: The layer.
        kind: ``"conv"``, ``"pool"``, ``"dense"``, ``"reshape"`` (Flatten),
            ``"activation"`` or ``"identity"`` (e.g. Dropout when predicting).
        cell: ``(row, col, map)`` for a layer with maps, ``(unit,)`` for a flat one.
        below: The layer read, or ``"image"`` (the standardised input).
        value: The cell's value; equals the model's activation.
        activation: Name of the activation function (``"linear"`` for none).
        pre_activation: ``total + bias`` (conv, dense), before the activation.
        total: Sum of the products (conv, dense).
        bias: The bias (0 without one).
        patch: Conv: the input values read ``(k, k, in)``; pool: the window
            ``(k, k)`` (NaN where it hangs over a border); dense: the inputs
            ``(n,)``; Flatten / identity: ``(1, 1)``.
        kernel: Conv: the weights ``(k, k, in)`` for this map; dense: ``(n,)``.
        products: ``patch × kernel`` (conv, dense).
        positions: ``(k, k, 2)`` rows and columns in ``below`` of each patch entry
            (may lie outside it with 'same' padding).
        channels: The channels of ``below`` read by ``patch``'s last axis.
        winner: Max pooling: ``(i, j)`` in the window that won.
        operation: Pool: ``"max"`` or ``"average"``.
        sources: Dense: ``(layer, shape)`` the inputs come from (through a
            Flatten: the maps), for :meth:`contributions`.
        logits: For a softmax: the pre-activations of the whole vector.
        region: ``(top, left, bottom, right)`` input pixels the cell sees.
        outside: ``(k, k)`` True where the window hangs over the border (padding).
    """

    layer: str
    kind: str
    cell: tuple[int, ...]
    below: str
    value: float
    activation: str = "linear"
    pre_activation: float = float("nan")
    total: float = float("nan")
    bias: float = 0.0
    patch: np.ndarray | None = None
    kernel: np.ndarray | None = None
    products: np.ndarray | None = None
    positions: np.ndarray | None = None
    channels: tuple[int, ...] = ()
    winner: tuple[int, int] | None = None
    operation: str = ""
    sources: tuple[str, tuple[int, ...]] | None = None
    logits: np.ndarray | None = field(default=None, repr=False)
    region: tuple[int, int, int, int] | None = None
    outside: np.ndarray | None = field(default=None, repr=False)

    def source_of(self, i: int, j: int, channel_slot: int = 0) -> tuple[str, tuple[int, ...]] | None:
        """The cell of ``below`` that patch entry ``(i, j, channel_slot)`` reads.

        Returns ``(layer, (row, col, map))`` — layer ``"image"`` for pixels — or None
        for an entry outside the patch or over the border (padding).
        """
        if self.positions is None:
            return None
        k_h, k_w = self.positions.shape[:2]
        if not (0 <= i < k_h and 0 <= j < k_w and 0 <= channel_slot < len(self.channels)):
            return None
        if self.outside is not None and self.outside[i, j]:
            return None
        row, col = (int(v) for v in self.positions[i, j])
        return self.below, (row, col, int(self.channels[channel_slot]))

    @property
    def terms(self) -> int:
        """How many products are summed (conv: k·k·in; dense: inputs); 0 otherwise."""
        return 0 if self.products is None else int(self.products.size)

    def contributions(self, count: int | None = None) -> list[Contribution]:
        """Dense: the inputs ranked by ``|weight × activation|``, the ``count`` largest."""
        if self.kind != "dense" or self.products is None or self.sources is None:
            return []
        order = np.argsort(-np.abs(self.products), kind="stable")[:count]
        layer, shape = self.sources
        inputs, weights = self.patch, self.kernel
        assert inputs is not None and weights is not None
        return [Contribution(int(i), (layer, *(int(v) for v in np.unravel_index(int(i), shape))),
                             float(inputs[i]), float(weights[i]), float(self.products[i]))
                for i in order]


def supported_layers(model: Any) -> list[str]:
    """The model's layers the inspector can explain, in order."""
    return [row.name for row in model.layers_table() if row.kind in _KINDS]


def cell_shape(model: Any, layer: str) -> tuple[int, ...]:
    """``(rows, cols, maps)`` of a layer with maps, ``(units,)`` of a flat one."""
    return tuple(int(s) for s in model.layer(layer).output_shape)


def check_cell(model: Any, layer: str, cell: Any) -> tuple[int, ...]:
    """``cell`` as a tuple of ints inside ``layer``.

    Raises:
        TypeError: Not a tuple of integers (NaN included).
        ValueError: Wrong length for the layer, or outside it.
    """
    shape = cell_shape(model, layer)
    if isinstance(cell, (int, np.integer)) and not isinstance(cell, bool):
        cell = (int(cell),)
    try:
        items = tuple(cell)
    except TypeError:
        raise TypeError(f"a cell is a tuple of integers; got {cell!r}") from None
    what = "(row, col, map)" if len(shape) == 3 else "(unit,)"
    if len(items) != len(shape):
        raise ValueError(f"layer {layer!r} has cells {what}; got {items!r}")
    for value in items:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"cell coordinates must be integers; got {value!r} in {items!r}")
    if any(not 0 <= v < s for v, s in zip(items, shape)):
        ranges = " × ".join(f"0–{s - 1}" for s in shape)
        raise ValueError(f"cell {items} is outside layer {layer!r}: {what} in {ranges}")
    return tuple(int(v) for v in items)


def _parameters(model: Any, layer: str) -> dict[str, Any]:
    return model.cached(("layer parameters", layer), lambda: model.layer_parameters(layer))


def _activate(name: str, pre: np.ndarray) -> np.ndarray:
    try:
        function = ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"activation {name!r} is not one the inspector knows; "
                         f"it knows: {', '.join(ACTIVATIONS)}") from None
    return np.asarray(function(np.asarray(pre, np.float64)), np.float64)


def _below(model: Any, params: dict[str, Any], layer: str, image: Any,
           activations: dict[str, np.ndarray]) -> tuple[str, np.ndarray]:
    inputs = params["inputs"]
    if len(inputs) > 1:
        raise ValueError(f"layer {layer!r} has {len(inputs)} inputs; the inspector follows one")
    if not inputs:
        if image is None:
            raise ValueError(f"layer {layer!r} reads the image: give image=")
        batch = model.prepare(image)
        return "image", model.standardize(batch)[0].astype(np.float64)
    name = inputs[0]
    if name not in activations:
        raise ValueError(f"activations of {name!r} (the layer below {layer!r}) are missing")
    return name, np.asarray(activations[name], np.float64)


def _window(params: dict[str, Any], size_in: tuple[int, int], size_out: tuple[int, int],
            kernel: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    strides = tuple(params.get("strides") or kernel)
    dilation = tuple(params.get("dilation") or (1, 1))
    before = []
    for axis in range(2):
        if params.get("padding", "valid") == "same":
            total = max((size_out[axis] - 1) * strides[axis] + (kernel[axis] - 1) * dilation[axis] + 1
                        - size_in[axis], 0)
            before.append(total // 2)
        else:
            before.append(0)
    return strides, dilation, tuple(before)  # type: ignore[return-value]


def _positions(row: int, col: int, kernel: tuple[int, int], strides: tuple[int, int],
               dilation: tuple[int, int], before: tuple[int, int]) -> np.ndarray:
    rows = row * strides[0] - before[0] + np.arange(kernel[0]) * dilation[0]
    cols = col * strides[1] - before[1] + np.arange(kernel[1]) * dilation[1]
    return np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1)


def _gather(values: np.ndarray, positions: np.ndarray, fill: float) -> tuple[np.ndarray, np.ndarray]:
    """``values[rows, cols, :]`` at ``positions``; ``fill`` outside. Returns (patch, outside)."""
    h, w = values.shape[:2]
    rows, cols = positions[..., 0], positions[..., 1]
    outside = (rows < 0) | (rows >= h) | (cols < 0) | (cols >= w)
    patch = values[np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)]
    patch[outside] = fill
    return patch, outside


def explain_cell(model: Any, layer: str, cell: Any, *, image: Any = None,
                 activations: dict[str, np.ndarray] | None = None) -> CellExplanation:
    """Redo the arithmetic of one cell of ``layer`` for one image.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        layer: The layer (see :func:`supported_layers`).
        cell: ``(row, col, map)`` for a layer with maps, ``(unit,)`` or an int for a flat one.
        image: The image (needed when ``layer`` reads the image, and when
            ``activations`` is not given).
        activations: Layer → activations of the image without the batch axis (e.g.
            ``LiveModel.activations``); computed from ``image`` when omitted.

    Raises:
        ValueError: Unknown or unsupported layer; a cell outside the layer; missing inputs.
        TypeError: Cell coordinates that are not integers (NaN included).
    """
    info = model.layer(layer)
    cell = check_cell(model, layer, cell)
    if info.kind not in _KINDS:
        raise ValueError(f"the inspector explains {', '.join(sorted(set(_KINDS)))} layers; "
                         f"{layer!r} is a {info.kind}")
    if activations is None:
        if image is None:
            raise ValueError("give image= or activations=")
        activations = {k: v[0] for k, v in model.activations(image).items()}
    params = _parameters(model, layer)
    below, values = _below(model, params, layer, image, activations)
    kind = _KINDS[info.kind]
    region = info.input_region(cell[0], cell[1]) if info.is_spatial and info.jump is not None else (
        (0, 0, *info.input_size) if not info.is_spatial and None not in info.input_size else None)
    if kind == "conv":
        return _conv(model, layer, cell, below, values, params, region)
    if kind == "pool":
        return _pool(layer, cell, below, values, params, info.kind, cell_shape(model, layer), region)
    if kind == "dense":
        return _dense(model, layer, cell, below, values, params, region)
    if kind == "reshape":
        flat = values.reshape(-1)
        source = (tuple(int(v) for v in np.unravel_index(cell[0], values.shape))
                  if values.ndim > 1 else (cell[0],))
        return CellExplanation(layer, kind, cell, below, float(flat[cell[0]]),
                               positions=np.array([[source[:2]]]) if len(source) == 3 else None,
                               channels=(source[2],) if len(source) == 3 else (),
                               patch=np.array([[flat[cell[0]]]]), region=region)
    # identity / activation layers: one value in, one out (the activation sees the whole vector)
    activation = params["activation"] if kind == "activation" else "linear"
    if values.ndim == 3:
        vector = values[cell[0], cell[1]]
        pre, index = float(vector[cell[2]]), cell[2]
        positions, channels = np.array([[cell[:2]]]), (cell[2],)
    else:
        vector, index = values.reshape(-1), cell[0]
        pre, positions, channels = float(vector[index]), None, ()
    out = _activate(activation, vector)[index]
    return CellExplanation(layer, kind, cell, below, float(out), activation=activation, pre_activation=pre,
                           patch=np.array([[pre]]), positions=positions, channels=channels, region=region)


def _conv(model: Any, layer: str, cell: tuple[int, ...], below: str, values: np.ndarray,
          params: dict[str, Any], region: Any) -> CellExplanation:
    if int(params.get("groups", 1) or 1) != 1:
        raise ValueError(f"layer {layer!r} is a grouped convolution; the inspector explains groups=1")
    kernel_all = np.asarray(params["kernel"], np.float64)  # (kh, kw, in, out)
    k = kernel_all.shape[:2]
    out_shape = cell_shape(model, layer)
    strides, dilation, before = _window(params, values.shape[:2], out_shape[:2], k)
    row, col, index = cell
    positions = _positions(row, col, k, strides, dilation, before)
    patch, outside = _gather(values, positions, 0.0)  # conv pads with zeros
    bias_all = (np.zeros(kernel_all.shape[-1]) if params.get("bias") is None
                else np.asarray(params["bias"], np.float64))
    pre_all = np.einsum("ijc,ijco->o", patch, kernel_all) + bias_all
    kernel = kernel_all[..., index]
    products = patch * kernel
    total = float(products.sum())
    bias = float(bias_all[index])
    value = float(_activate(params["activation"], pre_all)[index])
    return CellExplanation(
        layer, "conv", cell, below, value, activation=params["activation"], pre_activation=total + bias,
        total=total, bias=bias, patch=patch, kernel=kernel, products=products, positions=positions,
        channels=tuple(range(values.shape[-1])), logits=pre_all if params["activation"] == "softmax" else None,
        region=region, outside=outside)


def _pool(layer: str, cell: tuple[int, ...], below: str, values: np.ndarray, params: dict[str, Any],
          kind: str, out_shape: tuple[int, ...], region: Any) -> CellExplanation:
    size = tuple(params["pool_size"])
    row, col, index = cell
    strides, _, before = _window({**params, "dilation": None}, values.shape[:2], out_shape[:2], size)
    positions = _positions(row, col, size, strides, (1, 1), before)
    window, outside = _gather(values[..., index:index + 1], positions, np.nan)
    window = window[..., 0]
    valid = window[~outside]
    if kind == "MaxPooling2D":
        value = float(valid.max())
        masked = np.where(outside, -np.inf, window)
        i, j = (int(v) for v in np.unravel_index(int(np.argmax(masked)), window.shape))
        return CellExplanation(layer, "pool", cell, below, value, patch=window, positions=positions,
                               channels=(index,), winner=(i, j), operation="max", region=region, outside=outside)
    total = float(valid.sum())
    return CellExplanation(layer, "pool", cell, below, total / valid.size, total=total, patch=window,
                           positions=positions, channels=(index,), operation="average", region=region,
                           outside=outside)


def _dense(model: Any, layer: str, cell: tuple[int, ...], below: str, values: np.ndarray,
           params: dict[str, Any], region: Any) -> CellExplanation:
    kernel = np.asarray(params["kernel"], np.float64)  # (inputs, units)
    x = values.reshape(-1)
    bias_all = np.zeros(kernel.shape[1]) if params.get("bias") is None else np.asarray(params["bias"], np.float64)
    pre_all = x @ kernel + bias_all
    unit = cell[0]
    weights = kernel[:, unit]
    products = x * weights
    total, bias = float(products.sum()), float(bias_all[unit])
    value = float(_activate(params["activation"], pre_all)[unit])
    return CellExplanation(layer, "dense", cell, below, value, activation=params["activation"],
                           pre_activation=total + bias, total=total, bias=bias, patch=x, kernel=weights,
                           products=products, sources=_flat_sources(model, below, values),
                           logits=pre_all if params["activation"] == "softmax" else None, region=region)


def _flat_sources(model: Any, below: str, values: np.ndarray) -> tuple[str, tuple[int, ...]]:
    """Where a flat input comes from: through a Flatten, the maps it flattened."""
    if below != "image" and model.layer(below).kind == "Flatten":
        params = _parameters(model, below)
        if len(params["inputs"]) == 1 and model.layer(params["inputs"][0]).is_spatial:
            parent = params["inputs"][0]
            return parent, cell_shape(model, parent)
    return below, tuple(values.shape)
