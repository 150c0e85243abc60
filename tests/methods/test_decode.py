"""Filter decoding with substitution on hand-made nets with known filters (the paper's
"simpler case"), and the paper's error check on the embedded model."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.methods.decode import (decode_filters, decoded_top_images, place, raw_kernels, response_error, responses,
                                top_images)


def substitute(stack: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """By hand: every value of ``stack`` (h, w, out) replaced by the filter it weights,
    ``kernel`` (kh, kw, in, out); overlaps summed. Result (h+kh-1, w+kw-1, in)."""
    h, w, _ = stack.shape
    kh, kw, cin, _ = kernel.shape
    out = np.zeros((h + kh - 1, w + kw - 1, cin))
    for i in range(h):
        for j in range(w):
            out[i:i + kh, j:j + kw] += np.tensordot(kernel, stack[i, j], axes=([3], [0]))
    return out


def hand_net(pool: bool, activation=None):
    """conv A (3×3, 1→2) [→ maxpool 2] → conv B (3×3, 2→3): filters we choose."""
    rng = np.random.default_rng(0)
    size = 12 if pool else 8
    inputs = keras.Input((size, size, 1))
    first = keras.layers.Conv2D(2, 3, activation=activation, name="a")
    second = keras.layers.Conv2D(3, 3, activation=activation, name="b")
    x = first(inputs)
    if pool:
        x = keras.layers.MaxPooling2D(2, name="p")(x)
    x = second(x)
    net = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    a = rng.normal(size=(3, 3, 1, 2)).astype(np.float32)
    b = rng.normal(size=(3, 3, 2, 3)).astype(np.float32)
    first.set_weights([a, np.full(2, 0.3, np.float32)])  # biases play no part in decoding
    second.set_weights([b, np.full(3, -0.2, np.float32)])
    return CNNModel(net), a, b


def test_first_layer_decodes_to_its_own_filters():
    model, a, _ = hand_net(pool=False)
    decoded = decode_filters(model, "a")
    np.testing.assert_allclose(decoded.filters, np.transpose(a, (3, 0, 1, 2)), atol=1e-6)


def test_two_convolutions_compose_by_substitution():
    model, a, b = hand_net(pool=False)
    decoded = decode_filters(model, "b")
    assert decoded.filters.shape == (3, 5, 5, 1)
    for k in range(3):
        by_hand = substitute(b[..., k], a)  # (5, 5, 1)
        np.testing.assert_allclose(decoded.filters[k], by_hand, atol=1e-5)


def test_pooling_unpools_before_substituting():
    model, a, b = hand_net(pool=True)
    decoded = decode_filters(model, "b", unpool="nearest")
    assert decoded.filters.shape == (3, 8, 8, 1)  # 3 → unpool 6 → substitute 8 = receptive field
    assert model.layer("b").receptive_field == (8, 8)
    for k in range(3):
        unpooled = np.kron(b[..., k], np.ones((2, 2, 1)))  # (6, 6, 2)
        np.testing.assert_allclose(decoded.filters[k], substitute(unpooled, a), atol=1e-5)
    pool = decode_filters(model, "p")
    np.testing.assert_allclose(pool.filters[1], substitute(np.kron(np.eye(2)[1][None, None], np.ones((2, 2, 1))), a),
                               atol=1e-6)


def test_unpooling_modes_differ_and_bad_modes_are_refused():
    model, _, _ = hand_net(pool=True)
    near, linear = decode_filters(model, "b", "nearest"), decode_filters(model, "b", "bilinear")
    assert near.filters.shape == linear.filters.shape and not np.allclose(near.filters, linear.filters)
    with pytest.raises(ValueError, match="unknown unpooling mode 'area'; choose one of nearest, bilinear, bicubic"):
        decode_filters(model, "b", "area")


def test_a_network_fed_its_own_decoded_filter_responds_most_on_that_filter():
    """Linear net, input as large as the receptive field: map k's response to a unit
    image is largest for the image of its own decoded filter (the matched filter)."""
    model, _, _ = hand_net(pool=False)
    decoded = decode_filters(model, "b")
    scaled = decoded.filters / np.linalg.norm(decoded.filters.reshape(3, -1), axis=1)[:, None, None, None]
    inputs = keras.Input((5, 5, 1))
    x = model.keras_model.get_layer("b")(model.keras_model.get_layer("a")(inputs))
    small = CNNModel(keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x))))
    # feed through the network's own convolutions (no standardisation; bias is a constant)
    responses = np.stack([small.keras_model.get_layer("b")(small.keras_model.get_layer("a")(s[None])).numpy()[0, 0, 0]
                          for s in scaled])  # (image k, map)
    assert list(np.argmax(responses, axis=0)) == [0, 1, 2]


def test_place_puts_a_filter_on_the_receptive_field_of_a_cell():
    model = CNNModel.default()
    decoded = decode_filters(model, "conv3", maps=[9, 5])
    assert decoded.maps.tolist() == [9, 5] and decoded.filters.shape == (2, 18, 18, 1)
    placed = place(model, decoded, 5, 2, 2)  # by map index, not by position
    np.testing.assert_array_equal(decoded.filter(5), decode_filters(model, "conv3").filters[5])
    top, left, bottom, right = model.layer("conv3").input_region(2, 2)
    assert (top, left, bottom, right) == (8, 8, 26, 26)
    np.testing.assert_allclose(placed[8:26, 8:26], decoded.filters[1])
    assert not placed[:8].any() and not placed[26:].any()
    with pytest.raises(ValueError, match="map 0 was not decoded; these filters are of maps 9, 5"):
        place(model, decoded, 0)
    with pytest.raises(ValueError, match=r"cell \(3, 0\) is outside the 3×3 maps"):
        place(model, decoded, 5, 3, 0)


def test_a_decoded_subset_keeps_its_map_indices_in_the_error_check():
    model, _, _ = hand_net(pool=True)
    images = np.random.default_rng(2).random((20, 12, 12)).astype(np.float32)
    subset = decode_filters(model, "b", maps=[2, 0])
    both = response_error(model, "b", images, decoded=subset)
    one = [response_error(model, "b", images, decoded=decode_filters(model, "b", maps=[m])).mean for m in (2, 0)]
    assert both.mean == pytest.approx(np.mean(one), rel=1e-6)
    full = response_error(model, "b", images)
    assert both.mean != pytest.approx(full.mean, rel=1e-3)
    with pytest.raises(ValueError, match="filters are of layer 'b', not 'a'"):
        response_error(model, "a", images, decoded=subset)


def test_responses_two_ways_for_one_image_fig_3():
    model = CNNModel.default()
    from cnn_widgets.data.mnist import mnist_test_split

    digit = mnist_test_split()[0][:1]
    first = responses(model, "conv1", digit[0])
    assert first.network.shape == first.decoded.shape == (26, 26, 32)
    assert first.error < 1e-6  # the first layer's decoded filters are its filters
    deep = responses(model, "conv3", digit)
    assert deep.network.shape == (3, 3, 128) and 0 <= deep.network.min() and deep.network.max() <= 1
    assert deep.error == pytest.approx(response_error(model, "conv3", digit).mean, rel=1e-5)
    some = responses(model, "conv2", digit, decoded=decode_filters(model, "conv2", maps=[7, 3]))
    assert some.maps.tolist() == [7, 3] and some.network.shape == (11, 11, 2)
    with pytest.raises(ValueError, match="takes one image"):
        responses(model, "conv2", mnist_test_split()[0][:2])


def test_decoded_top_images_are_those_the_filter_matches_best_fig_4d():
    from scipy.signal import correlate2d

    model, a, _ = hand_net(pool=False)
    images = np.random.default_rng(5).random((30, 8, 8)).astype(np.float32)
    decoded = decode_filters(model, "a", maps=[1])
    best = decoded_top_images(model, decoded, 1, images, k=30, batch_size=7)
    unit = (images - images.min(axis=(1, 2), keepdims=True)) / np.ptp(images, axis=(1, 2), keepdims=True)
    peaks = [correlate2d(image, a[:, :, 0, 1], "valid").max() for image in unit]
    np.testing.assert_array_equal(best, np.argsort(-np.asarray(peaks), kind="stable"))
    with pytest.raises(ValueError, match="map 0 was not decoded"):
        decoded_top_images(model, decoded, 0, images)


def test_raw_kernels_one_input_channel_at_a_time_fig_4b():
    model, _, b = hand_net(pool=True)
    np.testing.assert_array_equal(raw_kernels(model, "b", 1), b[:, :, 1, :])
    with pytest.raises(ValueError, match=r"channel must be a whole number 0–1 \(the inputs of 'b'\); got 2"):
        raw_kernels(model, "b", 2)
    with pytest.raises(ValueError, match="channel must be a whole number"):
        raw_kernels(model, "b", 0.0)
    with pytest.raises(ValueError, match="'p' .* has no kernels to show; choose a Conv2D layer: a, b"):
        raw_kernels(model, "p")


def test_bad_layers_are_clear_errors():
    model = CNNModel.default()
    with pytest.raises(ValueError, match="'dense' .* has no maps to decode"):
        decode_filters(model, "dense")
    with pytest.raises(ValueError, match="unknown layer 'conv9'"):
        decode_filters(model, "conv9")
    with pytest.raises(ValueError, match="map 200 is out of range"):
        top_images(model, "conv3", 200, np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match="map 2.0 is out of range"):
        top_images(model, "conv3", 2.0, np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match="maps must be map indices"):
        decode_filters(model, "conv3", maps=[1.0])
    with pytest.raises(ValueError, match="k must be a whole number ≥ 1"):
        top_images(model, "conv3", 2, np.zeros((2, 28, 28), np.float32), k=0)


def test_error_rises_with_depth_on_the_embedded_model():
    from cnn_widgets.data.mnist import mnist_test_split

    model = CNNModel.default()
    x = mnist_test_split()[0]
    errors = {layer: response_error(model, layer, x[:300]).mean for layer in ("conv1", "conv2", "conv3")}
    assert errors["conv1"] < 1e-6  # the first layer's decoded filters are its filters
    assert errors["conv1"] < errors["conv2"] < errors["conv3"] < 0.2


def test_top_images_are_those_with_the_strongest_cell():
    model = CNNModel.default()
    rng = np.random.default_rng(0)
    images = rng.random((20, 28, 28)).astype(np.float32) * 0.2
    images[7, 5:20, 12:15] = 1.0  # one bright bar
    best = top_images(model, "conv1", 3, images, k=20)
    peaks = model.activations(images, "conv1")["conv1"][..., 3].reshape(20, -1).max(axis=1)
    np.testing.assert_array_equal(best, np.argsort(-peaks, kind="stable"))


def test_cells_and_images_of_the_wrong_kind_are_clear_errors():
    model = CNNModel.default()
    decoded = decode_filters(model, "conv2", maps=[1, 3])
    with pytest.raises(ValueError, match=r"row and col must be whole numbers \(rows 0–10, cols 0–10\); got \(1.5, 0\)"):
        place(model, decoded, 1, row=1.5)
    with pytest.raises(ValueError, match=r"cell \(99, 0\) is outside the 11×11 maps"):
        place(model, decoded, 1, row=99)
    for find in (lambda: top_images(model, "conv2", 0, None), lambda: decoded_top_images(model, decoded, 1, None)):
        with pytest.raises(TypeError, match=r"images must be an array of images"):
            find()
    assert place(model, decoded, 1, row=2, col=3).shape == (28, 28, 1)  # good calls still work


def test_a_threshold_outside_0_to_1_is_refused():
    decoded = decode_filters(CNNModel.default(), "conv1")
    for fraction in (float("nan"), 2.0, -0.1, True):
        with pytest.raises(ValueError, match=r"fraction must be a number in \[0, 1\]"):
            decoded.thresholded(fraction)
    assert set(np.unique(decoded.thresholded(0.3))) <= {-1.0, 0.0, 1.0}
