"""Fetching Fashion-MNIST over the network where it can be reached (Binder, a laptop online):
its four gzipped IDX files, each with a timeout and its SHA-256 checksum, cached in Keras'
data set folder, read and checked; one clear message when it cannot be had.

Nothing is ever made up: a file that does not arrive, arrives truncated or has another
checksum is refused, and the loader says what to do offline (a local ``.npz``).
"""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

__all__ = ["FASHION_FILES", "FASHION_ORIGIN", "FASHION_ORIGIN_ENV", "fetch_fashion_mnist", "fetch_file"]

#: Where Keras downloads Fashion-MNIST from.
FASHION_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
#: An environment variable naming another origin (a mirror; tests use a local server).
FASHION_ORIGIN_ENV = "CNN_WIDGETS_FASHION_MNIST_URL"
#: The four files of Fashion-MNIST (Zalando Research, MIT licence) and their SHA-256, in the
#: order labels/images of the training split, then of the test split.
FASHION_FILES = {
    "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
    "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
    "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
}


def fetch_file(origin: str, name: str, sha256: str, folder: Path, timeout: float) -> Path:
    """``folder/name``, downloaded from ``origin + name`` first unless a copy with the right
    checksum is there.

    Raises:
        OSError: The network or the server failed (the message names the address and the timeout).
        ValueError: The file arrived with another SHA-256 (it is not kept).
    """
    from .mnist import _sha256

    target = Path(folder) / name
    if target.is_file() and _sha256(target) == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    address = origin.rstrip("/") + "/" + name
    part = None
    try:
        with urllib.request.urlopen(address, timeout=timeout) as response, tempfile.NamedTemporaryFile(
                dir=target.parent, prefix=f".{name}.", delete=False) as file:
            part = Path(file.name)
            while chunk := response.read(1 << 20):
                file.write(chunk)
        got = _sha256(part)
        if got != sha256:
            raise ValueError(f"{address} arrived with SHA-256 {got[:12]}…, not the expected {sha256[:12]}… "
                             f"(a broken or different file; not kept)")
        os.replace(part, target)
        part = None
        return target
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise OSError(f"{address} could not be fetched within {timeout:g} s: {reason}") from None
    finally:
        if part is not None and part.exists():
            part.unlink()


def fetch_fashion_mnist(*, timeout: float, origin: str | None = None, checksums: dict[str, str] | None = None,
                        folder: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four arrays of Fashion-MNIST, fetched (or from the cache) and checked:
    ``y_train, x_train, y_test, x_test`` (uint8).

    Args:
        timeout: Seconds each request may wait on the network.
        origin: Base address; default ``$CNN_WIDGETS_FASHION_MNIST_URL``, else Keras' origin.
        checksums: File name → SHA-256; default the real files' (:data:`FASHION_FILES`).
        folder: The cache; default Keras' ``datasets/fashion-mnist``.

    Raises:
        OSError: A file could not be fetched.
        ValueError: A file with another checksum, not gzipped IDX, truncated, or images and
            labels that do not fit each other.
    """
    from .mnist import _cache_dir, _read_idx

    origin = origin or os.environ.get(FASHION_ORIGIN_ENV) or FASHION_ORIGIN
    checksums = dict(FASHION_FILES if checksums is None else checksums)
    if list(checksums) != list(FASHION_FILES):
        raise ValueError(f"checksums must name the files {', '.join(FASHION_FILES)} in this order")
    folder = Path(folder) if folder is not None else _cache_dir("fashion-mnist")
    arrays = [_read_idx(fetch_file(origin, name, sha, folder, timeout)) for name, sha in checksums.items()]
    y_train, x_train, y_test, x_test = arrays
    for split, images, labels in (("training", x_train, y_train), ("test", x_test, y_test)):
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"the Fashion-MNIST {split} files do not fit: images {images.shape}, labels "
                             f"{labels.shape} (expected (N, 28, 28) and (N,))")
    return y_train, x_train, y_test, x_test
