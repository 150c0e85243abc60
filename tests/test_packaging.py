"""The wheel carries the embedded model; importing the package stays cheap."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow  # a subprocess each


def test_wheel_contains_the_weights_and_metadata(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=600,
    )
    (wheel,) = tmp_path.glob("cnn_widgets-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "cnn_widgets/assets/mnist_cnn.keras" in names
    assert "cnn_widgets/assets/mnist_cnn.json" in names
    # the MNIST test split ships, and only it: never a training split
    assert [name for name in names if name.endswith(".npz")] == ["cnn_widgets/assets/mnist_test.npz"]
    with zipfile.ZipFile(wheel) as archive, archive.open("cnn_widgets/assets/mnist_test.npz") as data, \
            zipfile.ZipFile(data) as arrays:
        assert sorted(arrays.namelist()) == ["x_test.npy", "y_test.npy"]
    assert {"cnn_widgets/assets/slides/reveal.js", "cnn_widgets/assets/slides/LICENSE"} <= set(names)
    assert {"cnn_widgets/widgets/live/pad.js"} <= set(names)  # the pad's own frontend module
    assert "cnn_widgets/assets/voila/index.html.j2" in names  # serve's page without the CDN links
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT AND CC-BY-SA-3.0" in text
    assert any(n.endswith("licenses/cnn_widgets/assets/DATA.md") for n in names)


def test_import_does_not_load_tensorflow():
    code = "import sys, cnn_widgets; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
