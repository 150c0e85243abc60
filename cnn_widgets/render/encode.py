"""Pictures → bytes: palette PNGs, grey and RGB PNGs, enlarged Pillow frames, animated GIFs.

One encoder per kind of picture, used by every view, export and command.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from ..checks import whole_number
from .colour import palette, scale

__all__ = ["MAX_SIDE", "MAX_ZOOM", "animated_gif", "grey_frame", "grey_png", "image_png", "palette_image",
           "rgb_png", "to_png"]

#: Largest pixel enlargement of a saved picture, and largest side of one, in pixels.
MAX_ZOOM = 64
MAX_SIDE = 8192


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



def grey_frame(grey: np.ndarray, zoom: int) -> Any:
    """Grey levels in [0, 1] → a Pillow image enlarged ``zoom`` times without smoothing."""
    from PIL import Image

    zoom = whole_number(zoom, "zoom", 1, MAX_ZOOM)
    height, width = grey.shape[:2]
    if max(height, width) * zoom > MAX_SIDE:
        raise ValueError(f"zoom {zoom} makes a {width * zoom}×{height * zoom} px picture; at most {MAX_SIDE} px a "
                         f"side: use zoom ≤ {max(1, MAX_SIDE // max(height, width))}")
    picture = Image.fromarray(np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8), mode="L")
    return picture.resize((picture.width * zoom, picture.height * zoom), Image.Resampling.NEAREST)



def grey_png(grey: np.ndarray, zoom: int) -> bytes:
    """Grey levels in [0, 1] → PNG bytes, enlarged ``zoom`` times."""
    buffer = io.BytesIO()
    grey_frame(grey, zoom).save(buffer, format="PNG")
    return buffer.getvalue()



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

