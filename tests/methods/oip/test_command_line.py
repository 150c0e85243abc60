"""The ``oip`` command's series and node pictures, and its refusals (one line, exit status 2)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnn_widgets import CNNModel
from cnn_widgets.methods.oip import series

from ...conftest import make_tiny_cnn


def test_cli_series_and_nodes_write_their_grids(tmp_path, capsys):
    from cnn_widgets.delivery.cli import main

    model = CNNModel(make_tiny_cnn(size=12, filters=4, seed=3)).save(tmp_path / "tiny.keras")
    grid = tmp_path / "series.png"
    assert main(["oip", "--model", str(model), "--layer", "conv", "--map", "2", "--series", "--seeds", "3",
                 "--seed", "4", "--wavelengths", "2", "5", "--steps", "6", "--blur", "2", "--zoom", "1",
                 "--out", str(grid)]) == 0
    out = capsys.readouterr().out
    assert "2 wavelengths (rows) × 3 seeds (columns)" in out and "λ 2:" in out and "λ 5:" in out
    expected = series(CNNModel.load(model), "conv", 2, seeds=[4, 5, 6], wavelengths=[2, 5], steps=6, blur_every=2)
    with Image.open(grid) as image, Image.open(io.BytesIO(expected.png_bytes(1.0, zoom=1))) as same:
        assert image.size == same.size and image.size[0] > 3 * 12 + 2  # the grid with its labels around it
        np.testing.assert_array_equal(np.asarray(image), np.asarray(same))
    nodes = tmp_path / "nodes.gif"
    assert main(["oip", "--model", str(model), "--layer", "pool", "--map", "1", "--nodes", "--steps", "4",
                 "--out", str(nodes)]) == 0
    assert "all 5×5 positions" in capsys.readouterr().out
    with Image.open(nodes) as image:
        assert image.n_frames == 5


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--series", "--nodes"], "--series and --nodes are two different pictures"),
        (["--nodes", "--node", "1", "1"], "leave out --node"),
        (["--series", "--wavelengths", "0"], "--wavelengths: must be a finite number > 0"),
        (["--series", "--seeds", "0"], "--seeds: must be ≥ 1"),
        (["--blur-sigma", "nan"], "--blur-sigma: must be a finite number > 0"),
        (["--seed", "-3"], "--seed: must be ≥ 0"),
        (["--node", "1.5", "2"], "--node: expected a whole number"),
    ],
)
def test_cli_bad_oip_arguments_exit_2_with_one_line(tmp_path, capsys, arguments, message):
    from cnn_widgets.delivery.cli import main

    model = CNNModel(make_tiny_cnn(size=12, filters=4, seed=3)).save(tmp_path / "tiny.keras")
    out = tmp_path / "x.png"
    try:
        status = main(["oip", "--model", str(model), "--layer", "conv", "--map", "1", "--steps", "3",
                       "--out", str(out), *arguments])
    except SystemExit as stop:  # argparse's own errors
        status = stop.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


