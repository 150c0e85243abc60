"""The cell inspector's arithmetic equals the network's own activations, on every layer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import make_tiny_cnn

TOLERANCE = 1e-5


def _close(mine: float, theirs: float) -> bool:
    return abs(mine - theirs) <= TOLERANCE * max(1.0, abs(theirs))


def _cells(shape: tuple[int, ...], rng: np.random.Generator, count: int) -> list[tuple[int, ...]]:
    """Corners, every map (or unit) once, and random cells."""
    if len(shape) == 1:
        return [(u,) for u in range(shape[0])]
    h, w, maps = shape
    cells = [(r, c, m) for r in (0, h - 1) for c in (0, w - 1) for m in (0, maps - 1)]
    cells += [(int(rng.integers(h)), int(rng.integers(w)), m) for m in range(maps)]
    cells += [tuple(int(rng.integers(s)) for s in shape) for _ in range(count)]
    return cells


def _check_every_layer(model, image, rng, count=40):
    from cnn_widgets.methods.cells import explain_cell, supported_layers

    activations = {name: value[0] for name, value in model.activations(image).items()}
    kinds = set()
    for layer in supported_layers(model):
        for cell in _cells(activations[layer].shape, rng, count):
            explanation = explain_cell(model, layer, cell, image=image, activations=activations)
            expected = float(activations[layer][cell])
            assert _close(explanation.value, expected), (layer, cell, explanation.value, expected)
            kinds.add(explanation.kind)
            if explanation.kind in ("conv", "dense"):
                assert math.isclose(explanation.total, float(explanation.products.sum()), abs_tol=1e-9)
                assert math.isclose(explanation.pre_activation, explanation.total + explanation.bias, abs_tol=1e-9)
    return kinds


@pytest.fixture(scope="module")
def mnist():
    from cnn_widgets import CNNModel
    from cnn_widgets.data.mnist import mnist_test_split

    images, labels = mnist_test_split()
    return CNNModel.default(), images, labels


def test_every_layer_of_the_embedded_model_matches_activations(mnist):
    model, images, labels = mnist
    rng = np.random.default_rng(0)
    chosen = [int(np.flatnonzero(labels == 4)[0]), int(np.flatnonzero(labels == 9)[0])]
    for index in chosen:
        kinds = _check_every_layer(model, images[index], rng)
    assert {"conv", "pool", "dense", "reshape"} <= kinds


def test_a_drawing_off_the_data_matches_too(mnist):
    model = mnist[0]
    image = np.zeros((28, 28), np.float32)
    image[4:24, 12:15] = 1.0  # a bar: a "1"
    kinds = _check_every_layer(model, image, np.random.default_rng(1), count=20)
    assert {"conv", "pool", "dense", "reshape"} <= kinds


def test_tiny_rgb_model_every_cell(rng):
    from cnn_widgets import CNNModel

    model = CNNModel(make_tiny_cnn(channels=3, filters=3, classes=3), mean=[0.2, 0.4, 0.6], std=[0.5, 0.3, 0.2])
    image = rng.random((8, 8, 3)).astype(np.float32)
    activations = {k: v[0] for k, v in model.activations(image).items()}
    from cnn_widgets.methods.cells import explain_cell

    for layer, values in activations.items():
        for cell in np.ndindex(values.shape):
            assert _close(explain_cell(model, layer, cell, image=image, activations=activations).value,
                          float(values[cell])), (layer, cell)
    first = explain_cell(model, "conv", (2, 3, 1), image=image)
    assert first.below == "image" and first.patch.shape == (3, 3, 3) and first.kernel.shape == (3, 3, 3)
    standardised = (image - model.mean) / model.std
    np.testing.assert_allclose(first.patch, standardised[2:5, 3:6], rtol=1e-6)


def test_same_padding_strides_dilation_average_pooling_dropout_activation(rng):
    """Borders, strides, dilation, an average pool, a Dropout, an Activation, a softmax head."""
    import keras

    from cnn_widgets import CNNModel
    from cnn_widgets.methods.cells import explain_cell

    layers = keras.layers
    net = keras.Sequential([
        keras.Input((9, 9, 3)),
        layers.Conv2D(4, 3, padding="same", strides=2, activation="tanh", name="c1"),
        layers.Conv2D(3, 3, padding="same", dilation_rate=2, activation="elu", name="c2"),
        layers.AveragePooling2D(2, padding="same", name="avg"),
        layers.Dropout(0.5, name="drop"),
        layers.Conv2D(2, 2, padding="valid", use_bias=False, name="c3"),
        layers.Activation("sigmoid", name="act"),
        layers.MaxPooling2D(2, strides=1, padding="same", name="max"),
        layers.Flatten(name="flat"),
        layers.Dense(4, activation="softmax", name="out"),
    ])
    model = CNNModel(net, mean=0.3, std=0.7)
    image = rng.random((9, 9, 3)).astype(np.float32)
    activations = {k: v[0] for k, v in model.activations(image).items()}
    for layer, values in activations.items():
        for cell in np.ndindex(values.shape):
            value = explain_cell(model, layer, cell, image=image, activations=activations).value
            assert _close(value, float(values[cell])), (layer, cell, value, float(values[cell]))
    corner = explain_cell(model, "c1", (0, 0, 0), image=image, activations=activations)
    assert corner.outside[0].all() and corner.source_of(0, 0) is None
    assert corner.source_of(1, 1) == ("image", (0, 0, 0))  # the patch's centre reads the image's corner pixel


def test_pooling_winner_leads_down_to_the_pixels(mnist):
    from cnn_widgets.methods.cells import explain_cell

    model, images, labels = mnist
    image = images[int(np.flatnonzero(labels == 4)[0])]
    activations = {k: v[0] for k, v in model.activations(image).items()}
    step = explain_cell(model, "pool2", (2, 2, 7), image=image, activations=activations)
    assert step.operation == "max" and step.patch[step.winner] == step.value
    path = ["pool2"]
    while step.below != "image":
        if step.kind == "pool":
            layer, cell = step.source_of(*step.winner)
            assert float(activations[layer][cell]) == step.value  # the winner is that cell
        else:  # conv: follow the largest product
            i, j, c = np.unravel_index(int(np.argmax(step.products)), step.products.shape)
            layer, cell = step.source_of(i, j, c)
            assert np.isclose(activations[layer][cell], step.patch[i, j, c])
        step = explain_cell(model, layer, cell, image=image, activations=activations)
        path.append(layer)
    assert path == ["pool2", "conv2", "pool1", "conv1"]
    layer, (row, col, channel) = step.source_of(1, 1, 0)
    assert layer == "image" and channel == 0
    top, left, bottom, right = step.region
    assert (bottom - top, right - left) == (3, 3) and (top + 1, left + 1) == (row, col)


def test_dense_contributions_are_ranked_and_sum_up(mnist):
    from cnn_widgets.methods.cells import explain_cell

    model, images, _ = mnist
    activations = {k: v[0] for k, v in model.activations(images[0]).items()}
    unit = explain_cell(model, "dense", (11,), activations=activations)
    ranked = unit.contributions()
    assert len(ranked) == 1152 and unit.terms == 1152
    assert math.isclose(sum(c.product for c in ranked), unit.total, rel_tol=1e-9, abs_tol=1e-9)
    magnitudes = [abs(c.product) for c in ranked]
    assert magnitudes == sorted(magnitudes, reverse=True)
    top = unit.contributions(5)
    for item in top:  # each contributor is a conv3 node: its activation is that cell's value
        layer, row, col, channel = item.source
        assert layer == "conv3"
        assert item.activation == pytest.approx(float(activations["conv3"][row, col, channel]))
        assert item.product == pytest.approx(item.weight * item.activation)
    output = explain_cell(model, "output", (7,), activations=activations)
    assert output.activation == "softmax" and output.logits.shape == (10,)
    probabilities = np.exp(output.logits - output.logits.max())
    assert output.value == pytest.approx(probabilities[7] / probabilities.sum())


def test_bad_cells_are_refused_with_what_is_allowed(mnist):
    from cnn_widgets.methods.cells import explain_cell

    model, images, _ = mnist
    image = images[0]
    with pytest.raises(ValueError, match=r"outside layer 'conv1'.*0–25"):
        explain_cell(model, "conv1", (26, 0, 0), image=image)
    with pytest.raises(ValueError, match="outside"):
        explain_cell(model, "conv2", (0, 0, -1), image=image)
    with pytest.raises(TypeError, match="integers; got nan"):
        explain_cell(model, "conv1", (float("nan"), 0, 0), image=image)
    with pytest.raises(ValueError, match=r"\(row, col, map\)"):
        explain_cell(model, "conv1", (1, 2), image=image)
    with pytest.raises(ValueError, match=r"\(unit,\)"):
        explain_cell(model, "dense", (1, 2, 3), image=image)
    with pytest.raises(ValueError, match="unknown layer 'conv9'"):
        explain_cell(model, "conv9", (0, 0, 0), image=image)
    with pytest.raises(ValueError, match="give image="):
        explain_cell(model, "conv1", (0, 0, 0))


def test_unsupported_layer_kinds_say_which_are_explained():
    import keras

    from cnn_widgets import CNNModel
    from cnn_widgets.methods.cells import explain_cell, supported_layers

    net = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
                            keras.layers.BatchNormalization(name="bn"), keras.layers.Flatten(name="f"),
                            keras.layers.Dense(2, name="d")])
    model = CNNModel(net)
    assert "bn" not in supported_layers(model)
    with pytest.raises(ValueError, match="explains .*Conv2D.*'bn' is a BatchNormalization"):
        explain_cell(model, "bn", (0, 0, 0), image=np.zeros((6, 6), np.float32))


def test_random_architectures_match_activations_everywhere():
    """Hypothesis draws conv/pool settings (kernel, stride, padding, dilation, activation, channels)."""
    import keras
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st

    from cnn_widgets import CNNModel
    from cnn_widgets.methods.cells import explain_cell

    conv = st.fixed_dictionaries({
        "kernel": st.integers(1, 3), "stride": st.integers(1, 2), "padding": st.sampled_from(["valid", "same"]),
        "dilation": st.integers(1, 2), "filters": st.integers(1, 3),
        "activation": st.sampled_from(["relu", "tanh", "sigmoid", "elu", "linear", "softplus", "selu"])})
    pool = st.fixed_dictionaries({"kind": st.sampled_from(["max", "average"]), "size": st.integers(2, 3),
                                  "stride": st.integers(1, 3), "padding": st.sampled_from(["valid", "same"])})

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(first=conv, second=conv, pooling=pool, channels=st.integers(1, 3), seed=st.integers(0, 1000))
    def check(first, second, pooling, channels, seed):
        layers = [keras.Input((10, 10, channels))]
        for n, c in enumerate((first, second)):
            stride = 1 if c["dilation"] > 1 else c["stride"]  # Keras: dilation with stride 1
            layers.append(keras.layers.Conv2D(c["filters"], c["kernel"], strides=stride, padding=c["padding"],
                                              dilation_rate=c["dilation"], activation=c["activation"],
                                              name=f"c{n}"))
            if n == 0:
                kind = keras.layers.MaxPooling2D if pooling["kind"] == "max" else keras.layers.AveragePooling2D
                layers.append(kind(pooling["size"], strides=pooling["stride"], padding=pooling["padding"], name="p"))
        layers += [keras.layers.Flatten(name="f"), keras.layers.Dense(3, activation="softmax", name="d")]
        try:
            net = keras.Sequential(layers)
        except ValueError:  # the maps shrank to nothing
            assume(False)
        rng = np.random.default_rng(seed)
        net.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in net.get_weights()])
        model = CNNModel(net, mean=0.4, std=0.3, jit_compile=False)
        image = rng.random((10, 10, channels)).astype(np.float32)
        activations = {k: v[0] for k, v in model.activations(image).items()}
        for layer, values in activations.items():
            for cell in np.ndindex(values.shape):
                value = explain_cell(model, layer, cell, image=image, activations=activations).value
                assert _close(value, float(values[cell])), (layer, cell, value, float(values[cell]))

    check()
