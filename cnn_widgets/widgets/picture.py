"""A pixel picture that survives a static export, with pointer events on top.

The picture is an ``ipywidgets.Image`` (its PNG is widget state, so it shows in a
static HTML export); a transparent ipycanvas ``Canvas`` lies over it in the same
grid cell to report hover and clicks and to draw highlights. In an export the
canvas is simply empty.
"""

from __future__ import annotations

import math
from typing import Callable

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas

from ..render import Mosaic, to_png

__all__ = ["Picture", "STYLE", "size", "style", "zoom_for"]

#: CSS shared by all widgets: crisp upscaling, the pad's look.
STYLE = """<style>
img.cnnw-pixelated { image-rendering: pixelated; image-rendering: crisp-edges; }
canvas.cnnw-pad-canvas { background: #000; touch-action: none; cursor: crosshair; }
canvas.cnnw-overlay { cursor: pointer; }
.cnnw-error { color: #b00020; }
</style>"""


def style() -> widgets.HTML:
    """An invisible HTML widget carrying :data:`STYLE`."""
    return widgets.HTML(STYLE, layout=widgets.Layout(width="0px", height="0px", margin="0px"))


def zoom_for(width: int, target: int) -> int:
    """Integer enlargement that brings ``width`` picture pixels near ``target`` screen pixels."""
    return max(1, round(target / max(width, 1)))


def size(width: str, height: str | None = None) -> widgets.Layout:
    """A layout of a fixed width (and height)."""
    return widgets.Layout(width=width) if height is None else widgets.Layout(width=width, height=height)


class Picture(widgets.GridBox):
    """An upscaled pixel picture with a transparent canvas over it for pointer events.

    Args:
        css_class: A class added to the image (tests and pages select by it).
    """

    def __init__(self, css_class: str = "cnnw-picture") -> None:
        self.image = widgets.Image(format="png")
        self.image.add_class("cnnw-pixelated")
        self.image.add_class(css_class)
        self.overlay = Canvas(width=1, height=1)
        self.overlay.add_class("cnnw-overlay")
        for child in (self.image, self.overlay):
            # no widget margin: the grid cell is exactly the picture's size, nothing clipped
            child.layout = widgets.Layout(grid_area="1 / 1 / 2 / 2", width="1px", height="1px", margin="0")
        self.size = (1, 1)  # picture pixels (width, height)
        self.zoom = 1
        self._rects: list[tuple[float, float, float, float, str]] = []
        super().__init__([self.image, self.overlay])
        self.overlay.on_client_ready(self._client_ready)

    def show(self, png: bytes, size: tuple[int, int], zoom: int) -> None:
        """Show ``png`` (``size`` = (width, height) pixels) enlarged ``zoom`` times."""
        if (size, zoom) != (self.size, self.zoom):
            self.size, self.zoom = size, zoom
            width, height = size[0] * zoom, size[1] * zoom
            with self.hold_sync():
                for child in (self.image, self.overlay):
                    child.layout.width, child.layout.height = f"{width}px", f"{height}px"
                self.layout.grid_template_columns = f"{width}px"
                self.layout.grid_template_rows = f"{height}px"
                self.overlay.width, self.overlay.height = width, height
            self._draw()
        self.image.value = png

    def show_indices(self, indices: np.ndarray, colormap: str, width: int) -> None:
        """Show palette indices (e.g. a :class:`~cnn_widgets.render.Mosaic`'s) in
        ``colormap``, enlarged to about ``width`` screen pixels."""
        self.show(to_png(indices, colormap), (indices.shape[1], indices.shape[0]),
                  zoom_for(indices.shape[1], width))

    def show_mosaic(self, tiles: Mosaic, colormap: str, width: int) -> None:
        """Show a mosaic of maps in ``colormap``, about ``width`` screen pixels wide."""
        self.show_indices(tiles.indices, colormap, width)

    def on_pointer(self, move: Callable[[float, float], None] | None = None,
                   click: Callable[[float, float], None] | None = None,
                   leave: Callable[[], None] | None = None,
                   refused: Callable[[str], None] | None = None) -> None:
        """Register callbacks; coordinates are in picture pixels (not screen pixels).

        Events whose coordinates are not finite numbers (JSON's null for a NaN, e.g.
        from a canvas of zero size) cannot name a pixel: they reach no callback, and
        ``refused`` (e.g. a view's status line) is told why. Events outside the
        picture are dropped quietly (the pointer is on a margin).
        """
        if refused is not None:
            self._refused = refused
        if move is not None:
            self.overlay.on_mouse_move(lambda x, y: self._pointer(move, x, y, "a move"))
        if click is not None:
            self.overlay.on_mouse_down(lambda x, y: self._pointer(click, x, y, "a click"))
        if leave is not None:
            self.overlay.on_mouse_out(lambda x, y: leave())

    def _pointer(self, callback: Callable[[float, float], None], x: object, y: object, kind: str) -> None:
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (x, y)):
            refused = getattr(self, "_refused", None)
            if refused is not None:
                refused(f"ignored a pointer event without a position on the picture ({kind} at x={x!r:.12}, "
                        f"y={y!r:.12})")
            return
        px, py = float(x) / self.zoom, float(y) / self.zoom  # type: ignore[arg-type]
        if 0 <= px < self.size[0] and 0 <= py < self.size[1]:
            callback(px, py)

    def highlight(self, rects: list[tuple[float, float, float, float, str]]) -> None:
        """Outline rectangles ``(x, y, width, height, colour)`` given in picture pixels."""
        self._rects = list(rects)
        self._draw()

    def outline_tile(self, tiles: Mosaic | None, index: int, colour: str = "#ff00ff") -> None:
        """Outline map ``index`` of the mosaic shown; nothing for ``index < 0``."""
        if tiles is None or index < 0:
            self.highlight([])
            return
        x, y = tiles.origin(index)
        self.highlight([(x, y, tiles.tile[1], tiles.tile[0], colour)])

    def _draw(self) -> None:
        if self.overlay.comm is None:  # closed: a canvas without a frontend draws nothing
            return
        with hold_canvas():
            self.overlay.clear()
            for x, y, w, h, colour in self._rects:  # a dark halo under each outline: seen on any picture
                for width, style in ((4, "#000000"), (2, colour)):
                    self.overlay.line_width = width
                    self.overlay.stroke_style = style
                    self.overlay.stroke_rect(x * self.zoom - 1, y * self.zoom - 1,
                                             w * self.zoom + 2, h * self.zoom + 2)

    def _client_ready(self) -> None:
        # ipycanvas forgets which canvas its frontend draws on when a page (re)loads
        # (Voila runs the notebook before the page exists): make the next command
        # switch canvas explicitly. Only this canvas is touched; it is ready.
        self.overlay._canvas_manager._current_canvas = None
        if self._rects:
            self._draw()
