"""Paths given by the user: checked once, before any long work starts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["MissingFile", "as_path", "checked_output"]


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
