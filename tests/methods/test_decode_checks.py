"""Decoding's checks beside their chance levels: Table 1 with another map's filter, Fig. 4d
against random image sets and another map's top images."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.data.mnist import mnist_test_split
from cnn_widgets.methods.decode import (DecodedFilters, decode_filters, decoded_top_images, response_error,
                                        top_images)
from cnn_widgets.methods.decode_checks import (WHY_LARGER, chance_error, decoding_table, other_maps,
                                               top_image_overlap)


@pytest.fixture(scope="module")
def model() -> CNNModel:
    return CNNModel.default()


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return mnist_test_split()[0][:600]


def test_other_maps_gives_every_map_another_one():
    for count in (2, 3, 64, 128):
        partner = other_maps(count, seed=4)
        assert sorted(partner.tolist()) == list(range(count))  # a permutation
        assert not np.any(partner == np.arange(count))  # nobody keeps its own map
        np.testing.assert_array_equal(partner, other_maps(count, seed=4))  # seeded
    assert other_maps(1).tolist() == [0]


def test_the_chance_error_is_the_error_with_another_maps_filter(model, digits):
    decoded = decode_filters(model, "conv2")
    partner = other_maps(64, seed=2)
    swapped = DecodedFilters("conv2", decoded.filters[partner], "nearest", decoded.maps)
    expected = response_error(model, "conv2", digits, decoded=swapped)
    found = chance_error(model, "conv2", digits, decoded=decoded, seed=2)
    assert found.mean == pytest.approx(expected.mean) and found.std == pytest.approx(expected.std)


def test_table_one_has_a_chance_column_and_every_error_is_below_it(model, digits):
    table = decoding_table(model, digits, layers=["conv2", "conv3"], unpools=("nearest", "bilinear"))
    assert [(r.layer, r.unpool) for r in table.rows] == [("conv2", "nearest"), ("conv2", "bilinear"),
                                                         ("conv3", "nearest"), ("conv3", "bilinear")]
    assert table.images == 600 and table.note == WHY_LARGER and "ReLU" in table.note
    own = response_error(model, "conv3", digits)
    row = table.row("conv3")
    assert row.error == pytest.approx(own.mean) and row.error_std == pytest.approx(own.std)
    for r in table.rows:
        assert r.chance > 1.5 * r.error  # a decoded filter explains its own map, not any map
        assert r.ratio == pytest.approx(r.chance / r.error)
    lines = table.lines()
    assert "chance" in lines[0] and "chance / error" in lines[1] and lines[-1] == WHY_LARGER
    assert lines[2].startswith("conv2  nearest") and f"{table.rows[0].chance:.4f}" in lines[2]
    with pytest.raises(ValueError, match="no row 'conv1'/'nearest'"):
        table.row("conv1")
    first = decoding_table(model, digits[:100], layers=["conv1"]).row("conv1")
    assert first.error < 1e-9 and first.chance > 0.01  # a first conv layer's decoded filters are its kernels
    assert first.ratio == float("inf") and "exact" in decoding_table(model, digits[:100], layers=["conv1"]).lines()[2]


def test_fig_4d_stands_beside_random_sets_and_other_maps(model):
    images = mnist_test_split()[0][:2000]
    overlap = top_image_overlap(model, "conv3", images, k=8)
    assert overlap.network.shape == overlap.decoded.shape == (128, 8)
    np.testing.assert_array_equal(overlap.network[5], top_images(model, "conv3", 5, images, k=8))
    decoded = decode_filters(model, "conv3")
    np.testing.assert_array_equal(np.sort(overlap.decoded[7]),
                                  np.sort(decoded_top_images(model, decoded, 7, images, k=8)))
    assert overlap.shared[7] == len(set(overlap.network[7]) & set(overlap.decoded[7]))
    assert overlap.random_expected == pytest.approx(8 / 2000)
    assert overlap.overlap == pytest.approx(overlap.shared.mean() / 8)
    assert overlap.overlap > overlap.random_expected  # the decoded filters find some of the network's images
    summary = overlap.summary()
    assert "random sets 0.0040 expected" in summary and "another map's decoded top 8" in summary


def test_bad_input_names_what_is_allowed(model, digits):
    with pytest.raises(ValueError, match="unknown unpooling mode 'cubic'"):
        decoding_table(model, digits, layers=["conv2"], unpools=("cubic",))
    with pytest.raises(ValueError, match="k must be a whole number in 1–600"):
        top_image_overlap(model, "conv3", digits, k=0)
    with pytest.raises(ValueError, match="has no maps to decode"):
        decoding_table(model, digits, layers=["dense"])
