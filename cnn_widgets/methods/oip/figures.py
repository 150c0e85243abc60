"""The words of every OIP picture: title, map numbers on atlas tiles, wavelengths and seeds of a
series, node positions of a sweep, step numbers of frames and strips, and the legend of the
cross and corner marks — handed to :mod:`cnn_widgets.render.figure`, which draws them."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...render import default_columns, grey_frame
from ...render.figure import Grid, Labels, labelled_gif, labelled_png

__all__ = ["grid_labels", "grid_of", "labelled_grid_gif", "labelled_grid_png", "result_labels", "strip_png"]

CROSS = ("cross", "no pattern: the map stayed dead (not its start noise)")
CORNER = ("corner", "never fires on the images given (the pattern grew from noise)")


def _legend(result: Any, count: int | None = None, position: int | None = None) -> list[tuple[str, str]]:
    """The legend entries of the marks drawn on these tiles (only those that occur)."""
    from .marks import MARKS as WORDS

    marks = result.marks(count) if hasattr(result, "marks") else {
        "marked": ~result.alive, "corner": result.never_fires & result.alive}
    if position is not None:
        marks = {name: None if value is None else value[position:position + 1] for name, value in marks.items()}
    legend = []
    if marks.get("marked") is not None and marks["marked"].any():
        legend.append(CROSS)
    if marks.get("corner") is not None and marks["corner"].any():
        legend.append(CORNER)
    if marks.get("framed") is not None and marks["framed"].any():
        legend.append(("frame", WORDS["frame"]))
    fields, (h, w) = marks.get("fields"), result.images.shape[1:3]
    if fields is not None and any(tuple(int(v) for v in box) != (0, 0, h, w) for box in fields):
        legend.append(("field", WORDS["field"]))
    return legend


def grid_of(count: int, tile: tuple[int, int], columns: int | None) -> Grid:
    """The grid :func:`cnn_widgets.methods.oip.pattern_picture` lays ``count`` tiles on."""
    columns = min(columns, count) if columns else default_columns(count, tile)
    return Grid(tuple(tile), 1, columns, count)


def _how(settings: Any) -> str:
    parts = [f"{settings.steps} steps", f"start noise wavelength {settings.wavelength:g} px", f"seed {settings.seed}"]
    if settings.blur_every:
        parts.append(f"blur sigma {settings.blur_sigma:g} px every {settings.blur_every} steps")
    return ", ".join(parts)


def _step_note(steps: list[int], frame: int, total: int, contrast: float) -> str:
    step = steps[frame] if steps else total
    shown = "plain" if not contrast else f"contrast {contrast:g} (display only)"
    return f"step {step} of {total}; grey levels: each tile stretched to its own min..max, {shown}"


def result_labels(result: Any, map_index: int | None, frame: int = -1, contrast: float = 0.0,
                  columns: int | None = None) -> tuple[Labels, Grid | None]:
    """Labels (and grid) of an :class:`OIPResult` picture: one map, or the atlas of all images."""
    settings = result.settings
    frame = frame % len(result.frames)
    node = f" node {tuple(result.node)}" if result.node is not None else ""
    note = _step_note(list(result.frame_steps), frame, int(result.history.shape[0] - 1), contrast)
    h, w = result.images.shape[1:3]
    if map_index is not None:
        position = result._position(map_index)
        how = result.revival[position] if result.revival else ""
        revived = f" (revived by {how})" if how and how != "dead" else ""
        legend = _legend(result, position=position)
        labels = Labels(f"OIP of {result.layer} map {map_index}{node}{revived}: the input it reacts to most",
                        x_label=f"input column (0-{w - 1} px); {_how(settings)}",
                        y_label=f"input row (0-{h - 1} px)", legend=legend, note=note)
        return labels, None
    legend = _legend(result)
    revived = sum(1 for how in result.revival if how not in ("", "dead"))
    extra = f"; {revived} revived after a dead start" if revived else ""
    labels = Labels(f"OIPs of {result.layer}{node}: {len(result.maps)} maps{extra}",
                    x_label=f"map number above each tile (reading order), each tile the {h}x{w} input; "
                            f"{_how(settings)}",
                    y_label="rows of maps", tiles=[str(int(m)) for m in result.maps], legend=legend, note=note)
    return labels, grid_of(len(result.maps), (h, w), columns)


def grid_labels(found: Any, frame: int = -1, contrast: float = 0.0) -> tuple[Labels, Grid]:
    """Labels of a series (wavelengths × seeds) or of a node sweep."""
    return series_labels(found, frame, contrast) if hasattr(found, "wavelengths") else \
        nodes_labels(found, frame, contrast)


def series_labels(found: Any, frame: int = -1, contrast: float = 0.0) -> tuple[Labels, Grid]:
    """Labels of an :class:`OIPSeries` grid: rows are wavelengths, columns seeds."""
    result = found.result
    frame = frame % len(result.frames)
    h, w = result.images.shape[1:3]
    rows = [f"{wavelength:g} px  c={value:.2f}" if np.isfinite(value) else f"{wavelength:g} px"
            for wavelength, value in zip(found.wavelengths, found.consistency)]
    legend = _legend(result, len(found.seeds) * len(found.wavelengths))
    labels = Labels(f"OIP series of {found.layer} map {found.map_index}: {len(found.seeds)} seeds x "
                    f"{len(found.wavelengths)} wavelengths",
                    x_label="seed of the start noise; c = consistency (mean correlation across seeds)",
                    y_label="start noise wavelength", rows=rows, columns=[f"seed {s}" for s in found.seeds],
                    legend=legend,
                    note=_step_note(list(result.frame_steps), frame, int(result.history.shape[0] - 1), contrast))
    return labels, Grid((h, w), 1, len(found.seeds), len(found.seeds) * len(found.wavelengths))


def nodes_labels(found: Any, frame: int = -1, contrast: float = 0.0) -> tuple[Labels, Grid]:
    """Labels of a :class:`NodeSweep`: laid out like the map's nodes, or each tile named by its node."""
    result = found.result
    frame = frame % len(result.frames)
    h, w = result.images.shape[1:3]
    legend = _legend(result)
    note = _step_note(list(result.frame_steps), frame, int(result.history.shape[0] - 1), contrast)
    title = f"Node OIPs of {found.layer} map {found.map_index}: one image per node, all from the same noise"
    if found.full_grid:
        rows, cols = found.shape
        labels = Labels(title, x_label="node column of the map", y_label="node row of the map",
                        rows=[f"row {r}" for r in range(rows)], columns=[f"col {c}" for c in range(cols)],
                        legend=legend, note=note)
        return labels, Grid((h, w), 1, cols, rows * cols)
    positions = [f"({int(r)},{int(c)})" for r, c in found.positions]
    labels = Labels(title, x_label="node (row, col) above each image", y_label="", tiles=positions,
                    legend=legend, note=note)
    return labels, grid_of(len(positions), (h, w), None)


