"""Shared fixtures: tiny Keras CNNs with known weights, the real MNIST file if present, and
the slides notebook executed once per test run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]


def mnist_file() -> Path | None:
    """The real MNIST .npz: $CNN_WIDGETS_MNIST, else ../shared/data/mnist.npz beside the repo."""
    named = os.environ.get("CNN_WIDGETS_MNIST")
    candidates = [Path(named)] if named else [REPO.parent / "shared" / "data" / "mnist.npz"]
    return next((p for p in candidates if p.is_file()), None)


@pytest.fixture(scope="session")
def mnist_path(tmp_path_factory) -> Path:
    """An MNIST ``.npz`` with a training split: the real file when it is here, else one
    written from the test split shipped in the package (8,000 images to train on, 2,000
    to test), so no test is skipped for want of data."""
    path = mnist_file()
    if path is not None:
        return path
    from cnn_widgets.data.mnist import mnist_test_split

    x, y = mnist_test_split()
    made = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez_compressed(made, x_train=x[:8000], y_train=y[:8000], x_test=x[8000:], y_test=y[8000:])
    return made


def make_tiny_cnn(size: int = 8, channels: int = 1, filters: int = 2, classes: int = 3,
                  softmax: bool = True, seed: int = 1):
    """An 8×8 CNN: conv(3×3, ``filters``) → maxpool 2 → flatten → dense ``classes``."""
    import keras

    net = keras.Sequential(
        [
            keras.Input((size, size, channels), name="pixels"),
            keras.layers.Conv2D(filters, 3, activation="relu", name="conv",
                                kernel_initializer=keras.initializers.GlorotUniform(seed)),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(classes, activation="softmax" if softmax else None, name="out",
                               kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
        ]
    )
    return net


@pytest.fixture
def tiny_keras():
    return make_tiny_cnn()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def stripes(n: int, seed: int | np.random.Generator = 5) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 8×8 images, 3 classes. Class 0: a bright horizontal bar; class 1: vertical;
    class 2: blank with noise. ``seed`` may be a Generator (it is drawn from)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.random((n, 8, 8)).astype(np.float32) * 0.2
    for image, label in zip(images, labels):
        where = rng.integers(2, 6)
        if label == 0:
            image[where, 1:7] = 1.0
        elif label == 1:
            image[1:7, where] = 1.0
    return images, labels


# ---------------------------------------------------------------------- notebooks, offline
#: Seconds one cell, and one whole notebook, may run (hang guards, not speed checks).
CELL_TIMEOUT = 300
NOTEBOOK_TIMEOUT = 600
SLIDES = REPO / "notebooks" / "slides.ipynb"
#: Variables that name local data files (removed for a notebook that is to run without them).
DATA_VARIABLES = ("CNN_WIDGETS_MNIST", "CNN_WIDGETS_FASHION_MNIST")


def stop_process_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a server started with ``start_new_session=True`` as Ctrl-C does (SIGINT to its
    group), and kill the group if it has not ended within ``timeout`` seconds."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def offline_environment(home: Path) -> dict[str, str]:
    """This process's environment with no network (an unreachable proxy), ``home`` as the
    home and Keras folder, and no data file named."""
    env = {key: value for key, value in os.environ.items() if key not in DATA_VARIABLES}
    env.update(HOME=str(home), KERAS_HOME=str(home / "keras"), TF_CPP_MIN_LOG_LEVEL="2")
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[name] = "http://127.0.0.1:9"
    return env


@contextlib.contextmanager
def deadline(seconds: int, message: str):
    """Stop what runs inside after ``seconds`` (SIGALRM; the kernel is shut down on the way out)."""
    def expire(signum, frame):
        raise TimeoutError(message)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def execute_notebook(notebook: Any, work: Path, name: str, env: dict[str, str] | None = None) -> Any:
    """Run ``notebook`` (in place) in a fresh kernel whose working folder is ``work``; cells
    that fail leave their error in their outputs. The widget state is kept in the metadata."""
    from nbclient import NotebookClient

    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            store_widget_state=True, resources={"metadata": {"path": str(work)}})
    with deadline(NOTEBOOK_TIMEOUT, f"{name} ran longer than {NOTEBOOK_TIMEOUT} s"):
        client.execute(**({} if env is None else {"env": env}))
    return notebook


@dataclass(frozen=True)
class SlidesRun:
    """``notebooks/slides.ipynb`` executed once, offline, and the deck made of it.

    Attributes:
        notebook: The executed notebook (outputs and widget state).
        warnings: What reading the notebook warned about (e.g. cells without ids).
        deck: The offline deck that ``cnn-widgets slides --no-execute`` wrote from it.
        returncode: That command's exit status.
        stderr: What that command wrote on stderr.
    """

    notebook: Any
    warnings: tuple[str, ...]
    deck: Path
    returncode: int
    stderr: str


@pytest.fixture(scope="session")
def slides_run(tmp_path_factory) -> SlidesRun:
    """The slides notebook executed once per test run, offline, for the notebook's own test,
    the deck's tests and the deck in the browser: ``cnn-widgets slides --no-execute`` makes
    the deck of the executed notebook (what ``cnn-widgets slides`` does after executing it)."""
    import nbformat

    folder = tmp_path_factory.mktemp("slides")
    (folder / "run").mkdir()
    env = offline_environment(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notebook = nbformat.read(SLIDES, as_version=4)
    execute_notebook(notebook, folder / "run", SLIDES.name, env)
    executed = folder / "slides.ipynb"
    nbformat.write(notebook, executed)
    deck = folder / "deck.html"
    run = subprocess.run([sys.executable, "-m", "cnn_widgets.delivery.cli", "slides", "--no-execute",
                          "--notebook", str(executed), "--out", str(deck)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    return SlidesRun(notebook, tuple(str(w.message) for w in caught), deck, run.returncode, run.stderr)
