"""A training run replayed: every snapshot as a picture, a PNG or a GIF of the whole run."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..render import labelled_gif, labelled_png, mosaic, palette_image, scale
from .figures import replay_labels
from .snapshots import Snapshot

__all__ = ["KINDS", "RANKING_SCALE", "Replay"]

#: What a snapshot shows, each as a picture: name → (title, colour map).
KINDS = {
    "kernels": ("first-layer kernels", "diverging"),
    "decoded": ("decoded filters", "diverging"),
    "oip": ("OIP of one map", "grey"),
    "maps": ("maps of one test digit", "grey"),
    "ranking": ("Cohen's d per map", "diverging"),
    "confusion": ("confusion matrix (rows: true class)", "viridis"),
}
#: |d| drawn full height in the ranking picture (larger values are clipped).
RANKING_SCALE = 3.0


def _signed_tiles(stack: np.ndarray) -> Any:
    """Tiles ``(h, w, count)`` on a diverging scale centred on 0, one scale for all of them."""
    peak = max(float(np.abs(stack).max()), 1e-12)
    return mosaic(stack, value_range=(-peak, peak))



def _ranking_picture(scores: np.ndarray, height: int = 33) -> np.ndarray:
    """One column per map: a bar up (first class) or down (second), |d| clipped at RANKING_SCALE."""
    half = height // 2
    picture = np.full((height, len(scores)), 255, np.uint8)  # the gap colour: white
    picture[half, :] = 127
    for column, value in enumerate(np.clip(scores / RANKING_SCALE, -1.0, 1.0)):
        length = int(round(abs(value) * half))
        colour = scale(np.array(value), -1.0, 1.0)
        if value > 0:
            picture[half - length:half, column] = colour
        elif value < 0:
            picture[half + 1:half + 1 + length, column] = colour
    return picture



class Replay:
    """The snapshots of one run, in order, as pictures, PNGs and GIFs.

    Args:
        frames: The snapshots, as recorded.
        class_names: The model's class names (for the confusion matrix).
        plan: The plan the snapshots were recorded with (names layers and maps in the titles).

    Attributes:
        frames: The snapshots (the very objects recorded).
    """

    def __init__(self, frames: Sequence[Snapshot], class_names: Sequence[str] = (), plan: Any = None) -> None:
        self.frames: tuple[Snapshot, ...] = tuple(frames)
        self.class_names = list(class_names)
        self.plan = plan

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> Snapshot:
        return self.frames[index]

    def kinds(self) -> list[str]:
        """The kinds of picture these snapshots hold (see :data:`KINDS`)."""
        if not self.frames:
            return []
        first = self.frames[0]
        present = {"kernels": True, "decoded": first.decoded is not None, "oip": first.oip is not None,
                   "maps": first.maps is not None, "ranking": first.scores is not None, "confusion": True}
        return [kind for kind in KINDS if present[kind]]

    def _frame(self, index: int) -> Snapshot:
        if not self.frames:
            raise ValueError("this replay has no snapshots yet")
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not (
                -len(self.frames) <= index < len(self.frames)):
            raise ValueError(f"frame must be 0–{len(self.frames) - 1}; got {index!r}")
        return self.frames[index]

    def picture(self, kind: str, index: int = -1) -> tuple[np.ndarray, str]:
        """Frame ``index`` of ``kind`` as palette indices (uint8, 2-D) and its colour map.

        Raises:
            ValueError: An unknown kind, one not recorded, or a frame out of range.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
        frame = self._frame(index)
        colormap = KINDS[kind][1]
        if kind not in self.kinds():
            raise ValueError(f"{kind!r} was not recorded in this run; recorded: {', '.join(self.kinds())}")
        if kind == "kernels":
            return _signed_tiles(frame.kernels.mean(axis=2)).indices, colormap
        if kind == "decoded":
            return _signed_tiles(np.moveaxis(frame.decoded.mean(axis=3), 0, -1)).indices, colormap
        if kind == "oip":
            grey = frame.oip.mean(axis=2)
            low, high = float(grey.min()), float(grey.max())
            return scale(grey, low, high if high > low else low + 1.0), colormap
        if kind == "maps":
            return mosaic(frame.maps).indices, colormap
        if kind == "ranking":
            return _ranking_picture(frame.scores), colormap
        rows = frame.confusion.sum(axis=1, keepdims=True)
        return scale(frame.confusion / np.maximum(rows, 1), 0.0, 1.0), colormap

    def png_bytes(self, kind: str, index: int = -1, *, zoom: int | None = None) -> bytes:
        """Frame ``index`` of ``kind`` as a PNG, enlarged ``zoom`` times (default: to about
        400 pixels wide), with its title (the point in training), axes, indices and colour scale."""
        image, zoom = self._image(kind, index, zoom)
        labels, grid = replay_labels(self, kind, index, self._scale_note(kind, index))
        return labelled_png(image, labels, grid=grid, zoom=zoom)

    def gif_bytes(self, kind: str, *, zoom: int | None = None, duration_ms: int = 400,
                  hold_ms: int = 1500) -> bytes:
        """Every frame of ``kind`` as an animated GIF (Pillow writes it); ``zoom`` as
        for :meth:`png_bytes`."""
        if not self.frames:
            raise ValueError("this replay has no snapshots yet")
        shown = [self._image(kind, index, zoom) for index in range(len(self.frames))]
        labels = [replay_labels(self, kind, index, self._scale_note(kind, index)) for index in range(len(self.frames))]
        return labelled_gif([image for image, _ in shown], [label for label, _ in labels], duration_ms, hold_ms,
                            grid=labels[0][1], zoom=shown[0][1])

    def _scale_note(self, kind: str, index: int) -> str:
        """The value at the ends of the colour scale of ``kind`` at frame ``index``."""
        frame = self._frame(index)
        values = {"kernels": frame.kernels, "decoded": frame.decoded, "maps": frame.maps}.get(kind)
        return f"{float(np.abs(values).max()):.3g}" if values is not None else ""

    def _image(self, kind: str, index: int, zoom: int | None) -> tuple[Any, int]:
        indices, colormap = self.picture(kind, index)
        if zoom is None:
            zoom = max(1, min(40, round(400 / indices.shape[1])))
        if isinstance(zoom, bool) or not isinstance(zoom, (int, np.integer)) or not 1 <= zoom <= 64:
            raise ValueError(f"zoom must be an integer 1–64; got {zoom!r}")
        return palette_image(indices, colormap, zoom), zoom

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(epoch positions, values)`` of a per-snapshot figure: ``"accuracy"`` (probe
        accuracy) or a log entry such as ``"loss"`` (frames without it are left out).

        Raises:
            ValueError: A name that is neither (the message lists the names there are)."""
        allowed = ["accuracy", *sorted({key for f in self.frames for key in f.logs})]
        if name not in allowed:
            raise ValueError(f"no curve named {name!r}; this replay has: {', '.join(allowed)}")
        points = [(f.epoch, f.accuracy if name == "accuracy" else f.logs.get(name)) for f in self.frames]
        points = [(x, y) for x, y in points if y is not None]
        return np.array([p[0] for p in points], float), np.array([p[1] for p in points], float)

