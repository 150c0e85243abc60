"""The OIP engine on tiny hand-built models (exact behaviour) and on the embedded CNN."""

from __future__ import annotations

import threading

import keras
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cnn_widgets import CNNModel
from cnn_widgets.methods.oip.run import consistency, layer_statistics, node_sweep, optimize, pattern_picture, series, \
    wavelength_noise

from ...conftest import make_tiny_cnn


@pytest.fixture(scope="module")
def tiny() -> CNNModel:
    return CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))


def _model_with_dead_and_shy_maps(shy: float = 0.93) -> CNNModel:
    """Map 0: dead for any input (zero kernel, negative bias). Map 1: fires only where
    a 3×3 patch is almost all ink (mean > ``shy``) — never on pixel noise; at 0.93 easily
    on long wavelengths, at 0.97 yet on a digit-like white square. Map 2: an edge."""
    inputs = keras.Input((16, 16, 1))
    conv = keras.layers.Conv2D(3, 3, activation="relu", name="conv")
    x = conv(inputs)
    net = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x)))
    kernel = np.zeros((3, 3, 1, 3), np.float32)
    kernel[..., 0, 1] = 1.0 / 9
    kernel[:, 0, 0, 2], kernel[:, 2, 0, 2] = 1.0, -1.0
    conv.set_weights([kernel, np.array([-1.0, -shy, 0.0], np.float32)])
    return CNNModel(net)


def test_objective_rises(tiny):
    result = optimize(tiny, "conv", steps=30, wavelength=3, seed=1)
    alive = result.history[0] > 0
    assert alive.any()
    assert np.all(result.history[-1][alive] > result.history[0][alive])
    assert result.images.shape == (4, 12, 12, 1) and result.maps.tolist() == [0, 1, 2, 3]
    assert result.images.min() >= 0 and result.images.max() <= 1


def test_images_reproduce_the_objective(tiny):
    result = optimize(tiny, "pool", [1, 3], steps=12, wavelength=2, seed=4)
    maps = tiny.activations(result.images, "pool")["pool"]
    achieved = maps.mean(axis=(1, 2))[np.arange(2), result.maps]
    np.testing.assert_allclose(achieved, result.history[-1], rtol=1e-5, atol=1e-6)


def test_seed_restandardisation_keeps_images_valid(tiny):
    result = optimize(tiny, "conv", [0, 3], steps=10, restandardize=True, seed=1)
    assert result.settings["restandardize"] is True
    assert 0 <= result.images.min() and result.images.max() <= 1
    maps = tiny.activations(result.images, "conv")["conv"].mean(axis=(1, 2))[np.arange(2), result.maps]
    np.testing.assert_allclose(maps, result.history[-1], rtol=1e-5, atol=1e-6)
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


def test_node_objective_is_that_node(tiny):
    result = optimize(tiny, "conv", [3], steps=20, node=(4, 5), wavelength=3, seed=2)
    node = tiny.activations(result.images, "conv")["conv"][0, 4, 5, 3]
    assert result.node == (4, 5)
    assert result.history[-1][0] == pytest.approx(node, rel=1e-5)
    assert result.history[-1][0] > result.history[0][0]


def test_dead_maps_are_rescued_with_longer_wavelengths_or_reported():
    model = _model_with_dead_and_shy_maps()
    result = optimize(model, "conv", steps=5, wavelength=1, seed=0)
    assert result.dead == [0]
    assert result.rescued == [1] and result.revival == ["dead", "wavelength", ""]
    assert result.history[0][1] > 0 and result.history[0][2] > 0
    assert result.alive.tolist() == [False, True, True]


def _square_data() -> np.ndarray:
    data = np.zeros((5, 16, 16), np.float32)
    data[3, 4:12, 4:12] = 1.0  # the one image map 1 fires on
    return data


