"""No live map left dead: longer wavelengths, the pre-activation ascent, a start from a real image."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets.methods.oip import optimize, pattern_picture

from .conftest import mean_of_own_map, shy_model


def _square_images() -> np.ndarray:
    images = np.zeros((5, 16, 16), np.float32)
    images[3, 4:12, 4:12] = 1.0  # the one image map 1 fires on
    return images


def test_dead_maps_are_rescued_with_longer_wavelengths_or_reported():
    result = optimize(shy_model(), "conv", steps=5, wavelength=1, seed=0)
    assert result.dead == [0]
    assert result.rescued == [1] and result.revival == ["dead", "wavelength", ""]
    assert result.history[0][1] > 0 and result.history[0][2] > 0
    assert result.alive.tolist() == [False, True, True]


def test_a_map_dead_from_noise_but_live_on_an_image_starts_from_its_best_image():
    model = shy_model(shy=0.97)
    images = _square_images()
    # too few, too small steps for the pre-activation to get there: the real image rescues it
    arguments = dict(steps=20, step_size=0.005, wavelength=1, seed=0, rescue_tries=0)
    without = optimize(model, "conv", **arguments)
    assert without.dead == [0, 1] and without.silent is None
    assert without.history[-1][1] == 0
    rescued = optimize(model, "conv", images=images, **arguments)
    assert rescued.revival == ["dead", "data", ""]
    assert rescued.dead == [0] and rescued.silent == [0]
    assert rescued.history[-1][1] > 0
    assert mean_of_own_map(model, "conv", rescued)[1] == pytest.approx(rescued.history[-1][1], rel=1e-5)
    assert rescued.history[-1][1] >= rescued.history[len(rescued.history) // 2][1] > 0
    switch = max(10, 20 // 4)  # the image comes in after a quarter of the steps (at least 10)
    assert np.all(rescued.history[:switch, 1] == 0) and np.all(rescued.history[switch:, 1] > 0)


def test_a_data_set_gives_its_images(tiny):
    from cnn_widgets.data.provider import DataSet

    images = np.random.default_rng(0).random((6, 12, 12)).astype(np.float32)
    labels = np.zeros(6, np.int64)
    by_set = optimize(tiny, "conv", [0], steps=3, images=DataSet(images, labels, "six images"))
    by_array = optimize(tiny, "conv", [0], steps=3, images=images)
    assert by_set.silent == by_array.silent
    np.testing.assert_array_equal(by_set.images, by_array.images)


def test_a_map_dead_from_noise_fires_after_ascending_its_pre_activation():
    model = shy_model(shy=0.97)
    result = optimize(model, "conv", steps=60, step_size=0.05, wavelength=1, seed=0, rescue_tries=0)
    assert result.revival == ["dead", "pre-activation", ""]
    assert result.dead == [0] and result.rescued == [1]
    assert result.history[-1][1] > 0
    assert result.history[1][1] == 0  # while it ascends its pre-activation, its objective is 0
    assert mean_of_own_map(model, "conv", result)[1] == pytest.approx(result.history[-1][1], rel=1e-5)


def test_dead_maps_are_a_cross_in_the_picture_never_their_noise():
    result = optimize(shy_model(shy=0.97), "conv", steps=20, step_size=0.005, wavelength=1, seed=0,
                      rescue_tries=0, images=_square_images())
    tile = result.picture(0)
    assert len(np.unique(tile)) == 2 and tile.max() < 0.6  # black on grey: nothing of the noise
    assert tile[0, 0] == 0 and tile[0, -1] == 0 and tile[7, 7] == 0  # both diagonals
    noise = pattern_picture(result.frames[0][:1])
    assert not np.array_equal(tile, noise)
    atlas = result.picture()
    np.testing.assert_allclose(atlas[:16, :16], tile, atol=1 / 254)  # the first tile of the mosaic


def test_maps_that_never_fire_on_the_images_are_listed_and_marked():
    images = np.zeros((3, 16, 16), np.float32)
    images[:, :, :8] = 0.5  # an edge for map 2; never bright enough for map 1
    result = optimize(shy_model(shy=0.97), "conv", steps=60, step_size=0.05, wavelength=1, seed=0,
                      rescue_tries=0, images=images)
    assert result.silent == [0, 1] and result.dead == [0] and result.revival[1] == "pre-activation"
    assert result.never_fires.tolist() == [True, True, False]
    tile = result.picture(1)
    assert tile[0, 0] == tile[0, 2] == tile[2, 0] == 0 and tile[1, 0] == tile[0, 4] == 1.0  # checkered corner
    assert not np.any(result.picture(2)[:2, :2] != pattern_picture(result.images[2:3])[:2, :2])


def test_a_node_dead_from_noise_starts_from_the_image_where_that_node_fires():
    images = np.zeros((4, 16, 16), np.float32)
    images[1, 0:4, 0:4] = 1.0  # map 1 fires only at the top-left node, on image 1
    images[2, 10:14, 10:14] = 1.0  # ... and at node (10, 10) on image 2
    model = shy_model(shy=0.97)
    arguments = dict(steps=20, step_size=0.005, wavelength=1, seed=0, rescue_tries=0, images=images)
    corner = optimize(model, "conv", [1], node=(0, 0), **arguments)
    assert corner.revival == ["data"] and corner.history[-1][0] > 0
    far = optimize(model, "conv", [1], node=(10, 10), **arguments)
    assert far.revival == ["data"] and far.history[-1][0] > 0
    assert not np.allclose(corner.images, far.images)
    nowhere = optimize(model, "conv", [1], node=(5, 0), **arguments)
    assert nowhere.revival == ["dead"] and nowhere.dead == [1] and nowhere.silent == []  # the map fires elsewhere


def test_a_late_start_on_a_blur_step_is_blurred_like_the_others():
    # the image comes in at step 10, a blur step: it is put in first, then blurred with the rest
    model = shy_model(shy=0.97)
    arguments = dict(steps=12, step_size=0.005, wavelength=1, seed=0, rescue_tries=0, images=_square_images(),
                     frame_every=1, blur_every=5, blur_sigma=0.6)
    result = optimize(model, "conv", [1], **arguments)
    assert result.revival == ["data"]
    square = _square_images()[3][..., None]
    at_switch = result.frames[10][0]
    assert 0 < np.abs(at_switch - square).max() < 0.5  # the square, softened once
    assert np.abs(np.diff(at_switch[..., 0], axis=1)).max() < 1.0  # no hard edge left
