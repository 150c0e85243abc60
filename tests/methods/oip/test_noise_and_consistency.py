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


def test_consistency_is_one_for_identical_inputs_and_lower_for_different_ones():
    rng = np.random.default_rng(0)
    image = rng.random((12, 12, 1))
    assert consistency(np.stack([image] * 4)) == pytest.approx(1.0, abs=1e-12)
    assert consistency(np.stack([image, 2 * image + 0.5])) == pytest.approx(1.0, abs=1e-12)
    assert consistency(np.stack([image, 1 - image])) == pytest.approx(-1.0, abs=1e-12)
    unrelated = consistency(rng.random((6, 12, 12, 1)))
    assert abs(unrelated) < 0.2
    assert np.isnan(consistency(np.zeros((3, 4, 4))))
    with pytest.raises(ValueError, match="at least two images; got 1"):
        consistency(image[None])
