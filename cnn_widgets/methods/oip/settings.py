"""What an OIP run is asked to do: its settings (:class:`OIPSettings`, checked once) and
the checks of what it runs on (layer, maps, node, seeds, wavelengths, rescue images).

Every check raises a TypeError (wrong kind of value) or a ValueError (out of range)
whose message names the argument and what is allowed.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ...checks import finite_number, whole_number

__all__ = ["MAX_STEP_SIZE", "OIPSettings", "as_images", "check_layer", "check_maps", "check_node", "check_seeds",
           "check_wavelengths", "settings_from"]

#: Largest gradient-ascent step, in stds of the training data per pixel.
MAX_STEP_SIZE = 10.0
#: Most octaves of start noise, and most rescue tries with longer wavelengths.
MAX_OCTAVES, MAX_RESCUE_TRIES = 8, 20


@dataclass(frozen=True)
class OIPSettings:
    """How gradient ascent grows OIPs; the same for :func:`~.run.optimize`, :func:`~.run.series`
    and :func:`~.run.node_sweep`. Checked once, when made; immutable.

    Attributes:
        steps: Gradient-ascent steps (≥ 1).
        step_size: ε: change per pixel and step, in stds of the training data (0–10].
        wavelength: Length scale in pixels of the start noise (> 0, 1 = pixel noise; at most
            the image size, checked against the model by :meth:`checked_for`).
        octaves: Add this many octaves (λ, λ/2, …) of noise (1–8).
        seed: Random seed of the start noise (≥ 0): the same seed gives the same images.
        frame_every: Record the images every this many steps, for the animation (≥ 1).
        blur_every: Blur the images every this many steps (0: never).
        blur_sigma: Width of that blur in pixels (> 0, at most the image size).
        rescue_tries: Times a dead map gets new noise of double the wavelength (0–20).
        restandardize: Re-standardise each image after each step (the seed's recipe)
            before keeping it in the pixel range.

    Example:
        >>> OIPSettings(steps=50, blur_every=4, blur_sigma=1.0).replace(seed=3)
    """

    steps: int = 100
    step_size: float = 0.05
    wavelength: float = 7.0
    octaves: int = 1
    seed: int = 0
    frame_every: int = 5
    blur_every: int = 0
    blur_sigma: float = 0.5
    rescue_tries: int = 6
    restandardize: bool = False

    def __post_init__(self) -> None:
        step_size = finite_number(self.step_size, "step_size", 0.0, above=True)
        if step_size > MAX_STEP_SIZE:  # the pixel range is a few stds: larger steps only jump between its ends
            raise ValueError(f"step_size must be a finite number in (0, {MAX_STEP_SIZE:g}] (stds of the training "
                             f"data per step); got {self.step_size!r}")
        if not isinstance(self.restandardize, (bool, np.bool_)):
            raise TypeError(f"restandardize must be True or False; got {self.restandardize!r:.60}")
        checked = dict(
            steps=whole_number(self.steps, "steps", 1),
            step_size=step_size,
            wavelength=finite_number(self.wavelength, "wavelength", 0.0, above=True),
            octaves=whole_number(self.octaves, "octaves", 1, MAX_OCTAVES),
            seed=whole_number(self.seed, "seed", 0),
            frame_every=whole_number(self.frame_every, "frame_every", 1),
            blur_every=whole_number(self.blur_every, "blur_every", 0),
            blur_sigma=finite_number(self.blur_sigma, "blur_sigma", 0.0, above=True),
            rescue_tries=whole_number(self.rescue_tries, "rescue_tries", 0, MAX_RESCUE_TRIES),
            restandardize=bool(self.restandardize),
        )
        for name, value in checked.items():  # plain Python values (no NumPy scalars)
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> "OIPSettings":
        """A copy with ``changes`` (checked like the original).

        Raises:
            TypeError: A name that is not a setting (the message lists the settings).
        """
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            hint = " (the real images that rescue dead maps are given as images=)" if "data" in unknown else ""
            raise TypeError(f"unknown OIP setting {unknown[0]!r}{hint}; the settings are: {', '.join(FIELDS)}")
        return dataclasses.replace(self, **changes) if changes else self

    def checked_for(self, size: int) -> "OIPSettings":
        """These settings, checked against an image of ``size`` pixels a side (the largest).

        Raises:
            ValueError: ``wavelength`` or ``blur_sigma`` larger than the image.
        """
        check_wavelengths([self.wavelength], size, "wavelength")
        if self.blur_sigma > size:
            raise ValueError(f"blur_sigma must be > 0 and at most the image size ({size} px); "
                             f"got {self.blur_sigma!r}")
        return self

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (for printing and saving)."""
        return dataclasses.asdict(self)


FIELDS = tuple(f.name for f in dataclasses.fields(OIPSettings))


def settings_from(settings: Any, overrides: dict[str, Any]) -> OIPSettings:
    """``settings`` (an :class:`OIPSettings` or None for the defaults) with ``overrides``.

    Raises:
        TypeError: ``settings`` of another kind, or an override that is not a setting.
    """
    if settings is None:
        settings = OIPSettings()
    elif not isinstance(settings, OIPSettings):
        raise TypeError(f"settings must be an OIPSettings (or None for the defaults); got "
                        f"{type(settings).__name__}")
    return settings.replace(**overrides)


# ---------------------------------------------------------------------- what a run is about
def check_layer(model: Any, layer: str) -> Any:
    """The table row of ``layer``, a layer with maps of a model with a fixed input size."""
    info = model.spatial_layer(layer, "to grow patterns for")
    height, width = model.input_shape[:2]
    if height is None or width is None:
        raise ValueError("OIPs need a model with a fixed input size")
    return info


def check_maps(maps: Any, layer: str, count: int) -> np.ndarray:
    """Map indices of ``layer`` (``count`` maps) as int32; ``None`` for all of them."""
    if maps is None:
        return np.arange(count, dtype=np.int32)
    values = [maps] if np.isscalar(maps) else (list(maps) if isinstance(maps, (Sequence, np.ndarray)) else None)
    if values is None or any(isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral)
                             for v in values):
        raise TypeError(f"maps must be map indices (whole numbers 0–{count - 1}), or None for all; "
                        f"got {maps!r:.60}")
    if not values:
        raise ValueError(f"maps must name at least one map (0–{count - 1}), or be None for all; got {maps!r}")
    chosen = np.asarray([int(v) for v in values])
    bad = chosen[(chosen < 0) | (chosen >= count)]
    if bad.size:
        raise ValueError(f"map {int(bad[0])} is out of range: {layer} has {count} maps (0–{count - 1})")
    return chosen.astype(np.int32)


