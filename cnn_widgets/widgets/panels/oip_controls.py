"""The controls of the OIP explorer: what to grow and how, read once into an ``OIPSettings``."""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets

from ...methods.oip import OIPSettings
from ..controls import Picker, Toggles
from ..picture import size

__all__ = ["OIPControls", "parse_wavelengths"]

#: The explorer's modes: (label, value).
MODE_CHOICES = (("one map", "map"), ("atlas", "atlas"), ("series", "series"), ("nodes", "nodes"))
#: Frames recorded per run (the animation): about this many, whatever the steps.
FRAMES_PER_RUN = 40


def parse_wavelengths(text: str, limit: int) -> list[float]:
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


class OIPControls:
    """The explorer's pickers, sliders and buttons, and the settings they make.

    Args:
        layers: The layers with maps.
        image_size: The model's image size (largest side), px: the longest wavelength.
    """

    def __init__(self, layers: list[str], image_size: int) -> None:
        self.image_size = image_size
        wide = size("300px")
        self.layer_picker = Picker(options=layers, description="layer", layout=size("180px"))
        self.map_picker = widgets.BoundedIntText(0, min=0, max=1, description="map", layout=size("150px"))
        self.mode_picker = Toggles(options=list(MODE_CHOICES), style={"button_width": "76px"})
        self.use_node = widgets.Checkbox(False, description="one node of the map", indent=False,
                                         layout=size("300px"))
        narrow = {"description_width": "30px"}
        self.node_row = widgets.IntSlider(0, min=0, max=1, description="row", style=narrow, layout=size("165px"))
        self.node_col = widgets.IntSlider(0, min=0, max=1, description="col", style=narrow, layout=size("165px"))
        self.wavelength = widgets.FloatSlider(7.0, min=1.0, max=float(image_size), step=0.5,
                                              description="wavelength", layout=wide)
        self.octaves = widgets.IntSlider(1, min=1, max=4, description="octaves", layout=wide)
        self.steps = widgets.IntSlider(100, min=5, max=500, step=5, description="steps", layout=wide)
        self.step_size = widgets.FloatLogSlider(0.05, base=10, min=-3, max=0, description="step size",
                                                readout_format=".3f", layout=wide)
        self.blur_every = widgets.IntSlider(0, min=0, max=20, description="blur every",
                                            tooltip="damp high frequencies every k steps (0: never)", layout=wide)
        self.blur_sigma = widgets.FloatSlider(0.5, min=0.25, max=2.0, step=0.25, description="blur σ px",
                                              layout=wide)
        self.seeds = widgets.IntSlider(8, min=2, max=12, description="seeds", layout=wide)
        self.wavelengths = widgets.Text(f"2, 4, 7, {image_size // 2}", description="wavelengths", layout=wide)
        self.seed = widgets.BoundedIntText(0, min=0, max=2 ** 31 - 1, description="seed", layout=size("160px"))
        self.restandardize = widgets.Checkbox(False, description="re-standardise each step (seed)",
                                              indent=False, layout=size("260px"))
        self.run_button = widgets.Button(description="Run", icon="play", button_style="primary")
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", disabled=True)
        self.progress = widgets.IntProgress(0, min=0, max=100, layout=wide)
        for item, css in ((self.run_button, "cnnw-oip-run"), (self.cancel_button, "cnnw-oip-cancel"),
                          (self.progress, "cnnw-oip-progress"), (self.mode_picker, "cnnw-oip-mode"),
                          (self.layer_picker, "cnnw-oip-layer")):
            item.add_class(css)
        self.series_box = widgets.VBox([self.seeds, self.wavelengths])
        self.node_box = widgets.VBox([self.use_node, widgets.HBox([self.node_row, self.node_col])])
        self.box = widgets.VBox([
            widgets.HBox([self.layer_picker, self.map_picker]), self.mode_picker,
            self.node_box, self.wavelength, self.octaves, self.steps, self.step_size,
            self.blur_every, self.blur_sigma, self.series_box, self.seed, self.restandardize,
            widgets.HBox([self.run_button, self.cancel_button]), self.progress,
        ], layout=widgets.Layout(width="350px", min_width="350px"))

    def show_for(self, mode: str) -> None:
        """Show the controls ``mode`` uses."""
        self.series_box.layout.display = "" if mode == "series" else "none"
        self.wavelength.layout.display = "none" if mode == "series" else ""  # the series has its own list
        self.node_box.layout.display = "" if mode in ("map", "series") else "none"
        self.map_picker.disabled = mode == "atlas"

    def set_grid(self, rows: int, cols: int, maps: int) -> None:
        """Fit the map picker and the node sliders to a layer of ``maps`` maps of ``rows × cols``."""
        self.map_picker.max = maps - 1
        self.node_row.max, self.node_col.max = rows - 1, cols - 1
        self.node_row.value, self.node_col.value = rows // 2, cols // 2

    def settings(self) -> OIPSettings:
        """The settings shown (checked: a ValueError/TypeError says what is wrong)."""
        steps = self.steps.value
        return OIPSettings(steps=steps, step_size=self.step_size.value, wavelength=self.wavelength.value,
                           octaves=self.octaves.value, seed=self.seed.value,
                           frame_every=max(1, steps // FRAMES_PER_RUN), blur_every=self.blur_every.value,
                           blur_sigma=self.blur_sigma.value, restandardize=self.restandardize.value)

    def node(self) -> tuple[int, int] | None:
        """The node to grow for, or None for the map's mean."""
        return (self.node_row.value, self.node_col.value) if self.use_node.value else None

    def series_starts(self) -> tuple[list[int], list[float]]:
        """The seeds and wavelengths of a series."""
        seeds = list(range(self.seed.value, self.seed.value + self.seeds.value))
        return seeds, parse_wavelengths(self.wavelengths.value, self.image_size)

    def running(self, steps: int | None) -> None:
        """Buttons and progress for a run of ``steps`` starting (None: no run any more)."""
        if steps is not None:
            self.progress.max, self.progress.value = steps, 0
        self.cancel_button.disabled = steps is None

    def all(self) -> dict[str, Any]:
        """Every control by attribute name (the explorer exposes them as its own)."""
        return {name: value for name, value in vars(self).items() if isinstance(value, widgets.Widget)}
