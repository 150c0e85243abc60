"""A user's own model, data and class names from files: what ``cnn-widgets serve --model my.keras
--data my.npz --classes names.txt`` and ``Explorer("my.keras", data="my.npz", classes=...)`` open.

* **Data**: an ``.npz`` archive (read with ``allow_pickle=False``, each header checked
  against the bytes it holds before anything is read) with images and labels under one
  of the key pairs :data:`DATA_KEYS` — ``x_test, y_test`` (the Keras layout: the test
  split is what the dashboard shows), ``images, labels`` or ``x, y``. Images are
  uint8 0–255 or floats in [0, 1], ``(N, H, W)`` or ``(N, H, W, C)``; labels whole
  class numbers (see :func:`~.labels.class_labels`).
* **Class names**: a UTF-8 text file, one name per line (blank lines skipped), as
  many as the model has classes.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import MissingFile
from .labels import class_labels

__all__ = ["DATA_KEYS", "load_class_names", "load_data", "open_own"]

#: The key pairs a data file may hold its images and labels under, tried in this order.
DATA_KEYS = (("x_test", "y_test"), ("images", "labels"), ("x", "y"))


def _file(path: Any, what: str, suffixes: tuple[str, ...]) -> Path:
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a file path; got {type(path).__name__}")
    local = Path(path).expanduser()
    if local.suffix.lower() not in suffixes:
        raise ValueError(f"{what} {local}: expected a {' or '.join(suffixes)} file "
                         f"(got {local.suffix or 'no ending'!r})")
    if not local.is_file():
        raise MissingFile(f"{what}: no file at {local}" + (" (it is a folder)" if local.is_dir() else ""))
    return local


def load_data(path: str | os.PathLike[str]) -> Any:
    """Labelled images from an ``.npz`` file, as a :class:`~.provider.DataSet`.

    Raises:
        FileNotFoundError: No such file.
        TypeError: Not a path; labels that are not numbers.
        ValueError: Not an ``.npz``; no known key pair (the message lists the keys it has
            and those accepted); a header claiming more than the file holds; pickled
            objects; images and labels of different counts; bad labels (named).
    """
    from .mnist import _check_sizes
    from .provider import DataSet

    local = _file(path, "data", (".npz",))
    if not zipfile.is_zipfile(local):
        raise ValueError(f"{local} is not an .npz archive (a zip file); it may be truncated or corrupt")
    try:
        with np.load(local, allow_pickle=False) as archive:
            keys = next((pair for pair in DATA_KEYS if all(k in archive.files for k in pair)), None)
            if keys is None:
                accepted = "; ".join(", ".join(pair) for pair in DATA_KEYS)
                raise ValueError(f"{local} holds {', '.join(archive.files) or 'no arrays'}; a data file holds images "
                                 f"and labels as one of: {accepted}")
            _check_sizes(archive.zip, local, keys)
            images, labels = archive[keys[0]], archive[keys[1]]
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError(f"{local} holds pickled Python objects, which are never loaded; images and labels "
                             "must be plain arrays") from None
        raise
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise ValueError(f"could not read {local}: {error}; it may be truncated or corrupt") from None
    if images.ndim not in (3, 4):
        raise ValueError(f"{local}: {keys[0]} must be images (N, H, W) or (N, H, W, C); got shape {images.shape}")
    labels = class_labels(labels, f"{keys[1]} in {local.name}", count=len(images))
    return DataSet(images, labels, f"{len(labels):,} images from {local.name} ({keys[0]}, {keys[1]})")


def load_class_names(path: str | os.PathLike[str]) -> list[str]:
    """Class names from a text file, one a line (blank lines skipped).

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not UTF-8 text, no names, or a name given twice.
    """
    local = _file(path, "classes", (".txt", ".csv", ""))
    try:
        text = local.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"classes {local}: not UTF-8 text ({error})") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise ValueError(f"classes {local}: no names (one class name a line)")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"classes {local}: names given twice: {', '.join(twice)}")
    return names


def open_own(model: Any = None, data: Any = None, classes: Any = None) -> tuple[Any, Any]:
    """The model and data an Explorer or ``serve`` opens, from objects or files.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`, a ``.keras`` path, or None (the embedded
            CNN). A bare Keras model is left to the session, which asks for a CNNModel
            (its standardisation cannot be guessed).
        data: ``(images, labels)``, a DataSet, an ``.npz`` path, ``False`` or None.
        classes: Class names: a list, a text file path, or None (the model's own).

    Returns:
        ``(CNNModel, data)``: data as given, or a DataSet loaded from the file.

    Raises:
        FileNotFoundError, TypeError, ValueError: A file that is missing or unreadable,
            class names that do not fit the model (the message says how many it has).
    """
    from ..model import CNNModel

    if isinstance(model, (str, os.PathLike)):
        model = CNNModel.load(model)
    elif model is None and classes is not None:
        model = CNNModel.default()
    if isinstance(data, (str, os.PathLike)):
        data = load_data(data)
    if classes is not None:
        names = load_class_names(classes) if isinstance(classes, (str, os.PathLike)) else classes
        try:
            model.class_names = _class_names_for(names, model.classes)
        except ValueError as error:
            raise ValueError(f"classes: {error} (the model's last layer has {model.classes} outputs)") from None
    return model, data


def _class_names_for(names: Any, count: int) -> list[str]:
    from ..model.inputs import class_names_for

    return class_names_for(names, count)