def test_a_map_dead_from_noise_but_live_on_data_starts_from_its_best_image():
    model = _model_with_dead_and_shy_maps(shy=0.97)
    data = _square_data()
    # too few, too small steps for the pre-activation to get there: the data rescue it
    settings = dict(steps=20, step_size=0.005, wavelength=1, seed=0, rescue_tries=0)
    without = optimize(model, "conv", **settings)
    assert without.dead == [0, 1] and without.silent is None
    assert without.history[-1][1] == 0
    rescued = optimize(model, "conv", data=data, **settings)
    assert rescued.revival == ["dead", "data", ""]
    assert rescued.dead == [0] and rescued.silent == [0]
    assert rescued.history[-1][1] > 0
    achieved = model.activations(rescued.images, "conv")["conv"].mean(axis=(1, 2))[1, 1]
    assert achieved == pytest.approx(rescued.history[-1][1], rel=1e-5)
    assert rescued.history[-1][1] >= rescued.history[len(rescued.history) // 2][1] > 0


def test_a_map_dead_from_noise_fires_after_ascending_its_pre_activation():
    model = _model_with_dead_and_shy_maps(shy=0.97)
    result = optimize(model, "conv", steps=60, step_size=0.05, wavelength=1, seed=0, rescue_tries=0)
    assert result.revival == ["dead", "pre-activation", ""]
    assert result.dead == [0] and result.rescued == [1]
    assert result.history[-1][1] > 0
    assert result.history[1][1] == 0  # while it ascends its pre-activation, its objective is 0
    maps = model.activations(result.images, "conv")["conv"].mean(axis=(1, 2))
    assert maps[1, 1] == pytest.approx(result.history[-1][1], rel=1e-5)


def test_dead_maps_are_a_cross_in_the_picture_never_their_noise():
    model = _model_with_dead_and_shy_maps(shy=0.97)
    result = optimize(model, "conv", steps=20, step_size=0.005, wavelength=1, seed=0, rescue_tries=0,
                      data=_square_data())
    tile = result.picture(0)
    assert len(np.unique(tile)) == 2 and tile.max() < 0.6  # black on grey: nothing of the noise
    assert tile[0, 0] == 0 and tile[0, -1] == 0 and tile[7, 7] == 0  # both diagonals
    noise = pattern_picture(result.frames[0][:1])
    assert not np.array_equal(tile, noise)
    atlas = result.picture()
    np.testing.assert_allclose(atlas[:16, :16], tile, atol=1 / 254)  # the first tile of the mosaic


def test_maps_that_never_fire_on_data_are_listed_and_marked():
    model = _model_with_dead_and_shy_maps(shy=0.97)
    data = np.zeros((3, 16, 16), np.float32)
    data[:, :, :8] = 0.5  # an edge for map 2; never bright enough for map 1
    result = optimize(model, "conv", steps=60, step_size=0.05, wavelength=1, seed=0, rescue_tries=0, data=data)
    assert result.silent == [0, 1] and result.dead == [0] and result.revival[1] == "pre-activation"
    assert result.never_fires.tolist() == [True, True, False]
    tile = result.picture(1)
    assert tile[0, 0] == tile[0, 2] == tile[2, 0] == 0 and tile[1, 0] == tile[0, 4] == 1.0  # checkered corner, white edge
    assert not np.any(result.picture(2)[:2, :2] != pattern_picture(result.images[2:3])[:2, :2])


def test_series_is_one_batched_call_deterministic_given_seeds(tiny):
    settings = dict(seeds=[3, 5, 8], wavelengths=[2, 6], steps=12)
    a = series(tiny, "conv", 2, **settings)
    b = series(tiny, "conv", 2, **settings)
    np.testing.assert_array_equal(a.result.images, b.result.images)
    np.testing.assert_array_equal(a.objectives, b.objectives)
    assert a.images.shape == (2, 3, 12, 12, 1) and a.objectives.shape == (2, 3)
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
    assert len(a.summary()) == 2 and "consistency" in a.summary()[0]
    assert np.all(np.abs(a.consistency) <= 1) and np.all(np.isfinite(a.baseline))
    assert a.picture().shape == (2 * 12 + 1, 3 * 12 + 2)


def test_series_count_of_seeds_and_bad_arguments(tiny):
    result = series(tiny, "conv", 1, seeds=2, wavelengths=[3], steps=3, baseline=False)
    assert result.seeds == [0, 1] and np.isnan(result.baseline).all() and len(result.result.maps) == 2
    for kwargs, message in [(dict(seeds=[]), "seeds must not be empty"),
                            (dict(seeds=[-2]), "each seed must be a whole number ≥ 0"),
                            (dict(wavelengths=[]), "wavelengths must not be empty"),
                            (dict(wavelengths=[3, float("nan")]), "each wavelength must be a finite number"),
                            (dict(wavelengths=[30]), "at most the image size")]:
        with pytest.raises(ValueError, match=message):
            series(tiny, "conv", 1, steps=2, **kwargs)
    with pytest.raises(ValueError, match="maps must be map indices"):
        series(tiny, "conv", 1.0, steps=2)


def test_consistency_is_one_for_identical_inputs_and_lower_for_different_ones():
    rng = np.random.default_rng(0)
    image = rng.random((12, 12, 1))
    assert consistency(np.stack([image] * 4)) == pytest.approx(1.0, abs=1e-12)
    assert consistency(np.stack([image, 2 * image + 0.5])) == pytest.approx(1.0, abs=1e-12)
    assert consistency(np.stack([image, 1 - image])) == pytest.approx(-1.0, abs=1e-12)
    unrelated = consistency(rng.random((6, 12, 12, 1)))
    assert abs(unrelated) < 0.2
    assert np.isnan(consistency(np.zeros((3, 4, 4))))
    with pytest.raises(ValueError, match="at least two images"):
        consistency(image[None])


def test_node_sweep_grows_every_position_in_one_call(tiny):
    sweep = node_sweep(tiny, "conv", 3, steps=10, seed=2, wavelength=3)
    assert sweep.positions.shape == (100, 2) and sweep.shape == (10, 10) and sweep.full_grid
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
    with pytest.raises(ValueError, match="node coordinates must be whole numbers"):
        node_sweep(tiny, "conv", 3, positions=[(0.5, 1)], steps=2)


def test_blur_damps_high_frequencies(tiny):
    plain = optimize(tiny, "conv", steps=30, wavelength=1, seed=1)
    blurred = optimize(tiny, "conv", steps=30, wavelength=1, seed=1, blur_every=1, blur_sigma=1.0)

    def roughness(images):
        return float(np.abs(np.diff(images, axis=1)).mean() + np.abs(np.diff(images, axis=2)).mean())

    assert roughness(blurred.images) < 0.8 * roughness(plain.images)


def test_an_oip_after_retraining_uses_the_new_standardisation():
    model = CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))
    before = optimize(model, "conv", steps=30, seed=1)
    assert before.images.min() == 0 and before.images.max() == 1
    rng = np.random.default_rng(0)
    images = (rng.random((64, 12, 12)) * 0.3).astype(np.float32)  # dim images: mean ≈ 0.15, std ≈ 0.09
    model.train(images, rng.integers(0, 3, 64), epochs=1, batch_size=32, standardize=True, shift=0)
    after = optimize(model, "conv", steps=40, step_size=0.5, seed=1)  # ε in units of the new, small std
    assert after.images.min() == 0 and after.images.max() == 1  # the new pixel box, all of it
    maps = model.activations(after.images, "conv")["conv"].mean(axis=(1, 2))[np.arange(4), after.maps]
    np.testing.assert_allclose(maps, after.history[-1], rtol=1e-4, atol=1e-6)


