"""OIPs — "original input patterns": grow, out of noise, the input a map reacts to most.

The method of the seed (A simple CNN for MNIST, parts VII–VIII): start from random
noise with fluctuations on a chosen length scale (*wavelength*), then change the
input by gradient ascent until the chosen map's mean activation (or one of its
nodes) is as large as it gets:

* the gradient of the objective with respect to the (standardised) input is
  divided by its root mean square, so every step moves the image by about
  ``step_size`` per pixel;
* after each step the image is projected back into the pixel range [0, 1]
  (projected gradient ascent), so an OIP is an image the network could be shown;
* ``restandardize=True`` adds the seed's re-standardisation before that
  projection (each image back to mean 0, std 1 after standardisation);
* every ``blur_every`` steps a Gaussian blur of ``blur_sigma`` px damps the highest
  spatial frequencies, which otherwise lead the ascent into side maxima.

Every image of a run is one *item*: a map, an objective (the map's mean, or one
node) and a start (seed, wavelength). All items of a run go through one compiled
step in one batch, so an atlas of 128 maps, a series of 8 seeds × 4 wavelengths of
one map (:func:`series`) and the node OIPs of every position of a map
(:func:`node_sweep`) each cost one batched call. Noise for an item is drawn from
``(seed, map)``: a map's result does not depend on which other items run beside it.

**No live map left dead.** A map whose activation and gradient are zero on its
noise gets noise of longer wavelengths first; if it is still dead it ascends, in
the same batched loop, on its *pre-activation* (the convolution's output before
its ReLU, for a conv layer or a max-pooling layer over one) until it fires, then
on the usual objective; and, when ``data`` is given, one that has not fired after
a quarter of the steps starts again from the real image it fires on most. Maps
still dead after that have no pattern: pictures draw them as a cross, never as
their start noise. With data, the maps that fire on none of its images are listed
(:attr:`OIPResult.silent`) and marked with a corner triangle.

:func:`consistency` measures how stable a pattern is: the mean pairwise
correlation of OIPs grown from different seeds (1 for identical images).
"""

from __future__ import annotations

import math
import numbers
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from ...checks import checked_output
from ...render import animated_gif, check_contrast, grey_frame, grey_png, mosaic, stretch

__all__ = ["OIPResult", "OIPSeries", "NodeSweep", "OIPCallbacks", "optimize", "series", "node_sweep",
           "consistency", "pattern_picture", "wavelength_noise", "check_contrast",
           "layer_statistics"]

#: Largest gradient-ascent step, in stds of the training data per pixel.
MAX_STEP_SIZE = 10.0
_MONOTONE = {"relu", "relu6", "elu", "selu", "leaky_relu", "sigmoid", "tanh", "softplus", "hard_sigmoid"}  # activations f with max(f(z)) = f(max z): a max-pool commutes with them


class OIPCallbacks(Protocol):
    """What the OIP functions report while they run (every method is optional)."""

    def on_begin(self, maps: np.ndarray, steps: int) -> None:
        """Before the first step: the map of each image and the steps asked for."""

    def on_step(self, step: int, images: np.ndarray, objectives: np.ndarray) -> None:
        """``images`` after ``step`` steps (pixel scale) and their ``objectives``."""

    def on_end(self, result: "OIPResult") -> None:
        """After the last step, or after a cancel."""


# ---------------------------------------------------------------------- checks
def _whole(value: Any, what: str, low: int, allowed: str, high: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < low or (
            high is not None and value > high):
        raise ValueError(f"{what} must be {allowed}; got {value!r}")
    return int(value)


def _positive(value: Any, what: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value <= 0:
        raise ValueError(f"{what} must be a finite number > 0; got {value!r}")
    return float(value)


def _check_maps(maps: Any, layer: str, count: int) -> np.ndarray:
    if maps is None:
        return np.arange(count, dtype=np.int32)
    values = [maps] if np.isscalar(maps) else list(maps)
    if not values or any(isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"maps must be map indices (whole numbers 0–{count - 1}), or None for all; "
                         f"got {maps!r}")
    chosen = np.asarray([int(v) for v in values])
    bad = chosen[(chosen < 0) | (chosen >= count)]
    if bad.size:
        raise ValueError(f"map {int(bad[0])} is out of range: {layer} has {count} maps (0–{count - 1})")
    return chosen.astype(np.int32)


def _check_node(node: Any, layer: str, rows: int, cols: int) -> tuple[int, int]:
    try:
        row, col = node
    except (TypeError, ValueError):
        raise ValueError(f"node must be (row, col); got {node!r}") from None
    for value in (row, col):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise ValueError(f"node coordinates must be whole numbers; got {tuple(node)!r}")
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"node ({row}, {col}) is outside the {rows}×{cols} maps of {layer!r}: "
                         f"rows 0–{rows - 1}, cols 0–{cols - 1}")
    return int(row), int(col)


def _check_seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, (bool, np.bool_)):
        return list(range(_whole(seeds, "seeds (a count)", 1, "a whole number ≥ 1 or a list of seeds")))
    values = list(seeds)
    if not values:
        raise ValueError("seeds must not be empty")
    return [_whole(s, "each seed", 0, "a whole number ≥ 0") for s in values]


def _check_layer(model: Any, layer: str) -> Any:
    info = model.layer(layer)
    if not info.is_spatial:
        spatial = ", ".join(model.spatial_layers)
        raise ValueError(f"layer {layer!r} ({info.kind}) has no maps; OIPs need a conv or pooling "
                         f"layer: {spatial}")
    height, width = model.input_shape[:2]
    if height is None or width is None:
        raise ValueError("OIPs need a model with a fixed input size")
    return info


def _settings(model: Any, *, steps: Any, step_size: Any, wavelength: Any, octaves: Any, seed: Any,
              frame_every: Any, blur_every: Any, blur_sigma: Any, rescue_tries: Any,
              restandardize: Any) -> dict[str, Any]:
    size = max(model.input_shape[:2])
    wavelength = _positive(wavelength, "wavelength")
    if wavelength > size:
        raise ValueError(f"wavelength must be > 0 and at most the image size ({size} px); got {wavelength!r}")
    step_size = _positive(step_size, "step_size")
    if step_size > MAX_STEP_SIZE:  # the pixel range is a few stds: larger steps only jump between its ends
        raise ValueError(f"step_size must be a finite number in (0, {MAX_STEP_SIZE:g}] (stds of the training data "
                         f"per step); got {step_size!r}")
    blur_sigma = _positive(blur_sigma, "blur_sigma")
    if blur_sigma > size:
        raise ValueError(f"blur_sigma must be > 0 and at most the image size ({size} px); got {blur_sigma!r}")
    return dict(
        steps=_whole(steps, "steps", 1, "a whole number ≥ 1"),
        step_size=step_size,
        wavelength=wavelength,
        octaves=_whole(octaves, "octaves", 1, "a whole number 1–8", 8),
        seed=_whole(seed, "seed", 0, "a whole number ≥ 0"),
        frame_every=_whole(frame_every, "frame_every", 1, "a whole number ≥ 1"),
        blur_every=_whole(blur_every, "blur_every", 0, "a whole number ≥ 0 (0: never)"),
        blur_sigma=blur_sigma,
        rescue_tries=_whole(rescue_tries, "rescue_tries", 0, "a whole number 0–20", 20),
        restandardize=bool(restandardize),
    )


