"""Start noise on a length scale, and the consistency score of patterns."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_widgets.methods.oip import consistency, wavelength_noise


def test_wavelength_sets_the_length_scale():
    rng = np.random.default_rng(0)

    def neighbour_correlation(image):
        return np.corrcoef(image[:, :-1].ravel(), image[:, 1:].ravel())[0, 1]

    pixels = wavelength_noise((28, 28, 1), 1, rng=rng)[..., 0]
    smooth = wavelength_noise((28, 28, 1), 14, rng=rng)[..., 0]
    assert abs(neighbour_correlation(pixels)) < 0.15
    assert neighbour_correlation(smooth) > 0.9
    octaves = wavelength_noise((28, 28, 1), 14, octaves=3, rng=rng)[..., 0]
    assert neighbour_correlation(pixels) < neighbour_correlation(octaves) < 0.99
    assert 0 <= pixels.min() and smooth.max() <= 1


@pytest.mark.parametrize(
    "shape, wavelength, octaves, error, message",
    [
        ((28, 28, 1), 0.0, 1, ValueError, "wavelength must be a finite number > 0"),
        ((28, 28, 1), float("nan"), 1, ValueError, "wavelength must be a finite number > 0"),
        ((28, 28, 1), 3.0, 0, ValueError, "octaves must be a whole number ≥ 1"),
        ((28, 28), 3.0, 1, ValueError, r"shape must be \(height, width, channels\)"),
        ((28, 0, 1), 3.0, 1, ValueError, "each side of shape must be a whole number ≥ 1"),
        ((28, 2.5, 1), 3.0, 1, TypeError, "each side of shape must be a whole number"),
    ],
)
def test_bad_noise_arguments_are_refused(shape, wavelength, octaves, error, message):
    with pytest.raises(error, match=message):
        wavelength_noise(shape, wavelength, octaves=octaves, rng=np.random.default_rng(0))


def test_plain_consistency_is_one_for_identical_inputs_and_lower_for_different_ones():
    rng = np.random.default_rng(0)
    image = rng.random((12, 12, 1))
    assert consistency(np.stack([image] * 4), 0) == pytest.approx(1.0, abs=1e-12)
    assert consistency(np.stack([image, 2 * image + 0.5]), 0) == pytest.approx(1.0, abs=1e-12)
    assert consistency(np.stack([image, 1 - image]), 0) == pytest.approx(-1.0, abs=1e-12)
    unrelated = consistency(rng.random((6, 12, 12, 1)), 0)
    assert abs(unrelated) < 0.2
    assert np.isnan(consistency(np.zeros((3, 4, 4)), 0)) and np.isnan(consistency(np.zeros((3, 4, 4))))
    with pytest.raises(ValueError, match="at least two images; got 1"):
        consistency(image[None])


def test_shifted_copies_are_consistent_within_the_tolerance_unrelated_patterns_are_not():
    rng = np.random.default_rng(1)
    big = rng.random((40, 40))
    copies = np.stack([big[5:33, 5:33], big[8:36, 6:34], big[4:32, 9:37]])  # shifts of up to 4 px
    assert consistency(copies, 0) < 0.1  # plain correlation calls them unrelated
    assert consistency(copies) == pytest.approx(1.0, abs=1e-12)  # the default tolerance: ±4 px
    assert consistency(copies, 2) < 0.5  # 3 and 4 px shifts are beyond ±2
    assert consistency(np.stack([copies[0]] * 3)) == pytest.approx(1.0, abs=1e-12)
    unrelated = consistency(rng.random((6, 28, 28, 1)))
    assert consistency(rng.random((6, 28, 28, 1)), 0) < unrelated < 0.2  # the best of 81 shifts: a little above 0
    # a pair's score does not depend on which of the two is listed first
    assert consistency(copies[[0, 1]]) == pytest.approx(consistency(copies[[1, 0]]))


@pytest.mark.parametrize("images, shift, message", [
    (np.zeros((2, 12, 12)), 12, "max_shift must be a whole number of pixels in 0–11"),
    (np.zeros((2, 12, 12)), -1, "max_shift must be a whole number of pixels in 0–11"),
    (np.zeros((2, 12, 12)), 1.5, "max_shift must be a whole number of pixels in 0–11"),
    (np.zeros((2, 12)), 4, "a shift-tolerant consistency needs images"),
])
def test_bad_shifts_are_refused(images, shift, message):
    with pytest.raises(ValueError, match=message):
        consistency(images, shift)
