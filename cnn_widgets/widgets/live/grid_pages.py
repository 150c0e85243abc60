"""GridPages: the map grids of a big model, one block of layers at a time, each grid bounded.

Big CNNs name their layers by block: ``block_3_expand``, ``block_3_depthwise_BN``
(MobileNetV2), ``conv2_block1_1_conv`` (ResNet). :func:`layer_blocks` groups layers
whose names share such a block prefix (``block_3``, ``conv2_block1``); the layers in
between without one (``Conv1``, ``out_relu``) are grouped in order, at most ``size`` a
group. The order of the layers is kept.

A model with a hundred layers with maps (MobileNetV2: 153) cannot show a grid per
layer: each grid is redrawn on every change of the image. GridPages shows the grids of
one block (:func:`layer_blocks`; a picker says which, with how
many layers and maps each has), and each grid shows its first :attr:`max_maps` maps
(its title says "first 32 of 144"). Only the grids on the page exist: turning the page
closes them and builds the next block's.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import ipywidgets as widgets
import traitlets

from ..controls import Picker, keep_in_step
from ..view import SessionView
from .map_grid import MapGrid

__all__ = ["GRID_PAGE_LIMIT", "GridPages", "layer_blocks"]

_BLOCK = re.compile(r"^(.*?(?:block|stage|layer|res|mixed)_?\d+[a-z]?)(?:[_/.\-]|$)", re.IGNORECASE)


def layer_blocks(names: Sequence[str], size: int = 8) -> list[tuple[str, list[str]]]:
    """``(title, layers)`` per block, in the layers' order.

    Args:
        names: Layer names in order (e.g. ``model.spatial_layers``).
        size: Most layers in a group of layers without a block name (≥ 1).

    Returns:
        One entry per block: a block's own prefix as its title (``"block_3"``), or
        ``"first – last"`` for a group of unnamed ones.

    Raises:
        ValueError: ``size`` < 1.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a whole number ≥ 1 (layers a group); got {size!r}")
    groups: list[tuple[str | None, list[str]]] = []
    for name in names:
        found = _BLOCK.match(name)
        key = found.group(1) if found else None
        last_key, last = groups[-1] if groups else (None, [])
        if groups and key == last_key and (key is not None or len(last) < size):
            last.append(name)
        else:
            groups.append((key, [name]))
    return [(key if key is not None else (f"{layers[0]} – {layers[-1]}" if len(layers) > 1 else layers[0]), layers)
            for key, layers in groups]


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
        self.next_button = widgets.Button(description="▶", tooltip="the next block",
                                          layout=widgets.Layout(width="36px"))
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
