"""Fashion-MNIST fetched where the network reaches it: served here from 127.0.0.1 as files in
the real format (gzipped IDX) made in the test; timeout, checksum and messages checked."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from cnn_widgets.data.fetch import FASHION_FILES, fetch_fashion_mnist
from cnn_widgets.data.mnist import load_fashion_mnist


def idx_gz(path: Path, array: np.ndarray) -> str:
    """Write ``array`` (uint8) as a gzipped IDX file, as the real files are; return its SHA-256."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def served(tmp_path):
    """A folder of the four files (5 training, 3 test items), served on 127.0.0.1; the
    checksums of these files; the arrays."""
    root = tmp_path / "www"
    root.mkdir()
    rng = np.random.default_rng(3)
    arrays = [rng.integers(0, 10, 5, dtype=np.uint8), rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, 3, dtype=np.uint8), rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)]
    sums = {name: idx_gz(root / name, array) for name, array in zip(FASHION_FILES, arrays)}
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", sums, arrays, root
    server.shutdown()
    server.server_close()


def test_fetched_checked_and_cached(served, tmp_path):
    url, sums, arrays, root = served
    cache = tmp_path / "cache"
    got = fetch_fashion_mnist(timeout=10, origin=url, checksums=sums, folder=cache)
    for fetched, made in zip(got, arrays):
        np.testing.assert_array_equal(fetched, made)  # accepted: exactly the served arrays
    assert sorted(p.name for p in cache.iterdir()) == sorted(FASHION_FILES)  # no partial files left
    for name in FASHION_FILES:
        (root / name).unlink()  # the server has nothing now: the cache answers
    np.testing.assert_array_equal(fetch_fashion_mnist(timeout=10, origin=url, checksums=sums, folder=cache)[1],
                                  arrays[1])


def test_a_file_with_another_checksum_is_refused_and_not_kept(served, tmp_path):
    url, sums, _, _ = served
    wrong = dict(sums, **{"t10k-images-idx3-ubyte.gz": "0" * 64})
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz arrived with SHA-256 [0-9a-f]{12}…, not the "
                                         r"expected 000000000000… \(a broken or different file; not kept\)"):
        fetch_fashion_mnist(timeout=10, origin=url, checksums=wrong, folder=cache)
    assert not (cache / "t10k-images-idx3-ubyte.gz").exists()
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no partial download left


def test_the_product_checks_the_real_checksums_and_says_what_to_do(served, tmp_path, monkeypatch):
    """load_fashion_mnist from a mirror serving other files: refused by the real SHA-256, never used."""
    url, _, _, _ = served
    monkeypatch.delenv("CNN_WIDGETS_FASHION_MNIST", raising=False)
    monkeypatch.setenv("CNN_WIDGETS_FASHION_MNIST_URL", url)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(RuntimeError, match=r"could not download Fashion-MNIST \(.*train-labels-idx1-ubyte.gz arrived "
                                           r"with SHA-256 .*not the expected b0197879cbda…"):
        load_fashion_mnist(timeout=10)
    with pytest.raises(RuntimeError, match=r"Offline, point to a local .npz file: load_fashion_mnist\(path=...\) or "
                                           r"the environment variable CNN_WIDGETS_FASHION_MNIST"):
        load_fashion_mnist(timeout=10)


def test_nothing_listening_is_a_clear_network_error(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_WIDGETS_FASHION_MNIST", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(OSError, match=r"http://127.0.0.1:9/train-labels-idx1-ubyte.gz could not be fetched within "
                                      r"2 s"):
        fetch_fashion_mnist(timeout=2, origin="http://127.0.0.1:9/", folder=tmp_path / "cache")
    monkeypatch.setenv("CNN_WIDGETS_FASHION_MNIST_URL", "http://127.0.0.1:9/")
    with pytest.raises(RuntimeError, match=r"could not download Fashion-MNIST \(http://127.0.0.1:9/"):
        load_fashion_mnist(timeout=2)


def test_files_that_are_not_idx_or_do_not_fit_are_refused(served, tmp_path):
    url, sums, _, root = served
    name = "train-images-idx3-ubyte.gz"
    sums[name] = idx_gz(root / name, np.zeros((4, 28, 28), np.uint8))  # 4 images for 5 labels
    with pytest.raises(ValueError, match=r"the Fashion-MNIST training files do not fit: images \(4, 28, 28\), "
                                         r"labels \(5,\)"):
        fetch_fashion_mnist(timeout=10, origin=url, checksums=sums, folder=tmp_path / "a")
    (root / name).write_bytes(gzip.compress(b"not an idx file"))
    sums[name] = hashlib.sha256((root / name).read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="is not a uint8 IDX file"):
        fetch_fashion_mnist(timeout=10, origin=url, checksums=sums, folder=tmp_path / "b")
    with pytest.raises(ValueError, match="checksums must name the files train-labels-idx1-ubyte.gz"):
        fetch_fashion_mnist(timeout=10, origin=url, checksums={"x": "0" * 64})
