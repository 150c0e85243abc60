"""How the cell inspector lays out one cell's arithmetic: a convolution's patch, kernel and
products, a pooling window and its winner, a dense unit's largest contributions."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from ...methods.cells import CellExplanation
from ...render import DEFAULT_COLORMAP, default_columns, mosaic

__all__ = ["CellArithmetic", "TOP"]

_WINNER = "#00e000"
TOP = 12  #: contributions shown for a dense unit


def _block(lines: list[str]) -> str:
    """Lines of (already escaped) text in a monospace block, spaces kept."""
    return ("<div style='font-family:monospace;font-size:85%;line-height:1.45;white-space:pre'>"
            + "<br>".join(lines) + "</div>")



def _fmt(value: float) -> str:
    return f"{value:+.4f}" if abs(value) < 1000 else f"{value:+.4g}"



class CellArithmetic:
    """Mixin of :class:`~cnn_widgets.widgets.panels.cell_inspector.CellInspector`: one
    ``_show_…`` per kind of cell, drawing into the inspector's pictures and texts."""

    def _activation_text(self, e: CellExplanation) -> str:
        name = html.escape(e.activation)
        if e.activation == "softmax" and e.logits is not None:
            return (f"→ softmax over {e.logits.size} values (this one {_fmt(e.pre_activation)}) → "
                    f"<b>{e.value:.4f}</b>")
        if e.activation == "linear":
            return f"= <b>{e.value:.4f}</b> (no activation)"
        return f"→ {name}({_fmt(e.pre_activation)}) = <b>{e.value:.4f}</b>"


    def _show_conv(self, e: CellExplanation) -> None:
        assert e.patch is not None and e.kernel is not None and e.products is not None
        k_h, k_w, channels = e.patch.shape
        columns = default_columns(channels, (k_h, k_w))
        spread_k = float(max(np.abs(e.kernel).max(), 1e-9))
        spread_p = float(max(np.abs(e.products).max(), 1e-9))
        low, high = float(min(e.patch.min(), 0.0)), float(max(e.patch.max(), 1e-9))
        width = 150 if channels == 1 else 300
        patch = mosaic(e.patch, value_range=(low, high), columns=columns)
        products = mosaic(e.products, value_range=(-spread_p, spread_p), columns=columns)
        self._tiles = {"patch": patch, "products": products}
        key = (self.layer, self.cell[-1], self.model.version)
        with self.hold_sync():
            self.patch.show_mosaic(patch, "grey" if e.below == "image" else DEFAULT_COLORMAP, width)
            if key != self._kernel_key:  # the kernel only changes with the cell's map (or training)
                self.kernel.show_mosaic(mosaic(e.kernel, value_range=(-spread_k, spread_k), columns=columns),
                                        "diverging", width)
                self._kernel_key = key
            self.products.show_mosaic(products, "diverging", width)
            what = f"{k_h}×{k_w}" + (f" × {channels} channels" if channels > 1 else "")
            self.captions[0].value = f"<small>input patch ({what})</small>"
            self.captions[1].value = f"<small>kernel of map {self.cell[-1]} (red +, blue −)</small>"
            self.captions[2].value = "<small>products patch × kernel (click: go there)</small>"
            self.arithmetic.value = (
                f"<div style='font-family:monospace;line-height:1.7'>Σ {e.terms} products = {_fmt(e.total)}<br>"
                f"+ bias {_fmt(e.bias)} = {_fmt(e.pre_activation)}<br>{self._activation_text(e)}</div>")
            self.table.value = self._conv_table(e)


    def _conv_table(self, e: CellExplanation) -> str:
        assert e.patch is not None and e.kernel is not None and e.products is not None
        if e.patch.shape[-1] == 1:  # one channel: every number
            lines = ["input × weight = product"]
            for i in range(e.patch.shape[0]):
                lines.append("   ".join(
                    f"{e.patch[i, j, 0]:+.2f}×{e.kernel[i, j, 0]:+.2f}=<b>{e.products[i, j, 0]:+.3f}</b>"
                    for j in range(e.patch.shape[1])))
        else:
            sums = e.products.sum(axis=(0, 1))
            order = np.argsort(-np.abs(sums), kind="stable")[:8]
            below = html.escape(e.below)
            lines = [f"input maps that add most (Σ of their {e.patch.shape[0]}×{e.patch.shape[1]} products)"]
            lines += [f"{below} map {int(c):<4d} <b>{sums[c]:+.3f}</b>" for c in order]
        return _block(lines)


    def _show_pool(self, e: CellExplanation) -> None:
        assert e.patch is not None
        values = np.nan_to_num(e.patch, nan=0.0)
        high = float(max(values.max(), 1e-9))
        tiles = mosaic(values[..., None], value_range=(min(float(values.min()), 0.0), high))
        zoom_width = 40 * e.patch.shape[1]
        with self.hold_sync():
            self.window.show_mosaic(tiles, DEFAULT_COLORMAP, zoom_width)
            if e.winner is not None:
                self.window.highlight([(e.winner[1], e.winner[0], 1, 1, _WINNER)])
            else:
                self.window.highlight([])
            numbers = ", ".join("·" if np.isnan(v) else f"{v:.3f}" for v in e.patch.reshape(-1))
            below = html.escape(e.below)
            if e.operation == "max":
                source = e.source_of(*e.winner) if e.winner is not None else None
                won = f" — the winner (green) is {below} {source[1]}" if source else ""
                self.window_caption.value = (f"<small>{e.patch.shape[0]}×{e.patch.shape[1]} window of {below} "
                                             f"map {e.cell[-1]}{won}; click a value to inspect it</small>")
                self.arithmetic.value = (f"<div style='font-family:monospace;line-height:1.7'>max({numbers})<br>"
                                         f"= <b>{e.value:.4f}</b></div>")
            else:
                self.window_caption.value = (f"<small>{e.patch.shape[0]}×{e.patch.shape[1]} window of {below} "
                                             f"map {e.cell[-1]}; click a value to inspect it</small>")
                self.arithmetic.value = (f"<div style='font-family:monospace;line-height:1.7'>mean({numbers})<br>"
                                         f"= {_fmt(e.total)} / {int(np.sum(~np.isnan(e.patch)))} = "
                                         f"<b>{e.value:.4f}</b></div>")


    def _show_dense(self, e: CellExplanation) -> None:
        ranked = e.contributions(TOP)
        labels = [self._label(c.source) for c in ranked]
        products = np.array([c.product for c in ranked])
        spread = float(max(np.abs(products).max(), 1e-9)) if len(products) else 1.0
        with self.bars.hold_sync():
            self.bars.x = labels
            self.bars.y = products
            self.bars.color = products / spread
        width = max((len(label) for label in labels), default=5)
        self.dense_table.value = _block(
            [f"{'input':<{width}}  activation × weight  = product"]
            + [f"{html.escape(label):<{width}}  {c.activation:10.3f} × {c.weight:+.3f} = <b>{c.product:+.3f}</b>"
               for label, c in zip(labels, ranked)])
        self.arithmetic.value = (
            f"<div style='font-family:monospace;line-height:1.7'>Σ {e.terms} products = {_fmt(e.total)}<br>"
            f"+ bias {_fmt(e.bias)} = {_fmt(e.pre_activation)}<br>{self._activation_text(e)}<br>"
            "<small>click a bar to inspect that input</small></div>")


    def _show_simple(self, e: CellExplanation) -> None:
        source = e.source_of(0, 0) if e.positions is not None else None
        origin = (f"{html.escape(source[0])} {source[1]}" if source else
                  f"{html.escape(e.below)} [{e.cell[0]}]")
        if e.kind == "reshape":
            text = f"the same number as {origin}, laid out flat"
        elif e.kind == "activation":
            text = f"{html.escape(e.activation)}({origin} = {_fmt(e.pre_activation)}) = <b>{e.value:.4f}</b>"
        else:
            text = f"= {origin} (passed on unchanged when the network predicts)"
        self.arithmetic.value = f"<div style='font-family:monospace;line-height:1.7'>{text}</div>"


    def _label(self, source: tuple[Any, ...]) -> str:
        return f"{source[0]}[{', '.join(str(v) for v in source[1:])}]"

