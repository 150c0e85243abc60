"""GridPages: the map grids of a big model, one block of layers at a time, each grid bounded.

A model with a hundred layers with maps (MobileNetV2: 153) cannot show a grid per
layer: each grid is redrawn on every change of the image. GridPages shows the grids of
one block (:func:`cnn_widgets.model.blocks.layer_blocks`; a picker says which, with how
many layers and maps each has), and each grid shows its first :attr:`max_maps` maps
(its title says "first 32 of 144"). Only the grids on the page exist: turning the page
closes them and builds the next block's.
"""

from __future__ import annotations

from typing import Any, Callable

import ipywidgets as widgets
import traitlets

from ...model.blocks import layer_blocks
from ..controls import Picker, keep_in_step
from ..view import SessionView
from .map_grid import MapGrid

__all__ = ["GRID_PAGE_LIMIT", "GridPages"]

#: Models with more layers with maps than this get their grids a block at a time in the Explorer.
GRID_PAGE_LIMIT = 12


class GridPages(SessionView, widgets.VBox):
    """The map grids of one block of layers; a picker turns the page.

    Args:
        session: The session (or a model: a session of its own).
        max_maps: The most maps each grid shows (0: all).
        wire: Called with each grid built when the page turns (e.g. the Explorer makes
            its OIP and receptive-field views follow it).
    """

    block = traitlets.Int(0, help="index of the block of layers whose grids are shown")
    max_maps = traitlets.Int(32, help="the most maps each grid shows (0: all); bounds the pictures' size")

    def __init__(self, session: Any = None, *, max_maps: int = 32,
                 wire: Callable[[MapGrid], Any] | None = None, **kwargs: Any) -> None:
        self._attach(session)
        model = self.session.model
        self.blocks = layer_blocks(model.spatial_layers)
        self._wire = wire
        labels = []
        for number, (title, layers) in enumerate(self.blocks):
            maps = sum(int(model.layer(name).output_shape[-1]) for name in layers)
            labels.append((f"{number + 1}/{len(self.blocks)} {title} ({len(layers)} layers, {maps:,} maps)", number))
        self.block_picker = Picker(options=labels, description="block", layout=widgets.Layout(width="440px"))
        self.previous_button = widgets.Button(description="◀", tooltip="the block before",
                                              layout=widgets.Layout(width="36px"))
        self.next_button = widgets.Button(description="▶", tooltip="the next block", layout=widgets.Layout(width="36px"))
        self.note = widgets.HTML()
        self.grids: list[MapGrid] = []  # the grids on the page (the same list object throughout)
        self.page = widgets.VBox()
        super().__init__([widgets.HBox([self.previous_button, self.block_picker, self.next_button]), self.note,
                          self.page], **kwargs)
        self.add_class("cnnw-grid-pages")
        self.max_maps = max_maps
        self.previous_button.on_click(lambda _: self._turn(-1))
        self.next_button.on_click(lambda _: self._turn(1))
        keep_in_step(self, "block", self.block_picker)
        self._build(initial=True)

    @traitlets.validate("block")
    def _valid_block(self, proposal: dict[str, Any]) -> int:
        value = proposal["value"]
        if not 0 <= value < len(self.blocks):
            raise traitlets.TraitError(f"block must be 0–{len(self.blocks) - 1} (the blocks of layers); got {value}")
        return value

    @traitlets.validate("max_maps")
    def _valid_max_maps(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 0:
            raise traitlets.TraitError(f"max_maps must be 0 (all maps) or a count ≥ 1; got {proposal['value']}")
        return proposal["value"]

    @traitlets.observe("block")
    def _block_changed(self, change: dict[str, Any]) -> None:
        self._build()

    @traitlets.observe("max_maps")
    def _max_maps_changed(self, change: dict[str, Any]) -> None:
        for grid in self.grids:
            grid.max_maps = change["new"]

    def _turn(self, by: int) -> None:
        self.block = (self.block + by) % len(self.blocks)

    def _build(self, initial: bool = False) -> None:
        """Close the page's grids, build the block's."""
        if self.closed:
            return
        old = list(self.grids)
        title, layers = self.blocks[self.block]
        new = []
        for name in layers:
            grid = MapGrid(self.session, name)
            grid.max_maps = self.max_maps
            grid.layer_picker.layout.display = "none"  # each grid keeps its layer; the block picker turns pages
            new.append(grid)
        self.grids[:] = new
        self.page.children = new
        for grid in old:
            grid.close()  # stops following the live model
        total = len(self.session.model.spatial_layers)
        self.note.value = (f"<small>{total} layers with maps in {len(self.blocks)} blocks; this block: "
                           f"{', '.join(layers)}</small>")
        if not initial and self._wire is not None:
            for grid in new:
                self._wire(grid)
