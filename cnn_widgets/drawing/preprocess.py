"""Canvas ink → a 28×28 image made the way the MNIST digits were made.

MNIST digits were cropped to their ink, scaled (anti-aliased, aspect kept) so that
the longer side is 20 pixels, and placed in a 28×28 field with their centre of mass
in the middle. In the test set that centre sits at pixel (14.0, 14.0) on average
(spread 0.3 px), which is where :func:`to_mnist` puts it. A classifier trained on
MNIST recognises a drawing far better after this step: a small digit in a corner of
a large canvas comes out like any other MNIST digit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["to_mnist", "FIELD", "BOX", "CENTRE"]

FIELD = 28  #: side of the output image
BOX = 20  #: the longer side of the ink after scaling
CENTRE = 14.0  #: where the centre of mass lands (row and column, pixel indices)


def to_mnist(ink: Any) -> np.ndarray:
    """Turn a drawing into an MNIST-style ``(28, 28)`` float32 image in [0, 1].

    Args:
        ink: A 2-D array of any size and numeric dtype holding ink intensity:
            0 is background, larger is more ink (e.g. a canvas's alpha channel
            or a grey drawing on black). Its largest value becomes 1.

    Returns:
        The image: cropped to the ink, scaled so its longer side is 20 px
        (anti-aliased, aspect ratio kept) and placed with its centre of mass at
        pixel (14, 14). All zeros when there is no ink.

    Raises:
        TypeError: Not a real numeric array (complex is refused).
        ValueError: Not 2-D, empty, NaN/inf values, values beyond float32, or negative ink.
    """
    from PIL import Image

    array = np.asarray(ink)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) \
            or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"ink must be a real numeric 2-D array; got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"ink must be a 2-D array (height, width); got shape {array.shape}")
    if array.size == 0:
        raise ValueError("ink is an empty array; give a drawing of at least 1×1 pixels")
    if np.issubdtype(array.dtype, np.floating):  # checked before the cast, which turns 1e39 into inf
        if not np.all(np.isfinite(array)):
            raise ValueError("ink contains NaN or infinite values")
        top = float(np.abs(array).max())
        if top > np.finfo(np.float32).max:
            raise ValueError(f"ink values are too large (up to {top:g}); they must fit float32 "
                             f"(at most {np.finfo(np.float32).max:g})")
    array = array.astype(np.float32)
    if array.min() < 0:
        raise ValueError(f"ink must be ≥ 0 (0 = background); got a minimum of {array.min():g}")
    peak = float(array.max())
    out = np.zeros((FIELD, FIELD), np.float32)
    if peak == 0:
        return out

    rows = np.flatnonzero(array.any(axis=1))
    cols = np.flatnonzero(array.any(axis=0))
    crop = array[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] / peak
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Pillow's resampling widens its filter when shrinking: anti-aliased, no ringing.
    patch = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.Resampling.BILINEAR))
    patch = np.clip(patch, 0.0, 1.0)

    mass = float(patch.sum())
    if mass == 0:
        return out
    ys, xs = np.indices(patch.shape)
    top = int(round(CENTRE - float((patch * ys).sum()) / mass))
    left = int(round(CENTRE - float((patch * xs).sum()) / mass))
    # Paste, cutting whatever would fall outside the field.
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + patch.shape[0], FIELD), min(left + patch.shape[1], FIELD)
    out[r0:r1, c0:c1] = patch[r0 - top:r1 - top, c0 - left:c1 - left]
    return out
