"""Seed 002, "same filters twice?": do two training runs learn the same filters, in the same order?

The filters of one layer of two runs are compared in image space (first layer: the
raw kernels; deeper layers: their decoded filters, :func:`cnn_widgets.methods.decode.decode_filters`,
because a deeper kernel's input channels are the other run's maps in another order).
Every pair gets the Pearson correlation of the two filters; the best one-to-one
pairing maximises the sum of correlations (``scipy.optimize.linear_sum_assignment``).

Any two sets of filters can be paired, and the best pairing of two sets of *random*
filters already reaches a mean correlation of 0.4–0.6 (the embedded architecture,
untrained: conv1 ≈ 0.63, conv2 ≈ 0.43, conv3 ≈ 0.39). So the reference is the
**untrained control**: the same pairing between untrained networks of the same
architecture (``controls`` pairs, fresh seeded weights), and the answer to the seed's
question is a tested statement: the difference of the mean pair correlations (runs
minus control) with a 95 % bootstrap interval (pairs resampled, and a control pair drawn
at random each time, so the spread between untrained pairs counts too). Only when the
whole interval lies above 0 are the runs "alike beyond chance". Per pair,
``above_control`` compares each pair with the control's pairs of the same rank.

A **shuffled baseline** is kept beside it: the same optimal pairing against the second
run's filters shuffled (by default their Fourier phases randomised: the same smoothness
and values, no shape; or their pixels permuted). It is the reference for plain arrays
given without a control. ``same_index`` tells whether pairs also come in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..render import mosaic

__all__ = ["FilterMatch", "layer_filters", "match_filters", "untrained_twin"]


@dataclass(frozen=True)
class FilterMatch:
    """Filters of one layer of two runs, paired, beside their controls.

    Attributes:
        layer: The layer.
        filters_a, filters_b: The filters compared, ``(count, h, w, channels)``.
        correlation: ``(count_a, count_b)`` Pearson correlation of every pair.
        pairs: ``(pairs, 2)``: filter of run A, its partner in run B; best pair first.
        quality: The correlation of each pair, same order (decreasing): the per-pair
            correlations the paired picture shows (:meth:`pair_labels`).
        baseline: ``(shuffles, pairs)``: the qualities, in decreasing order, of the
            optimal pairing against run B's filters shuffled.
        same_index: Pairs whose two filters have the same index in both runs.
        control: ``(controls, pairs)``: the qualities, in decreasing order, of the same
            pairing between pairs of untrained networks (or the control filters given);
            empty when there is none.
        control_seeds: The seeds of the untrained networks, one pair per row.
        difference: Mean quality minus the reference's mean (the control's; the shuffled
            baseline's without a control).
        interval: The 95 % bootstrap interval of ``difference``.
        resamples: Bootstrap resamples behind ``interval``.
    """

    layer: str
    filters_a: np.ndarray
    filters_b: np.ndarray
    correlation: np.ndarray
    pairs: np.ndarray
    quality: np.ndarray
    baseline: np.ndarray
    same_index: int
    control: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    control_seeds: tuple[tuple[int, int], ...] = ()
    difference: float = float("nan")
    interval: tuple[float, float] = (float("nan"), float("nan"))
    resamples: int = 0

    @property
    def reference(self) -> str:
        """What the runs are measured against: ``"untrained control"`` or ``"shuffled baseline"``."""
        return "untrained control" if self.control.size else "shuffled baseline"

    @property
    def beyond_chance(self) -> bool:
        """True when the runs' pairs are more alike than the reference's, the whole 95 % interval above 0."""
        return bool(self.interval[0] > 0)

    @property
    def baseline_quality(self) -> np.ndarray:
        """The mean shuffled-baseline quality at each rank ``(pairs,)``."""
        return self.baseline.mean(axis=0)

    @property
    def control_quality(self) -> np.ndarray:
        """The mean control quality at each rank ``(pairs,)`` (NaN without a control)."""
        return self.control.mean(axis=0) if self.control.size else np.full(len(self.pairs), np.nan)

    @property
    def above_baseline(self) -> np.ndarray:
        """Per pair: True where its quality beats the 95th percentile of the shuffled baseline at its rank."""
        return self.quality > np.percentile(self.baseline, 95, axis=0)

    @property
    def above_control(self) -> np.ndarray:
        """Per pair: True where its quality beats the 95th percentile of the control's qualities at
        nearby ranks (all control pairs pooled, ranks within ± max(2, pairs / 16), the window
        kept symmetric at the ends); all False without a control. A rough per-pair guide (of two
        untrained networks of the embedded architecture 0–5 pairs pass it per layer);
        :attr:`beyond_chance` is the test."""
        if not self.control.size:
            return np.zeros(len(self.pairs), bool)
        count, window = len(self.pairs), max(2, len(self.pairs) // 16)
        limits = []
        for rank in range(count):
            half = min(window, rank, count - 1 - rank)
            limits.append(np.percentile(self.control[:, rank - half:rank + half + 1], 95))
        return self.quality > np.asarray(limits)

    def summary(self) -> str:
        """The match in one line, the reference first: the runs' mean correlation, the control's, the
        difference with its 95 % interval and the verdict; then the shuffled baseline and the order."""
        low, high = self.interval
        verdict = "alike beyond chance" if self.beyond_chance else "not beyond chance"
        if self.control.size:
            spread = self.control.mean(axis=1)
            reference = (f"untrained control {spread.mean():.2f} ({len(spread)} pairs of untrained networks, "
                         f"{spread.min():.2f}–{spread.max():.2f})")
        else:
            reference = f"shuffled baseline {self.baseline.mean():.2f} (no untrained control given)"
        counted = self.above_control if self.control.size else self.above_baseline
        return (f"{self.layer}: {len(self.pairs)} pairs, mean correlation {self.quality.mean():.2f} against "
                f"{reference}: difference {self.difference:+.2f} (95 % interval {low:+.2f} … {high:+.2f}): "
                f"{verdict}; {int(counted.sum())} pairs above the {self.reference}'s 95 % range at their rank "
                f"(≈ {max(1, round(0.05 * len(self.pairs)))} by chance); "
                f"shuffled baseline {self.baseline.mean():.2f}; {self.same_index} in the same place in both runs")

    def pair_labels(self, count: int | None = None) -> list[str]:
        """A label per pair of the paired picture (left to right): the two indices and their correlation."""
        count = len(self.pairs) if count is None else max(1, min(int(count), len(self.pairs)))
        return [f"{int(a)}↔{int(b)} r={q:.2f}" for (a, b), q in zip(self.pairs[:count], self.quality[:count])]

    def picture(self, count: int | None = None) -> np.ndarray:
        """Palette indices: run A's filters (top row) above their partners in run B, best
        pair first, each on its own scale centred on 0 (diverging colours); the correlation
        of each column's pair is :meth:`pair_labels`."""
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


