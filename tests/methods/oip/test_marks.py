"""What a tile is: started from a real image (its start, gain and likeness kept, the tile framed),
a node's receptive field (greyed outside, outlined); and the atlas target of issue 19."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets.methods.oip import optimize, pattern_picture
from cnn_widgets.methods.oip.marks import MARKS, STILL_START, field_boxes, pixel_correlation

from .conftest import shy_model


def _square_images() -> np.ndarray:
    images = np.zeros((5, 16, 16), np.float32)
    images[3, 4:12, 4:12] = 1.0  # the one image map 1 of the shy model fires on
    return images


def _ring(tile: np.ndarray, top: int, left: int, bottom: int, right: int) -> np.ndarray:
    """The pixels on a rectangle's edge (inclusive corners)."""
    return np.concatenate([tile[top, left:right + 1], tile[bottom, left:right + 1], tile[top:bottom + 1, left],
                           tile[top:bottom + 1, right]])


def test_a_tile_started_from_a_real_image_keeps_its_start_gain_and_likeness():
    model = shy_model(shy=0.97)
    images = _square_images()
    result = optimize(model, "conv", images=images, steps=20, step_size=0.005, wavelength=1, seed=0,
                      rescue_tries=0)
    assert result.revival == ["dead", "data", ""]
    assert result.from_data.tolist() == [False, True, False]
    assert result.start_index.tolist() == [-1, 3, -1]
    # the objective on the start image is what the network says about the square
    square = model.activations(images[3:4], "conv")["conv"][0, ..., 1].mean()
    assert result.start_objective[1] == pytest.approx(square, rel=1e-5)
    assert np.isnan(result.start_objective[[0, 2]]).all()
    assert result.gain[1] == pytest.approx(result.history[-1][1] - square, rel=1e-5, abs=1e-7)
    assert np.isnan(result.gain[[0, 2]]).all()
    expected = pixel_correlation(result.images[1], images[3])
    assert result.start_correlation[1] == pytest.approx(expected, abs=1e-6) and expected > STILL_START
    assert result.still_start.tolist() == [False, True, False]
    note = result.rescue_note(1)
    assert "started from test image 3" in note and "no pattern grown" in note and "gain +" in note
    assert result.rescue_note(0) == "stayed dead: no pattern" and result.rescue_note(2) == "grown from its first noise"
    assert set(result.rescue_notes()) == {0, 1}


def test_a_data_started_tile_is_framed_the_others_are_not():
    model = shy_model(shy=0.97)
    result = optimize(model, "conv", images=_square_images(), steps=20, step_size=0.005, wavelength=1, seed=0,
                      rescue_tries=0)
    framed = result.picture(1)
    assert set(np.unique(_ring(framed, 0, 0, 15, 15))) == {0.0, 1.0}  # a dashed black-and-white frame
    assert _ring(framed, 0, 0, 15, 15).mean() == pytest.approx(0.5, abs=0.1)
    inner = pattern_picture(result.images[1:2])
    np.testing.assert_array_equal(framed[1:-1, 1:-1], inner[1:-1, 1:-1])  # the picture itself untouched
    plain = result.picture(2)
    np.testing.assert_array_equal(plain, pattern_picture(result.images[2:3]))
    assert "frame" in MARKS and "field" in MARKS


def test_a_node_oip_is_greyed_outside_its_field_and_the_field_outlined(tiny):
    result = optimize(tiny, "pool", [1], node=(2, 3), steps=5, seed=0)
    info = tiny.layer("pool")
    box = info.input_region(2, 3)
    assert result.fields.tolist() == [list(box)]
    top, left, bottom, right = box
    picture = result.picture(1)
    inside = picture[top:bottom, left:right]
    assert inside.min() == 0.0 and inside.max() == 1.0  # the field stretched on its own range
    outside = np.ones(picture.shape, bool)
    outside[top - 1:bottom + 1, left - 1:right + 1] = False
    assert np.all(picture[outside] == 0.5)
    ring = _ring(picture, top - 1, left - 1, bottom, right)
    assert set(np.unique(ring)) == {0.0, 1.0}
    # a map item sees the whole image: no mask, no outline
    whole = optimize(tiny, "pool", [1], steps=5, seed=0)
    assert whole.fields.tolist() == [[0, 0, 12, 12]]
    np.testing.assert_array_equal(whole.picture(1), pattern_picture(whole.images))


def test_field_boxes_are_clipped_to_the_image(tiny):
    info = tiny.layer("conv")
    boxes = field_boxes(info, np.asarray([[-1, -1], [0, 0], [9, 9]]))
    assert boxes.tolist() == [[0, 0, 12, 12], list(info.input_region(0, 0)), list(info.input_region(9, 9))]
    assert boxes[1, 0] == 0 and boxes[2, 2] == 12


@pytest.mark.slow
def test_no_atlas_tile_of_the_embedded_model_is_an_unmarked_test_digit():
    """Issue 19's target: atlas of every spatial layer (100 steps, seed 0, the 10,000 test digits
    to rescue from): no tile that correlates ≥ 0.8 with a test digit goes unmarked."""
    from cnn_widgets import CNNModel
    from cnn_widgets.data.mnist import mnist_test_split

    model = CNNModel.default()
    digits = mnist_test_split()[0]
    flat = digits.reshape(len(digits), -1).astype(np.float64)
    flat -= flat.mean(axis=1, keepdims=True)
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    like_digits = 0
    for layer in model.spatial_layers:
        result = optimize(model, layer, images=digits, steps=100, seed=0)
        tiles = result.images[..., 0].reshape(len(result.maps), -1).astype(np.float64)
        tiles -= tiles.mean(axis=1, keepdims=True)
        tiles /= np.maximum(np.linalg.norm(tiles, axis=1, keepdims=True), 1e-12)
        nearest = (tiles @ flat.T).max(axis=1)
        marked = result.from_data | ~result.alive
        assert not np.any((nearest >= 0.8) & ~marked), f"{layer}: unmarked digit-like tiles"
        like_digits += int(np.sum(nearest >= 0.8))
        for map_index in result.maps[result.from_data]:
            assert "started from test image" in result.rescue_note(int(map_index))
        np.testing.assert_array_equal(result.still_start, result.from_data &
                                      (np.nan_to_num(result.start_correlation) >= STILL_START))
    assert like_digits > 0  # the check has something to find (conv2: maps that fire on no noise)
