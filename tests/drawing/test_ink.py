"""Ink: round-brush strokes rasterised from pointer coordinates; undo, clear, load."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets.drawing.ink import Ink, draw_segment


def test_segment_covers_a_round_brush_band():
    raster = np.zeros((40, 40), np.float32)
    draw_segment(raster, (10, 20.25), (30, 20.25), width=6)  # radius 3 around y = 20.25
    assert raster[20, 20] == 1.0 and raster[18, 20] == 1.0  # pixel centres 0.25 and 1.75 away
    assert raster[17, 20] == pytest.approx(0.75)  # 2.75 away: anti-aliased edge
    assert raster[12, 20] == 0.0 and raster[26, 20] == 0.0
    assert raster[20, 8] == 1.0 and raster[20, 4] == 0.0  # the round cap reaches 3 px past the end


def test_strokes_undo_and_clear():
    ink = Ink(50, 50)
    ink.begin(5, 5, width=4)
    ink.extend(45, 5)
    first = ink.raster.copy()
    ink.begin(5, 40, width=4)
    ink.extend(45, 40)
    assert ink.raster.sum() > first.sum()
    assert ink.undo()
    np.testing.assert_array_equal(ink.raster, first)
    ink.clear()
    assert ink.empty and not ink.raster.any()
    assert not ink.undo()


def test_extend_without_a_stroke_does_nothing():
    ink = Ink(10, 10)
    assert ink.extend(3, 3) is None and not ink.raster.any()


def test_loaded_picture_stays_under_strokes_until_cleared():
    ink = Ink(20, 20)
    picture = np.zeros((20, 20), np.float32)
    picture[5:10, 5:10] = 0.5
    ink.load(picture)
    ink.begin(15, 15, width=2)
    ink.undo()
    np.testing.assert_array_equal(ink.raster, picture)
    ink.clear()
    assert ink.empty
    with pytest.raises(ValueError, match="differs"):
        ink.load(np.zeros((5, 5)))


def test_brush_width_must_be_positive():
    with pytest.raises(ValueError, match="brush width"):
        Ink(10, 10).begin(1, 1, width=0)


def test_any_number_type_draws_the_same_ink():
    """Points from JSON (ints, floats) and from numpy (float64, float32) rasterise identically."""
    inks = []
    for kind in (int, float, np.float64, np.float32):
        ink = Ink(60, 60)
        ink.begin(kind(10), kind(12), width=kind(7))
        ink.extend(kind(50), kind(41))
        inks.append(ink.raster)
    for raster in inks[1:]:
        np.testing.assert_array_equal(raster, inks[0])


def test_a_batch_of_points_draws_exactly_what_point_by_point_draws():
    """extend_many (a frame's points at once) and extend (one by one) give the same ink, bit for bit."""
    rng = np.random.default_rng(3)
    for trial in range(12):
        width = float(rng.uniform(1, 64))
        step = rng.uniform(0, 60)  # up to long jumps, drawn one by one inside extend_many
        points = np.cumsum(rng.normal(0, step, (int(rng.integers(1, 120)), 2)), axis=0) + 140
        points = [(float(x), float(y)) for x, y in points]
        if trial % 4 == 0:
            points = [points[0]] * 3 + points  # repeated points: zero-length segments
        one, batch = Ink(280, 280), Ink(280, 280)
        for ink in (one, batch):
            ink.begin(100.5, 120.25, width)
        for point in points:
            one.extend(*point)
        batch.extend_many(points)
        np.testing.assert_array_equal(batch.raster, one.raster)
        assert batch.strokes == one.strokes


@pytest.mark.parametrize("x, y, error", [
    (float("nan"), 5.0, ValueError), (5.0, float("-inf"), ValueError), (0.0, 7.5e36, ValueError),
    (10**12, 3, ValueError), (None, 3.0, TypeError), ("4", 3.0, TypeError), (True, 3.0, TypeError),
])
def test_a_point_that_names_no_pixel_is_refused_and_nothing_is_kept(x, y, error):
    ink = Ink(56, 56)
    ink.begin(10, 10, 6)
    before, version = ink.raster.copy(), ink.version
    with pytest.raises(error, match="must be"):
        ink.extend(x, y)
    with pytest.raises(error, match="must be"):
        ink.extend_many([(20, 20), (x, y)])  # all or nothing
    with pytest.raises(error, match="must be"):
        ink.begin(x, y, 6)
    np.testing.assert_array_equal(ink.raster, before)
    assert ink.strokes == [(6.0, [(10.0, 10.0)])] and ink.version == version


@pytest.mark.parametrize("width", [float("nan"), float("inf"), -3, 0, 1e9, None])
def test_a_brush_width_that_is_no_size_is_refused(width):
    ink = Ink(20, 20)
    with pytest.raises((ValueError, TypeError), match="brush width"):
        ink.begin(5, 5, width)
    assert ink.empty


@pytest.mark.parametrize("height, width, error", [
    (-1, 5, ValueError), (0, 5, ValueError), (10**6, 10**6, ValueError), (5, 4097, ValueError),
    (2.5, 5, TypeError), ("5", 5, TypeError), (5, True, TypeError), (5, None, TypeError),
])
def test_raster_sides_must_be_whole_pixels_in_range(height, width, error):
    with pytest.raises(error, match="height and width must be whole numbers of pixels, 1–4096"):
        Ink(height, width)


def test_sides_at_the_limits_are_accepted():
    assert Ink(1, 4096).raster.shape == (1, 4096)
    assert Ink(np.int64(3), 2).raster.shape == (3, 2)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_loading_a_non_finite_picture_is_refused_and_changes_nothing(bad):
    ink = Ink(10, 10)
    ink.begin(3, 3, width=4)
    raster, strokes, version = ink.raster.copy(), list(ink.strokes), ink.version
    picture = np.zeros((10, 10))
    picture[2, 2] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        ink.load(picture)
    np.testing.assert_array_equal(ink.raster, raster)
    assert ink.strokes == strokes and ink.version == version and not ink.base.any()


def test_loading_a_complex_picture_is_refused():
    with pytest.raises(TypeError, match="real numeric"):
        Ink(2, 2).load(np.zeros((2, 2), complex))
