"""Class labels checked once: whole class numbers, each one named when it is not.

Labels often arrive as floats (a CSV, a pandas column): ``3.0`` is accepted as class 3;
``2.5`` is refused (truncating it would train on a class nobody gave), and so is a NaN
or an infinity, each named with its position.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["class_labels"]


def class_labels(labels: Any, what: str = "labels", classes: int | None = None,
                 count: int | None = None) -> np.ndarray:
    """``labels`` as a flat int64 array of class indices.

    Args:
        labels: Integers, or floats that are whole numbers.
        what: How the message names them (``"labels"``, ``"validation labels"``).
        classes: When given, every label must lie in ``0..classes-1``.
        count: When given, the number of labels there must be (one per image).

    Raises:
        TypeError: Not numbers (strings, objects, booleans).
        ValueError: A NaN, an infinity, a fractional value, a label out of range, or
            the wrong number of labels; the message names the first bad label.
    """
    try:
        array = np.asarray(labels)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be an array of class indices (whole numbers); got a ragged sequence") from None
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype,
                                                                                             np.floating)):
        raise TypeError(f"{what} must be class indices (whole numbers); got {array.dtype}")
    array = array.reshape(-1)
    if count is not None and array.shape[0] != count:
        raise ValueError(f"{count} images but {array.shape[0]} labels ({what}); one label per image")
    if np.issubdtype(array.dtype, np.floating):
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            raise ValueError(f"{what}[{bad[0]}] is {array[bad[0]]} ({bad.size} such); {what} must be whole class "
                             "numbers")
        bad = np.flatnonzero(array != np.round(array))
        if bad.size:
            raise ValueError(f"{what}[{bad[0]}] = {array[bad[0]]:g} is not a whole number ({bad.size} such); "
                             f"{what} are class indices and are never rounded")
        if array.size and np.abs(array).max() > 2 ** 62:
            raise ValueError(f"{what} must be class indices; got values up to {np.abs(array).max():g}")
    result = array.astype(np.int64)
    if classes is not None and result.size and (result.min() < 0 or result.max() >= classes):
        raise ValueError(f"{what} must lie in 0..{classes - 1} (the model's classes); got "
                         f"{result.min()}..{result.max()}")
    return result
