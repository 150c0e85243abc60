"""Arrays → pictures: colour maps, scaling, mosaics of maps, PNG encoding.

Pictures are palette PNGs: one byte per pixel indexing a 256-colour table taken
from a Matplotlib colour map, which keeps a whole layer's mosaic to a few KB.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

__all__ = ["COLORMAPS", "Mosaic", "animated_gif", "contrast", "image_png", "palette_image", "mosaic", "palette", "rgb_png", "scale", "to_png"]

#: Colour maps offered in the widgets: name → Matplotlib colour map.
COLORMAPS = {"grey": "gray", "jet": "jet", "diverging": "RdBu_r", "viridis": "viridis"}
_GAP = 255  # palette index kept for the lines between tiles
_LEVELS = 255  # data indices 0..254


@lru_cache(maxsize=16)
def palette(colormap: str, gap: str = "#ffffff") -> bytes:
    """A 256-entry RGB palette: 255 levels of ``colormap`` and the gap colour last.

    Raises:
        ValueError: Unknown colour map (the message lists those on offer).
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_rgb

    if not isinstance(colormap, str):
        raise TypeError(f"colormap must be a name, one of {', '.join(COLORMAPS)}; got {colormap!r}")
    if not isinstance(gap, str):
        raise TypeError(f"the gap colour must be a colour string such as '#ffffff'; got {gap!r}")
    name = COLORMAPS.get(colormap, colormap)
    if name not in colormaps:
        raise ValueError(f"unknown colour map {colormap!r}; choose one of {', '.join(COLORMAPS)}")
    levels = colormaps[name](np.linspace(0.0, 1.0, _LEVELS))[:, :3]
    try:
        gap_rgb = to_rgb(gap)
    except ValueError:
        raise ValueError(f"unknown gap colour {gap!r}; give a colour such as '#ffffff' or 'white'") from None
    table = np.vstack([levels, gap_rgb])
    return (np.round(table * 255).astype(np.uint8)).tobytes()


def scale(values: np.ndarray, low: float | np.ndarray, high: float | np.ndarray) -> np.ndarray:
    """Map ``values`` from ``[low, high]`` to palette indices 0..254 (uint8), clipped.

    Raises:
        ValueError: NaN or infinite values or bounds, or ``low > high``.
    """
    values = _finite(values, "values")
    low, high = _finite(low, "low"), _finite(high, "high")
    if np.any(low > high):
        raise ValueError(f"low must not exceed high; got low={low}, high={high}")
    # float64: no overflow between float32 extremes
    low, high = low.astype(np.float64), high.astype(np.float64)
    span = np.maximum(high - low, 1e-12)
    unit = np.clip((values.astype(np.float64) - low) / span, 0.0, 1.0)
    return np.round(unit * (_LEVELS - 1)).astype(np.uint8)


def _finite(values: object, what: str) -> np.ndarray:
    """``values`` as a float array, refused when not numeric or not finite."""
    try:
        wide = np.asarray(values, dtype=np.float64) if not isinstance(values, (str, bytes)) else None
    except (TypeError, ValueError):
        wide = None
    if wide is None:
        raise TypeError(f"{what} must be numbers; got {type(values).__name__}")
    if not np.all(np.isfinite(wide)):
        raise ValueError(f"{what} must be finite numbers; got NaN or infinite values")
    largest = float(np.abs(wide).max()) if wide.size else 0.0
    if largest > np.finfo(np.float32).max:  # finite, but not as float32: say so, not "NaN or infinite"
        raise ValueError(f"{what} must lie within ±{np.finfo(np.float32).max:.3g} (float32); got {largest:.3g}")
    return wide.astype(np.float32)


#: Strongest contrast enhancement: beyond it every pixel that is not black shows white.
MAX_ENHANCE = 20

#: Widest gap between the tiles of a mosaic, pixels.
MAX_GAP = 64