def test_layer_statistics_follow_the_model_version(tiny):
    model = CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))
    data = np.random.default_rng(0).random((40, 12, 12)).astype(np.float32)
    peaks, means = layer_statistics(model, "conv", data, batch_size=16)
    values = model.activations(data, "conv")["conv"]
    np.testing.assert_allclose(peaks, values.max(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(means, values.mean(axis=(1, 2)), rtol=1e-5)
    assert layer_statistics(model, "conv", data, batch_size=16)[0] is peaks  # kept
    conv = model.keras_model.get_layer("conv")
    kernel, bias = conv.get_weights()
    conv.set_weights([kernel * 2, bias])
    model.changed()
    again = layer_statistics(model, "conv", data, batch_size=16)[0]
    np.testing.assert_allclose(again, model.activations(data, "conv")["conv"].max(axis=(1, 2)), rtol=1e-6)
    assert again is not peaks and not np.allclose(again, peaks)


def test_frames_every_k_steps(tiny):
    result = optimize(tiny, "conv", [1], steps=10, frame_every=3)
    assert result.frame_steps == [0, 3, 6, 9, 10]
    assert result.frames.shape == (5, 1, 12, 12, 1) and result.history.shape == (11, 1)
    np.testing.assert_array_equal(result.frames[-1], result.images)


def test_callbacks_and_cancel(tiny):
    cancel = threading.Event()
    seen = []

    class Listener:
        def on_begin(self, maps, steps):
            seen.append(("begin", list(maps), steps))

        def on_step(self, step, images, objectives):
            seen.append(("step", step, images.shape, objectives.shape))
            if step == 3:
                cancel.set()

        def on_end(self, result):
            seen.append(("end", result.cancelled))

    result = optimize(tiny, "conv", [0, 1], steps=50, callbacks=Listener(), cancel=cancel)
    assert seen[0] == ("begin", [0, 1], 50) and seen[-1] == ("end", True)
    steps = [entry[1] for entry in seen if entry[0] == "step"]
    assert steps == [0, 1, 2, 3] and seen[1][2:] == ((2, 12, 12, 1), (2,))
    assert result.cancelled and result.history.shape == (5, 2) and result.frame_steps[-1] == 4


def test_gif_and_png_export(tiny, tmp_path):
    result = optimize(tiny, "conv", steps=6, frame_every=2)
    gif = result.save_gif(tmp_path / "one.gif", 2, zoom=4)
    with Image.open(gif) as image:
        assert image.n_frames == len(result.frames) == 4
        assert image.size == (12 * 4, 12 * 4)
    atlas = result.save_gif(tmp_path / "atlas.gif")
    with Image.open(atlas) as image:
        assert image.n_frames == 4
    png = result.save_png(tmp_path / "atlas.png", contrast=1.0, zoom=2)
    with Image.open(png) as image:
        assert image.size[0] > 12 * 2 * 2  # several tiles wide
    with pytest.raises(ValueError, match="was not optimised"):
        result.save_png(tmp_path / "x.png", 7)


def test_wavelength_sets_the_length_scale():
    rng = np.random.default_rng(0)

    def neighbour_correlation(image):
        return np.corrcoef(image[:, :-1].ravel(), image[:, 1:].ravel())[0, 1]

    pixels = wavelength_noise((28, 28, 1), 1, rng=rng)[..., 0]
    smooth = wavelength_noise((28, 28, 1), 14, rng=rng)[..., 0]
    assert abs(neighbour_correlation(pixels)) < 0.15
    assert neighbour_correlation(smooth) > 0.9
    octaves = wavelength_noise((28, 28, 1), 14, octaves=3, rng=rng)[..., 0]
    assert neighbour_correlation(pixels) < neighbour_correlation(octaves) < 0.99
    assert 0 <= pixels.min() and smooth.max() <= 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(layer="nope"), "unknown layer 'nope'"),
        (dict(layer="out"), "has no maps"),
        (dict(maps=[4]), r"map 4 is out of range: conv has 4 maps \(0–3\)"),
        (dict(maps=[-1]), "out of range"),
        (dict(node=(10, 0)), r"node \(10, 0\) is outside the 10×10 maps"),
        (dict(steps=0), "steps must be a whole number ≥ 1"),
        (dict(step_size=0), "step_size must be a finite number > 0"),
        (dict(wavelength=0), "wavelength must be a finite number > 0"),
        (dict(maps=[1.0]), "maps must be map indices"),
        (dict(maps=[True]), "maps must be map indices"),
        (dict(node=(1.5, 2)), "node coordinates must be whole numbers"),
        (dict(node=(-1, 2)), r"node \(-1, 2\) is outside"),
        (dict(node=5), r"node must be \(row, col\)"),
        (dict(seed=-1), "seed must be a whole number ≥ 0; got -1"),
        (dict(seed=1.5), "seed must be a whole number ≥ 0"),
        (dict(blur_sigma=0), "blur_sigma must be a finite number > 0"),
        (dict(blur_sigma=float("nan")), "blur_sigma must be a finite number > 0"),
        (dict(blur_every=-1), "blur_every must be a whole number ≥ 0"),
        (dict(steps=2.5), "steps must be a whole number ≥ 1"),
        (dict(data=np.zeros((2, 5, 5))), "this model takes 12×12 images"),
        (dict(wavelength=13), r"at most the image size \(12 px\)"),
        (dict(step_size=3.4e38), r"step_size must be a finite number in \(0, 10\]"),
        (dict(blur_sigma=1e38, blur_every=1), r"blur_sigma must be > 0 and at most the image size \(12 px\)"),
    ],
)
def test_bad_arguments_get_clear_errors(tiny, kwargs, message):
    arguments = dict(layer="conv", maps=None, steps=3)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        optimize(tiny, arguments.pop("layer"), arguments.pop("maps"), **arguments)


