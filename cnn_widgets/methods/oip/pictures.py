"""OIPs as grey pictures: one pattern, or a mosaic of many; maps without a pattern drawn as
a cross, maps that never fire on the images given marked with a corner triangle."""

from __future__ import annotations

import numpy as np

from ...render import check_contrast, mosaic, stretch

__all__ = ["pattern_picture"]


def pattern_picture(images: np.ndarray, contrast: float = 0.0, *, columns: int | None = None,
                    marked: np.ndarray | None = None, corner: np.ndarray | None = None,
                    always_mosaic: bool = False) -> np.ndarray:
    """Grey levels in [0, 1] of patterns ``(n, H, W, C)``: one image as it is, several
    as a mosaic with white gaps; each stretched with :func:`cnn_widgets.render.stretch`.

    Images flagged in ``marked`` (maps without a pattern) are drawn as a black cross
    on grey, so they cannot be taken for a result; those flagged in ``corner`` (maps
    that never fire on the images) keep their pattern with a black corner triangle.

    Raises:
        ValueError: ``images`` not ``(n, H, W, C)`` numbers; ``contrast`` NaN, infinite or negative.
        TypeError: ``contrast`` not a number.
    """
    contrast = check_contrast(contrast)
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype.kind not in "uif" or 0 in images.shape:
        raise ValueError(f"images must be an (n, height, width, channels) array of numbers; got shape "
                         f"{images.shape}, dtype {images.dtype}")
    grey = images[..., 0] if images.shape[-1] == 1 else images.mean(-1)
    tiles = []
    for i, image in enumerate(grey):
        if marked is not None and marked[i]:
            tiles.append(_cross(image.shape))
            continue
        tile = stretch(image, contrast)
        if corner is not None and corner[i]:
            tile = _dog_ear(tile)
        tiles.append(tile)
    if len(grey) == 1 and not always_mosaic:
        return tiles[0]
    laid = mosaic(np.stack(tiles, axis=-1), value_range=(0.0, 1.0), columns=columns)
    picture = laid.indices.astype(np.float32) / 254.0
    picture[laid.indices == 255] = 1.0  # gaps white
    return picture


def _cross(shape: tuple[int, int]) -> np.ndarray:
    """A black diagonal cross on mid-grey: "no pattern"."""
    height, width = shape
    tile = np.full(shape, 0.55, np.float32)
    rows = np.arange(height)
    cols = np.clip(np.round(rows * (width - 1) / max(height - 1, 1)).astype(int), 0, width - 1)
    tile[rows, cols] = 0.0
    tile[rows, width - 1 - cols] = 0.0
    return tile


def _dog_ear(tile: np.ndarray) -> np.ndarray:
    """The tile with a black-and-white checkered triangle in its top-left corner, edged in
    white: "never fires on the images" (visible on dark and on light patterns)."""
    tile = tile.copy()
    size = max(3, min(tile.shape) // 4)
    rows, cols = np.indices(tile.shape)
    inside = rows + cols < size
    tile[inside] = ((rows + cols) % 2)[inside].astype(np.float32)
    tile[rows + cols == size] = 1.0
    return tile
