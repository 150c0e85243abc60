"""Seed 002: pair the filters of two runs, against untrained networks of the same architecture
(with a bootstrap interval) and a shuffled baseline."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets import CNNModel, mnist_cnn
from cnn_widgets.methods.matching import layer_filters, match_filters, untrained_twin

from ..conftest import make_tiny_cnn


def _permuted_copy(model: CNNModel, layer: str, order: np.ndarray) -> CNNModel:
    """The same network with the maps of ``layer`` in another order (and the next conv
    layer's inputs permuted to match): the same function, other filter indices."""
    net = model.keras_model
    clone = type(net).from_config(net.get_config())
    clone.set_weights(net.get_weights())
    names = [l.name for l in clone.layers]
    target = clone.get_layer(layer)
    kernel, bias = target.get_weights()
    target.set_weights([kernel[..., order], bias[order]])
    following = [clone.get_layer(n) for n in names[names.index(layer) + 1:]
                 if type(clone.get_layer(n)).__name__ == "Conv2D"]
    if following:
        k, b = following[0].get_weights()
        following[0].set_weights([k[:, :, order, :], b])
    return CNNModel(clone)


def test_a_permuted_copy_is_matched_exactly_and_far_above_the_baseline():
    model = mnist_cnn(seed=3)
    order = np.random.default_rng(0).permutation(32)
    other = _permuted_copy(model, "conv1", order)
    match = match_filters(model, other, "conv1", shuffles=20)
    assert match.quality == pytest.approx(np.ones(32), abs=1e-5)
    np.testing.assert_array_equal(order[match.pairs[:, 1]], match.pairs[:, 0])
    assert match.same_index == int(np.sum(order == np.arange(32)))
    assert match.baseline.shape == (20, 32)
    assert np.all(match.above_baseline) and match.baseline.mean() < 0.9
    assert match.control.shape == (3, 32) and match.reference == "untrained control"
    assert match.beyond_chance and match.interval[0] > 0.2 and np.all(match.above_control)
    assert "32 pairs" in match.summary() and "alike beyond chance" in match.summary()
    assert match.pair_labels(2) == [f"{a}↔{b} r={q:.2f}" for (a, b), q in zip(match.pairs[:2], match.quality[:2])]


def test_deeper_layers_are_compared_as_decoded_filters():
    model = mnist_cnn(seed=4)
    order = np.random.default_rng(1).permutation(32)
    other = _permuted_copy(model, "conv1", order)  # conv2 kernels now see their inputs reordered
    raw_a = model.keras_model.get_layer("conv2").get_weights()[0]
    raw_b = other.keras_model.get_layer("conv2").get_weights()[0]
    assert not np.allclose(raw_a, raw_b)
    match = match_filters(model, other, "conv2", shuffles=5)
    assert match.filters_a.shape == (64, 8, 8, 1)
    assert match.quality == pytest.approx(np.ones(64), abs=1e-4)
    assert match.same_index == 64  # conv2's own maps kept their order
    with pytest.raises(ValueError, match="compare its decoded filters"):
        layer_filters(model, "conv2", decoded=False)


def test_unrelated_filters_are_no_better_than_the_baseline():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(16, 5, 5)), rng.normal(size=(16, 5, 5))
    for shuffle in ("phases", "pixels"):
        match = match_filters(a, b, shuffles=100, shuffle=shuffle, seed=1)
        assert abs(match.quality.mean() - match.baseline.mean()) < 0.1
        assert match.above_baseline.sum() <= 3
        assert match.reference == "shuffled baseline" and "no untrained control given" in match.summary()
    # arrays with a control of their own: the control is the reference
    controls = [(rng.normal(size=(16, 5, 5)), rng.normal(size=(16, 5, 5))) for _ in range(3)]
    against = match_filters(a, b, control=controls)
    assert against.reference == "untrained control" and against.control.shape == (3, 16)
    assert not against.beyond_chance
    # noisy copies in another order are found
    order = rng.permutation(16)
    noisy = a[order] + rng.normal(scale=0.3, size=a.shape)
    found = match_filters(a, noisy, shuffles=50)
    np.testing.assert_array_equal(order[found.pairs[:, 1]], found.pairs[:, 0])
    assert found.above_baseline.all() and found.beyond_chance
    assert np.all(np.diff(found.quality) <= 0)
    picture = found.picture(4)
    assert picture.shape == (2 * 5 + 1, 4 * 5 + 3) and picture.dtype == np.uint8