def test_atlas_of_the_embedded_model_leaves_no_map_that_fires_on_digits_dead():
    from cnn_widgets.data.mnist import mnist_test_split

    model = CNNModel.default()
    digits = mnist_test_split()[0][:2000]
    result = optimize(model, "conv3", steps=40, seed=0, data=digits)
    assert result.images.shape == (128, 28, 28, 1)
    peaks, _ = layer_statistics(model, "conv3", digits)
    fires = np.flatnonzero(peaks.max(axis=0) > 0)
    assert np.all(result.history[-1][fires] > 0)  # every map live on data has a pattern
    assert result.silent == sorted(set(range(128)) - set(fires.tolist()))
    assert set(result.dead) <= set(result.silent)
    alive = result.alive
    assert np.mean(result.history[-1][alive]) > 5 * np.mean(result.history[0][alive])


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
    with Image.open(grid) as image:
        assert image.size == (3 * 12 + 2, 2 * 12 + 1)
        np.testing.assert_array_equal(np.asarray(image), np.round(expected.picture(1.0) * 255).astype(np.uint8))
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


_ODD = st.one_of(st.none(), st.booleans(), st.integers(-(10 ** 6), 10 ** 6),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
                 st.tuples(st.integers(-3, 14), st.one_of(st.integers(-3, 14), st.floats(allow_nan=True))))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["maps", "node", "seed", "steps", "step_size", "wavelength", "octaves", "blur_every",
                             "blur_sigma", "frame_every", "rescue_tries"]), value=_ODD)
