"""Per image and map of a layer: the strongest cell and the map's mean, over a set of images.

Computed in batches and kept per model version and image array, so the OIP rescue, the
top images of a map and the decoded filters' checks share one pass over the data.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

from ..checks import whole_number

__all__ = ["layer_statistics"]

_KEPT: "weakref.WeakKeyDictionary[Any, dict[Any, Any]]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_KEEP = 12  # a few image sets and layers per model


def layer_statistics(model: Any, layer: str, images: Any, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per image and map of ``layer``: the strongest cell and the map's mean, over ``images``.

    Computed in batches (float32, never the whole layer at once) and kept per model
    version and image array, so a second call is free and a retrained model
    computes afresh.

    Returns:
        ``(peaks, means)``, each ``(len(images), maps)``.

    Raises:
        TypeError: ``images`` is not an array of images; ``batch_size`` not a whole number.
        ValueError: No images; ``batch_size`` < 1; images the model does not take.
    """
    if images is None or isinstance(images, (str, bytes)) or not hasattr(images, "__len__"):
        raise TypeError(f"images must be an array of images; got {type(images).__name__}")
    if len(images) == 0:
        raise ValueError("images must hold at least one image")
    batch_size = whole_number(batch_size, "batch_size", 1)
    key = (model.version, layer, id(images), len(images))
    with _LOCK:
        kept = _KEPT.setdefault(model, {})
        for old in [k for k in kept if k[0] != model.version]:
            del kept[old]
        found = kept.get(key)
    if found is not None and found[0] is images:
        return found[1], found[2]
    peaks, means = [], []
    for begin in range(0, len(images), batch_size):
        values = model.activations(images[begin:begin + batch_size], layer, batch_size=batch_size)[layer]
        peaks.append(values.max(axis=(1, 2)).astype(np.float32))
        means.append(values.mean(axis=(1, 2)).astype(np.float32))
    result = (np.concatenate(peaks), np.concatenate(means))
    with _LOCK:
        kept = _KEPT.setdefault(model, {})
        kept[key] = (images, *result)
        while len(kept) > _KEEP:  # the oldest first
            del kept[next(iter(kept))]
    return result