@pytest.mark.parametrize("layer", ["conv1", "conv2", "conv3"])
def test_two_untrained_networks_are_not_alike_beyond_chance(layer):
    """Issue 19's target: with the untrained control as the reference, two untrained networks
    are what chance gives, in every layer (the shuffled baseline alone called them alike)."""
    untrained = [mnist_cnn(seed=seed) for seed in (1, 2)]
    match = match_filters(*untrained, layer)
    assert match.reference == "untrained control" and match.control.shape[0] == 3
    assert not match.beyond_chance and match.interval[0] <= 0 <= match.interval[1]
    assert "not beyond chance" in match.summary() and "untrained control" in match.summary()
    assert match.above_control.sum() <= len(match.pairs) // 6 + 1  # a rough per-pair guide: few pass by chance
    assert match.control_seeds == ((1000, 1001), (1002, 1003), (1004, 1005))
    # the control's networks are of the same architecture, their weights fresh and seeded
    twin = untrained_twin(untrained[0], 1000)
    assert twin.layer_names == untrained[0].layer_names
    np.testing.assert_array_equal(layer_filters(twin, "conv1"), layer_filters(untrained_twin(untrained[0], 1000),
                                                                              "conv1"))
    assert not np.allclose(layer_filters(twin, "conv1"), layer_filters(untrained[0], "conv1"))


def test_two_training_runs_are_compared_with_untrained_networks(mnist_path):
    """The notebook's settings (3,000 images, 1 epoch): conv3's decoded filters are alike beyond
    chance, conv1's kernels (still close to their random start) are not."""
    from cnn_widgets.data.mnist import load_mnist

    (x, y), _ = load_mnist(mnist_path)
    runs = []
    for seed in (1, 2):
        model = mnist_cnn(seed=seed)
        model.train(x[:3000], y[:3000], epochs=1, standardize=True, seed=seed)
        runs.append(model)
    match = match_filters(*runs, "conv3", shuffles=5)
    assert match.beyond_chance and match.difference > 0.05
    assert match.quality.mean() > match.control.mean() + 0.05
    assert match.same_index <= 8  # alike, but not in the same order
    first = match_filters(*runs, "conv1", shuffles=5)
    assert not first.beyond_chance


def test_bad_input_names_what_is_allowed():
    tiny = CNNModel(make_tiny_cnn())
    with pytest.raises(ValueError, match="differ in size"):
        match_filters(np.zeros((4, 3, 3)), np.zeros((4, 5, 5)))
    with pytest.raises(ValueError, match="shuffles must be an integer ≥ 1"):
        match_filters(tiny, tiny, "conv", shuffles=0)
    with pytest.raises(ValueError, match="resamples must be an integer ≥ 100"):
        match_filters(tiny, tiny, "conv", resamples=10)
    with pytest.raises(ValueError, match="control must be 'untrained', a list of"):
        match_filters(tiny, tiny, "conv", control="shuffled")
    with pytest.raises(ValueError, match="control must be 'untrained', a non-empty list"):
        match_filters(tiny, tiny, "conv", control=[])
    with pytest.raises(ValueError, match="do not match the runs'"):
        match_filters(np.zeros((4, 3, 3)), np.ones((4, 3, 3)), control=[(np.zeros((2, 3, 3)), np.zeros((2, 3, 3)))])
    with pytest.raises(ValueError, match="finite array"):
        match_filters(np.full((2, 3, 3), np.nan), np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="shuffle must be 'phases' or 'pixels'"):
        match_filters(tiny, tiny, "conv", shuffle="rows")
    with pytest.raises(ValueError, match="unknown layer 'conv9'"):
        match_filters(tiny, tiny, "conv9")
