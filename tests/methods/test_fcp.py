"""FCP: class patterns, their difference and the ranking of separating maps."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.data.mnist import mnist_test_split
from cnn_widgets.methods.fcp import class_patterns, compare_classes


@pytest.fixture(scope="module")
def lights() -> CNNModel:
    """A 1×1 conv with identity kernels: map k shows input channel k. Three maps."""
    inputs = keras.Input((4, 4, 3))
    conv = keras.layers.Conv2D(3, 1, use_bias=False, name="maps")
    net = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(conv(inputs))))
    conv.set_weights([np.eye(3, dtype=np.float32)[None, None]])
    return CNNModel(net)


def _data(rng, n=60):
    """Class 0 lights channel 1 strongly; class 1 and 2 are noise."""
    labels = np.repeat([0, 1, 2], n // 3)
    images = rng.random((n, 4, 4, 3)).astype(np.float32) * 0.3
    images[labels == 0, :, :, 1] += 0.6
    return images, labels


def test_means_equal_numpy_means_of_the_activations(lights, rng):
    images, labels = _data(rng)
    patterns = class_patterns(lights, images, labels, "maps", (0, 1))
    for label in (0, 1):
        own = lights.activations(images[labels == label], "maps")["maps"]
        np.testing.assert_allclose(patterns[label].mean, own.mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(patterns[label].std, own.std(axis=0), rtol=1e-4)
        assert patterns[label].count == 20


def test_a_class_that_lights_one_map_ranks_that_map_first(lights, rng):
    images, labels = _data(rng)
    result = compare_classes(lights, images, labels, "maps", (0, 1))
    assert result.map_ranking[0] == 1 and result.map_scores[1] > 3
    np.testing.assert_allclose(result.difference, result.a.mean - result.b.mean)
    (node, score), *_ = result.node_ranking(1)
    assert node[2] == 1 and score > 2
    reverse = compare_classes(lights, images, labels, "maps", (1, 0))
    assert reverse.map_ranking[0] == 1 and reverse.map_scores[1] < -3
    assert result.position(result.a.mean) == pytest.approx(1.0)
    assert result.position(result.b.mean) == pytest.approx(0.0)


def test_cohen_d_by_hand(lights):
    a = np.zeros((3, 4, 4, 3), np.float32)
    b = np.zeros((3, 4, 4, 3), np.float32)
    a[..., 0] = np.array([0.2, 0.4, 0.6])[:, None, None]
    b[..., 0] = np.array([0.1, 0.2, 0.3])[:, None, None]
    result = compare_classes(lights, np.concatenate([a, b]), np.array([0, 0, 0, 1, 1, 1]), "maps", (0, 1))
    pooled = np.sqrt((np.var([0.2, 0.4, 0.6], ddof=1) * 2 + np.var([0.1, 0.2, 0.3], ddof=1) * 2) / 4)
    assert result.map_scores[0] == pytest.approx((0.4 - 0.2) / pooled, rel=1e-4)
    assert result.map_scores[2] == 0  # no spread, no difference


def test_dense_layers_compare_too():
    model = CNNModel.default()
    x, y = mnist_test_split()
    result = compare_classes(model, x[:3000], y[:3000], "dense", (4, 9))
    assert result.a.mean.shape == (70,) and result.map_scores.shape == (70,)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(classes=(0, 5)), "unknown class 5"),
        (dict(classes=(0, 0)), "two different classes"),
        (dict(layer="nope"), "unknown layer 'nope'"),
        (dict(labels=np.zeros(59, int)), "60 images but 59 labels"),
        (dict(labels=np.zeros(60, float)), "class indices"),
    ],
)
def test_bad_input_is_a_clear_error(lights, rng, kwargs, message):
    images, labels = _data(rng)
    arguments = dict(images=images, labels=labels, layer="maps", classes=(0, 1))
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        compare_classes(lights, arguments["images"], arguments["labels"], arguments["layer"], arguments["classes"])


def test_a_class_without_images(lights, rng):
    images, labels = _data(rng)
    labels[labels == 2] = 1
    with pytest.raises(ValueError, match="class 2 .* has no images"):
        compare_classes(lights, images, labels, "maps", (0, 2))


def test_real_test_set_4_vs_9_is_stable_under_reordering():
    model = CNNModel.default()
    x, y = mnist_test_split()
    first = compare_classes(model, x, y)
    order = np.random.default_rng(0).permutation(len(y))
    again = compare_classes(model, x[order], y[order])
    assert first.a.count == int((y == 4).sum()) and first.b.count == int((y == 9).sum())
    assert first.a.mean.shape == (3, 3, 128)
    np.testing.assert_array_equal(first.map_ranking[:10], again.map_ranking[:10])
    np.testing.assert_allclose(first.map_scores, again.map_scores, rtol=1e-3, atol=1e-4)
    assert abs(first.map_scores[first.map_ranking[0]]) > 2  # some maps separate 4s from 9s well


def test_batches_give_the_whole_class_statistics(lights, rng):
    """Accumulating batch by batch equals the statistics of the whole class at once."""
    images, labels = _data(rng)
    whole = class_patterns(lights, images, labels, "maps", (0, 1), batch_size=256)
    seen: list[float] = []
    batched = class_patterns(lights, images, labels, "maps", (0, 1), batch_size=3, progress=seen.append)
    for label in (0, 1):
        np.testing.assert_allclose(batched[label].mean, whole[label].mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(batched[label].std, whole[label].std, rtol=1e-4, atol=1e-6)
        np.testing.assert_array_equal(batched[label].map_means, whole[label].map_means)
    assert len(seen) == 14 and seen[-1] == 1.0 and seen == sorted(seen)  # 7 batches of 3 per class of 20


def test_bad_batch_size_is_a_clear_error(lights, rng):
    images, labels = _data(rng)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="batch_size must be a whole number"):
            class_patterns(lights, images, labels, "maps", (0, 1), batch_size=bad)


def test_a_progress_that_is_no_function_is_refused_before_any_batch(lights, rng):
    images, labels = _data(rng)
    with pytest.raises(TypeError, match="progress must be a function of the fraction done"):
        class_patterns(lights, images, labels, "maps", (0, 1), progress=5)
