"""The OIP engine on tiny hand-built models (exact behaviour) and on the embedded CNN."""

from __future__ import annotations

import threading

import keras
import numpy as np
import pytest
from PIL import Image

from cnn_widgets import CNNModel
from cnn_widgets.oip import optimize, wavelength_noise

from .conftest import make_tiny_cnn


@pytest.fixture(scope="module")
def tiny() -> CNNModel:
    return CNNModel(make_tiny_cnn(size=12, filters=4, seed=3))


def _model_with_dead_and_shy_maps() -> CNNModel:
    """Map 0: dead for any input (zero kernel, negative bias). Map 1: fires only where
    a 3×3 patch is almost all ink — never on pixel noise, easily on long wavelengths.
    Map 2: an ordinary edge detector."""
    inputs = keras.Input((16, 16, 1))
    conv = keras.layers.Conv2D(3, 3, activation="relu", name="conv")
    x = conv(inputs)
    net = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x)))
    kernel = np.zeros((3, 3, 1, 3), np.float32)
    kernel[..., 0, 1] = 1.0 / 9
    kernel[:, 0, 0, 2], kernel[:, 2, 0, 2] = 1.0, -1.0
    conv.set_weights([kernel, np.array([-1.0, -0.93, 0.0], np.float32)])
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
    assert result.rescued == [1]
    assert result.history[0][1] > 0 and result.history[0][2] > 0


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
    png = result.save_png(tmp_path / "atlas.png", enhance=1.0, zoom=2)
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
        (dict(step_size=0), "step_size must be > 0"),
        (dict(wavelength=0), "wavelength must be > 0"),
        (dict(wavelength=13), r"at most the image size \(12 px\)"),
    ],
)
def test_bad_arguments_get_clear_errors(tiny, kwargs, message):
    arguments = dict(layer="conv", maps=None, steps=3)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        optimize(tiny, arguments.pop("layer"), arguments.pop("maps"), **arguments)


def test_atlas_of_the_embedded_model():
    model = CNNModel.default()
    result = optimize(model, "conv3", steps=40, seed=0)
    assert result.images.shape == (128, 28, 28, 1)
    alive = [m for m in range(128) if m not in result.dead]
    assert len(alive) >= 96  # rescue brings most maps to life
    assert np.mean(result.history[-1][alive]) > 5 * np.mean(result.history[0][alive])