def labelled_grid_png(grey: np.ndarray, zoom: int, labels: Labels, grid: Grid | None) -> bytes:
    """Grey levels in [0, 1] enlarged ``zoom`` times, with their labels, as PNG bytes."""
    return labelled_png(grey_frame(grey, zoom), labels, grid=grid, zoom=zoom)


def labelled_grid_gif(greys: list[np.ndarray], zoom: int, labels: list[Labels], grid: Grid | None,
                      duration_ms: int, hold_ms: int) -> bytes:
    """Grey frames, each with its labels (the step in its note), as an animated GIF."""
    return labelled_gif([grey_frame(grey, zoom) for grey in greys], labels, duration_ms, hold_ms, grid=grid,
                        zoom=zoom)


def strip_png(result: Any, map_index: int, *, contrast: float = 0.0, zoom: int = 4) -> bytes:
    """The emergence of one map as a strip of its frames, each with its step number."""
    from .pictures import pattern_picture

    position = result._position(map_index)
    frames = result.frames[:, position]
    grey = pattern_picture(frames, contrast, columns=len(frames), always_mosaic=True)
    h, w = frames.shape[1:3]
    labels = Labels(f"Emergence of the OIP of {result.layer} map {map_index}",
                    x_label=f"gradient-ascent step above each frame; {_how(result.settings)}",
                    tiles=[f"step {s}" for s in result.frame_steps],
                    note="each frame stretched to its own min..max" + (f", contrast {contrast:g}" if contrast else ""))
    return labelled_grid_png(grey, zoom, labels, Grid((h, w), 1, len(frames), len(frames)))
