"""Seed 004: five image-sized filters trained on one image take its shape."""

from __future__ import annotations

import io

import numpy as np
import pytest

from cnn_widgets.data.mnist import mnist_test_split
from cnn_widgets.methods.shapes import _forward, filters_take_shape


@pytest.fixture(scope="module")
def digits():
    x, y = mnist_test_split()
    return x[:300], y[:300]


def test_filters_take_the_shape_of_the_image(digits):
    x, y = digits
    run = filters_take_shape(x[4], int(y[4]), steps=120, learning_rate=0.005, seed=0)
    assert run.frames.shape == (61, 5, 28, 28) and run.frame_steps[:3] == [0, 2, 4] and run.frame_steps[-1] == 120
    assert np.all(np.abs(run.similarity[0]) < 0.1)  # random at the start
    assert np.abs(run.similarity[-1]).mean() > 0.3
    assert np.abs(run.similarity[-1]).max() > 0.5
    # the similarity grows (on the whole) step by step
    growth = np.abs(run.similarity).mean(axis=1)
    assert np.all(np.diff(growth) > -1e-6)
    assert run.loss[-1] < 0.1 * run.loss[0] and run.probability[-1] > 0.9
    assert run.image.max() == 1.0 and run.label == int(y[4])


def test_every_update_adds_a_multiple_of_the_image(digits):
    """Why they take its shape: filter − start is exactly c · image."""
    x, y = digits
    run = filters_take_shape(x[7], int(y[7]), steps=30, learning_rate=0.01, seed=3)
    change = (run.filters - run.initial).reshape(5, -1).astype(np.float64)
    image = run.image.reshape(-1)
    c = change @ image / (image @ image)
    residual = change - c[:, None] * image[None]
    assert np.abs(residual).max() < 1e-5 * np.abs(change).max()
    assert np.all(np.abs(c) > 0)


def test_gradients_match_finite_differences(digits):
    x, _ = digits
    rng = np.random.default_rng(0)
    image = x[0] / 255.0
    params = {"filters": rng.normal(0, 0.05, (3, 28, 28)), "bias": rng.normal(0, 0.1, 3),
              "weights": rng.normal(0, 0.5, (4, 3)), "offset": rng.normal(0, 0.1, 4)}
    _, _, grads = _forward(params, image, 2)
    for name, index in (("filters", (1, 14, 12)), ("bias", (0,)), ("weights", (3, 2)), ("offset", (1,))):
        shifted = {k: v.copy() for k, v in params.items()}
        shifted[name][index] += 1e-6
        up = _forward(shifted, image, 2)[0]
        shifted[name][index] -= 2e-6
        down = _forward(shifted, image, 2)[0]
        assert grads[name][index] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-8)


def test_multiply_and_sum_shows_why_an_image_shaped_filter_answers_most(digits):
    x, y = digits
    run = filters_take_shape(x[4], int(y[4]), steps=60, learning_rate=0.02)
    best = int(np.argmax(np.abs(run.similarity[-1])))
    trained, random = run.multiply_and_sum(best), run.multiply_and_sum(best, frame=0)
    np.testing.assert_allclose(trained.product, run.image * run.filters[best])
    assert trained.total == pytest.approx(float(trained.product.sum()))
    assert abs(trained.total) > 20 * abs(random.total)
    # the products are large where the image has ink
    ink = run.image > 0.5
    assert np.abs(trained.product[ink]).mean() > 10 * np.abs(trained.product[~ink]).mean()
    responses = run.responses(x)
    assert responses.shape == (300, 5)
    assert responses[4, best] == pytest.approx(trained.total)
    other = run.multiply_and_sum(best, image=x[10])
    assert other.total == pytest.approx(responses[10, best])


