"""OIPExplorer: grow the pattern a map reacts to, watch it emerge, compare seeds, export it."""

from __future__ import annotations

import base64
import html
import math
import time
from typing import Any, Callable

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

from ...methods.decode import top_images
from ...methods.oip.run import NodeSweep, OIPResult, OIPSeries, node_sweep, optimize, pattern_picture, series
from ...render import image_png, mosaic, to_png
from ...session import Cancelled, Job

from ..picture import size, style
from ..controls import Picker, Toggles, WholeNumber, finite_only, keep_in_step
from ..view import SessionView, StatusLine

__all__ = ["OIPExplorer"]

_REFRESH_S = 0.1  # shortest time between two live picture updates while running
MODES = ("map", "atlas", "series", "nodes")
_SAYS = {
    "map": "one map: the input pattern its mean activation (or one node) reacts to most, grown from noise",
    "atlas": "atlas: the patterns of every map of the layer, grown together in one batch",
    "series": "series: one map grown from several noise seeds (columns) at several wavelengths (rows), "
              "with the objective reached and how alike the seeds' patterns are",
    "nodes": "nodes: the pattern of one node at every position of the map, all from the same noise — "
             "how the pattern moves with position",
}


def _parse_wavelengths(text: str, limit: int) -> list[float]:
    """``"2, 4, 7, 14"`` → ``[2.0, 4.0, 7.0, 14.0]``; a clear error for anything else."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"wavelengths must be numbers separated by commas, e.g. 2, 4, 7, 14; got {text!r}") from None
    if not values:
        raise ValueError("give at least one wavelength, e.g. 2, 4, 7, 14")
    bad = [v for v in values if not (math.isfinite(v) and 0 < v <= limit)]
    if bad:
        raise ValueError(f"each wavelength must be > 0 and at most the image size ({limit} px); got {bad[0]:g}")
    return values



class OIPExplorer(SessionView, widgets.VBox):
    """Pick a map, grow its OIP out of noise by gradient ascent, watch it emerge.

    Four modes: *one map*; *atlas* (every map of the layer in one batch); *series*
    (one map from N seeds × M wavelengths in one batched call, each row with the
    objective reached and a consistency score beside the same score for other
    maps); *nodes* (one node's pattern at every position of the map). Runs are
    jobs on the session's worker: the kernel stays free, the picture updates while
    the pattern grows, Cancel stops after the current step, and a new Run replaces
    the previous one. Afterwards Play animates the emergence, the curve shows the
    objective per step, GIF/PNG links download the result, and the map's top test
    images (from the session's data) are shown beside its pattern. Maps that stay
    dead are drawn as a cross; with data, maps that never fire on it get a corner mark.

    Args:
        session: A :class:`~cnn_widgets.session.session.Session`, or a model / live model /
            None (a session of its own).
        layer: A conv or pooling layer; default the last conv layer.

    Example:
        >>> oip = OIPExplorer(session, "conv3")
        >>> oip.follow(map_grid)          # clicking a map in the grid picks it here
    """

    layer = traitlets.Unicode()
    map = WholeNumber(0, info="a whole number (a map index)")
    mode = traitlets.Unicode("map")
    running = traitlets.Bool(False)
    result = traitlets.Instance(OIPResult, allow_none=True)
    series_result = traitlets.Instance(OIPSeries, allow_none=True)
    sweep = traitlets.Instance(NodeSweep, allow_none=True)
    status = traitlets.Unicode("")

    def __init__(self, session: Any = None, layer: str | None = None, **kwargs: Any) -> None:
        self._attach(session)
        model = self.model = self.session.model
        spatial = model.spatial_layers
        convs = [row.name for row in model.layers_table() if row.is_conv]
        layer = layer or (convs[-1] if convs else spatial[-1])
        if layer not in spatial:
            model.layer(layer)
            raise ValueError(f"layer {layer!r} has no maps; choose one of: {', '.join(spatial)}")
        height, width = model.input_shape[:2]
        self._size = max(height, width)
        self._job: Job | None = None
        self._generation = 0  # runs started; only the newest one's end clears ``running``
        self._kind = "map"
        self._last_draw = 0.0
        self._view: Callable[[int, float], np.ndarray] | None = None
        self._frames = 0
        self._live_picture: Callable[[np.ndarray, float], np.ndarray] | None = None

        self.layer_picker = Picker(options=spatial, description="layer", layout=size("180px"))
        self.map_picker = widgets.BoundedIntText(0, min=0, max=1, description="map", layout=size("150px"))
        self.mode_picker = Toggles(
            options=[("one map", "map"), ("atlas", "atlas"), ("series", "series"), ("nodes", "nodes")],
            style={"button_width": "76px"})
        self.use_node = widgets.Checkbox(False, description="one node of the map", indent=False,
                                         layout=size("300px"))
        self.node_row = widgets.IntSlider(0, min=0, max=1, description="row", style={"description_width": "30px"},
                                          layout=size("165px"))
        self.node_col = widgets.IntSlider(0, min=0, max=1, description="col", style={"description_width": "30px"},
                                          layout=size("165px"))
        self.wavelength = widgets.FloatSlider(7.0, min=1.0, max=float(self._size), step=0.5,
                                              description="wavelength", layout=size("300px"))
        self.octaves = widgets.IntSlider(1, min=1, max=4, description="octaves", layout=size("300px"))
        self.steps = widgets.IntSlider(100, min=5, max=500, step=5, description="steps", layout=size("300px"))
        self.step_size = widgets.FloatLogSlider(0.05, base=10, min=-3, max=0, description="step size",
                                                readout_format=".3f", layout=size("300px"))
        self.blur_every = widgets.IntSlider(0, min=0, max=20, description="blur every",
                                            tooltip="damp high frequencies every k steps (0: never)",
                                            layout=size("300px"))
        self.blur_sigma = widgets.FloatSlider(0.5, min=0.25, max=2.0, step=0.25, description="blur σ px",
                                              layout=size("300px"))
        self.seeds = widgets.IntSlider(8, min=2, max=12, description="seeds", layout=size("300px"))
        self.wavelengths = widgets.Text(f"2, 4, 7, {self._size // 2}", description="wavelengths",
                                        layout=size("300px"))
        self.contrast = widgets.FloatSlider(1.0, min=0.0, max=4.0, step=0.25, description="contrast",
                                            layout=size("300px"))
        self.seed = widgets.BoundedIntText(0, min=0, max=2 ** 31 - 1, description="seed", layout=size("160px"))
        self.restandardize = widgets.Checkbox(False, description="re-standardise each step (seed)",
                                              indent=False, layout=size("260px"))
        self.run_button = widgets.Button(description="Run", icon="play", button_style="primary")
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", disabled=True)
        self.progress = widgets.IntProgress(0, min=0, max=100, layout=size("300px"))
        self.status_line = StatusLine("cnnw-oip-status")
        self.status_label = self.status_line
        self.what = widgets.HTML()
        self.what.add_class("cnnw-oip-what")
        self.plain = widgets.Image(format="png", layout=size("224px", "224px"))
        self.enhanced = widgets.Image(format="png", layout=size("224px", "224px"))
        self.play = widgets.Play(0, min=0, max=0, interval=150, description="play the emergence")
        self.frame = widgets.IntSlider(0, min=0, max=0, description="frame", layout=size("300px"))
        self._jslink((self.play, "value"), (self.frame, "value"))
        x_scale, y_scale = bqplot.LinearScale(), bqplot.LinearScale()
        self.curve = bqplot.Lines(x=[0], y=[0], scales={"x": x_scale, "y": y_scale}, colors=["#e6550d"])
        self.chart = bqplot.Figure(
            marks=[self.curve], animation_duration=0, title="objective",
            axes=[bqplot.Axis(scale=x_scale, label="step"),
                  bqplot.Axis(scale=y_scale, side="left", tick_format=".2f")],
            fig_margin={"top": 30, "bottom": 40, "left": 50, "right": 10},
            layout=size("380px", "230px"))
        self.downloads = widgets.HTML()
        self.gif_button = widgets.Button(description="GIF", icon="download", disabled=True, layout=size("80px"))
        self.png_button = widgets.Button(description="PNG", icon="download", disabled=True, layout=size("80px"))
        self.series_table = widgets.HTML()
        self.series_table.add_class("cnnw-oip-series-table")
        self.top = widgets.Image(format="png", layout=size("0px", "0px"))
        self.top_title = widgets.HTML()
        self.top_title.add_class("cnnw-oip-top-title")
        for item, css in ((self.plain, "cnnw-oip-plain"), (self.enhanced, "cnnw-oip-enhanced"),
                          (self.run_button, "cnnw-oip-run"), (self.cancel_button, "cnnw-oip-cancel"),
                          (self.play, "cnnw-oip-play"), (self.frame, "cnnw-oip-frame"),
                          (self.progress, "cnnw-oip-progress"), (self.top, "cnnw-oip-top"),
                          (self.gif_button, "cnnw-oip-gif"), (self.png_button, "cnnw-oip-png"),
                          (self.mode_picker, "cnnw-oip-mode"), (self.layer_picker, "cnnw-oip-layer")):
            item.add_class(css)
        for image in (self.plain, self.enhanced, self.top):
            image.add_class("cnnw-pixelated")
        self._series_box = widgets.VBox([self.seeds, self.wavelengths])
        self._node_box = widgets.VBox([self.use_node, widgets.HBox([self.node_row, self.node_col])])

        controls = widgets.VBox([
            widgets.HBox([self.layer_picker, self.map_picker]), self.mode_picker,
            self._node_box, self.wavelength, self.octaves, self.steps, self.step_size,
            self.blur_every, self.blur_sigma, self._series_box,
            self.seed, self.restandardize,
            widgets.HBox([self.run_button, self.cancel_button]), self.progress,
        ], layout=widgets.Layout(width="350px", min_width="350px"))
        pictures = widgets.VBox([
            widgets.HBox([_titled("plain", self.plain), _titled("contrast", self.enhanced)]),
            self.contrast, widgets.HBox([self.play, self.frame]),
            widgets.HBox([self.gif_button, self.png_button, self.downloads]),
            self.series_table, self.top_title, self.top,
        ])
        super().__init__([style(), widgets.HTML("<b>OIP</b> — the input pattern a map reacts to most"),
                          self.what, self.status_line,
                          widgets.HBox([controls, pictures, self.chart],
                                       layout=widgets.Layout(flex_flow="row wrap"))], **kwargs)
        self.add_class("cnnw-oip-explorer")

        self.layer = layer  # sets the map and node ranges
        keep_in_step(self, "layer", self.layer_picker)
        keep_in_step(self, "map", self.map_picker)
        keep_in_step(self, "mode", self.mode_picker)
        for slider in (self.wavelength, self.blur_sigma, self.contrast):
            finite_only(slider, self._say)
        self.run_button.on_click(lambda _: self.run())
        self.cancel_button.on_click(lambda _: self.cancel())
        self.gif_button.on_click(lambda _: self._offer("gif"))
        self.png_button.on_click(lambda _: self._offer("png"))
        self.frame.observe(lambda change: self._show_frame(change["new"]), "value")
        self.contrast.observe(lambda change: self._show_frame(self.frame.value), "value")
        self._mode_changed({"new": self.mode})

    # ------------------------------------------------------------------ settings
    @traitlets.validate("layer")
    def _valid_layer(self, proposal: dict[str, Any]) -> str:
        name = proposal["value"]
        if name not in self.model.spatial_layers:
            raise traitlets.TraitError(f"layer {name!r} has no maps to grow patterns for; choose one of: "
                                       f"{', '.join(self.model.spatial_layers)}")
        return name

    @traitlets.validate("map")
    def _valid_map(self, proposal: dict[str, Any]) -> int:
        value = proposal["value"]
        count = int(self.model.layer(self.layer).output_shape[-1]) if self.layer else 1
        if not 0 <= value < count:
            raise traitlets.TraitError(f"map {value} is out of range: {self.layer} has {count} maps (0–{count - 1})")
        return value

    @traitlets.validate("mode")
    def _valid_mode(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in MODES:
            raise traitlets.TraitError(f"mode must be one of {', '.join(MODES)}; got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.observe("layer")
    def _layer_changed(self, change: dict[str, Any]) -> None:
        rows, cols, count = self.model.layer(change["new"]).output_shape
        with self.hold_trait_notifications():
            self.map_picker.max = count - 1
            if self.map >= count:
                self.map = count - 1
            self.node_row.max, self.node_col.max = rows - 1, cols - 1
            self.node_row.value, self.node_col.value = rows // 2, cols // 2

    @traitlets.observe("mode")
    def _mode_changed(self, change: dict[str, Any]) -> None:
        mode = change["new"]
        self._series_box.layout.display = "" if mode == "series" else "none"
        self.wavelength.layout.display = "none" if mode == "series" else ""  # the series has its own list
        self._node_box.layout.display = "" if mode in ("map", "series") else "none"
        self.map_picker.disabled = mode == "atlas"
        self._describe()

    def _describe(self) -> None:
        data = self.session.data.test_set
        if data is not None:
            source = (f"Top images and the rescue of dead maps use {len(data):,} test images: {data.source}")
        else:
            source = f"No test images, so no top images and no rescue from data ({self.session.data.message})"
        self.what.value = f"<small>{html.escape(_SAYS[self.mode])}. {html.escape(source)}</small>"

    def follow(self, grid: Any) -> None:
        """Pick the layer and map that are clicked in a :class:`MapGrid`."""
        def picked(change: dict[str, Any]) -> None:
            if change["new"] >= 0 and grid.layer in self.model.spatial_layers:
                self.layer = grid.layer
                self.map = change["new"]
        self._watch(grid, picked, "selected_map")

    # ------------------------------------------------------------------ running
    def run(self, wait: bool = False) -> Job | None:
        """Start growing with the current settings (a job on the session's worker; a
        new run replaces the previous one).

        Args:
            wait: Block until it is done (scripts and tests).

        Returns:
            The job, or None when the settings are invalid (the status line says why).
        """
        if self.closed:
            return None
        mode, layer, map_index = self.mode, self.layer, self.map
        try:
            call = self._call(mode, layer, map_index)
        except ValueError as error:
            self._say(str(error), error=True)
            return None
        steps = self.steps.value
        self.progress.max, self.progress.value = steps, 0
        self.running = True
        self.run_button.disabled, self.cancel_button.disabled = False, False
        what = {"map": f"{layer} map {map_index}", "atlas": f"all maps of {layer}",
                "series": f"a series of {layer} map {map_index}", "nodes": f"every node of {layer} map {map_index}"}
        self._say(f"growing {what[mode]} …")
        self._live_picture = self._live_view(mode, layer)
        self._last_draw = 0.0  # the first step of a run is always shown

        self._generation += 1
        generation = self._generation

        def work(job: Job) -> Any:
            listener = _Listener(self, job, steps)
            try:
                found = call(listener, job.cancel_event)
            finally:
                if self._generation == generation:
                    self.running = False
                    self.cancel_button.disabled = True
            self._finish(mode, found)
            return found

        self._job = self.session.worker.submit(work, name=f"OIP: {what[mode]}", key=("oip", id(self)),
                                               on_error=self._failed)
        if wait:
            self._job.wait()
        return self._job

    def _call(self, mode: str, layer: str, map_index: int) -> Callable[[Any, Any], Any]:
        """The OIP function for ``mode`` with the current settings (checked here, before any work)."""
        data = self.session.data.test_set
        common = dict(steps=self.steps.value, step_size=self.step_size.value, octaves=self.octaves.value,
                      frame_every=max(1, self.steps.value // 40), restandardize=self.restandardize.value,
                      blur_every=self.blur_every.value, blur_sigma=self.blur_sigma.value,
                      data=None if data is None else data.images)
        node = (self.node_row.value, self.node_col.value) if self.use_node.value else None
        if mode == "series":
            lengths = _parse_wavelengths(self.wavelengths.value, self._size)
            seeds = list(range(self.seed.value, self.seed.value + self.seeds.value))
            return lambda listener, cancel: series(self.model, layer, map_index, seeds=seeds, wavelengths=lengths,
                                                   node=node, callbacks=listener, cancel=cancel, **common)
        common.update(wavelength=self.wavelength.value, seed=self.seed.value)
        if mode == "nodes":
            return lambda listener, cancel: node_sweep(self.model, layer, map_index, callbacks=listener,
                                                       cancel=cancel, **common)
        maps = None if mode == "atlas" else [map_index]
        return lambda listener, cancel: optimize(self.model, layer, maps, node=node, callbacks=listener,
                                                 cancel=cancel, **common)

    def cancel(self) -> None:
        """Stop the run after its current step (what grew so far is shown)."""
        if self._job is not None:
            self._job.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run has finished; False on timeout."""
        return True if self._job is None else self._job.wait(timeout)

    def _failed(self, error: BaseException) -> None:
        self.running = False
        self.cancel_button.disabled = True
        if isinstance(error, (ValueError, TypeError)):
            self._say(str(error), error=True)
        else:
            self._say(f"OIP failed: {type(error).__name__}: {error}", error=True)

    def _live_view(self, mode: str, layer: str) -> Callable[[np.ndarray, float], np.ndarray]:
        """How the images of a running job are drawn."""
        if mode == "series":
            m = len(_parse_wavelengths(self.wavelengths.value, self._size))
            n = self.seeds.value
            return lambda images, contrast: pattern_picture(images[:m * n], contrast, columns=n, always_mosaic=True)
        if mode == "nodes":
            cols = int(self.model.layer(layer).output_shape[1])
            return lambda images, contrast: pattern_picture(images, contrast, columns=cols, always_mosaic=True)
        return lambda images, contrast: pattern_picture(images, contrast)

    # ------------------------------------------------------------------ results
    def _finish(self, mode: str, found: Any) -> None:
        if self.closed:
            return
        if isinstance(found, OIPSeries):
            result, self.series_result = found.result, found
            self._view = lambda frame, contrast: found.picture(contrast, frame=frame)
        elif isinstance(found, NodeSweep):
            result, self.sweep = found.result, found
            self._view = lambda frame, contrast: found.picture(contrast, frame=frame)
        else:
            result = found
            self._view = lambda frame, contrast: found.picture(frame=frame, contrast=contrast)
        self._kind = mode
        self.result = result
        frames = len(result.frames) - 1
        with self.hold_trait_notifications():
            self.progress.value = result.frame_steps[-1]
            self.play.max = self.frame.max = frames
            self.play.value = self.frame.value = frames
        self._show_frame(frames)
        count = len(found.seeds) * len(found.wavelengths) if isinstance(found, OIPSeries) else len(result.maps)
        mean = result.history[:, :count].mean(axis=1)  # a series' own images, not its baseline's
        with self.curve.hold_sync():
            self.curve.x = np.arange(len(mean))
            self.curve.y = mean
        self.chart.title = "objective" if count == 1 else f"mean objective of {count} images"
        self.gif_button.disabled = self.png_button.disabled = False
        self.downloads.value = ""
        self.series_table.value = _series_table(found) if isinstance(found, OIPSeries) else ""
        notes = [f"objective {float(mean[0]):.3f} → {float(mean[-1]):.3f}"]
        if result.cancelled:
            notes.append(f"cancelled after {result.frame_steps[-1]} steps")
        own = list(zip(result.maps[:count], result.revival[:count]))
        revived = sorted({int(m) for m, how in own if how not in ("", "dead")})
        dead = sorted({int(m) for m, how in own if how == "dead"})
        silent = sorted(set(result.silent or []) & {int(m) for m in result.maps[:count]})
        if revived:
            notes.append(f"dead on the first noise, revived: {_few(revived)}")
        if dead:
            notes.append(f"no pattern (dead on everything tried, drawn as a cross): {_few(dead)}")
        if silent:
            notes.append(f"never fire on the test images (corner mark): {_few(silent)}")
        self._say("; ".join(notes))
        if mode != "atlas":
            self._find_top(result.layer, int(result.maps[0]))
        else:
            self.top_title.value = ""
            self.top.layout.width = self.top.layout.height = "0px"

    def _find_top(self, layer: str, map_index: int) -> None:
        """The map's top test images, beside its pattern (a job on the worker)."""
        data = self.session.data.test_set
        if data is None:
            self.top_title.value = f"<small>no top images: {html.escape(self.session.data.message)}</small>"
            return

        def work(job: Job) -> np.ndarray:
            job.report(0.0, "top test images")
            return top_images(self.model, layer, map_index, data.images, k=8)

        def show(best: np.ndarray) -> None:
            if self.closed:
                return
            grey = self.model.prepare(data.images[best]).mean(axis=-1)
            tiles = mosaic(np.moveaxis(grey, 0, -1), value_range=(0.0, 1.0), columns=8)
            self.top.value = to_png(tiles.indices, "grey")
            self.top.layout.width, self.top.layout.height = f"{tiles.indices.shape[1] * 2}px", "auto"
            self.top_title.value = (f"<small>the 8 of {len(data):,} test images with the strongest cell in map "
                                    f"{map_index} of {html.escape(layer)}</small>")

        self.session.worker.submit(work, name=f"top images of {layer} map {map_index}",
                                   key=("oip-top", id(self)), on_done=show, on_error=self._failed)

    # ------------------------------------------------------------------ pictures
    def _draw(self, plain: np.ndarray, strong: np.ndarray) -> None:
        pixels = plain.shape[1]  # one pattern: enlarged to 224 px; a mosaic: to about 440 px
        width = f"{max(224, pixels * 8) if pixels <= 60 else max(pixels, min(440, pixels * 3))}px"
        with self.hold_sync():
            for image, grey_levels in ((self.plain, plain), (self.enhanced, strong)):
                image.layout.width = width
                image.layout.height = "auto"
                image.value = image_png(grey_levels)

    def _draw_live(self, images: np.ndarray) -> None:
        if self._live_picture is None or self.closed:
            return
        self._draw(self._live_picture(images, 0.0), self._live_picture(images, self.contrast.value))

    def _show_frame(self, index: int) -> None:
        if self._view is None or self.result is None or not 0 <= index < len(self.result.frames):
            return
        try:
            self._draw(self._view(index, 0.0), self._view(index, self.contrast.value))
        except ValueError as error:  # e.g. a contrast the frontend sent as NaN
            self._say(str(error), error=True)

    def _offer(self, kind: str) -> None:
        """Make a download link for the result (no server access needed)."""
        result = self.result
        if result is None:
            return
        contrast = self.contrast.value
        found: Any = self.series_result if self._kind == "series" else self.sweep if self._kind == "nodes" else None
        if found is not None:
            name = f"oip_{result.layer}_{found.map}_{self._kind}"
            data = found.gif_bytes(contrast) if kind == "gif" else found.png_bytes(contrast)
        else:
            single = None if self._kind == "atlas" else int(result.maps[0])
            name = f"oip_{result.layer}_{'atlas' if single is None else single}"
            zoom = 8 if single is not None else 3
            data = (result.gif_bytes(single, contrast=contrast, zoom=zoom) if kind == "gif"
                    else result.png_bytes(single, contrast=contrast, zoom=zoom))
        mime = "image/gif" if kind == "gif" else "image/png"
        encoded = base64.b64encode(data).decode()
        self.downloads.value = (f'<a download="{html.escape(name)}.{kind}" href="data:{mime};base64,{encoded}" '
                                f'class="cnnw-oip-download">save {html.escape(name)}.{kind} '
                                f'({len(data) // 1024 + 1} KB)</a>')

    def _say(self, message: str, error: bool = False) -> None:
        self.status = message
        self.status_line.say(message, error)

    def _closing(self) -> None:
        self.session.worker.cancel(("oip", id(self)))
        self.session.worker.cancel(("oip-top", id(self)))


class _Listener:
    """The OIP callbacks of one job: progress to the job, the picture to the widget."""

    def __init__(self, view: OIPExplorer, job: Job, steps: int) -> None:
        self.view, self.job, self.steps = view, job, steps

    def on_step(self, step: int, images: np.ndarray, objectives: np.ndarray) -> None:
        now = time.monotonic()
        if now - self.view._last_draw < _REFRESH_S:  # progress and picture ~10 times a second, not every step
            return
        self.view._last_draw = now
        try:
            self.job.report((step + 1) / self.steps, f"step {step + 1} of {self.steps}")
        except Cancelled:
            return  # the run sees the cancel event before its next step and ends with what it has
        self.view.progress.value = step + 1
        self.view._draw_live(images)


def _series_table(found: OIPSeries) -> str:
    rows = "".join(
        f"<tr><td>λ {w:g}</td><td>{found.objectives[r].mean():.2f} ({found.objectives[r].min():.2f}–"
        f"{found.objectives[r].max():.2f})</td><td><b>{_score(found.consistency[r])}</b></td>"
        f"<td>{_score(found.baseline[r])}</td></tr>"
        for r, w in enumerate(found.wavelengths))
    return ("<table style='font-size:85%'><tr><th>row</th><th>objective mean (range)</th>"
            "<th>consistency</th><th>other maps</th></tr>" + rows + "</table>"
            "<small>consistency: mean correlation of the seeds' patterns (1 = identical); "
            "other maps: the same for patterns of randomly chosen other maps</small>")


def _score(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.2f}"


def _titled(title: str, child: widgets.Widget) -> widgets.VBox:
    return widgets.VBox([widgets.HTML(f"<small>{html.escape(title)}</small>"), child])


def _few(maps: list[int]) -> str:
    return ", ".join(str(m) for m in maps[:12]) + (f" … ({len(maps)} maps)" if len(maps) > 12 else "")