# ---------------------------------------------------------------------- results
@dataclass
class OIPResult:
    """What gradient ascent grew: one image per item (a map, an objective, a start).

    Attributes:
        layer: The layer whose maps were optimised.
        maps: The map of each image.
        images: ``(n, H, W, C)`` pixel images in [0, 1], the scale
            ``CNNModel.predict`` takes: ``model.activations(result.images)``
            reproduces the objective.
        frames: ``(frames, n, H, W, C)``: the images at ``frame_steps``.
        frame_steps: The step of each frame (0 = the start of the ascent).
        history: ``(steps done + 1, n)`` objective per step per image.
        node: ``(row, col)`` of the optimised node when all images share one, else None.
        nodes: ``(n, 2)`` the node of each image, row ``(-1, -1)`` for the map mean.
        seeds: The seed of each image's start noise.
        wavelengths: The wavelength of each image's start noise.
        revival: Per image, how it came alive: ``""`` (on its first noise),
            ``"wavelength"``, ``"pre-activation"`` or ``"data"``; ``"dead"`` if never.
        rescued: Maps that were dead on their first noise and came alive.
        dead: Maps that stayed dead (objective and gradient 0): no pattern.
        silent: Maps that fire on none of the data images given (they may still
            get a pattern from noise: pictures mark them with a corner); None
            when no data was given.
        cancelled: True when the run was stopped before its last step.
        settings: The arguments of the run.
    """

    layer: str
    maps: np.ndarray
    images: np.ndarray
    frames: np.ndarray
    frame_steps: list[int]
    history: np.ndarray
    node: tuple[int, int] | None = None
    nodes: np.ndarray | None = None
    seeds: np.ndarray | None = None
    wavelengths: np.ndarray | None = None
    revival: list[str] = field(default_factory=list)
    rescued: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)
    silent: list[int] | None = None
    cancelled: bool = False
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def alive(self) -> np.ndarray:
        """Per image: True when it has a pattern (its map fired)."""
        return np.asarray([how != "dead" for how in self.revival], bool) if self.revival \
            else np.ones(len(self.maps), bool)

    @property
    def never_fires(self) -> np.ndarray:
        """Per image: True when its map fires on none of the data images (False without data)."""
        return np.isin(self.maps, self.silent or [])

    def _position(self, map_index: int) -> int:
        found = np.flatnonzero(self.maps == map_index)
        if found.size == 0:
            raise ValueError(f"map {map_index} was not optimised; this result has maps {self.maps.tolist()}")
        return int(found[0])

    def picture(self, map_index: int | None = None, *, frame: int = -1, contrast: float = 0.0,
                columns: int | None = None) -> np.ndarray:
        """Grey levels in [0, 1] of one map's pattern, or of all images as a mosaic.

        Images without a pattern (dead maps) are drawn as a cross on grey.

        Args:
            map_index: A map of :attr:`maps`; ``None`` for the mosaic of all images.
            frame: Which frame (default: the last, i.e. the final images).
            contrast: Contrast enhancement (display only; see :func:`cnn_widgets.render.stretch`).
            columns: Mosaic columns.
        """
        count = len(self.frames)
        if isinstance(frame, (bool, np.bool_)) or not isinstance(frame, numbers.Integral) \
                or not -count <= frame < count:
            raise ValueError(f"frame must be a whole number in 0–{count - 1} (or -1 for the last); got {frame!r}")
        images, marked, corner = self.frames[frame], ~self.alive, self.never_fires & self.alive
        if map_index is not None:
            position = self._position(map_index)
            images, marked, corner = (images[position:position + 1], marked[position:position + 1],
                                      corner[position:position + 1])
        return pattern_picture(images, contrast, columns=columns, marked=marked, corner=corner)

    def save_png(self, path: str | Path, map_index: int | None = None, *, contrast: float = 0.0,
                 zoom: int = 8, columns: int | None = None) -> Path:
        """Save one map's pattern, or the mosaic of all images (``map_index=None``), as PNG."""
        path = checked_output(path, (".png",), "PNG path")
        path.write_bytes(self.png_bytes(map_index, contrast=contrast, zoom=zoom, columns=columns))
        return path

    def png_bytes(self, map_index: int | None = None, *, contrast: float = 0.0, zoom: int = 8,
                  columns: int | None = None) -> bytes:
        """One map's pattern, or the mosaic, as PNG bytes, enlarged ``zoom`` times."""
        return grey_png(self.picture(map_index, contrast=contrast, columns=columns), zoom)

    def save_gif(self, path: str | Path, map_index: int | None = None, *, contrast: float = 0.0,
                 zoom: int = 8, duration_ms: int = 120, hold_ms: int = 1200, columns: int | None = None) -> Path:
        """Save the emergence as an animated GIF: one frame per recorded step.

        Args:
            path: Where to write.
            map_index: One map; ``None`` animates the mosaic of all images.
            contrast: Contrast enhancement of every frame.
            zoom: Pixel enlargement.
            duration_ms: Time per frame.
            hold_ms: Time the last frame stays before the loop restarts.
            columns: Mosaic columns.
        """
        path = checked_output(path, (".gif",), "GIF path")
        path.write_bytes(self.gif_bytes(map_index, contrast=contrast, zoom=zoom, duration_ms=duration_ms,
                                        hold_ms=hold_ms, columns=columns))
        return path

    def gif_bytes(self, map_index: int | None = None, *, contrast: float = 0.0, zoom: int = 8,
                  duration_ms: int = 120, hold_ms: int = 1200, columns: int | None = None) -> bytes:
        """The emergence GIF as bytes (Pillow writes it)."""
        return _gif_bytes([self.picture(map_index, frame=index, contrast=contrast, columns=columns)
                           for index in range(len(self.frames))], zoom, duration_ms, hold_ms)


