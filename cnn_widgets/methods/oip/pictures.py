"""OIPs as grey pictures: one pattern, or a mosaic of many; maps without a pattern drawn as
a cross, maps that never fire on the images given marked with a corner triangle, tiles that
started from a real image framed, a node OIP greyed outside its receptive field and the
field outlined (:data:`~.marks.MARKS` names each mark for a legend)."""

from __future__ import annotations

import numpy as np

from ...render import check_contrast, mosaic, stretch

__all__ = ["pattern_picture"]


def pattern_picture(images: np.ndarray, contrast: float = 0.0, *, columns: int | None = None,
                    marked: np.ndarray | None = None, corner: np.ndarray | None = None,
                    framed: np.ndarray | None = None, fields: np.ndarray | None = None,
                    always_mosaic: bool = False) -> np.ndarray:
    """Grey levels in [0, 1] of patterns ``(n, H, W, C)``: one image as it is, several
    as a mosaic with white gaps; each stretched with :func:`cnn_widgets.render.stretch`.

    Images flagged in ``marked`` (maps without a pattern) are drawn as a black cross
    on grey, so they cannot be taken for a result; those flagged in ``corner`` (maps
    that never fire on the images) keep their pattern with a black corner triangle; those
    flagged in ``framed`` (started from a real image, see :mod:`.marks`) get a dashed
    black-and-white frame. ``fields`` ``(n, 4)`` boxes ``(top, left, bottom, right)``: where a
    box is smaller than the image (a node OIP), only the box is stretched and shown, the rest
    is mid-grey, and the box is outlined with a dashed line.

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
        box = None if fields is None else tuple(int(v) for v in fields[i])
        if box is not None and box != (0, 0, *image.shape):
            tile = _in_field(image, box, contrast)
        else:
            tile = stretch(image, contrast)
        if corner is not None and corner[i]:
            tile = _dog_ear(tile)
        if framed is not None and framed[i]:
            tile = _dashed(tile, (0, 0, *tile.shape), inside=True)
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


def _in_field(image: np.ndarray, box: tuple[int, int, int, int], contrast: float) -> np.ndarray:
    """Only the box's pixels, stretched on their own range; mid-grey around; the box outlined."""
    top, left, bottom, right = box
    tile = np.full(image.shape, 0.5, np.float32)
    tile[top:bottom, left:right] = stretch(image[top:bottom, left:right], contrast)
    return _dashed(tile, box, inside=False)


def _dashed(tile: np.ndarray, box: tuple[int, int, int, int], inside: bool) -> np.ndarray:
    """``tile`` with a dashed black-and-white rectangle (2 px dashes) along the box: on its
    outer ring (``inside``) or just outside it, moved inside where the image ends."""
    tile = tile.copy()
    height, width = tile.shape
    top, left, bottom, right = box
    if not inside:
        top, left, bottom, right = top - 1, left - 1, bottom + 1, right + 1
    top, left = max(top, 0), max(left, 0)
    bottom, right = min(bottom, height) - 1, min(right, width) - 1
    rows, cols = np.indices(tile.shape)
    ring = (((rows == top) | (rows == bottom)) & (cols >= left) & (cols <= right)) | \
        (((cols == left) | (cols == right)) & (rows >= top) & (rows <= bottom))
    tile[ring] = (((rows + cols) // 2) % 2)[ring].astype(np.float32)
    return tile
