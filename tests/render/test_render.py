"""render: bad display settings are refused with the setting's name and what is allowed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnn_widgets.render import mosaic


@pytest.mark.parametrize("value_range", [(1.0, 0.0), (math.nan, 1.0), (0.0, math.inf), (True, 1.0), ("0", 1)])
def test_a_fixed_value_range_must_be_two_finite_numbers_in_order(value_range):
    maps = np.random.default_rng(0).random((5, 5, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="value_range must be two finite numbers"):
        mosaic(maps, value_range=value_range)
    assert mosaic(maps, value_range=(0.0, 1.0)).count == 4  # a good range still works


def test_a_huge_gap_is_refused_and_extra_columns_leave_no_empty_space():
    maps = np.random.default_rng(0).random((5, 5, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="gap must be 0–64 pixels"):
        mosaic(maps, gap=10 ** 6)
    tiles = mosaic(maps, columns=10 ** 6, gap=1)
    assert tiles.columns == 4 and tiles.indices.shape == (5, 4 * 6 - 1)


@pytest.mark.parametrize("contrast", [20.5, 1e308, -0.1, math.nan])
def test_a_contrast_beyond_what_shows_anything_is_refused(contrast):
    from cnn_widgets.render import stretch

    image = np.linspace(0, 1, 64).reshape(8, 8)
    with pytest.raises(ValueError, match=r"contrast \(display only; 0 = plain\) must be a finite number in 0–20"):
        stretch(image, contrast)
    assert 0 < float(stretch(image, 20).mean()) < 1  # the strongest allowed still shows a picture


def test_finite_values_too_large_for_float32_are_named_as_such():
    from cnn_widgets.render import stretch

    with pytest.raises(ValueError, match=r"image must lie within ±3.4e\+38 \(float32\); got 1e\+39"):
        stretch(np.full((4, 4), 1e39))
    with pytest.raises(ValueError, match="must be finite numbers; got NaN"):
        stretch(np.full((4, 4), np.nan))