class _GridPicture:
    """PNG and GIF output for a class with ``picture(contrast, frame=...)`` and ``result``."""

    result: "OIPResult"

    def png_bytes(self, contrast: float = 0.0, zoom: int = 4) -> bytes:
        """The picture as PNG bytes."""
        return grey_png(self.picture(contrast), zoom)

    def save_png(self, path: str | Path, contrast: float = 0.0, zoom: int = 4) -> Path:
        """Save the picture as PNG."""
        path = checked_output(path, (".png",), "PNG path")
        path.write_bytes(self.png_bytes(contrast, zoom))
        return path

    def gif_bytes(self, contrast: float = 0.0, zoom: int = 4, duration_ms: int = 120,
                  hold_ms: int = 1200) -> bytes:
        """The emergence (one frame per recorded step) as GIF bytes."""
        return _gif_bytes([self.picture(contrast, frame=index) for index in range(len(self.result.frames))],
                          zoom, duration_ms, hold_ms)


@dataclass
class OIPSeries(_GridPicture):
    """One map grown from N seeds at M wavelengths in one batched call (the seed's series).

    Attributes:
        layer: The layer.
        map: The map.
        seeds: The N seeds (columns of the grid).
        wavelengths: The M wavelengths (rows of the grid).
        result: The batched run: the M·N series images first (row by row), then the
            shuffled-map baseline images.
        objectives: ``(M, N)`` the objective each image reached.
        consistency: ``(M,)`` per wavelength: mean pairwise correlation of the N OIPs.
        baseline: ``(M,)`` the same score for N OIPs of other maps (one per seed):
            what two unrelated patterns share; NaN for a layer with one map.
        baseline_maps: ``(M, N)`` the other maps of that baseline.
    """

    layer: str
    map: int
    seeds: list[int]
    wavelengths: list[float]
    result: OIPResult
    objectives: np.ndarray
    consistency: np.ndarray
    baseline: np.ndarray
    baseline_maps: np.ndarray

    @property
    def images(self) -> np.ndarray:
        """``(M, N, H, W, C)``: the series images, wavelength by seed."""
        m, n = len(self.wavelengths), len(self.seeds)
        return self.result.images[:m * n].reshape(m, n, *self.result.images.shape[1:])

    @property
    def alive(self) -> np.ndarray:
        """``(M, N)``: True where the image has a pattern."""
        m, n = len(self.wavelengths), len(self.seeds)
        return self.result.alive[:m * n].reshape(m, n)

    def picture(self, contrast: float = 0.0, *, frame: int = -1) -> np.ndarray:
        """Grey levels of the grid: one row per wavelength, one column per seed."""
        m, n = len(self.wavelengths), len(self.seeds)
        return pattern_picture(self.result.frames[frame][:m * n], contrast, columns=n,
                               marked=~self.result.alive[:m * n], always_mosaic=True)

    def summary(self) -> list[str]:
        """One line per wavelength: objectives reached and the consistency score."""
        lines = []
        for row, wavelength in enumerate(self.wavelengths):
            values = self.objectives[row]
            lines.append(f"λ {wavelength:g}: objective {values.min():.2f}–{values.max():.2f} "
                         f"(mean {values.mean():.2f}); consistency {_score(self.consistency[row])} "
                         f"(other maps {_score(self.baseline[row])})")
        return lines


@dataclass
class NodeSweep(_GridPicture):
    """Node OIPs of one map for many positions, in one batched call.

    Every node starts from the same noise, so the differences between the images
    show how the pattern moves with the node's position.

    Attributes:
        layer: The layer.
        map: The map.
        positions: ``(P, 2)`` the node (row, col) of each image.
        shape: ``(rows, cols)`` of the map.
        result: The batched run.
        objectives: ``(P,)`` the node value each image reached.
    """

    layer: str
    map: int
    positions: np.ndarray
    shape: tuple[int, int]
    result: OIPResult
    objectives: np.ndarray

    @property
    def full_grid(self) -> bool:
        """True when every position of the map was grown (the picture is the map's grid)."""
        return len(self.positions) == self.shape[0] * self.shape[1]

    def picture(self, contrast: float = 0.0, *, frame: int = -1) -> np.ndarray:
        """Grey levels: the images laid out like the map's nodes (all positions), else in a row."""
        columns = self.shape[1] if self.full_grid else None
        return pattern_picture(self.result.frames[frame], contrast, columns=columns,
                               marked=~self.result.alive, always_mosaic=True)



def _score(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.2f}"


def consistency(images: np.ndarray) -> float:
    """Mean pairwise (Pearson) correlation of patterns ``(n, ...)``: 1 when all are identical.

    Images without variation (constant) have no correlation and are left out;
    NaN when fewer than two images vary.

    Raises:
        ValueError: Fewer than two images.
    """
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    if len(flat) < 2:
        raise ValueError(f"consistency needs at least two images; got {len(flat)}")
    centred = flat - flat.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    varying = norms > 1e-12 * max(1.0, float(np.abs(flat).max()))
    if varying.sum() < 2:
        return float("nan")
    unit = centred[varying] / norms[varying, None]
    gram = np.clip(unit @ unit.T, -1.0, 1.0)
    count = len(unit)
    return float((gram.sum() - np.trace(gram)) / (count * (count - 1)))


# ---------------------------------------------------------------------- pictures
def pattern_picture(images: np.ndarray, contrast: float = 0.0, *, columns: int | None = None,
                    marked: np.ndarray | None = None, corner: np.ndarray | None = None,
                    always_mosaic: bool = False) -> np.ndarray:
    """Grey levels in [0, 1] of patterns ``(n, H, W, C)``: one image as it is, several
    as a mosaic with white gaps; each stretched with :func:`cnn_widgets.render.stretch`.

    Images flagged in ``marked`` (maps without a pattern) are drawn as a black cross
    on grey, so they cannot be taken for a result; those flagged in ``corner`` (maps
    that never fire on the data) keep their pattern with a black corner triangle.

    Raises:
        ValueError: ``contrast`` is NaN, infinite or negative.
    """
    contrast = check_contrast(contrast)
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype.kind not in "uif" or 0 in images.shape:
        raise ValueError(f"images must be an (n, height, width, channels) array of numbers; got shape "
                         f"{images.shape}, dtype {images.dtype}")
    grey = images[..., 0] if images.shape[-1] == 1 else images.mean(-1)
    tiles_grey = []
    for i, image in enumerate(grey):
        if marked is not None and marked[i]:
            tiles_grey.append(_cross(image.shape))
            continue
        tile = stretch(image, contrast)
        if corner is not None and corner[i]:
            tile = _dog_ear(tile)
        tiles_grey.append(tile)
    if len(grey) == 1 and not always_mosaic:
        return tiles_grey[0]
    tiles = mosaic(np.stack(tiles_grey, axis=-1), value_range=(0.0, 1.0), columns=columns)
    picture = tiles.indices.astype(np.float32) / 254.0
    picture[tiles.indices == 255] = 1.0  # gaps white
    return picture