def test_fuzzed_arguments_either_run_or_name_what_was_wrong(tiny, name, value):
    if name in ("steps", "frame_every") and isinstance(value, int) and value > 20:
        value = 20 + value % 7  # long runs are valid, only slow
    arguments = dict(maps=[1], steps=2)
    arguments[name] = value
    maps = arguments.pop("maps")
    try:
        result = optimize(tiny, "conv", maps, **arguments)
    except ValueError as error:
        text = str(error)
        assert name.split("_")[0] in text or "map" in text or "node" in text, text
    else:
        assert np.all(np.isfinite(result.images)) and 0 <= result.images.min() and result.images.max() <= 1
        assert np.all(np.isfinite(result.history))


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
    else:
        with pytest.raises(expected, match=r"contrast \(display only; 0 = plain\) must be a finite number in 0–20"):
            pattern_picture(images, contrast)


def test_a_node_dead_from_noise_starts_from_the_image_where_that_node_fires():
    model = _model_with_dead_and_shy_maps(shy=0.97)
    data = np.zeros((4, 16, 16), np.float32)
    data[1, 0:4, 0:4] = 1.0  # map 1 fires only at the top-left node, on image 1
    data[2, 10:14, 10:14] = 1.0  # ... and at node (10, 10) on image 2
    settings = dict(steps=20, step_size=0.005, wavelength=1, seed=0, rescue_tries=0, data=data)
    corner = optimize(model, "conv", [1], node=(0, 0), **settings)
    assert corner.revival == ["data"] and corner.history[-1][0] > 0
    far = optimize(model, "conv", [1], node=(10, 10), **settings)
    assert far.revival == ["data"] and far.history[-1][0] > 0
    assert not np.allclose(corner.images, far.images)
    nowhere = optimize(model, "conv", [1], node=(5, 0), **settings)
    assert nowhere.revival == ["dead"] and nowhere.dead == [1] and nowhere.silent == []  # the map fires elsewhere


