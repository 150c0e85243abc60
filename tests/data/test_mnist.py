"""MNIST loading: local files, validation, Keras' downloader (served from 127.0.0.1)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from cnn_widgets.data import mnist as data
from cnn_widgets.data.mnist import load_fashion_mnist, load_mnist


def write_npz(path: Path, n_train: int = 12, n_test: int = 5, **overrides) -> Path:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)
    return path


def test_local_file_by_argument(tmp_path):
    path = write_npz(tmp_path / "small.npz")
    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    assert x_train.shape == (12, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (12,) and x_test.shape == (5, 28, 28) and y_test.shape == (5,)
    with np.load(path) as raw:
        np.testing.assert_array_equal(x_test, raw["x_test"])


def test_local_file_by_environment_variable(tmp_path, monkeypatch):
    path = write_npz(tmp_path / "env.npz", n_train=3)
    monkeypatch.setenv("CNN_WIDGETS_MNIST", str(path))
    assert load_mnist()[0][0].shape == (3, 28, 28)
    monkeypatch.setenv("CNN_WIDGETS_FASHION_MNIST", str(path))
    assert load_fashion_mnist()[0][0].shape == (3, 28, 28)


def test_missing_file_names_its_source(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="given by path"):
        load_mnist(tmp_path / "nope.npz")
    monkeypatch.setenv("CNN_WIDGETS_MNIST", str(tmp_path / "gone.npz"))
    with pytest.raises(FileNotFoundError, match=r"\$CNN_WIDGETS_MNIST"):
        load_mnist()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"y_test": None}, r"lacks the arrays \['y_test'\]"),
        ({"x_train": np.zeros((12, 32, 32), np.uint8)}, r"x_train must be uint8 images of shape \(N, 28, 28\)"),
        ({"x_test": np.zeros((5, 28, 28), np.float32)}, "x_test must be uint8"),
        ({"y_train": np.zeros(11, np.uint8)}, "y_train must be 12 integer labels"),
        ({"y_test": np.array([0, 1, 2, 3, 10], np.uint8)}, r"labels must lie in 0..9"),
        ({"y_test": np.zeros(5, np.float32)}, "integer labels"),
    ],
)
def test_invalid_files_get_clear_errors(tmp_path, overrides, message):
    path = write_npz(tmp_path / "bad.npz", **overrides)
    with pytest.raises(ValueError, match=message):
        load_mnist(path)


def test_pickle_bearing_npz_is_refused(tmp_path):
    path = tmp_path / "pickled.npz"
    labels = np.empty(5, dtype=object)
    labels[:] = [0, 1, 2, 3, 4]
    write_npz(path, y_test=labels)
    with pytest.raises(ValueError, match="pickled Python objects"):
        load_mnist(path)


def test_truncated_and_non_zip_files(tmp_path):
    path = write_npz(tmp_path / "cut.npz")
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_mnist(path)
    text = tmp_path / "text.npz"
    text.write_text("x_train,y_train\n")
    with pytest.raises(ValueError, match="not an .npz archive"):
        load_mnist(text)


@pytest.fixture
def local_server(tmp_path):
    """A plain HTTP server on 127.0.0.1 serving tmp_path/served."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_download_into_the_keras_cache(tmp_path, monkeypatch, local_server):
    root, url = local_server
    served = write_npz(root / "mnist.npz", n_train=7)
    monkeypatch.delenv("CNN_WIDGETS_MNIST", raising=False)
    (tmp_path / "keras_home").mkdir()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(data, "_ORIGIN", url)
    monkeypatch.setattr(data, "_MNIST_SHA256", hashlib.sha256(served.read_bytes()).hexdigest())
    (x_train, _), _ = load_mnist()
    assert x_train.shape == (7, 28, 28)
    assert (tmp_path / "keras_home" / "datasets" / "mnist.npz").is_file()


def test_offline_without_file_names_env_var_and_argument(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_WIDGETS_MNIST", raising=False)
    (tmp_path / "empty_home").mkdir()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_home"))
    monkeypatch.setattr(data, "_ORIGIN", "http://127.0.0.1:9/")  # nothing listens there
    with pytest.raises(RuntimeError, match=r"load_mnist\(path=\.\.\.\).*CNN_WIDGETS_MNIST"):
        load_mnist()


def test_the_real_file_when_present(mnist_path):
    """The real file (or, without it, one made from the shipped split) loads as MNIST."""
    from ..conftest import mnist_file

    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_path)
    real = mnist_file() is not None
    assert x_train.shape == ((60_000 if real else 8_000), 28, 28) and x_test.shape == ((10_000 if real else 2_000), 28, 28)
    assert np.bincount(y_test, minlength=10).min() > (800 if real else 150)


def test_a_missing_file_is_also_a_value_error(tmp_path):
    for path in (tmp_path / "nope.npz", tmp_path):
        with pytest.raises(ValueError, match="no data file at"):
            load_fashion_mnist(path)


def test_members_that_are_no_npy_data_get_a_clear_error(tmp_path):
    import zipfile

    path = tmp_path / "text_members.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            archive.writestr(f"{key}.npy", "hello")  # named .npy, but not NumPy data
    with pytest.raises(ValueError, match=r"are not NumPy arrays \(not .npy data\)"):
        load_mnist(path)
