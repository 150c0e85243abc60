"""MNIST and Fashion-MNIST loading: the test split shipped in the package, a local
``.npz`` file, or a download.

The MNIST *test* split (10,000 digits) ships inside the package
(``cnn_widgets/assets/mnist_test.npz``, from Y. LeCun, C. Cortes and C. Burges' MNIST
database, licensed CC BY-SA 3.0): :func:`mnist_test_split` reads it with no network
and no file. The training splits never ship; :func:`load_mnist` gets the full set.

A local file is named by the ``path`` argument or, without one, by the environment
variable ``CNN_WIDGETS_MNIST`` / ``CNN_WIDGETS_FASHION_MNIST``. It must be an
``.npz`` archive with the arrays ``x_train, y_train, x_test, y_test`` (uint8 images
``(N, 28, 28)``, labels 0–9), the layout Keras ships. It is read with
``allow_pickle=False`` and checked before use. Without a local file the data set is
downloaded (as Keras would) into ``~/.keras/datasets`` (cached after the first
time) and read by the same checked loader. A download only happens when the
full set is asked for, has a timeout, and prints nothing.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.request
import zipfile
import zlib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import MissingFile

__all__ = ["load_mnist", "load_fashion_mnist", "mnist_test_split", "MNIST_ENV", "FASHION_MNIST_ENV",
           "DOWNLOAD_TIMEOUT", "MNIST_SOURCE"]

MNIST_ENV = "CNN_WIDGETS_MNIST"
FASHION_MNIST_ENV = "CNN_WIDGETS_FASHION_MNIST"
_KEYS = ("x_train", "y_train", "x_test", "y_test")
_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
#: Seconds a download may wait on the network before it gives up.
DOWNLOAD_TIMEOUT = 30.0
#: Where the shipped test split comes from, and its licence.
MNIST_SOURCE = ("MNIST test split (10,000 digits) shipped with cnn_widgets; from the MNIST database "
                "of Y. LeCun, C. Cortes and C. Burges, CC BY-SA 3.0")

Split = tuple[np.ndarray, np.ndarray]


def mnist_test_split() -> Split:
    """The MNIST test split shipped in the package: ``(x_test, y_test)``, uint8.

    10,000 images ``(10000, 28, 28)`` and their labels; no network, no file needed.
    """
    asset = resources.files("cnn_widgets") / "assets" / "mnist_test.npz"
    with resources.as_file(asset) as path, np.load(path, allow_pickle=False) as archive:
        return archive["x_test"], archive["y_test"].astype(np.uint8)


def load_mnist(path: str | os.PathLike[str] | None = None, *,
               timeout: float = DOWNLOAD_TIMEOUT) -> tuple[Split, Split]:
    """The full MNIST digits: ``(x_train, y_train), (x_test, y_test)``, uint8.

    For the test split alone, :func:`mnist_test_split` needs neither file nor network.

    Args:
        path: A local ``.npz`` file; default: ``$CNN_WIDGETS_MNIST``, else download
            (cached in Keras' folder, ``~/.keras/datasets``).
        timeout: Seconds the download may wait on the network.

    Raises:
        FileNotFoundError: The named file does not exist.
        ValueError: The file is not a valid MNIST ``.npz`` (missing keys, wrong
            shapes or dtypes, labels out of range, pickled objects, corrupt zip).
        RuntimeError: No local file and the download failed (e.g. offline).
    """
    _check_timeout(timeout)
    local = _local_path(path, MNIST_ENV)
    if local is None:
        try:
            local = _fetch("mnist.npz", _MNIST_SHA256, timeout)
        except (OSError, ValueError) as error:
            raise _offline_error("MNIST", MNIST_ENV, "load_mnist", error) from error
    return _read_npz(local, "MNIST")


def load_fashion_mnist(path: str | os.PathLike[str] | None = None, *,
                       timeout: float = DOWNLOAD_TIMEOUT) -> tuple[Split, Split]:
    """Fashion-MNIST (Zalando Research, MIT licence): ``(x_train, y_train), (x_test, y_test)``, uint8.

    Args:
        path: A local ``.npz`` file with the same keys as MNIST's; default:
            ``$CNN_WIDGETS_FASHION_MNIST``, else download (cached like MNIST; each file
            checked against its SHA-256; ``$CNN_WIDGETS_FASHION_MNIST_URL`` names a mirror).
        timeout: Seconds the download may wait on the network.

    Raises:
        Same as :func:`load_mnist`.
    """
    _check_timeout(timeout)
    local = _local_path(path, FASHION_MNIST_ENV)
    if local is not None:
        return _read_npz(local, "Fashion-MNIST")
    try:
        from .fetch import fetch_fashion_mnist  # each file with its SHA-256 (data/fetch.py)

        y_train, x_train, y_test, x_test = fetch_fashion_mnist(timeout=timeout)
    except (OSError, ValueError) as error:
        raise _offline_error("Fashion-MNIST", FASHION_MNIST_ENV, "load_fashion_mnist", error) from error
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return _validated(arrays, "Fashion-MNIST", "the Fashion-MNIST download")


def _check_timeout(timeout: Any) -> None:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float, np.integer, np.floating)):
        raise TypeError(f"timeout must be a number of seconds; got {timeout!r}")
    if not np.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a finite number of seconds > 0; got {timeout}")


def _local_path(path: str | os.PathLike[str] | None, env: str) -> Path | None:
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or os.PathLike) or None; got {type(path).__name__}")
    if path is None:
        path = os.environ.get(env) or None
        if path is None:
            return None
        source = f"${env}"
    else:
        source = "path"
    local = Path(path).expanduser()
    if not local.is_file():
        folder = " (it is a folder)" if local.is_dir() else ""
        raise MissingFile(f"no data file at {local} (given by {source}){folder}")
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
            not_arrays = [key for key in _KEYS if f"{key}.npy" not in archive.zip.namelist()]
            if not_arrays:
                raise ValueError(
                    f"{path}: the members {not_arrays} are not NumPy arrays (.npy); an {name} .npz "
                    f"holds the arrays {', '.join(_KEYS)}"
                )
            _check_sizes(archive.zip, path)  # before reading: a header may claim more than the file holds
            arrays = {key: archive[key] for key in _KEYS}
            not_arrays = [key for key, value in arrays.items() if not isinstance(value, np.ndarray)]
            if not_arrays:  # NumPy hands back the raw bytes of a member that is no .npy file
                raise ValueError(
                    f"{path}: the members {not_arrays} are not NumPy arrays (not .npy data); an {name} .npz "
                    f"holds the arrays {', '.join(_KEYS)}"
                )
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError(
                f"{path} holds pickled Python objects, which are never loaded; "
                "the arrays must be plain uint8 arrays"
            ) from error
        if str(error).startswith(str(path)):
            raise
        raise ValueError(f"could not read the arrays in {path}: {error}; it may be truncated or corrupt") from error
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise ValueError(f"could not read {path}: {error}; it may be truncated or corrupt") from error
    return _validated(arrays, name, str(path))


def _check_sizes(archive: zipfile.ZipFile, path: Path, keys: tuple[str, ...] = _KEYS) -> None:
    """Each member's .npy header against the bytes the member holds (read nothing else).

    Raises:
        ValueError: A header claims more data than the member holds (a forged or
            truncated file would otherwise ask for that much memory).
    """
    for key in keys:
        try:
            info = archive.getinfo(f"{key}.npy")
        except KeyError:
            raise ValueError(f"{path}: the members ['{key}'] are not NumPy arrays (not .npy data)") from None
        with archive.open(info) as member:
            try:
                version = np.lib.format.read_magic(member)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, _, dtype = read(member)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
                raise ValueError(f"{path}: the members ['{key}'] are not NumPy arrays (not .npy data); "
                                 f"reading its header: {error}. The file may be truncated or corrupt") from None
            header = member.tell()
        if dtype.hasobject:
            continue  # refused as pickled objects when read
        claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if claimed > info.file_size - header:
            raise ValueError(f"{path}: {key} claims shape {tuple(shape)} ({claimed:,} bytes) but holds "
                             f"{max(info.file_size - header, 0):,} bytes; the file is truncated or corrupt")


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


def _cache_dir(subdir: str | None) -> Path:
    """Keras' data set cache: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    root = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets"
    return root / subdir if subdir else root


def _fetch(name: str, sha256: str | None, timeout: float, subdir: str | None = None) -> Path:
    """The cached file ``name``, downloaded first if needed; nothing is printed."""
    target = _cache_dir(subdir) / name
    if target.is_file() and (sha256 is None or _sha256(target) == sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(_ORIGIN + name, timeout=timeout) as response, tempfile.NamedTemporaryFile(
            dir=target.parent, delete=False) as part:
        while chunk := response.read(1 << 20):
            part.write(chunk)
    if sha256 is not None and _sha256(Path(part.name)) != sha256:
        os.unlink(part.name)
        raise ValueError(f"the downloaded {name} does not have the expected checksum")
    os.replace(part.name, target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read_idx(path: Path) -> np.ndarray:
    """A gzipped IDX file (the MNIST format) as a uint8 array."""
    with gzip.open(path, "rb") as file:
        raw = file.read()
    if len(raw) < 8 or raw[:2] != b"\0\0" or raw[2] != 8:
        raise ValueError(f"{path} is not a uint8 IDX file")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated")
    return data.reshape(shape)
