"""The replay half of the TrainingLab: scrub or play through a run's snapshots, export any as a GIF,
and the loss / accuracy figures."""

from __future__ import annotations

import html
from typing import Any

import bqplot
import ipywidgets as widgets
import traitlets

from ...render import to_png
from ...training import KINDS, Replay
from ..controls import Picker, download_link, in_range
from ..picture import size, zoom_for

__all__ = ["ReplayPart", "curve_figure"]

#: Screen width each kind of snapshot picture is enlarged to, about.
PICTURE_WIDTH = {"kernels": 200, "decoded": 260, "oip": 140, "maps": 320, "ranking": 260, "confusion": 140}


def curve_figure(title: str, tick_format: str, legend: str) -> tuple[bqplot.Figure, bqplot.Lines, bqplot.Lines]:
    """A figure of one figure of merit per epoch: training (per batch) and validation (per epoch).

    Its legend is in the title, above the plot (a legend inside covered the curves); ``legend``
    is kept for callers and ignored."""
    x_scale = bqplot.LinearScale(min=0.0, max=1.0, allow_padding=False)
    y_scale = bqplot.LinearScale(min=0.0, max=1.0 if title == "accuracy" else None, allow_padding=False)
    train = bqplot.Lines(x=[], y=[], scales={"x": x_scale, "y": y_scale}, colors=["#3182bd"],
                         labels=["training"], display_legend=False)
    validation = bqplot.Lines(x=[], y=[], scales={"x": x_scale, "y": y_scale}, colors=["#e6550d"],
                              marker="circle", marker_size=24, labels=["validation"], display_legend=False)
    figure = bqplot.Figure(
        marks=[train, validation], title=f"{title}: blue line training, orange dots validation", animation_duration=0,
        title_style={"font-size": "12px"},
        axes=[bqplot.Axis(scale=x_scale, label="epoch", num_ticks=5, tick_format=".3~g"),
              bqplot.Axis(scale=y_scale, side="left", tick_format=tick_format, num_ticks=5)],
        fig_margin={"top": 30, "bottom": 40, "left": 50, "right": 10}, layout=size("330px", "230px"))
    figure.add_class(f"cnnw-training-{title}")
    return figure, train, validation


class ReplayPart(traitlets.HasTraits):
    """Mixin of :class:`~cnn_widgets.widgets.panels.training_lab.TrainingLab`: the snapshot
    gallery, its scrubber and Play, and the GIF export. Call :meth:`_build_replay` in
    ``__init__`` before the widget's children are laid out."""

    frame = traitlets.Int(0, help="the snapshot shown")
    gif_kind = traitlets.Enum(list(KINDS), "kernels", help="what the GIF button exports")
    replay = traitlets.Instance(Replay, allow_none=True, read_only=True, help="the snapshots of the run shown")

    def _build_replay(self) -> list[widgets.Widget]:
        """Make the replay's widgets; returns its rows (scrubber, gallery, export)."""
        self.play = widgets.Play(0, min=0, max=0, interval=600, description="replay")
        self.frame_slider = widgets.IntSlider(0, min=0, max=0, description="snapshot", layout=size("360px"),
                                              readout=False)
        self._jslink((self.play, "value"), (self.frame_slider, "value"))
        self.frame_label = widgets.HTML("&nbsp;")
        self.frame_label.add_class("cnnw-replay-frame-label")
        self.pictures = {kind: widgets.Image(format="png") for kind in KINDS}
        self.ranking_label = widgets.HTML("&nbsp;")
        self.gif_picker = Picker(options=[(title, kind) for kind, (title, _) in KINDS.items()], layout=size("220px"))
        self.gif_button = widgets.Button(description="GIF", icon="download", disabled=True, layout=size("80px"))
        self.downloads = widgets.HTML()
        tiles = []
        for kind, (title, _) in KINDS.items():
            picture = self.pictures[kind]
            picture.add_class("cnnw-pixelated")
            picture.add_class(f"cnnw-replay-{kind}")
            below = [self.ranking_label] if kind == "ranking" else []
            tiles.append(widgets.VBox([widgets.HTML(f"<small>{html.escape(title)}</small>"), picture, *below]))
        self.gallery = widgets.GridBox(tiles, layout=widgets.Layout(
            grid_template_columns="repeat(auto-fill, minmax(280px, 1fr))", grid_gap="6px 12px", width="100%"))
        for item, css in ((self.play, "cnnw-replay-play"), (self.frame_slider, "cnnw-replay-frame"),
                          (self.gif_button, "cnnw-replay-gif")):
            item.add_class(css)
        self.gif_button.on_click(lambda _: self.offer_gif())
        return [widgets.HBox([self.play, self.frame_slider, self.frame_label]), self.gallery,
                widgets.HBox([widgets.HTML("export as GIF:"), self.gif_picker, self.gif_button, self.downloads])]

    @traitlets.validate("frame")
    def _valid_frame(self, proposal: dict[str, Any]) -> int:
        count = len(self.replay) if self.replay is not None else 0
        return in_range("snapshot", proposal["value"], lambda v: v == 0 or 0 <= v < count, f"0–{max(count - 1, 0)}")

    def _snapshot(self, snapshot: Any, replay: Replay) -> None:
        follow = self.replay is None or self.frame >= len(self.replay) - 1
        self._set_replay(replay, len(replay) - 1 if follow else self.frame)

    def _set_replay(self, replay: Replay, frame: int) -> None:
        self.set_trait("replay", replay)
        with self.hold_trait_notifications():
            self.play.max = self.frame_slider.max = max(len(replay) - 1, 0)
            self.frame = frame
        self.gif_button.disabled = len(replay) == 0
        self._show_frame()

    @traitlets.observe("frame")
    def _show_frame(self, change: Any = None) -> None:
        replay = self.replay
        if replay is None or not len(replay):
            return
        index = min(self.frame, len(replay) - 1)
        snapshot = replay.frames[index]
        kinds = replay.kinds()
        with self.hold_sync():
            for kind, picture in self.pictures.items():
                if kind not in kinds:
                    picture.layout.display = "none"
                    continue
                indices, colormap = replay.picture(kind, index)
                width = zoom_for(indices.shape[1], PICTURE_WIDTH[kind]) * indices.shape[1]
                picture.layout.width, picture.layout.display = f"{width}px", None
                picture.value = to_png(indices, colormap)
            accuracy = (f"accuracy on {int(snapshot.confusion.sum()):,} validation images "
                        f"{100 * snapshot.accuracy:.1f} %")
            self.frame_label.value = html.escape(f"{index + 1}/{len(replay)}: {snapshot.label} — {accuracy}")
            if snapshot.scores is not None:
                a, b = self._run_plan.classes
                names = self.model.class_names
                top = ", ".join(f"{int(m)} (d = {snapshot.scores[m]:+.2f})" for m in snapshot.ranking[:5])
                self.ranking_label.value = html.escape(
                    f"{names[a]} vs {names[b]} on {self._run_plan.fcp_layer}: up = more for {names[a]}; "
                    f"best maps {top}")

    def offer_gif(self, kind: str | None = None) -> bytes:
        """Make a download link (data URI) for the GIF of ``kind`` (default the picked one)."""
        kind = kind or self.gif_kind
        if self.replay is None or not len(self.replay):
            self._say("no snapshots yet: train first", error=True)
            return b""
        data = self.replay.gif_bytes(kind)
        self.downloads.value = download_link(f"training_{kind}.gif", data, "image/gif", f"{len(self.replay)} frames",
                                             "cnnw-replay-download")
        return data
