"""What the OIP explorer shows besides its controls: the picture panel, the live picture of a
running job, the series table and the notes on maps that were revived, dead or silent."""

from __future__ import annotations

import html
from typing import Any, Callable

import bqplot
import ipywidgets as widgets
import numpy as np

from ...methods.oip import OIPResult, OIPSeries, pattern_picture
from ...methods.oip.consistency import score_text
from ...render import image_png, mosaic, to_png
from ...render.placeholder import placeholder_png
from ..picture import size

__all__ = ["OIPPictures", "live_picture", "revival_notes", "series_table"]


class OIPPictures:
    """The pattern (plain and with contrast), the emergence player, the objective curve,
    downloads, the series table and the map's top test images."""

    def __init__(self) -> None:
        waiting = placeholder_png("No pattern yet: choose a layer and a map, then press Run to grow one")
        self.plain = widgets.Image(value=waiting, format="png", layout=size("224px", "224px"))
        self.enhanced = widgets.Image(value=waiting, format="png", layout=size("224px", "224px"))
        self.contrast = widgets.FloatSlider(1.0, min=0.0, max=4.0, step=0.25, description="contrast",
                                            layout=size("300px"))
        self.play = widgets.Play(0, min=0, max=0, interval=150, description="play the emergence")
        self.frame = widgets.IntSlider(0, min=0, max=0, description="frame", layout=size("300px"))
        self.step_label = widgets.HTML()  # the ascent step of the frame shown
        self.step_label.add_class("cnnw-oip-step")
        x_scale, y_scale = bqplot.LinearScale(), bqplot.LinearScale()
        self.curve = bqplot.Lines(x=[0], y=[0], scales={"x": x_scale, "y": y_scale}, colors=["#e6550d"])
        self.chart = bqplot.Figure(
            marks=[self.curve], animation_duration=0, title="objective",
            axes=[bqplot.Axis(scale=x_scale, label="step"),
                  bqplot.Axis(scale=y_scale, side="left", tick_format=".2f")],
            fig_margin={"top": 30, "bottom": 40, "left": 50, "right": 10}, layout=size("380px", "230px"))
        self.downloads = widgets.HTML()
        self.gif_button = widgets.Button(description="GIF", icon="download", disabled=True, layout=size("80px"))
        self.png_button = widgets.Button(description="PNG", icon="download", disabled=True, layout=size("80px"))
        self.series_table = widgets.HTML()
        self.top = widgets.Image(format="png", layout=size("0px", "0px"))
        self.top_title = widgets.HTML()
        for item, css in ((self.plain, "cnnw-oip-plain"), (self.enhanced, "cnnw-oip-enhanced"),
                          (self.play, "cnnw-oip-play"), (self.frame, "cnnw-oip-frame"), (self.top, "cnnw-oip-top"),
                          (self.gif_button, "cnnw-oip-gif"), (self.png_button, "cnnw-oip-png"),
                          (self.series_table, "cnnw-oip-series-table"), (self.top_title, "cnnw-oip-top-title")):
            item.add_class(css)
        for image in (self.plain, self.enhanced, self.top):
            image.add_class("cnnw-pixelated")
        self.box = widgets.VBox([
            widgets.HBox([_titled("plain", self.plain), _titled("contrast", self.enhanced)]),
            self.contrast, widgets.HBox([self.play, self.frame, self.step_label]),
            widgets.HBox([self.gif_button, self.png_button, self.downloads]),
            self.series_table, self.top_title, self.top,
        ])

    def draw(self, plain: np.ndarray, strong: np.ndarray) -> None:
        """Show grey levels: a pattern enlarged to 224 px, a mosaic to about 440 px."""
        pixels = plain.shape[1]
        width = f"{max(224, pixels * 8) if pixels <= 60 else max(pixels, min(440, pixels * 3))}px"
        for image, grey_levels in ((self.plain, plain), (self.enhanced, strong)):
            with image.hold_sync():
                image.layout.width, image.layout.height = width, "auto"
                image.value = image_png(grey_levels)

    def show_curve(self, mean: np.ndarray, count: int) -> None:
        """The mean objective per step of ``count`` images."""
        with self.curve.hold_sync():
            self.curve.x = np.arange(len(mean))
            self.curve.y = mean
        self.chart.title = "objective" if count == 1 else f"mean objective of {count} images"

    def show_top(self, pixels: np.ndarray | None, title: str) -> None:
        """The top test images ``(k, H, W, C)`` in [0, 1] in a row, with ``title`` (HTML); None: none."""
        self.top_title.value = title
        if pixels is None:
            self.top.layout.width = self.top.layout.height = "0px"
            return
        tiles = mosaic(np.moveaxis(pixels.mean(axis=-1), 0, -1), value_range=(0.0, 1.0), columns=len(pixels))
        self.top.value = to_png(tiles.indices, "grey")
        self.top.layout.width, self.top.layout.height = f"{tiles.indices.shape[1] * 2}px", "auto"


