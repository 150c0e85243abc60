"""Several images' maps of one layer side by side: one row per image, one column per map, one
colour scale, labelled (the seed's "three 4s against a 1 and a 2")."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .colour import DEFAULT_COLORMAP, finite_values
from .encode import palette_image
from .figure import Grid, Labels, labelled_png
from .mosaic import mosaic

__all__ = ["maps_by_row_png"]


def maps_by_row_png(maps: np.ndarray, rows: Sequence[str], title: str, *, first: int = 0, last: int | None = None,
                    zoom: int = 3, colormap: str = DEFAULT_COLORMAP) -> bytes:
    """Maps ``first``..``last - 1`` of ``maps`` ``(images, h, w, count)``, a row per image named by
    ``rows``, on one colour scale from 0 to the largest value of all images, as a labelled PNG.

    Raises:
        ValueError: ``maps`` not ``(images, h, w, count)`` finite numbers, a row label missing or
            extra, or an empty or out-of-range ``first..last``.
    """
    values = finite_values(maps, "maps")
    if values.ndim != 4 or 0 in values.shape:
        raise ValueError(f"maps must be (images, height, width, count); got shape {values.shape}")
    count, (h, w) = values.shape[-1], values.shape[1:3]
    last = count if last is None else last
    if not 0 <= first < last <= count:
        raise ValueError(f"maps {first}..{last - 1} are not a range of the {count} maps (0..{count - 1})")
    if len(rows) != len(values):
        raise ValueError(f"one row label per image: {len(values)} images, {len(rows)} labels")
    peak = max(float(values.max()), 1e-12)
    stack = np.concatenate([values[i, ..., first:last] for i in range(len(values))], axis=-1)
    tiles = mosaic(stack, value_range=(0.0, peak), columns=last - first)
    step = max(1, (last - first) // 8)
    ticks = [((m - first) * (w + 1) + w / 2, str(m)) for m in range(first, last, step)]
    labels = Labels(title, x_label=f"map number ({h}x{w} cells each)", y_label="image", rows=list(rows),
                    x_ticks=ticks, colorbar=(colormap, "0 (not activated)", f"{peak:.2f}"),
                    note="one colour scale for all images")
    return labelled_png(palette_image(tiles.indices, colormap, zoom), labels, grid=Grid.of(tiles), zoom=zoom)
