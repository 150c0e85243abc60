"""The words of a replay's pictures: title with the snapshot's point in training, kernel and
map numbers on tiles, the confusion matrix's axes (true class down, predicted across) and
colour scale, the Cohen's d ranking's axes — for :mod:`cnn_widgets.render.figure`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..render import default_columns
from ..render.figure import Grid, Labels

__all__ = ["replay_labels"]


def _tiles(count: int, tile: tuple[int, int]) -> Grid:
    return Grid(tile, 1, default_columns(count, tile), count)


def replay_labels(replay: Any, kind: str, index: int, scale_note: str = "") -> tuple[Labels, Grid | None]:
    """Labels (and grid) of frame ``index`` of ``kind`` in ``replay``."""
    frame = replay._frame(index)
    plan = replay.plan
    when = f"{frame.label}; accuracy {100 * frame.accuracy:.1f} %"
    if kind == "kernels":
        count, tile = frame.kernels.shape[-1], frame.kernels.shape[:2]
        return Labels(f"First-layer kernels, {when}", x_label=f"kernel number above each tile; each tile its "
                      f"{tile[0]}x{tile[1]} weights (mean over input channels)",
                      tiles=[str(i) for i in range(count)], colorbar=("diverging", f"-{scale_note}", f"+{scale_note}"),
                      note="red +, blue -, one scale"), _tiles(count, tuple(tile))
    if kind == "decoded":
        count, tile = frame.decoded.shape[0], frame.decoded.shape[1:3]
        layer = getattr(plan, "decode_layer", None) or "a conv layer"
        return Labels(f"Decoded filters of {layer}, {when}", x_label=f"map number above each tile; each tile "
                      f"a {tile[0]}x{tile[1]} px filter in image space (mean over channels)",
                      tiles=[str(i) for i in range(count)], colorbar=("diverging", f"-{scale_note}", f"+{scale_note}"),
                      note="red +, blue -, one scale"), _tiles(count, tuple(tile))
    if kind == "oip":
        h, w = frame.oip.shape[:2]
        what = f"{plan.oip_layer} map {plan.oip_map_index}" if plan is not None else "one map"
        steps = f" ({plan.oip_steps} steps from the same noise each time)" if plan is not None else ""
        return Labels(f"OIP of {what}, {when}", x_label=f"input column (0-{w - 1} px){steps}",
                      y_label=f"input row (0-{h - 1} px)", note="grey: its own min..max"), None
    if kind == "maps":
        count, tile = frame.maps.shape[-1], frame.maps.shape[:2]
        layer = getattr(plan, "maps_layer", None) or "one layer"
        return Labels(f"Maps of {layer} for one test digit, {when}", x_label=f"map number above each tile; "
                      f"each tile {tile[0]}x{tile[1]} cells", tiles=[str(i) for i in range(count)],
                      colorbar=("grey", "0", scale_note or "max"),
                      note="one scale for all maps"), _tiles(count, tuple(tile))
    if kind == "ranking":
        from .replay import RANKING_SCALE

        count = len(frame.scores)
        a, b = plan.classes if plan is not None else ("first class", "second class")
        layer = getattr(plan, "fcp_layer", None) or "the layer"
        step = max(1, int(round(count / 8 / 8)) * 8) if count > 16 else max(1, count // 4)
        ticks = [(float(m), str(m)) for m in range(0, count, step)]
        half = 33 // 2
        return Labels(f"Cohen's d per map of {layer}: {a}s vs {b}s, {when}",
                      x_label=f"map number of {layer}", y_label="Cohen's d",
                      x_ticks=ticks, y_ticks=[(0.0, f"+{RANKING_SCALE:g}"), (float(half), "0"),
                                              (float(2 * half), f"-{RANKING_SCALE:g}")],
                      note=f"bar up: stronger for {a}s, down: stronger for {b}s; |d| clipped at {RANKING_SCALE:g}"), \
            None
    names = replay.class_names or [str(c) for c in range(frame.confusion.shape[0])]
    counts = frame.confusion
    correct = int(np.trace(counts))
    return Labels(f"Confusion matrix, {when}", x_label="predicted class", y_label="true class",
                  rows=[str(n) for n in names], columns=[str(n) for n in names],
                  colorbar=("viridis", "0", "1"),
                  note=f"colour: share of a true class's probe images given each class; {correct:,} of "
                       f"{int(counts.sum()):,} on the diagonal (correct)"), \
        Grid((1, 1), 0, counts.shape[1], counts.size)
