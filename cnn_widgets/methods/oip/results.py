"""What OIP runs return: :class:`OIPResult` (one image per item), :class:`OIPSeries` (one map
from seeds × wavelengths) and :class:`NodeSweep` (one map's nodes), with their pictures and
PNG / GIF export."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...checks import checked_output, whole_number
from .consistency import score_text
from .marks import STILL_START, rescue_text
from .figures import grid_labels, labelled_grid_gif, labelled_grid_png, result_labels, strip_png
from .pictures import pattern_picture
from .settings import OIPSettings

__all__ = ["NodeSweep", "OIPResult", "OIPSeries"]


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
            ``"wavelength"``, ``"pre-activation"`` or ``"data"`` (from a real image);
            ``"dead"`` if never.
        rescued: Maps that were dead on their first noise and came alive.
        dead: Maps that stayed dead (objective and gradient 0): no pattern.
        silent: Maps that fire on none of the real images given (they may still
            get a pattern from noise: pictures mark them with a corner); None
            when no images were given.
        cancelled: True when the run was stopped before its last step.
        settings: The settings of the run.
        start_index: Per image, the real image it restarted from (``revival == "data"``),
            else -1.
        start_objective: Per image, its objective on that real image (NaN if none).
        start_correlation: Per image, the correlation of its final image with that real
            image (NaN if none): ≥ :data:`~.marks.STILL_START` means no pattern was grown.
        fields: ``(n, 4)`` the input box ``(top, left, bottom, right)`` (exclusive) each
            image's objective sees: a node's receptive field, else the whole image.
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
    settings: OIPSettings = field(default_factory=OIPSettings)
    start_index: np.ndarray | None = None
    start_objective: np.ndarray | None = None
    start_correlation: np.ndarray | None = None
    fields: np.ndarray | None = None

    @property
    def alive(self) -> np.ndarray:
        """Per image: True when it has a pattern (its map fired)."""
        return np.asarray([how != "dead" for how in self.revival], bool) if self.revival \
            else np.ones(len(self.maps), bool)

    @property
    def from_data(self) -> np.ndarray:
        """Per image: True when it started from a real image (its map fires on no noise);
        pictures frame these tiles."""
        return np.asarray([how == "data" for how in self.revival], bool) if self.revival \
            else np.zeros(len(self.maps), bool)

    @property
    def gain(self) -> np.ndarray:
        """Per image: the objective gained by the ascent from its real start image (NaN if none)."""
        start = self.start_objective if self.start_objective is not None else np.full(len(self.maps), np.nan)
        return np.where(self.from_data, self.history[-1] - start, np.nan)

    @property
    def still_start(self) -> np.ndarray:
        """Per image: True when it started from a real image and still is that image
        (correlation ≥ :data:`~.marks.STILL_START`): no pattern was grown."""
        if self.start_correlation is None:
            return np.zeros(len(self.maps), bool)
        return self.from_data & (np.nan_to_num(self.start_correlation, nan=0.0) >= STILL_START)

    def rescue_note(self, map_index: int) -> str:
        """How map ``map_index``'s (first) image came alive, in one line: on its first noise,
        by longer-wavelength noise, by its pre-activation, from which real image (with its
        objective there, the gain and whether it moved away from it), or not at all."""
        at = self._position(map_index)
        how = self.revival[at] if self.revival else ""
        start = self.start_index[at] if self.start_index is not None else -1
        begun = self.start_objective[at] if self.start_objective is not None else float("nan")
        moved = self.start_correlation[at] if self.start_correlation is not None else float("nan")
        return rescue_text(how, int(start), float(begun), float(self.history[-1][at]), float(moved))

    def rescue_notes(self) -> dict[int, str]:
        """Per rescued or dead map (first image of each), :meth:`rescue_note`."""
        return {int(m): self.rescue_note(int(m)) for m in dict.fromkeys(self.maps.tolist())
                if (self.revival[self._position(int(m))] if self.revival else "") != ""}

    @property
    def never_fires(self) -> np.ndarray:
        """Per image: True when its map fires on none of the real images (False without images)."""
        return np.isin(self.maps, self.silent or [])

    def _position(self, map_index: Any) -> int:
        if isinstance(map_index, (bool, np.bool_)) or not isinstance(map_index, numbers.Integral):
            raise TypeError(f"map_index must be a map of this result ({self.maps.tolist()}) or None for all; "
                            f"got {map_index!r:.60}")
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
        images, marks = self.frames[_frame(frame, len(self.frames))], self.marks()
        if map_index is not None:
            at = slice(self._position(map_index), self._position(map_index) + 1)
            images, marks = images[at], {name: None if value is None else value[at] for name, value in marks.items()}
        return pattern_picture(images, contrast, columns=columns, **marks)

    def marks(self, count: int | None = None) -> dict[str, np.ndarray | None]:
        """The keyword arguments of :func:`~.pictures.pattern_picture` that mark the first
        ``count`` images (all by default): dead (cross), silent (corner), from a real image
        (frame), the node's field (greyed outside, outlined)."""
        at = slice(0, len(self.maps) if count is None else count)
        alive = self.alive[at]
        return {"marked": ~alive, "corner": (self.never_fires[at] & alive), "framed": self.from_data[at] & alive,
                "fields": None if self.fields is None else self.fields[at]}

    def save_png(self, path: str | Path, map_index: int | None = None, *, contrast: float = 0.0,
                 zoom: int = 8, columns: int | None = None) -> Path:
        """Save one map's pattern, or the mosaic of all images (``map_index=None``), as PNG."""
        path = checked_output(path, (".png",), "PNG path")
        path.write_bytes(self.png_bytes(map_index, contrast=contrast, zoom=zoom, columns=columns))
        return path

    def png_bytes(self, map_index: int | None = None, *, contrast: float = 0.0, zoom: int = 8,
                  columns: int | None = None) -> bytes:
        """One map's pattern, or the mosaic, as PNG bytes, enlarged ``zoom`` times, with its title,
        map numbers, axes and the legend of its marks (:mod:`.figures`)."""
        labels, grid = result_labels(self, map_index, -1, contrast, columns)
        return labelled_grid_png(self.picture(map_index, contrast=contrast, columns=columns), zoom, labels, grid)

    def strip_png(self, map_index: int, *, contrast: float = 0.0, zoom: int = 4) -> bytes:
        """The emergence of one map as a strip of its recorded frames, each with its step number."""
        return strip_png(self, map_index, contrast=contrast, zoom=zoom)

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
        """The emergence as GIF bytes (see :meth:`save_gif`)."""
        durations = _durations(duration_ms, hold_ms)
        greys = [self.picture(map_index, frame=index, contrast=contrast, columns=columns)
                 for index in range(len(self.frames))]
        labels = [result_labels(self, map_index, index, contrast, columns) for index in range(len(self.frames))]
        return labelled_grid_gif(greys, zoom, [label for label, _ in labels], labels[0][1], *durations)