def live_picture(mode: str, rows: int = 1, columns: int | None = None) -> Callable[[np.ndarray, float], np.ndarray]:
    """How the images of a running job are drawn: a series' ``rows × columns`` grid (not its
    baseline), the nodes laid out like the map (``columns`` wide), one pattern or the atlas."""
    if mode == "series":
        count = rows * (columns or 1)
        return lambda images, contrast: pattern_picture(images[:count], contrast, columns=columns,
                                                        always_mosaic=True)
    if mode == "nodes":
        return lambda images, contrast: pattern_picture(images, contrast, columns=columns, always_mosaic=True)
    return lambda images, contrast: pattern_picture(images, contrast)


def revival_notes(result: OIPResult, count: int) -> list[str]:
    """What the status line says about the first ``count`` images' maps: revived, dead, silent."""
    own = list(zip(result.maps[:count], result.revival[:count]))
    revived = sorted({int(m) for m, how in own if how not in ("", "dead")})
    dead = sorted({int(m) for m, how in own if how == "dead"})
    silent = sorted(set(result.silent or []) & {int(m) for m in result.maps[:count]})
    notes = []
    if revived:
        notes.append(f"dead on the first noise, revived: {_few(revived)}")
    from_data = sorted({int(m) for m, how in own if how == "data"})
    if from_data:
        notes.append(f"fire on no noise, started from a test image (framed; no pattern grown where still that "
                     f"image): {_few(from_data)}")
    if dead:
        notes.append(f"no pattern (dead on everything tried, drawn as a cross): {_few(dead)}")
    if silent:
        notes.append(f"never fire on the test images (corner mark): {_few(silent)}")
    return notes


def series_table(found: OIPSeries) -> str:
    """HTML: per wavelength, the objectives reached and the consistency beside other maps'."""
    rows = "".join(
        f"<tr><td>λ {w:g}</td><td>{found.objectives[r].mean():.2f} ({found.objectives[r].min():.2f}–"
        f"{found.objectives[r].max():.2f})</td>"
        + ("" if found.blur_loss is None
           else f"<td>{found.unblurred[r].mean():.2f} (−{100 * found.blur_loss[r]:.0f} %)</td>")
        + f"<td><b>{score_text(found.consistency[r])}</b></td><td>{score_text(found.baseline[r])}</td></tr>"
        for r, w in enumerate(found.wavelengths))
    blur = "" if found.blur_loss is None else "<th>without blur (lost to blur)</th>"
    return ("<table style='font-size:85%'><tr><th>row</th><th>objective mean (range)</th>" + blur +
            "<th>consistency</th><th>other maps</th></tr>" + rows + "</table>"
            f"<small>consistency: mean correlation of the seeds' patterns, each pair at its best shift within "
            f"±{found.max_shift} px (1 = identical or shifted copies); other maps: the same for patterns of randomly "
            "chosen other maps</small>")


def _titled(title: str, child: Any) -> widgets.VBox:
    return widgets.VBox([widgets.HTML(f"<small>{html.escape(title)}</small>"), child])


def _few(maps: list[int]) -> str:
    return ", ".join(str(m) for m in maps[:12]) + (f" … ({len(maps)} maps)" if len(maps) > 12 else "")
