"""The three OIP runs on tiny hand-built models (exact behaviour) and on the embedded CNN."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.methods.oip import OIPSettings, consistency, node_sweep, optimize, series
from cnn_widgets.methods.statistics import layer_statistics

from ...conftest import make_tiny_cnn
from .conftest import mean_of_own_map


def test_objective_rises(tiny):
    result = optimize(tiny, "conv", steps=30, wavelength=3, seed=1)
    alive = result.history[0] > 0
    assert alive.any()
    assert np.all(result.history[-1][alive] > result.history[0][alive])
    assert result.images.shape == (4, 12, 12, 1) and result.maps.tolist() == [0, 1, 2, 3]
    assert result.images.min() >= 0 and result.images.max() <= 1


def test_images_reproduce_the_objective(tiny):
    result = optimize(tiny, "pool", [1, 3], steps=12, wavelength=2, seed=4)
    np.testing.assert_allclose(mean_of_own_map(tiny, "pool", result), result.history[-1], rtol=1e-5, atol=1e-6)


def test_seed_restandardisation_keeps_images_valid(tiny):
    result = optimize(tiny, "conv", [0, 3], steps=10, restandardize=True, seed=1)
    assert result.settings.restandardize is True
    assert 0 <= result.images.min() and result.images.max() <= 1
    np.testing.assert_allclose(mean_of_own_map(tiny, "conv", result), result.history[-1], rtol=1e-5, atol=1e-6)
    plain = optimize(tiny, "conv", [0, 3], steps=10, seed=1)
    assert not np.allclose(plain.images, result.images)


def test_batched_equals_one_map_at_a_time(tiny):
    together = optimize(tiny, "conv", [0, 2, 3], steps=15, wavelength=4, seed=9)
    for position, map_index in enumerate([0, 2, 3]):
        alone = optimize(tiny, "conv", [map_index], steps=15, wavelength=4, seed=9)
        np.testing.assert_allclose(alone.images[0], together.images[position], atol=1e-4)
        np.testing.assert_allclose(alone.history[:, 0], together.history[:, position], rtol=1e-4, atol=1e-5)


def test_same_seed_same_images_other_seed_other_images(tiny):
    a = optimize(tiny, "conv", steps=8, seed=5)
    b = optimize(tiny, "conv", steps=8, seed=5)
    c = optimize(tiny, "conv", steps=8, seed=6)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.allclose(a.images, c.images)


def test_a_settings_object_and_keywords_are_the_same_run(tiny):
    settings = OIPSettings(steps=9, wavelength=3, seed=2, blur_every=2, blur_sigma=1.0, frame_every=3)
    by_object = optimize(tiny, "conv", [1, 2], settings=settings)
    by_keywords = optimize(tiny, "conv", [1, 2], steps=9, wavelength=3, seed=2, blur_every=2, blur_sigma=1.0,
                           frame_every=3)
    np.testing.assert_array_equal(by_object.images, by_keywords.images)
    assert by_object.settings == by_keywords.settings == settings
    overridden = optimize(tiny, "conv", [1, 2], settings=settings, seed=3)  # keywords change the object's values
    assert overridden.settings == settings.replace(seed=3) and settings.seed == 2
    assert not np.allclose(overridden.images, by_object.images)


def test_node_objective_is_that_node(tiny):
    result = optimize(tiny, "conv", [3], steps=20, node=(4, 5), wavelength=3, seed=2)
    node = tiny.activations(result.images, "conv")["conv"][0, 4, 5, 3]
    assert result.node == (4, 5)
    assert result.history[-1][0] == pytest.approx(node, rel=1e-5)
    assert result.history[-1][0] > result.history[0][0]


def test_series_is_one_batched_call_deterministic_given_seeds(tiny):
    arguments = dict(seeds=[3, 5, 8], wavelengths=[2, 6], steps=12)
    a = series(tiny, "conv", 2, **arguments)
    b = series(tiny, "conv", 2, **arguments)
    np.testing.assert_array_equal(a.result.images, b.result.images)
    np.testing.assert_array_equal(a.objectives, b.objectives)
    assert a.map_index == 2 and a.images.shape == (2, 3, 12, 12, 1) and a.objectives.shape == (2, 3)
    assert len(a.result.maps) == 12  # 6 series images + 6 baseline images of other maps
    assert not np.isin(a.baseline_maps, [2]).any()
    for row, wavelength in enumerate([2, 6]):
        for column, seed in enumerate([3, 5, 8]):
            alone = optimize(tiny, "conv", [2], steps=12, seed=seed, wavelength=wavelength)
            np.testing.assert_allclose(a.images[row, column], alone.images[0], atol=1e-4)
            assert a.objectives[row, column] == pytest.approx(alone.history[-1][0], rel=1e-4)
    c = series(tiny, "conv", 2, seeds=[4, 5, 8], wavelengths=[2, 6], steps=12)
    assert not np.allclose(c.images[:, 0], a.images[:, 0])
    np.testing.assert_allclose(c.images[:, 1:], a.images[:, 1:], atol=1e-4)
    assert len(a.summary()) == 2 and "consistency (±4 px shifts)" in a.summary()[0]
    assert np.all(np.abs(a.consistency) <= 1) and np.all(np.isfinite(a.baseline))
    assert a.max_shift == 4 and a.unblurred is None and a.blur_loss is None and "blur" not in a.summary()[0]
    assert a.consistency[0] == pytest.approx(consistency(a.images[0], 4))
    assert a.picture().shape == (2 * 12 + 1, 3 * 12 + 2)
    assert a.result.settings.seed == 3 and a.result.settings.wavelength == 2.0  # the first of each


def test_series_with_a_count_of_seeds_and_no_baseline(tiny):
    result = series(tiny, "conv", 1, seeds=2, wavelengths=[3], steps=3, baseline=False)
    assert result.seeds == [0, 1] and np.isnan(result.baseline).all() and len(result.result.maps) == 2


def test_node_sweep_grows_every_position_in_one_call(tiny):
    sweep = node_sweep(tiny, "conv", 3, steps=10, seed=2, wavelength=3)
    assert sweep.positions.shape == (100, 2) and sweep.shape == (10, 10) and sweep.full_grid
    assert sweep.map_index == 3
    for position in (0, 45, 99):
        row, col = sweep.positions[position]
        alone = optimize(tiny, "conv", [3], node=(int(row), int(col)), steps=10, seed=2, wavelength=3)
        np.testing.assert_allclose(sweep.result.images[position], alone.images[0], atol=1e-4)
        assert sweep.objectives[position] == pytest.approx(alone.history[-1][0], rel=1e-4)
    values = tiny.activations(sweep.result.images, "conv")["conv"]
    own = values[np.arange(100), sweep.positions[:, 0], sweep.positions[:, 1], 3]
    np.testing.assert_allclose(own, sweep.objectives, rtol=1e-4, atol=1e-6)
    some = node_sweep(tiny, "conv", 3, positions=[(0, 0), (9, 9)], steps=3)
    assert some.positions.tolist() == [[0, 0], [9, 9]] and not some.full_grid


def test_blur_damps_high_frequencies(tiny):
    plain = optimize(tiny, "conv", steps=30, wavelength=1, seed=1)
    blurred = optimize(tiny, "conv", steps=30, wavelength=1, seed=1, blur_every=1, blur_sigma=1.0)

    def roughness(images):
        return float(np.abs(np.diff(images, axis=1)).mean() + np.abs(np.diff(images, axis=2)).mean())

    assert roughness(blurred.images) < 0.8 * roughness(plain.images)


def test_a_blur_as_wide_as_the_image_is_accepted(tiny):
    # a σ up to the image size is allowed; its kernel is cut to what a reflected border holds
    result = optimize(tiny, "conv", [0], steps=4, blur_every=2, blur_sigma=12.0)
    assert np.all(np.isfinite(result.images)) and result.images.shape == (1, 12, 12, 1)
    assert np.ptp(result.images) < np.ptp(optimize(tiny, "conv", [0], steps=4).images)


def test_an_oip_after_retraining_uses_the_new_standardisation():
    model = CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))
    before = optimize(model, "conv", steps=30, seed=1)
    assert before.images.min() == 0 and before.images.max() == 1
    rng = np.random.default_rng(0)
    images = (rng.random((64, 12, 12)) * 0.3).astype(np.float32)  # dim images: mean ≈ 0.15, std ≈ 0.09
    model.train(images, rng.integers(0, 3, 64), epochs=1, batch_size=32, standardize=True, shift=0)
    after = optimize(model, "conv", steps=40, step_size=0.5, seed=1)  # ε in units of the new, small std
    assert after.images.min() == 0 and after.images.max() == 1  # the new pixel box, all of it
    np.testing.assert_allclose(mean_of_own_map(model, "conv", after), after.history[-1], rtol=1e-4, atol=1e-6)


def test_frames_every_k_steps(tiny):
    result = optimize(tiny, "conv", [1], steps=10, frame_every=3)
    assert result.frame_steps == [0, 3, 6, 9, 10]
    assert result.frames.shape == (5, 1, 12, 12, 1) and result.history.shape == (11, 1)
    np.testing.assert_array_equal(result.frames[-1], result.images)


def test_long_runs_go_in_stretches_and_give_the_same_images_as_short_frames(tiny):
    # frames every 40 steps: the compiled loop runs stretches of at most 10 steps in between
    sparse = optimize(tiny, "conv", [0, 2], steps=40, frame_every=40, seed=3)
    dense = optimize(tiny, "conv", [0, 2], steps=40, frame_every=1, seed=3)
    assert sparse.frame_steps == [0, 40] and dense.frame_steps == list(range(41))
    np.testing.assert_allclose(sparse.images, dense.images, atol=1e-6)
    np.testing.assert_allclose(sparse.history, dense.history, atol=1e-6)


def test_atlas_of_the_embedded_model_leaves_no_map_that_fires_on_digits_dead():
    from cnn_widgets.data.mnist import mnist_test_split

    model = CNNModel.default()
    digits = mnist_test_split()[0][:2000]
    result = optimize(model, "conv3", steps=40, seed=0, images=digits)
    assert result.images.shape == (128, 28, 28, 1)
    peaks, _ = layer_statistics(model, "conv3", digits)
    fires = np.flatnonzero(peaks.max(axis=0) > 0)
    assert np.all(result.history[-1][fires] > 0)  # every map live on the digits has a pattern
    assert result.silent == sorted(set(range(128)) - set(fires.tolist()))
    assert set(result.dead) <= set(result.silent)
    alive = result.alive
    assert np.mean(result.history[-1][alive]) > 5 * np.mean(result.history[0][alive])


def test_a_blurred_series_reports_the_objective_the_blur_cost(tiny):
    arguments = dict(seeds=[1, 2], wavelengths=[3], steps=12, blur_every=3, blur_sigma=1.5)
    found = series(tiny, "conv", 2, **arguments)
    assert found.unblurred.shape == (1, 2)
    for column, seed in enumerate([1, 2]):
        plain = optimize(tiny, "conv", [2], steps=12, seed=seed, wavelength=3)
        assert found.unblurred[0, column] == pytest.approx(plain.history[-1][0], rel=1e-4)
    loss = 1 - found.objectives.mean() / found.unblurred.mean()
    assert found.blur_loss[0] == pytest.approx(loss)
    assert f"without blur {found.unblurred[0].mean():.2f}: blur costs {100 * loss:.0f} % of it" in found.summary()[0]
    skipped = series(tiny, "conv", 2, blur_cost=False, **arguments)
    assert skipped.unblurred is None and skipped.blur_loss is None
    np.testing.assert_array_equal(skipped.objectives, found.objectives)