def untrained_twin(model: Any, seed: int) -> Any:
    """A new :class:`~cnn_widgets.CNNModel` of ``model``'s architecture with fresh weights from
    its own initialisers, seeded (``model`` is left as it is)."""
    from ..model import CNNModel
    from ..model.zoo import reinitialize

    net = model.keras_model
    return reinitialize(CNNModel(type(net).from_config(net.get_config())), seed)


def _filters_of(run: Any, layer: str, decoded: bool | None) -> np.ndarray:
    if hasattr(run, "keras_model"):
        return layer_filters(run, layer, decoded)
    array = np.asarray(run, np.float32)
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or not np.all(np.isfinite(array)):
        raise ValueError(f"filters must be a finite array (count, h, w[, channels]); got shape {array.shape}")
    return array


def _whole(value: Any, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{name} must be an integer ≥ {least}; got {value!r}")
    return int(value)


def _bootstrap(quality: np.ndarray, reference: np.ndarray, resamples: int,
               rng: np.random.Generator) -> tuple[float, tuple[float, float]]:
    """Mean quality minus the reference's mean, and its 95 % interval: the pairs resampled with
    replacement, and one reference row (a control pair or a shuffle) drawn per resample."""
    difference = float(quality.mean() - reference.mean())
    n, m = len(quality), reference.shape[1]
    ours = quality[rng.integers(0, n, (resamples, n))].mean(axis=1)
    rows = reference[rng.integers(0, len(reference), resamples)]
    theirs = np.take_along_axis(rows, rng.integers(0, m, (resamples, m)), axis=1).mean(axis=1)
    low, high = np.percentile(ours - theirs, [2.5, 97.5])
    return difference, (float(low), float(high))


def match_filters(a: Any, b: Any, layer: str = "conv1", *, decoded: bool | None = None,
                  control: Any = "untrained", controls: int = 3, shuffles: int = 20, shuffle: str = "phases",
                  resamples: int = 2000, seed: int = 0) -> FilterMatch:
    """Pair the filters of ``layer`` of two runs and measure how alike the pairs are, against
    untrained networks of the same architecture.

    Args:
        a, b: Two :class:`~cnn_widgets.CNNModel` s of the same architecture (two
            training runs), or two arrays of filters ``(count, h, w[, channels])``.
        layer: The layer compared (ignored for arrays).
        decoded: Compare decoded filters (see :func:`layer_filters`).
        control: ``"untrained"``: ``controls`` pairs of untrained networks of ``a``'s
            architecture, seeded from ``seed`` (for arrays, which have no architecture,
            the shuffled baseline is then the reference, and the summary says so); a
            list of ``(c, d)`` pairs (models or arrays, matched the same way); or
            ``None``: the shuffled baseline is the reference.
        controls: Pairs of untrained networks for ``control="untrained"``.
        shuffles: Repeats of the shuffled baseline.
        shuffle: How run B's filters are shuffled for the baseline: ``"phases"``
            (Fourier phases randomised, smoothness kept: fair to smooth decoded
            filters) or ``"pixels"`` (pixels in a random order).
        resamples: Bootstrap resamples of the difference's 95 % interval.
        seed: Seed of the shuffles, the bootstrap and the untrained networks.

    Raises:
        ValueError: Filters of different sizes, no filters, a count below 1, an unknown
            ``shuffle`` or ``control``, control filters unlike the runs'.
    """
    if shuffle not in ("phases", "pixels"):
        raise ValueError(f"shuffle must be 'phases' or 'pixels'; got {shuffle!r}")
    shuffles = _whole(shuffles, "shuffles", 1)
    resamples = _whole(resamples, "resamples", 100)
    seed = _whole(seed, "seed", 0)
    first, second = _filters_of(a, layer, decoded), _filters_of(b, layer, decoded)
    if first.shape[1:] != second.shape[1:]:
        raise ValueError(f"the two runs' filters differ in size: {first.shape[1:]} and {second.shape[1:]}")
    if len(first) == 0 or len(second) == 0:
        raise ValueError("there are no filters to match")
    control_pairs, seeds = _control_pairs(a, control, controls, seed)
    correlation = _correlations(first, second)
    pairs, quality = _assign(correlation)
    rng = np.random.default_rng(seed)
    baseline = np.empty((shuffles, len(pairs)))
    for repeat in range(shuffles):
        baseline[repeat] = _assign(_correlations(first, _shuffled(second, shuffle, rng)))[1]
    rows = []
    for c, d in control_pairs:
        one, other = _filters_of(c, layer, decoded), _filters_of(d, layer, decoded)
        if one.shape[1:] != first.shape[1:] or other.shape[1:] != first.shape[1:] \
                or min(len(one), len(other)) != len(pairs):
            raise ValueError(f"the control's filters {one.shape} and {other.shape} do not match the runs' "
                             f"{first.shape} and {second.shape}")
        rows.append(_assign(_correlations(one, other))[1])
    reference = np.stack(rows) if rows else baseline
    difference, interval = _bootstrap(quality, reference, resamples, rng)
    return FilterMatch(layer=layer if hasattr(a, "keras_model") else "filters", filters_a=first,
                       filters_b=second, correlation=correlation, pairs=pairs, quality=quality,
                       baseline=baseline, same_index=int(np.sum(pairs[:, 0] == pairs[:, 1])),
                       control=np.stack(rows) if rows else np.zeros((0, len(pairs))), control_seeds=seeds,
                       difference=difference, interval=interval, resamples=resamples)


def _control_pairs(a: Any, control: Any, controls: int, seed: int) -> tuple[list[tuple[Any, Any]],
                                                                          tuple[tuple[int, int], ...]]:
    """The control's pairs (models or arrays) and, for untrained networks, their seeds."""
    if control is None:
        return [], ()
    if isinstance(control, str):
        if control != "untrained":
            raise ValueError(f"control must be 'untrained', a list of (c, d) pairs or None; got {control!r}")
        if not hasattr(a, "keras_model"):  # arrays: no architecture to draw untrained twins of
            return [], ()
        controls = _whole(controls, "controls", 1)
        seeds = tuple((1000 + seed * 100 + 2 * k, 1001 + seed * 100 + 2 * k) for k in range(controls))
        return [(untrained_twin(a, s), untrained_twin(a, t)) for s, t in seeds], seeds
    try:
        pairs = [tuple(pair) for pair in control]
    except TypeError:
        pairs = []
    if not pairs or any(len(pair) != 2 for pair in pairs):
        raise ValueError("control must be 'untrained', a non-empty list of (c, d) pairs or None; "
                         f"got {type(control).__name__}")
    return [(c, d) for c, d in pairs], ()
