"""Bad data files and labels (issue 21): each refused with a message naming what is wrong."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from cnn_widgets.data import DataProvider, load_mnist, training_data
from cnn_widgets.data.labels import class_labels

from .test_mnist import write_npz


def _forged_header(path, key: str, shape: tuple[int, ...]) -> None:
    """Rewrite member ``key`` of an .npz so its header claims ``shape`` (the data stay small)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": shape})
    members[f"{key}.npy"] = header.getvalue() + b"\0" * 100
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_an_npz_header_claiming_a_trillion_images_is_refused_before_reading(tmp_path):
    path = write_npz(tmp_path / "forged.npz")
    _forged_header(path, "x_train", (10 ** 12, 28, 28))
    with pytest.raises(ValueError, match=r"x_train claims shape \(1000000000000, 28, 28\) "
                                         r"\(784,000,000,000,000 bytes\) but holds 100 bytes; the file is truncated"):
        load_mnist(path)


def test_a_cli_run_on_the_forged_file_ends_with_one_line(tmp_path, capsys):
    from cnn_widgets.delivery.cli import main

    path = write_npz(tmp_path / "forged.npz")
    _forged_header(path, "y_test", (10 ** 12,))
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "m.keras")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "y_test claims shape (1000000000000,)" in err and "MemoryError" not in err


@pytest.mark.parametrize("labels, outcome", [
    (np.array([0, 1, 2]), [0, 1, 2]),                                   # accepted
    (np.array([0.0, 1.0, 2.0]), [0, 1, 2]),                             # accepted: whole floats
    (np.array([0.0, 1.5, 2.0]), r"labels\[1\] = 1.5 is not a whole number \(1 such\)"),
    (np.array([0.0, np.nan, 2.0]), r"labels\[1\] is nan \(1 such\); labels must be whole class numbers"),
    (np.array([0.0, 1.0, np.inf]), r"labels\[2\] is inf"),
    (np.array([0, 1, 7]), r"labels must lie in 0..2 \(the model's classes\); got 0..7"),
    (np.array(["a", "b", "c"]), TypeError),
    (np.array([True, False, True]), TypeError),
])
def test_class_labels_accepts_whole_numbers_and_names_the_first_bad_one(labels, outcome):
    if isinstance(outcome, list):
        np.testing.assert_array_equal(class_labels(labels, classes=3), outcome)
    elif outcome is TypeError:
        with pytest.raises(TypeError, match="labels must be class indices"):
            class_labels(labels, classes=3)
    else:
        with pytest.raises(ValueError, match=outcome):
            class_labels(labels, classes=3)


def test_training_data_refuses_fractional_and_nan_labels_instead_of_truncating():
    x = np.zeros((20, 28, 28), np.uint8)
    fractional = np.full(20, 3.0)
    fractional[7] = 3.7
    with pytest.raises(ValueError, match=r"labels\[7\] = 3.7 is not a whole number"):
        training_data(data=(x, fractional))
    with_nan = np.full(20, 3.0)
    with_nan[4] = np.nan
    with pytest.raises(ValueError, match=r"labels\[4\] is nan"):
        training_data(data=((x, np.full(20, 1)), (x[:5], with_nan[:5])))
    accepted = training_data(data=(x, np.full(20, 2.0)))
    assert accepted.labels.dtype == np.int64 and set(accepted.labels) == {2}


def test_the_session_data_names_a_fractional_label(tiny_keras):
    from cnn_widgets import CNNModel

    model = CNNModel(tiny_keras)
    provider = DataProvider(model, (np.zeros((3, 8, 8), np.float32), [0, 0.5, 1]))
    assert provider.test_set is None
    assert "labels[1] = 0.5 is not a whole number" in provider.message
