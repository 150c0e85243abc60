"""OIPExplorer: grow the pattern a map reacts to, watch it emerge, export it."""

from __future__ import annotations

import base64
import html
import threading
import time
from typing import Any

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

from ..oip import OIPResult, optimize, pattern_picture
from ..render import scale, to_png
from .picture import size, style

__all__ = ["OIPExplorer"]

_REFRESH_S = 0.1  # shortest time between two live picture updates while running


def _png(grey: np.ndarray) -> bytes:
    return to_png(scale(grey, 0.0, 1.0), "grey")


class OIPExplorer(widgets.VBox):
    """Pick a map, grow its OIP out of noise by gradient ascent, watch it emerge.

    The run happens on a worker thread: the kernel stays responsive, the picture
    updates while the pattern grows, and Cancel stops it after the current step.
    Afterwards the Play button animates the emergence, the curve shows the
    objective per step, and GIF/PNG links download the result. In "atlas" mode
    all maps of the layer grow at once, as one mosaic.

    Args:
        model: A :class:`~cnn_widgets.CNNModel`.
        layer: A conv or pooling layer; default the last conv layer.

    Example:
        >>> oip = OIPExplorer(CNNModel.default(), "conv3")
        >>> oip.follow(map_grid)          # clicking a map in the grid picks it here
    """

    layer = traitlets.Unicode()
    map = traitlets.Int(0)
    running = traitlets.Bool(False)
    result = traitlets.Instance(OIPResult, allow_none=True)
    status = traitlets.Unicode("")

    def __init__(self, model: Any, layer: str | None = None, **kwargs: Any) -> None:
        self.model = model
        spatial = model.spatial_layers
        convs = [row.name for row in model.layers_table() if row.is_conv]
        layer = layer or (convs[-1] if convs else spatial[-1])
        if layer not in spatial:
            model.layer(layer)
            raise ValueError(f"layer {layer!r} has no maps; choose one of: {', '.join(spatial)}")
        height, width = model.input_shape[:2]
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_draw = 0.0

        self.layer_picker = widgets.Dropdown(options=spatial, description="layer", layout=size("200px"))
        self.map_picker = widgets.BoundedIntText(0, min=0, max=1, description="map", layout=size("160px"))
        self.mode = widgets.ToggleButtons(options=[("one map", "map"), ("atlas", "atlas")],
                                          style={"button_width": "80px"})
        self.use_node = widgets.Checkbox(False, description="one node", indent=False, layout=size("90px"))
        self.node_row = widgets.IntSlider(0, min=0, max=1, description="row", layout=size("200px"))
        self.node_col = widgets.IntSlider(0, min=0, max=1, description="col", layout=size("200px"))
        self.wavelength = widgets.FloatSlider(7.0, min=1.0, max=float(max(height, width)), step=0.5,
                                              description="wavelength", layout=size("300px"))
        self.octaves = widgets.IntSlider(1, min=1, max=4, description="octaves", layout=size("300px"))
        self.steps = widgets.IntSlider(100, min=5, max=500, step=5, description="steps", layout=size("300px"))
        self.step_size = widgets.FloatLogSlider(0.05, base=10, min=-3, max=0, description="step size",
                                                readout_format=".3f", layout=size("300px"))
        self.contrast = widgets.FloatSlider(1.0, min=0.0, max=4.0, step=0.25, description="contrast",
                                            layout=size("300px"))
        self.seed = widgets.IntText(0, description="seed", layout=size("160px"))
        self.restandardize = widgets.Checkbox(False, description="re-standardise each step (seed)",
                                              indent=False, layout=size("260px"))
        self.run_button = widgets.Button(description="Run", icon="play", button_style="primary")
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", disabled=True)
        self.progress = widgets.IntProgress(0, min=0, max=100, layout=size("300px"))
        self.status_label = widgets.HTML()
        self.plain = widgets.Image(format="png", layout=size("224px", "224px"))
        self.enhanced = widgets.Image(format="png", layout=size("224px", "224px"))
        self.play = widgets.Play(0, min=0, max=0, interval=150, description="play the emergence")
        self.frame = widgets.IntSlider(0, min=0, max=0, description="frame", layout=size("300px"))
        widgets.jslink((self.play, "value"), (self.frame, "value"))
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
        for item, css in ((self.plain, "cnnw-oip-plain"), (self.enhanced, "cnnw-oip-enhanced"),
                          (self.run_button, "cnnw-oip-run"), (self.cancel_button, "cnnw-oip-cancel"),
                          (self.play, "cnnw-oip-play"), (self.frame, "cnnw-oip-frame"),
                          (self.status_label, "cnnw-oip-status"), (self.progress, "cnnw-oip-progress"),
                          (self.gif_button, "cnnw-oip-gif"), (self.png_button, "cnnw-oip-png")):
            item.add_class(css)
        for image in (self.plain, self.enhanced):
            image.add_class("cnnw-pixelated")

        controls = widgets.VBox([
            widgets.HBox([self.layer_picker, self.map_picker, self.mode]),
            widgets.HBox([self.use_node, self.node_row, self.node_col]),
            self.wavelength, self.octaves, self.steps, self.step_size,
            widgets.HBox([self.seed, self.restandardize]),
            widgets.HBox([self.run_button, self.cancel_button]), self.progress, self.status_label,
        ])
        pictures = widgets.VBox([
            widgets.HBox([_titled("plain", self.plain), _titled("contrast", self.enhanced)]),
            self.contrast, widgets.HBox([self.play, self.frame]),
            widgets.HBox([self.gif_button, self.png_button, self.downloads]),
        ])
        super().__init__([style(), widgets.HTML("<b>OIP</b> — the input pattern a map reacts to most"),
                          widgets.HBox([controls, pictures, self.chart])], **kwargs)
        self.add_class("cnnw-oip-explorer")

        self.layer = layer  # sets the map and node ranges
        traitlets.link((self, "layer"), (self.layer_picker, "value"))
        traitlets.link((self, "map"), (self.map_picker, "value"))
        self.run_button.on_click(lambda _: self.run())
        self.cancel_button.on_click(lambda _: self.cancel())
        self.gif_button.on_click(lambda _: self._offer("gif"))
        self.png_button.on_click(lambda _: self._offer("png"))
        self.frame.observe(lambda change: self._show_frame(change["new"]), "value")
        self.contrast.observe(lambda change: self._show_frame(self.frame.value), "value")

    # ------------------------------------------------------------------ settings
    @traitlets.observe("layer")
    def _layer_changed(self, change: dict[str, Any]) -> None:
        info = self.model.layer(change["new"])
        rows, cols, count = info.output_shape
        with self.hold_trait_notifications():
            self.map_picker.max = count - 1
            self.map = min(self.map, count - 1)
            self.node_row.max, self.node_col.max = rows - 1, cols - 1
            self.node_row.value, self.node_col.value = rows // 2, cols // 2

    def follow(self, grid: Any) -> None:
        """Pick the layer and map that are clicked in a :class:`MapGrid`."""
        def picked(change: dict[str, Any]) -> None:
            if change["new"] >= 0 and grid.layer in self.model.spatial_layers:
                self.layer = grid.layer
                self.map = change["new"]
        grid.observe(picked, "selected_map")

    # ------------------------------------------------------------------ running
    def run(self, wait: bool = False) -> None:
        """Start growing with the current settings (on a worker thread).

        Args:
            wait: Block until it is done (scripts and tests).
        """
        if self.running:
            return
        atlas = self.mode.value == "atlas"
        arguments = dict(
            maps=None if atlas else [self.map], steps=self.steps.value, step_size=self.step_size.value,
            wavelength=self.wavelength.value, octaves=self.octaves.value, seed=self.seed.value,
            node=(self.node_row.value, self.node_col.value) if self.use_node.value else None,
            frame_every=max(1, self.steps.value // 40), restandardize=self.restandardize.value,
        )
        self._cancel.clear()
        self.running = True
        self.progress.max, self.progress.value = self.steps.value, 0
        self.run_button.disabled, self.cancel_button.disabled = True, False
        what = f"all maps of {self.layer}" if atlas else f"{self.layer} map {self.map}"
        self._say(f"growing {what} …")
        self._thread = threading.Thread(target=self._work, args=(self.layer, arguments), daemon=True)
        self._thread.start()
        if wait:
            self._thread.join()

    def cancel(self) -> None:
        """Stop the run after its current step."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current run has finished; False on timeout."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _work(self, layer: str, arguments: dict[str, Any]) -> None:
        try:
            result = optimize(self.model, layer, callbacks=self, cancel=self._cancel, **arguments)
        except ValueError as error:
            self._say(str(error), error=True)
            result = None
        except Exception as error:  # keep the widget usable whatever happened
            self._say(f"OIP failed: {error}", error=True)
            result = None
        finally:
            self.running = False
            self.run_button.disabled, self.cancel_button.disabled = False, True
        if result is not None:
            self._finish(result)

    def on_begin(self, maps: np.ndarray, steps: int) -> None:
        self._last_draw = 0.0

    def on_step(self, step: int, images: np.ndarray, objectives: np.ndarray) -> None:
        now = time.monotonic()
        if now - self._last_draw < _REFRESH_S:
            return
        self._last_draw = now
        self.progress.value = step
        self._draw(images)

    def _finish(self, result: OIPResult) -> None:
        self.result = result
        frames = len(result.frames) - 1
        with self.hold_trait_notifications():
            self.progress.value = result.frame_steps[-1]
            self.play.max = self.frame.max = frames
            self.play.value = self.frame.value = frames
        self._show_frame(frames)
        mean = result.history.mean(axis=1)
        with self.curve.hold_sync():
            self.curve.x = np.arange(len(mean))
            self.curve.y = mean
        self.chart.title = "objective" if len(result.maps) == 1 else f"mean objective of {len(result.maps)} maps"
        self.gif_button.disabled = self.png_button.disabled = False
        notes = []
        if result.cancelled:
            notes.append(f"cancelled after {result.frame_steps[-1]} steps")
        if result.rescued:
            notes.append(f"dead on the first noise, revived at longer wavelengths: {_few(result.rescued)}")
        if result.dead:
            notes.append(f"dead on every noise tried (no activation, no gradient): {_few(result.dead)}")
        final = float(mean[-1])
        self._say(f"objective {float(mean[0]):.3f} → {final:.3f}" + "".join(f"<br>{n}" for n in notes))

    # ------------------------------------------------------------------ pictures
    def _draw(self, images: np.ndarray) -> None:
        plain, strong = pattern_picture(images), pattern_picture(images, self.contrast.value)
        size = f"{max(224, plain.shape[1] * 3)}px"
        with self.hold_sync():
            for image, grey_levels in ((self.plain, plain), (self.enhanced, strong)):
                image.layout.width = size
                image.layout.height = "auto"
                image.value = _png(grey_levels)

    def _show_frame(self, index: int) -> None:
        if self.result is None or not 0 <= index < len(self.result.frames):
            return
        self._draw(self.result.frames[index])

    def _offer(self, kind: str) -> None:
        """Make a download link for the result (no server access needed)."""
        result = self.result
        if result is None:
            return
        single = None if len(result.maps) > 1 else int(result.maps[0])
        name = f"oip_{result.layer}_{'atlas' if single is None else single}"
        zoom = 8 if single is not None else 3
        if kind == "gif":
            data, mime = result.gif_bytes(single, enhance=self.contrast.value, zoom=zoom), "image/gif"
        else:
            data, mime = result.png_bytes(single, enhance=self.contrast.value, zoom=zoom), "image/png"
        encoded = base64.b64encode(data).decode()
        self.downloads.value = (f'<a download="{html.escape(name)}.{kind}" href="data:{mime};base64,{encoded}" '
                                f'class="cnnw-oip-download">save {name}.{kind} ({len(data) // 1024 + 1} KB)</a>')

    def _say(self, message: str, error: bool = False) -> None:
        self.status = message
        self.status_label.value = f'<span class="cnnw-error">{html.escape(message)}</span>' if error else message


def _titled(title: str, child: widgets.Widget) -> widgets.VBox:
    return widgets.VBox([widgets.HTML(f"<small>{title}</small>"), child])


def _few(maps: list[int]) -> str:
    return ", ".join(str(m) for m in maps[:12]) + (f" … ({len(maps)} maps)" if len(maps) > 12 else "")