class _GridPicture:
    """PNG and GIF output for a class with ``picture(contrast, frame=...)`` and ``result``."""

    result: OIPResult

    def picture(self, contrast: float = 0.0, *, frame: int = -1) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def png_bytes(self, contrast: float = 0.0, zoom: int = 4) -> bytes:
        """The picture as PNG bytes, with its title, row and column labels and legend."""
        labels, grid = grid_labels(self, -1, contrast)
        return labelled_grid_png(self.picture(contrast), zoom, labels, grid)

    def save_png(self, path: str | Path, contrast: float = 0.0, zoom: int = 4) -> Path:
        """Save the picture as PNG."""
        path = checked_output(path, (".png",), "PNG path")
        path.write_bytes(self.png_bytes(contrast, zoom))
        return path

    def gif_bytes(self, contrast: float = 0.0, zoom: int = 4, duration_ms: int = 120,
                  hold_ms: int = 1200) -> bytes:
        """The emergence (one frame per recorded step) as GIF bytes."""
        durations = _durations(duration_ms, hold_ms)
        count = len(self.result.frames)
        labels = [grid_labels(self, index, contrast) for index in range(count)]
        return labelled_grid_gif([self.picture(contrast, frame=index) for index in range(count)], zoom,
                                 [label for label, _ in labels], labels[0][1], *durations)


