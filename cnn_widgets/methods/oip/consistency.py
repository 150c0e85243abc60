"""How stable a pattern is: the mean pairwise correlation of OIPs grown from different seeds."""

from __future__ import annotations

import numpy as np

__all__ = ["consistency", "score_text"]


def consistency(images: np.ndarray) -> float:
    """Mean pairwise (Pearson) correlation of patterns ``(n, ...)``: 1 when all are identical.

    Images without variation (constant) have no correlation and are left out;
    NaN when fewer than two images vary.

    Raises:
        ValueError: Fewer than two images.
    """
    flat = np.asarray(images, np.float64)
    flat = flat.reshape(len(flat), -1) if flat.ndim else flat.reshape(1, -1)
    if len(flat) < 2:
        raise ValueError(f"consistency needs at least two images; got {len(flat)}")
    centred = flat - flat.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    varying = norms > 1e-12 * max(1.0, float(np.abs(flat).max()))
    if varying.sum() < 2:
        return float("nan")
    unit = centred[varying] / norms[varying, None]
    gram = np.clip(unit @ unit.T, -1.0, 1.0)
    count = len(unit)
    return float((gram.sum() - np.trace(gram)) / (count * (count - 1)))


def alive_consistency(images: np.ndarray, alive: np.ndarray) -> float:
    """:func:`consistency` of the images that have a pattern; NaN when fewer than two have one."""
    return consistency(images[alive]) if alive.sum() >= 2 else float("nan")


def score_text(value: float) -> str:
    """A consistency score for people: two decimals, ``n/a`` for NaN."""
    return "n/a" if not np.isfinite(value) else f"{value:.2f}"
