"""How stable a pattern is: the mean pairwise correlation of OIPs grown from different seeds,
tolerant to small shifts.

Two OIPs of one map often show the same strokes a few pixels apart (a conv map's mean
is the same wherever its pattern sits). Plain pixel correlation calls such copies
unrelated (measured on the embedded model: 0.05–0.15 for series that look alike), so each
pair is scored at its best relative shift within ``±max_shift`` px (default 4), on the
pixels the two share at that shift. The score is only meaningful beside the same score
for OIPs of *other* maps (:attr:`~.results.OIPSeries.baseline`): shifting lifts every
pair a little.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["MAX_SHIFT", "consistency", "score_text"]

#: Default shift tolerance of :func:`consistency`, px.
MAX_SHIFT = 4


def _check_shift(max_shift: object, size: int) -> int:
    if isinstance(max_shift, (bool, np.bool_)) or not isinstance(max_shift, numbers.Integral) \
            or not 0 <= max_shift < size:
        raise ValueError(f"max_shift must be a whole number of pixels in 0–{size - 1} (smaller than the image); "
                         f"got {max_shift!r}")
    return int(max_shift)


def consistency(images: np.ndarray, max_shift: int | None = None) -> float:
    """Mean pairwise (Pearson) correlation of patterns ``(n, H, W[, C])``, each pair at its best
    relative shift within ``±max_shift`` px (on the overlap): 1 when all are identical or
    shifted copies (within the overlap). ``None``: :data:`MAX_SHIFT` (4 px), less on images
    smaller than 5 px (and 0 for arrays without two spatial axes); ``max_shift=0`` is the
    plain correlation, and then any shape ``(n, ...)`` is taken.

    Images without variation (constant) have no correlation and are left out;
    NaN when fewer than two images vary.

    Raises:
        ValueError: Fewer than two images; a shift that is not a whole number smaller than
            the image, or a shift for images without two spatial axes.
    """
    array = np.asarray(images, np.float64)
    if array.ndim == 0 or len(array) < 2:
        raise ValueError(f"consistency needs at least two images; got {0 if array.ndim == 0 else len(array)}")
    if max_shift is None:
        max_shift = 0 if array.ndim < 3 else min(MAX_SHIFT, min(array.shape[1:3]) - 1)
    if array.ndim < 3:
        if max_shift:
            raise ValueError(f"a shift-tolerant consistency needs images (n, height, width[, channels]); got shape "
                             f"{array.shape} (give max_shift=0 for the plain correlation)")
        shift = 0
    else:
        shift = _check_shift(max_shift, min(array.shape[1:3]))
    height, width = (array.shape[1], array.shape[2]) if array.ndim >= 3 else (0, 0)
    best = np.full((len(array), len(array)), -np.inf)
    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            a = array[:, max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] if shift else array
            b = array[:, max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)] if shift else array
            best = np.fmax(best, _cross(a, b))  # pair (i, j): image j shifted by (dy, dx) against i
    varying = np.isfinite(np.diag(_cross(array, array)))
    if varying.sum() < 2:
        return float("nan")
    kept = best[np.ix_(varying, varying)]
    count = int(varying.sum())
    return float((np.nansum(kept) - np.nansum(np.diag(kept))) / (count * (count - 1)))


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each ``a[i]`` with each ``b[j]`` (NaN where either is constant)."""
    fa, fb = a.reshape(len(a), -1), b.reshape(len(b), -1)
    ca, cb = fa - fa.mean(axis=1, keepdims=True), fb - fb.mean(axis=1, keepdims=True)
    na, nb = np.linalg.norm(ca, axis=1), np.linalg.norm(cb, axis=1)
    scale = 1e-12 * max(1.0, float(np.abs(fa).max()), float(np.abs(fb).max()))
    ua = ca / np.where(na > scale, na, np.nan)[:, None]
    ub = cb / np.where(nb > scale, nb, np.nan)[:, None]
    return np.clip(ua @ ub.T, -1.0, 1.0)


def alive_consistency(images: np.ndarray, alive: np.ndarray, max_shift: int | None = None) -> float:
    """:func:`consistency` of the images that have a pattern; NaN when fewer than two have one."""
    return consistency(images[alive], max_shift) if alive.sum() >= 2 else float("nan")


def score_text(value: float) -> str:
    """A consistency score for people: two decimals, ``n/a`` for NaN."""
    return "n/a" if not np.isfinite(value) else f"{value:.2f}"
