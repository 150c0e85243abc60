"""The three OIP runs: :func:`optimize` (maps of a layer: one map, or the atlas of all),
:func:`series` (one map from seeds × wavelengths) and :func:`node_sweep` (one map's nodes).

Each takes the ascent's settings once, as an :class:`~.settings.OIPSettings` and/or as
keyword arguments naming its fields (``steps=50, seed=3``), and runs all its images in
one batch (:mod:`.batch`).
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

from .batch import Items, grow
from .budget import check_budget, series_images
from .callbacks import Callbacks, OIPCallback, as_callbacks
from .consistency import MAX_SHIFT, alive_consistency
from .results import NodeSweep, OIPResult, OIPSeries
from .settings import (OIPSettings, as_images, check_layer, check_map_index, check_maps, check_node, check_seeds,
                       check_wavelengths, settings_from)

__all__ = ["node_sweep", "optimize", "series"]

Callback = OIPCallback | Sequence[OIPCallback] | None


def optimize(model: Any, layer: str, maps: Sequence[int] | int | None = None, *,
             node: tuple[int, int] | None = None, images: Any = None, settings: OIPSettings | None = None,
             callbacks: Callback = None, cancel: threading.Event | None = None, **overrides: Any) -> OIPResult:
    """Grow the input pattern that maps of ``layer`` react to most (one image per map).

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        layer: A conv or pooling layer.
        maps: Map indices (or one index); ``None`` for every map of the layer.
        node: ``(row, col)``: maximise this one node of each map instead of its mean.
        images: Real images (an array in any form ``model.prepare`` takes, or a DataSet,
            e.g. the test split): a map still dead after the other rescues starts from
            the one it fires on most, and maps that fire on none are reported in
            :attr:`OIPResult.silent`.
        settings: The ascent's settings (:class:`OIPSettings`; default: its defaults).
        callbacks: :class:`OIPCallback` s told of the start, every step, previews and the end.
        cancel: Set this event to stop after the current stretch of steps (at most 10).
        **overrides: Settings to change, by name: ``steps``, ``step_size``, ``wavelength``,
            ``octaves``, ``seed``, ``frame_every``, ``blur_every``, ``blur_sigma``,
            ``rescue_tries``, ``restandardize`` (see :class:`OIPSettings`).

    Raises:
        TypeError: A value of the wrong kind (a float map, a setting that is not a
            number, an unknown setting, callbacks that are not OIPCallbacks, …).
        ValueError: Unknown layer, a layer without maps, a map or node out of range,
            a setting out of its range (``steps`` < 1, ``wavelength`` larger than the
            image, …), images the model does not take.
    """
    settings, info = _prepare(model, layer, settings, overrides)
    chosen = check_maps(maps, layer, int(info.output_shape[-1]))
    where = (-1, -1) if node is None else check_node(node, layer, *_grid(info))
    count = len(chosen)
    items = Items(chosen, np.tile(np.asarray(where, np.int32), (count, 1)), np.full(count, settings.seed),
                  np.full(count, settings.wavelength))
    return _grow(model, layer, items, settings, images, callbacks, cancel)


def series(model: Any, layer: str, map_index: int, *, seeds: int | Sequence[int] = 8,
           wavelengths: Sequence[float] = (2.0, 4.0, 7.0, 14.0), baseline: bool = True, blur_cost: bool = True,
           node: tuple[int, int] | None = None, images: Any = None, settings: OIPSettings | None = None,
           callbacks: Callback = None, cancel: threading.Event | None = None, **overrides: Any) -> OIPSeries:
    """One map grown from several noise starts at several wavelengths, in one batched call.

    Image (wavelength λ, seed s) is exactly what ``optimize(model, layer, [map_index],
    seed=s, wavelength=λ)`` grows; each row gets a shift-tolerant consistency score (mean
    pairwise correlation over the seeds, each pair at its best shift within ±4 px) and, with
    ``baseline``, the same score for OIPs of randomly chosen other maps from the same seeds.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        layer: A conv or pooling layer.
        map_index: The map.
        seeds: A count N (seeds 0…N-1) or the seeds themselves (whole numbers ≥ 0).
        wavelengths: The start noise's length scales, px.
        baseline: Also grow the shuffled-map baseline (doubles the batch).
        blur_cost: With blur on (``blur_every`` > 0), grow the series again without blur
            (a second batch of M·N images) so the objective lost to blur stands beside the
            score (:attr:`OIPSeries.unblurred`).
        node, images, settings, callbacks, cancel, **overrides: As for :func:`optimize`
            (``seed`` and ``wavelength`` are the series' own: give ``seeds`` and ``wavelengths``).

    Raises:
        TypeError, ValueError: As for :func:`optimize`; empty or negative seeds or wavelengths.
    """
    for own in ("seed", "wavelength"):
        if own in overrides:
            raise TypeError(f"series takes seeds= and wavelengths= (a list each), not {own}=")
    info = check_layer(model, layer)
    settings = settings_from(settings, overrides)
    check_budget(model, layer, series_images(seeds, wavelengths, baseline), settings)  # before any list is made
    count = int(info.output_shape[-1])
    map_index = check_map_index(map_index, layer, count)
    seed_list = check_seeds(seeds)
    lengths = check_wavelengths(wavelengths, max(model.input_shape[:2]))
    settings = settings.replace(seed=seed_list[0], wavelength=lengths[0]).checked_for(max(model.input_shape[:2]))
    where = (-1, -1) if node is None else check_node(node, layer, *_grid(info))
    m, n = len(lengths), len(seed_list)
    maps = np.full(m * n, map_index, np.int32)
    seed_column = np.tile(seed_list, m)
    length_column = np.repeat(np.asarray(lengths, np.float64), n)
    others = np.setdiff1d(np.arange(count), [map_index])
    use_baseline = bool(baseline) and others.size > 0
    baseline_maps = np.full((m, n), -1, np.int32)
    if use_baseline:
        rng = np.random.default_rng([map_index, *seed_list])
        baseline_maps = np.stack([rng.choice(others, n, replace=others.size < n) for _ in range(m)]).astype(np.int32)
        maps = np.concatenate([maps, baseline_maps.ravel()])
        seed_column = np.concatenate([seed_column, seed_column])
        length_column = np.concatenate([length_column, length_column])
    items = Items(maps, np.tile(np.asarray(where, np.int32), (len(maps), 1)), seed_column, length_column)
    result = _grow(model, layer, items, settings, images, callbacks, cancel)
    objectives = result.history[-1][:m * n].reshape(m, n)
    shape = result.images.shape[1:]
    shift = min(MAX_SHIFT, min(shape[:2]) - 1)
    own = result.images[:m * n].reshape(m, n, *shape)
    scores = np.asarray([alive_consistency(own[r], result.alive[r * n:(r + 1) * n], shift) for r in range(m)])
    if use_baseline:
        other = result.images[m * n:].reshape(m, n, *shape)
        alive = result.alive[m * n:].reshape(m, n)
        base = np.asarray([alive_consistency(other[r], alive[r], shift) for r in range(m)])
    else:
        base = np.full(m, np.nan)
    unblurred = None
    if settings.blur_every and blur_cost and not result.cancelled:  # what the blur cost: the same starts unblurred
        plain = Items(items.maps[:m * n], items.nodes[:m * n], items.seeds[:m * n], items.wavelengths[:m * n])
        unblurred = _grow(model, layer, plain, settings.replace(blur_every=0), images, None,
                          cancel).history[-1].reshape(m, n)
    return OIPSeries(layer, map_index, seed_list, lengths, result, objectives, scores, base, baseline_maps,
                     max_shift=shift, unblurred=unblurred)


def node_sweep(model: Any, layer: str, map_index: int, *, positions: Sequence[tuple[int, int]] | None = None,
               images: Any = None, settings: OIPSettings | None = None, callbacks: Callback = None,
               cancel: threading.Event | None = None, **overrides: Any) -> NodeSweep:
    """Node OIPs of one map at every position (or at ``positions``), in one batched call.

    Every node starts from the same noise (that of ``(seed, map_index)``), so the
    images show how the pattern moves with the node. Image ``(r, c)`` is what
    ``optimize(model, layer, [map_index], node=(r, c), ...)`` grows.

    Args:
        positions: ``(row, col)`` nodes; ``None`` for every position of the map.
        model, layer, map_index, images, settings, callbacks, cancel, **overrides: As for
            :func:`optimize` and :func:`series`.

    Raises:
        TypeError, ValueError: As for :func:`optimize`; a position outside the map, no positions.
    """
    settings, info = _prepare(model, layer, settings, overrides)
    map_index = check_map_index(map_index, layer, int(info.output_shape[-1]))
    rows, cols = _grid(info)
    if positions is None:
        where = np.stack(np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij"), -1).reshape(-1, 2)
    else:
        if isinstance(positions, (str, bytes)) or not isinstance(positions, (Sequence, np.ndarray)):
            raise TypeError(f"positions must be a list of (row, col) nodes, or None for all; got {positions!r:.60}")
        where = np.asarray([check_node(p, layer, rows, cols) for p in positions], np.int32).reshape(-1, 2)
        if not len(where):
            raise ValueError("positions must not be empty")
    count = len(where)
    items = Items(np.full(count, map_index, np.int32), where.astype(np.int32), np.full(count, settings.seed),
                  np.full(count, settings.wavelength))
    result = _grow(model, layer, items, settings, images, callbacks, cancel)
    return NodeSweep(layer, map_index, where, (rows, cols), result, result.history[-1].copy())


def _prepare(model: Any, layer: str, settings: Any, overrides: dict[str, Any]) -> tuple[OIPSettings, Any]:
    """The run's settings (checked against the model's image size) and its layer's row."""
    info = check_layer(model, layer)
    return settings_from(settings, overrides).checked_for(max(model.input_shape[:2])), info


def _grid(info: Any) -> tuple[int, int]:
    return int(info.output_shape[0]), int(info.output_shape[1])


def _grow(model: Any, layer: str, items: Items, settings: OIPSettings, images: Any, callbacks: Callback,
          cancel: threading.Event | None) -> OIPResult:
    if cancel is not None and not callable(getattr(cancel, "is_set", None)):
        raise TypeError(f"cancel must be a threading.Event (or None); got {type(cancel).__name__}")
    check_budget(model, layer, len(items.maps), settings)  # refused with the estimate and the limit
    told = Callbacks(as_callbacks(callbacks))
    return grow(model, layer, items, settings, as_images(model, images), told, cancel)
