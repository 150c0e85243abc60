"""Colour maps and grey levels: values → palette indices, a pattern's display stretch.

Pictures are palette PNGs: one byte per pixel indexing a 256-colour table taken
from a Matplotlib colour map (the last entry is the gap colour between tiles), which
keeps a whole layer's mosaic to a few KB.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..checks import finite_number

__all__ = ["COLORMAPS", "DEFAULT_COLORMAP", "GAP", "LEVELS", "MAX_CONTRAST", "check_contrast", "finite_values",
           "palette", "scale", "stretch"]

#: Colour maps offered in the widgets (the choice is called ``colormap`` everywhere): name →
#: Matplotlib colour map. Viridis first, the default: perceptual (brightness grows with the
#: value, readable in grey and by colour-blind viewers); jet second, one click away.
COLORMAPS = {"viridis": "viridis", "jet": "jet", "grey": "gray", "diverging": "RdBu_r"}
#: The colour map of maps and activations unless one is chosen.
DEFAULT_COLORMAP = "viridis"
GAP = 255  #: palette index kept for the lines between tiles
LEVELS = 255  #: data indices 0..254
#: Strongest display contrast: beyond it every pixel that is not black shows white.
MAX_CONTRAST = 20


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
    levels = colormaps[name](np.linspace(0.0, 1.0, LEVELS))[:, :3]
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
    values = finite_values(values, "values")
    low, high = finite_values(low, "low"), finite_values(high, "high")
    if np.any(low > high):
        raise ValueError(f"low must not exceed high; got low={low}, high={high}")
    # float64: no overflow between float32 extremes
    low, high = low.astype(np.float64), high.astype(np.float64)
    span = np.maximum(high - low, 1e-12)
    unit = np.clip((values.astype(np.float64) - low) / span, 0.0, 1.0)
    return np.round(unit * (LEVELS - 1)).astype(np.uint8)



def finite_values(values: object, what: str) -> np.ndarray:
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



def stretch(image: np.ndarray, contrast: float = 0.0) -> np.ndarray:
    """Grey levels in [0, 1] for showing a pattern: display only, never fed back.

    ``contrast = 0`` stretches the image's own min..max to 0..1 (the seed's "plain"
    view). ``contrast > 0`` then applies the gamma curve ``v ** (1 / (1 + contrast))``
    (the seed's contrast-enhanced view): faint structure comes up, black stays black
    and white stays white.
    """
    image = finite_values(image, "image")
    if image.size == 0:
        raise ValueError("the image is empty")
    contrast = check_contrast(contrast)
    low, high = float(image.min()), float(image.max())
    wide = image.astype(np.float64)  # no overflow between float32 extremes
    unit = ((wide - low) / (high - low)).astype(np.float32) if high > low else np.zeros_like(image)
    if contrast <= 0:
        return unit
    return unit ** (1.0 / (1.0 + contrast))


def check_contrast(contrast: object) -> float:
    """A display contrast: a finite number in 0–``MAX_CONTRAST`` (0 = plain).

    Raises:
        TypeError: Not a number.
        ValueError: NaN, infinite, negative or above ``MAX_CONTRAST``.
    """
    return finite_number(contrast, "contrast (display only; 0 = plain)", 0, MAX_CONTRAST)

