"""Seed 002, "same filters twice?": do two training runs learn the same filters, in the same order?

The filters of one layer of two runs are compared in image space (first layer: the
raw kernels; deeper layers: their decoded filters, :func:`cnn_widgets.methods.decode.decode_filters`,
because a deeper kernel's input channels are the other run's maps in another order).
Every pair gets the Pearson correlation of the two filters; the best one-to-one
pairing maximises the sum of correlations (``scipy.optimize.linear_sum_assignment``).

Any two sets of filters can be paired, so the pairing's qualities are compared with
a **shuffled baseline**: the same optimal pairing against the second run's filters
shuffled (by default their Fourier phases randomised: the same smoothness and
values, no shape; or their pixels permuted), repeated. A pair
that is clearly better than the baseline pair of the same rank is a filter both
runs learned. ``same_index`` tells whether they also come in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..render import mosaic

__all__ = ["FilterMatch", "layer_filters", "match_filters"]


@dataclass(frozen=True)
class FilterMatch:
    """Filters of one layer of two runs, paired.

    Attributes:
        layer: The layer.
        filters_a, filters_b: The filters compared, ``(count, h, w, channels)``.
        correlation: ``(count_a, count_b)`` Pearson correlation of every pair.
        pairs: ``(pairs, 2)``: filter of run A, its partner in run B; best pair first.
        quality: The correlation of each pair, same order (decreasing).
        baseline: ``(shuffles, pairs)``: the qualities, in decreasing order, of the
            optimal pairing against run B's filters with shuffled pixels.
        same_index: Pairs whose two filters have the same index in both runs.
    """

    layer: str
    filters_a: np.ndarray
    filters_b: np.ndarray
    correlation: np.ndarray
    pairs: np.ndarray
    quality: np.ndarray
    baseline: np.ndarray
    same_index: int

    @property
    def baseline_quality(self) -> np.ndarray:
        """The mean shuffled-baseline quality at each rank ``(pairs,)``."""
        return self.baseline.mean(axis=0)

    @property
    def above_baseline(self) -> np.ndarray:
        """Per pair: True where its quality beats the 95th percentile of the baseline at its rank."""
        return self.quality > np.percentile(self.baseline, 95, axis=0)

    def summary(self) -> str:
        """The match in one line."""
        return (f"{self.layer}: {len(self.pairs)} pairs, mean correlation {self.quality.mean():.2f} "
                f"(shuffled baseline {self.baseline.mean():.2f}); {int(self.above_baseline.sum())} pairs above "
                f"the baseline's 95th percentile; {self.same_index} in the same place in both runs")

    def picture(self, count: int | None = None) -> np.ndarray:
        """Palette indices: run A's filters (top row) above their partners in run B, best
        pair first, each on its own scale centred on 0 (diverging colours)."""
        count = len(self.pairs) if count is None else max(1, min(int(count), len(self.pairs)))
        a = self.filters_a[self.pairs[:count, 0]].mean(axis=3)
        b = self.filters_b[self.pairs[:count, 1]].mean(axis=3)
        stack = np.concatenate([a, b])
        peak = np.maximum(np.abs(stack).max(axis=(1, 2), keepdims=True), 1e-12)
        return mosaic(np.moveaxis(stack / peak, 0, -1), value_range=(-1.0, 1.0), columns=count).indices


def layer_filters(model: Any, layer: str, decoded: bool | None = None) -> np.ndarray:
    """The filters of ``layer`` in image space, ``(count, h, w, channels)``.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        layer: A conv layer (or, decoded, any layer with maps).
        decoded: Decode (default: for every layer but the first conv layer, whose
            kernels already act on pixels).
    """
    info = model.layer(layer)
    first = next(row.name for row in model.layers_table() if row.is_conv)
    if decoded is None:
        decoded = layer != first
    if not decoded:
        if not info.is_conv:
            raise ValueError(f"layer {layer!r} ({info.kind}) has no kernels; give decoded=True")
        if layer != first:
            raise ValueError(f"the raw kernels of {layer!r} act on maps, not pixels, and the maps of two runs "
                             "come in different orders: compare its decoded filters (decoded=True)")
        kernel = np.asarray(model.keras_model.get_layer(layer).get_weights()[0], np.float32)
        return np.moveaxis(kernel, -1, 0)
    from .decode import decode_filters

    return decode_filters(model, layer).filters


def _correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    def unit(x: np.ndarray) -> np.ndarray:
        flat = x.reshape(len(x), -1).astype(np.float64)
        flat = flat - flat.mean(axis=1, keepdims=True)
        return flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)

    return unit(a) @ unit(b).T


def _shuffled(filters: np.ndarray, how: str, rng: np.random.Generator) -> np.ndarray:
    """Surrogate filters: the same values without their arrangement.

    ``"pixels"``: each filter's pixels in a random order. ``"phases"``: each filter's
    2-D Fourier phases replaced by those of white noise, amplitudes kept — the same
    smoothness (spatial spectrum) as the original, no shape.
    """
    if how == "pixels":
        flat = filters.reshape(len(filters), -1)
        return np.stack([row[rng.permutation(row.size)] for row in flat]).reshape(filters.shape)
    amplitude = np.abs(np.fft.fft2(filters, axes=(1, 2)))
    phase = np.angle(np.fft.fft2(rng.normal(size=filters.shape), axes=(1, 2)))
    return np.fft.ifft2(amplitude * np.exp(1j * phase), axes=(1, 2)).real


def _assign(correlation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(correlation, maximize=True)
    quality = correlation[rows, cols]
    order = np.argsort(-quality, kind="stable")
    return np.stack([rows[order], cols[order]], axis=1), quality[order]


def match_filters(a: Any, b: Any, layer: str = "conv1", *, decoded: bool | None = None, shuffles: int = 50,
                  shuffle: str = "phases", seed: int = 0) -> FilterMatch:
    """Pair the filters of ``layer`` of two runs and measure how alike the pairs are.

    Args:
        a, b: Two :class:`~cnn_widgets.CNNModel` s of the same architecture (two
            training runs), or two arrays of filters ``(count, h, w[, channels])``.
        layer: The layer compared (ignored for arrays).
        decoded: Compare decoded filters (see :func:`layer_filters`).
        shuffles: Repeats of the shuffled baseline.
        shuffle: How run B's filters are shuffled for the baseline: ``"phases"``
            (Fourier phases randomised, smoothness kept: fair to smooth decoded
            filters) or ``"pixels"`` (pixels in a random order).
        seed: Seed of the shuffles.

    Raises:
        ValueError: Filters of different sizes, no filters, ``shuffles`` < 1 or
            an unknown ``shuffle``.
    """
    if shuffle not in ("phases", "pixels"):
        raise ValueError(f"shuffle must be 'phases' or 'pixels'; got {shuffle!r}")
    if isinstance(shuffles, bool) or not isinstance(shuffles, (int, np.integer)) or shuffles < 1:
        raise ValueError(f"shuffles must be an integer ≥ 1; got {shuffles!r}")
    filters = []
    for run in (a, b):
        if hasattr(run, "keras_model"):
            filters.append(layer_filters(run, layer, decoded))
        else:
            array = np.asarray(run, np.float32)
            if array.ndim == 3:
                array = array[..., None]
            if array.ndim != 4 or not np.all(np.isfinite(array)):
                raise ValueError(f"filters must be a finite array (count, h, w[, channels]); got shape {array.shape}")
            filters.append(array)
    first, second = filters
    if first.shape[1:] != second.shape[1:]:
        raise ValueError(f"the two runs' filters differ in size: {first.shape[1:]} and {second.shape[1:]}")
    if len(first) == 0 or len(second) == 0:
        raise ValueError("there are no filters to match")
    correlation = _correlations(first, second)
    pairs, quality = _assign(correlation)
    rng = np.random.default_rng(seed)
    baseline = np.empty((shuffles, len(pairs)))
    for repeat in range(shuffles):
        baseline[repeat] = _assign(_correlations(first, _shuffled(second, shuffle, rng)))[1]
    return FilterMatch(layer=layer if hasattr(a, "keras_model") else "filters", filters_a=first,
                       filters_b=second, correlation=correlation, pairs=pairs, quality=quality,
                       baseline=baseline, same_index=int(np.sum(pairs[:, 0] == pairs[:, 1])))
