"""What a model takes: images checked and batched, per-channel numbers, class names.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..checks import whole_number

__all__ = ["as_channel_vector", "check_batch_size", "class_names_for", "padded", "prepare_images"]


def prepare_images(images: Any, input_shape: tuple[int | None, int | None, int]) -> np.ndarray:
    """Validate images and bring them to a float32 batch ``(N, H, W, C)`` in [0, 1].

    Accepts one image ``(H, W)`` / ``(H, W, C)`` or a batch ``(N, H, W)`` /
    ``(N, H, W, C)``; floats in [0, 1] or uint8 0–255.

    Raises:
        TypeError: Not a numeric array, or integers other than uint8.
        ValueError: Wrong rank, size or channel count; empty batch; NaN/inf;
            floats outside [0, 1].
    """
    try:
        array = np.asarray(images)
    except (TypeError, ValueError):  # ragged nested lists
        raise TypeError("images must be a numeric array (floats in [0, 1] or uint8 0–255) of one "
                        "shape; got a ragged sequence") from None
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / np.float32(255.0)
    elif np.issubdtype(array.dtype, np.floating):
        if array.size and not np.all(np.isfinite(array)):
            raise ValueError("images contain NaN or infinite pixels; all pixels must be finite")
        if array.size and (float(array.min()) < 0.0 or float(array.max()) > 1.0):
            raise ValueError(
                f"float pixels must lie in [0, 1]; got values from {float(array.min()):g} to "
                f"{float(array.max()):g}. Pass uint8 for the 0–255 scale, or divide by 255"
            )
        array = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
        raise TypeError(
            f"integer pixels must be uint8 (0–255); got {array.dtype}. "
            "Convert with .astype(np.uint8), or pass floats in [0, 1]"
        )
    else:
        raise TypeError(
            f"images must be a numeric array (floats in [0, 1] or uint8 0–255); got {array.dtype}"
        )
    height, width, channels = input_shape
    expected = "×".join(str(s if s is not None else "any") for s in (height, width, channels))
    given = array.shape
    colour = channels == 1 and array.ndim in (3, 4) and array.shape[-1] in (3, 4) and (
        height is None or array.shape[-3] == height) and (width is None or array.shape[-2] == width)
    if colour:
        raise ValueError(
            f"this model takes grey images ({expected}); got {'an RGB' if given[-1] == 3 else 'an RGBA'} "
            f"{'image' if array.ndim == 3 else 'batch'} of shape {given}. Convert it to grey "
            "first, e.g. image.mean(axis=-1)"
        )
    if array.ndim == 2 and channels == 1:
        array = array[None, :, :, None]
    elif array.ndim == 3:
        if array.shape[-1] == channels and (height is None or array.shape[0] == height) and (
                width is None or array.shape[1] == width):
            array = array[None]
        elif channels == 1:
            array = array[..., None]
        else:
            raise ValueError(
                f"images of shape {array.shape} do not fit this model: it takes "
                f"{expected} images, as (H, W, C) or a batch (N, H, W, C)"
            )
    elif array.ndim != 4:
        forms = "(H, W), (N, H, W), (H, W, C) or (N, H, W, C)" if channels == 1 else "(H, W, C) or (N, H, W, C)"
        raise ValueError(
            f"images must be one image or a batch: {forms}; got an array of rank {array.ndim}"
        )
    if array.shape[0] == 0:
        raise ValueError("the batch of images is empty; give at least one image")
    if array.shape[3] != channels:
        raise ValueError(
            f"this model takes {channels}-channel images ({expected}); got {array.shape[3]} channels "
            f"(an array of shape {given})"
        )
    if (height is not None and array.shape[1] != height) or (width is not None and array.shape[2] != width):
        raise ValueError(
            f"this model takes {height}×{width} images; got {array.shape[1]}×{array.shape[2]} "
            f"(an array of shape {given})"
        )
    if 0 in array.shape:
        raise ValueError(f"images must not have an empty axis; got an array of shape {given}")
    return array


def check_batch_size(batch_size: Any) -> int:
    """``batch_size`` as a whole number ≥ 1."""
    return whole_number(batch_size, "batch_size", 1)


def padded(batch: np.ndarray, powers_up_to: int = 64) -> np.ndarray:
    """``batch`` padded with zero images to few distinct sizes: a power of two up to
    ``powers_up_to``, a multiple of 64 above (each new size costs a trace, an XLA
    compilation or new oneDNN kernels)."""
    count = batch.shape[0]
    size = 1 << (count - 1).bit_length() if count <= powers_up_to else -(-count // 64) * 64
    if size == count:
        return batch
    return np.concatenate([batch, np.zeros((size - count, *batch.shape[1:]), batch.dtype)])


def class_names_for(value: Any, classes: int) -> list[str]:
    """``value`` as one name per class; ``None`` gives ``"0", "1", …``."""
    if value is None:
        return [str(i) for i in range(classes)]
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"class_names must be a list of {classes} strings; got {type(value).__name__}")
    names = list(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"class_names must be strings; got {name!r} ({type(name).__name__})")
    if len(names) != classes:
        raise ValueError(f"class_names has {len(names)} names for {classes} classes")
    return [str(name) for name in names]


def as_channel_vector(value: float | Sequence[float], channels: int, what: str) -> np.ndarray:
    """One number, or one per channel, as a float32 vector of ``channels`` finite values."""
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{what} must be a number or one number per channel ({channels}); got {value!r}")
    try:
        vector = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(
            f"{what} must be a number or one number per channel ({channels}); got {value!r}"
        ) from None
    if vector.size == 1:
        vector = np.repeat(vector, channels)
    if vector.size != channels:
        raise ValueError(
            f"{what} must be one number or one per channel ({channels}); got {vector.size} values"
        )
    if not np.all(np.isfinite(vector)):
        raise ValueError(f"{what} must be finite; got {vector.tolist()}")
    return vector.astype(np.float32)
