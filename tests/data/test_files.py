"""A user's own data, class names and picture files (issue 21): accepted and checked, or refused
naming what is wrong; ``serve`` refuses bad files before Voila starts."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnn_widgets.data.files import load_class_names, load_data, open_own
from cnn_widgets.data.pictures import picture_for_model


def test_load_data_takes_each_key_pair_and_names_what_a_file_lacks(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    for keys in (("x_test", "y_test"), ("images", "labels"), ("x", "y")):
        path = tmp_path / f"{keys[0]}.npz"
        np.savez(path, **{keys[0]: images, keys[1]: np.array([0, 1, 2, 0, 1, 2.0])})
        data = load_data(path)
        assert data.images.shape == (6, 32, 32, 3) and data.labels.tolist() == [0, 1, 2, 0, 1, 2]
        assert data.source == f"6 images from {path.name} ({keys[0]}, {keys[1]})"
    other = tmp_path / "other.npz"
    np.savez(other, pictures=images, classes=np.zeros(6))
    with pytest.raises(ValueError, match="holds pictures, classes; a data file holds images and labels as one of: "
                                         "x_test, y_test; images, labels; x, y"):
        load_data(other)
    fractional = tmp_path / "fractional.npz"
    np.savez(fractional, x=images, y=np.array([0, 1, 2.5, 0, 1, 2]))
    with pytest.raises(ValueError, match=r"y in fractional.npz\[2\] = 2.5 is not a whole number"):
        load_data(fractional)
    with pytest.raises(ValueError, match="expected a .npz file"):
        load_data(tmp_path / "data.csv")
    with pytest.raises(FileNotFoundError, match="data: no file at"):
        load_data(tmp_path / "missing.npz")


def test_class_names_one_a_line_and_their_count_checked_against_the_model(tmp_path, tiny_keras):
    names = tmp_path / "names.txt"
    names.write_text("stripe\n\nbar\nblank\n", encoding="utf-8")
    assert load_class_names(names) == ["stripe", "bar", "blank"]
    from cnn_widgets import CNNModel

    model, data = open_own(CNNModel(tiny_keras), None, names)
    assert model.class_names == ["stripe", "bar", "blank"] and data is None
    two = tmp_path / "two.txt"
    two.write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(ValueError, match="classes: class_names has 2 names for 3 classes .*has 3 outputs"):
        open_own(CNNModel(tiny_keras), None, two)
    twice = tmp_path / "twice.txt"
    twice.write_text("a\nb\na\n", encoding="utf-8")
    with pytest.raises(ValueError, match="names given twice: a"):
        load_class_names(twice)


def _png(size: tuple[int, int], mode: str = "RGB", kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white" if mode != "RGB" else (200, 10, 10)).save(buffer, kind)
    return buffer.getvalue()


@pytest.mark.parametrize("data, shape, outcome", [
    (_png((640, 480)), (96, 96, 3), "x.png, 640×480 RGB → 96×96 RGB"),
    (_png((50, 20), "L", "JPEG"), (28, 28, 1), "x.png, 50×20 L → 28×28 grey"),
    (_png((64, 64), "RGBA"), (28, 28, 1), "x.png, 64×64 RGBA → 28×28 grey"),
    (b"", (28, 28, 1), "x.png is empty"),
    (b"GIF89a" + b"\0" * 40, (28, 28, 1), "not a picture Pillow can read|is a GIF file"),
    (_png((8, 8)), (None, None, 3), "a picture file feeds models of a fixed size"),
    ("text", (28, 28, 1), TypeError),
])
def test_a_picture_file_is_brought_to_the_models_input_or_refused(data, shape, outcome):
    if outcome is TypeError:
        with pytest.raises(TypeError, match="a picture file is bytes"):
            picture_for_model(data, shape, "x.png")
    elif "→" in outcome:
        image, source = picture_for_model(data, shape, "x.png")
        assert image.shape == (shape[0], shape[1], shape[2]) and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0 and source == outcome
    else:
        with pytest.raises(ValueError, match=outcome):
            picture_for_model(data, shape, "x.png")


@pytest.mark.parametrize("files, message", [
    ({"--model": "missing.keras"}, "--model: no model file at"),
    ({"--classes": "missing.txt"}, "--classes: no class names file at"),
    ({"--data": "bad.npz"}, "holds a, b; a data file holds images and labels"),
    ({"--classes": "two.txt"}, "class_names has 2 names for 10 classes"),
])
def test_serve_refuses_bad_own_files_before_voila_starts(tmp_path, capsys, monkeypatch, files, message):
    from cnn_widgets.delivery import cli, dashboard

    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "bad.npz", a=np.zeros(3), b=np.zeros(3))
    (tmp_path / "two.txt").write_text("a\nb\n", encoding="utf-8")
    monkeypatch.setattr(dashboard.subprocess, "Popen", lambda *a, **k: pytest.fail("Voila was started"))
    arguments = ["serve", "--no-browser", "--port", "0"] + [part for item in files.items() for part in item]
    assert cli.main(arguments) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err


def test_the_dashboard_notebook_opens_the_given_files(tmp_path):
    import nbformat

    from cnn_widgets.delivery.dashboard import dashboard_notebook

    path = dashboard_notebook(tmp_path / "d.ipynb", "my.keras", None, "names.txt")
    source = nbformat.read(path, as_version=4).cells[-1].source
    assert source == (f"from cnn_widgets import Explorer\n\nExplorer({str((tmp_path.cwd() / 'my.keras').resolve())!r}, "
                      f"classes={str((tmp_path.cwd() / 'names.txt').resolve())!r})")
    plain = nbformat.read(dashboard_notebook(tmp_path / "e.ipynb"), as_version=4).cells[-1].source
    assert plain == "from cnn_widgets import Explorer\n\nExplorer()"
