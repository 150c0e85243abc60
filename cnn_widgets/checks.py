"""What every public function checks: whole numbers, finite numbers, paths.

Each check returns the value in its plain Python type or raises a TypeError (wrong
kind of value) or ValueError (out of range) whose message names the argument and
what is allowed. Paths given by the user are checked once, before any long work.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any

__all__ = ["MissingFile", "as_path", "checked_output", "finite_number", "whole_number"]


def _range(low: float | None, high: float | None, unit: str = "") -> str:
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"in {low:g}–{high:g}{unit}"
    if low is not None:
        return f"≥ {low:g}{unit}"
    return f"≤ {high:g}{unit}" if high is not None else "any"


def whole_number(value: Any, what: str, low: int | None = 0, high: int | None = None, *, unit: str = "") -> int:
    """``value`` as an ``int`` in ``[low, high]``.

    Raises:
        TypeError: Not a whole number (floats, booleans and strings are refused).
        ValueError: Outside ``[low, high]``.
    """
    allowed = f"a whole number {_range(low, high, unit)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be {allowed}; got {value!r:.60}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{what} must be {allowed}; got {value!r}")
    return int(value)


def finite_number(value: Any, what: str, low: float | None = None, high: float | None = None, *,
                  above: bool = False, unit: str = "") -> float:
    """``value`` as a finite ``float`` in ``[low, high]`` (``above``: strictly more than ``low``).

    Raises:
        TypeError: Not a real number (booleans and strings are refused).
        ValueError: NaN, infinite or outside the range.
    """
    span = (f"> {low:g}{' ' + unit if unit else ''}" + (f" and ≤ {high:g}" if high is not None else "")
            if above else _range(low, high, unit))
    allowed = f"a finite number {span}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be {allowed}; got {value!r:.60}")
    number = float(value)
    if not math.isfinite(number) or (low is not None and (number <= low if above else number < low)) or (
            high is not None and number > high):
        raise ValueError(f"{what} must be {allowed}; got {value!r}")
    return number


class MissingFile(FileNotFoundError, ValueError):
    """An input file that does not exist: a FileNotFoundError that is also a ValueError
    (a bad argument, caught with the others)."""


def as_path(value: Any, what: str = "path") -> Path:
    """``value`` as a :class:`~pathlib.Path`.

    Raises:
        TypeError: Not a ``str`` or ``os.PathLike``.
    """
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{what} must be a file path (str or os.PathLike); got {type(value).__name__}")
    return Path(value)


def checked_output(value: Any, suffixes: tuple[str, ...], what: str = "path") -> Path:
    """The output file ``value`` if a file ending in one of ``suffixes`` can be written there.

    Raises:
        TypeError: Not a path.
        ValueError: Another ending, an existing folder, or a path under a file.
    """
    path = as_path(value, what)
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"{path}: {what} must end in {' or '.join(repr(s) for s in suffixes)} "
                         f"(got {path.suffix or 'no ending'!r})")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; {what} must be a file ending in {suffixes[0]!r}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"cannot write {path}: {parent} is a file, not a folder")
            break
    return path
