"""The cnn-widgets command: info, train (in a subprocess) and serve (a real Voila).

The tests that start a process (train, serve, a fresh import) are ``slow``; the others
call :func:`main` in this process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from cnn_widgets import CNNModel
from cnn_widgets.delivery.cli import main

from ..data.test_mnist import write_npz


def test_info_prints_the_layer_table(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "conv2" in out and "18,496" in out and "18×18" in out
    assert "test accuracy: 0.99" in out


def test_info_on_a_missing_model_is_a_clear_error(tmp_path, capsys):
    assert main(["info", "--model", str(tmp_path / "none.keras")]) == 2
    assert "no model file" in capsys.readouterr().err


def _env(tmp_path) -> dict[str, str]:
    env = dict(os.environ, HOME=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("CNN_WIDGETS_MNIST", None)
    return env


@pytest.mark.slow
def test_train_writes_weights_and_metadata(tmp_path):
    data = write_npz(tmp_path / "small.npz", n_train=64, n_test=32)
    out = tmp_path / "model" / "small.keras"
    run = subprocess.run(
        [sys.executable, "-m", "cnn_widgets.delivery.cli", "train", "--data", str(data), "--out", str(out),
         "--epochs", "2", "--batch-size", "16", "--seed", "3"],
        capture_output=True, text=True, env=_env(tmp_path), timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "epoch 2/2" in run.stdout and "test accuracy" in run.stdout
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["dataset"] == "MNIST" and meta["test_images"] == 32
    assert meta["training"]["epochs_done"] == 2 and meta["training"]["seed"] == 3
    assert meta["command"].startswith("cnn-widgets train --data")
    assert len(meta["history"]["loss"]) == 2
    model = CNNModel.load(out)
    assert model.layer_names[0] == "conv1" and 0 < model.mean[0] < 1


def test_train_with_a_bad_data_file_fails_clearly(tmp_path, capsys):
    bad = write_npz(tmp_path / "bad.npz", y_test=None)
    assert main(["train", "--data", str(bad), "--out", str(tmp_path / "x.keras")]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"cnn-widgets: error: {bad} lacks the arrays ['y_test']; an MNIST .npz holds " \
                           "x_train, y_train, x_test, y_test\n"
    assert "epoch" not in captured.out and not (tmp_path / "x.keras").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_serve_starts_voila_and_stops_on_ctrl_c(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cnn_widgets.delivery.cli", "serve", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(tmp_path),
        cwd=tmp_path, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        page = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as response:
                    page = response.read().decode()
                break
            except urllib.error.HTTPError as error:
                pytest.fail(f"Voila answered {error.code}: {error.read().decode()[:2000]}")
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.5)
        assert "application/vnd.jupyter.widget-view+json" in page  # the Explorer's output
        os.killpg(server.pid, signal.SIGINT)
        output, _ = server.communicate(timeout=30)
        assert server.returncode == 0
        assert f"http://127.0.0.1:{port}/" in output and "stopping the server" in output
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
    finally:
        if server.poll() is None:
            server.terminate()  # the command stops its Voila on SIGTERM too
            server.wait(timeout=30)


def test_repository_dashboard_notebook_matches_the_served_one():
    import nbformat

    from cnn_widgets.delivery.dashboard import DASHBOARD_CELLS, DASHBOARD_METADATA

    from ..conftest import REPO

    notebook = nbformat.read(REPO / "notebooks" / "00_explorer.ipynb", as_version=4)
    assert [(cell.cell_type, cell.source) for cell in notebook.cells] == DASHBOARD_CELLS
    assert notebook.metadata["cnn_widgets"] == DASHBOARD_METADATA["cnn_widgets"]  # the early pad on Binder too


def test_the_early_pad_is_asked_for_on_the_embedded_model_only(tmp_path):
    import nbformat

    from cnn_widgets.delivery.dashboard import dashboard_notebook

    embedded = nbformat.read(dashboard_notebook(tmp_path / "a.ipynb"), as_version=4)
    with_data = nbformat.read(dashboard_notebook(tmp_path / "b.ipynb", data=str(tmp_path / "d.npz")), as_version=4)
    own = nbformat.read(dashboard_notebook(tmp_path / "c.ipynb", model=str(tmp_path / "m.keras")), as_version=4)
    assert embedded.metadata["cnn_widgets"] == {"early_pad": True}
    assert with_data.metadata["cnn_widgets"] == {"early_pad": True}  # still the embedded model's pad
    assert "cnn_widgets" not in own.metadata  # a user's model may take other images: no pad before it


def test_oip_and_atlas_commands_write_pictures(tmp_path, capsys):
    from PIL import Image

    from ..conftest import make_tiny_cnn

    model = CNNModel(make_tiny_cnn(size=12, filters=4, seed=3)).save(tmp_path / "tiny.keras")
    gif = tmp_path / "pattern.gif"
    assert main(["oip", "--model", str(model), "--layer", "conv", "--map", "3", "--steps", "20",
                 "--out", str(gif)]) == 0
    with Image.open(gif) as image:
        assert image.n_frames == 21 and image.width >= 96 and image.height > 96  # a frame a step, 12 px × 8, titled
        assert "OIP of conv map 3" in image.info["comment"].decode()
    assert main(["oip", "--model", str(model), "--layer", "conv", "--map", "3", "--node", "4", "5",
                 "--steps", "5", "--out", str(tmp_path / "node.png")]) == 0
    atlas = tmp_path / "atlas.png"
    assert main(["atlas", "--model", str(model), "--layer", "pool", "--steps", "5", "--out", str(atlas)]) == 0
    with Image.open(atlas) as image:
        assert image.size[0] > 2 * 5 * 3 and image.text["Title"].startswith("OIPs of pool")
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["oip", "--layer", "dense", "--map", "1", "--out", "x.gif"], "has no maps"),
        (["oip", "--layer", "conv3", "--map", "128", "--out", "x.gif"], "map 128 is out of range"),
        (["oip", "--layer", "conv3", "--map", "1", "--out", "x.jpg"], "must end in '.gif' or '.png'"),
        (["atlas", "--layer", "conv3", "--steps", "0", "--out", "x.png"], "steps must be"),
    ],
)
def test_oip_command_errors_are_clear(tmp_path, capsys, arguments, message):
    arguments = [a if not a.startswith("x.") else str(tmp_path / a) for a in arguments]
    assert main(arguments) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_serve_stops_its_voila_on_sigterm(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cnn_widgets.delivery.cli", "serve", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(tmp_path), cwd=tmp_path,
    )
    deadline = time.monotonic() + 120  # a hang guard
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "Voila never listened"
            time.sleep(0.3)
    server.terminate()
    output, _ = server.communicate(timeout=30)
    assert "stopping the server" in output
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


# ---------------------------------------------------------------------- bad arguments: exit 2, one line
@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "--out", "m.h5"], "m.h5: --out must end in '.keras' (got '.h5')"),
        (["train", "--out", "a_file/m.keras"], "a_file is a file, not a folder"),
        (["train", "--out", "folder.keras"], "folder.keras is a folder"),
        (["train", "--out", "m.keras", "--data", "missing.npz"], "--data: no data file at missing.npz"),
        (["train", "--out", "m.keras", "--epochs", "0"], "argument --epochs: must be ≥ 1; got 0"),
        (["train", "--out", "m.keras", "--batch-size", "2.5"], "argument --batch-size: expected a whole number"),
        (["train", "--out", "m.keras", "--learning-rate", "nan"], "--learning-rate: must be a finite number > 0"),
        (["train", "--out", "m.keras", "--learning-rate", "-0.1"], "--learning-rate: must be a finite number > 0"),
        (["train", "--out", "m.keras", "--shift", "-1"], "argument --shift: must be ≥ 0"),
        (["train", "--out", "m.keras", "--momentum", "1"], "--momentum: must be a finite number in [0, 1)"),
        (["train", "--out", "m.keras", "--lr-decay", "inf"], "--lr-decay: must be a finite number in (0, 1]"),
        (["train", "--out", "m.keras", "--seed", "-3"], "argument --seed: must be ≥ 0"),
        (["info", "--model", "m.h5"], "only Keras 3 '.keras' files"),
        (["serve", "--port", "70000"], "a port is 0–65535"),
        (["oip", "--map", "1", "--out", "a_file/x.gif"], "a_file is a file, not a folder"),
        (["slides", "--out", "deck.pdf"], "--out must end in '.html' or '.htm'"),
        (["slides", "--out", "deck.html", "--notebook", "missing.ipynb"], "--notebook: no notebook at missing.ipynb"),
        (["slides", "--out", "deck.html", "--timeout", "0"], "--timeout: must be a finite number > 0"),
        (["slides"], "the following arguments are required: --out"),
        (["bogus"], "invalid choice: 'bogus'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_arguments_end_at_once_with_one_line(tmp_path, monkeypatch, capsys, arguments, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "folder.keras").mkdir()
    try:
        status = main(arguments)
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnn-widgets") and message in lines[0], captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "folder.keras"]  # nothing written


@pytest.mark.slow
def test_train_checks_its_output_before_loading_anything(tmp_path):
    """`cnn-widgets train --out m.h5` fails at once: TensorFlow is not even imported."""
    code = ("import sys; from cnn_widgets.delivery.cli import main; status = main(['train', '--out', 'm.h5']); "
            "print(status, 'tensorflow' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(tmp_path),
                         cwd=tmp_path, timeout=120)
    assert run.stdout.split() == ["2", "False"], run.stderr
    assert run.stderr.strip() == "cnn-widgets: error: m.h5: --out must end in '.keras' (got '.h5')"


def test_a_training_file_that_cannot_be_written_fails_before_training(tmp_path, capsys):
    data = write_npz(tmp_path / "small.npz", n_train=16, n_test=8)
    (tmp_path / "a_file").write_text("x")
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "a_file" / "m.keras")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no epoch started
    assert captured.err == f"cnn-widgets: error: cannot write {tmp_path / 'a_file' / 'm.keras'}: " \
                           f"{tmp_path / 'a_file'} is a file, not a folder\n"


def test_a_contrast_over_20_exits_2_in_one_line_before_any_work(tmp_path, capsys):
    from cnn_widgets.delivery.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["oip", "--map", "0", "--contrast", "1e308", "--out", str(tmp_path / "a.png")])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1 and "--contrast" in err and "[0, 20]" in err
    assert not (tmp_path / "a.png").exists()


# ---------------------------------------------------------------------- help
@pytest.mark.parametrize("command", [None, "info", "train", "serve", "oip", "atlas", "slides"])
def test_help_has_examples_plain_text_and_every_option_explained(capsys, command):
    import argparse

    from cnn_widgets.delivery.cli import _Help, _parser

    with pytest.raises(SystemExit) as exit_:
        main(([command] if command else []) + ["--help"])
    text = capsys.readouterr().out
    assert exit_.value.code == 0
    assert "examples:\n    cnn-widgets " + (command or "") in text  # examples of this command
    assert "``" not in text and "::" not in text  # no reST markup
    parser = _parser()
    if command:
        parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    formatter = _Help("cnn-widgets")
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        shown = formatter._get_help_string(action)
        assert shown, f"{action.option_strings[0]} has no help"
        if action.default is not None and action.nargs != 0 and not action.required:
            assert "default" in shown, f"{action.option_strings[0]} does not say its default: {shown!r}"


def test_serve_default_port_is_the_one_the_readme_names():
    from cnn_widgets.delivery.cli import _parser
    from cnn_widgets.delivery.dashboard import DEFAULT_PORT

    from ..conftest import REPO

    assert _parser().parse_args(["serve"]).port == DEFAULT_PORT == 8866
    assert f"--port {DEFAULT_PORT}" in (REPO / "README.md").read_text()


def test_train_offline_without_data_names_the_option(tmp_path, monkeypatch, capsys):
    import cnn_widgets.data.mnist as mnist

    def offline(path=None, **kwargs):  # what load_mnist raises with no file and no network
        raise RuntimeError("could not download MNIST (no network)")

    monkeypatch.setattr(mnist, "load_mnist", offline)
    monkeypatch.delenv("CNN_WIDGETS_MNIST", raising=False)
    assert main(["train", "--out", str(tmp_path / "m.keras")]) == 2
    err = capsys.readouterr().err
    assert "--data mnist.npz" in err and "CNN_WIDGETS_MNIST" in err and "urlopen" not in err
