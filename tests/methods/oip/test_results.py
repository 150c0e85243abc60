"""Results, pictures and their export: PNG and GIF, paths and sizes checked before any work."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cnn_widgets.methods.oip import node_sweep, optimize, pattern_picture, series


@pytest.fixture(scope="module")
def grown(tiny):
    return optimize(tiny, "conv", steps=6, frame_every=2)


def test_gif_and_png_export(grown, tmp_path):
    gif = grown.save_gif(tmp_path / "one.gif", 2, zoom=4)
    with Image.open(gif) as image:
        assert image.n_frames == len(grown.frames) == 4
        assert image.width >= 12 * 4 and image.height > 12 * 4  # the pattern below its title band
        assert "OIP of conv map 2" in image.info["comment"].decode()
    atlas = grown.save_gif(tmp_path / "atlas.gif")
    with Image.open(atlas) as image:
        assert image.n_frames == 4
    png = grown.save_png(tmp_path / "atlas.png", contrast=1.0, zoom=2)
    with Image.open(png) as image:
        assert image.size[0] > 12 * 2 * 2  # several tiles wide
        assert image.text["Title"].startswith("OIPs of conv")
        assert "map number above each tile" in image.text["Description"]
    with pytest.raises(ValueError, match="map 7 was not optimised"):
        grown.save_png(tmp_path / "x.png", 7)
    with pytest.raises(TypeError, match="map_index must be a map of this result"):
        grown.png_bytes(0.5)


def test_the_grids_export_their_pictures(tiny, tmp_path):
    grid = series(tiny, "conv", 1, seeds=2, wavelengths=[3, 5], steps=4, frame_every=2, baseline=False)
    with Image.open(grid.save_png(tmp_path / "series.png", zoom=1)) as image:
        assert image.width > 2 * 12 + 1 and image.height > 2 * 12 + 1  # with its labels around it
        assert "rows: 3 px" in image.text["Description"] and "columns: seed 0, seed 1" in image.text["Description"]
    nodes = node_sweep(tiny, "pool", 1, steps=3, frame_every=1)
    with Image.open(__import__("io").BytesIO(nodes.gif_bytes(zoom=1))) as image:
        assert image.n_frames == 4 and image.width > 5 * 12 + 4
        assert "Node OIPs of pool map 1" in image.info["comment"].decode()


def test_exports_check_path_format_and_size_before_any_work(grown, tmp_path):
    (tmp_path / "afile").write_text("x")
    for path, message in [("/dev/null/x.gif", "is a file, not a folder"), (tmp_path / "x.png", "must end in '.gif'"),
                          (tmp_path / "afile" / "x.gif", "is a file, not a folder")]:
        with pytest.raises(ValueError, match=message):
            grown.save_gif(path)
    with pytest.raises(ValueError, match="must end in '.png'"):
        grown.save_png(tmp_path / "x.gif")
    with pytest.raises(TypeError, match="must be a file path"):
        grown.save_gif(None)
    assert not (tmp_path / "x.png").exists()
    for zoom, refused in ((10 ** 4, ValueError), (0, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(refused, match="zoom must be a whole number in 1–64"):
            grown.png_bytes(zoom=zoom)
    with pytest.raises(TypeError, match="duration_ms must be a whole number in 1–60000 ms"):
        grown.gif_bytes(duration_ms=float("nan"))
    with pytest.raises(ValueError, match="hold_ms must be a whole number in 1–60000 ms; got -5"):
        grown.gif_bytes(hold_ms=-5)
    with pytest.raises(ValueError, match=r"frame must be a whole number in 0–3 \(or -1 for the last\); got 99"):
        grown.picture(frame=99)
    with pytest.raises(TypeError, match="frame must be a whole number"):
        grown.picture(frame=1.5)
    assert grown.save_gif(tmp_path / "ok.gif").stat().st_size > 0  # and good calls still work


def test_pattern_picture_refuses_what_is_not_a_stack_of_images():
    with pytest.raises(ValueError, match=r"images must be an \(n, height, width, channels\) array"):
        pattern_picture(np.zeros(5))
    with pytest.raises(ValueError, match=r"images must be an \(n, height, width, channels\) array"):
        pattern_picture(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="image must be finite numbers; got NaN or infinite values"):
        pattern_picture(np.full((2, 4, 4, 1), np.nan))


@settings(max_examples=40, deadline=None)
@given(contrast=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none(), st.booleans()))
def test_fuzzed_contrast_gives_a_picture_or_a_clear_error(contrast):
    images = np.random.default_rng(0).random((2, 6, 6, 1)).astype(np.float32)
    if contrast is None or isinstance(contrast, bool):
        expected = TypeError  # not a number at all
    elif not (math.isfinite(contrast) and 0 <= contrast <= 20):
        expected = ValueError  # a number outside 0–20
    else:
        expected = None  # accepted
    if expected is None:
        picture = pattern_picture(images, contrast)
        assert np.all(np.isfinite(picture)) and 0 <= picture.min() and picture.max() <= 1
        assert picture.shape == (6, 6 * 2 + 1)
    else:
        with pytest.raises(expected, match=r"contrast \(display only; 0 = plain\) must be a finite number in 0–20"):
            pattern_picture(images, contrast)
