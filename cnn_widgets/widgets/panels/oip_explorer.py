"""OIPExplorer: grow the pattern a map reacts to, watch it emerge, compare seeds, export it.

The controls live in :mod:`.oip_controls`, the pictures in :mod:`.oip_pictures`; this
module runs the jobs: settings read once into an ``OIPSettings``, the run on the
session's worker with two callbacks (progress to the job and the bar, a live picture
at most 10 times a second), the result shown when it is done.
"""

from __future__ import annotations

import html
from typing import Any, Callable

import ipywidgets as widgets
import numpy as np
import traitlets

from ...methods.decode import top_images
from ...methods.oip import (NodeSweep, OIPResult, OIPSeries, ReportProgress, ThrottledPreview, node_sweep,
                            optimize, series)
from ...session import Cancelled, Job
from ..controls import WholeNumber, download_link, finite_only, keep_in_step
from ..picture import style
from ..view import SessionView, StatusLine
from .oip_controls import OIPControls
from .oip_pictures import OIPPictures, live_picture, revival_notes, series_table

__all__ = ["OIPExplorer"]

MODES = ("map", "atlas", "series", "nodes")
_SAYS = {
    "map": "one map: the input pattern its mean activation (or one node) reacts to most, grown from noise",
    "atlas": "atlas: the patterns of every map of the layer, grown together in one batch",
    "series": "series: one map grown from several noise seeds (columns) at several wavelengths (rows), "
              "with the objective reached and how alike the seeds' patterns are",
    "nodes": "nodes: the pattern of one node at every position of the map, all from the same noise — "
             "how the pattern moves with position",
}
#: Most live pictures a second while a run grows (each is two PNGs of every image), and the
#: most of the run's time they may take (an atlas of 128 maps is drawn about 4 times a second).
PREVIEWS_PER_SECOND, PREVIEW_SHARE = 10.0, 0.1


