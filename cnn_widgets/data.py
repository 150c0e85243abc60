"""MNIST and Fashion-MNIST loading: a local ``.npz`` file, or Keras' downloader.

A local file is named by the ``path`` argument or, without one, by the environment
variable ``CNN_WIDGETS_MNIST`` / ``CNN_WIDGETS_FASHION_MNIST``. It must be an
``.npz`` archive with the arrays ``x_train, y_train, x_test, y_test`` (uint8 images
``(N, 28, 28)``, labels 0–9), the layout Keras ships. It is read with
``allow_pickle=False`` and checked before use. Without a local file the data set is
fetched by Keras' own downloader into ``~/.keras/datasets`` (cached after the first
time) and read by the same checked loader.

Nothing here imports TensorFlow unless a download is needed.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_mnist", "load_fashion_mnist", "MNIST_ENV", "FASHION_MNIST_ENV"]

MNIST_ENV = "CNN_WIDGETS_MNIST"
FASHION_MNIST_ENV = "CNN_WIDGETS_FASHION_MNIST"
_KEYS = ("x_train", "y_train", "x_test", "y_test")
_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

Split = tuple[np.ndarray, np.ndarray]


def load_mnist(path: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """The MNIST digits: ``(x_train, y_train), (x_test, y_test)``, uint8.

    Args:
        path: A local ``.npz`` file; default: ``$CNN_WIDGETS_MNIST``, else download.

    Raises:
        FileNotFoundError: The named file does not exist.
        ValueError: The file is not a valid MNIST ``.npz`` (missing keys, wrong
            shapes or dtypes, labels out of range, pickled objects, corrupt zip).
        RuntimeError: No local file and the download failed (e.g. offline).
    """
    local = _local_path(path, MNIST_ENV)
    if local is None:
        local = _download_mnist()
    return _read_npz(local, "MNIST")


def load_fashion_mnist(path: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """Fashion-MNIST: ``(x_train, y_train), (x_test, y_test)``, uint8.

    Args:
        path: A local ``.npz`` file with the same keys as MNIST's; default:
            ``$CNN_WIDGETS_FASHION_MNIST``, else Keras' downloader.

    Raises:
        Same as :func:`load_mnist`.
    """
    local = _local_path(path, FASHION_MNIST_ENV)
    if local is not None:
        return _read_npz(local, "Fashion-MNIST")
    return _validated(_download_fashion_mnist(), "Fashion-MNIST", "Keras' Fashion-MNIST download")


def _local_path(path: str | os.PathLike[str] | None, env: str) -> Path | None:
    if path is None:
        path = os.environ.get(env) or None
        if path is None:
            return None
        source = f"${env}"
    else:
        source = "path"
    local = Path(path).expanduser()
    if not local.is_file():
        raise FileNotFoundError(f"no data file at {local} (given by {source})")
    return local


def _read_npz(path: Path, name: str) -> tuple[Split, Split]:
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not an .npz archive (a zip file); it may be truncated or corrupt")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in _KEYS if key not in archive.files]
            if missing:
                raise ValueError(
                    f"{path} lacks the arrays {missing}; an {name} .npz holds {', '.join(_KEYS)}"
                )
            arrays = {key: archive[key] for key in _KEYS}
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError(
                f"{path} holds pickled Python objects, which are never loaded; "
                "the arrays must be plain uint8 arrays"
            ) from error
        raise
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"could not read {path}: {error}; it may be truncated or corrupt") from error
    return _validated(arrays, name, str(path))


def _validated(arrays: dict[str, Any], name: str, source: str) -> tuple[Split, Split]:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
            raise ValueError(
                f"{source}: x_{split} must be uint8 images of shape (N, 28, 28); "
                f"got {x.dtype} {x.shape}"
            )
        if not np.issubdtype(y.dtype, np.integer) or y.shape != (x.shape[0],):
            raise ValueError(
                f"{source}: y_{split} must be {x.shape[0]} integer labels (one per image); "
                f"got {y.dtype} {y.shape}"
            )
        if x.shape[0] == 0:
            raise ValueError(f"{source}: the {split} split of {name} is empty")
        if y.min() < 0 or y.max() > 9:
            raise ValueError(f"{source}: y_{split} labels must lie in 0..9; got {y.min()}..{y.max()}")
    return (
        (arrays["x_train"], arrays["y_train"].astype(np.uint8)),
        (arrays["x_test"], arrays["y_test"].astype(np.uint8)),
    )


def _offline_error(name: str, env: str, function: str, error: Exception) -> RuntimeError:
    return RuntimeError(
        f"could not download {name} ({error}). Offline, point to a local .npz file: "
        f"{function}(path=...) or the environment variable {env}"
    )


def _download_mnist() -> Path:
    from keras.utils import get_file

    try:
        return Path(
            get_file(
                "mnist.npz",
                origin=_ORIGIN + "mnist.npz",
                file_hash=_MNIST_SHA256,
                cache_dir=os.environ.get("KERAS_HOME"),  # read now, not at Keras' import
            )
        )
    except Exception as error:  # urllib, HTTP and hash errors all mean "not available"
        raise _offline_error("MNIST", MNIST_ENV, "load_mnist", error) from error


def _download_fashion_mnist() -> dict[str, np.ndarray]:
    from keras.datasets import fashion_mnist

    try:
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    except Exception as error:
        raise _offline_error("Fashion-MNIST", FASHION_MNIST_ENV, "load_fashion_mnist", error) from error
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