def test_same_seed_same_run_and_pictures(digits):
    from PIL import Image

    x, y = digits
    a = filters_take_shape(x[1], int(y[1]), steps=20, seed=5)
    b = filters_take_shape(x[1], int(y[1]), steps=20, seed=5)
    c = filters_take_shape(x[1], int(y[1]), steps=20, seed=6)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert not np.allclose(a.initial, c.initial)
    picture = a.picture(0)
    assert picture.shape == (28, 5 * 28 + 4 * 2) and picture.dtype == np.uint8
    gif = Image.open(io.BytesIO(a.gif_bytes(zoom=2)))
    assert gif.n_frames == len(a.frames) and gif.width >= picture.shape[1] * 2 and gif.height > 56  # titled
    assert gif.info["comment"].decode().startswith("5 filters of 28x28 trained on one image of class")


@pytest.mark.parametrize("arguments, message", [
    (dict(image=np.full((28, 28), np.nan)), "NaN or infinite"),
    (dict(image=np.zeros((2, 28, 28))), r"one grey image \(H, W\)"),
    (dict(image=np.full((28, 28), 2.0)), r"pixels must lie in \[0, 1\]"),
    (dict(label=10), "label must be an integer 0–9"),
    (dict(steps=0), "steps must be an integer 1–100000"),
    (dict(learning_rate=-0.1), r"learning_rate must be a number in \(0, 10\]"),
    (dict(learning_rate=float("nan")), r"learning_rate must be a number in \(0, 10\]"),
    (dict(filters=0), "filters must be an integer 1–64"),
])
def test_bad_input_is_refused_with_what_is_allowed(arguments, message):
    arguments = {"image": np.zeros((28, 28)), **arguments}
    with pytest.raises(ValueError, match=message):
        filters_take_shape(**arguments)


def test_bad_views_are_refused(digits):
    x, y = digits
    run = filters_take_shape(x[0], int(y[0]), steps=4, frame_every=2)
    with pytest.raises(ValueError, match="filter must be 0–4"):
        run.multiply_and_sum(5)
    with pytest.raises(ValueError, match="frame must be 0–2"):
        run.multiply_and_sum(0, frame=3)
    with pytest.raises(ValueError, match="must be 28×28 like the trained one"):
        run.multiply_and_sum(0, image=np.zeros((8, 8)))


def test_any_image_and_settings_give_a_run_or_a_clear_error():
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    values = st.floats(allow_nan=True, allow_infinity=True, width=32)
    images = arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=values)

    @settings(max_examples=60, deadline=None)
    @given(images, st.integers(-2, 12), st.integers(-1, 6), st.floats(allow_nan=True, allow_infinity=True))
    def check(image, label, steps, rate):
        try:
            run = filters_take_shape(image, label, steps=steps, learning_rate=rate, frame_every=1)
        except ValueError as error:
            assert any(word in str(error) for word in ("image", "pixels", "label", "steps", "learning_rate"))
            return
        assert np.all(np.isfinite(run.frames))
        assert run.frames.shape[2:] == image.shape
        # a correlation exists exactly where neither the image nor the filter is flat
        flat_image = np.linalg.norm(run.image - run.image.mean()) <= 1e-12
        frames = run.frames.reshape(*run.frames.shape[:2], -1).astype(np.float64)
        flat_filter = np.linalg.norm(frames - frames.mean(axis=2, keepdims=True), axis=2) < 1e-6
        undefined = np.isnan(run.similarity)
        if flat_image:
            assert undefined.all()
        else:
            assert np.all(undefined <= flat_filter)
            assert np.all(np.abs(run.similarity[~undefined]) <= 1 + 1e-5)

    check()


@pytest.mark.parametrize("image", [np.zeros((1, 1)), np.full((3, 3), 0.5), np.array([[0, 1e-20], [0, 0]])],
                         ids=["one-pixel", "grey", "almost-flat"])
def test_a_flat_image_has_no_correlation_with_any_filter(image):
    run = filters_take_shape(image, 0, steps=1, learning_rate=1.0, frame_every=1)
    assert run.similarity.shape == (2, 5)
    assert np.isnan(run.similarity).all()


def test_a_drawn_image_has_a_correlation_with_every_filter():
    run = filters_take_shape(np.array([[0, 1.0], [0, 0]]), 0, steps=1, learning_rate=1.0, frame_every=1)
    assert not np.isnan(run.similarity).any()
    assert np.all(np.abs(run.similarity) <= 1 + 1e-6)
