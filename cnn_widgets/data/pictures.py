"""A picture file (PNG or JPEG) brought to what a model takes: its size and its channels.

The file is decoded with Pillow, converted to grey (``L``) or colour (``RGB``) as the
model's input has one or three channels, and resized to the model's height and width
(Lanczos; the aspect ratio is not kept: the network sees what :func:`picture_for_model`
returns, and the source line says from what size). Files over :data:`MAX_BYTES` and
pictures over :data:`MAX_PIXELS` are refused before decoding.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

__all__ = ["MAX_BYTES", "MAX_PIXELS", "picture_for_model"]

#: The largest picture file taken, bytes.
MAX_BYTES = 20 * 2 ** 20
#: The largest picture taken, pixels (width × height).
MAX_PIXELS = 40_000_000
_FORMATS = ("PNG", "JPEG")


def picture_for_model(data: Any, input_shape: tuple[Any, Any, Any],
                      name: str = "the picture") -> tuple[np.ndarray, str]:
    """Decode a PNG or JPEG and bring it to the model's input.

    Args:
        data: The file's bytes.
        input_shape: The model's ``(height, width, channels)``; channels 1 or 3.
        name: The file's name, for the messages.

    Returns:
        ``(image, source)``: float32 ``(height, width, channels)`` in [0, 1], and one line
        saying what it is (``"cat.png, 640×480 RGB → 96×96 RGB"``).

    Raises:
        TypeError: ``data`` is not bytes.
        ValueError: Empty, too large, not a PNG or JPEG, a model whose input is not
            1 or 3 channels of a fixed size.
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(data, memoryview):
        data = data.tobytes()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"a picture file is bytes; got {type(data).__name__}")
    height, width, channels = input_shape
    if height is None or width is None or channels not in (1, 3):
        raise ValueError(f"this model takes {input_shape} images; a picture file feeds models of a fixed size with "
                         "1 (grey) or 3 (RGB) channels")
    if not data:
        raise ValueError(f"{name} is empty (0 bytes); give a PNG or JPEG file")
    if len(data) > MAX_BYTES:
        raise ValueError(f"{name} has {len(data) / 2 ** 20:.0f} MB; picture files up to {MAX_BYTES // 2 ** 20} MB "
                         "are taken")
    try:
        picture = Image.open(io.BytesIO(bytes(data)))
        kind = picture.format
        if kind not in _FORMATS:
            raise ValueError(f"{name} is a {kind or 'unknown'} file; give a PNG or JPEG")
        if picture.width * picture.height > MAX_PIXELS:
            raise ValueError(f"{name} is {picture.width}×{picture.height} pixels; pictures up to "
                             f"{MAX_PIXELS:,} pixels are taken")
        size, mode = (picture.width, picture.height), picture.mode
        converted = picture.convert("L" if channels == 1 else "RGB")
        resized = converted.resize((int(width), int(height)), Image.Resampling.LANCZOS)
    except UnidentifiedImageError:
        raise ValueError(f"{name} is not a picture Pillow can read; give a PNG or JPEG file") from None
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValueError(f"{name} cannot be decoded ({error}); it may be truncated or corrupt") from None
    pixels = np.asarray(resized, np.float32) / np.float32(255.0)
    if channels == 1:
        pixels = pixels[..., None]
    target = "grey" if channels == 1 else "RGB"
    return pixels, f"{name}, {size[0]}×{size[1]} {mode} → {width}×{height} {target}"
