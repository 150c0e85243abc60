"""to_mnist: crop, fit 20 px, centre of mass at (14, 14) — and drawn digits through the model."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets import CNNModel
from cnn_widgets.drawing.ink import Ink
from cnn_widgets.drawing.preprocess import to_mnist

from ..digits import drawings


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    return float((image * ys).sum() / image.sum()), float((image * xs).sum() / image.sum())


def ink_box(image: np.ndarray, level: float = 0.5) -> tuple[int, int]:
    rows = np.flatnonzero((image > level).any(axis=1))
    cols = np.flatnonzero((image > level).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_off_centre_square_comes_out_centred_at_20_px():
    canvas = np.zeros((300, 300), np.uint8)
    canvas[10:70, 200:260] = 255  # 60×60 square in the top right corner
    image = to_mnist(canvas)
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert ink_box(image) == (20, 20)
    np.testing.assert_allclose(centre_of_mass(image), (14.0, 14.0), atol=0.5)
    assert image.max() == pytest.approx(1.0) and image.min() >= 0.0


def test_aspect_ratio_is_kept():
    canvas = np.zeros((200, 400), np.float32)
    canvas[50:150, 20:70] = 3.0  # 100 tall, 50 wide, any intensity scale
    height, width = ink_box(to_mnist(canvas))
    assert height == 20 and width == 10


def test_wide_ink_fits_its_width():
    canvas = np.zeros((100, 100), np.float32)
    canvas[40:45, 5:95] = 1.0
    height, width = ink_box(to_mnist(canvas), level=0.3)
    assert width == 20 and height <= 2


def test_small_drawing_in_a_corner_comes_out_like_the_large_one():
    label, strokes, brush = next(iter(drawings(1, seed=5)))
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    size = max(max(xs) - min(xs), max(ys) - min(ys))
    images = []
    # 200 px in the middle of a 280 px pad; 50 px in the bottom-right corner of an 800 px one.
    for canvas, scale, corner in ((280, 200 / size, 40.0), (800, 50 / size, 730.0)):
        ink = Ink(canvas, canvas)
        for stroke in strokes:
            points = [((x - min(xs)) * scale + corner, (y - min(ys)) * scale + corner) for x, y in stroke]
            ink.begin(*points[0], width=brush * scale)
            for point in points[1:]:
                ink.extend(*point)
        images.append(to_mnist(ink.raster))
    large, small = images
    assert np.corrcoef(large.ravel(), small.ravel())[0, 1] > 0.95
    np.testing.assert_allclose(centre_of_mass(small), (14.0, 14.0), atol=0.5)
    predicted = CNNModel.default().predict(np.stack(images)).argmax(axis=1)
    assert list(predicted) == [label, label]


def test_empty_ink_gives_zeros():
    assert not to_mnist(np.zeros((50, 80))).any()


@pytest.mark.parametrize(
    "ink, error, message",
    [
        (np.zeros((4, 4, 3)), ValueError, "2-D"),
        (np.zeros(5), ValueError, "2-D"),
        (np.zeros((0, 5)), ValueError, "empty"),
        (np.array([[0.0, np.nan]]), ValueError, "NaN"),
        (np.array([[0.0, np.inf]]), ValueError, "NaN or infinite"),
        (np.array([[0.0, -1.0]]), ValueError, "≥ 0"),
        (np.array([["a", "b"]]), TypeError, "numeric"),
        (np.zeros((5, 5), complex), TypeError, "real numeric"),
        (np.full((5, 5), 1e39), ValueError, "too large"),
        (np.array([[0.0, -1e39]]), ValueError, "too large"),
    ],
)
def test_bad_ink_gets_clear_errors(ink, error, message):
    with pytest.raises(error, match=message):
        to_mnist(ink)


def test_drawn_digits_are_recognised():
    """Our own test set: 300 digits drawn as strokes, various sizes, places, brushes."""
    images, labels = [], []
    for label, strokes, brush in drawings(30, seed=11):
        ink = Ink(280, 280)
        for stroke in strokes:
            ink.begin(*stroke[0], width=brush)
            for point in stroke[1:]:
                ink.extend(*point)
        images.append(to_mnist(ink.raster))
        labels.append(label)
    accuracy = CNNModel.default().evaluate(np.array(images), labels)
    assert accuracy >= 0.95
