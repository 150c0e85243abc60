"""'A rather than B': exact on linear models, consistent with the logits on the embedded CNN."""

from __future__ import annotations

import numpy as np
import pytest


def _linear_model(channels: int, classes: int = 4, size: int = 6, seed: int = 0):
    """Conv 1×1 (linear) → Flatten → Dense softmax: z = Wᵀ(w·(x − m)/s + b₀) + b."""
    import keras

    from cnn_widgets import CNNModel

    net = keras.Sequential([
        keras.Input((size, size, channels)),
        keras.layers.Conv2D(1, 1, activation=None, name="mix"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(classes, activation="softmax", name="out"),
    ])
    rng = np.random.default_rng(seed)
    net.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in net.get_weights()])
    mean, std = rng.uniform(0.1, 0.5, channels), rng.uniform(0.2, 0.9, channels)
    model = CNNModel(net, mean=mean, std=std)
    mix, _, dense, _ = net.get_weights()
    # d z_k / d x[i, j, c] = W[i·size + j, k] · w_c / s_c
    effective = dense.reshape(size, size, 1, classes) * (mix[0, 0, :, 0] / model.std)[None, None, :, None]
    return model, effective


@pytest.mark.parametrize("channels", [1, 3])
def test_linear_model_gradient_is_the_weight_difference(channels):
    from cnn_widgets.methods.saliency import saliency, smooth_grad

    model, effective = _linear_model(channels)
    image = np.random.default_rng(1).random((6, 6, channels)).astype(np.float32)
    expected = effective[..., 2] - effective[..., 0]
    plain, difference = smooth_grad(model, image, 2, 0, noise=0.0)
    np.testing.assert_allclose(plain, expected, rtol=1e-5, atol=1e-5)
    logits = model.logits(image)[0]
    assert difference == pytest.approx(logits[2] - logits[0], rel=1e-5)
    smooth = saliency(model, image, 2, 0, samples=8, noise=0.3, occlusion=False)
    np.testing.assert_allclose(smooth.gradient, expected, rtol=1e-4, atol=1e-5)  # linear: noise changes nothing
    np.testing.assert_allclose(smooth.pixels, expected.sum(axis=-1), rtol=1e-4, atol=1e-5)


def test_linear_model_occlusion_is_the_blanked_ink_times_the_weights():
    from cnn_widgets.methods.saliency import occlusion_map

    model, effective = _linear_model(1, size=7)
    image = np.random.default_rng(2).random((7, 7)).astype(np.float32)
    gradient = (effective[..., 1] - effective[..., 3])[..., 0]
    patch, stride, baseline = 3, 2, 0.1
    total, cover = np.zeros((7, 7)), np.zeros((7, 7))
    for top in (0, 2, 4):
        for left in (0, 2, 4):
            window = (slice(top, top + patch), slice(left, left + patch))
            drop = float(((image[window] - baseline) * gradient[window]).sum())
            total[window] += drop
            cover[window] += 1
    occluded, _ = occlusion_map(model, image, 1, 3, patch=patch, stride=stride, baseline=baseline)
    np.testing.assert_allclose(occluded, total / cover, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def mnist():
    from cnn_widgets import CNNModel
    from cnn_widgets.data.mnist import mnist_test_split

    images, labels = mnist_test_split()
    return CNNModel.default(), images, labels


def test_embedded_gradient_agrees_with_finite_differences(mnist):
    model, images, labels = mnist
    image = images[int(np.flatnonzero(labels == 4)[0])].astype(np.float32) / 255.0
    gradient, difference = model.logit_gradient(image, 4, 9)
    logits = model.logits(image)[0]
    assert difference[0] == pytest.approx(logits[4] - logits[9], rel=1e-5)
    # A digit's flat background ties the max-pool windows (no derivative there), so
    # the finite-difference check runs on a textured image, where the net is smooth.
    rng = np.random.default_rng(4)
    texture = rng.uniform(0.2, 0.8, (28, 28)).astype(np.float32)
    gradient, _ = model.logit_gradient(texture, 4, 9)
    direction = rng.normal(size=texture.shape).astype(np.float32)
    step = 1e-4
    moved = model.logits(np.stack([texture - step * direction, texture + step * direction]))
    finite = (moved[1, 4] - moved[1, 9]) - (moved[0, 4] - moved[0, 9])
    assert finite == pytest.approx(float((gradient[0, ..., 0] * 2 * step * direction).sum()), rel=0.02)


def test_embedded_saliency_is_seeded_and_shaped(mnist):
    from cnn_widgets.methods.saliency import overlay, saliency

    model, images, labels = mnist
    image = images[int(np.flatnonzero(labels == 9)[0])]
    first = saliency(model, image, 4, 9, samples=8, seed=5)
    again = saliency(model, image, 4, 9, samples=8, seed=5)
    np.testing.assert_array_equal(first.gradient, again.gradient)
    assert first.gradient.shape == (28, 28, 1) and first.occlusion.shape == (28, 28)
    assert first.difference < 0  # a 9 is read as more 9 than 4
    flipped = saliency(model, image, 9, 4, samples=8, seed=5)
    np.testing.assert_allclose(flipped.gradient, -first.gradient, atol=1e-5)
    np.testing.assert_allclose(flipped.occlusion, -first.occlusion, atol=1e-4)
    picture = overlay(image, first.pixels)
    assert picture.shape == (28, 28, 3) and picture.dtype == np.uint8
    strongest = np.unravel_index(np.argmax(first.pixels), (28, 28))
    assert picture[strongest][0] > picture[strongest][2]  # red where it pushes to A


def test_bad_classes_and_settings_are_refused(mnist):
    from cnn_widgets.methods.saliency import occlusion_map, saliency

    model, images, _ = mnist
    image = images[0]
    with pytest.raises(ValueError, match="both 4: pick two different classes"):
        saliency(model, image, 4, 4)
    with pytest.raises(ValueError, match="class B 10 is out of range: .*0–9"):
        saliency(model, image, 4, 10)
    with pytest.raises(TypeError, match="class A must be a class index"):
        saliency(model, image, float("nan"), 3)
    with pytest.raises(ValueError, match="patch must be an int in 1–28"):
        occlusion_map(model, image, 1, 2, patch=40)
    with pytest.raises(ValueError, match="samples must be"):
        saliency(model, image, 1, 2, samples=0)
    with pytest.raises(ValueError, match="NaN"):
        saliency(model, np.full((28, 28), np.nan, np.float32), 1, 2)
