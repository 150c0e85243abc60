"""CellInspector: why one number of a layer is what it is — the arithmetic, for the drawing."""

from __future__ import annotations

import html
import threading
from typing import Any

import bqplot
import ipywidgets as widgets
import numpy as np
import traitlets

from ...methods.cells import CellExplanation, check_cell, cell_shape, explain_cell, supported_layers
from ..picture import Picture, size, style
from ..controls import Picker
from ..view import SessionView, StatusLine
from .cell_arithmetic import TOP, CellArithmetic

__all__ = ["CellInspector"]

_FIELD = "#ff00ff"


def _block(lines: list[str]) -> str:
    """Lines of (already escaped) text in a monospace block, spaces kept."""
    return ("<div style='font-family:monospace;font-size:85%;line-height:1.45;white-space:pre'>"
            + "<br>".join(lines) + "</div>")


def _fmt(value: float) -> str:
    return f"{value:+.4f}" if abs(value) < 1000 else f"{value:+.4g}"


class CellInspector(CellArithmetic, SessionView, widgets.VBox):
    """One cell of one layer for the current drawing, and how its value is computed.

    For a convolution: the patch it reads (every input channel, k×k), the kernel,
    the products, their sum, the bias, the activation and the value — equal to what
    the network computed. For a pooling cell: the window and the input that won.
    For a dense unit: the inputs that contribute most (weight × activation),
    ranked. Click an entry of a patch or window, or a bar, to inspect that input
    in the layer below, down to the pixels; "strongest input" follows the largest
    contribution, "back" returns. The receptive field is outlined on the image.
    Everything updates while you draw.

    Args:
        session: The :class:`~cnn_widgets.session.session.Session` (its drawing), or a
            model / live model.
        layer: The layer shown first; default the first conv layer.
        cell: ``(row, col, map)`` (or ``(unit,)`` for a flat layer); default the
            layer's strongest cell for the current drawing.

    Set ``active = False`` while the inspector is hidden (e.g. in a closed
    tab): it then sends nothing per stroke and catches up when set back.

    Attributes:
        explanation: The :class:`~cnn_widgets.methods.cells.CellExplanation` shown.
    """

    layer = traitlets.Unicode(help="the layer of the cell")
    cell = traitlets.Tuple(help="(row, col, map) of a layer with maps, (unit,) of a flat layer")
    explanation = traitlets.Instance(CellExplanation, allow_none=True, help="the cell's arithmetic shown, or None")
    status = traitlets.Unicode("", help="the last message, plain text")
    active = traitlets.Bool(True, help="redo the arithmetic while the drawing changes")

    def __init__(self, session: Any = None, layer: str | None = None, cell: Any = None,
                 **kwargs: Any) -> None:
        self._attach(session)
        self.model, self.live = self.session.model, self.session.live
        self._lock = threading.RLock()
        self._history: list[tuple[str, tuple[int, ...]]] = []
        self._kernel_key: Any = None
        self._tiles: dict[str, Any] = {}
        self.renders = 0  # explanations drawn (each stroke draws one)
        choices = supported_layers(self.model)
        if not choices:
            raise ValueError("this model has no layer the inspector can explain")
        layer = layer or next((n for n in choices if self.model.layer(n).is_conv), choices[0])

        self.layer_picker = Picker(options=choices, description="layer", layout=size("190px"))
        self.cell_text = widgets.Text(description="cell", layout=size("220px"),
                                      placeholder="row, col, map")
        self.down_button = widgets.Button(description="strongest input ↓", layout=size("150px"),
                                          tooltip="inspect the input that contributes most")
        self.back_button = widgets.Button(description="back ↑", layout=size("80px"), disabled=True)
        self.title = widgets.HTML()
        self.title.add_class("cnnw-inspector-title")
        self.image = Picture("cnnw-inspector-image")
        self.arithmetic = widgets.HTML()
        self.arithmetic.add_class("cnnw-inspector-arithmetic")
        self.status_line = StatusLine("cnnw-inspector-status")
        # conv: patch | kernel | products
        self.patch = Picture("cnnw-inspector-patch")
        self.kernel = Picture("cnnw-inspector-kernel")
        self.products = Picture("cnnw-inspector-products")
        self.captions = [widgets.HTML() for _ in range(3)]
        self.table = widgets.HTML()
        self.table.add_class("cnnw-inspector-table")
        self.hover_label = widgets.HTML("&nbsp;")
        self.hover_label.add_class("cnnw-inspector-hover")
        self.conv_box = widgets.VBox([
            widgets.HBox([widgets.VBox([c, p], layout=widgets.Layout(margin="0 18px 0 0"))
                          for c, p in zip(self.captions, (self.patch, self.kernel, self.products))]),
            self.hover_label, self.table])
        # pool: the window
        self.window = Picture("cnnw-inspector-window")
        self.window_caption = widgets.HTML()
        self.window_hover = widgets.HTML("&nbsp;")
        self.pool_box = widgets.VBox([self.window_caption, self.window, self.window_hover])
        # dense: ranked contributions
        x_scale, y_scale = bqplot.OrdinalScale(), bqplot.LinearScale()
        colours = bqplot.ColorScale(colors=["#3182bd", "#dddddd", "#e6550d"], min=-1.0, max=1.0, mid=0.0)
        self.bars = bqplot.Bars(x=["-"], y=[0.0], color=[0.0], scales={"x": x_scale, "y": y_scale,
                                                                        "color": colours},
                                tooltip=bqplot.Tooltip(fields=["x", "y"], formats=["", ".3f"],
                                                       labels=["input", "weight × activation"]))
        self.bars.on_element_click(self._bar_clicked)
        self.chart = bqplot.Figure(
            marks=[self.bars], animation_duration=0, title="largest contributions (weight × activation)",
            axes=[bqplot.Axis(scale=x_scale, tick_rotate=-45, tick_style={"font-size": "9px"}),
                  bqplot.Axis(scale=y_scale, side="left")],
            fig_margin={"top": 30, "bottom": 70, "left": 50, "right": 10}, layout=size("460px", "260px"))
        self.dense_table = widgets.HTML()
        self.dense_box = widgets.HBox([self.chart, self.dense_table])
        self.detail = widgets.VBox([])
        for widget, css in ((self.layer_picker, "cnnw-inspector-layer"), (self.cell_text, "cnnw-inspector-cell"),
                            (self.down_button, "cnnw-inspector-down"), (self.back_button, "cnnw-inspector-back")):
            widget.add_class(css)
        super().__init__([
            style(), widgets.HTML("<b>Inside a cell</b> — the arithmetic behind one number, for your drawing"),
            widgets.HBox([self.layer_picker, self.cell_text, self.down_button, self.back_button]),
            self.status_line, self.title,
            widgets.HBox([widgets.VBox([widgets.HTML("<small>receptive field on the image</small>"), self.image]),
                          self.arithmetic]),
            self.detail,
        ], **kwargs)
        self.add_class("cnnw-cell-inspector")

        refused = lambda message: self._say(message, error=True)  # noqa: E731
        # a click on a weight goes, as on its patch entry, to the input it multiplies
        for picture, which in ((self.patch, "patch"), (self.kernel, "patch"), (self.products, "products")):
            picture.on_pointer(move=lambda x, y, w=which: self._patch_hovered(w, x, y),
                               click=lambda x, y, w=which: self._patch_clicked(w, x, y),
                               leave=self._left, refused=refused)
        self.window.on_pointer(move=self._window_hovered, click=self._window_clicked, leave=self._left,
                               refused=refused)
        # a click tells the pixel; a move does nothing, but one without a position is reported
        self.image.on_pointer(move=lambda x, y: None, click=self._image_clicked, refused=refused)
        self.layer_picker.observe(self._layer_picked, "value")
        self.cell_text.observe(self._cell_typed, "value")
        self.down_button.on_click(lambda _: self.follow_strongest())
        self.back_button.on_click(lambda _: self.back())
        self._watch(self.live, self._drawing_changed, "activations")
        self.inspect(layer, self._default_cell(layer) if cell is None else cell)
        self._pick_on_ink = cell is None and not self._has_ink()  # a blank pad: the strongest cell once ink comes

    # ------------------------------------------------------------------ choosing
    def _default_cell(self, layer: str) -> tuple[int, ...]:
        """The layer's strongest cell for the current drawing (a cell that carries signal, not
        background); the middle cell of map 0 (or unit 0) when nothing fires yet."""
        shape = cell_shape(self.model, layer)
        values = (self.live.activations or {}).get(layer)
        if self._has_ink() and values is not None and np.shape(values) == tuple(shape) and float(np.max(values)) > 0:
            return tuple(int(v) for v in np.unravel_index(int(np.argmax(values)), tuple(shape)))
        return (shape[0] // 2, shape[1] // 2, 0) if len(shape) == 3 else (0,)

    def _has_ink(self) -> bool:
        image = self.live.image
        return image is not None and float(np.max(image)) > 0

    @traitlets.validate("layer")
    def _valid_layer(self, proposal: dict[str, Any]) -> str:
        choices = supported_layers(self.model)
        if proposal["value"] not in choices:
            raise traitlets.TraitError(f"the inspector explains these layers: {', '.join(choices)}; "
                                       f"got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("cell")
    def _valid_cell(self, proposal: dict[str, Any]) -> tuple[int, ...]:
        try:
            return check_cell(self.model, self.layer, proposal["value"])
        except (TypeError, ValueError) as error:
            raise traitlets.TraitError(str(error)) from None

    def inspect(self, layer: str, cell: Any, *, remember: bool = False) -> bool:
        """Show ``cell`` of ``layer``. A bad layer or cell is reported in the status
        line and changes nothing. Returns True when shown.

        Args:
            layer: A layer the inspector explains.
            cell: ``(row, col, map)`` or ``(unit,)``.
            remember: Keep the cell shown now for "back".
        """
        before = (self.layer, self.cell)
        self._pick_on_ink = False  # a cell chosen: it stays
        self._inspecting = True  # one render for both traits
        try:
            with self.hold_trait_notifications():
                self.layer = layer
                self.cell = tuple(cell) if isinstance(cell, (tuple, list, np.ndarray)) else (cell,)
        except traitlets.TraitError as error:
            self._say(str(error), error=True)
            return False
        finally:
            self._inspecting = False
        if remember and before[0] and before != (self.layer, self.cell):
            self._history.append(before)  # type: ignore[arg-type]
            self.back_button.disabled = False
        if (self.layer, self.cell) != before or self.explanation is None:
            self._target_changed({})
        return True

    @traitlets.observe("layer", "cell")
    def _target_changed(self, change: dict[str, Any]) -> None:
        if not self.layer or not self.cell or getattr(self, "_inspecting", False):
            return
        if change.get("name") == "layer":
            try:
                check_cell(self.model, self.layer, self.cell)
            except (TypeError, ValueError):
                self.cell = self._default_cell(self.layer)  # a layer set alone: its middle cell
                return
        self.layer_picker.value = self.layer
        self.cell_text.value = ", ".join(str(v) for v in self.cell)
        self.cell_text.placeholder = "row, col, map" if len(self.cell) == 3 else "unit"
        self.refresh()

    def _layer_picked(self, change: dict[str, Any]) -> None:
        new = change["new"]
        if new == self.layer:
            return
        if new is None:  # the frontend sent {"index": null}: stay on the layer shown
            self.layer_picker.value = self.layer
            self._say(f"no layer chosen (an empty choice); kept {self.layer}; choose one of "
                      f"{', '.join(self.layer_picker.options)}", error=True)
        elif not self.inspect(new, self._default_cell(new), remember=True):
            self.layer_picker.value = self.layer

    def _cell_typed(self, change: dict[str, Any]) -> None:
        text = change["new"].strip().strip("()")
        if text == ", ".join(str(v) for v in self.cell):
            return
        try:
            values = tuple(int(part) for part in text.replace(",", " ").split())
        except ValueError:
            self._say(f"a cell is integers separated by commas ({self.cell_text.placeholder}); got {text!r}",
                      error=True)
            return
        self.inspect(self.layer, values, remember=True)

    def follow(self, grid: Any) -> None:
        """Inspect the cell clicked on a :class:`~cnn_widgets.widgets.MapGrid`."""

        def clicked(change: dict[str, Any]) -> None:
            if grid.map_index >= 0 and len(grid.cell) == 2:
                self.inspect(grid.layer, (*grid.cell, grid.map_index), remember=True)

        self._watch(grid, clicked, ["cell", "map_index"])

    def back(self) -> None:
        """Return to the cell shown before the last jump."""
        if self._history:
            layer, cell = self._history.pop()
            self.inspect(layer, cell)
        self.back_button.disabled = not self._history

    def follow_strongest(self) -> None:
        """Inspect the input that contributes most: the pool's winner, the largest product, the top input."""
        e = self.explanation
        target = None
        if e is not None:
            if e.kind == "pool" and e.winner is not None:
                target = e.source_of(*e.winner)
            elif e.kind == "conv" and e.products is not None:
                target = e.source_of(*np.unravel_index(int(np.argmax(e.products)), e.products.shape))
            elif e.kind == "dense":
                target = self._contribution_target(e.contributions(1)[0].source)
            elif e.positions is not None:
                target = e.source_of(0, 0)
        self._go(target)

    def _go(self, target: tuple[str, tuple[int, ...]] | None) -> None:
        if target is None:
            return
        layer, cell = target
        if layer == "image":
            row, col, channel = cell
            value = float(np.asarray(self.live.image, np.float32).reshape(self.model.input_shape)[row, col, channel])
            self._say(f"pixel ({row}, {col}) of the image: {value:.3f} "
                      "(the network reads it standardised, as in the patch)")
            return
        self.inspect(layer, cell, remember=True)

    def _contribution_target(self, source: tuple[Any, ...]) -> tuple[str, tuple[int, ...]]:
        return source[0], tuple(source[1:])

    # ------------------------------------------------------------------ pointer
    def _image_clicked(self, x: float, y: float) -> None:
        self._go(("image", (int(y), int(x), 0)))

    def _patch_clicked(self, which: str, x: float, y: float) -> None:
        entry, e = self._patch_entry(which, x, y), self.explanation
        if entry is not None and e is not None:
            self._go(e.source_of(*entry))

    def _patch_entry(self, which: str, x: float, y: float) -> tuple[int, int, int] | None:
        e, tiles = self.explanation, self._tiles.get(which)
        if e is None or tiles is None or e.kind != "conv":
            return None
        where = tiles.locate(x, y)
        return None if where is None else (where[1], where[2], where[0])

    def _patch_hovered(self, which: str, x: float, y: float) -> None:
        entry, e = self._patch_entry(which, x, y), self.explanation
        if entry is None or e is None or e.patch is None or e.kernel is None or e.products is None:
            self._left()
            return
        i, j, slot = entry
        source = e.source_of(i, j, slot)
        where = (f"{html.escape(source[0])} {source[1]}" if source is not None
                 else "padding (outside the input)")
        self.hover_label.value = (f"<small>{where}: {e.patch[i, j, slot]:+.3f} × weight "
                                  f"{e.kernel[i, j, slot]:+.3f} = <b>{e.products[i, j, slot]:+.3f}</b></small>")

    def _window_hovered(self, x: float, y: float) -> None:
        e = self.explanation
        i, j = int(y), int(x)
        if e is None or e.kind != "pool" or e.patch is None or not (0 <= i < e.patch.shape[0]
                                                                     and 0 <= j < e.patch.shape[1]):
            self._left()
            return
        source = e.source_of(i, j)
        where = f"{html.escape(source[0])} {source[1]}" if source is not None else "padding"
        won = " — the winner" if e.winner == (i, j) else ""
        self.window_hover.value = f"<small>{where}: <b>{e.patch[i, j]:.3f}</b>{won}</small>"

    def _left(self) -> None:
        self.hover_label.value = self.window_hover.value = "&nbsp;"

    def _window_clicked(self, x: float, y: float) -> None:
        e = self.explanation
        if e is None or e.patch is None or e.positions is None or e.kind == "conv":
            return
        i, j = int(y), int(x)
        if 0 <= i < e.patch.shape[0] and 0 <= j < e.patch.shape[1]:
            self._go(e.source_of(i, j))

    def _bar_clicked(self, bars: Any, event: dict[str, Any]) -> None:
        index = (event.get("data") or {}).get("index")
        e = self.explanation
        if e is None or e.kind != "dense" or not isinstance(index, int):
            return
        ranked = e.contributions(TOP)
        if 0 <= index < len(ranked):
            self._go(self._contribution_target(ranked[index].source))

    # ------------------------------------------------------------------ drawing
    def _drawing_changed(self, change: dict[str, Any]) -> None:
        if getattr(self, "_pick_on_ink", False) and self._has_ink():  # opened on a blank pad: now a cell with signal
            self.inspect(self.layer, self._default_cell(self.layer))
        elif self.active:
            self.refresh()

    @traitlets.observe("active")
    def _following(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.refresh()  # catch up with the drawing (e.g. its dashboard tab opens)

    def refresh(self) -> None:
        """Redo the arithmetic for the current drawing and show it."""
        if self.closed or not self.layer or not self.cell:
            return
        activations = self.live.activations
        if self.layer not in activations:
            return
        with self._lock:
            try:
                e = explain_cell(self.model, self.layer, self.cell, image=self.live.image,
                                 activations=activations)
            except (ValueError, TypeError) as error:
                self._say(f"cannot explain {self.layer} {self.cell}: {error}", error=True)
                return
            expected = float(np.asarray(activations[self.layer])[self.cell])
            self.explanation = e
            self._show(e, expected)
            self.renders += 1
            if self.status_line.error:
                self._say("")

    def _show(self, e: CellExplanation, expected: float) -> None:
        where = ", ".join(str(v) for v in e.cell)
        below = "the image (standardised pixels)" if e.below == "image" else f"<b>{html.escape(e.below)}</b>"
        self.title.value = (f"<b>{html.escape(e.layer)}</b> [{where}] = <b>{e.value:.4f}</b> "
                            f"<small>(the network: {expected:.4f}) · reads {below}</small>")
        height, width = np.shape(self.live.image)[:2]
        self.image.show(self.live.image_png(), (width, height), max(1, 168 // width))  # encoded once per update
        if e.region is not None:
            top, left, bottom, right = e.region
            self.image.highlight([(left, top, right - left, bottom - top, _FIELD)])
        shown = {"conv": self.conv_box, "pool": self.pool_box, "dense": self.dense_box}.get(e.kind)
        children = (shown,) if shown is not None else ()
        if self.detail.children != children:
            self.detail.children = children
        if e.kind == "conv":
            self._show_conv(e)
        elif e.kind == "pool":
            self._show_pool(e)
        elif e.kind == "dense":
            self._show_dense(e)
        else:
            self._show_simple(e)
