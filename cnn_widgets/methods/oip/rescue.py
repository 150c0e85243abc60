"""No live map left dead: the rescues of an OIP run that happen outside its compiled loop.

1. A map whose objective and gradient are zero on its noise gets noise of longer
   wavelengths (:func:`revive_by_wavelength`).
2. Still dead, it ascends its pre-activation inside the compiled loop (see :mod:`.engine`).
3. Given real images, one that has not fired after a quarter of the steps starts again
   from the image it fires on most (:func:`image_starts`, :func:`node_starts`); maps that
   fire on none of the images are *silent*.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..statistics import layer_statistics
from .noise import start_image

__all__ = ["image_starts", "node_starts", "revive_by_wavelength"]


def revive_by_wavelength(model: Any, engine: Any, starts: np.ndarray, maps: np.ndarray, masks: np.ndarray,
                         seeds: np.ndarray, wavelengths: np.ndarray, octaves: int, tries: int,
                         stopped: Callable[[], bool]) -> tuple[np.ndarray, np.ndarray]:
    """Dead on the first noise (objective 0, no gradient) → noise of double the wavelength,
    up to ``tries`` times (at the image size: fresh noise). ``starts`` (standardised) are
    replaced in place where an item came alive.

    Returns:
        ``(dead, revived)``: per item, still dead; came alive on a longer wavelength.
    """
    objective, rms = engine.probe(starts, maps, masks)
    dead = (objective <= 0) & (rms == 0)
    revived = np.zeros(len(maps), bool)
    lengths = wavelengths.astype(np.float64).copy()
    size = max(int(s) for s in model.input_shape[:2])
    for attempt in range(1, tries + 1):
        if not dead.any() or stopped():
            break
        positions = np.flatnonzero(dead)
        lengths[positions] = np.minimum(lengths[positions] * 2, size)
        trial = np.stack([start_image(model, seeds[p], maps[p], float(lengths[p]), octaves, attempt)
                          for p in positions])
        value, grad = engine.probe(trial, maps[positions], masks[positions])
        alive = ~((value <= 0) & (grad == 0))
        starts[positions[alive]] = trial[alive]
        revived[positions[alive]] = True
        dead[positions[alive]] = False
    return dead, revived


def image_starts(model: Any, layer: str, images: np.ndarray, maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each item, the real image with its map's highest mean, and whether the map fires
    on any of the images at all (from the layer's kept statistics: no new pass).

    For a node item this is its map's image and firing; :func:`node_starts` finds the
    node's own best image when it is needed.
    """
    peaks, means = layer_statistics(model, layer, images)
    columns = means[:, maps]
    best = np.argmax(columns, axis=0).astype(np.int64)
    fires = (peaks[:, maps].max(axis=0) > 0) & (columns[best, np.arange(len(maps))] > 0)
    return best, fires


def node_starts(model: Any, layer: str, images: np.ndarray, maps: np.ndarray,
                nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For node items: the real image where the node is highest, and whether it is > 0 there."""
    values = []
    for begin in range(0, len(images), 256):
        out = model.activations(images[begin:begin + 256], layer)[layer]
        values.append(out[:, nodes[:, 0], nodes[:, 1], maps])
    column = np.concatenate(values)  # (images, items)
    return np.argmax(column, axis=0).astype(np.int64), column.max(axis=0) > 0


def standardized_image(model: Any, images: np.ndarray, index: int) -> np.ndarray:
    """Real image ``index`` as the network takes it (standardised)."""
    return model.standardize(model.prepare(np.asarray(images[index]))[0])