class OIPExplorer(SessionView, widgets.VBox):
    """Pick a map, grow its OIP out of noise by gradient ascent, watch it emerge.

    Four modes: *one map*; *atlas* (every map of the layer in one batch); *series*
    (one map from N seeds × M wavelengths in one batched call, each row with the
    objective reached and a consistency score beside the same score for other
    maps); *nodes* (one node's pattern at every position of the map). Runs are
    jobs on the session's worker: the kernel stays free, the picture updates while
    the pattern grows (at most 10 times a second), Cancel stops after the current
    stretch of steps, and a new Run replaces the previous one. Afterwards Play animates the
    emergence, the curve shows the objective per step, GIF/PNG links download the
    result, and the map's top test images (from the session's data) are shown beside
    its pattern. Maps that stay dead are drawn as a cross; with test images, maps that
    never fire on them get a corner mark.

    The controls (``steps``, ``wavelength``, ``run_button``, …) are attributes of the
    explorer too.

    Args:
        session: A :class:`~cnn_widgets.session.session.Session`, or a model / live model /
            None (a session of its own).
        layer: A conv or pooling layer; default the last conv layer.

    Example:
        >>> oip = OIPExplorer(session, "conv3")
        >>> oip.follow(map_grid)          # clicking a map in the grid picks it here
    """

    layer = traitlets.Unicode(help="the layer whose maps are grown (a conv or pooling layer)")
    map_index = WholeNumber(0, info="a whole number (a map index)",
                            help="the map grown in the modes map, series and nodes")
    mode = traitlets.Enum(MODES, default_value="map",
                          help="map: one map; atlas: every map of the layer; series: one map from seeds × "
                               "wavelengths; nodes: one node of the map at every position")
    running = traitlets.Bool(False, help="True while a run grows on the session's worker")
    result = traitlets.Instance(OIPResult, allow_none=True,
                                help="the last run's images (of a series or node sweep: its batched run)")
    series_result = traitlets.Instance(OIPSeries, allow_none=True, help="the last series grown")
    sweep = traitlets.Instance(NodeSweep, allow_none=True, help="the last node sweep grown")
    status = traitlets.Unicode("", help="what the explorer says, one line (shown in its status line)")

    def __init__(self, session: Any = None, layer: str | None = None, **kwargs: Any) -> None:
        self._attach(session)
        model = self.model = self.session.model
        spatial = model.spatial_layers
        convs = [row.name for row in model.layers_table() if row.is_conv]
        layer = layer or (convs[-1] if convs else spatial[-1])
        model.spatial_layer(layer, "to grow patterns for")
        self._size = max(model.input_shape[:2])
        self._job: Job | None = None
        self._generation = 0  # runs started; only the newest one's end clears ``running``
        self._kind = "map"
        self._view: Callable[[int, float], np.ndarray] | None = None
        self.controls = OIPControls(spatial, self._size)
        self.pictures = OIPPictures()
        for name, control in {**self.controls.all(), **vars(self.pictures)}.items():
            if isinstance(control, widgets.Widget) and name not in ("box",):
                setattr(self, name, control)  # oip.steps, oip.plain, … (scripts and tests)
        self.status_line = StatusLine("cnnw-oip-status")
        self.what = widgets.HTML()
        self.what.add_class("cnnw-oip-what")
        self._jslink((self.play, "value"), (self.frame, "value"))
        super().__init__([style(), widgets.HTML("<b>OIP</b> — the input pattern a map reacts to most"),
                          self.what, self.status_line,
                          widgets.HBox([self.controls.box, self.pictures.box, self.pictures.chart],
                                       layout=widgets.Layout(flex_flow="row wrap"))], **kwargs)
        self.add_class("cnnw-oip-explorer")

        self.layer = layer  # sets the map and node ranges
        keep_in_step(self, "layer", self.layer_picker)
        keep_in_step(self, "map_index", self.map_picker)
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

    @traitlets.validate("map_index")
    def _valid_map(self, proposal: dict[str, Any]) -> int:
        value = proposal["value"]
        count = int(self.model.layer(self.layer).output_shape[-1]) if self.layer else 1
        if not 0 <= value < count:
            raise traitlets.TraitError(f"map_index {value} is out of range: {self.layer} has {count} maps "
                                       f"(0–{count - 1})")
        return value

    @traitlets.observe("layer")
    def _layer_changed(self, change: dict[str, Any]) -> None:
        rows, cols, count = self.model.layer(change["new"]).output_shape
        with self.hold_trait_notifications():
            if self.map_index >= count:
                self.map_index = count - 1
            self.controls.set_grid(rows, cols, count)

    @traitlets.observe("mode")
    def _mode_changed(self, change: dict[str, Any]) -> None:
        self.controls.show_for(change["new"])
        data = self.session.data.test_set
        if data is not None:
            source = f"Top images and the rescue of dead maps use {len(data):,} test images: {data.source}"
        else:
            source = f"No test images, so no top images and no rescue from images ({self.session.data.message})"
        self.what.value = f"<small>{html.escape(_SAYS[self.mode])}. {html.escape(source)}</small>"

    def follow(self, grid: Any) -> None:
        """Pick the layer and map that are clicked in a :class:`MapGrid`."""
        def picked(change: dict[str, Any]) -> None:
            if change["new"] >= 0 and grid.layer in self.model.spatial_layers:
                self.layer = grid.layer
                self.map_index = change["new"]
        self._watch(grid, picked, "map_index")

    def _model_changed(self) -> None:
        if self.result is not None:
            self._say("the model changed since this pattern was grown: Run grows it again")

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
        mode, layer, map_index = self.mode, self.layer, self.map_index
        try:
            settings, call = self._call(mode, layer, map_index)
        except (ValueError, TypeError) as error:
            self._say(str(error), error=True)
            return None
        self.controls.running(settings.steps)
        self.running = True
        what = {"map": f"{layer} map {map_index}", "atlas": f"all maps of {layer}",
                "series": f"a series of {layer} map {map_index}", "nodes": f"every node of {layer} map {map_index}"}
        self._say(f"growing {what[mode]} …")
        picture = self._live_picture(mode, layer)
        self._generation += 1
        generation = self._generation

        def work(job: Job) -> Any:
            callbacks = [ReportProgress(self._reporter(job, settings.steps)),
                         ThrottledPreview(picture, per_second=PREVIEWS_PER_SECOND, share=PREVIEW_SHARE)]
            try:
                found = call(callbacks, job.cancel_event)
            finally:
                if self._generation == generation:
                    self.running = False
                    self.controls.running(None)
            self._finish(mode, found)
            return found

        self._job = self.session.worker.submit(work, name=f"OIP: {what[mode]}", key=("oip", id(self)),
                                               on_error=self._failed)
        if wait:
            self._job.wait()
        return self._job

    def _call(self, mode: str, layer: str, map_index: int) -> tuple[Any, Callable[[Any, Any], Any]]:
        """The settings and the OIP function for ``mode`` (checked here, before any work)."""
        settings = self.controls.settings()
        if mode == "series":  # its own seeds and wavelengths (the wavelength slider is hidden)
            seeds, lengths = self.controls.series_starts()
            settings = settings.replace(seed=seeds[0], wavelength=lengths[0])
        settings = settings.checked_for(self._size)
        data = self.session.data.test_set
        common = dict(settings=settings, images=None if data is None else data.images)
        node = self.controls.node()
        if mode == "series":
            return settings, lambda callbacks, cancel: series(
                self.model, layer, map_index, seeds=seeds, wavelengths=lengths, node=node, callbacks=callbacks,
                cancel=cancel, **common)
        if mode == "nodes":
            return settings, lambda callbacks, cancel: node_sweep(self.model, layer, map_index, callbacks=callbacks,
                                                                  cancel=cancel, **common)
        maps = None if mode == "atlas" else [map_index]
        return settings, lambda callbacks, cancel: optimize(self.model, layer, maps, node=node, callbacks=callbacks,
                                                            cancel=cancel, **common)

    def _live_picture(self, mode: str, layer: str) -> Callable[[int, np.ndarray], None]:
        """How a running job's images are drawn (a preview callback's function)."""
        if mode == "series":
            picture = live_picture(mode, len(self.controls.series_starts()[1]), self.seeds.value)
        else:
            picture = live_picture(mode, columns=int(self.model.layer(layer).output_shape[1]))

        def draw(step: int, images: np.ndarray) -> None:
            if not self.closed:
                self.pictures.draw(picture(images, 0.0), picture(images, self.contrast.value))

        return draw

    def _reporter(self, job: Job, steps: int) -> Callable[[float, str], None]:
        """Progress of a run to its job (the status line) and to the progress bar."""
        def report(fraction: float, message: str) -> None:
            try:
                job.report(fraction, message)
            except Cancelled:
                return  # the run sees the cancel event after this stretch and ends with what it has
            self.progress.value = round(fraction * steps)

        return report

    def cancel(self) -> None:
        """Stop the run after its current stretch of steps (what grew so far is shown)."""
        if self._job is not None:
            self._job.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run has finished; False on timeout."""
        return True if self._job is None else self._job.wait(timeout)

    def _failed(self, error: BaseException) -> None:
        self.running = False
        self.controls.running(None)
        if isinstance(error, (ValueError, TypeError)):
            self._say(str(error), error=True)
        else:
            self._say(f"OIP failed: {type(error).__name__}: {error}", error=True)

    # ------------------------------------------------------------------ results
    def _finish(self, mode: str, found: Any) -> None:
        if self.closed:
            return
        result = found if isinstance(found, OIPResult) else found.result
        if isinstance(found, OIPSeries):
            self.series_result = found
        elif isinstance(found, NodeSweep):
            self.sweep = found
        if isinstance(found, OIPResult):
            self._view = lambda frame, contrast: found.picture(frame=frame, contrast=contrast)
        else:
            self._view = lambda frame, contrast: found.picture(contrast, frame=frame)
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
        self.pictures.show_curve(mean, count)
        self.gif_button.disabled = self.png_button.disabled = False
        self.downloads.value = ""
        self.series_table.value = series_table(found) if isinstance(found, OIPSeries) else ""
        notes = [f"objective {float(mean[0]):.3f} → {float(mean[-1]):.3f}"]
        if result.cancelled:
            notes.append(f"cancelled after {result.frame_steps[-1]} steps")
        self._say("; ".join(notes + revival_notes(result, count)))
        if mode != "atlas":
            self._find_top(result.layer, int(result.maps[0]))
        else:
            self.pictures.show_top(None, "")

    def _find_top(self, layer: str, map_index: int) -> None:
        """The map's top test images, beside its pattern (a job on the worker)."""
        data = self.session.data.test_set
        if data is None:
            self.pictures.show_top(None, f"<small>no top images: {html.escape(self.session.data.message)}</small>")
            return

        def work(job: Job) -> np.ndarray:
            job.report(0.0, "top test images")
            return top_images(self.model, layer, map_index, data.images, k=8)

        def show(best: np.ndarray) -> None:
            if not self.closed:
                self.pictures.show_top(self.model.prepare(data.images[best]),
                                       f"<small>the 8 of {len(data):,} test images with the strongest cell in "
                                       f"map {map_index} of {html.escape(layer)}</small>")

        self.session.worker.submit(work, name=f"top images of {layer} map {map_index}",
                                   key=("oip-top", id(self)), on_done=show, on_error=self._failed)

    def _show_frame(self, index: int) -> None:
        if self._view is None or self.result is None or not 0 <= index < len(self.result.frames):
            return
        try:
            self.pictures.draw(self._view(index, 0.0), self._view(index, self.contrast.value))
            steps = self.result.frame_steps
            self.pictures.step_label.value = f"<small>step {steps[index]} of {steps[-1]}</small>"
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
            name = f"oip_{result.layer}_{found.map_index}_{self._kind}"
            data = found.gif_bytes(contrast) if kind == "gif" else found.png_bytes(contrast)
        else:
            single = None if self._kind == "atlas" else int(result.maps[0])
            name = f"oip_{result.layer}_{'atlas' if single is None else single}"
            zoom = 8 if single is not None else 3
            data = (result.gif_bytes(single, contrast=contrast, zoom=zoom) if kind == "gif"
                    else result.png_bytes(single, contrast=contrast, zoom=zoom))
        self.downloads.value = download_link(f"{name}.{kind}", data, f"image/{kind}", css="cnnw-oip-download")

    def _closing(self) -> None:
        self.session.worker.cancel(("oip", id(self)))
        self.session.worker.cancel(("oip-top", id(self)))
