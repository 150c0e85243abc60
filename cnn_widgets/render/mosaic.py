"""Mosaics: every map of a layer tiled into one picture of palette indices, and where each map lies."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..checks import whole_number
from .colour import GAP, finite_values, scale

__all__ = ["MAX_GAP", "Mosaic", "default_columns", "mosaic"]

#: Widest gap between the tiles of a mosaic, pixels.
MAX_GAP = 64


@dataclass(frozen=True)
class Mosaic:
    """Where each map lies in a mosaic picture.

    Attributes:
        indices: The picture as palette indices, shape ``(rows·(h+gap)-gap, cols·(w+gap)-gap)``.
        tile: ``(h, w)`` of one map.
        columns: Maps per row.
        count: Number of maps.
        gap: Pixels between tiles.
    """

    indices: np.ndarray
    tile: tuple[int, int]
    columns: int
    count: int
    gap: int

    def locate(self, x: float, y: float) -> tuple[int, int, int] | None:
        """The map and its cell ``(map, row, col)`` under picture pixel ``(x, y)``, or None.

        Raises:
            TypeError, ValueError: ``x`` or ``y`` is not a finite number (e.g. NaN
                or null from a pointer event).
        """
        for name, value in (("x", x), ("y", y)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"pointer {name} must be a number; got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"pointer {name} must be a finite number; got {value}")
        h, w = self.tile
        col, dx = divmod(int(math.floor(x)), w + self.gap)
        row, dy = divmod(int(math.floor(y)), h + self.gap)
        if x < 0 or y < 0 or dx >= w or dy >= h or col >= self.columns:
            return None
        index = row * self.columns + col
        return (index, dy, dx) if index < self.count else None

    def origin(self, index: int) -> tuple[int, int]:
        """Picture pixel ``(x, y)`` of the top-left corner of map ``index``."""
        index = whole_number(index, "map index", 0)
        if index >= self.count:
            raise ValueError(f"map index {index} is out of range: this mosaic has maps 0–{self.count - 1}")
        row, col = divmod(index, self.columns)
        return col * (self.tile[1] + self.gap), row * (self.tile[0] + self.gap)




def default_columns(count: int, tile: tuple[int, int] = (1, 1)) -> int:
    """Columns for a landscape mosaic: a divisor of ``count`` near ``sqrt(2·count)``."""
    count = whole_number(count, "count", 1)
    h, w = (whole_number(side, "tile side", 1) for side in tile)
    target = math.sqrt(2 * count * h / max(w, 1))
    divisors = [d for d in range(1, count + 1) if count % d == 0]
    best = min(divisors, key=lambda d: (abs(d - target), -d))
    return best if best > 1 or count <= 3 else math.ceil(target)



def mosaic(
    maps: np.ndarray,
    *,
    normalize: Literal["layer", "map"] = "layer",
    value_range: tuple[float, float] | None = None,
    columns: int | None = None,
    gap: int = 1,
) -> Mosaic:
    """Tile a stack of maps ``(h, w, count)`` into one picture of palette indices.

    Args:
        maps: The maps of one layer for one image, channels last.
        normalize: ``"layer"``: one scale for all maps (min..max of the layer, 0
            included), so maps can be compared; ``"map"``: each map its own.
        value_range: A fixed ``(low, high)`` instead (e.g. the same scale across
            images); overrides ``normalize``.
        columns: Maps per row (default: :func:`default_columns`).
        gap: Pixels between tiles.
    """
    maps = finite_values(maps, "maps")
    if maps.ndim != 3 or 0 in maps.shape:
        raise ValueError(f"maps must be a non-empty array (height, width, count); got shape {maps.shape}")
    if normalize not in ("layer", "map"):
        raise ValueError(f"normalize must be 'layer' or 'map'; got {normalize!r}")
    gap = whole_number(gap, "gap", 0)
    if gap > MAX_GAP:
        raise ValueError(f"gap must be 0–{MAX_GAP} pixels between tiles; got {gap}")
    if columns is not None:
        columns = whole_number(columns, "columns", 1)
    h, w, count = maps.shape
    if value_range is not None:
        try:
            low, high = value_range
        except (TypeError, ValueError):
            raise ValueError(f"value_range must be (low, high); got {value_range!r}") from None
        if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                   and math.isfinite(v) for v in (low, high)) or low > high:
            raise ValueError(f"value_range must be two finite numbers (low, high) with low ≤ high; "
                             f"got {value_range!r}")
        levels = scale(maps, low, high)
    elif normalize == "layer":
        levels = scale(maps, min(float(maps.min()), 0.0), float(maps.max()))
    else:
        low = np.minimum(maps.min(axis=(0, 1)), 0.0)
        levels = scale(maps, low, maps.max(axis=(0, 1)))
    columns = min(columns, max(count, 1)) if columns else default_columns(count, (h, w))  # no empty columns
    rows = math.ceil(count / columns)
    picture = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), GAP, np.uint8)
    for index in range(count):
        r, c = divmod(index, columns)
        picture[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = levels[..., index]
    return Mosaic(picture, (h, w), columns, count, gap)