def check_map_index(map_index: Any, layer: str, count: int) -> int:
    """One map index of ``layer``."""
    if isinstance(map_index, (bool, np.bool_)) or not isinstance(map_index, numbers.Integral):
        raise TypeError(f"map_index must be a map index (a whole number 0–{count - 1}); got {map_index!r:.60}")
    return int(check_maps([map_index], layer, count)[0])


def check_node(node: Any, layer: str, rows: int, cols: int) -> tuple[int, int]:
    """``(row, col)`` of a node of ``layer``'s ``rows × cols`` maps."""
    try:
        row, col = node
    except (TypeError, ValueError):
        raise TypeError(f"node must be (row, col); got {node!r:.60}") from None
    for value in (row, col):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"node coordinates must be whole numbers; got {tuple(node)!r:.60}")
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"node ({row}, {col}) is outside the {rows}×{cols} maps of {layer!r}: "
                         f"rows 0–{rows - 1}, cols 0–{cols - 1}")
    return int(row), int(col)


def check_seeds(seeds: Any) -> list[int]:
    """A count N (seeds 0…N-1) or a list of seeds, each a whole number ≥ 0."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, (bool, np.bool_)):
        return list(range(whole_number(seeds, "seeds (a count)", 1)))
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, np.ndarray)):
        raise TypeError(f"seeds must be a count (a whole number ≥ 1) or a list of seeds; got {seeds!r:.60}")
    values = list(seeds)
    if not values:
        raise ValueError("seeds must not be empty")
    return [whole_number(s, "each seed", 0) for s in values]


def check_wavelengths(wavelengths: Any, size: int, what: str = "each wavelength") -> list[float]:
    """Wavelengths of start noise: numbers > 0 and at most the image size (``size`` px)."""
    if isinstance(wavelengths, (str, bytes)):
        raise TypeError(f"wavelengths must be numbers > 0; got {wavelengths!r:.60}")
    values = [wavelengths] if np.isscalar(wavelengths) else list(wavelengths)
    if not values:
        raise ValueError("wavelengths must not be empty")
    lengths = [finite_number(value, what, 0.0, above=True) for value in values]
    for length in lengths:
        if length > size:
            raise ValueError(f"wavelength must be > 0 and at most the image size ({size} px); got {length!r}")
    return lengths


def as_images(model: Any, images: Any) -> np.ndarray | None:
    """Real images to rescue dead maps from: an array or a DataSet (its images), checked on
    one image (any form ``model.prepare`` takes); None stays None."""
    if images is None:
        return None
    images = getattr(images, "images", images)
    if isinstance(images, (str, bytes)) or not hasattr(images, "__len__"):
        raise TypeError(f"images must be a batch of images (N, H, W[, C]) or a DataSet; got "
                        f"{type(images).__name__}")
    images = np.asarray(images)
    if images.ndim < 3 or len(images) == 0:
        raise ValueError(f"images must be a batch of images (N, H, W[, C]); got shape {images.shape}")
    model.prepare(images[:1])  # shape and pixel range fit the model, or a clear error
    return images
