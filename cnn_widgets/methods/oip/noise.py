"""Start images of an OIP run: random noise with fluctuations on a chosen length scale.

The noise of an item is drawn from ``(seed, map, attempt)`` alone, so a map's start
(and so its pattern) does not depend on which other items run beside it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...checks import finite_number, whole_number

__all__ = ["start_image", "wavelength_noise"]


def wavelength_noise(shape: tuple[int, int, int], wavelength: float, *, octaves: int = 1,
                     rng: np.random.Generator) -> np.ndarray:
    """Random pixels in [0, 1] whose fluctuations have a length scale of ``wavelength`` px.

    Uniform random values on a coarse grid (one cell per ``wavelength`` pixels)
    are upsampled smoothly (bicubic) to ``shape``; with ``octaves > 1`` the
    wavelengths λ, λ/2, λ/4, … are added with weights 1, 1/2, 1/4, …. A
    wavelength of 1 gives independent pixels.

    Raises:
        TypeError, ValueError: ``shape`` not three whole numbers ≥ 1, ``wavelength`` not a
            number > 0, ``octaves`` not a whole number ≥ 1.
    """
    from PIL import Image

    if isinstance(shape, (str, bytes)) or len(shape) != 3:
        raise ValueError(f"shape must be (height, width, channels); got {shape!r:.60}")
    height, width, channels = (whole_number(side, "each side of shape", 1) for side in shape)
    wavelength = finite_number(wavelength, "wavelength", 0.0, above=True)
    octaves = whole_number(octaves, "octaves", 1)
    total = np.zeros((height, width, channels), np.float32)
    weights = 0.0
    for octave in range(octaves):
        length = max(1.0, wavelength / 2 ** octave)
        weight = 0.5 ** octave
        cells = (max(1, math.ceil(height / length)) + 1, max(1, math.ceil(width / length)) + 1)
        layer = np.empty((height, width, channels), np.float32)
        for channel in range(channels):
            coarse = rng.random(cells).astype(np.float32)
            if length <= 1.0:
                layer[..., channel] = coarse[:height, :width]
            else:
                # the coarse grid spans one extra cell: crop a random window of the upsampled field
                big = Image.fromarray(coarse, mode="F").resize(
                    (round(cells[1] * length), round(cells[0] * length)), Image.Resampling.BICUBIC)
                field = np.asarray(big)
                top = int(rng.integers(0, field.shape[0] - height + 1))
                left = int(rng.integers(0, field.shape[1] - width + 1))
                layer[..., channel] = field[top:top + height, left:left + width]
        total += weight * layer
        weights += weight
    return np.clip(total / weights, 0.0, 1.0)


def start_image(model: Any, seed: int, map_index: int, wavelength: float, octaves: int,
                attempt: int = 0) -> np.ndarray:
    """The start of one item: noise standardised like the training data (mean 0, std 1),
    kept in the pixel range; ``attempt`` > 0 for the rescue's fresh noise."""
    shape = tuple(int(s) for s in model.input_shape)
    rng = np.random.default_rng([int(seed), int(map_index), int(attempt)])
    values = model.standardize(wavelength_noise(shape, wavelength, octaves=octaves, rng=rng))
    values = (values - values.mean()) / max(float(values.std()), 1e-6)
    low = model.standardize(np.zeros(shape[-1], np.float32))
    high = model.standardize(np.ones(shape[-1], np.float32))
    return np.clip(values, low, high).astype(np.float32)