def _whole(value: object, what: str, least: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be a whole number ≥ {least}; got {value!r}")
    if value < least:
        raise ValueError(f"{what} must be ≥ {least}; got {value}")
    return int(value)


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
        index = _whole(index, "map index", 0)
        if index >= self.count:
            raise ValueError(f"map index {index} is out of range: this mosaic has maps 0–{self.count - 1}")
        row, col = divmod(index, self.columns)
        return col * (self.tile[1] + self.gap), row * (self.tile[0] + self.gap)


def default_columns(count: int, tile: tuple[int, int] = (1, 1)) -> int:
    """Columns for a landscape mosaic: a divisor of ``count`` near ``sqrt(2·count)``."""
    count = _whole(count, "count", 1)
    h, w = (_whole(side, "tile side", 1) for side in tile)
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
    maps = _finite(maps, "maps")
    if maps.ndim != 3 or 0 in maps.shape:
        raise ValueError(f"maps must be a non-empty array (height, width, count); got shape {maps.shape}")
    if normalize not in ("layer", "map"):
        raise ValueError(f"normalize must be 'layer' or 'map'; got {normalize!r}")
    gap = _whole(gap, "gap", 0)
    if gap > MAX_GAP:
        raise ValueError(f"gap must be 0–{MAX_GAP} pixels between tiles; got {gap}")
    if columns is not None:
        columns = _whole(columns, "columns", 1)
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
    picture = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), _GAP, np.uint8)
    for index in range(count):
        r, c = divmod(index, columns)
        picture[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = levels[..., index]
    return Mosaic(picture, (h, w), columns, count, gap)


def to_png(indices: np.ndarray, colormap: str = "grey", *, gap_colour: str = "#ffffff") -> bytes:
    """Encode palette indices (uint8, 2-D) as a palette PNG with ``colormap``."""
    from PIL import Image

    if not isinstance(colormap, str) or not isinstance(gap_colour, str):
        raise TypeError(f"colormap and gap_colour must be names; got {colormap!r}, {gap_colour!r}")
    array = np.asarray(indices)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"indices must be integer palette indices 0–255 (uint8); got {array.dtype}")
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"indices must be a non-empty 2-D array; got shape {array.shape}")
    if array.dtype != np.uint8 and (array.min() < 0 or array.max() > 255):
        raise ValueError(f"palette indices must lie in 0–255; got {array.min()}–{array.max()}")
    palette_bytes = palette(colormap, gap_colour)
    picture = Image.fromarray(np.ascontiguousarray(array, np.uint8), mode="P")
    picture.putpalette(palette_bytes)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def rgb_png(pixels: np.ndarray) -> bytes:
    """uint8 RGB ``(H, W, 3)`` as a PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, np.uint8), mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def image_png(image: np.ndarray) -> bytes:
    """An image in [0, 1] (grey ``(H, W)`` / ``(H, W, 1)`` or RGB ``(H, W, 3)``) as a PNG."""
    pixels = np.asarray(image, np.float32)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim == 2:
        return to_png(scale(pixels, 0.0, 1.0), "grey")
    return rgb_png(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8))


def palette_image(indices: np.ndarray, colormap: str, zoom: int = 1) -> Any:
    """Palette indices (uint8, 2-D) → a Pillow palette image with ``colormap``, enlarged
    ``zoom`` times without smoothing (for GIF frames; :func:`to_png` for PNG bytes)."""
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(indices), mode="P")
    picture.putpalette(palette(colormap))
    return picture.resize((picture.width * zoom, picture.height * zoom), Image.NEAREST)


def animated_gif(frames: list, duration_ms: int, hold_ms: int) -> bytes:
    """Pillow images → a looping animated GIF: ``duration_ms`` per frame, ``hold_ms`` on the last."""
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=[duration_ms] * (len(frames) - 1) + [hold_ms], loop=0)
    return buffer.getvalue()


def contrast(image: np.ndarray, enhance: float = 0.0) -> np.ndarray:
    """Grey levels in [0, 1] for showing a pattern: display only, never fed back.

    ``enhance = 0`` stretches the image's own min..max to 0..1 (the seed's "plain"
    view). ``enhance > 0`` then applies the gamma curve ``v ** (1 / (1 + enhance))``
    (the seed's contrast-enhanced view): faint structure comes up, black stays black
    and white stays white.
    """
    image = _finite(image, "image")
    if image.size == 0:
        raise ValueError("the image is empty")
    if isinstance(enhance, (bool, np.bool_)) or not isinstance(enhance, (int, float, np.integer, np.floating)):
        raise TypeError(f"enhance must be a number ≥ 0; got {enhance!r}")
    if not math.isfinite(enhance) or not 0 <= enhance <= MAX_ENHANCE:
        raise ValueError(f"enhance must be a number in 0–{MAX_ENHANCE} (0: plain); got {enhance}")
    low, high = float(image.min()), float(image.max())
    wide = image.astype(np.float64)  # no overflow between float32 extremes
    unit = ((wide - low) / (high - low)).astype(np.float32) if high > low else np.zeros_like(image)
    if enhance <= 0:
        return unit
    return unit ** (1.0 / (1.0 + float(enhance)))