@dataclass
class OIPSeries(_GridPicture):
    """One map grown from N seeds at M wavelengths in one batched call (the seed's series).

    Attributes:
        layer: The layer.
        map_index: The map.
        seeds: The N seeds (columns of the grid).
        wavelengths: The M wavelengths (rows of the grid).
        result: The batched run: the M·N series images first (row by row), then the
            shuffled-map baseline images.
        objectives: ``(M, N)`` the objective each image reached.
        consistency: ``(M,)`` per wavelength: mean pairwise correlation of the N OIPs,
            each pair at its best relative shift within ``±max_shift`` px
            (:func:`~.consistency.consistency`).
        baseline: ``(M,)`` the same score for N OIPs of other maps (one per seed):
            what two unrelated patterns share; NaN for a layer with one map.
        baseline_maps: ``(M, N)`` the other maps of that baseline.
        max_shift: The shift tolerance of both scores, px.
        unblurred: ``(M, N)`` with blur on: the objective the same starts reach without
            blur (what the blur cost); None without blur (or when not asked for).
    """

    layer: str
    map_index: int
    seeds: list[int]
    wavelengths: list[float]
    result: OIPResult
    objectives: np.ndarray
    consistency: np.ndarray
    baseline: np.ndarray
    baseline_maps: np.ndarray
    max_shift: int = 0
    unblurred: np.ndarray | None = None

    @property
    def blur_loss(self) -> np.ndarray | None:
        """``(M,)`` the share of the objective lost to blur per wavelength (mean objective with blur
        against without: 0.85 = 85 % lost); None without :attr:`unblurred`."""
        if self.unblurred is None:
            return None
        plain = self.unblurred.mean(axis=1)
        return np.where(plain > 0, 1.0 - self.objectives.mean(axis=1) / np.where(plain > 0, plain, 1.0), np.nan)

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
        images = self.result.frames[_frame(frame, len(self.result.frames))][:m * n]
        return pattern_picture(images, contrast, columns=n, always_mosaic=True, **self.result.marks(m * n))

    def summary(self) -> list[str]:
        """One line per wavelength: objectives reached (and, with blur, what the blur cost) and
        the consistency score beside the other maps'."""
        lines = []
        loss = self.blur_loss
        shift = f" (±{self.max_shift} px shifts)" if self.max_shift else ""
        for row, wavelength in enumerate(self.wavelengths):
            values = self.objectives[row]
            paid = "" if loss is None else (f"; without blur {self.unblurred[row].mean():.2f}: blur costs "
                                             f"{100 * loss[row]:.0f} % of it")
            lines.append(f"λ {wavelength:g}: objective {values.min():.2f}–{values.max():.2f} "
                         f"(mean {values.mean():.2f}{paid}); consistency{shift} {score_text(self.consistency[row])} "
                         f"(other maps {score_text(self.baseline[row])})")
        return lines


@dataclass
class NodeSweep(_GridPicture):
    """Node OIPs of one map for many positions, in one batched call.

    Every node starts from the same noise, so the differences between the images
    show how the pattern moves with the node's position.

    Attributes:
        layer: The layer.
        map_index: The map.
        positions: ``(P, 2)`` the node (row, col) of each image.
        shape: ``(rows, cols)`` of the map.
        result: The batched run.
        objectives: ``(P,)`` the node value each image reached.
    """

    layer: str
    map_index: int
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
        return pattern_picture(self.result.frames[_frame(frame, len(self.result.frames))], contrast,
                               columns=columns, always_mosaic=True, **self.result.marks())


def _frame(frame: Any, count: int) -> int:
    """A frame index: 0…count-1, or negative from the end (-1: the last)."""
    allowed = f"a whole number in 0–{count - 1} (or -1 for the last)"
    if isinstance(frame, (bool, np.bool_)) or not isinstance(frame, numbers.Integral):
        raise TypeError(f"frame must be {allowed}; got {frame!r:.60}")
    if not -count <= frame < count:
        raise ValueError(f"frame must be {allowed}; got {frame!r}")
    return int(frame)


def _durations(duration_ms: Any, hold_ms: Any) -> tuple[int, int]:
    """GIF frame times: ``duration_ms`` per frame, ``hold_ms`` on the last (whole ms, 1–60,000)."""
    return (whole_number(duration_ms, "duration_ms", 1, 60_000, unit="ms"),
            whole_number(hold_ms, "hold_ms", 1, 60_000, unit="ms"))
