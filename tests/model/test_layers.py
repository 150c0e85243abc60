"""The layer table: shapes, parameters and receptive-field arithmetic (seed: cnn-basics)."""

from __future__ import annotations

import keras
import pytest

from cnn_widgets import CNNModel, mnist_cnn
from cnn_widgets.model.layers import format_table


def test_seed_network_arithmetic():
    table = {row.name: row for row in mnist_cnn().layers_table()}
    # cnn-basics: conv2 has (64 × 32 × 9) + 64 = 18,496 weights; 3×3 → 4×4 → 8×8 → 10×10 → 18×18.
    assert table["conv1"].params == 32 * 9 + 32
    assert table["conv2"].params == 18_496
    assert table["conv3"].params == 128 * 64 * 9 + 128
    expected = {"conv1": 3, "pool1": 4, "conv2": 8, "pool2": 10, "conv3": 18}
    assert {n: table[n].receptive_field for n in expected} == {n: (v, v) for n, v in expected.items()}
    assert [table[n].jump for n in expected] == [(1, 1), (2, 2), (2, 2), (4, 4), (4, 4)]
    assert table["dense"].receptive_field == (28, 28)
    assert table["conv3"].is_conv and not table["pool2"].is_conv and not table["dense"].is_spatial


def test_input_region_of_cells():
    table = {row.name: row for row in mnist_cnn().layers_table()}
    assert table["conv1"].input_region(0, 0) == (0, 0, 3, 3)
    assert table["conv1"].input_region(25, 25) == (25, 25, 28, 28)
    assert table["pool1"].input_region(1, 2) == (2, 4, 6, 8)
    assert table["conv3"].input_region(0, 0) == (0, 0, 18, 18)
    # The last cell of conv3 ends at pixel 25: "some border info lost" (cnn-basics).
    assert table["conv3"].input_region(2, 2) == (8, 8, 26, 26)
    with pytest.raises(ValueError, match="outside the 3×3 maps"):
        table["conv3"].input_region(3, 0)
    with pytest.raises(ValueError, match="no map cells"):
        table["dense"].input_region(0, 0)


def test_same_padding_strides_and_dilation():
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", name="same")(inputs)
    x = keras.layers.Conv2D(2, 3, dilation_rate=2, name="dilated")(x)
    x = keras.layers.Conv2D(2, 3, strides=2, name="strided")(x)
    x = keras.layers.BatchNormalization(name="norm")(x)
    net = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    table = {row.name: row for row in CNNModel(net).layers_table()}
    assert table["same"].receptive_field == (3, 3) and table["same"].start == (0.0, 0.0)
    assert table["same"].input_region(0, 0) == (0, 0, 2, 2)  # padding hangs over the edge
    assert table["dilated"].receptive_field == (7, 7) and table["dilated"].start == (2.0, 2.0)
    assert table["strided"].receptive_field == (9, 9) and table["strided"].jump == (2, 2)
    assert table["norm"].receptive_field == table["strided"].receptive_field


def test_branches_take_the_widest_field():
    inputs = keras.Input((12, 12, 1))
    a = keras.layers.Conv2D(2, 3, padding="same", name="a")(inputs)
    b = keras.layers.Conv2D(2, 5, padding="same", name="b")(inputs)
    merged = keras.layers.Add(name="merged")([a, b])
    net = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(merged)))
    table = {row.name: row for row in CNNModel(net).layers_table()}
    assert table["merged"].receptive_field == (5, 5)


def test_unknown_spatial_geometry_is_marked_unknown():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    x = keras.layers.UpSampling2D(2, name="up")(x)
    net = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    table = {row.name: row for row in CNNModel(net).layers_table()}
    assert table["up"].receptive_field is None
    with pytest.raises(ValueError, match="no map cells"):
        table["up"].input_region(0, 0)


def test_format_table_lists_every_layer_and_total():
    text = format_table(mnist_cnn().layers_table())
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["layer", "kind", "output"]
    assert any(line.split()[:4] == ["conv2", "Conv2D", "11×11×64", "18,496"] for line in lines)
    assert lines[-1].split() == ["total", "174,092"]