def _cross(shape: tuple[int, int]) -> np.ndarray:
    """A black diagonal cross on mid-grey: "no pattern"."""
    height, width = shape
    tile = np.full(shape, 0.55, np.float32)
    rows = np.arange(height)
    cols = np.clip(np.round(rows * (width - 1) / max(height - 1, 1)).astype(int), 0, width - 1)
    tile[rows, cols] = 0.0
    tile[rows, width - 1 - cols] = 0.0
    return tile


def _dog_ear(tile: np.ndarray) -> np.ndarray:
    """The tile with a black-and-white checkered triangle in its top-left corner, edged in
    white: "never fires on data" (visible on dark and on light patterns)."""
    tile = tile.copy()
    size = max(3, min(tile.shape) // 4)
    rows, cols = np.indices(tile.shape)
    inside = rows + cols < size
    tile[inside] = ((rows + cols) % 2)[inside].astype(np.float32)
    tile[rows + cols == size] = 1.0
    return tile


def _gif_bytes(greys: list[np.ndarray], zoom: int, duration_ms: Any, hold_ms: Any) -> bytes:
    """Grey frames in [0, 1] → an animated GIF (``hold_ms`` on the last frame), looping."""
    duration, hold = _durations(duration_ms, hold_ms)
    return animated_gif([grey_frame(grey, zoom) for grey in greys], duration, hold)


def _durations(duration_ms: Any, hold_ms: Any) -> tuple[int, int]:
    """GIF frame times: ``duration_ms`` per frame, ``hold_ms`` on the last (whole ms, 1–60,000)."""
    duration = _whole(duration_ms, "duration_ms", 1, "a whole number of milliseconds, 1–60000", 60_000)
    hold = _whole(hold_ms, "hold_ms", 1, "a whole number of milliseconds, 1–60000", 60_000)
    return duration, hold


def wavelength_noise(shape: tuple[int, int, int], wavelength: float, *, octaves: int = 1,
                     rng: np.random.Generator) -> np.ndarray:
    """Random pixels in [0, 1] whose fluctuations have a length scale of ``wavelength`` px.

    Uniform random values on a coarse grid (one cell per ``wavelength`` pixels)
    are upsampled smoothly (bicubic) to ``shape``; with ``octaves > 1`` the
    wavelengths λ, λ/2, λ/4, … are added with weights 1, 1/2, 1/4, …. A
    wavelength of 1 gives independent pixels.
    """
    from PIL import Image

    height, width, channels = shape
    total = np.zeros(shape, np.float32)
    weights = 0.0
    for octave in range(octaves):
        length = max(1.0, wavelength / 2 ** octave)
        weight = 0.5 ** octave
        cells = (max(1, math.ceil(height / length)) + 1, max(1, math.ceil(width / length)) + 1)
        layer = np.empty(shape, np.float32)
        for channel in range(channels):
            coarse = rng.random(cells).astype(np.float32)
            if length <= 1.0:
                layer[..., channel] = coarse[:height, :width]
            else:
                # the coarse grid spans one extra cell: crop a random window of the upsampled field
                big = Image.fromarray(coarse, mode="F").resize(
                    (round(cells[1] * length), round(cells[0] * length)), Image.Resampling.BICUBIC)
                field_ = np.asarray(big)
                top = int(rng.integers(0, field_.shape[0] - height + 1))
                left = int(rng.integers(0, field_.shape[1] - width + 1))
                layer[..., channel] = field_[top:top + height, left:left + width]
        total += weight * layer
        weights += weight
    return np.clip(total / weights, 0.0, 1.0)


# ---------------------------------------------------------------------- public runs
def optimize(
    model: Any,
    layer: str,
    maps: Sequence[int] | int | None = None,
    *,
    steps: int = 100,
    step_size: float = 0.05,
    wavelength: float = 7.0,
    octaves: int = 1,
    seed: int = 0,
    node: tuple[int, int] | None = None,
    frame_every: int = 5,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    rescue_tries: int = 6,
    restandardize: bool = False,
    data: Any = None,
    callbacks: OIPCallbacks | Sequence[OIPCallbacks] | None = None,
    cancel: threading.Event | None = None,
) -> OIPResult:
    """Grow the input pattern that maps of ``layer`` react to most (one image per map).

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        layer: A conv or pooling layer.
        maps: Map indices (or one index); ``None`` for every map of the layer.
        steps: Gradient-ascent steps.
        step_size: ε: change per pixel and step, in units of the training data's std.
        wavelength: Length scale in pixels of the initial fluctuations (1 = pixel noise).
        octaves: Add this many octaves (λ, λ/2, …) of noise.
        seed: Random seed (a whole number ≥ 0): the same seed gives the same images.
        node: ``(row, col)``: maximise this one node of each map instead of its mean.
        frame_every: Record the images every this many steps (for the animation).
        blur_every: Blur the images every this many steps (0: never).
        blur_sigma: Width of that blur, in pixels (> 0).
        rescue_tries: Times a dead map gets new noise of double the wavelength.
        restandardize: Re-standardise each image after each step (the seed's
            recipe) before keeping it in the pixel range.
        data: Real images (any form ``model.prepare`` takes, e.g. the test split):
            a map still dead after the other rescues starts from the one it fires on
            most, and maps that fire on none are reported in :attr:`OIPResult.silent`.
        callbacks: Told of the start, every step and the end.
        cancel: Set this event to stop after the current step.

    Raises:
        ValueError: Unknown layer, a layer without maps, a map or node out of
            range or not a whole number, a negative seed, ``steps`` < 1,
            ``step_size`` or ``blur_sigma`` ≤ 0 or NaN, ``wavelength`` ≤ 0 or larger
            than the image.
    """
    info = _check_layer(model, layer)
    options = _settings(model, steps=steps, step_size=step_size, wavelength=wavelength, octaves=octaves,
                        seed=seed, frame_every=frame_every, blur_every=blur_every, blur_sigma=blur_sigma,
                        rescue_tries=rescue_tries, restandardize=restandardize)
    chosen = _check_maps(maps, layer, int(info.output_shape[-1]))
    rows, cols = int(info.output_shape[0]), int(info.output_shape[1])
    where = None if node is None else _check_node(node, layer, rows, cols)
    count = len(chosen)
    nodes = np.full((count, 2), -1, np.int32) if where is None else np.tile(np.asarray(where, np.int32), (count, 1))
    result = _run(model, layer, chosen, nodes, np.full(count, options["seed"]),
                  np.full(count, options["wavelength"]), options, data, callbacks, cancel)
    return result


def series(
    model: Any,
    layer: str,
    map_index: int,
    *,
    seeds: int | Sequence[int] = 8,
    wavelengths: Sequence[float] = (2.0, 4.0, 7.0, 14.0),
    baseline: bool = True,
    steps: int = 100,
    step_size: float = 0.05,
    octaves: int = 1,
    node: tuple[int, int] | None = None,
    frame_every: int = 5,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    rescue_tries: int = 6,
    restandardize: bool = False,
    data: Any = None,
    callbacks: OIPCallbacks | Sequence[OIPCallbacks] | None = None,
    cancel: threading.Event | None = None,
) -> OIPSeries:
    """One map grown from several noise starts at several wavelengths, in one batched call.

    Image (wavelength λ, seed s) is exactly what ``optimize(model, layer, [map_index],
    seed=s, wavelength=λ)`` grows; each row gets a consistency score (mean pairwise
    correlation over the seeds) and, with ``baseline``, the same score for OIPs of
    randomly chosen other maps from the same seeds.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        layer: A conv or pooling layer.
        map_index: The map.
        seeds: A count N (seeds 0…N-1) or the seeds themselves (whole numbers ≥ 0).
        wavelengths: The start noise's length scales, px.
        baseline: Also grow the shuffled-map baseline (doubles the batch).
        steps, step_size, octaves, node, frame_every, blur_every, blur_sigma,
        rescue_tries, restandardize, data, callbacks, cancel: As for :func:`optimize`.

    Raises:
        ValueError: As for :func:`optimize`; empty or negative seeds or wavelengths.
    """
    info = _check_layer(model, layer)
    count = int(info.output_shape[-1])
    (map_index,) = _check_maps([map_index] if np.isscalar(map_index) else map_index, layer, count)
    seed_list = _check_seeds(seeds)
    lengths = list(wavelengths) if not np.isscalar(wavelengths) else [wavelengths]
    if not lengths:
        raise ValueError("wavelengths must not be empty")
    options = _settings(model, steps=steps, step_size=step_size, wavelength=lengths[0], octaves=octaves,
                        seed=seed_list[0], frame_every=frame_every, blur_every=blur_every,
                        blur_sigma=blur_sigma, rescue_tries=rescue_tries, restandardize=restandardize)
    size = max(model.input_shape[:2])
    for length in lengths:
        if _positive(length, "each wavelength") > size:
            raise ValueError(f"wavelength must be > 0 and at most the image size ({size} px); got {length!r}")
    rows, cols = int(info.output_shape[0]), int(info.output_shape[1])
    where = (-1, -1) if node is None else _check_node(node, layer, rows, cols)
    m, n = len(lengths), len(seed_list)
    maps = np.full(m * n, int(map_index), np.int32)
    seed_column = np.tile(seed_list, m)
    length_column = np.repeat(np.asarray(lengths, np.float64), n)
    others = np.setdiff1d(np.arange(count), [map_index])
    use_baseline = bool(baseline) and others.size > 0
    baseline_maps = np.full((m, n), -1, np.int32)
    if use_baseline:
        rng = np.random.default_rng([int(map_index), *seed_list])
        baseline_maps = np.stack([rng.choice(others, n, replace=others.size < n) for _ in range(m)]).astype(np.int32)
        maps = np.concatenate([maps, baseline_maps.ravel()])
        seed_column = np.concatenate([seed_column, seed_column])
        length_column = np.concatenate([length_column, length_column])
    nodes = np.tile(np.asarray(where, np.int32), (len(maps), 1))
    options.update(seeds=seed_list, wavelengths=[float(v) for v in lengths], baseline=use_baseline)
    result = _run(model, layer, maps, nodes, seed_column, length_column, options, data, callbacks, cancel)
    objectives = result.history[-1][:m * n].reshape(m, n)
    own = result.images[:m * n].reshape(m, n, -1)
    scores = np.asarray([_alive_consistency(own[r], result.alive[r * n:(r + 1) * n]) for r in range(m)])
    if use_baseline:
        other = result.images[m * n:].reshape(m, n, -1)
        alive = result.alive[m * n:].reshape(m, n)
        base = np.asarray([_alive_consistency(other[r], alive[r]) for r in range(m)])
    else:
        base = np.full(m, np.nan)
    return OIPSeries(layer, int(map_index), seed_list, [float(v) for v in lengths], result, objectives,
                     scores, base, baseline_maps)


def _alive_consistency(images: np.ndarray, alive: np.ndarray) -> float:
    return consistency(images[alive]) if alive.sum() >= 2 else float("nan")


def node_sweep(
    model: Any,
    layer: str,
    map_index: int,
    *,
    positions: Sequence[tuple[int, int]] | None = None,
    steps: int = 100,
    step_size: float = 0.05,
    wavelength: float = 7.0,
    octaves: int = 1,
    seed: int = 0,
    frame_every: int = 5,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    rescue_tries: int = 6,
    restandardize: bool = False,
    data: Any = None,
    callbacks: OIPCallbacks | Sequence[OIPCallbacks] | None = None,
    cancel: threading.Event | None = None,
) -> NodeSweep:
    """Node OIPs of one map at every position (or at ``positions``), in one batched call.

    Every node starts from the same noise (that of ``(seed, map_index)``), so the
    images show how the pattern moves with the node. Image ``(r, c)`` is what
    ``optimize(model, layer, [map_index], node=(r, c), ...)`` grows.

    Raises:
        ValueError: As for :func:`optimize`; a position outside the map.
    """
    info = _check_layer(model, layer)
    options = _settings(model, steps=steps, step_size=step_size, wavelength=wavelength, octaves=octaves,
                        seed=seed, frame_every=frame_every, blur_every=blur_every, blur_sigma=blur_sigma,
                        rescue_tries=rescue_tries, restandardize=restandardize)
    (map_index,) = _check_maps([map_index] if np.isscalar(map_index) else map_index, layer,
                               int(info.output_shape[-1]))
    rows, cols = int(info.output_shape[0]), int(info.output_shape[1])
    if positions is None:
        where = np.stack(np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij"), -1).reshape(-1, 2)
    else:
        if isinstance(positions, (str, bytes)) or not isinstance(positions, (Sequence, np.ndarray)):
            raise TypeError(f"positions must be a list of (row, col) nodes, or None for all; got {positions!r:.60}")
        where = np.asarray([_check_node(p, layer, rows, cols) for p in positions], np.int32).reshape(-1, 2)
        if not len(where):
            raise ValueError("positions must not be empty")
    count = len(where)
    result = _run(model, layer, np.full(count, int(map_index), np.int32), where.astype(np.int32),
                  np.full(count, options["seed"]), np.full(count, options["wavelength"]), options, data,
                  callbacks, cancel)
    return NodeSweep(layer, int(map_index), where, (rows, cols), result, result.history[-1].copy())


# ---------------------------------------------------------------------- the run
def _run(model: Any, layer: str, maps: np.ndarray, nodes: np.ndarray, seeds: np.ndarray,
         wavelengths: np.ndarray, options: dict[str, Any], data: Any,
         callbacks: OIPCallbacks | Sequence[OIPCallbacks] | None,
         cancel: threading.Event | None) -> OIPResult:
    """Every item (map, node, seed, wavelength) in one batch: rescue the dead, then ascend."""
    from ...model.backend import tf

    if cancel is not None and not callable(getattr(cancel, "is_set", None)):
        raise TypeError(f"cancel must be a threading.Event (or None); got {type(cancel).__name__}")
    data = _as_data(model, data)
    listeners = [] if callbacks is None else (
        list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks])
    for listener in listeners:
        if not any(callable(getattr(listener, name, None)) for name in ("on_begin", "on_step", "on_end")):
            raise TypeError(f"callbacks must have on_begin, on_step or on_end methods (an OIPCallbacks); got "
                            f"{type(listener).__name__}")
    shape = tuple(int(s) for s in model.input_shape)
    info = model.layer(layer)
    rows, cols = int(info.output_shape[0]), int(info.output_shape[1])
    steps, octaves = options["steps"], options["octaves"]
    low = model.standardize(np.zeros(shape[-1], np.float32))
    high = model.standardize(np.ones(shape[-1], np.float32))
    engine = _engine(model, layer, options["restandardize"])
    masks = _masks(nodes, rows, cols)
    count = len(maps)

    def start(item: int, length: float, attempt: int) -> np.ndarray:
        """Noise, standardised like the training data (mean 0, std 1), in the pixel range."""
        rng = np.random.default_rng([int(seeds[item]), int(maps[item]), attempt])
        values = model.standardize(wavelength_noise(shape, length, octaves=octaves, rng=rng))
        values = (values - values.mean()) / max(float(values.std()), 1e-6)
        return np.clip(values, low, high).astype(np.float32)

    def stopped() -> bool:
        return cancel is not None and cancel.is_set()

    images = np.stack([start(i, float(wavelengths[i]), 0) for i in range(count)])  # standardised
    revival = [""] * count

    # 1. Dead on the first noise (objective 0, no gradient) → noise of longer wavelengths.
    objective, rms = engine.probe(images, maps, masks)
    dead = (objective <= 0) & (rms == 0)
    lengths = wavelengths.astype(np.float64).copy()
    for attempt in range(1, options["rescue_tries"] + 1):
        if not dead.any() or stopped():
            break
        positions = np.flatnonzero(dead)
        lengths[positions] = np.minimum(lengths[positions] * 2, max(shape[:2]))  # at full size: new noise
        trial = np.stack([start(p, float(lengths[p]), attempt) for p in positions])
        value, grad = engine.probe(trial, maps[positions], masks[positions])
        revived = ~((value <= 0) & (grad == 0))
        images[positions[revived]] = trial[revived]
        for p in positions[revived]:
            revival[p] = "wavelength"
        dead[positions[revived]] = False

    # 2. Still dead → these items ascend on their pre-activation (the convolution's output
    #    before its ReLU) inside the same batched loop, until they fire on a few steps in a
    #    row; then on the usual objective. 3. Those that have not fired after a quarter of
    #    the steps start from the data image they fire on most (when data is given).
    silent: list[int] | None = None
    fires_on_data: np.ndarray | None = None
    if data is not None:
        best_image, fires_on_data = _data_starts(model, layer, data, maps, nodes)
        silent = sorted({int(maps[i]) for i in range(count) if not fires_on_data[i]})
    can_rescue = engine.has_pre or data is not None
    if dead.any() and engine.has_pre:
        for p in np.flatnonzero(dead):  # pre-activation ascent starts from the first noise
            images[p] = start(p, float(wavelengths[p]), 0)
    live = np.flatnonzero(~dead | can_rescue)
    rescuing = dead[live].copy()  # per live item: still on the pre-activation / waiting for data
    fired = np.zeros(live.size, np.int32)
    switch_at = max(10, steps // 4)
    maps_t, masks_t = tf.constant(maps[live]), tf.constant(masks[live])
    use_pre = tf.constant(rescuing & engine.has_pre)
    x = tf.constant(images[live]) if live.size else None

    def snapshot() -> np.ndarray:
        if x is not None:
            images[live] = x.numpy()
        return model.unstandardize(images)

    def objectives(values: Any) -> np.ndarray:
        full = np.zeros(count, np.float32)  # dead items stay at 0
        if live.size and values is not None:
            full[live] = np.where(rescuing, 0.0, np.asarray(values))
        return full

    for listener in listeners:
        if hasattr(listener, "on_begin"):
            listener.on_begin(maps.copy(), steps)
    frames = [snapshot()]
    frame_steps = [0]
    history: list[np.ndarray] = []  # history[k]: objective of the images after k steps
    epsilon = tf.constant(options["step_size"], tf.float32)
    cancelled = False
    done = 0
    for step in range(1, steps + 1):
        if stopped():
            cancelled = True
            break
        before = snapshot() if listeners else None
        if x is None:
            history.append(objectives(None))
        else:
            value, x = engine.step(x, maps_t, masks_t, use_pre, epsilon)
            value = value.numpy()
            history.append(objectives(value))  # of the images before this step
            if engine.has_pre:  # an item that fell back to 0 (ReLU's dead zone) is rescued again
                fell = ~rescuing & (value == 0)
                if fell.any():
                    rescuing = rescuing | fell
                    use_pre = tf.constant(rescuing)
            if rescuing.any():
                fired = np.where(rescuing & (value > 0), fired + 1, 0)
                ready = rescuing & (fired >= 3)
                for position in np.flatnonzero(ready):
                    revival[live[position]] = "pre-activation"
                late = rescuing & ~ready & (step >= switch_at) & (fires_on_data is not None)
                late &= fires_on_data[live] if fires_on_data is not None else False
                on_nodes = late & (nodes[live, 0] >= 0)
                if on_nodes.any():  # a node's own best image: one pass over the data, only now
                    items = live[on_nodes]
                    found, fires = _node_starts(model, layer, data, maps[items], nodes[items])
                    best_image[items] = found
                    fires_on_data[items] = fires
                    late[np.flatnonzero(on_nodes)[~fires]] = False
                if late.any():
                    moved = x.numpy()
                    for position in np.flatnonzero(late):
                        item = live[position]
                        moved[position] = model.standardize(model.prepare(_pick(data, int(best_image[item])))[0])
                        revival[item] = "data"
                    x = tf.constant(moved)
                if (ready | late).any():
                    rescuing = rescuing & ~(ready | late)
                    use_pre = tf.constant(rescuing & engine.has_pre)
            if options["blur_every"] and step % options["blur_every"] == 0:
                x = engine.blur(x, options["blur_sigma"])
        done = step
        for listener in listeners:
            if hasattr(listener, "on_step"):
                listener.on_step(step - 1, before, history[-1])
        if step % options["frame_every"] == 0 or step == steps:
            frames.append(snapshot())
            frame_steps.append(step)
    final = engine.probe(x, maps_t, masks_t)[0] if x is not None else None
    if x is not None:
        if engine.has_pre:
            rescuing = rescuing | (np.asarray(final) == 0)
        dead[live] = rescuing  # what never fired has no pattern
    for p in np.flatnonzero(dead):
        revival[p] = "dead"
    history.append(objectives(final))  # the final images' objective
    if frame_steps[-1] != done:  # cancelled between frames: keep where it stopped
        frames.append(snapshot())
        frame_steps.append(done)
    mean_node = bool((nodes[:, 0] < 0).all())
    same_node = not mean_node and bool((nodes == nodes[0]).all())
    dead_maps = sorted({int(maps[p]) for p in np.flatnonzero(dead)})
    result = OIPResult(
        layer=layer, maps=maps.copy(), images=np.clip(frames[-1], 0.0, 1.0).astype(np.float32),
        frames=np.clip(np.stack(frames), 0.0, 1.0).astype(np.float32), frame_steps=frame_steps,
        history=np.stack(history), node=(int(nodes[0, 0]), int(nodes[0, 1])) if same_node else None,
        nodes=nodes.copy(), seeds=np.asarray(seeds).copy(), wavelengths=np.asarray(wavelengths, np.float64).copy(),
        revival=revival, rescued=sorted({int(maps[p]) for p in range(count) if revival[p] not in ("", "dead")}),
        dead=dead_maps, silent=silent, cancelled=cancelled, settings=dict(options),
    )
    for listener in listeners:
        if hasattr(listener, "on_end"):
            listener.on_end(result)
    return result


def _masks(nodes: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Per item, the weights of the objective over the map's cells: all 1/(h·w) for the
    map's mean, one 1 for a node."""
    masks = np.full((len(nodes), rows, cols), 1.0 / (rows * cols), np.float32)
    for i, (row, col) in enumerate(nodes):
        if row >= 0:
            masks[i] = 0.0
            masks[i, row, col] = 1.0
    return masks


def _pick(data: Any, index: int) -> Any:
    return np.asarray(data[index])


def _as_data(model: Any, data: Any) -> Any:
    """Images to rescue dead maps from: an array (or a DataSet's images), checked on one image."""
    if data is None:
        return None
    data = getattr(data, "images", data)
    data = np.asarray(data)
    if data.ndim < 3 or len(data) == 0:
        raise ValueError(f"data must be a batch of images (N, H, W[, C]); got shape {data.shape}")
    model.prepare(data[:1])  # shape and pixel range fit the model, or a clear error
    return data


# ---------------------------------------------------------------------- data
_FIRING: "weakref.WeakKeyDictionary[Any, dict[Any, Any]]" = weakref.WeakKeyDictionary()
_FIRING_LOCK = threading.Lock()
_FIRING_KEEP = 12


def layer_statistics(model: Any, layer: str, data: Any, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per image and map of ``layer``: the strongest cell and the map's mean, over ``data``.

    Computed in batches (float32, never the whole layer at once) and kept per model
    version and data array, so a second call is free and a retrained model
    computes afresh.

    Returns:
        ``(peaks, means)``, each ``(len(data), maps)``.
    """
    if data is None or isinstance(data, (str, bytes)) or not hasattr(data, "__len__"):
        raise TypeError(f"data must be an array of images; got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError("data must hold at least one image")
    _whole(batch_size, "batch_size", 1, "a whole number ≥ 1")
    key = (model.version, layer, id(data), len(data))
    with _FIRING_LOCK:
        kept = _FIRING.setdefault(model, {})
        for old in [k for k in kept if k[0] != model.version]:
            del kept[old]
        found = kept.get(key)
    if found is not None and found[0] is data:
        return found[1], found[2]
    peaks, means = [], []
    for begin in range(0, len(data), batch_size):
        values = model.activations(data[begin:begin + batch_size], layer, batch_size=batch_size)[layer]
        peaks.append(values.max(axis=(1, 2)).astype(np.float32))
        means.append(values.mean(axis=(1, 2)).astype(np.float32))
    result = (np.concatenate(peaks), np.concatenate(means))
    with _FIRING_LOCK:
        kept = _FIRING.setdefault(model, {})
        kept[key] = (data, *result)
        while len(kept) > _FIRING_KEEP:  # the oldest first: a few data sets and layers are kept
            del kept[next(iter(kept))]
    return result


def _data_starts(model: Any, layer: str, data: Any, maps: np.ndarray,
                 nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each item, the data image with its highest objective, and whether the map
    fires on any data image at all (from the layer's kept statistics: no new pass).

    For a node item this is the map's image and the map's firing; :func:`_node_starts`
    finds the node's own best image when it is needed.
    """
    if len(data) == 0:
        raise ValueError("data must hold at least one image")
    peaks, means = layer_statistics(model, layer, data)
    columns = means[:, maps]
    best = np.argmax(columns, axis=0).astype(np.int64)
    fires = (peaks[:, maps].max(axis=0) > 0) & (columns[best, np.arange(len(maps))] > 0)
    return best, fires


def _node_starts(model: Any, layer: str, data: Any, maps: np.ndarray,
                 nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For node items: the data image where the node is highest, and whether it is > 0 there."""
    values = []
    for begin in range(0, len(data), 256):
        out = model.activations(data[begin:begin + 256], layer)[layer]
        values.append(out[:, nodes[:, 0], nodes[:, 1], maps])
    column = np.concatenate(values)  # (images, items)
    return np.argmax(column, axis=0).astype(np.int64), column.max(axis=0) > 0


# ---------------------------------------------------------------------- engine
class _Engine:
    """Compiled probe / step for one layer of one model, any mix of maps and nodes."""

    def __init__(self, model: Any, layer: str, restandardize: bool) -> None:
        from ...model.backend import tf

        net = model.keras_model
        target = net.get_layer(layer)
        head, activation = _heads(net, target)
        self.has_pre = activation is not None
        low = tf.constant(model.standardize(np.zeros(model.input_shape[-1], np.float32)))
        high = tf.constant(model.standardize(np.ones(model.input_shape[-1], np.float32)))
        spec_x = tf.TensorSpec((None, *model.input_shape), tf.float32)
        spec_maps = tf.TensorSpec((None,), tf.int32)
        spec_masks = tf.TensorSpec((None, None, None), tf.float32)
        spec_eps = tf.TensorSpec((), tf.float32)

        def values(x: tf.Tensor, maps: tf.Tensor, masks: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            pre = head(x, maps)  # (N, h, w): image n's own map, before the activation (if known)
            post = activation(pre) if activation is not None else pre
            return (tf.reduce_sum(post * masks, axis=(1, 2)), tf.reduce_sum(pre * masks, axis=(1, 2)))

        def gradient(x: tf.Tensor, maps: tf.Tensor, masks: tf.Tensor, use_pre: tf.Tensor):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(x)
                post, before = values(x, maps, masks)
                # images are independent: one sum gives every image's gradient; an item
                # being rescued ascends its pre-activation, the others their objective
                total = tf.reduce_sum(tf.where(use_pre, before, post))
            return post, tape.gradient(total, x)

        # Plain graph mode: for batches of images oneDNN's convolutions beat XLA's on a
        # CPU (128 images: 18 ms a step against 72 ms with XLA).
        @tf.function(input_signature=[spec_x, spec_maps, spec_masks])
        def probe(x, maps, masks):
            value, grad = gradient(x, maps, masks, tf.zeros(tf.shape(maps), tf.bool))
            return value, tf.sqrt(tf.reduce_mean(tf.square(grad), axis=(1, 2, 3)))

        @tf.function(input_signature=[spec_x, spec_maps, spec_masks, tf.TensorSpec((None,), tf.bool), spec_eps])
        def ascend(x, maps, masks, use_pre, epsilon):
            value, grad = gradient(x, maps, masks, use_pre)
            rms = tf.sqrt(tf.reduce_mean(tf.square(grad), axis=(1, 2, 3), keepdims=True))
            moved = x + epsilon * grad / (rms + 1e-8)
            if restandardize:
                mean = tf.reduce_mean(moved, axis=(1, 2, 3), keepdims=True)
                std = tf.math.reduce_std(moved, axis=(1, 2, 3), keepdims=True)
                moved = (moved - mean) / (std + 1e-8)
            return value, tf.clip_by_value(moved, low, high)

        self._probe, self._ascend = probe, ascend
        self._tf = tf

    def probe(self, x: Any, maps: Any, masks: Any) -> tuple[np.ndarray, np.ndarray]:
        """Objective and gradient RMS of each image."""
        value, rms = self._probe(x, maps, masks)
        return value.numpy(), rms.numpy()

    def step(self, x: Any, maps: Any, masks: Any, use_pre: Any, epsilon: Any) -> tuple[Any, Any]:
        """One ascent step on tensors: (objective before the step, moved images)."""
        return self._ascend(x, maps, masks, use_pre, epsilon)

    def blur(self, x: Any, sigma: float) -> Any:
        tf = self._tf
        radius = max(1, int(math.ceil(2 * sigma)))
        taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
        taps /= taps.sum()
        channels = int(x.shape[-1])
        kernel = np.outer(taps, taps)[:, :, None, None] * np.ones((1, 1, channels, 1))
        height = int(x.shape[1])
        mode = "REFLECT" if radius < height else "SYMMETRIC"
        padded = tf.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode=mode)
        return tf.nn.depthwise_conv2d(padded, tf.constant(kernel, tf.float32), [1, 1, 1, 1], "VALID")


def _heads(net: Any, target: Any) -> tuple[Callable[[Any, Any], Any], Callable[[Any], Any] | None]:
    """Image n's map ``maps[n]`` of ``target`` before its activation, and that activation.

    - a plain Conv2D: only each image's own map is computed (one kernel per image on
      extracted patches), before the activation; for conv3 of the embedded model
      that skips 127 of 128 output maps;
    - a max-pooling layer right over such a convolution with a monotone activation:
      the pooled pre-activation (max-pooling and the activation commute);
    - anything else: the layer's output, every map computed; no pre-activation (None).
    """
    from ...model.backend import keras

    def plain_conv(layer: Any) -> bool:
        return (type(layer) is keras.layers.Conv2D and layer.groups == 1
                and layer.data_format == "channels_last")

    def nonlinear(layer: Any) -> Callable[[Any], Any] | None:
        name = getattr(layer.activation, "__name__", "linear")
        return None if name == "linear" else layer.activation

    if plain_conv(target):
        return _conv_head(net, target), nonlinear(target)
    if type(target) is keras.layers.MaxPooling2D and target.data_format == "channels_last":
        from ...model.layers import inbound_names

        parents = inbound_names(target)
        below = net.get_layer(parents[0]) if len(parents) == 1 else None
        if below is not None and plain_conv(below) and (
                nonlinear(below) is None or getattr(below.activation, "__name__", "") in _MONOTONE):
            conv = _conv_head(net, below)
            pool, strides = target.pool_size, target.strides
            padding = target.padding.upper()

            def pooled(x: Any, maps: Any) -> Any:
                from ...model.backend import tf

                own = conv(x, maps)[..., None]
                return tf.nn.max_pool2d(own, pool, strides, padding)[..., 0]

            return pooled, nonlinear(below)
    return _all_maps(net, target), None


def _all_maps(net: Any, target: Any) -> Callable[[Any, Any], Any]:
    """Image n's map ``maps[n]`` of ``target``, computing every map of the layer."""
    from ...model.backend import keras, tf

    head = keras.Model(net.inputs[0], target.output)

    def own_maps(x: Any, maps: Any) -> Any:
        out = head(x, training=False)  # (N, h, w, C)
        return tf.gather(tf.transpose(out, (0, 3, 1, 2)), maps, axis=1, batch_dims=1)

    return own_maps


def _conv_head(net: Any, target: Any) -> Callable[[Any, Any], Any]:
    """For a plain Conv2D: each image's own map, before the activation function.

    The layer below runs as usual; the target convolution is applied with one
    kernel per image (``maps[n]``) on extracted patches.
    """
    from ...model.backend import keras, tf

    below = keras.Model(net.inputs[0], target.input)
    kh, kw = target.kernel_size
    sh, sw = target.strides
    dh, dw = target.dilation_rate
    padding = target.padding.upper()

    def own_maps(x: Any, maps: Any) -> Any:
        inputs = below(x, training=False)
        patches = tf.image.extract_patches(inputs, [1, kh, kw, 1], [1, sh, sw, 1], [1, dh, dw, 1], padding)
        kernel = tf.reshape(tf.gather(target.kernel, maps, axis=3), (-1, tf.shape(maps)[0]))  # (k, N)
        out = tf.einsum("nhwk,kn->nhw", patches, kernel)
        if target.use_bias:
            out = out + tf.gather(target.bias, maps)[:, None, None]
        return out

    return own_maps


def _engine(model: Any, layer: str, restandardize: bool) -> _Engine:
    key = ("oip-engine", layer, bool(restandardize))
    return model.cached(key, lambda: _Engine(model, layer, restandardize))