def test_exports_check_path_format_and_size_before_any_work(tiny, tmp_path):
    result = optimize(tiny, "conv", steps=2, frame_every=1)
    (tmp_path / "afile").write_text("x")
    for path, message in [("/dev/null/x.gif", "is a file, not a folder"), (tmp_path / "x.png", "must end in '.gif'"),
                          (tmp_path / "afile" / "x.gif", "is a file, not a folder")]:
        with pytest.raises(ValueError, match=message):
            result.save_gif(path)
    with pytest.raises(ValueError, match="must end in '.png'"):
        result.save_png(tmp_path / "x.gif")
    with pytest.raises(TypeError, match="must be a file path"):
        result.save_gif(None)
    assert not (tmp_path / "x.png").exists()
    for zoom, refused in ((10 ** 4, ValueError), (0, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(refused, match="zoom must be a whole number in 1–64"):
            result.png_bytes(zoom=zoom)
    with pytest.raises(ValueError, match="duration_ms must be a whole number of milliseconds"):
        result.gif_bytes(duration_ms=float("nan"))
    with pytest.raises(ValueError, match="hold_ms"):
        result.gif_bytes(hold_ms=-5)
    for frame in (99, 1.5):
        with pytest.raises(ValueError, match="frame must be a whole number"):
            result.picture(frame=frame)
    assert result.save_gif(tmp_path / "ok.gif").stat().st_size > 0  # and good calls still work


def test_bad_cancel_positions_and_images_are_refused(tiny):
    with pytest.raises(TypeError, match="cancel must be a threading.Event"):
        optimize(tiny, "conv", steps=2, cancel="yes")
    with pytest.raises(TypeError, match="positions must be a list of"):
        node_sweep(tiny, "conv", 0, steps=2, positions=5)
    with pytest.raises(ValueError, match=r"images must be an \(n, height, width, channels\) array"):
        pattern_picture(np.zeros(5))


def test_layer_statistics_of_no_images_is_a_clear_error(tiny):
    with pytest.raises(ValueError, match="data must hold at least one image"):
        layer_statistics(tiny, "conv", np.zeros((0, 12, 12, 1), np.float32))
    with pytest.raises(TypeError, match="data must be an array of images"):
        layer_statistics(tiny, "conv", None)


def test_callbacks_without_any_callback_method_are_refused(tiny):
    with pytest.raises(TypeError, match="callbacks must have on_begin, on_step or on_end methods"):
        optimize(tiny, "conv", steps=2, callbacks=5)
